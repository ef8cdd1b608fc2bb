//! Login sessions: opaque random tokens, stored only as their SHA-256.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::users::User;

/// A new session's token (shown to the client once) and its expiry.
pub struct NewSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub async fn create(
    pool: &PgPool,
    user_id: Uuid,
    ttl: Duration,
) -> Result<NewSession, sqlx::Error> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let expires_at =
        Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(30));
    sqlx::query("insert into sessions (token_hash, user_id, expires_at) values ($1, $2, $3)")
        .bind(hash_token(&token))
        .bind(user_id)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(NewSession { token, expires_at })
}

/// The user of a live session and when it expires: not expired, not revoked, user not
/// disabled. Refreshes `last_seen_at` at most once a minute, and slides the expiry: a session
/// used after half of `ttl` has passed (it expires within `ttl / 2`) is renewed to run `ttl`
/// from now, so someone who uses notebox is never logged out by the clock. Both in the same
/// round trip; the expiry returned is the renewed one.
pub async fn lookup(
    pool: &PgPool,
    token: &str,
    ttl: Duration,
) -> Result<Option<(User, DateTime<Utc>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Live {
        #[sqlx(flatten)]
        user: User,
        expires_at: DateTime<Utc>,
    }
    let live: Option<Live> = sqlx::query_as(
        "with live as (
             select s.token_hash, s.expires_at, u.id, u.email, u.display_name, u.is_admin, u.created_at, u.disabled_at
             from sessions s join users u on u.id = s.user_id
             where s.token_hash = $1 and s.expires_at > now() and u.disabled_at is null
         ), touched as (
             update sessions set
                 last_seen_at = now(),
                 expires_at = greatest(expires_at, case
                     when expires_at < now() + $2 * interval '1 second' / 2
                     then now() + $2 * interval '1 second' else expires_at end)
             where token_hash = (select token_hash from live)
               and (last_seen_at < now() - interval '1 minute'
                    or expires_at < now() + $2 * interval '1 second' / 2)
             returning expires_at
         )
         select id, email, display_name, is_admin, created_at, disabled_at,
                coalesce((select expires_at from touched), live.expires_at) as expires_at
         from live",
    )
    .bind(hash_token(token))
    .bind(ttl.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    Ok(live.map(|l| (l.user, l.expires_at)))
}

pub async fn revoke(pool: &PgPool, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sessions where token_hash = $1")
        .bind(hash_token(token))
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes sessions that expired more than a day ago (called now and then by `serve`).
pub async fn purge_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("delete from sessions where expires_at < now() - interval '1 day'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
