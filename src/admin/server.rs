//! The server itself: the sign-up policy (in the database, so it changes without a
//! restart), the signing keys, and `notebox check` as JSON.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Admin;
use crate::app::AppState;
use crate::auth::keys;
use crate::config::{Config, SignupPolicy};
use crate::db::Severity;
use crate::http::{ApiError, Json};

/// Who may sign up now: the admin page's choice, else `auth.signup` from the config.
pub async fn signup_policy(
    db: impl sqlx::PgExecutor<'_>,
    config: &Config,
) -> Result<SignupPolicy, sqlx::Error> {
    let chosen: Option<Option<String>> = sqlx::query_scalar("select signup from notebox_settings")
        .fetch_optional(db)
        .await?;
    Ok(match chosen.flatten().as_deref() {
        Some("open") => SignupPolicy::Open,
        Some("closed") => SignupPolicy::Closed,
        _ => config.auth.signup,
    })
}

/// Named apart from the single sign-on `Settings` (one name per schema in the document).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SignupSettings)]
pub struct Settings {
    signup: SignupPolicy,
    /// What `auth.signup` in the config says (used until an admin chooses).
    signup_default: SignupPolicy,
}

#[utoipa::path(get, path = "/admin/settings", tag = "admin", security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The sign-up policy in force and the config's default", body = Settings),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn settings(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(Settings {
        signup: signup_policy(&state.pool, &state.config).await?,
        signup_default: state.config.auth.signup,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    signup: SignupPolicy,
}

#[utoipa::path(put, path = "/admin/settings", tag = "admin", security(("bearer" = []), ("session_cookie" = [])),
    request_body = SettingsChange,
    responses(
        (status = 200, description = "Changed, in force at once", body = Settings),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn update_settings(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Json(change): Json<SettingsChange>,
) -> Result<Json<Settings>, ApiError> {
    let value = match change.signup {
        SignupPolicy::Open => "open",
        SignupPolicy::Closed => "closed",
    };
    sqlx::query("update notebox_settings set signup = $1")
        .bind(value)
        .execute(&state.pool)
        .await?;
    tracing::info!(admin_id = %admin.id, admin_email = %admin.email, signup = value, "admin: sign-up policy changed");
    Ok(Json(Settings {
        signup: change.signup,
        signup_default: state.config.auth.signup,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyView {
    kid: String,
    created_at: DateTime<Utc>,
    signing_from: DateTime<Utc>,
    retire_after: Option<DateTime<Utc>>,
    /// "next" (published, not signing yet), "signing", "retiring" or "retired".
    state: &'static str,
}

impl From<keys::KeyInfo> for KeyView {
    fn from(key: keys::KeyInfo) -> Self {
        let now = Utc::now();
        let state = match key.retire_after {
            Some(at) if at <= now => "retired",
            _ if key.signing_from > now => "next",
            Some(_) => "retiring",
            None => "signing",
        };
        Self {
            kid: key.kid,
            created_at: key.created_at,
            signing_from: key.signing_from,
            retire_after: key.retire_after,
            state,
        }
    }
}

#[utoipa::path(get, path = "/admin/keys", tag = "admin", security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The signing keys, newest first", body = Vec<KeyView>),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn keys(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    let list = keys::list(&state.pool).await?;
    Ok(Json(list.into_iter().map(KeyView::from).collect()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RotationView {
    kid: String,
    signing_from: DateTime<Utc>,
    /// The keys that stop signing, and when they leave the key set.
    /// `[kid, retire_after]` of each key this rotation retires.
    #[schema(value_type = Vec<Vec<String>>)]
    retired: Vec<(String, DateTime<Utc>)>,
}

/// `notebox keys rotate`: the new key is published now and signs after
/// `auth.key_rotation_grace`, so PowerSync has fetched it before it sees a token it signed.
#[utoipa::path(post, path = "/admin/keys/rotate", tag = "admin", security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "A new key signs from `signing_from`; the old ones retire", body = RotationView),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn rotate_key(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<RotationView>, ApiError> {
    let config = &state.config;
    let rotation = keys::rotate(
        &state.pool,
        config.auth.key_rotation_grace,
        config.powersync.token_ttl,
        config.auth.key_algorithm,
    )
    .await?;
    state.auth.keys.invalidate().await;
    tracing::info!(admin_id = %admin.id, admin_email = %admin.email, kid = %rotation.kid, "admin: signing key rotated");
    Ok(Json(RotationView {
        kid: rotation.kid,
        signing_from: rotation.signing_from,
        retired: rotation.retired,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckView {
    name: &'static str,
    /// "ok", "warn" or "fail".
    #[schema(value_type = String)]
    severity: &'static str,
    message: String,
}

/// What `notebox check` prints, as JSON (it only reads).
#[utoipa::path(get, path = "/admin/check", tag = "admin", security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "What `notebox check` reports", body = Vec<CheckView>),
        (status = 403, description = "Not an admin", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn check(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> Result<Json<Vec<CheckView>>, ApiError> {
    let config = &state.config;
    let mut checks = crate::db::preflight(&state.pool, config).await?;
    checks.extend(crate::powersync::checks(&state.pool, config, &state.http_client).await);
    checks.extend(crate::auth::oidc::checks(config).await);
    Ok(Json(
        checks
            .into_iter()
            .map(|c| CheckView {
                name: c.name,
                severity: match c.severity {
                    Severity::Ok => "ok",
                    Severity::Warn => "warn",
                    Severity::Fail => "fail",
                },
                message: c.message,
            })
            .collect(),
    ))
}
