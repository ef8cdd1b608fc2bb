//! PowerSync tokens: JWTs (RS256, EdDSA or ES256) PowerSync verifies against our JWKS
//! (powersync.md §1).

use chrono::{DateTime, Utc};
use jsonwebtoken::Validation;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::keys::{CLOCK_LEEWAY, KeyAlgorithm, KeyRing};
use crate::config::Config;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as the lowercase uuid text owner columns hold: PowerSync compares it as text.
    pub sub: String,
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// A signed token and when it stops being accepted.
#[derive(Clone)]
pub struct IssuedToken {
    pub token: String,
    pub kid: String,
    pub expires_at: DateTime<Utc>,
}

/// `iss` of our tokens: the public URL without a trailing slash.
pub fn issuer(config: &Config) -> String {
    config
        .server
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

pub async fn issue(
    keys: &KeyRing,
    pool: &PgPool,
    config: &Config,
    user_id: Uuid,
) -> anyhow::Result<IssuedToken> {
    let (ring, index) = keys.signer(pool, config.auth.key_algorithm).await?;
    let kid = ring[index].kid.clone();
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(config.powersync.token_ttl)?;
    let claims = Claims {
        sub: user_id.hyphenated().to_string(),
        aud: config.powersync.audience.clone(),
        iss: issuer(config),
        iat: now.timestamp(),
        exp: (now + ttl).timestamp(),
    };
    let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
    // An RSA signature is about a millisecond of CPU: on the blocking pool, a reconnect
    // storm (every client fetching a token at once) does not hold up other requests'
    // tasks. Ed25519 and P-256 sign in microseconds, less than the hand-off would cost.
    let token = if ring[index].algorithm == KeyAlgorithm::RS256 {
        tokio::task::spawn_blocking(move || ring[index].sign(&claims)).await??
    } else {
        ring[index].sign(&claims)?
    };
    Ok(IssuedToken {
        token,
        kid,
        expires_at,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or not signed with its key's algorithm")]
    Malformed,
    #[error("the token was not signed by a key this server publishes")]
    UnknownKey,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the signing keys are unavailable")]
    Keys(#[source] anyhow::Error),
}

/// Verifies a token we signed: a published kid, that key's algorithm, signature, audience,
/// issuer, expiry (60 s leeway, as PowerSync), and the user id claim.
pub async fn verify(
    keys: &KeyRing,
    pool: &PgPool,
    config: &Config,
    token: &str,
) -> Result<Uuid, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    let kid = header.kid.ok_or(TokenError::UnknownKey)?;
    let ring = keys.keys(pool).await.map_err(TokenError::Keys)?;
    let key = ring
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(TokenError::UnknownKey)?;
    if header.alg != key.algorithm.jwt() {
        return Err(TokenError::Malformed);
    }
    let mut validation = Validation::new(key.algorithm.jwt());
    validation.leeway = CLOCK_LEEWAY.as_secs();
    validation.set_audience(&[&config.powersync.audience]);
    validation.set_issuer(&[issuer(config)]);
    validation.set_required_spec_claims(&["sub", "exp", "iat", "aud", "iss"]);
    let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
        .map_err(|e| TokenError::Invalid(e.to_string()))?;
    Uuid::parse_str(&data.claims.sub)
        .map_err(|_| TokenError::Invalid("sub is not a user id".into()))
}
