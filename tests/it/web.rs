//! The embedded UI as the browser fetches it: cache policy, ETag/304, compression (wasm
//! included), the security headers, the SPA fallback, and `/api/*` staying JSON.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use sqlx::PgPool;

use crate::helpers::{app, config_for, get, send};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn header(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn get_with(
    app: &axum::Router,
    path: &str,
    name: header::HeaderName,
    value: &str,
) -> crate::helpers::TestResponse {
    send(
        app,
        Request::get(path)
            .header(name, value)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// The name of the one vendor file matching `prefix…suffix` (names carry content hashes).
fn vendor_file(prefix: &str, suffix: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/vendor");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with(prefix) && name.ends_with(suffix))
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        1,
        "one {prefix}*{suffix} in assets/vendor: {names:?}"
    );
    names.remove(0)
}

#[sqlx::test(migrations = false)]
async fn index_is_revalidated_and_carries_the_security_headers(pool: PgPool) {
    let mut config = config_for(&pool);
    config.powersync.url = url::Url::parse("https://sync.example.com:8443/").unwrap();
    let app = app(config, pool);
    let response = get(&app, "/").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        header(&response.headers, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_eq!(header(&response.headers, header::CACHE_CONTROL), "no-cache");
    let etag = header(&response.headers, header::ETAG);
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "strong ETag: {etag}"
    );
    assert!(
        String::from_utf8_lossy(&response.body)
            .contains("<script type=\"module\" src=\"/app.js\">")
    );

    let csp = header(&response.headers, header::CONTENT_SECURITY_POLICY);
    for directive in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "worker-src 'self'",
        "connect-src 'self' https://sync.example.com:8443",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive:?}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    assert_eq!(
        header(&response.headers, header::X_CONTENT_TYPE_OPTIONS),
        "nosniff"
    );
    assert_eq!(
        header(&response.headers, header::REFERRER_POLICY),
        "no-referrer"
    );
}

#[sqlx::test(migrations = false)]
async fn etag_revalidation_answers_304(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let first = get(&app, "/app.js").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        header(&first.headers, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header(&first.headers, header::CACHE_CONTROL),
        "public, max-age=60, must-revalidate"
    );
    let etag = header(&first.headers, header::ETAG).to_owned();

    let again = get_with(&app, "/app.js", header::IF_NONE_MATCH, &etag).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(header(&again.headers, header::ETAG), etag);

    let listed = get_with(
        &app,
        "/app.js",
        header::IF_NONE_MATCH,
        &format!("\"other\", W/{etag}"),
    )
    .await;
    assert_eq!(listed.status, StatusCode::NOT_MODIFIED);

    let stale = get_with(&app, "/app.js", header::IF_NONE_MATCH, "\"stale\"").await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, first.body);

    // Another file, another ETag.
    let css = get(&app, "/styles.css").await;
    assert_ne!(header(&css.headers, header::ETAG), etag);
    assert_eq!(
        header(&css.headers, header::CONTENT_TYPE),
        "text/css; charset=utf-8"
    );
}

#[sqlx::test(migrations = false)]
async fn hashed_vendor_files_are_immutable_and_the_entry_is_not(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let worker = get(&app, &format!("/vendor/{}", vendor_file("worker-", ".js"))).await;
    assert_eq!(worker.status, StatusCode::OK);
    assert_eq!(header(&worker.headers, header::CACHE_CONTROL), IMMUTABLE);
    // A worker's CSP is the one delivered with its script.
    assert!(worker.headers.contains_key(header::CONTENT_SECURITY_POLICY));

    let entry = get(&app, "/vendor/powersync.js").await;
    assert_eq!(entry.status, StatusCode::OK);
    assert_ne!(header(&entry.headers, header::CACHE_CONTROL), IMMUTABLE);
}

