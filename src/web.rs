//! The embedded web UI (`assets/`), served from the binary.
//! Placeholder: answers index.html for every non-API path until the UI lands.

use axum::Router;
use axum::response::Html;

use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().fallback(|| async { Html("<!doctype html><title>notebox</title><p>notebox") })
}
