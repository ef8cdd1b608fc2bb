//! The HTTP edge: every /api answer is the JSON envelope, and silent or trickling
//! connections neither pile up nor keep a normal user from being served.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use notebox::http::ServeOptions;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{app, config_for, send, signup};

fn assert_envelope(response: &crate::helpers::TestResponse, status: StatusCode, code: &str) {
    assert_eq!(response.status, status);
    let body = response.json();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[sqlx::test]
async fn bodiless_api_errors_get_the_envelope(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let (_, session) = signup(&app, "ada@example.org").await;
    let response = send(
        &app,
        Request::delete("/api/auth/setup")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_envelope(
        &response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    assert!(response.headers.contains_key("allow"));

    let response = send(
        &app,
        Request::post("/api/auth/login")
            .header("content-type", "text/plain")
            .body(Body::from("x"))
            .unwrap(),
    )
    .await;
    assert_envelope(
        &response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    let mut request = Request::get("/api/auth/setup");
    for n in 0..150 {
        request = request.header(format!("x-filler-{n}"), "y");
    }
    let response = send(&app, request.body(Body::empty()).unwrap()).await;
    assert_envelope(
        &response,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
    );
    let response = send(
        &app,
        Request::get("/api/auth/setup")
            .header("x-big", "y".repeat(40 * 1024))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_envelope(
        &response,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
    );

    let huge = vec![b'['; 64 * 1024 * 1024];
    let response = send(
        &app,
        Request::post("/api/data")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {session}"))
            .body(Body::from(huge))
            .unwrap(),
    )
    .await;
    assert_envelope(
        &response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
}

/// Starts the app as `notebox serve` serves it; returns its address.
async fn serve(pool: &PgPool, options: ServeOptions) -> std::net::SocketAddr {
    let config = config_for(pool);
    notebox::auth::keys::ensure_signing_key(pool, notebox::auth::keys::KeyAlgorithm::RS256)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = crate::helpers::app(config, pool.clone());
    tokio::spawn(notebox::http::serve(
        listener,
        app,
        std::future::pending(),
        options,
    ));
    address
}

#[sqlx::test]
async fn a_token_request_is_answered_while_1100_connections_idle_or_trickle(pool: PgPool) {
    let options = ServeOptions {
        header_read_timeout: Duration::from_secs(2),
        ..ServeOptions::default()
    };
    let address = serve(&pool, options).await;
    let base = format!("http://{address}");
    let (_, session) = signup(
        &crate::helpers::app(config_for(&pool), pool.clone()),
        "ada@example.org",
    )
    .await;

    let mut flood = Vec::new();
    for n in 0..1100 {
        let mut stream = TcpStream::connect(address).await.unwrap();
        if n % 2 == 0 {
            // Trickling: a request line and then nothing more.
            stream
                .write_all(b"GET /api/auth/me HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        flood.push(stream);
    }
    let started = Instant::now();
    let response = reqwest::Client::new()
        .get(format!("{base}/api/auth/token"))
        .bearer_auth(&session)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("the token request is answered during the flood");
    assert_eq!(response.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // The header-read timeout closed every flooding connection (EOF, or a 408 then EOF).
    let deadline = Instant::now() + Duration::from_secs(10);
    for mut stream in flood {
        let mut sink = Vec::new();
        let left = deadline.saturating_duration_since(Instant::now());
        let closed = tokio::time::timeout(left, stream.read_to_end(&mut sink)).await;
        assert!(
            closed.is_ok(),
            "a silent connection was still open after the header timeout"
        );
    }
}

#[sqlx::test]
async fn at_the_connection_cap_newcomers_wait_for_a_slot(pool: PgPool) {
    let options = ServeOptions {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 20,
        ..ServeOptions::default()
    };
    let address = serve(&pool, options).await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(address).await.unwrap());
    }
    let started = Instant::now();
    let response = reqwest::Client::new()
        .get(format!("http://{address}/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("answered once the silent connections timed out");
    assert_eq!(response.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the cap held it back"
    );
}
