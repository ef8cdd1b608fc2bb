//! `/api/admin/*`: admins only (403 for everyone else), CSRF rules of cookie sessions,
//! every action works and is logged with the admin who did it, and the sign-up policy
//! changes without a restart.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use notebox::config::SignupPolicy;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::account::log_in;
use crate::helpers::{
    ORIGIN, SETUP_TOKEN, app, config_for, get, get_as, json_request, post_json, send, signup,
};

const PASSWORD: &str = "correct horse battery";

/// Every admin route, with a body its handler accepts.
fn admin_routes(user_id: &str) -> Vec<(&'static str, String, Value)> {
    vec![
        ("GET", "/api/admin/users".into(), Value::Null),
        (
            "POST",
            "/api/admin/users".into(),
            json!({"email": "new@example.org"}),
        ),
        (
            "POST",
            format!("/api/admin/users/{user_id}/disable"),
            json!({}),
        ),
        (
            "POST",
            format!("/api/admin/users/{user_id}/enable"),
            json!({}),
        ),
        (
            "POST",
            format!("/api/admin/users/{user_id}/password"),
            json!({}),
        ),
        ("GET", "/api/admin/settings".into(), Value::Null),
        (
            "PUT",
            "/api/admin/settings".into(),
            json!({"signup": "open"}),
        ),
        ("GET", "/api/admin/keys".into(), Value::Null),
        ("POST", "/api/admin/keys/rotate".into(), json!({})),
        ("GET", "/api/admin/check".into(), Value::Null),
    ]
}

fn request(method: &str, path: &str, body: &Value, token: &str) -> Request<Body> {
    if body.is_null() {
        Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    } else {
        json_request(method, path, body.clone(), Some(token))
    }
}

