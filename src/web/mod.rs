//! The embedded web UI: `assets/` served from the binary (rust-embed reads the folder from
//! disk in debug builds and embeds it in release builds).
//!
//! Every path that no other route claims lands here. Files are served with a strong ETag,
//! a cache policy that fits how they are named (see [`policy`]), compression for text and
//! wasm, and a Content-Security-Policy that lets the PowerSync SDK's workers and wasm run
//! and talk to exactly two origins: ours and the PowerSync service's. Paths without a file
//! extension are client-side routes and get `index.html`; `/api/*` is never ours.

mod policy;

use std::borrow::Cow;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;

use crate::app::AppState;
use crate::http::ApiError;

pub use policy::content_security_policy;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The page every client-side route answers with.
const INDEX: &str = "index.html";
/// Served with the precache list filled in (see [`build_service_worker`]).
const SERVICE_WORKER: &str = "sw.js";

pub fn routes() -> Router<AppState> {
    Router::new()
        .fallback(serve)
        // Default levels: gzip 6, brotli 4. Compresses text, JSON, SVG and wasm; skips
        // images that are already compressed and anything under 32 bytes.
        .layer(CompressionLayer::new())
}

async fn serve(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::NotFound.into_response();
    }
    let security = policy::security_headers(&state.config);
    if method != Method::GET && method != Method::HEAD {
        let mut response = (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return with_headers(response, security);
    }

    let Some(asset) = (if path == "/sw.js" {
        built(&SERVICE_WORKER_BUILT, build_service_worker)
    } else {
        lookup(path)
    }) else {
        let response = (StatusCode::NOT_FOUND, "Not found").into_response();
        return with_headers(response, security);
    };

    let etag = policy::etag(&asset.sha256);
    let mut response = if policy::none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        let mut response = StatusCode::OK.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(asset.data.len()));
        response
    } else {
        Response::new(Body::from(asset.data))
    };
    let out = response.headers_mut();
    out.insert(header::ETAG, etag);
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(policy::cache_control(&asset.name)),
    );
    if response.status() != StatusCode::NOT_MODIFIED {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, policy::content_type(&asset.mime));
    }
    with_headers(response, security)
}

/// A file to answer with: its name in `assets/`, bytes, SHA-256 and media type.
#[derive(Clone)]
struct Asset {
    name: String,
    data: Cow<'static, [u8]>,
    sha256: [u8; 32],
    mime: String,
}

impl Asset {
    /// The same file with the body notebox filled in.
    fn with_body(self, body: Vec<u8>) -> Self {
        Self {
            sha256: Sha256::digest(&body).into(),
            data: Cow::Owned(body),
            ..self
        }
    }

    fn embedded(name: &str) -> Option<Self> {
        let file = Assets::get(name)?;
        Some(Self {
            name: name.to_owned(),
            sha256: file.metadata.sha256_hash(),
            mime: file.metadata.mimetype().to_owned(),
            data: file.data,
        })
    }
}

/// The asset for a request path: the file itself, or `index.html` for an extension-less
/// path (a client-side route). A missing file with an extension is a 404, so a typo'd
/// script never comes back as HTML.
fn lookup(path: &str) -> Option<Asset> {
    let relative = path.trim_start_matches('/');
    if relative
        .split('/')
        .any(|segment| segment == ".." || segment.contains('\\'))
    {
        return None;
    }
    let page = || built(&PAGE_BUILT, build_page);
    if relative.is_empty() || relative.ends_with('/') || relative == INDEX {
        return page();
    }
    if let Some(asset) = Asset::embedded(relative) {
        return Some(asset);
    }
    let last = relative.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return None;
    }
    page()
}

static PAGE_BUILT: OnceLock<Option<Asset>> = OnceLock::new();
static SERVICE_WORKER_BUILT: OnceLock<Option<Asset>> = OnceLock::new();

/// A file notebox fills in from the others: built once per process in release builds (the
/// files are embedded and cannot change); debug builds read `assets/` from disk, so there it
/// is built per request.
fn built(cell: &'static OnceLock<Option<Asset>>, build: fn() -> Option<Asset>) -> Option<Asset> {
    if cfg!(debug_assertions) {
        return build();
    }
    cell.get_or_init(build).clone()
}

