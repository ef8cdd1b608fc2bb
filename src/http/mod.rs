//! The HTTP server: state, router, error envelope, graceful shutdown.

mod client_ip;
mod envelope;
mod error;
mod health;
mod json;
mod metrics;
mod serve;

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
use crate::upload::{self, UploadState};

pub use client_ip::ClientIp;
pub use error::{ApiError, is_transient};
pub use json::Json;
pub use metrics::Metrics;
pub use serve::{ServeOptions, serve};

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub auth: Arc<AuthState>,
    pub upload: Arc<UploadState>,
    pub metrics: Arc<Metrics>,
    /// Outbound HTTP (PowerSync probes).
    pub http_client: reqwest::Client,
}

impl AppState {
    pub fn new(config: Config, pool: PgPool) -> Self {
        Self {
            auth: Arc::new(AuthState::new(
                config.auth.recheck_after,
                config.powersync.token_ttl,
            )),
            config: Arc::new(config),
            pool,
            upload: Arc::default(),
            metrics: Arc::default(),
            http_client: reqwest::Client::new(),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::api_routes())
        .merge(upload::routes())
        .fallback(|| async { ApiError::NotFound });
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::serve_metrics))
        .merge(auth::jwks_route())
        .nest("/api", api)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .merge(crate::web::routes())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn(envelope::api_envelope))
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

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
