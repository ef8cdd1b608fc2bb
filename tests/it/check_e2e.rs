//! `notebox check --e2e` without a PowerSync service (the full round trip runs against the
//! real service in scripts/e2e, tests/e2e/06-check-e2e.test.mjs): it names the cause and
//! the fix, exits 1, and removes its probe account.

use std::process::{Command, Output};

use sqlx::PgPool;

use crate::helpers::url_of;

const BIN: &str = env!("CARGO_BIN_EXE_notebox");

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn notebox(pool: &PgPool, args: &[&str]) -> Output {
    let powersync = format!("http://127.0.0.1:{}", closed_port());
    Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NOTEBOX_DATABASE__URL", url_of(pool))
        .env("NOTEBOX_POWERSYNC__URL", &powersync)
        .env("NOTEBOX_POWERSYNC__INTERNAL_URL", &powersync)
        .env(
            "NOTEBOX_SERVER__BIND",
            format!("127.0.0.1:{}", closed_port()),
        )
        .env("NOTEBOX_LOG__LEVEL", "warn")
        .args(args)
        .output()
        .unwrap()
}

async fn probe_accounts(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from users where email = $1")
        .bind(notebox::client::PROBE_EMAIL)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn check_e2e_without_the_service_names_the_cause_and_cleans_up(pool: PgPool) {
    let output = notebox(&pool, &["check", "--e2e"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let line = |prefix: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{stdout}"))
            .to_owned()
    };
    assert!(line("ok   e2e probe account").ends_with(" ms)"));
    assert!(line("ok   e2e token").contains("aud \"powersync\""));
    let failed = line("FAIL e2e powersync service");
    assert!(
        failed.contains("cannot connect to http://127.0.0.1:")
            && failed.contains("start the service, or fix powersync.internal_url"),
        "{failed}"
    );
    assert!(line("ok   e2e clean up").contains("removed"));
    assert_eq!(probe_accounts(&pool).await, 0);
}

#[sqlx::test]
async fn healthcheck_e2e_runs_the_same_probe(pool: PgPool) {
    let output = notebox(&pool, &["healthcheck", "--e2e"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL e2e powersync service"), "{stdout}");
    assert_eq!(probe_accounts(&pool).await, 0);
}
