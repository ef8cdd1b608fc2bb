//! Every `/api` answer is the JSON error envelope, also the ones no handler wrote: axum's
//! 405, the timeout layer's 408, a body limit's 413, oversized headers' 431. Clients (the
//! PowerSync connector, the web UI) read `error.message` and show it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::ErrorBody;

/// Request headers accepted on `/api`, in total (hyper's own limits are far larger and answer
/// without a body).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
pub const MAX_HEADERS: usize = 100;

pub async fn api_envelope(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path != "/api" && !path.starts_with("/api/") {
        return next.run(request).await;
    }
    if too_large(request.headers()) {
        return envelope(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            &format!(
                "the request headers are larger than this server accepts ({MAX_HEADERS} headers, {} KiB in all)",
                MAX_HEADER_BYTES / 1024
            ),
        );
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not accept this method (see the Allow header)",
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long; try again"),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than this server accepts",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            "headers_too_large",
            "the request headers are larger than this server accepts",
        ),
        _ if status.is_server_error() => ("internal", "internal error"),
        _ => (
            "bad_request",
            status.canonical_reason().unwrap_or("bad request"),
        ),
    };
    let (mut parts, _) = response.into_parts();
    let body =
        serde_json::to_string(&ErrorBody::new(code, message)).expect("an error body serializes");
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

fn too_large(headers: &HeaderMap) -> bool {
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES
}

fn envelope(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::to_string(&ErrorBody::new(code, message)).expect("an error body serializes");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("a valid response")
}
