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

/// The app on notebox's own pool (its session settings included), plus
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

/// An upload that finished cleanly keeps its connection for the next one (no check query
/// on the way back to the pool); an idle server gives it back within a second, and every
/// upload on it commits.
#[sqlx::test]
async fn a_kept_connection_goes_back_to_the_pool_when_uploads_stop(pool: PgPool) {
    let mut config = config_for(&pool);
    config.database.max_connections = 4;
    let (base, app_pool, (user, session)) = served_app(config).await;
    let http = reqwest::Client::new();
    let checked_out = |pool: &PgPool| pool.size() - pool.num_idle() as u32;
    for tx in 0..3 {
        let id = Uuid::new_v4();
        upload_applied(&http, &base, &session, &transaction(id, &user, tx, tx == 1)).await;
        // The connections of the session check and the schema load go back on their own
        // (a moment later); the upload's stays out, kept, for half a second at least.
        let deadline = Instant::now() + Duration::from_millis(300);
        while checked_out(&app_pool) > 1 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(checked_out(&app_pool), 1, "kept for the next upload");
        assert!(committed(&pool, id).await, "upload {tx} committed");
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while checked_out(&app_pool) > 0 {
        assert!(
            Instant::now() < deadline,
            "an idle server still holds a connection out of its pool"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app_pool.close().await;
}

/// With a pool of one, no connection is kept after an upload: the other requests would
/// have to wait for it.
#[sqlx::test]
async fn a_pool_of_one_keeps_no_connection_between_uploads(pool: PgPool) {
    let mut config = config_for(&pool);
    config.database.max_connections = 1;
    let (base, app_pool, (user, session)) = served_app(config).await;
    let id = Uuid::new_v4();
    let body = transaction(id, &user, 0, false);
    upload_applied(&reqwest::Client::new(), &base, &session, &body).await;
    // A kept connection would stay out of the pool for half a second at least.
    let deadline = Instant::now() + Duration::from_millis(400);
    while app_pool.num_idle() == 0 {
        assert!(
            Instant::now() < deadline,
            "the only connection was kept out of the pool"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(committed(&pool, id).await);
    app_pool.close().await;
}

/// Posts one upload; asserts its first transaction was applied.
async fn upload_applied(http: &reqwest::Client, base: &str, session: &str, body: &Value) {
    let answer: Value = http
        .post(format!("{base}/api/data"))
        .bearer_auth(session)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["results"][0]["status"], "success", "{answer}");
}

/// Whether a note is in Postgres, as any other session sees it.
async fn committed(pool: &PgPool, id: Uuid) -> bool {
    sqlx::query_scalar("select exists (select from notes where id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A proxy to the Postgres of `url` that holds every answer back for `delay`: a BEGIN sent
/// through it stays unanswered long enough to drop its future at that very point. Returns
/// `url` through the proxy.
async fn slow_answers(url: &str, delay: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut url = url::Url::parse(url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    url.set_port(Some(listener.local_addr().unwrap().port()))
        .unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                continue;
            };
            let ((mut from_client, mut to_client), (mut from_server, mut to_server)) =
                (client.into_split(), server.into_split());
            tokio::spawn(async move { tokio::io::copy(&mut from_client, &mut to_server).await });
            tokio::spawn(async move {
                let mut buffer = vec![0; 64 * 1024];
                while let Ok(read @ 1..) = from_server.read(&mut buffer).await {
                    tokio::time::sleep(delay).await;
                    if to_client.write_all(&buffer[..read]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url.to_string()
}

/// sqlx counts a transaction only once Postgres answered its BEGIN: a future dropped while
/// BEGIN is on the wire (a hang-up, a timeout) gives its connection back inside an open
/// transaction, and a later one-statement write on it reports success without
/// committing. `notebox::db::begin` dropped at that very point, or at any later one,
/// leaves nothing open: the next upload on the same (only) connection commits.
#[sqlx::test]
async fn a_begin_cancelled_on_the_wire_leaves_no_transaction_open(pool: PgPool) {
    let mut config = config_for(&pool);
    config.database.max_connections = 1;
    config.database.idle_in_transaction_timeout = Duration::from_secs(120);
    // Every answer 20 ms late: BEGIN is certainly on the wire when its future is dropped.
    let slow = slow_answers(config.database.url.expose(), Duration::from_millis(20)).await;
    config.database.url = notebox::config::Secret::new(slow);
    let (base, app_pool, (user, session)) = served_app(config.clone()).await;
    let upload = |tx: usize| {
        let id = Uuid::new_v4();
        let request = reqwest::Client::new()
            .post(format!("{base}/api/data"))
            .bearer_auth(&session)
            .json(&transaction(id, &user, tx, false));
        async move {
            assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
            id
        }
    };
    // The pool's one connection back from the last request (its release is a round trip).
    let idle = || async {
        let deadline = Instant::now() + Duration::from_secs(5);
        while app_pool.num_idle() == 0 {
            assert!(
                Instant::now() < deadline,
                "the connection never came back to the pool"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    // Dropped after one poll, as the hole below is hit.
    for round in 0..10 {
        idle().await;
        let cancelled = futures_util::FutureExt::now_or_never(notebox::db::begin(&app_pool));
        assert!(
            cancelled.is_none(),
            "round {round}: begin finished within one poll"
        );
        let id = upload(round).await;
        assert!(
            committed(&pool, id).await,
            "round {round}: an acknowledged upload is not committed"
        );
    }
    // And dropped at later points: after 0, 1, 2 … yields to the runtime.
    for yields in 0..20 {
        idle().await;
        tokio::select! {
            biased;
            _ = notebox::db::begin(&app_pool) => {}
            () = async { for _ in 0..yields { tokio::task::yield_now().await } } => {}
        }
        let id = upload(100 + yields).await;
        assert!(
            committed(&pool, id).await,
            "after {yields} yields: an acknowledged upload is not committed"
        );
    }
    let open: i64 = sqlx::query_scalar(
        "select count(*) from pg_stat_activity
         where datname = current_database() and state like 'idle in transaction%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(open, 0, "connections left idle in transaction");
    app_pool.close().await;

    // The hole, with sqlx's own begin dropped the same way: this test sees it.
    let raw_pool = notebox::db::connect(&config.database).await.unwrap();
    let mut conn = raw_pool.acquire().await.unwrap();
    #[expect(
        clippy::disallowed_methods,
        reason = "shows what notebox::db::begin prevents"
    )]
    let begun =
        futures_util::FutureExt::now_or_never(sqlx::Connection::begin(&mut *conn)).is_some();
    assert!(!begun, "BEGIN was answered within one poll");
    drop(conn); // back to the pool, with BEGIN sent
    let id = Uuid::new_v4();
    sqlx::query("insert into notes (id, owner_id, title, body) values ($1, $2::uuid, 't', 'b')")
        .bind(id)
        .bind(&user)
        .execute(&raw_pool)
        .await
        .unwrap();
    assert!(
        !committed(&pool, id).await,
        "sqlx's begin no longer leaks: notebox::db::begin may go"
    );
    raw_pool.close().await; // rolls the leaked transaction back
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
