//! /healthz, /readyz and the error envelope, through the in-process router.

use axum::http::StatusCode;
use notebox::db;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::helpers::{app, config_for, drop_powersync_objects, get};

#[sqlx::test(migrations = false)]
async fn healthz_answers(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let response = get(&app, "/healthz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json()["status"], "ok");
}

#[sqlx::test(migrations = false)]
async fn readyz_needs_migrations_and_publication(pool: PgPool) {
    let config = config_for(&pool);
    let app = app(config.clone(), pool.clone());
    let response = get(&app, "/readyz").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    let message = response.error_message().to_owned();
    assert!(
        message.contains("migrations") && message.contains("publication"),
        "{message}"
    );

    db::migrate(&pool, &config).await.unwrap();
    let response = get(&app, "/readyz").await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
    // Ready for everything but PowerSync, which no test runs here: degraded, still 200.
    assert_eq!(response.json()["status"], "degraded");
    drop_powersync_objects(&pool, &config).await;
}

#[sqlx::test(migrations = false)]
async fn readyz_is_503_when_the_database_is_down(pool: PgPool) {
    let config = config_for(&pool);
    // A pool whose Postgres is gone: nothing listens on this port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(1))
        .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/postgres"))
        .unwrap();
    let app = app(config, dead);
    let response = get(&app, "/readyz").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = response.json();
    assert_eq!(body["error"]["code"], "not_ready");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("database"),
        "{body}"
    );
    // What is down, not the driver's words (which name hosts, ports and OS errors).
    let text = body.to_string();
    for raw in ["os error", "refused", "127.0.0.1", "pool timed out"] {
        assert!(!text.to_lowercase().contains(raw), "{text}");
    }
}

#[sqlx::test(migrations = false)]
async fn unknown_api_path_is_a_json_404(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let response = get(&app, "/api/nope").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.json()["error"]["code"], "not_found");
}
