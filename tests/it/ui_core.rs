//! What the web UI leans on to never lose typing: sessions in use slide their expiry (and the
//! browser's cookie follows), refusals dismissed on one device are gone on every device, and
//! the service worker precaches what the app loads and nothing more, with an installable
//! manifest.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{app, config_for, get, get_as, post_json};
use crate::upload::{fixture, new_id, put};

async fn expires_in(pool: &PgPool, token: &str) -> i64 {
    sqlx::query_scalar(
        "select extract(epoch from expires_at - now())::bigint from sessions where token_hash = $1",
    )
    .bind(notebox::auth::sessions::hash_token(token))
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn set_expires_in(pool: &PgPool, token: &str, seconds: i64) {
    sqlx::query("update sessions set expires_at = now() + $2 * interval '1 second', last_seen_at = now() - interval '1 hour' where token_hash = $1")
        .bind(notebox::auth::sessions::hash_token(token))
        .bind(seconds as f64)
        .execute(pool)
        .await
        .unwrap();
}

#[sqlx::test]
async fn a_session_in_use_past_half_its_life_is_renewed(pool: PgPool) {
    let mut config = config_for(&pool);
    config.auth.session_ttl = Duration::from_secs(30 * 24 * 3600);
    let ttl = config.auth.session_ttl.as_secs() as i64;
    let f = fixture(pool.clone(), config).await;
    let (_, alice) = &f.alice;
    let (_, bob) = &f.bob;

    // Alice has used hers for 20 of 30 days (10 left): the next check renews it to 30 days.
    set_expires_in(&pool, alice, 10 * 24 * 3600).await;
    let response = get_as(&f.app, "/api/auth/token", alice).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
    let left = expires_in(&pool, alice).await;
    assert!(
        (ttl - 60..=ttl).contains(&left),
        "renewed to the full ttl: {left}"
    );

    // Bob's is 5 days old (25 left): not renewed, so a busy session is not written per request.
    set_expires_in(&pool, bob, 25 * 24 * 3600).await;
    assert_eq!(
        get_as(&f.app, "/api/auth/token", bob).await.status,
        StatusCode::OK
    );
    let left = expires_in(&pool, bob).await;
    assert!(
        (25 * 24 * 3600 - 60..=25 * 24 * 3600).contains(&left),
        "left alone: {left}"
    );

    // An expired session is never revived.
    set_expires_in(&pool, bob, -5).await;
    assert_eq!(
        get_as(&f.app, "/api/auth/token", bob).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(expires_in(&pool, bob).await < 0);
}

#[sqlx::test]
async fn the_token_request_carries_the_renewed_cookie(pool: PgPool) {
    let mut config = config_for(&pool);
    config.auth.session_ttl = Duration::from_secs(3600);
    let f = fixture(pool.clone(), config).await;
    let (_, alice) = &f.alice;
    set_expires_in(&pool, alice, 600).await;
    let response = crate::helpers::send(
        &f.app,
        Request::get("/api/auth/token")
            .header(header::COOKIE, format!("notebox_session={alice}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK);
    let cookie = response.headers[header::SET_COOKIE].to_str().unwrap();
    let max_age: i64 = cookie
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Max-Age="))
        .expect("a Max-Age")
        .parse()
        .unwrap();
    assert!(cookie.starts_with(&format!("notebox_session={alice};")));
    assert!(
        (3500..=3600).contains(&max_age),
        "cookie follows the renewal: {cookie}"
    );

    // A bearer caller (a native app) gets no cookie.
    let response = get_as(&f.app, "/api/auth/token", alice).await;
    assert!(!response.headers.contains_key(header::SET_COOKIE));
}

#[sqlx::test]
async fn dismissed_refusals_are_deleted_for_every_device(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let (_, bob) = &f.bob;
    for session in [alice, bob] {
        let body = json!({"transactions": [{"crud": [put(&new_id(), 1, json!({"title": "x".repeat(1001)}))]}]});
        assert_eq!(f.upload(session, body).await.status, StatusCode::OK);
    }
    let ids: Vec<(uuid::Uuid, String)> = sqlx::query_as(
        "select r.id, u.email from upload_rejections r join users u on u.id = r.owner_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(ids.len(), 2);
    let all: Vec<String> = ids.iter().map(|(id, _)| id.to_string()).collect();

    // Alice dismisses both ids: only her own goes.
    let response = post_json(
        &f.app,
        "/api/data/rejections/dismiss",
        json!({"ids": all}),
        Some(alice),
    )
    .await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
    assert_eq!(response.json()["dismissed"], 1);
    let left: Vec<String> = sqlx::query_scalar(
        "select u.email from upload_rejections r join users u on u.id = r.owner_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(left, ["bob@example.org"]);

    let response = post_json(
        &f.app,
        "/api/data/rejections/dismiss",
        json!({"ids": all}),
        None,
    )
    .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn the_service_worker_precaches_only_what_the_app_loads(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let body = String::from_utf8(get(&app, "/sw.js").await.body).unwrap();
    let start =
        body.find("const PRECACHE = [").expect("a precache list") + "const PRECACHE = ".len();
    let end = start + body[start..].find(']').unwrap() + 1;
    let list: Vec<String> = serde_json::from_str(&body[start..end]).unwrap();
    for wanted in [
        "/",
        "/app.js",
        "/manifest.webmanifest",
        "/icon-192.png",
        "/vendor/powersync.js",
    ] {
        assert!(
            list.iter().any(|p| p == wanted),
            "precaches {wanted}: {list:?}"
        );
    }
    let has = |prefix: &str| list.iter().any(|p| p.starts_with(prefix));
    assert!(
        has("/vendor/wa-sqlite-async-")
            && has("/vendor/worker-")
            && has("/vendor/IDBBatchAtomicVFS-")
    );
    for never in [
        "/vendor/websockets-",
        "/vendor/OPFS",
        "/vendor/MemoryVFS-",
        "/vendor/AccessHandlePoolVFS-",
    ] {
        assert!(!has(never), "does not precache {never}*: {list:?}");
    }
    assert!(
        !list
            .iter()
            .any(|p| p.starts_with("/vendor/wa-sqlite-")
                && !p.starts_with("/vendor/wa-sqlite-async-")),
        "not the synchronous SQLite build: {list:?}"
    );
    // One copy of each database chunk: the worker's.
    assert_eq!(
        list.iter()
            .filter(|p| p.starts_with("/vendor/IDBBatchAtomicVFS-"))
            .count(),
        1
    );
    assert_eq!(
        list.iter()
            .filter(|p| p.starts_with("/vendor/FacadeVFS-"))
            .count(),
        1
    );

    // Every listed file exists, and the precache stays well under the full asset set.
    let mut bytes = 0;
    for path in &list {
        let response = get(&app, path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        bytes += response.body.len();
    }
    assert!(bytes < 3_000_000, "precache is {bytes} bytes");
}

#[sqlx::test(migrations = false)]
async fn the_manifest_makes_the_app_installable(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let response = get(&app, "/manifest.webmanifest").await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        response.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/manifest+json")
    );
    let manifest = response.json();
    assert_eq!(manifest["start_url"], "/");
    assert_eq!(manifest["display"], "standalone");
    let icons = manifest["icons"].as_array().unwrap();
    for size in ["192x192", "512x512"] {
        let icon = icons
            .iter()
            .find(|i| i["sizes"] == size && i["type"] == "image/png")
            .expect(size);
        let png = get(&app, icon["src"].as_str().unwrap()).await;
        assert_eq!(png.status, StatusCode::OK);
        assert_eq!(&png.body[1..4], b"PNG");
    }
    assert!(icons.iter().any(|i| i["purpose"] == "maskable"));
    let index = String::from_utf8(get(&app, "/").await.body).unwrap();
    assert!(index.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\">"));
}
