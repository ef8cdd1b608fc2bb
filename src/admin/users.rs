//! People: list, create, disable and enable, and a new one-time password.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Admin;
use crate::app::AppState;
use crate::auth::handlers::{busy, check_display_name, check_password};
use crate::auth::normalize_email;
use crate::http::{ApiError, Json};

/// A person as the admin page lists them.
#[derive(Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Account {
    id: Uuid,
    email: String,
    display_name: String,
    is_admin: bool,
    created_at: DateTime<Utc>,
    last_seen_at: Option<DateTime<Utc>>,
    disabled_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, email, display_name, is_admin, created_at, last_seen_at, disabled_at";

#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Every account, oldest first", body = Vec<Account>),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> Result<Json<Vec<Account>>, ApiError> {
    let accounts = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from users order by created_at"
    )))
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(accounts))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    is_admin: bool,
}

/// An account and its one-time password, shown to the admin once and never stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WithPassword {
    user: Account,
    password: String,
}

/// Creates an account with a one-time password for the admin to pass on (sign-up policy
/// does not apply: admins may always add people).
#[utoipa::path(post, path = "/admin/users", tag = "admin", security(("bearer" = []), ("session_cookie" = [])),
    request_body = NewAccount,
    responses(
        (status = 201, description = "Created, with its one-time password (shown once)", body = WithPassword),
        (status = 400, description = "Not an email address, or a display name too long", body = crate::http::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
        (status = 409, description = "An account with this email exists", body = crate::http::ErrorBody),
        (status = 503, description = "Password hashing is saturated: retry", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Json(request): Json<NewAccount>,
) -> Result<(StatusCode, Json<WithPassword>), ApiError> {
    let email = normalize_email(&request.email)?;
    let display_name = check_display_name(&request.display_name)?;
    let password = one_time_password();
    check_password(&state, &password)?;
    let hash = state
        .auth
        .hasher
        .hash(password.clone())
        .await
        .map_err(busy)??;
    let created = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into users (email, display_name, password_hash, is_admin) values ($1, $2, $3, $4)
         returning {COLUMNS}"
    )))
    .bind(&email)
    .bind(&display_name)
    .bind(&hash)
    .bind(request.is_admin)
    .fetch_one(&state.pool)
    .await;
    let user: Account = match created {
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation()) =>
        {
            return Err(ApiError::Conflict(
                "an account with this email already exists".into(),
            ));
        }
        other => other?,
    };
    tracing::info!(
        admin_id = %admin.id, admin_email = %admin.email, user_id = %user.id,
        is_admin = user.is_admin, "admin: account created"
    );
    Ok((StatusCode::CREATED, Json(WithPassword { user, password })))
}

/// Disables the account and ends its sessions at once (tokens already issued run out
/// within `powersync.token_ttl`; no new one is issued).
#[utoipa::path(post, path = "/admin/users/{id}/disable", tag = "admin", security(("bearer" = []), ("session_cookie" = [])), params(("id" = uuid::Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "Disabled; its sessions ended", body = Account),
        (status = 400, description = "The id is not a UUID", body = crate::http::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
        (status = 404, description = "No such account", body = crate::http::ErrorBody),
        (status = 409, description = "An admin cannot disable their own account", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn disable(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<Uuid>,
) -> Result<Json<Account>, ApiError> {
    if id == admin.id {
        return Err(ApiError::Conflict(
            "you cannot disable your own account: ask another admin".into(),
        ));
    }
    let mut tx = crate::db::begin(&state.pool).await?;
    let user: Option<Account> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update users set disabled_at = coalesce(disabled_at, now()) where id = $1 returning {COLUMNS}"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let user = user.ok_or_else(no_such_user)?;
    end_sessions(&state, &mut tx, id).await?;
    tx.commit().await?;
    state.auth.recent_active_users.remove(&id);
    state.auth.recent_tokens.remove(&id);
    tracing::info!(admin_id = %admin.id, admin_email = %admin.email, user_id = %id, "admin: account disabled");
    Ok(Json(user))
}

#[utoipa::path(post, path = "/admin/users/{id}/enable", tag = "admin", security(("bearer" = []), ("session_cookie" = [])), params(("id" = uuid::Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "Enabled", body = Account),
        (status = 400, description = "The id is not a UUID", body = crate::http::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
        (status = 404, description = "No such account", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn enable(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<Uuid>,
) -> Result<Json<Account>, ApiError> {
    let user: Option<Account> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update users set disabled_at = null where id = $1 returning {COLUMNS}"
    )))
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let user = user.ok_or_else(no_such_user)?;
    tracing::info!(admin_id = %admin.id, admin_email = %admin.email, user_id = %id, "admin: account enabled");
    Ok(Json(user))
}

/// Replaces the password with a one-time one and logs the person out everywhere.
#[utoipa::path(post, path = "/admin/users/{id}/password", tag = "admin", security(("bearer" = []), ("session_cookie" = [])), params(("id" = uuid::Uuid, Path, description = "The account")),
    responses(
        (status = 200, description = "A new one-time password (shown once); the account's sessions ended", body = WithPassword),
        (status = 400, description = "The id is not a UUID", body = crate::http::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
        (status = 404, description = "No such account", body = crate::http::ErrorBody),
        (status = 503, description = "Password hashing is saturated: retry", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<Uuid>,
) -> Result<Json<WithPassword>, ApiError> {
    let password = one_time_password();
    let hash = state
        .auth
        .hasher
        .hash(password.clone())
        .await
        .map_err(busy)??;
    let mut tx = crate::db::begin(&state.pool).await?;
    let user: Option<Account> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update users set password_hash = $2 where id = $1 returning {COLUMNS}"
    )))
    .bind(id)
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?;
    let user = user.ok_or_else(no_such_user)?;
    end_sessions(&state, &mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(admin_id = %admin.id, admin_email = %admin.email, user_id = %id, "admin: password reset");
    Ok(Json(WithPassword { user, password }))
}

/// Deletes every session of `user_id` and forgets them on this replica.
async fn end_sessions(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    let ended: Vec<Vec<u8>> =
        sqlx::query_scalar("delete from sessions where user_id = $1 returning token_hash")
            .bind(user_id)
            .fetch_all(tx)
            .await?;
    for hash in &ended {
        state.auth.recent_sessions.remove(hash);
    }
    Ok(())
}

fn no_such_user() -> ApiError {
    ApiError::Missing("no such user: reload the list".into())
}

/// 18 random bytes, base64url: 24 characters, 144 bits.
fn one_time_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
