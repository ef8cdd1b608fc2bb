//! Who is calling: a session from `Authorization: Bearer` (native apps) or the session
//! cookie (the web UI). Cookie-authenticated writes must also pass the CSRF checks.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use super::sessions;
use super::users::User;
use crate::app::AppState;
use crate::config::Config;
use crate::http::ApiError;

pub const SESSION_COOKIE: &str = "notebox_session";

/// A logged-in user and the session token that proved it.
pub struct CurrentSession {
    pub user: User,
    pub token: String,
}

/// The credential a request carries, before it is checked.
pub enum Credential {
    Bearer(String),
    Cookie(String),
}

impl Credential {
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        if let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let (scheme, token) = value.trim().split_once(' ')?;
            return (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
                .then(|| Credential::Bearer(token.trim().to_owned()));
        }
        cookie(headers, SESSION_COOKIE).map(Credential::Cookie)
    }
}

pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|cookie| cookie.value().to_owned())
}

/// A `Set-Cookie` value for one of our cookies: HttpOnly, on `path`, Secure when
/// `public_url` is https; `max_age` 0 clears it.
pub(super) fn set_cookie(
    config: &Config,
    (name, value): (&'static str, String),
    path: String,
    same_site: SameSite,
    max_age: std::time::Duration,
) -> String {
    let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age))
        .secure(config.server.public_url.scheme() == "https")
        .build()
        .to_string()
}

/// Refuses a cookie-authenticated state change that a foreign site could have made:
/// the browser's Origin must be ours and the body JSON (which a cross-site form cannot send).
fn check_csrf(parts: &Parts, config: &Config) -> Result<(), ApiError> {
    if parts.method.is_safe() {
        return Ok(());
    }
    let origin = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    let public = config.server.public_url.origin().ascii_serialization();
    let same_host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|host| format!("{}://{host}", config.server.public_url.scheme()));
    let trusted = origin.is_some_and(|o| o == public || same_host.as_deref() == Some(o));
    if !trusted {
        return Err(ApiError::Forbidden(
            "cross-site request refused: requests authenticated by cookie must come from this site (Origin header)".into(),
        ));
    }
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json".into(),
        ));
    }
    Ok(())
}

fn expired_session() -> ApiError {
    ApiError::Unauthorized("your session has expired or was ended: log in again".into())
}

/// Checks a session credential: the CSRF rules for a cookie, then the session itself.
pub async fn session_from(
    parts: &Parts,
    state: &AppState,
    credential: Credential,
) -> Result<CurrentSession, ApiError> {
    let token = match credential {
        Credential::Bearer(token) => token,
        Credential::Cookie(token) => {
            check_csrf(parts, &state.config)?;
            token
        }
    };
    let hash = sessions::hash_token(&token);
    let recent = &state.auth.recent_sessions;
    if let Some((user, expires_at)) = recent.get(&hash)
        && expires_at > chrono::Utc::now()
    {
        return Ok(CurrentSession { user, token });
    }
    let (user, expires_at) = sessions::lookup(&state.pool, &token, state.config.auth.session_ttl)
        .await?
        .ok_or_else(expired_session)?;
    recent.insert(hash, (user.clone(), expires_at));
    Ok(CurrentSession { user, token })
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let credential = Credential::from_headers(&parts.headers)
            .ok_or_else(|| ApiError::Unauthorized("log in first".into()))?;
        session_from(parts, state, credential).await
    }
}
