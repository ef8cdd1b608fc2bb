//! Token signing keys (RS256, EdDSA or ES256, `auth.key_algorithm`): generated here, kept
//! in Postgres as PKCS#8 so every replica signs and publishes the same set, rotated without
//! downtime (powersync.md §2).
//!
//! A key's life: published from `created_at`; signs from `signing_from`; withdrawn from the
//! key set after `retire_after`. Rotation publishes the new key at once, lets it sign only
//! after a grace period (PowerSync refreshes the set every 5 minutes), and retires the old
//! one when the last token it signed has expired. A rotation may change the algorithm: the
//! old key (of any algorithm) stays published until then.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::{Mutex, RwLock};

pub use crate::config::KeyAlgorithm;

mod material;

use material::generate_blocking;
pub use material::{GeneratedKey, Jwk, SigningKey, generate};

/// How long a replica trusts its cached key set before reading Postgres again, so a
/// rotation made by another replica (or the CLI) is seen well within the grace period.
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// Serializes key creation across replicas (pg_advisory_xact_lock).
const KEY_LOCK: i64 = 0x6e6f_7465_626f_7801;
/// PowerSync accepts tokens up to 60 s past `exp`; keep their key published that long too.
pub const CLOCK_LEEWAY: Duration = Duration::from_secs(60);

type KeyRow = (String, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);

/// Every key still published, oldest first.
pub async fn load(pool: &PgPool) -> anyhow::Result<Vec<SigningKey>> {
    let rows: Vec<KeyRow> = sqlx::query_as(
        "select private_key_pem, created_at, signing_from, retire_after from signing_keys
         where retire_after is null or retire_after > now() order by signing_from, created_at",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(pem, created, from, retire)| SigningKey::from_pem(&pem, created, from, retire))
        .collect()
}

async fn insert(
    tx: &mut sqlx::PgConnection,
    key: &GeneratedKey,
    signing_from: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into signing_keys (kid, private_key_pem, signing_from) values ($1, $2, $3)",
    )
    .bind(&key.jwk.kid)
    .bind(&key.private_pem)
    .bind(signing_from)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Makes sure a key that may sign now exists; creates one (signing at once) if not.
/// Returns the new kid when it created one. Safe to call from many replicas at once.
pub async fn ensure_signing_key(
    pool: &PgPool,
    algorithm: KeyAlgorithm,
) -> anyhow::Result<Option<String>> {
    let usable = "select exists (select 1 from signing_keys where signing_from <= now()
                  and (retire_after is null or retire_after > now()))";
    if sqlx::query_scalar::<_, bool>(usable)
        .fetch_one(pool)
        .await?
    {
        return Ok(None);
    }
    let key = generate_blocking(algorithm).await?;
    let mut tx = crate::db::begin(pool).await?;
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(KEY_LOCK)
        .execute(&mut *tx)
        .await?;
    if sqlx::query_scalar::<_, bool>(usable)
        .fetch_one(&mut *tx)
        .await?
    {
        return Ok(None); // another replica won the race
    }
    insert(&mut tx, &key, Utc::now()).await?;
    tx.commit().await?;
    Ok(Some(key.jwk.kid))
}

/// What `keys rotate` did.
pub struct Rotation {
    pub kid: String,
    pub signing_from: DateTime<Utc>,
    pub retired: Vec<(String, DateTime<Utc>)>,
}

/// Publishes a new key (of `algorithm`) now, lets it sign after `grace`, and schedules the
/// retirement of the keys signing today (of any algorithm) for when their last token has
/// expired.
pub async fn rotate(
    pool: &PgPool,
    grace: Duration,
    token_ttl: Duration,
    algorithm: KeyAlgorithm,
) -> anyhow::Result<Rotation> {
    let key = generate_blocking(algorithm).await?;
    let signing_from = Utc::now() + grace;
    let retire_after = signing_from + token_ttl + CLOCK_LEEWAY;
    let mut tx = crate::db::begin(pool).await?;
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(KEY_LOCK)
        .execute(&mut *tx)
        .await?;
    let retired: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "update signing_keys set retire_after = least(coalesce(retire_after, $1), $1)
         where retire_after is null or retire_after > now() returning kid, retire_after",
    )
    .bind(retire_after)
    .fetch_all(&mut *tx)
    .await?;
    insert(&mut tx, &key, signing_from).await?;
    tx.commit().await?;
    Ok(Rotation {
        kid: key.jwk.kid,
        signing_from,
        retired,
    })
}

/// One row of `keys list`.
#[derive(sqlx::FromRow)]
pub struct KeyInfo {
    pub kid: String,
    pub created_at: DateTime<Utc>,
    pub signing_from: DateTime<Utc>,
    pub retire_after: Option<DateTime<Utc>>,
}

pub async fn list(pool: &PgPool) -> Result<Vec<KeyInfo>, sqlx::Error> {
    sqlx::query_as(
        "select kid, created_at, signing_from, retire_after from signing_keys order by created_at",
    )
    .fetch_all(pool)
    .await
}

/// The published keys as this replica last read them: every token request and JWKS
/// answer comes from memory, and the set stays served while Postgres is away.
#[derive(Default)]
pub struct KeyRing {
    cached: RwLock<Option<(Instant, Arc<Vec<SigningKey>>)>>,
    reload: Mutex<()>,
}

impl KeyRing {
    /// The published keys, re-read from Postgres when the cache is older than 30 s.
    /// If Postgres cannot be read, the last known set is served.
    pub async fn keys(&self, pool: &PgPool) -> anyhow::Result<Arc<Vec<SigningKey>>> {
        if let Some((at, keys)) = &*self.cached.read().await
            && at.elapsed() < REFRESH_EVERY
        {
            return Ok(keys.clone());
        }
        let _reloading = self.reload.lock().await;
        if let Some((at, keys)) = &*self.cached.read().await
            && at.elapsed() < REFRESH_EVERY
        {
            return Ok(keys.clone());
        }
        match load(pool).await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                *self.cached.write().await = Some((Instant::now(), keys.clone()));
                Ok(keys)
            }
            Err(error) => match &*self.cached.read().await {
                Some((_, keys)) => {
                    tracing::warn!(%error, "could not reload signing keys; serving the cached set");
                    Ok(keys.clone())
                }
                None => Err(error),
            },
        }
    }

    /// Forgets the cache, so the next call reads Postgres (after a rotation).
    pub async fn invalidate(&self) {
        *self.cached.write().await = None;
    }

    /// The key to sign with now: the newest whose signing period has begun. Creates the
    /// first key (of `algorithm`) on a fresh database.
    pub async fn signer(
        &self,
        pool: &PgPool,
        algorithm: KeyAlgorithm,
    ) -> anyhow::Result<(Arc<Vec<SigningKey>>, usize)> {
        let keys = self.keys(pool).await?;
        if let Some(index) = newest_signer(&keys, Utc::now()) {
            return Ok((keys, index));
        }
        ensure_signing_key(pool, algorithm).await?;
        self.invalidate().await;
        let keys = self.keys(pool).await?;
        let index = newest_signer(&keys, Utc::now())
            .ok_or_else(|| anyhow::anyhow!("no signing key could be created"))?;
        Ok((keys, index))
    }
}

fn newest_signer(keys: &[SigningKey], now: DateTime<Utc>) -> Option<usize> {
    keys.iter()
        .enumerate()
        .filter(|(_, key)| key.can_sign(now))
        .max_by_key(|(_, key)| (key.signing_from, key.created_at))
        .map(|(index, _)| index)
}