/// What the handlers log while `f` runs (the sqlx test runtime is single-threaded, so a
/// thread-local subscriber sees every request driven in-process).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn start(&self) -> tracing::subscriber::DefaultGuard {
        let log = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || log.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn lines_with(&self, needle: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

#[sqlx::test]
async fn non_admins_are_refused_on_every_admin_route(pool: PgPool) {
    let mut config = config_for(&pool);
    config.auth.signup = SignupPolicy::Open;
    let app = app(config, pool.clone());
    let (admin_id, _) = signup(&app, "admin@example.org").await;
    let (_, user) = signup(&app, "user@example.org").await;
    for (method, path, body) in admin_routes(&admin_id) {
        let answer = send(&app, request(method, &path, &body, &user)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(answer.json()["error"]["code"], "forbidden");
        let anonymous = if body.is_null() {
            get(&app, &path).await
        } else {
            send(&app, json_request(method, &path, body.clone(), None)).await
        };
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    let disabled: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select disabled_at from users where email = 'admin@example.org'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(disabled.is_none(), "nothing was changed");
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 2);
}

#[sqlx::test]
async fn cookie_sessions_of_admins_pass_the_csrf_rules(pool: PgPool) {
    let app = app(config_for(&pool), pool.clone());
    let response = post_json(
        &app,
        "/api/auth/signup",
        json!({"email": "admin@example.org", "password": PASSWORD, "setup_token": SETUP_TOKEN}),
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
    let create = |origin: Option<&str>, content_type: &str| {
        let mut builder = Request::post("/api/admin/users")
            .header("cookie", &cookie)
            .header("content-type", content_type);
        if let Some(origin) = origin {
            builder = builder.header("origin", origin);
        }
        builder
            .body(Body::from(r#"{"email":"bob@example.org"}"#))
            .unwrap()
    };
    assert_eq!(
        send(&app, create(None, "application/json")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(
            &app,
            create(Some("https://evil.example"), "application/json")
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(
            &app,
            create(Some(ORIGIN), "application/x-www-form-urlencoded")
        )
        .await
        .status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let count: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "no account was created by a refused request");
    assert_eq!(
        send(&app, create(Some(ORIGIN), "application/json"))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[sqlx::test]
async fn admin_actions_work_and_are_logged_with_the_admin(pool: PgPool) {
    let app = app(config_for(&pool), pool.clone());
    let (admin_id, admin) = signup(&app, "admin@example.org").await;
    let log = Log::default();
    let _guard = log.start();

    // Create: a one-time password that logs the new person in.
    let created = post_json(
        &app,
        "/api/admin/users",
        json!({"email": "Bob@Example.org", "display_name": "Bob"}),
        Some(&admin),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json());
    let body = created.json();
    let bob_id = body["user"]["id"].as_str().unwrap().to_owned();
    let first_password = body["password"].as_str().unwrap().to_owned();
    assert!(first_password.len() >= 20);
    let bob = log_in(&app, "bob@example.org", &first_password).await;
    let again = post_json(
        &app,
        "/api/admin/users",
        json!({"email": "bob@example.org"}),
        Some(&admin),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // List: created, last seen (Bob just logged in), not disabled.
    let list = get_as(&app, "/api/admin/users", &admin).await.json();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == bob_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["display_name"], "Bob");
    assert!(listed["created_at"].is_string());
    assert!(listed["last_seen_at"].is_string(), "{listed}");
    assert!(listed["disabled_at"].is_null());

    // Disable: Bob's session ends at once and he cannot log in; enable lets him back.
    assert_eq!(
        get_as(&app, "/api/auth/me", &bob).await.status,
        StatusCode::OK
    );
    let disabled = post_json(
        &app,
        &format!("/api/admin/users/{bob_id}/disable"),
        json!({}),
        Some(&admin),
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK);
    assert!(disabled.json()["disabled_at"].is_string());
    assert_eq!(
        get_as(&app, "/api/auth/me", &bob).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refused = post_json(
        &app,
        "/api/auth/login",
        json!({"email": "bob@example.org", "password": first_password}),
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let enabled = post_json(
        &app,
        &format!("/api/admin/users/{bob_id}/enable"),
        json!({}),
        Some(&admin),
    )
    .await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert!(enabled.json()["disabled_at"].is_null());
    let bob = log_in(&app, "bob@example.org", &first_password).await;

    // Reset: a new one-time password; the old one and Bob's sessions stop working.
    let reset = post_json(
        &app,
        &format!("/api/admin/users/{bob_id}/password"),
        json!({}),
        Some(&admin),
    )
    .await;
    assert_eq!(reset.status, StatusCode::OK);
    let second_password = reset.json()["password"].as_str().unwrap().to_owned();
    assert_ne!(second_password, first_password);
    assert_eq!(
        get_as(&app, "/api/auth/me", &bob).await.status,
        StatusCode::UNAUTHORIZED
    );
    log_in(&app, "bob@example.org", &second_password).await;

    // An admin cannot lock themselves out; unknown ids are 404.
    let own = post_json(
        &app,
        &format!("/api/admin/users/{admin_id}/disable"),
        json!({}),
        Some(&admin),
    )
    .await;
    assert_eq!(own.status, StatusCode::CONFLICT);
    let unknown = post_json(
        &app,
        &format!("/api/admin/users/{}/enable", uuid::Uuid::new_v4()),
        json!({}),
        Some(&admin),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Keys: rotation publishes a key that signs later.
    let before = get_as(&app, "/api/auth/token", &admin).await;
    assert_eq!(before.status, StatusCode::OK, "a signing key exists");
    let keys = get_as(&app, "/api/admin/keys", &admin).await.json();
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["state"], "signing");
    let rotated = post_json(&app, "/api/admin/keys/rotate", json!({}), Some(&admin)).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let kid = rotated.json()["kid"].as_str().unwrap().to_owned();
    let keys = get_as(&app, "/api/admin/keys", &admin).await.json();
    let states: Vec<_> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap().to_owned(), k["state"].clone()))
        .collect();
    assert!(states.contains(&(kid, json!("next"))), "{states:?}");
    assert!(states.iter().any(|(_, s)| s == "retiring"), "{states:?}");

    // `notebox check`, read-only: the Postgres checks are there with their severities.
    let checks = get_as(&app, "/api/admin/check", &admin).await;
    assert_eq!(checks.status, StatusCode::OK);
    let checks = checks.json();
    let wal = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "wal_level")
        .expect("the wal_level check");
    assert_eq!(wal["severity"], "ok", "{wal}");

    for action in [
        "admin: account created",
        "admin: account disabled",
        "admin: account enabled",
        "admin: password reset",
        "admin: signing key rotated",
    ] {
        let lines = log.lines_with(action);
        assert_eq!(lines.len(), 1, "{action}: {lines:?}");
        assert!(
            lines[0].contains(&format!("admin_id={admin_id}")),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("admin_email=admin@example.org"),
            "{}",
            lines[0]
        );
    }
    assert!(
        log.lines_with(&second_password).is_empty(),
        "passwords never reach the log"
    );
}

#[sqlx::test]
async fn signup_policy_changes_without_a_restart(pool: PgPool) {
    let app = app(config_for(&pool), pool.clone());
    let (_, admin) = signup(&app, "admin@example.org").await;
    let log = Log::default();
    let _guard = log.start();
    let try_signup = || {
        post_json(
            &app,
            "/api/auth/signup",
            json!({"email": format!("{}@example.org", uuid::Uuid::new_v4()), "password": PASSWORD}),
            None,
        )
    };
    assert_eq!(
        try_signup().await.status,
        StatusCode::FORBIDDEN,
        "closed by config"
    );
    let settings = get_as(&app, "/api/admin/settings", &admin).await.json();
    assert_eq!(
        settings,
        json!({"signup": "closed", "signup_default": "closed"})
    );

    let opened = send(
        &app,
        json_request(
            "PUT",
            "/api/admin/settings",
            json!({"signup": "open"}),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(opened.status, StatusCode::OK);
    assert_eq!(opened.json()["signup"], "open");
    assert_eq!(get(&app, "/api/auth/setup").await.json()["signup"], "open");
    assert_eq!(
        try_signup().await.status,
        StatusCode::CREATED,
        "open, same process"
    );

    // Another replica (a second router on the same database) sees it too.
    let other = crate::helpers::app(config_for(&pool), pool.clone());
    assert_eq!(
        get(&other, "/api/auth/setup").await.json()["signup"],
        "open"
    );

    let closed = send(
        &app,
        json_request(
            "PUT",
            "/api/admin/settings",
            json!({"signup": "closed"}),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK);
    assert_eq!(try_signup().await.status, StatusCode::FORBIDDEN);
    let bad = send(
        &app,
        json_request(
            "PUT",
            "/api/admin/settings",
            json!({"signup": "maybe"}),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(log.lines_with("admin: sign-up policy changed").len(), 2);
}
