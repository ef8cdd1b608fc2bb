//! `notebox check`, PowerSync part: is the service up, can it get our keys, is it
//! replicating, and how far behind is it.

use sqlx::PgPool;

use super::{Liveness, liveness};
use crate::config::Config;
use crate::db::{Check, Severity};

pub async fn checks(pool: &PgPool, config: &Config, client: &reqwest::Client) -> Vec<Check> {
    let ps = &config.powersync;
    let mut checks = vec![match liveness(client, &ps.internal_url).await {
        Liveness::Up => Check::new(
            "powersync service",
            Severity::Ok,
            format!("{} is live", ps.internal_url),
        ),
        Liveness::Down(why) => Check::new(
            "powersync service",
            Severity::Warn,
            format!(
                "{why}; clients cannot sync until it runs: start it, or fix powersync.internal_url"
            ),
        ),
    }];
    checks.push(jwks(config, client).await);
    if let Some(check) = diagnostics(config, client).await {
        checks.push(check);
    }
    checks.push(slot(pool).await);
    checks
}

/// The key set as PowerSync fetches it (from `powersync.jwks_url`).
async fn jwks(config: &Config, client: &reqwest::Client) -> Check {
    let url = &config.powersync.jwks_url;
    let fix = "PowerSync verifies every token with it: make powersync.jwks_url point at this notebox (…/.well-known/jwks.json) as PowerSync reaches it";
    let response = match client
        .get(url.clone())
        .timeout(std::time::Duration::from_secs(3))
        .send()
        .await
    {
        Ok(response) => response,
        Err(e) => {
            return Check::new(
                "jwks",
                Severity::Warn,
                format!("cannot fetch {url} ({e}); {fix}"),
            );
        }
    };
    let body: serde_json::Value = match response.error_for_status() {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(e) => return Check::new("jwks", Severity::Warn, format!("{url} answered {e}; {fix}")),
    };
    let kids: Vec<&str> = body["keys"]
        .as_array()
        .map(|keys| keys.iter().filter_map(|k| k["kid"].as_str()).collect())
        .unwrap_or_default();
    if kids.is_empty() {
        Check::new(
            "jwks",
            Severity::Warn,
            format!("{url} publishes no key with a kid; {fix}"),
        )
    } else {
        Check::new(
            "jwks",
            Severity::Ok,
            format!("{url} publishes {} key(s)", kids.len()),
        )
    }
}

/// PowerSync's own view, through its admin API, when `powersync.api_token` is set.
async fn diagnostics(config: &Config, client: &reqwest::Client) -> Option<Check> {
    let token = config.powersync.api_token.as_ref()?;
    let url = config
        .powersync
        .internal_url
        .join("api/admin/v1/diagnostics")
        .ok()?;
    let answer = client
        .post(url.clone())
        .bearer_auth(token.expose())
        .json(&serde_json::json!({}))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    let body: serde_json::Value = match answer {
        Ok(response) if response.status().is_success() => response.json().await.unwrap_or_default(),
        Ok(response) => {
            return Some(Check::new(
                "powersync diagnostics",
                Severity::Warn,
                format!(
                    "{url} answered {}: check powersync.api_token",
                    response.status()
                ),
            ));
        }
        Err(e) => {
            return Some(Check::new(
                "powersync diagnostics",
                Severity::Warn,
                format!("{url}: {e}"),
            ));
        }
    };
    let mut errors = Vec::new();
    collect_errors(&body, &mut errors);
    Some(if errors.is_empty() {
        Check::new("powersync diagnostics", Severity::Ok, "no errors reported")
    } else {
        Check::new("powersync diagnostics", Severity::Warn, errors.join("; "))
    })
}

/// Every `errors: [{message}]` anywhere in the diagnostics document.
fn collect_errors(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if key == "errors" {
                    for error in child.as_array().into_iter().flatten() {
                        into.push(
                            error["message"]
                                .as_str()
                                .map_or_else(|| error.to_string(), str::to_owned),
                        );
                    }
                } else {
                    collect_errors(child, into);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_errors(item, into)),
        _ => {}
    }
}

/// PowerSync's replication slot (`powersync_*`, an active one first): its name, whether
/// something reads it, and how many bytes of WAL it is behind.
pub async fn replication_slot(
    pool: &PgPool,
) -> Result<Option<(String, bool, Option<i64>)>, sqlx::Error> {
    sqlx::query_as(
        "select slot_name::text, active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint
         from pg_replication_slots where slot_name like 'powersync\\_%' order by active desc limit 1",
    )
    .fetch_optional(pool)
    .await
}

/// PowerSync's replication slot: present, active, and its lag.
async fn slot(pool: &PgPool) -> Check {
    match replication_slot(pool).await {
        Ok(Some((name, true, lag))) => Check::new(
            "replication slot",
            Severity::Ok,
            format!(
                "{name} is active, {} behind",
                bytesize::ByteSize::b(lag.unwrap_or(0).max(0) as u64)
            ),
        ),
        Ok(Some((name, false, lag))) => Check::new(
            "replication slot",
            Severity::Warn,
            format!(
                "{name} exists but nothing reads it ({} of WAL retained): is PowerSync running? An abandoned slot keeps WAL forever; drop it with select pg_drop_replication_slot('{name}') if PowerSync is gone for good",
                bytesize::ByteSize::b(lag.unwrap_or(0).max(0) as u64)
            ),
        ),
        Ok(None) => Check::new(
            "replication slot",
            Severity::Warn,
            "PowerSync has no replication slot yet: it creates one when it starts replicating",
        ),
        Err(e) => Check::new(
            "replication slot",
            Severity::Warn,
            format!("cannot read pg_replication_slots: {e}"),
        ),
    }
}
