//! Every `/api` route and its OpenAPI 3.1 document, built together: a route is registered
//! through `OpenApiRouter::routes(routes!(handler))` from the handler's `#[utoipa::path]`,
//! so what is served and what is documented cannot drift. A plain `.route(…)` under `/api`
//! would be served undocumented: tests/it/openapi.rs fails when one is.
//!
//! To add a route: annotate the handler with `#[utoipa::path(method, path = "/relative",
//! tag = …, security(("bearer" = []), ("session_cookie" = [])), responses(…))]` (every
//! status it can return, error bodies as `crate::http::ErrorBody`), derive `ToSchema` on its
//! request and response types, and register it in its module's `routes()` with
//! `.routes(routes!(handler))`. The edge's own answers (401/503 of the session check,
//! CSRF 403/415, JSON-body 400/413/415, 408, 431) are added by `http::openapi::finish`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::http::{self, ApiError};

#[derive(utoipa::OpenApi)]
#[openapi(info(
    title = "notebox",
    description = "The HTTP API of notebox: accounts and sessions, PowerSync tokens, the \
                   upload endpoint, shared notebooks and invitations, the trash and note history."
))]
struct ApiDoc;

/// The `/api` router with its document, before the edge's answers are added.
fn api() -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::new()
        .routes(routes!(document))
        .merge(crate::auth::api_routes())
        .merge(crate::upload::routes())
        .merge(crate::notebooks::routes())
        .merge(crate::notes::routes())
        .merge(crate::account::routes())
        .merge(crate::admin::routes())
        .fallback(|| async { ApiError::NotFound });
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api", api)
}

/// The `/api` routes (paths include `/api`), serving their own document at
/// `/api/openapi.json`.
pub fn routes() -> Router<AppState> {
    let (router, doc) = split();
    let json = Bytes::from(doc.to_json().expect("the OpenAPI document serializes"));
    router.layer(Extension(Document(json)))
}

/// The OpenAPI document of every `/api` route.
pub fn openapi() -> OpenApi {
    split().1
}

fn split() -> (Router<AppState>, OpenApi) {
    let (router, mut doc) = api().split_for_parts();
    http::openapi::finish(&mut doc);
    (router, doc)
}

#[derive(Clone)]
struct Document(Bytes);

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of every `/api` route", body = Object))
)]
async fn document(Extension(Document(json)): Extension<Document>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}
