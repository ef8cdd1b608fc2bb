//! `/api/auth/*` and the JWKS.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::extract::{Credential, CurrentSession, SESSION_COOKIE};
use super::rate_limit::client_key;
use super::users::{self, User};
use super::{sessions, setup, tokens};
use crate::app::AppState;
use crate::config::SignupPolicy;
use crate::http::{ApiError, ClientIp, Json};

/// Longest password accepted: argon2 cost grows with input, so bound it.
const MAX_PASSWORD_BYTES: usize = 1024;
/// Serializes sign-ups so "the first user becomes admin" holds under concurrency.
pub(super) const SIGNUP_LOCK: i64 = 0x6e6f_7465_626f_7802;

#[derive(Serialize, utoipa::ToSchema)]
struct SetupStatus {
    needs_setup: bool,
    signup: SignupPolicy,
}

/// Whether the server still needs its first (admin) account, and the sign-up policy.
#[utoipa::path(get, path = "/auth/setup", tag = "auth", responses(
    (status = 200, body = SetupStatus),
    (status = 503, description = "The database is unavailable", body = crate::http::ErrorBody),
))]
#[tracing::instrument(skip_all)]
pub async fn setup_status(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let needs_setup = users::count(&state.pool).await? == 0;
    Ok(Json(SetupStatus {
        needs_setup,
        signup: crate::admin::signup_policy(&state.pool, &state.config).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    #[schema(format = Email, max_length = 320)]
    email: String,
    /// At least `auth.min_password_length` characters, at most 1024 bytes.
    #[schema(max_length = 1024)]
    password: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    display_name: Option<String>,
    /// An invitation token: sign-up works even when closed, for the invited email only.
    #[serde(default)]
    invitation: Option<String>,
    /// Required for the first account only: the token of the setup link.
    #[serde(default)]
    setup_token: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct SessionResponse {
    user: User,
    session_token: String,
    expires_at: DateTime<Utc>,
}

/// One attempt of `action` ("login", "signup") from `ip` on the account `email`.
pub(crate) fn rate_limit(
    state: &AppState,
    action: &str,
    ip: IpAddr,
    email: &str,
) -> Result<(), ApiError> {
    let refused = |wait: std::time::Duration| ApiError::TooManyRequests {
        retry_after_secs: wait.as_secs().max(1),
    };
    state
        .auth
        .ip_limiter
        .check(&client_key(ip))
        .map_err(refused)?;
    state
        .auth
        .account_limiter
        .check(&format!("{action}:{}", email.to_lowercase()))
        .map_err(refused)
}

pub(crate) fn busy(error: super::password::Busy) -> ApiError {
    ApiError::Unavailable {
        reason: error.to_string(),
        retry_after_secs: 2,
    }
}

pub fn normalize_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim();
    let valid = email.len() <= 320
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email.to_owned())
    } else {
        Err(ApiError::BadRequest("enter a valid email address".into()))
    }
}

/// The display name as stored: trimmed, at most 200 characters.
pub(crate) fn check_display_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "the display name must be at most 200 characters long".into(),
        ));
    }
    Ok(name.to_owned())
}

