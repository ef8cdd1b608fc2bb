//! The exactly-once ledger: each client transaction that carries a client id and a tx id is
//! claimed in `upload_ledger` in the same Postgres transaction (or statement) as its data,
//! so "committed" and "recorded" never disagree. A retried transaction finds its claim and
//! is answered with the recorded result instead of being applied again.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// (client id, tx id): a transaction of one client database.
pub type LedgerKey<'a> = (&'a str, i64);

/// A CTE named `claim` that claims the key (parameters `$2` the user, `$n`, `$n+1` the key)
/// and yields one row only when this statement is the first to claim it.
pub fn claim_cte(first_param: usize) -> String {
    format!(
        "claim as (insert into upload_ledger (user_id, client_id, tx_id) \
         values ($2::uuid, ${a}, ${b}) on conflict do nothing returning 1)",
        a = first_param,
        b = first_param + 1
    )
}

/// Claims the key inside the caller's transaction; false when it was claimed before.
pub async fn claim(
    conn: &mut PgConnection,
    user: Uuid,
    key: LedgerKey<'_>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "insert into upload_ledger (user_id, client_id, tx_id) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(user)
    .bind(key.0)
    .bind(key.1)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// What was answered for the key: None when it was never applied; Some(None) for success,
/// Some(Some(result)) for the refusal answered then.
pub async fn recorded(
    conn: &mut PgConnection,
    user: Uuid,
    key: LedgerKey<'_>,
) -> Result<Option<Option<Value>>, sqlx::Error> {
    sqlx::query_scalar(
        "select result from upload_ledger where user_id = $1 and client_id = $2 and tx_id = $3",
    )
    .bind(user)
    .bind(key.0)
    .bind(key.1)
    .persistent(false) // planned for the ledger as it is (see `statements::cached_plan`)
    .fetch_optional(conn)
    .await
}

/// Records a refusal as the key's result (in the transaction that records the rejection).
pub async fn record_refusal(
    conn: &mut PgConnection,
    user: Uuid,
    key: LedgerKey<'_>,
    result: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into upload_ledger (user_id, client_id, tx_id, result) values ($1, $2, $3, $4) \
         on conflict (user_id, client_id, tx_id) do update set result = excluded.result",
    )
    .bind(user)
    .bind(key.0)
    .bind(key.1)
    .bind(result)
    .execute(conn)
    .await?;
    Ok(())
}
