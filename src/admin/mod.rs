//! `/api/admin/*`: what an admin manages from the admin page — people, the sign-up policy,
//! the signing keys, and a read-only `notebox check`. Every route needs an admin session
//! (the CSRF rules of any cookie session apply), and every change is logged with the admin
//! who made it.

mod server;
mod users;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};

pub use server::signup_policy;

use crate::app::AppState;
use crate::auth::CurrentSession;
use crate::auth::users::User;
use crate::http::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/{id}/disable", post(users::disable))
        .route("/admin/users/{id}/enable", post(users::enable))
        .route("/admin/users/{id}/password", post(users::reset_password))
        .route(
            "/admin/settings",
            get(server::settings).put(server::update_settings),
        )
        .route("/admin/keys", get(server::keys))
        .route("/admin/keys/rotate", post(server::rotate_key))
        .route("/admin/check", get(server::check))
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
