//! The real binary: starts, answers, stops on SIGTERM; fails with one clear sentence.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::helpers::{KillOnPanic, config_for, drop_powersync_objects};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_notebox");

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn notebox(config: &notebox::config::Config) -> Command {
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
    let _kill = KillOnPanic::new(&child);
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
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create role {role} login password 'right-password'"
    )))
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
    sqlx::query(sqlx::AssertSqlSafe(format!("drop role {role}")))
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

/// sqlx logs statement text (DEBUG, slow ones WARN), and CREATE/ALTER ROLE carries the
/// password: none of it may reach the output, even at trace level.
#[sqlx::test(migrations = false)]
async fn no_password_reaches_the_log_even_at_trace(pool: PgPool) {
    let mut config = config_for(&pool);
    let first = crate::helpers::unique("replpw");
    config.powersync.replication_password = Some(notebox::config::Secret::new(&first));
    let storage = crate::helpers::unique("storepw");
    config.powersync.storage_password = Some(notebox::config::Secret::new(&storage));
    let run = |config: &notebox::config::Config| {
        let output = notebox(config)
            .args(["migrate"])
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    let created = run(&config);
    assert!(created.contains("sqlx::query"), "trace logging was on");
    // A second run with a new password alters the role.
    let second = crate::helpers::unique("replpw");
    config.powersync.replication_password = Some(notebox::config::Secret::new(&second));
    let altered = run(&config);
    assert!(altered.contains("set the configured password"), "{altered}");
    for (output, secret) in [
        (&created, &first),
        (&created, &storage),
        (&altered, &second),
    ] {
        assert!(
            !output.contains(secret.as_str()),
            "a password reached the log"
        );
    }
    drop_powersync_objects(&pool, &config).await;
}

/// SIGTERM with a request still in flight: it gets `shutdown_timeout`, then the connection
/// is dropped and the process exits. Also: a fresh install prints its setup link.
#[sqlx::test(migrations = false)]
async fn shutdown_drops_held_connections_after_the_grace(pool: PgPool) {
    use std::io::{BufRead, Read, Write};
    let config = config_for(&pool);
    let port = free_port();
    let mut child = notebox(&config)
        .args(["serve"])
        .env("NOTEBOX_SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("NOTEBOX_SERVER__PUBLIC_URL", "https://notes.example.org")
        .env("NOTEBOX_SERVER__SHUTDOWN_TIMEOUT", "1s")
        .env("NOTEBOX_LOG__LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _kill = KillOnPanic::new(&child);
    wait_for_health(port, &mut child).await;
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let banner: Vec<String> = (&mut stdout).lines().take(4).map(Result::unwrap).collect();
    assert!(
        banner.iter().any(|l| l
            .trim()
            .starts_with("https://notes.example.org/?setup_token=")),
        "{banner:?}"
    );

    // A request whose body never completes: in flight until the server gives up on it.
    let mut held = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    held.write_all(
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\":",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let term = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            term.elapsed() < Duration::from_secs(6),
            "notebox still runs {:?} after SIGTERM with a 1s shutdown_timeout",
            term.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    held.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut rest = Vec::new();
    let closed = held.read_to_end(&mut rest);
    assert!(closed.is_ok(), "the held connection was closed: {closed:?}");
    drop_powersync_objects(&pool, &config).await;
}

/// `check`: WARN lines (PowerSync not running here) do not fail it; `--strict` does.
#[sqlx::test(migrations = false)]
async fn check_passes_with_warnings_unless_strict(pool: PgPool) {
    let config = config_for(&pool);
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let run = |args: &[&str]| {
        notebox(&config)
            .args(args)
            .env("NOTEBOX_POWERSYNC__INTERNAL_URL", &nowhere)
            .env(
                "NOTEBOX_POWERSYNC__JWKS_URL",
                format!("{nowhere}/.well-known/jwks.json"),
            )
            .env("NOTEBOX_LOG__LEVEL", "off")
            .output()
            .unwrap()
    };
    assert!(run(&["migrate"]).status.success());
    let output = run(&["check"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("WARN") && !stdout.contains("FAIL"),
        "{stdout}"
    );
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = run(&["check", "--strict"]);
    assert!(!output.status.success());
    drop_powersync_objects(&pool, &config).await;
}
