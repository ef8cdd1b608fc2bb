//! `/api/admin/*`: what an admin manages from the admin page — people, the sign-up policy,
//! the signing keys, and a read-only `notebox check`. Every route needs an admin session
//! (the CSRF rules of any cookie session apply), and every change is logged with the admin
//! who made it.

mod server;
mod users;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use server::signup_policy;

use crate::app::AppState;
use crate::auth::CurrentSession;
use crate::auth::users::User;
use crate::http::ApiError;

/// `/api/admin…` (nested under `/api`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::disable))
        .routes(routes!(users::enable))
        .routes(routes!(users::reset_password))
        .routes(routes!(server::settings, server::update_settings))
        .routes(routes!(server::keys))
        .routes(routes!(server::rotate_key))
        .routes(routes!(server::check))
}

/// A session of an admin; anyone else gets 403.
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = CurrentSession::from_request_parts(parts, state).await?;
        if !session.user.is_admin {
            return Err(ApiError::Forbidden(
                "only an admin can do this: ask one of this server's admins".into(),
            ));
        }
        Ok(Admin(session.user))
    }
}
