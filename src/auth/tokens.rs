//! PowerSync tokens: RS256 JWTs PowerSync verifies against our JWKS (powersync.md §1).

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::keys::{CLOCK_LEEWAY, KeyRing};
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
    let (ring, index) = keys.signer(pool).await?;
    let key = &ring[index];
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(config.powersync.token_ttl)?;
    let claims = Claims {
        sub: user_id.hyphenated().to_string(),
        aud: config.powersync.audience.clone(),
        iss: issuer(config),
        iat: now.timestamp(),
        exp: (now + ttl).timestamp(),
    };
    let header = Header {
        kid: Some(key.kid.clone()),
        typ: Some("JWT".into()),
        ..Header::new(Algorithm::RS256)
    };
    let token = jsonwebtoken::encode(&header, &claims, &key.encoding)?;
    let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
    Ok(IssuedToken {
        token,
        kid: key.kid.clone(),
        expires_at,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or not RS256")]
    Malformed,
    #[error("the token was not signed by a key this server publishes")]
    UnknownKey,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the signing keys are unavailable")]
    Keys(#[source] anyhow::Error),
}

/// Verifies a token we signed: RS256, a published kid, signature, audience, issuer, expiry
/// (60 s leeway, as PowerSync), and the user id claim.
pub async fn verify(
    keys: &KeyRing,
    pool: &PgPool,
    config: &Config,
    token: &str,
) -> Result<Uuid, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(TokenError::Malformed);
    }
    let kid = header.kid.ok_or(TokenError::UnknownKey)?;
    let ring = keys.keys(pool).await.map_err(TokenError::Keys)?;
    let key = ring
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = CLOCK_LEEWAY.as_secs();
    validation.set_audience(&[&config.powersync.audience]);
    validation.set_issuer(&[issuer(config)]);
    validation.set_required_spec_claims(&["sub", "exp", "iat", "aud", "iss"]);
    let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
        .map_err(|e| TokenError::Invalid(e.to_string()))?;
    Uuid::parse_str(&data.claims.sub)
        .map_err(|_| TokenError::Invalid("sub is not a user id".into()))
}
