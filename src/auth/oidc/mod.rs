//! Single sign-on through the team's OpenID Connect provider (`[auth.oidc]`).

mod accounts;
mod checks;
mod failure;
mod flow;
mod provider;
mod verify;

use axum::extract::State;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use checks::checks;
pub use provider::{Provider, redirect_uri};

use crate::app::AppState;
use crate::config::Config;
use crate::http::{ApiError, Json};

/// `/api/auth/oidc*` (nested under `/api`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(settings))
        .routes(routes!(flow::login))
        .routes(routes!(flow::callback))
}

/// What the login screen needs to know: whether to offer the provider, and passwords.
#[derive(Serialize, utoipa::ToSchema)]
struct Settings {
    /// `None`: single sign-on is off.
    button_label: Option<String>,
    login_url: Option<&'static str>,
    password_login: bool,
}

#[utoipa::path(get, path = "/auth/oidc", tag = "auth", responses((status = 200, body = Settings)))]
#[tracing::instrument(skip_all)]
async fn settings(State(state): State<AppState>) -> Json<Settings> {
    let oidc = state.config.auth.oidc.as_ref();
    Json(Settings {
        button_label: oidc.map(|o| o.button_label.clone()),
        login_url: oidc.map(|_| "/api/auth/oidc/login"),
        password_login: oidc.is_none_or(|o| o.password_login),
    })
}

/// Refuses password login and sign-up when `auth.oidc.password_login` is off.
pub fn refuse_password_login(config: &Config) -> Result<(), ApiError> {
    match &config.auth.oidc {
        Some(oidc) if !oidc.password_login => Err(ApiError::Forbidden(format!(
            "password login is turned off on this server: sign in with {}",
            oidc.button_label
        ))),
        _ => Ok(()),
    }
}

/// An error and its causes on one line (openidconnect's errors keep the detail in sources).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
