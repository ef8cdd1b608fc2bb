//! First run: the first (admin) account needs the one-time setup token, so whoever reaches
//! a fresh install first cannot take it over.

use axum::http::StatusCode;
use notebox::app::{AppState, router};
use notebox::auth::setup;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{config_for, get, post_json};

const PASSWORD: &str = "correct horse battery";

fn first_run_app(pool: &PgPool) -> axum::Router {
    router(AppState::new(config_for(pool), pool.clone()))
}

async fn signup(
    app: &axum::Router,
    email: &str,
    token: Option<&str>,
) -> crate::helpers::TestResponse {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(token) = token {
        body["setup_token"] = json!(token);
    }
    post_json(app, "/api/auth/signup", body, None).await
}

#[sqlx::test]
async fn first_account_needs_the_setup_token_which_dies_once_used(pool: PgPool) {
    let app = first_run_app(&pool);
    let response = signup(&app, "mallory@example.org", None).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(
        response.error_message().contains("notebox setup-link"),
        "{}",
        response.error_message()
    );
    let response = signup(&app, "mallory@example.org", Some("guessed")).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(
        response.error_message().contains("not valid"),
        "{}",
        response.error_message()
    );
    assert_eq!(
        get(&app, "/api/auth/setup").await.json()["needs_setup"],
        true
    );

    // Two replicas (or two runs of setup-link) each printed a link: either works.
    let first = setup::issue(&pool).await.unwrap().unwrap();
    let second = setup::issue(&pool).await.unwrap().unwrap();
    assert_ne!(first, second);
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select token_hash from setup_tokens")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .all(|hash| hash.as_slice() != first.as_bytes() && hash.len() == 32),
        "only hashes are stored"
    );
    let response = signup(&app, "ada@example.org", Some(&second)).await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "{:?}",
        response.json()
    );
    assert_eq!(response.json()["user"]["is_admin"], true);
    assert_eq!(
        get(&app, "/api/auth/setup").await.json()["needs_setup"],
        false
    );

    // Every token died with the first account: even with the users gone again, none works.
    sqlx::query("delete from users")
        .execute(&pool)
        .await
        .unwrap();
    for token in [&first, &second] {
        let response = signup(&app, "mallory@example.org", Some(token)).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{token}");
    }
    assert!(
        setup::issue(&pool).await.unwrap().is_some(),
        "a new first run may start"
    );
    sqlx::query("insert into users (email, password_hash) values ('x@example.org', 'x')")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        setup::issue(&pool).await.unwrap(),
        None,
        "no setup once an account exists"
    );
}

#[test]
fn the_link_opens_the_public_url_with_the_token() {
    let url = url::Url::parse("https://notes.example.org").unwrap();
    assert_eq!(
        setup::link(&url, "abc").as_str(),
        "https://notes.example.org/?setup_token=abc"
    );
}

#[sqlx::test]
async fn cli_setup_link_and_scripted_admin(pool: PgPool) {
    use std::process::Command;
    let config = config_for(&pool);
    let bin = env!("CARGO_BIN_EXE_notebox");
    let run = |args: &[&str]| {
        Command::new(bin)
            .env_clear()
            .env("NOTEBOX_DATABASE__URL", config.database.url.expose())
            .env("NOTEBOX_SERVER__PUBLIC_URL", "https://notes.example.org")
            .env("NOTEBOX_LOG__LEVEL", "off")
            .args(args)
            .output()
            .unwrap()
    };
    let output = run(&["setup-link"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let link = url::Url::parse(String::from_utf8(output.stdout).unwrap().trim()).unwrap();
    assert_eq!(link.host_str(), Some("notes.example.org"));
    let token = link
        .query_pairs()
        .find(|(k, _)| k == "setup_token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let app = first_run_app(&pool);
    let response = signup(&app, "ada@example.org", Some(&token)).await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "{:?}",
        response.json()
    );

    let output = run(&["setup-link"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("an account already exists"), "{stderr}");

    // A scripted install skips the link: `user add --admin` needs none, and ends first run.
    sqlx::query("delete from users")
        .execute(&pool)
        .await
        .unwrap();
    assert!(setup::issue(&pool).await.unwrap().is_some());
    let output = run(&["user", "add", "--email", "root@example.org", "--admin"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let left: i64 = sqlx::query_scalar("select count(*) from setup_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
