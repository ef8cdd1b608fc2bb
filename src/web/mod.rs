//! The embedded web UI: `assets/` served from the binary (rust-embed reads the folder from
//! disk in debug builds and embeds it in release builds).
//!
//! Every path that no other route claims lands here. Files are served with a strong ETag,
//! a cache policy that fits how they are named (see [`policy`]), compression for text and
//! wasm, and a Content-Security-Policy that lets the PowerSync SDK's workers and wasm run
//! and talk to exactly two origins: ours and the PowerSync service's. Paths without a file
//! extension are client-side routes and get `index.html`; `/api/*` is never ours.

mod policy;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use tower_http::compression::CompressionLayer;

use crate::http::{ApiError, AppState};

pub use policy::content_security_policy;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The page every client-side route answers with.
const INDEX: &str = "index.html";

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

    let Some((name, file)) = lookup(path) else {
        let response = (StatusCode::NOT_FOUND, "Not found").into_response();
        return with_headers(response, security);
    };

    let etag = policy::etag(&file.metadata.sha256_hash());
    let mut response = if policy::none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        let mut response = StatusCode::OK.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(file.data.len()));
        response
    } else {
        Response::new(Body::from(file.data))
    };
    let out = response.headers_mut();
    out.insert(header::ETAG, etag);
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(policy::cache_control(&name)),
    );
    if response.status() != StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            policy::content_type(file.metadata.mimetype()),
        );
    }
    with_headers(response, security)
}

/// The asset for a request path: the file itself, or `index.html` for an extension-less
/// path (a client-side route). A missing file with an extension is a 404, so a typo'd
/// script never comes back as HTML.
fn lookup(path: &str) -> Option<(String, rust_embed::EmbeddedFile)> {
    let relative = path.trim_start_matches('/');
    if relative
        .split('/')
        .any(|segment| segment == ".." || segment.contains('\\'))
    {
        return None;
    }
    let relative = if relative.is_empty() || relative.ends_with('/') {
        INDEX.to_owned()
    } else {
        relative.to_owned()
    };
    if let Some(file) = Assets::get(&relative) {
        return Some((relative, file));
    }
    let last = relative.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return None;
    }
    Assets::get(INDEX).map(|file| (INDEX.to_owned(), file))
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
