//! Limits on the auth endpoints: argon2 concurrency, attempt limits keyed on the real client
//! behind trusted proxies, and tokens refused once the account or the token is no longer good.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use notebox::app::{AppState, router};
use notebox::auth::{KeyRing, tokens, users};
use notebox::config::KeyAlgorithm;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{app, config_for, get_as, post_json, send, signup};

fn login_from(peer: &str, forwarded_for: Option<&str>, email: &str) -> Request<Body> {
    attempt_from("/api/auth/login", peer, forwarded_for, email)
}

fn attempt_from(path: &str, peer: &str, forwarded_for: Option<&str>, email: &str) -> Request<Body> {
    let mut request = Request::post(path).header("content-type", "application/json");
    if let Some(forwarded) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded);
    }
    let mut request = request
        .body(Body::from(
            json!({"email": email, "password": "too short"}).to_string(),
        ))
        .unwrap();
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

#[sqlx::test]
async fn a_login_flood_hashes_with_bounded_concurrency(pool: PgPool) {
    let state = AppState::new(config_for(&pool), pool.clone());
    let app = router(state.clone());
    let limit = state.auth.hasher.limit();
    let answers = futures_util::future::join_all((0..100u32).map(|n| {
        let app = app.clone();
        async move {
            let peer = format!("198.51.100.{}", n % 250 + 1);
            send(
                &app,
                login_from(&peer, None, &format!("user{n}@example.org")),
            )
            .await
            .status
        }
    }))
    .await;
    assert!(
        answers
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    let peak = state.auth.hasher.peak();
    assert!(
        peak >= 1 && peak <= limit,
        "{peak} hashes ran at once, the bound is {limit}"
    );
}

#[sqlx::test]
async fn attempts_are_limited_per_real_client_behind_a_trusted_proxy(pool: PgPool) {
    let refused_after = |app: axum::Router, forwarded: &'static [&'static str]| async move {
        let mut statuses = Vec::new();
        for n in 0..42usize {
            let client = forwarded[n % forwarded.len()];
            // A sign-up with a too-short password: limited first, then refused without hashing,
            // so no refill sneaks in between attempts.
            let request = attempt_from(
                "/api/auth/signup",
                "10.0.0.5",
                Some(client),
                &format!("u{n}@example.org"),
            );
            let response = send(&app, request).await;
            statuses.push(response.status);
        }
        statuses
            .iter()
            .position(|s| *s == StatusCode::TOO_MANY_REQUESTS)
    };
    // Untrusted peer: its X-Forwarded-For is ignored, so all 42 count against 10.0.0.5.
    let untrusted = app(config_for(&pool), pool.clone());
    assert_eq!(
        refused_after(untrusted, &["192.0.2.1", "192.0.2.2"]).await,
        Some(20)
    );
    // Behind a trusted proxy the two clients each get their own burst of 20: the first
    // refusal is the 41st attempt (the 21st of the first client).
    let mut config = config_for(&pool);
    config.server.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let trusted = app(config, pool.clone());
    assert_eq!(
        refused_after(trusted, &["192.0.2.1", "192.0.2.2"]).await,
        Some(40)
    );
}

#[sqlx::test]
async fn a_disabled_user_gets_no_new_token(pool: PgPool) {
    let app = app(config_for(&pool), pool.clone());
    let (_, session) = signup(&app, "ada@example.org").await;
    assert_eq!(
        get_as(&app, "/api/auth/token", &session).await.status,
        StatusCode::OK
    );
    // As `notebox user disable` does, from outside this replica's caches.
    assert!(users::disable(&pool, "ada@example.org").await.unwrap());
    let response = get_as(&app, "/api/auth/token", &session).await;
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        response.json()
    );
}

/// A token whose `exp` has passed (beyond the verifier's leeway) is refused by /api/data.
#[sqlx::test]
async fn an_expired_powersync_token_is_refused(pool: PgPool) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let config = config_for(&pool);
    let app = app(config.clone(), pool.clone());
    let (user_id, _) = signup(&app, "ada@example.org").await;
    let ring = KeyRing::default();
    let fresh = tokens::issue(&ring, &pool, &config, user_id.parse().unwrap())
        .await
        .unwrap();
    let (keys, signer) = ring.signer(&pool, KeyAlgorithm::RS256).await.unwrap();
    let payload = fresh.token.split('.').nth(1).unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now - 3600);
    claims["exp"] = json!(now - 600);
    let expired = keys[signer].sign(&claims).unwrap();
    let batch = json!({"batch": []});
    let response = post_json(&app, "/api/data", batch.clone(), Some(&expired)).await;
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        response.json()
    );
    let response = post_json(&app, "/api/data", batch, Some(&fresh.token)).await;
    assert!(
        response.status.is_success(),
        "the same token unexpired is accepted: {:?}",
        response.status
    );
}