/// Where `index.html` takes the module preload links.
const PRELOADS: &str = "  <!-- notebox fills in here a modulepreload link for every module the app loads (src/web/mod.rs) -->\n";

/// `index.html` with a `modulepreload` link for every module the page loads, so the browser
/// fetches them all at once instead of one level of imports after another. (10,000-note
/// bench, the first reload through the service worker: the scripts ran after 546–609 ms
/// instead of 886 ms.)
fn build_page() -> Option<Asset> {
    let template = Asset::embedded(INDEX)?;
    let mut names: Vec<String> = Assets::iter()
        .map(|name| name.into_owned())
        .filter(|name| preloaded(name))
        .collect();
    names.sort();
    let links: String = names
        .iter()
        .map(|name| format!("  <link rel=\"modulepreload\" href=\"/{name}\">\n"))
        .collect();
    let body = String::from_utf8_lossy(&template.data).replace(PRELOADS, &links);
    Some(template.with_body(body.into_bytes()))
}

/// The modules the page itself loads: ours (the app is one static import graph from
/// `app.js`; `sw.js` runs in the service worker) and, of the vendor files, the bundles
/// imported by name (the PowerSync SDK, Markdown, zip) and the SDK's main-thread chunk.
/// The database's chunks and wasm load in the SDK's worker, not here.
fn preloaded(name: &str) -> bool {
    if !name.ends_with(".js") || name == SERVICE_WORKER || name == "app.js" {
        return false;
    }
    match name.strip_prefix("vendor/") {
        None => true,
        Some(file) => !file.contains('-') || file.starts_with("entry-"),
    }
}

/// Vendor files the app never loads, by name: the WebSocket transport (notebox syncs over
/// HTTP streaming), the synchronous SQLite build (the database is the async build on
/// IndexedDB) and the OPFS / memory / access-handle file systems.
const NEVER_LOADED: &[&str] = &[
    "vendor/websockets-",
    "vendor/OPFS",
    "vendor/AccessHandlePoolVFS-",
    "vendor/MemoryVFS-",
];

/// Whether the service worker precaches `name`: every file the app loads, and only those.
/// Besides [`NEVER_LOADED`], the SDK's main-thread copies of the database chunks (they
/// import `./entry-…`, where the worker's copies import `./worker-…`) stay out: the
/// database runs in the SDK's worker.
fn precached(name: &str, data: &[u8]) -> bool {
    if name == SERVICE_WORKER || NEVER_LOADED.iter().any(|prefix| name.starts_with(prefix)) {
        return false;
    }
    let Some(file) = name.strip_prefix("vendor/") else {
        return true;
    };
    if file.starts_with("wa-sqlite-") && !file.starts_with("wa-sqlite-async-") {
        return false;
    }
    let chunk = file.ends_with(".js") && file != "powersync.js" && !file.starts_with("entry-");
    !(chunk && contains(data, b"./entry-"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// `sw.js` with the list of UI files to precache (see [`precached`]) and a version derived
/// from their content, so each release installs a fresh cache and the app opens offline.
fn build_service_worker() -> Option<Asset> {
    let template = Asset::embedded(SERVICE_WORKER)?;
    let mut names: Vec<String> = Assets::iter().map(|name| name.into_owned()).collect();
    names.sort();
    let mut version = Sha256::new();
    version.update(template.sha256);
    let mut precache = Vec::with_capacity(names.len());
    for name in names {
        let Some(file) = Assets::get(&name) else {
            continue;
        };
        if !precached(&name, &file.data) {
            continue;
        }
        version.update(name.as_bytes());
        version.update(file.metadata.sha256_hash());
        precache.push(if name == INDEX {
            "/".to_owned()
        } else {
            format!("/{name}")
        });
    }
    let version = URL_SAFE_NO_PAD.encode(&version.finalize()[..12]);
    let precache = serde_json::to_string(&precache).ok()?;
    let body = String::from_utf8_lossy(&template.data)
        .replace("'__NOTEBOX_VERSION__'", &format!("'{version}'"))
        .replace("['__NOTEBOX_PRECACHE__']", &precache)
        .into_bytes();
    Some(template.with_body(body))
}

fn with_headers(
    mut response: Response,
    security: Vec<(header::HeaderName, HeaderValue)>,
) -> Response {
    let headers = response.headers_mut();
    for (name, value) in security {
        headers.insert(name, value);
    }
    response
}
