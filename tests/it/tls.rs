//! TLS to Postgres: a throwaway cluster with ssl=on and a self-signed certificate made here
//! with the openssl CLI. sslmode=require connects and migrates, `notebox check` reports the
//! connection encrypted, verify-full against the wrong CA fails with one sentence naming
//! the fix, and the rendered PowerSync config takes sslmode and the CA from the URL.

use std::path::{Path, PathBuf};
use std::process::Command;

use notebox::config::{Config, Secret};
use notebox::db::{self, Severity};

/// A cluster from scripts/lib.sh's `start_cluster`, stopped (and removed) on drop.
struct TlsCluster {
    work: PathBuf,
    url: url::Url,
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg("-c")
            .arg(format!(
                ". {}/scripts/lib.sh; work={}; stop_clusters",
                env!("CARGO_MANIFEST_DIR"),
                self.work.display()
            ))
            .status();
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

impl TlsCluster {
    fn ca(&self) -> PathBuf {
        self.work.join("pg-tls/ca.crt")
    }

    fn wrong_ca(&self) -> PathBuf {
        self.work.join("wrong-ca.crt")
    }

    fn url(&self, host: &str, query: &str) -> String {
        let mut url = self.url.clone();
        url.set_host(Some(host)).unwrap();
        url.set_query(Some(query));
        url.to_string()
    }
}

fn openssl(args: &[&str], dir: &Path) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI is needed (scripts/test installs it)");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A self-signed CA certificate `NAME.crt` (and its key) in `dir`.
fn openssl_ca(dir: &Path, name: &str, cn: &str) {
    let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-subj",
            &format!("/CN={cn}"),
        ],
        dir,
    );
}

/// `server.crt` for localhost and 127.0.0.1, signed by the CA `ca.crt` in `dir`: a leaf
/// certificate (CA:FALSE), as rustls insists (a self-signed CA certificate presented by
/// the server itself is refused as CaUsedAsEndEntity).
fn openssl_server(dir: &Path) {
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints = critical, CA:FALSE\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        dir,
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
        dir,
    );
}

fn start() -> TlsCluster {
    let work = std::env::temp_dir().join(format!("notebox-tls-{}", uuid::Uuid::new_v4().simple()));
    let dir = work.join("pg-tls");
    std::fs::create_dir_all(&dir).unwrap();
    openssl_ca(&dir, "ca", "notebox test CA");
    openssl_server(&dir);
    openssl_ca(&work, "wrong-ca", "someone else");
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". {}/scripts/lib.sh; work={}; chmod 600 {dir}/server.key; start_cluster tls replica \"-c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key -c fsync=off\"",
            env!("CARGO_MANIFEST_DIR"),
            work.display(),
            dir = dir.display()
        ))
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let cluster = TlsCluster {
        work,
        url: url::Url::parse(if output.status.success() {
            &printed
        } else {
            "postgres://postgres@127.0.0.1:1/postgres"
        })
        .unwrap(),
    };
    assert!(
        output.status.success(),
        "start_cluster failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    cluster
}

fn config(url: String) -> Config {
    let mut config = Config::default();
    config.database.url = Secret::new(url);
    config.database.acquire_timeout = std::time::Duration::from_secs(5);
    config
}

#[tokio::test]
async fn postgres_over_tls_require_verify_full_and_the_wrong_ca() {
    let cluster = start();

    // require: encrypted, and migrations run over it.
    let url = cluster.url("127.0.0.1", "sslmode=require");
    let pool = db::connect(&config(url.clone()).database).await.unwrap();
    db::MIGRATOR.run(&pool).await.unwrap();
    let check = db::tls::encryption(&pool, &url).await;
    assert_eq!(check.severity, Severity::Ok, "{check}");
    assert!(check.message.starts_with("encrypted (TLSv1."), "{check}");
    assert!(check.message.contains("sslmode=require"), "{check}");
    pool.close().await;

    // verify-full with the CA that signed the server's certificate, by the name in it.
    let good = format!("sslmode=verify-full&sslrootcert={}", cluster.ca().display());
    let pool = db::connect(&config(cluster.url("localhost", &good)).database)
        .await
        .unwrap();
    let encrypted: bool =
        sqlx::query_scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(encrypted);
    pool.close().await;

    // verify-full with a CA that did not sign it: one sentence that names the fix.
    let wrong = format!(
        "sslmode=verify-full&sslrootcert={}",
        cluster.wrong_ca().display()
    );
    let error = db::connect(&config(cluster.url("localhost", &wrong)).database)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("presented a certificate that sslrootcert")
            && error.ends_with(
                "set sslrootcert in database.url to the CA certificate that signed the server's"
            ),
        "{error}"
    );
    assert!(
        !error.contains('\n') && !error.contains("postgres:postgres@"),
        "{error}"
    );

    // disable: plain text, which `check` accepts on loopback and says so.
    let url = cluster.url("127.0.0.1", "sslmode=disable");
    let pool = db::connect(&config(url.clone()).database).await.unwrap();
    let check = db::tls::encryption(&pool, &url).await;
    assert_eq!(check.severity, Severity::Ok);
    assert!(
        check.message.starts_with("not encrypted (sslmode=disable"),
        "{check}"
    );
    pool.close().await;
}

#[test]
fn the_powersync_config_takes_sslmode_and_the_ca_from_database_url() {
    let dir = std::env::temp_dir().join(format!("notebox-ca-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    openssl_ca(&dir, "ca", "test ca");
    let ca = dir.join("ca.crt");
    let pem = std::fs::read_to_string(&ca).unwrap();
    let render = |query: &str| {
        let mut config = Config::default();
        config.database.url = Secret::new(format!(
            "postgres://notebox:pw@db.example:5432/notebox?{query}"
        ));
        notebox::powersync::service_config(&config).unwrap()
    };
    let rendered: serde_yaml_ng::Value = serde_yaml_ng::from_str(&render(&format!(
        "sslmode=verify-full&sslrootcert={}",
        ca.display()
    )))
    .unwrap();
    let connection = &rendered["replication"]["connections"][0];
    assert_eq!(connection["sslmode"].as_str(), Some("verify-full"));
    assert_eq!(
        connection["cacert"].as_str(),
        Some(pem.as_str()),
        "the CA itself, not its path"
    );
    assert_eq!(rendered["storage"]["sslmode"].as_str(), Some("verify-full"));

    let plain: serde_yaml_ng::Value = serde_yaml_ng::from_str(&render("")).unwrap();
    assert_eq!(
        plain["replication"]["connections"][0]["sslmode"].as_str(),
        Some("disable")
    );
    assert!(
        plain["replication"]["connections"][0]
            .get("cacert")
            .is_none()
    );
    let require: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&render("sslmode=require")).unwrap();
    assert_eq!(
        require["replication"]["connections"][0]["sslmode"].as_str(),
        Some("verify-full"),
        "PowerSync cannot encrypt without verifying"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
