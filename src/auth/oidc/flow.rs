//! The authorization-code flow: `GET /api/auth/oidc/login` sends the browser to the
//! provider with state, nonce and a PKCE challenge; `GET /api/auth/oidc/callback` takes it
//! back, and only a state this server issued to this browser, a code the provider
//! exchanges and an ID token that verifies (signature, iss, aud, exp, nonce) start a session.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, Scope};
use rand::RngCore;
use serde::Deserialize;

use super::accounts;
use super::failure::{Failure, home, no_store};
use crate::app::AppState;
use crate::auth::extract::set_cookie;
use crate::auth::handlers::session_cookie;
use crate::auth::sessions::{self, hash_token};
use crate::config::OidcConfig;
use crate::http::ClientIp;
use axum_extra::extract::cookie::SameSite;

/// Binds a sign-in to the browser that started it (SameSite=Lax: it must come back on the
/// provider's top-level redirect).
const BROWSER_COOKIE: &str = "notebox_oidc";
/// How long a user may take at the provider.
const LOGIN_TTL_SECS: i64 = 10 * 60;

fn not_configured(state: &AppState) -> Response {
    Failure::NotConfigured.respond(&state.config.server.public_url, "[auth.oidc] is not set")
}

/// `?app_redirect=URI`: a native app's own redirect (one of `auth.oidc.app_redirect_uris`),
/// which receives the session token after sign-in instead of a cookie.
#[derive(Deserialize)]
pub struct LoginParams {
    app_redirect: Option<String>,
}

