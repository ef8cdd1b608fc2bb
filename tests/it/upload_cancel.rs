//! Cancelled uploads (client hang-ups, request timeouts) under load: every acknowledged
//! write is in Postgres and no pooled connection is left inside a transaction.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use notebox::app::{AppState, router};
use notebox::config::Config;
use rand::Rng;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{config_for, serve, signup};

const CLIENTS: usize = 32;
const REQUESTS_PER_CLIENT: usize = 25;

/// The app on notebox's own pool (its session settings and release check included), plus
/// a signed-up user's (id, session).
pub async fn served_app(config: Config) -> (String, PgPool, (String, String)) {
    let pool = notebox::db::connect(&config.database).await.unwrap();
    let app = router(AppState::new(config, pool.clone()));
    crate::helpers::allow_first_signup(&pool).await;
    let user = signup(&app, "alice@example.org").await;
    // A request timeout chosen per request (what TimeoutLayer does, at random points).
    let app = app.layer(axum::middleware::from_fn(timeout_from_header));
    (serve(app).await, pool, user)
}

async fn timeout_from_header(request: Request, next: Next) -> Response {
    let deadline = request
        .headers()
        .get("x-test-timeout-us")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    match deadline {
        None => next.run(request).await,
        Some(micros) => {
            match tokio::time::timeout(Duration::from_micros(micros), next.run(request)).await {
                Ok(response) => response,
                Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
            }
        }
    }
}

/// One transaction: a lone PUT (one statement, no BEGIN) or a PUT and a DELETE of a
/// missing row (two statements: BEGIN … COMMIT).
fn transaction(id: Uuid, user: &str, tx: usize, with_begin: bool) -> Value {
    let mut crud = vec![json!({"op": "PUT", "type": "notes", "id": id, "tx_id": tx,
        "data": {"title": "t", "body": "b", "owner_id": user}})];
    if with_begin {
        crud.push(json!({"op": "DELETE", "type": "notes", "id": Uuid::new_v4(), "tx_id": tx}));
    }
    json!({ "batch": crud })
}

