//! Accounts, sessions, CSRF, rate limits, keys, tokens and the JWKS against real Postgres;
//! tokens checked by an independent verifier (jose, as PowerSync uses).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use notebox::auth::{KeyRing, keys, tokens};
use notebox::config::KeyAlgorithm::RS256;
use notebox::config::{Config, SignupPolicy};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{
    ORIGIN, SETUP_TOKEN, app, config_for, get, get_as, json_request, node, post_json, send, serve,
    signup,
};

const PASSWORD: &str = "correct horse battery";

fn login_request(email: &str, password: &str) -> Request<Body> {
    json_request(
        "POST",
        "/api/auth/login",
        json!({"email": email, "password": password}),
        None,
    )
}

fn cookie_of(response: &crate::helpers::TestResponse) -> String {
    let header = response
        .headers
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    header.split(';').next().unwrap().to_owned()
}

#[sqlx::test]
async fn first_signup_is_admin_then_signup_is_closed(pool: PgPool) {
    let app = app(config_for(&pool), pool.clone());
    assert_eq!(
        get(&app, "/api/auth/setup").await.json(),
        json!({"needs_setup": true, "signup": "closed"})
    );

    let response = post_json(
        &app,
        "/api/auth/signup",
        json!({"email": "Ada@Example.org", "password": PASSWORD, "display_name": "Ada", "setup_token": SETUP_TOKEN}),
        None,
    )
    .await;
    assert_eq!(response.status, StatusCode::CREATED);
    let body = response.json();
    assert_eq!(body["user"]["is_admin"], true);
    assert_eq!(body["user"]["display_name"], "Ada");
    let cookie = response
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap();
    for attribute in ["notebox_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "http public_url: no Secure flag"
    );
    // Only the hash of the token is stored.
    let token = body["session_token"].as_str().unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_ne!(stored, token.as_bytes());
    assert_eq!(stored.len(), 32);

    assert_eq!(
        get(&app, "/api/auth/setup").await.json()["needs_setup"],
        false
    );
    let response = post_json(
        &app,
        "/api/auth/signup",
        json!({"email": "eve@example.org", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.error_message().contains("sign-up is closed"));
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[sqlx::test]
async fn open_signup_creates_regular_users_and_refuses_duplicates(pool: PgPool) {
    let mut config = config_for(&pool);
    config.auth.signup = SignupPolicy::Open;
    let app = app(config, pool.clone());
    signup(&app, "admin@example.org").await;
    let response = post_json(
        &app,
        "/api/auth/signup",
        json!({"email": "bob@example.org", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.json()["user"]["is_admin"], false);

    let response = post_json(
        &app,
        "/api/auth/signup",
        json!({"email": "BOB@example.org", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::CONFLICT,
        "emails are unique whatever their case"
    );
    let response = post_json(
        &app,
        "/api/auth/signup",
        json!({"email": "carol@example.org", "password": "short"}),
        None,
    )
    .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(response.error_message().contains("at least 10"));
    let response = post_json(
        &app,
        "/api/auth/signup",
        json!({"email": "not-an-email", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 2);
}

#[sqlx::test]
async fn login_refusals_look_the_same(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    signup(&app, "ada@example.org").await;
    let ok = send(&app, login_request("ADA@example.org", PASSWORD)).await;
    assert_eq!(ok.status, StatusCode::OK, "email matching ignores case");
    assert!(ok.json()["session_token"].is_string());

    let wrong_password = send(&app, login_request("ada@example.org", "wrong password!")).await;
    let no_such_user = send(&app, login_request("nobody@example.org", PASSWORD)).await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_such_user.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong_password.body, no_such_user.body,
        "no hint whether the account exists"
    );
    let malformed = post_json(&app, "/api/auth/login", json!({"email": "x"}), None).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.error_message().contains("password"));
}

#[sqlx::test]
async fn sessions_work_by_bearer_and_cookie_and_end_on_logout(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let (user_id, token) = signup(&app, "ada@example.org").await;
    let me = get_as(&app, "/api/auth/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["id"], user_id);

    let login = send(&app, login_request("ada@example.org", PASSWORD)).await;
    let cookie = cookie_of(&login);
    let by_cookie = send(
        &app,
        Request::get("/api/auth/me")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(by_cookie.status, StatusCode::OK);

    // CSRF: a cookie-authenticated POST needs our Origin and a JSON body.
    let logout = |origin: Option<&str>, content_type: &str| {
        let mut builder = Request::post("/api/auth/logout")
            .header("cookie", &cookie)
            .header("content-type", content_type);
        if let Some(origin) = origin {
            builder = builder.header("origin", origin);
        }
        builder.body(Body::from("{}")).unwrap()
    };
    let no_origin = send(&app, logout(None, "application/json")).await;
    assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
    let foreign = send(
        &app,
        logout(Some("https://evil.example"), "application/json"),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let form = send(&app, logout(Some(ORIGIN), "text/plain")).await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let still_in = send(
        &app,
        Request::get("/api/auth/me")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        still_in.status,
        StatusCode::OK,
        "refused logouts changed nothing"
    );

    let ok = send(&app, logout(Some(ORIGIN), "application/json")).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    assert!(
        ok.headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = send(
        &app,
        Request::get("/api/auth/me")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    // The bearer session is a different session and still works; bearer needs no Origin.
    let bearer_logout = post_json(&app, "/api/auth/logout", json!({}), Some(&token)).await;
    assert_eq!(bearer_logout.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get_as(&app, "/api/auth/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test]
async fn expired_session_is_refused(pool: PgPool) {
    let app = app(config_for(&pool), pool.clone());
    let (_, token) = signup(&app, "ada@example.org").await;
    sqlx::query("update sessions set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    let response = get_as(&app, "/api/auth/me", &token).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert!(response.error_message().contains("log in again"));
    assert_eq!(
        get_as(&app, "/api/auth/token", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test]
async fn disabled_user_loses_sessions_and_cannot_log_in(pool: PgPool) {
    let app = app(config_for(&pool), pool.clone());
    let (_, token) = signup(&app, "ada@example.org").await;
    assert!(
        notebox::auth::users::disable(&pool, "ADA@example.org")
            .await
            .unwrap()
    );
    assert_eq!(
        get_as(&app, "/api/auth/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let login = send(&app, login_request("ada@example.org", PASSWORD)).await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);
    assert!(login.error_message().contains("disabled"));
}

#[sqlx::test]
async fn login_is_rate_limited_per_account(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    signup(&app, "ada@example.org").await;
    for _ in 0..5 {
        assert_eq!(
            send(&app, login_request("ada@example.org", "wrong password!"))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = send(&app, login_request("ada@example.org", PASSWORD)).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = limited
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
}

#[sqlx::test]
async fn login_is_rate_limited_per_ip(pool: PgPool) {
    let base = serve(app(config_for(&pool), pool)).await;
    let client = reqwest::Client::new();
    // All at once: the limit is taken before the (slow) hash, so no refill sneaks in.
    let statuses: Vec<u16> = futures_util::future::join_all((0..21).map(|i| {
        client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"email": format!("user{i}@example.org"), "password": PASSWORD}))
            .send()
    }))
    .await
    .into_iter()
    .map(|response| response.unwrap().status().as_u16())
    .collect();
    // 503: the hashing queue was full (a slow machine); still not let in, still not limited.
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        limited, 1,
        "the 21st attempt from one address in a burst is refused: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
}

#[sqlx::test]
async fn https_public_url_marks_the_cookie_secure(pool: PgPool) {
    let mut config = config_for(&pool);
    config.server.public_url = "https://notes.example.org".parse().unwrap();
    let app = app(config, pool);
    let response = post_json(
        &app,
        "/api/auth/signup",
        json!({"email": "a@example.org", "password": PASSWORD, "setup_token": SETUP_TOKEN}),
        None,
    )
    .await;
    assert!(
        response
            .headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
}

#[sqlx::test]
async fn jwks_publishes_public_keys_only_with_cache_header(pool: PgPool) {
    let app = app(config_for(&pool), pool.clone());
    let (_, session) = signup(&app, "ada@example.org").await;
    assert_eq!(
        get_as(&app, "/api/auth/token", &session).await.status,
        StatusCode::OK
    );
    for path in ["/.well-known/jwks.json", "/api/auth/keys"] {
        let response = get(&app, path).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(
            response.headers.get("cache-control").unwrap(),
            "public, max-age=300"
        );
        let body = response.json();
        let keys = body["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let key = keys[0].as_object().unwrap();
        let mut fields: Vec<&str> = key.keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(
            fields,
            ["alg", "e", "kid", "kty", "n", "use"],
            "never a private part"
        );
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        let text = String::from_utf8_lossy(&response.body);
        assert!(!text.contains("PRIVATE") && !text.contains("\"d\""));
    }
}

#[sqlx::test]
async fn token_verifies_with_jose_as_powersync_would(pool: PgPool) {
    let config = config_for(&pool);
    let base = serve(app(config.clone(), pool.clone())).await;
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{base}/api/auth/signup"))
        .json(
            &json!({"email": "ada@example.org", "password": PASSWORD, "setup_token": SETUP_TOKEN}),
        )
        .send()
        .await
        .unwrap();
    let session = login.json::<serde_json::Value>().await.unwrap()["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = client
        .get(format!("{base}/api/auth/token"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["endpoint"], "http://localhost:8095");
    assert_eq!(body["powersync_url"], body["endpoint"]);
    let user_id = body["user_id"].as_str().unwrap();
    assert_eq!(user_id, user_id.to_lowercase());
    let again: serde_json::Value = client
        .get(format!("{base}/api/auth/token"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["token"], body["token"],
        "a token signed a moment ago is handed out again"
    );

    let verdicts = node(
        "verify-token.mjs",
        &[
            &format!("{base}/.well-known/jwks.json"),
            "powersync",
            body["token"].as_str().unwrap(),
        ],
    )
    .await;
    let verdict = &verdicts[0];
    assert_eq!(verdict["ok"], true, "{verdict}");
    assert_eq!(verdict["typ"], "JWT");
    assert_eq!(verdict["claims"]["sub"], user_id);
    assert_eq!(verdict["claims"]["aud"], "powersync");
    assert_eq!(verdict["claims"]["iss"], "http://localhost:8080");
    let lifetime =
        verdict["claims"]["exp"].as_i64().unwrap() - verdict["claims"]["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 15 * 60, "powersync.token_ttl default");
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires_at.timestamp(),
        verdict["claims"]["exp"].as_i64().unwrap()
    );

    // The same verifier refuses a token for another audience.
    let wrong = node(
        "verify-token.mjs",
        &[
            &format!("{base}/.well-known/jwks.json"),
            "someone-else",
            body["token"].as_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(wrong[0]["ok"], false);
}

#[sqlx::test]
async fn rotation_overlap_then_retirement(pool: PgPool) {
    let config = config_for(&pool);
    let base = serve(app(config.clone(), pool.clone())).await;
    let jwks_url = format!("{base}/.well-known/jwks.json");
    let user: uuid::Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash) values ('a@example.org', 'x') returning id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let old = tokens::issue(&KeyRing::default(), &pool, &config, user)
        .await
        .unwrap();
    // The first key has been signing for an hour when the admin rotates.
    sqlx::query("update signing_keys set signing_from = now() - interval '1 hour', created_at = now() - interval '1 hour'")
        .execute(&pool)
        .await
        .unwrap();

    // Rotate with a grace period: the new key is published but does not sign yet.
    let rotation = keys::rotate(
        &pool,
        Duration::from_secs(600),
        config.powersync.token_ttl,
        RS256,
    )
    .await
    .unwrap();
    let still_old = tokens::issue(&KeyRing::default(), &pool, &config, user)
        .await
        .unwrap();
    assert_eq!(
        still_old.kid, old.kid,
        "the new key waits for PowerSync to learn it"
    );
    let published: serde_json::Value = reqwest::get(&jwks_url).await.unwrap().json().await.unwrap();
    let kids: Vec<&str> = published["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old.kid.as_str()) && kids.contains(&rotation.kid.as_str()),
        "{kids:?}"
    );

    // Grace over: the new key signs; tokens of both keys verify during the overlap.
    sqlx::query(
        "update signing_keys set signing_from = now() - interval '1 second' where kid = $1",
    )
    .bind(&rotation.kid)
    .execute(&pool)
    .await
    .unwrap();
    let new = tokens::issue(&KeyRing::default(), &pool, &config, user)
        .await
        .unwrap();
    assert_eq!(new.kid, rotation.kid);
    let verdicts = node(
        "verify-token.mjs",
        &[&jwks_url, "powersync", &old.token, &new.token],
    )
    .await;
    assert!(verdicts.iter().all(|v| v["ok"] == true), "{verdicts:?}");
    assert_eq!(verdicts[0]["kid"], old.kid.as_str());
    assert_eq!(verdicts[1]["kid"], rotation.kid.as_str());
    // The server's own verifier (used by uploads) agrees.
    let ring = KeyRing::default();
    assert_eq!(
        tokens::verify(&ring, &pool, &config, &old.token)
            .await
            .unwrap(),
        user
    );
    assert_eq!(
        tokens::verify(&ring, &pool, &config, &new.token)
            .await
            .unwrap(),
        user
    );

    // The old key's retirement time passes: it is gone from the JWKS and its tokens fail.
    sqlx::query(
        "update signing_keys set retire_after = now() - interval '1 second' where kid = $1",
    )
    .bind(&old.kid)
    .execute(&pool)
    .await
    .unwrap();
    let fresh_app = serve(app(config.clone(), pool.clone())).await; // a replica with a cold cache
    let jwks_url = format!("{fresh_app}/.well-known/jwks.json");
    let published: serde_json::Value = reqwest::get(&jwks_url).await.unwrap().json().await.unwrap();
    let kids: Vec<&str> = published["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [rotation.kid.as_str()]);
    let verdicts = node(
        "verify-token.mjs",
        &[&jwks_url, "powersync", &old.token, &new.token],
    )
    .await;
    assert_eq!(verdicts[0]["ok"], false, "{verdicts:?}");
    assert_eq!(verdicts[1]["ok"], true, "{verdicts:?}");
}

#[sqlx::test]
async fn rotation_retires_old_key_after_its_last_token_expires(pool: PgPool) {
    let config = config_for(&pool);
    keys::ensure_signing_key(&pool, RS256).await.unwrap();
    let grace = config.auth.key_rotation_grace;
    let ttl = config.powersync.token_ttl;
    let rotation = keys::rotate(&pool, grace, ttl, RS256).await.unwrap();
    let (retired_kid, retire_at) = &rotation.retired[0];
    assert_ne!(retired_kid, &rotation.kid);
    let expected = rotation.signing_from + ttl + keys::CLOCK_LEEWAY;
    assert!(
        (*retire_at - expected).num_milliseconds().abs() <= 1,
        "{retire_at} vs {expected}"
    );
}

#[sqlx::test]
async fn verify_refuses_foreign_and_tampered_tokens(pool: PgPool) {
    let config = config_for(&pool);
    let user: uuid::Uuid = sqlx::query_scalar(
        "insert into users (email, password_hash) values ('a@example.org', 'x') returning id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let ring = KeyRing::default();
    let issued = tokens::issue(&ring, &pool, &config, user).await.unwrap();
    assert_eq!(
        tokens::verify(&ring, &pool, &config, &issued.token)
            .await
            .unwrap(),
        user
    );

    let mut other = config.clone();
    other.powersync.audience = "another-audience".into();
    assert!(
        tokens::verify(&ring, &pool, &other, &issued.token)
            .await
            .is_err(),
        "audience is checked"
    );

    let (head, rest) = issued.token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    use base64::Engine;
    let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"sub": uuid::Uuid::new_v4().to_string(), "aud": "powersync", "iss": "http://localhost:8080", "iat": 0, "exp": 9999999999i64}).to_string());
    let forged = format!("{head}.{forged_claims}.{signature}");
    assert!(
        tokens::verify(&ring, &pool, &config, &forged)
            .await
            .is_err(),
        "signature is checked"
    );

    // A key-pair nobody published signs a well-formed token: refused.
    let stranger = keys::generate(RS256).unwrap();
    let header = jsonwebtoken::Header {
        kid: Some(stranger.jwk.kid.clone()),
        ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256)
    };
    let encoding =
        jsonwebtoken::EncodingKey::from_rsa_pem(stranger.private_pem.as_bytes()).unwrap();
    let claims = json!({"sub": user.to_string(), "aud": "powersync", "iss": "http://localhost:8080", "iat": chrono::Utc::now().timestamp(), "exp": chrono::Utc::now().timestamp() + 600});
    let unknown = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
    assert!(
        tokens::verify(&ring, &pool, &config, &unknown)
            .await
            .is_err(),
        "unknown kid"
    );
}

#[sqlx::test]
async fn cli_user_and_token_commands(pool: PgPool) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let config: Config = config_for(&pool);
    let bin = env!("CARGO_BIN_EXE_notebox");
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(bin)
            .env_clear()
            .env("NOTEBOX_DATABASE__URL", config.database.url.expose())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    };
    let added = run(
        &[
            "user",
            "add",
            "--email",
            "ops@example.org",
            "--admin",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let generated = run(&["user", "add", "--email", "dev@example.org"], None);
    let out = String::from_utf8(generated.stdout).unwrap();
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password is printed");
    assert!(password.len() >= 20);
    let duplicate = run(
        &[
            "user",
            "add",
            "--email",
            "OPS@example.org",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));

    let app = app(config.clone(), pool.clone());
    assert_eq!(
        send(
            &app,
            login_request("ops@example.org", "a long enough password")
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, login_request("dev@example.org", password))
            .await
            .status,
        StatusCode::OK
    );

    let listed = String::from_utf8(run(&["user", "list"], None).stdout).unwrap();
    assert!(
        listed.contains("ops@example.org") && listed.contains("dev@example.org"),
        "{listed}"
    );

    let token = run(&["token", "--user", "ops@example.org"], None);
    assert!(token.status.success());
    let jwt = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let ring = KeyRing::default();
    let sub = tokens::verify(&ring, &pool, &config, &jwt).await.unwrap();
    let ops_id: uuid::Uuid =
        sqlx::query_scalar("select id from users where email = 'ops@example.org'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(sub, ops_id);

    let changed = run(
        &["user", "passwd", "ops@example.org", "--password-stdin"],
        Some("another long password\n"),
    );
    assert!(changed.status.success());
    assert_eq!(
        send(
            &app,
            login_request("ops@example.org", "a long enough password")
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        run(&["user", "disable", "ops@example.org"], None)
            .status
            .success()
    );
    assert_eq!(
        send(
            &app,
            login_request("ops@example.org", "another long password")
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let missing = run(&["user", "disable", "ghost@example.org"], None);
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no user with email ghost@example.org")
    );

    let rotate = run(&["keys", "rotate"], None);
    assert!(rotate.status.success());
    let listed = String::from_utf8(run(&["keys", "list"], None).stdout).unwrap();
    assert!(
        listed.contains("pending") && listed.contains("retiring"),
        "{listed}"
    );
    let generated = String::from_utf8(run(&["keys", "generate"], None).stdout).unwrap();
    assert!(
        generated.contains("BEGIN PRIVATE KEY")
            && generated.contains("BEGIN PUBLIC KEY")
            && generated.contains("\"kid\"")
            && generated.contains("\"RS256\"")
    );
    let ed25519 =
        String::from_utf8(run(&["keys", "generate", "--algorithm", "EdDSA"], None).stdout).unwrap();
    assert!(
        ed25519.contains("\"OKP\"") && ed25519.contains("\"EdDSA\""),
        "{ed25519}"
    );
    let unknown = run(&["keys", "generate", "--algorithm", "HS256"], None);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("RS256, EdDSA, ES256"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}

/// A session checked a moment ago is trusted for `auth.recheck_after` (saving a round trip
/// per request); a logout here ends it at once; "0s" rechecks every request.
#[sqlx::test]
async fn recently_checked_sessions_and_their_revocation(pool: PgPool) {
    let app = app(config_for(&pool), pool.clone());
    let (_, token) = signup(&app, "ada@example.org").await;
    assert_eq!(
        get_as(&app, "/api/auth/me", &token).await.status,
        StatusCode::OK
    );
    sqlx::query("delete from sessions")
        .execute(&pool)
        .await
        .unwrap(); // revoked elsewhere
    assert_eq!(
        get_as(&app, "/api/auth/me", &token).await.status,
        StatusCode::OK,
        "trusted for recheck_after"
    );
    let logout = post_json(&app, "/api/auth/logout", json!({}), Some(&token)).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get_as(&app, "/api/auth/me", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "logout here is immediate"
    );

    let mut strict = config_for(&pool);
    strict.auth.recheck_after = Duration::ZERO;
    let app = crate::helpers::app(strict, pool.clone());
    let login = send(&app, login_request("ada@example.org", PASSWORD)).await;
    let token = login.json()["session_token"].as_str().unwrap().to_owned();
    assert_eq!(
        get_as(&app, "/api/auth/me", &token).await.status,
        StatusCode::OK
    );
    notebox::auth::users::disable(&pool, "ada@example.org")
        .await
        .unwrap();
    assert_eq!(
        get_as(&app, "/api/auth/me", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "0s: every request rechecks"
    );
}

/// A reused token never outlives a rotation: once the new key signs, /api/auth/token hands
/// out tokens of the new key even though one of the old key was signed a moment ago.
#[sqlx::test]
async fn token_reuse_follows_the_signing_key(pool: PgPool) {
    let state = notebox::app::AppState::new(config_for(&pool), pool.clone());
    let app = notebox::app::router(state.clone());
    crate::helpers::allow_first_signup(&pool).await;
    let (_, session) = signup(&app, "ada@example.org").await;
    let kid = |token: &serde_json::Value| {
        jsonwebtoken::decode_header(token["token"].as_str().unwrap())
            .unwrap()
            .kid
            .unwrap()
    };
    let first = get_as(&app, "/api/auth/token", &session).await.json();
    keys::rotate(&pool, Duration::ZERO, Duration::from_secs(900), RS256)
        .await
        .unwrap();
    state.auth.keys.invalidate().await; // as the 30 s refresh would
    let second = get_as(&app, "/api/auth/token", &session).await.json();
    assert_ne!(kid(&first), kid(&second));
    assert_ne!(first["token"], second["token"]);
}
