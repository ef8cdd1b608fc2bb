//! The HTTP server: state, router, error envelope, graceful shutdown.

mod error;
mod health;
mod json;
mod metrics;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::routing::get;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{self, AuthState};
use crate::config::Config;
use crate::upload::{self, UploadState};

pub use error::{ApiError, is_transient};
pub use json::Json;
pub use metrics::Metrics;

/// Longest any request may run before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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

/// Serves until `shutdown` resolves, then lets in-flight requests finish for at most
/// `grace` before returning anyway.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut graceful_rx = stop_rx.clone();
    // Without TCP_NODELAY, Nagle holds back the tail of a multi-segment response (or a
    // client's request) until the peer's delayed ACK: milliseconds per large upload.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = graceful_rx.wait_for(|stop| *stop).await;
        tracing::info!("shutting down: finishing in-flight requests");
    });
    tokio::select! {
        result = server => result,
        _ = async {
            let _ = stop_rx.wait_for(|stop| *stop).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace = ?grace, "in-flight requests did not finish in time; stopping anyway");
            Ok(())
        }
    }
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
