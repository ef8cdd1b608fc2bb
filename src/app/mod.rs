//! The application: its state and its router, which mounts every feature's routes.

mod health;
mod openapi;

pub use openapi::openapi;

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::routing::get;
use sqlx::PgPool;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{self, AuthState};
use crate::config::{Config, REQUEST_TIMEOUT};
use crate::http::{self, Metrics};
use crate::schema::SyncSchema;
use crate::upload::UploadState;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    /// `server.trusted_proxies`, shared with the client-address extractor.
    pub trusted_proxies: http::TrustedProxies,
    /// Which tables sync and who may write them (validated with the config).
    pub schema: Arc<SyncSchema>,
    pub auth: Arc<AuthState>,
    pub upload: Arc<UploadState>,
    pub metrics: Arc<Metrics>,
    /// Outbound HTTP (PowerSync probes).
    pub http_client: reqwest::Client,
}

impl AppState {
    /// `config` must have passed validation (`Config::load` does that).
    pub fn new(config: Config, pool: PgPool) -> Self {
        let schema = SyncSchema::new(&config).expect("a validated config has a valid sync schema");
        Self {
            trusted_proxies: http::TrustedProxies(Arc::new(config.server.trusted_proxies.clone())),
            schema: Arc::new(schema),
            auth: Arc::new(AuthState::new(
                config.auth.recheck_after,
                config.powersync.token_ttl,
            )),
            config: Arc::new(config),
            pool,
            upload: UploadState::new(),
            metrics: Arc::default(),
            http_client: reqwest::Client::new(),
        }
    }
}

impl axum::extract::FromRef<AppState> for http::TrustedProxies {
    fn from_ref(state: &AppState) -> Self {
        state.trusted_proxies.clone()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .merge(auth::jwks_route())
        .merge(openapi::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            http::track,
        ))
        .merge(crate::web::routes())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn(http::api_envelope))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or(request.uri().path(), MatchedPath::as_str);
                tracing::info_span!("request", method = %request.method(), route = %route)
            }),
        )
        .with_state(state)
}
