//! The real binary: starts, answers, stops on SIGTERM; fails with one clear sentence.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::helpers::{config_for, drop_powersync_objects};

const BIN: &str = env!("CARGO_BIN_EXE_notebox");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn notebox(config: &notebox::config::Config) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NOTEBOX_DATABASE__URL", config.database.url.expose())
        .env(
            "NOTEBOX_POWERSYNC__REPLICATION_ROLE",
            &config.powersync.replication_role,
        )
        .env(
            "NOTEBOX_POWERSYNC__REPLICATION_PASSWORD",
            config
                .powersync
                .replication_password
                .as_ref()
                .unwrap()
                .expose(),
        )
        .env(
            "NOTEBOX_POWERSYNC__STORAGE_DATABASE",
            &config.powersync.storage_database,
        )
        .env(
            "NOTEBOX_POWERSYNC__STORAGE_USER",
            &config.powersync.storage_user,
        )
        .env(
            "NOTEBOX_POWERSYNC__STORAGE_PASSWORD",
            config.powersync.storage_password.as_ref().unwrap().expose(),
        );
    command
}

async fn wait_for_health(port: u16, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = format!("http://127.0.0.1:{port}/healthz");
    loop {
        if let Ok(response) = reqwest::get(&url).await
            && response.status().is_success()
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("notebox exited early with {status}");
        }
        assert!(
            Instant::now() < deadline,
            "notebox did not answer /healthz within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrations = false)]
async fn serve_migrates_answers_and_stops_on_sigterm(pool: PgPool) {
    let config = config_for(&pool);
    let port = free_port();
    let mut child = notebox(&config)
        .args(["serve"])
        .env("NOTEBOX_SERVER__BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_health(port, &mut child).await;
    let ready = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        200,
        "serve migrated on start, so it is ready"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "notebox did not stop within 15 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "graceful stop exits 0, got {status}");
    drop_powersync_objects(&pool, &config).await;
}

fn run_failing(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    stderr
}

#[sqlx::test(migrations = false)]
async fn serve_refuses_wal_level_replica_with_the_fix(pool: PgPool) {
    let mut config = config_for(&pool);
    let replica = std::env::var("TEST_REPLICA_DATABASE_URL")
        .expect("TEST_REPLICA_DATABASE_URL is set by scripts/test");
    config.database.url = notebox::config::Secret::new(replica);
    config.powersync.storage_database = String::new();
    let stderr = run_failing(
        notebox(&config)
            .args(["serve"])
            .env("NOTEBOX_SERVER__BIND", "127.0.0.1:0")
            .env("NOTEBOX_LOG__LEVEL", "off"),
    );
    assert!(
        stderr.contains("error: wal_level is 'replica'") && stderr.contains("restart Postgres"),
        "{stderr}"
    );
    // That cluster is shared by the test run: undo what the migration step created there.
    let replica_pool = PgPool::connect(config.database.url.expose()).await.unwrap();
    drop_powersync_objects(&replica_pool, &config).await;
}

#[test]
fn unreachable_database_is_one_sentence() {
    let mut config = notebox::config::Config::default();
    config.database.url = notebox::config::Secret::new(format!(
        "postgres://u:secretpw@127.0.0.1:{}/db",
        free_port()
    ));
    let stderr = run_failing(
        Command::new(BIN)
            .env_clear()
            .args(["check"])
            .env("NOTEBOX_DATABASE__URL", config.database.url.expose()),
    );
    assert!(
        stderr.starts_with("error: cannot reach Postgres at postgres://u:***@127.0.0.1:"),
        "{stderr}"
    );
    assert!(!stderr.contains("secretpw"));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[sqlx::test(migrations = false)]
async fn wrong_password_is_named(pool: PgPool) {
    let role = crate::helpers::unique("pw");
    sqlx::query(&format!(
        "create role {role} login password 'right-password'"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let mut url = url::Url::parse(&crate::helpers::url_of(&pool)).unwrap();
    url.set_username(&role).unwrap();
    url.set_password(Some("wrong-password")).unwrap();
    let stderr = run_failing(
        Command::new(BIN)
            .env_clear()
            .args(["migrate", "--status"])
            .env("NOTEBOX_DATABASE__URL", url.as_str()),
    );
    sqlx::query(&format!("drop role {role}"))
        .execute(&pool)
        .await
        .unwrap();
    assert!(
        stderr.contains("refused the password") || stderr.contains("does not let user"),
        "{stderr}"
    );
}

#[test]
fn config_commands() {
    let output = Command::new(BIN)
        .args(["config", "print-default"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        notebox::config::DEFAULT_TOML
    );
    let stderr = run_failing(Command::new(BIN).env_clear().args([
        "--config",
        "/nonexistent.toml",
        "config",
        "validate",
    ]));
    assert_eq!(
        stderr.trim(),
        "error: config file /nonexistent.toml does not exist; pass an existing file with --config or NOTEBOX_CONFIG"
    );
    let stderr = run_failing(
        Command::new(BIN)
            .env_clear()
            .env("NOTEBOX_SERVER__BINDD", "x")
            .args(["config", "validate"]),
    );
    assert!(
        stderr.contains("server.bindd") && stderr.contains("NOTEBOX_SERVER__BINDD"),
        "{stderr}"
    );
}
