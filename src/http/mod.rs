//! The HTTP edge: the error envelope, the JSON extractor, the metrics middleware and the
//! server loop with graceful shutdown. Feature modules use it; it uses none of them.

mod client_ip;
mod envelope;
mod error;
mod json;
mod metrics;
pub mod openapi;
mod serve;

pub use client_ip::{ClientIp, TrustedProxies};
pub use envelope::api_envelope;
pub use error::ApiError;
pub use json::Json;
pub use metrics::{Metrics, metrics_response, track};
pub use openapi::{ErrorBody, ErrorDetail};
pub use serve::{ServeOptions, serve};

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