pub(crate) fn check_password(state: &AppState, password: &str) -> Result<(), ApiError> {
    let min = state.config.auth.min_password_length;
    if password.chars().count() < min {
        return Err(ApiError::BadRequest(format!(
            "the password must be at least {min} characters long"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::BadRequest(format!(
            "the password must be at most {MAX_PASSWORD_BYTES} bytes long"
        )));
    }
    Ok(())
}

/// Creates an account (the first one with the setup link's token) and starts a session.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = SignupRequest, responses(
    (status = 201, description = "Account created, session started", body = SessionResponse,
        headers(("Set-Cookie" = String, description = "The session cookie"))),
    (status = 400, description = "Invalid email, password or display name", body = crate::http::ErrorBody),
    (status = 403, description = "Sign-up closed, password login off, or a missing or invalid setup token; or an invitation for another email", body = crate::http::ErrorBody),
    (status = 404, description = "The invitation token is not valid", body = crate::http::ErrorBody),
    (status = 409, description = "An account with this email exists", body = crate::http::ErrorBody),
    (status = 410, description = "The invitation was used, withdrawn or has expired", body = crate::http::ErrorBody),
    (status = 429, description = "Too many attempts (see `Retry-After`)", body = crate::http::ErrorBody),
    (status = 503, description = "The database or the password hasher is busy; retry", body = crate::http::ErrorBody),
))]
#[tracing::instrument(skip_all)]
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<SignupRequest>,
) -> Result<Response, ApiError> {
    super::oidc::refuse_password_login(&state.config)?;
    let email = normalize_email(&request.email)?;
    rate_limit(&state, "signup", ip, &email)?;
    check_password(&state, &request.password)?;
    let display_name = check_display_name(&request.display_name.unwrap_or_default())?;
    if let Some(token) = &request.invitation {
        crate::notebooks::check_signup_invitation(&state.pool, token, &email).await?;
    }
    // An invitation opens a closed sign-up, for its email only.
    let policy = crate::admin::signup_policy(&state.pool, &state.config).await?;
    let closed = policy == SignupPolicy::Closed && request.invitation.is_none();
    let exists = users::count(&state.pool).await? > 0;
    if closed && exists {
        return Err(signup_closed());
    }
    if !exists {
        // Checked before the costly hash, and again under the lock below.
        check_setup_token(&state.pool, request.setup_token.as_deref()).await?;
    }
    let hash = state
        .auth
        .hasher
        .hash(request.password)
        .await
        .map_err(busy)??;
    let mut tx = crate::db::begin(&state.pool).await?;
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(SIGNUP_LOCK)
        .execute(&mut *tx)
        .await?;
    let first = users::count(&mut *tx).await? == 0;
    if closed && !first {
        return Err(signup_closed());
    }
    if first {
        check_setup_token(&mut *tx, request.setup_token.as_deref()).await?;
        setup::finish(&mut *tx).await?;
    }
    let user = match users::create(&mut *tx, &email, &display_name, &hash, first).await {
        Ok(user) => user,
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation()) =>
        {
            return Err(ApiError::Conflict(
                "an account with this email already exists: log in instead".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(token) = &request.invitation {
        crate::notebooks::accept_at_signup(&mut tx, token, &user).await?;
    }
    tx.commit().await?;
    tracing::info!(user_id = %user.id, admin = first, "account created");
    start_session(&state, user, StatusCode::CREATED).await
}

/// The first account needs the setup link's token: whoever reaches the port first must not
/// become the admin.
async fn check_setup_token(
    db: impl sqlx::PgExecutor<'_>,
    token: Option<&str>,
) -> Result<(), ApiError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(ApiError::Forbidden(
            "this server has no admin yet: open the setup link printed by `notebox serve` (or run `notebox setup-link` on the server) to create the admin account".into(),
        ));
    };
    if setup::is_valid(db, token).await? {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "this setup link is not valid (mistyped, or already used): run `notebox setup-link` on the server for a fresh one".into(),
        ))
    }
}

fn signup_closed() -> ApiError {
    ApiError::Forbidden(
        "sign-up is closed on this server: ask an admin to create your account".into(),
    )
}

/// Starts a session with email and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "Session started", body = SessionResponse,
        headers(("Set-Cookie" = String, description = "The session cookie"))),
    (status = 401, description = "Wrong email or password", body = crate::http::ErrorBody),
    (status = 403, description = "The account is disabled, or password login is off", body = crate::http::ErrorBody),
    (status = 429, description = "Too many attempts (see `Retry-After`)", body = crate::http::ErrorBody),
    (status = 503, description = "The database or the password hasher is busy; retry", body = crate::http::ErrorBody),
))]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(request): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    super::oidc::refuse_password_login(&state.config)?;
    let email = request.email.trim().to_owned();
    rate_limit(&state, "login", ip, &email)?;
    let found = if request.password.len() > MAX_PASSWORD_BYTES {
        None
    } else {
        users::find_by_email(&state.pool, &email).await?
    };
    // Without a user, verify against a throwaway hash anyway: "no such user" and
    // "wrong password" take the same time and get the same answer.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, state.auth.dummy_hash().await?),
    };
    let matches = state
        .auth
        .hasher
        .verify(request.password, hash)
        .await
        .map_err(busy)?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(ApiError::Unauthorized("wrong email or password".into()));
    };
    if user.disabled_at.is_some() {
        return Err(ApiError::Forbidden(
            "this account is disabled: ask an admin".into(),
        ));
    }
    start_session(&state, user, StatusCode::OK).await
}