/// Starts a sign-in at the identity provider (a browser navigation, not an API call).
#[utoipa::path(get, path = "/auth/oidc/login", tag = "auth",
    params(("app_redirect" = Option<String>, Query, description = "A native app's redirect URI, one of `auth.oidc.app_redirect_uris`")),
    responses(
        (status = 303, description = "To the provider; or back to the login screen with `login_error` (single sign-on off, provider unreachable, too many sign-ins)",
            headers(("Location" = String), ("Set-Cookie" = String, description = "Binds the sign-in to this browser"))),
        (status = 400, description = "`app_redirect` is not an allowed redirect", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(params): Query<LoginParams>,
) -> Response {
    let public_url = &state.config.server.public_url;
    let Some(config) = state.config.auth.oidc.as_ref() else {
        return not_configured(&state);
    };
    if let Some(app) = &params.app_redirect
        && !config
            .app_redirect_uris
            .iter()
            .any(|allowed| allowed.as_str() == app)
    {
        return crate::http::ApiError::BadRequest(
            "app_redirect is not one of auth.oidc.app_redirect_uris".into(),
        )
        .into_response();
    }
    // Each start stores a row: the same per-address budget as password logins.
    if let Err(wait) = state.auth.ip_limiter.check(&ip) {
        let details = format!(
            "{ip} started too many sign-ins; next in {}s",
            wait.as_secs()
        );
        return Failure::TooMany.respond(public_url, &details);
    }
    let client = match state.auth.oidc.client(config, public_url, false).await {
        Ok(client) => client,
        Err(e) => {
            return Failure::Unreachable.respond(
                public_url,
                &format!(
                    "discovery at {} failed: {}",
                    config.issuer,
                    super::error_chain(&e)
                ),
            );
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in config.scopes().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    let (url, state_token, nonce) = request.set_pkce_challenge(challenge).url();
    let browser = random_token();
    let stored = sqlx::query(
        "with purged as (delete from oidc_logins where expires_at < now())
         insert into oidc_logins (state_hash, browser_hash, nonce, pkce_verifier, expires_at, app_redirect)
         values ($1, $2, $3, $4, now() + make_interval(secs => $5), $6)",
    )
    .bind(hash_token(state_token.secret()))
    .bind(hash_token(&browser))
    .bind(nonce.secret())
    .bind(verifier.secret())
    .bind(LOGIN_TTL_SECS as f64)
    .bind(&params.app_redirect)
    .execute(&state.pool)
    .await;
    if let Err(e) = stored {
        return Failure::Server.respond(public_url, &format!("cannot store the sign-in: {e}"));
    }
    let cookie = set_cookie(
        &state.config,
        (BROWSER_COOKIE, browser),
        cookie_path(&state),
        SameSite::Lax,
        std::time::Duration::from_secs(LOGIN_TTL_SECS.unsigned_abs()),
    );
    with_cookie(Redirect::to(url.as_str()).into_response(), &cookie)
}

#[derive(Deserialize)]
pub struct CallbackParams {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// A sign-in as stored by `login`, taken out (so it works once).
#[derive(sqlx::FromRow)]
struct Pending {
    browser_hash: Vec<u8>,
    nonce: String,
    pkce_verifier: String,
    live: bool,
    app_redirect: Option<String>,
}

/// Where the identity provider sends the browser back (a browser navigation).
#[utoipa::path(get, path = "/auth/oidc/callback", tag = "auth",
    params(
        ("state" = Option<String>, Query), ("code" = Option<String>, Query),
        ("error" = Option<String>, Query), ("error_description" = Option<String>, Query),
    ),
    responses(
        (status = 303, description = "Signed in (session cookie set), or to the login screen with `login_error`",
            headers(("Location" = String), ("Set-Cookie" = String))),
    ))]
#[tracing::instrument(skip_all)]
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Response {
    let public_url = &state.config.server.public_url;
    let Some(config) = state.config.auth.oidc.as_ref() else {
        return not_configured(&state);
    };
    let clear = set_cookie(
        &state.config,
        (BROWSER_COOKIE, String::new()),
        cookie_path(&state),
        SameSite::Lax,
        std::time::Duration::ZERO,
    );
    let response = match finish(&state, config, &headers, params).await {
        Ok(response) => response,
        Err((failure, details)) => failure.respond(public_url, &details),
    };
    with_cookie(response, &clear)
}

async fn finish(
    state: &AppState,
    config: &OidcConfig,
    headers: &HeaderMap,
    params: CallbackParams,
) -> Result<Response, accounts::Refusal> {
    let pending = take_pending(state, params.state.as_deref()).await?;
    if let Some(error) = &params.error {
        let failure = if error == "access_denied" {
            Failure::Cancelled
        } else {
            Failure::Provider
        };
        let description = params.error_description.as_deref().unwrap_or("");
        return Err((
            failure,
            format!("the provider answered {error}: {description}"),
        ));
    }
    let browser = crate::auth::extract::cookie(headers, BROWSER_COOKIE);
    if browser.map(|b| hash_token(&b)) != Some(pending.browser_hash) {
        return Err((
            Failure::Expired,
            "the state was issued to another browser (no or another notebox_oidc cookie)".into(),
        ));
    }
    if !pending.live {
        return Err((
            Failure::Expired,
            "the sign-in took longer than 10 minutes".into(),
        ));
    }
    let code = params
        .code
        .ok_or_else(|| (Failure::Provider, "the callback carries no code".to_owned()))?;
    let identity =
        super::verify::identity(state, config, code, pending.nonce, pending.pkce_verifier).await?;
    let user = match accounts::sign_in(&state.pool, config, &identity).await {
        Ok(Ok(user)) => user,
        Ok(Err(refusal)) => return Err(refusal),
        Err(e) => return Err((Failure::Server, format!("{e:#}"))),
    };
    let session = sessions::create(&state.pool, user.id, state.config.auth.session_ttl)
        .await
        .map_err(|e| (Failure::Server, format!("cannot create the session: {e}")))?;
    tracing::info!(user_id = %user.id, subject = %identity.subject, "signed in through the identity provider");
    if let Some(app) = pending.app_redirect {
        // A native app: the bearer session token, in the fragment (never sent to a server).
        let to = format!(
            "{app}#session_token={}&expires_at={}",
            session.token,
            session.expires_at.timestamp()
        );
        return Ok(no_store(Redirect::to(&to).into_response()));
    }
    let cookie = session_cookie(&state.config, &session.token);
    let home = home(&state.config.server.public_url);
    Ok(with_cookie(
        Redirect::to(home.as_str()).into_response(),
        &cookie,
    ))
}

/// Deletes and returns the sign-in `state` names: a state works once, whatever happens next.
async fn take_pending(state: &AppState, token: Option<&str>) -> Result<Pending, accounts::Refusal> {
    let token =
        token.ok_or_else(|| (Failure::Expired, "the callback carries no state".to_owned()))?;
    sqlx::query_as(
        "delete from oidc_logins where state_hash = $1
         returning browser_hash, nonce, pkce_verifier, expires_at > now() as live, app_redirect",
    )
    .bind(hash_token(token))
    .fetch_optional(&state.pool)
    .await
    .map_err(|e| (Failure::Server, format!("cannot read the sign-in: {e}")))?
    .ok_or_else(|| {
        (
            Failure::Expired,
            "unknown or already used state (a replayed or forged callback)".to_owned(),
        )
    })
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `/api/auth/oidc` under `server.public_url`'s path, where the callback is.
fn cookie_path(state: &AppState) -> String {
    let public_url = &state.config.server.public_url;
    format!("{}/api/auth/oidc", public_url.path().trim_end_matches('/'))
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    no_store(response)
}
