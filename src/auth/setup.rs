//! First run: while no account exists, the first (admin) account can only be created with a
//! one-time setup token, so whoever reaches a fresh install first cannot take it over.
//! `notebox serve` prints a link holding one at start, `notebox setup-link` prints another;
//! only their SHA-256 is stored (in Postgres, so any replica accepts any of them), and all
//! of them die when the first account exists.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sqlx::{PgExecutor, PgPool};
use url::Url;

use super::sessions::hash_token;

/// The query parameter the web UI reads the token from.
pub const QUERY_PARAMETER: &str = "setup_token";

/// A fresh token, valid until the first account is created. None when one already exists.
pub async fn issue(pool: &PgPool) -> Result<Option<String>, sqlx::Error> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let stored = sqlx::query(
        "insert into setup_tokens (token_hash) select $1 where not exists (select 1 from users)",
    )
    .bind(hash_token(&token))
    .execute(pool)
    .await?;
    Ok((stored.rows_affected() == 1).then_some(token))
}

/// `<public_url>/?setup_token=…`: opens the first-run screen with the token filled in.
pub fn link(public_url: &Url, token: &str) -> Url {
    let mut url = public_url.clone();
    url.query_pairs_mut().append_pair(QUERY_PARAMETER, token);
    url
}

/// Whether `token` is one of the stored setup tokens.
pub async fn is_valid(db: impl PgExecutor<'_>, token: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from setup_tokens where token_hash = $1)")
        .bind(hash_token(token))
        .fetch_one(db)
        .await
}

/// Ends first run: every setup token dies (the first account now exists).
pub async fn finish(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("delete from setup_tokens").execute(db).await?;
    Ok(())
}