#[sqlx::test(migrations = false)]
async fn wasm_is_served_as_wasm_and_compressed(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let path = format!("/vendor/{}", vendor_file("wa-sqlite-async-", ".wasm"));
    let plain = get(&app, &path).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(
        header(&plain.headers, header::CONTENT_TYPE),
        "application/wasm"
    );
    assert_eq!(header(&plain.headers, header::CACHE_CONTROL), IMMUTABLE);
    assert!(!plain.headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(&plain.body[..4], b"\0asm");

    for encoding in ["br", "gzip"] {
        let packed = get_with(&app, &path, header::ACCEPT_ENCODING, encoding).await;
        assert_eq!(packed.status, StatusCode::OK);
        assert_eq!(header(&packed.headers, header::CONTENT_ENCODING), encoding);
        assert_eq!(
            header(&packed.headers, header::CONTENT_TYPE),
            "application/wasm"
        );
        assert!(header(&packed.headers, header::VARY).contains("accept-encoding"));
        assert!(
            packed.body.len() < plain.body.len() * 3 / 4,
            "{encoding}: {} of {} bytes",
            packed.body.len(),
            plain.body.len()
        );
    }

    let js = get_with(&app, "/app.js", header::ACCEPT_ENCODING, "gzip, br").await;
    assert_eq!(header(&js.headers, header::CONTENT_ENCODING), "br");
}

#[sqlx::test(migrations = false)]
async fn client_routes_fall_back_to_index_but_missing_files_are_404(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let index = get(&app, "/").await;
    for path in [
        "/notes/0b6f3b2e-7d51-4c55-9a43-2f3a4c5d6e7f",
        "/login",
        "/some/deep/route/",
    ] {
        let response = get(&app, path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.body, index.body, "{path}");
        assert_eq!(
            header(&response.headers, header::CACHE_CONTROL),
            "no-cache",
            "{path}"
        );
    }
    for path in [
        "/missing.js",
        "/vendor/missing-abcdefgh.wasm",
        "/favicon.ico",
        "/../Cargo.toml",
        "/vendor/../../Cargo.toml",
    ] {
        let response = get(&app, path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            !String::from_utf8_lossy(&response.body).contains("<html"),
            "{path}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn api_paths_are_never_the_ui(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    for path in ["/api/nope", "/api/notes/123", "/api/"] {
        let response = get(&app, path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            header(&response.headers, header::CONTENT_TYPE),
            "application/json",
            "{path}"
        );
        assert_eq!(response.json()["error"]["code"], "not_found", "{path}");
    }
    let post = send(
        &app,
        Request::post("/api/nope").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert_eq!(post.json()["error"]["code"], "not_found");
}

#[sqlx::test(migrations = false)]
async fn head_works_and_other_methods_are_refused(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let head = send(
        &app,
        Request::head("/styles.css").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert!(head.headers.contains_key(header::ETAG));

    let post = send(
        &app,
        Request::post("/index.html").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&post.headers, header::ALLOW), "GET, HEAD");
}

#[sqlx::test(migrations = false)]
async fn service_worker_lists_every_ui_file_and_is_revalidated(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let response = get(&app, "/sw.js").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        header(&response.headers, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&response.headers, header::CACHE_CONTROL), "no-cache");
    let body = String::from_utf8(response.body.clone()).unwrap();
    assert!(!body.contains("__NOTEBOX_"), "placeholders filled in");
    let wasm = vendor_file("wa-sqlite-async-", ".wasm");
    for path in [
        "\"/\"",
        "\"/app.js\"",
        "\"/styles.css\"",
        "\"/vendor/powersync.js\"",
    ] {
        assert!(body.contains(path), "precaches {path}");
    }
    assert!(
        body.contains(&format!("\"/vendor/{wasm}\"")),
        "precaches the wasm"
    );
    assert!(!body.contains("\"/sw.js\"") && !body.contains("\"/index.html\""));

    let etag = header(&response.headers, header::ETAG).to_owned();
    let again = get_with(&app, "/sw.js", header::IF_NONE_MATCH, &etag).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

/// The page names every module it loads, so the browser fetches them all at once instead
/// of one level of imports after another; not the service worker, nor what only the
/// database's worker loads.
#[sqlx::test]
async fn the_page_preloads_every_module_it_loads(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    for path in [
        "/",
        "/index.html",
        "/notes/0c3f5a3e-9d6b-4a53-9a43-2f0c1d3b6e11",
    ] {
        let response = get(&app, path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        let body = String::from_utf8(response.body.clone()).unwrap();
        assert!(
            !body.contains("notebox fills in"),
            "{path}: placeholder filled in"
        );
        let preloads: Vec<&str> = body
            .split("<link rel=\"modulepreload\" href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        let entry = format!("/vendor/{}", vendor_file("entry-", ".js"));
        for module in [
            "/note-list.js",
            "/notes-view.js",
            "/db.js",
            "/vendor/powersync.js",
            &entry,
        ] {
            assert!(
                preloads.contains(&module),
                "{path}: preloads {module}: {preloads:?}"
            );
        }
        let worker = format!("/vendor/{}", vendor_file("worker-", ".js"));
        for module in ["/sw.js", "/app.js", worker.as_str()] {
            assert!(
                !preloads.contains(&module),
                "{path}: does not preload {module}"
            );
        }
        // Every module of ours (the whole static import graph of app.js) is there.
        let ours = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/assets"))
            .unwrap()
            .flatten()
            .filter_map(|file| file.file_name().into_string().ok())
            .filter(|name| name.ends_with(".js") && name != "sw.js" && name != "app.js")
            .count();
        assert_eq!(
            preloads
                .iter()
                .filter(|p| !p.starts_with("/vendor/"))
                .count(),
            ours
        );
    }
}