async fn start_session(
    state: &AppState,
    user: User,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let ttl = state.config.auth.session_ttl;
    let session = sessions::create(&state.pool, user.id, ttl).await?;
    let cookie = session_cookie(&state.config, &session.token);
    let body = SessionResponse {
        user,
        session_token: session.token,
        expires_at: session.expires_at,
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?,
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The `Set-Cookie` value that carries a new session to the browser.
pub(super) fn session_cookie(config: &crate::config::Config, token: &str) -> String {
    session_cookie_for(config, token, config.auth.session_ttl)
}

/// The `Set-Cookie` value for a session that lives `max_age` more.
fn session_cookie_for(
    config: &crate::config::Config,
    token: &str,
    max_age: std::time::Duration,
) -> String {
    super::extract::set_cookie(
        config,
        (SESSION_COOKIE, token.to_owned()),
        "/".into(),
        axum_extra::extract::cookie::SameSite::Strict,
        max_age,
    )
}

/// Ends the session and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = []), ("session_cookie" = [])), responses(
    (status = 204, description = "Session ended", headers(("Set-Cookie" = String, description = "Clears the session cookie"))),
))]
#[tracing::instrument(skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Response, ApiError> {
    sessions::revoke(&state.pool, &session.token).await?;
    state
        .auth
        .recent_sessions
        .remove(&sessions::hash_token(&session.token));
    let clear = super::extract::set_cookie(
        &state.config,
        (SESSION_COOKIE, String::new()),
        "/".into(),
        axum_extra::extract::cookie::SameSite::Strict,
        std::time::Duration::ZERO,
    );
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// The logged-in user.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = []), ("session_cookie" = [])), responses(
    (status = 200, body = User),
))]
#[tracing::instrument(skip_all)]
pub async fn me(session: CurrentSession) -> Json<User> {
    Json(session.user)
}

#[derive(Serialize, utoipa::ToSchema)]
struct TokenResponse {
    token: String,
    powersync_url: String,
    endpoint: String,
    expires_at: DateTime<Utc>,
    user_id: String,
}

/// A PowerSync token for the logged-in user, and where PowerSync is.
#[utoipa::path(get, path = "/auth/token", tag = "auth", security(("bearer" = []), ("session_cookie" = [])), responses(
    (status = 200, body = TokenResponse),
))]
#[tracing::instrument(skip_all)]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: CurrentSession,
) -> Result<Response, ApiError> {
    let user_id = session.user.id;
    // The session check may come from the cache (up to auth.recheck_after old), but a token
    // outlives that by far: issuing one asks Postgres whether the session and the account
    // still stand, so `notebox user disable` stops new tokens at once. The same lookup
    // slides a session in use past half its life (see `sessions::lookup`).
    let Some((_, expires_at)) =
        sessions::lookup(&state.pool, &session.token, state.config.auth.session_ttl).await?
    else {
        state
            .auth
            .recent_sessions
            .remove(&sessions::hash_token(&session.token));
        state.auth.recent_tokens.remove(&user_id);
        return Err(ApiError::Unauthorized(
            "your session has ended or your account is disabled: log in again".into(),
        ));
    };
    // A token signed for this user a moment ago, by the key that signs now, is handed out
    // again: a reconnect storm (PowerSync restarted, every client refetching) costs one
    // RSA signature per user, and a rotation still takes effect at once.
    let (ring, signer) = (state.auth.keys)
        .signer(&state.pool, state.config.auth.key_algorithm)
        .await?;
    let issued = match state.auth.recent_tokens.get(&user_id) {
        Some(issued) if issued.kid == ring[signer].kid => issued,
        _ => {
            let issued =
                tokens::issue(&state.auth.keys, &state.pool, &state.config, user_id).await?;
            state.metrics.record_token_issued();
            state.auth.recent_tokens.insert(user_id, issued.clone());
            issued
        }
    };
    let url = state
        .config
        .powersync
        .url
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let body = TokenResponse {
        token: issued.token,
        endpoint: url.clone(),
        powersync_url: url,
        expires_at: issued.expires_at,
        user_id: session.user.id.hyphenated().to_string(),
    };
    let mut response = ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response();
    // The web UI asks for a token every few minutes while open: its cookie follows the
    // session's (possibly renewed) expiry, so the browser does not drop a live session.
    if let Some(Credential::Cookie(_)) = Credential::from_headers(&headers) {
        let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
        let cookie = session_cookie_for(&state.config, &session.token, left);
        response.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?,
        );
    }
    Ok(response)
}

/// The published keys, as served (also at `/.well-known/jwks.json`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct JwkSet {
    /// RSA public keys: `kty`, `n`, `e`, `kid`, `alg`, `use`.
    keys: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// The published keys. Public, cheap and served from memory: PowerSync drops every
/// cached key if this stays unreachable for an hour.
#[utoipa::path(get, path = "/auth/keys", tag = "auth", responses(
    (status = 200, description = "The published signing keys (a JWK set)", body = JwkSet),
    (status = 503, description = "The signing keys are unavailable; retry", body = crate::http::ErrorBody),
))]
#[tracing::instrument(skip_all)]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = state.auth.keys.keys(&state.pool).await.map_err(|e| {
        tracing::warn!(error = %e, "signing keys unavailable");
        ApiError::unavailable("the signing keys are unavailable; try again shortly")
    })?;
    let now = Utc::now();
    let published: Vec<_> = keys
        .iter()
        .filter(|k| k.is_published(now))
        .map(|k| &k.jwk)
        .collect();
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(json!({ "keys": published })),
    )
        .into_response())
}
