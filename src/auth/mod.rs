//! Who a user is: accounts, sessions, signing keys and the PowerSync tokens they sign.

mod extract;
pub(crate) mod handlers;
pub mod keys;
pub mod oidc;
pub mod password;
pub mod rate_limit;
mod recent;
pub mod sessions;
pub mod setup;
pub mod tokens;
pub mod users;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::sync::OnceCell;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use extract::{Credential, CurrentSession, SESSION_COOKIE, session_from};
pub use handlers::normalize_email;
pub use keys::KeyRing;
pub use rate_limit::RateLimiter;
pub use recent::Recent;

use crate::app::AppState;

/// Attempts per client IP: a burst of 20, then one every 3 s.
const IP_BURST: u32 = 20;
const IP_REFILL: Duration = Duration::from_secs(3);
/// Attempts per account: a burst of 5, then one a minute.
const ACCOUNT_BURST: u32 = 5;
const ACCOUNT_REFILL: Duration = Duration::from_secs(60);

/// Entries per credential cache: a storm of more distinct users than this evicts (a miss is
/// one database round trip), so memory stays bounded: a session entry is ~300 bytes, a token
/// ~1 KiB, an active user ~50 bytes (a few MiB in all).
const RECENT_SESSIONS: usize = 4_096;
const RECENT_TOKENS: usize = 2_048;
const RECENT_ACTIVE_USERS: usize = 16_384;

/// Longest a signed token is handed out again.
const TOKEN_REUSE_MAX: Duration = Duration::from_secs(60);

/// The auth part of the app state.
pub struct AuthState {
    pub keys: KeyRing,
    /// Attempts per client address (IPv6 per /64, see `rate_limit::client_key`).
    pub ip_limiter: RateLimiter<std::net::IpAddr>,
    pub account_limiter: RateLimiter<String>,
    /// argon2 with bounded concurrency.
    pub hasher: password::Hasher,
    /// Sessions (by token hash) checked a moment ago, with their expiry.
    pub recent_sessions: Recent<Vec<u8>, (users::User, chrono::DateTime<chrono::Utc>)>,
    /// Users whose account was found active a moment ago (PowerSync-token uploads).
    pub recent_active_users: Recent<uuid::Uuid, ()>,
    /// The token last signed for each user, handed out again for a short while.
    pub recent_tokens: Recent<uuid::Uuid, tokens::IssuedToken>,
    /// The single sign-on provider, discovered on first use.
    pub oidc: oidc::Provider,
    dummy_hash: OnceCell<String>,
}

impl AuthState {
    /// `recheck_after`: how long a positive session or account check is trusted;
    /// `token_ttl`: PowerSync token lifetime (a token is reused for a tenth of it, ≤ 60 s).
    pub fn new(recheck_after: Duration, token_ttl: Duration) -> Self {
        Self {
            keys: KeyRing::default(),
            ip_limiter: RateLimiter::new(IP_BURST, IP_REFILL),
            account_limiter: RateLimiter::new(ACCOUNT_BURST, ACCOUNT_REFILL),
            hasher: password::Hasher::default(),
            recent_sessions: Recent::new(recheck_after, RECENT_SESSIONS),
            recent_active_users: Recent::new(recheck_after, RECENT_ACTIVE_USERS),
            recent_tokens: Recent::new((token_ttl / 10).min(TOKEN_REUSE_MAX), RECENT_TOKENS),
            oidc: oidc::Provider::default(),
            dummy_hash: OnceCell::new(),
        }
    }

    /// Every 30 s, drops cached credentials that no longer count, so memory falls back to
    /// idle after a storm (spawned by `serve`).
    pub async fn forget_expired(self: std::sync::Arc<Self>) {
        let mut every = tokio::time::interval(Duration::from_secs(30));
        loop {
            every.tick().await;
            self.recent_sessions.forget_expired();
            self.recent_active_users.forget_expired();
            self.recent_tokens.forget_expired();
        }
    }

    /// A real argon2id hash of nothing anyone knows, to verify against when a login
    /// names no user.
    pub async fn dummy_hash(&self) -> anyhow::Result<String> {
        self.dummy_hash
            .get_or_try_init(|| password::hash(uuid::Uuid::new_v4().to_string()))
            .await
            .cloned()
    }
}

/// `/api/auth/*` (nested under `/api`).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::setup_status))
        .routes(routes!(handlers::signup))
        .routes(routes!(handlers::login))
        .routes(routes!(handlers::logout))
        .routes(routes!(handlers::me))
        .routes(routes!(handlers::token))
        .routes(routes!(handlers::jwks))
        .merge(oidc::routes())
}

/// `/.well-known/jwks.json`.
pub fn jwks_route() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(handlers::jwks))
}
