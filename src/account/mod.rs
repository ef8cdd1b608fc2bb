//! `/api/account/*`: what a signed-in user changes about their own account — display name,
//! password, and the sessions (devices) logged in to it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::handlers as support;
use crate::auth::users::User;
use crate::auth::{CurrentSession, sessions};
use crate::http::{ApiError, ClientIp, Json};

/// `/api/account…` (nested under `/api`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_profile))
        .routes(routes!(change_password))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ProfileRequest {
    display_name: String,
}

#[utoipa::path(patch, path = "/account", tag = "account", security(("bearer" = []), ("session_cookie" = [])),
    request_body = ProfileRequest,
    responses(
        (status = 200, description = "The account with its new display name", body = User),
        (status = 400, description = "The display name is too long or not text", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
async fn update_profile(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(request): Json<ProfileRequest>,
) -> Result<Json<User>, ApiError> {
    let display_name = support::check_display_name(&request.display_name)?;
    let user: User = sqlx::query_as(
        "update users set display_name = $2 where id = $1
         returning id, email, display_name, is_admin, created_at, disabled_at",
    )
    .bind(session.user.id)
    .bind(&display_name)
    .fetch_one(&state.pool)
    .await?;
    // The cached session carries the user: the next request must see the new name.
    state
        .auth
        .recent_sessions
        .remove(&sessions::hash_token(&session.token));
    tracing::info!(user_id = %user.id, "display name changed");
    Ok(Json(user))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordRequest {
    current_password: String,
    new_password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct PasswordChanged {
    /// How many other sessions were logged out.
    sessions_ended: usize,
}

/// Asks for the current password (a session left open on a shared computer must not be
/// enough to take the account over), then logs out every other session and keeps this one.
#[utoipa::path(post, path = "/account/password", tag = "account", security(("bearer" = []), ("session_cookie" = [])),
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "Changed; every other session of the account ended", body = PasswordChanged),
        (status = 400, description = "The new password is too short or too long", body = crate::http::ErrorBody),
        (status = 403, description = "The current password is wrong, or password login is off", body = crate::http::ErrorBody),
        (status = 429, description = "Too many attempts", body = crate::http::ErrorBody),
        (status = 503, description = "Password hashing is saturated: retry", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: CurrentSession,
    Json(request): Json<PasswordRequest>,
) -> Result<Json<PasswordChanged>, ApiError> {
    crate::auth::oidc::refuse_password_login(&state.config)?;
    let user = &session.user;
    support::rate_limit(&state, "password", ip, &user.email)?;
    support::check_password(&state, &request.new_password)?;
    let hash: String = sqlx::query_scalar("select password_hash from users where id = $1")
        .bind(user.id)
        .fetch_one(&state.pool)
        .await?;
    let matches = state
        .auth
        .hasher
        .verify(request.current_password, hash)
        .await
        .map_err(support::busy)?;
    if !matches {
        return Err(ApiError::Forbidden(
            "the current password is not right".into(),
        ));
    }
    let new_hash = state
        .auth
        .hasher
        .hash(request.new_password)
        .await
        .map_err(support::busy)??;
    let mut tx = crate::db::begin(&state.pool).await?;
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(user.id)
        .bind(&new_hash)
        .execute(&mut *tx)
        .await?;
    let ended: Vec<Vec<u8>> = sqlx::query_scalar(
        "delete from sessions where user_id = $1 and token_hash <> $2 returning token_hash",
    )
    .bind(user.id)
    .bind(sessions::hash_token(&session.token))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    for hash in &ended {
        state.auth.recent_sessions.remove(hash);
    }
    tracing::info!(user_id = %user.id, sessions_ended = ended.len(), "password changed");
    Ok(Json(PasswordChanged {
        sessions_ended: ended.len(),
    }))
}

#[derive(Serialize, sqlx::FromRow, utoipa::ToSchema)]
struct SessionInfo {
    /// Hex of the token's SHA-256: names the session without revealing its token.
    id: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// The session making this request.
    current: bool,
}

#[utoipa::path(get, path = "/account/sessions", tag = "account", security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, description = "Live sessions, this one first", body = Vec<SessionInfo>)))]
#[tracing::instrument(skip_all)]
async fn list_sessions(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<Vec<SessionInfo>>, ApiError> {
    let list = sqlx::query_as(
        "select encode(token_hash, 'hex') as id, created_at, last_seen_at, expires_at,
                token_hash = $2 as current
         from sessions where user_id = $1 and expires_at > now()
         order by (token_hash = $2) desc, last_seen_at desc",
    )
    .bind(session.user.id)
    .bind(sessions::hash_token(&session.token))
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(list))
}

/// Logs one of the user's sessions out (the current one included: that is a logout).
#[utoipa::path(delete, path = "/account/sessions/{id}", tag = "account", security(("bearer" = []), ("session_cookie" = [])),
    params(("id" = String, Path, description = "A session id from the list (hex SHA-256)")),
    responses(
        (status = 204, description = "Logged out"),
        (status = 404, description = "No such live session", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
async fn revoke_session(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let hash = hex_decode(&id).ok_or(ApiError::NotFound)?;
    let deleted = sqlx::query("delete from sessions where user_id = $1 and token_hash = $2")
        .bind(session.user.id)
        .bind(&hash)
        .execute(&state.pool)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(ApiError::Missing(
            "no such session: it has ended already".into(),
        ));
    }
    state.auth.recent_sessions.remove(&hash);
    tracing::info!(user_id = %session.user.id, "session revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// A SHA-256 in hex (64 digits), or None.
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_ids_are_sha256_hex() {
        let hash = crate::auth::sessions::hash_token("t");
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(super::hex_decode(&hex), Some(hash));
        assert_eq!(super::hex_decode("zz"), None);
        assert_eq!(super::hex_decode(&"g".repeat(64)), None);
    }
}
