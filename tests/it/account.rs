//! `/api/account/*`: display name, password change (other sessions end, this one stays),
//! sessions with revoke, and the CSRF rules for a cookie session.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use notebox::config::SignupPolicy;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{ORIGIN, app, config_for, get_as, json_request, post_json, send, signup};

const PASSWORD: &str = "correct horse battery";

fn open_app(pool: &PgPool) -> axum::Router {
    let mut config = config_for(pool);
    config.auth.signup = SignupPolicy::Open;
    app(config, pool.clone())
}

/// A new session of `email` by password: its bearer token.
pub async fn log_in(app: &axum::Router, email: &str, password: &str) -> String {
    let response = post_json(
        app,
        "/api/auth/login",
        json!({"email": email, "password": password}),
        None,
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
    response.json()["session_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[sqlx::test]
async fn display_name_changes_and_me_shows_it(pool: PgPool) {
    let app = open_app(&pool);
    let (_, token) = signup(&app, "ada@example.org").await;
    // Cached by the first request: the change must still show at once.
    assert_eq!(
        get_as(&app, "/api/auth/me", &token).await.json()["display_name"],
        ""
    );
    let changed = send(
        &app,
        json_request(
            "PATCH",
            "/api/account",
            json!({"display_name": "  Ada L. "}),
            Some(&token),
        ),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json()["display_name"], "Ada L.");
    assert_eq!(
        get_as(&app, "/api/auth/me", &token).await.json()["display_name"],
        "Ada L."
    );
    let too_long = send(
        &app,
        json_request(
            "PATCH",
            "/api/account",
            json!({"display_name": "x".repeat(201)}),
            Some(&token),
        ),
    )
    .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn password_change_ends_other_sessions_and_keeps_this_one(pool: PgPool) {
    let app = open_app(&pool);
    let (_, this) = signup(&app, "ada@example.org").await;
    let phone = log_in(&app, "ada@example.org", PASSWORD).await;
    let laptop = log_in(&app, "ada@example.org", PASSWORD).await;
    // Every session is cached as live before the change.
    for token in [&this, &phone, &laptop] {
        assert_eq!(
            get_as(&app, "/api/auth/me", token).await.status,
            StatusCode::OK
        );
    }

    let wrong = post_json(
        &app,
        "/api/account/password",
        json!({"current_password": "not it at all", "new_password": "a brand new password"}),
        Some(&this),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let short = post_json(
        &app,
        "/api/account/password",
        json!({"current_password": PASSWORD, "new_password": "short"}),
        Some(&this),
    )
    .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);

    let changed = post_json(
        &app,
        "/api/account/password",
        json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        Some(&this),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.json());
    assert_eq!(changed.json()["sessions_ended"], 2);
    assert_eq!(
        get_as(&app, "/api/auth/me", &this).await.status,
        StatusCode::OK
    );
    for token in [&phone, &laptop] {
        assert_eq!(
            get_as(&app, "/api/auth/me", token).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let old = post_json(
        &app,
        "/api/auth/login",
        json!({"email": "ada@example.org", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    log_in(&app, "ada@example.org", "a brand new password").await;
}

#[sqlx::test]
async fn sessions_are_listed_and_revoked_by_their_owner_only(pool: PgPool) {
    let app = open_app(&pool);
    let (_, this) = signup(&app, "ada@example.org").await;
    let other = log_in(&app, "ada@example.org", PASSWORD).await;
    let (_, mallory) = signup(&app, "mallory@example.org").await;
    assert_eq!(
        get_as(&app, "/api/auth/me", &other).await.status,
        StatusCode::OK
    );

    let list = get_as(&app, "/api/account/sessions", &this).await.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["current"], true, "the current session comes first");
    assert_eq!(list[1]["current"], false);
    let other_id = list[1]["id"].as_str().unwrap().to_owned();
    assert_eq!(other_id.len(), 64);

    let path = format!("/api/account/sessions/{other_id}");
    let foreign = send(
        &app,
        json_request("DELETE", &path, json!({}), Some(&mallory)),
    )
    .await;
    assert_eq!(
        foreign.status,
        StatusCode::NOT_FOUND,
        "someone else's session"
    );
    assert_eq!(
        get_as(&app, "/api/auth/me", &other).await.status,
        StatusCode::OK
    );

    let revoked = send(&app, json_request("DELETE", &path, json!({}), Some(&this))).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get_as(&app, "/api/auth/me", &other).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_as(&app, "/api/auth/me", &this).await.status,
        StatusCode::OK
    );
    let again = send(&app, json_request("DELETE", &path, json!({}), Some(&this))).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let list = get_as(&app, "/api/account/sessions", &this).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[sqlx::test]
async fn cookie_sessions_need_our_origin_and_json(pool: PgPool) {
    let app = open_app(&pool);
    let response = post_json(
        &app,
        "/api/auth/signup",
        json!({"email": "ada@example.org", "password": PASSWORD, "setup_token": crate::helpers::SETUP_TOKEN}),
        None,
    )
    .await;
    let cookie = response.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let patch = |origin: Option<&str>, content_type: &str| {
        let mut builder = Request::builder()
            .method("PATCH")
            .uri("/api/account")
            .header("cookie", &cookie)
            .header("content-type", content_type);
        if let Some(origin) = origin {
            builder = builder.header("origin", origin);
        }
        builder
            .body(Body::from(r#"{"display_name":"Eve"}"#))
            .unwrap()
    };
    let foreign = send(
        &app,
        patch(Some("https://evil.example"), "application/json"),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let no_origin = send(&app, patch(None, "application/json")).await;
    assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
    let form = send(&app, patch(Some(ORIGIN), "text/plain")).await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let name: String = sqlx::query_scalar("select display_name from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "", "nothing changed");
    let ours = send(&app, patch(Some(ORIGIN), "application/json")).await;
    assert_eq!(ours.status, StatusCode::OK);
}