#[sqlx::test]
async fn cancelled_uploads_never_lose_acknowledged_writes(pool: PgPool) {
    let mut config = config_for(&pool);
    config.database.max_connections = 8;
    // Long enough that Postgres' own timeout cannot hide a leaked transaction from the check.
    config.database.idle_in_transaction_timeout = Duration::from_secs(120);
    let (base, app_pool, (user, session)) = served_app(config).await;
    let acknowledged = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let cancelled = Arc::new(Mutex::new(0usize));
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (base, user, session) = (base.clone(), user.clone(), session.clone());
        let (acknowledged, cancelled) = (acknowledged.clone(), cancelled.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for n in 0..REQUESTS_PER_CLIENT {
                let id = Uuid::new_v4();
                let (with_begin, cut, micros) = {
                    let mut rng = rand::thread_rng();
                    (
                        rng.gen_bool(0.5),
                        rng.gen_range(0..3),
                        rng.gen_range(50..8_000),
                    )
                };
                let body = transaction(id, &user, client * 1000 + n, with_begin);
                let mut request = http
                    .post(format!("{base}/api/data"))
                    .bearer_auth(&session)
                    .json(&body);
                match cut {
                    0 => request = request.timeout(Duration::from_micros(micros)),
                    1 => request = request.header("x-test-timeout-us", micros.to_string()),
                    _ => {}
                }
                let Ok(response) = request.send().await else {
                    *cancelled.lock().unwrap() += 1;
                    continue;
                };
                if response.status() != StatusCode::OK {
                    *cancelled.lock().unwrap() += 1;
                    continue;
                }
                let Ok(answer) = response.json::<Value>().await else {
                    *cancelled.lock().unwrap() += 1;
                    continue;
                };
                if answer["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["status"] == "success")
                {
                    acknowledged.lock().unwrap().push(id);
                }
            }
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let cancelled = *cancelled.lock().unwrap();
    assert!(
        cancelled > 50 && acknowledged.len() > 50,
        "the run must both cancel and acknowledge plenty: {cancelled} cancelled, {} acknowledged",
        acknowledged.len()
    );

    // Uploads still running for cancelled requests finish in their own tasks; then no
    // connection may sit inside a transaction.
    let deadline = Instant::now() + Duration::from_secs(10);
    let in_transaction = loop {
        let open: Vec<String> = sqlx::query_scalar(
            "select coalesce(query, '') from pg_stat_activity
             where datname = current_database() and state like 'idle in transaction%'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        if open.is_empty() || Instant::now() > deadline {
            break open;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        in_transaction.is_empty(),
        "connections left idle in transaction: {in_transaction:?}"
    );
    let stored: HashSet<Uuid> = sqlx::query_scalar("select id from notes")
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let lost: Vec<&Uuid> = acknowledged
        .iter()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes are not in Postgres",
        lost.len(),
        acknowledged.len()
    );
    app_pool.close().await;
}

/// Whatever leaves a connection inside a transaction sqlx does not know about, the pool
/// discards it on release: a later one-statement upload on it still commits.
#[sqlx::test]
async fn a_connection_left_in_a_transaction_is_not_reused(pool: PgPool) {
    let mut config = config_for(&pool);
    config.database.max_connections = 1;
    let (base, app_pool, (user, session)) = served_app(config).await;
    let mut conn = app_pool.acquire().await.unwrap();
    let leaked_pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    sqlx::raw_sql("begin").execute(&mut *conn).await.unwrap(); // sqlx does not count it
    drop(conn);

    let id = Uuid::new_v4();
    let response = reqwest::Client::new()
        .post(format!("{base}/api/data"))
        .bearer_auth(&session)
        .json(&transaction(id, &user, 1, false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let stored: Option<Uuid> = sqlx::query_scalar("select id from notes where id = $1")
        .bind(id)
        .fetch_optional(&pool)
        .await
        .unwrap();
    assert_eq!(stored, Some(id), "the acknowledged write is committed");
    // A clean connection is kept: the check on release must not discard every one.
    let pid = || async {
        sqlx::query_scalar::<_, i32>("select pg_backend_pid()")
            .fetch_one(&app_pool)
            .await
            .unwrap()
    };
    let fresh_pid = pid().await;
    assert_ne!(fresh_pid, leaked_pid);
    for _ in 0..3 {
        let response = reqwest::Client::new()
            .post(format!("{base}/api/data"))
            .bearer_auth(&session)
            .json(&transaction(Uuid::new_v4(), &user, 2, true))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(pid().await, fresh_pid, "the clean connection was reused");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive: bool =
            sqlx::query_scalar("select exists (select from pg_stat_activity where pid = $1)")
                .bind(leaked_pid)
                .fetch_one(&pool)
                .await
                .unwrap();
        if !alive {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the connection left in a transaction is still open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app_pool.close().await;
}

/// `database.statement_timeout` and `idle_in_transaction_timeout` reach every pooled
/// session: a statement running past it is cancelled.
#[sqlx::test]
async fn statement_timeout_cuts_long_statements(pool: PgPool) {
    let mut config = config_for(&pool);
    config.database.statement_timeout = Duration::from_millis(300);
    config.database.idle_in_transaction_timeout = Duration::from_secs(7);
    let app_pool = notebox::db::connect(&config.database).await.unwrap();
    let settings: (String, String) = sqlx::query_as(
        "select current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')",
    )
    .fetch_one(&app_pool)
    .await
    .unwrap();
    assert_eq!(settings, ("300ms".into(), "7s".into()));
    let started = Instant::now();
    let error = sqlx::query("select pg_sleep(5)")
        .execute(&app_pool)
        .await
        .unwrap_err();
    assert_eq!(
        error.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("57014"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    app_pool.close().await;
}
