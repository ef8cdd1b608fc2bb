//! Why the round trip broke, in one sentence each: the cause PowerSync or Postgres gives,
//! and the fix.

use sqlx::PgPool;

use super::http::SdkHttp;
use crate::config::Config;
use crate::db::PUBLICATION;
use crate::powersync::{Liveness, liveness, replication_slot};

/// The sync stream never connected: a refusal's code says which part of the token setup
/// is wrong; no answer at all means the service is not reachable.
pub fn not_connected(config: &Config, http: &SdkHttp, sdk_error: Option<&str>) -> String {
    let ps = &config.powersync;
    if let Some(refusal) = http.last_refusal() {
        let code = refusal.code().unwrap_or_default();
        return match code.as_str() {
            "PSYNC_S2105" => format!(
                "PowerSync refused the token's audience ({code}): its client_auth.audience must contain powersync.audience ({:?}); render its config with `notebox powersync-config` and restart it",
                ps.audience
            ),
            "PSYNC_S2101" => format!(
                "PowerSync has no key for the token's kid ({code}): it has not fetched notebox's key set yet, or from elsewhere; its client_auth.jwks_uri must be powersync.jwks_url ({}) as the service reaches it (after `keys rotate`, wait a minute)",
                ps.jwks_url
            ),
            "PSYNC_S2204" => format!(
                "PowerSync cannot fetch notebox's key set ({code}): make {} reachable from the service (powersync.jwks_url) and keep notebox running",
                ps.jwks_url
            ),
            "PSYNC_S2103" => format!(
                "PowerSync says the token has expired ({code}): the clocks of notebox's and PowerSync's machines disagree; sync them (NTP)"
            ),
            "PSYNC_S2302" => format!(
                "PowerSync has no active sync config ({code}): it is still starting, or its sync config failed to load; see its log, and render it with `notebox powersync-config`"
            ),
            _ => format!(
                "PowerSync refused the sync stream (HTTP {}: {}): see the service's log",
                refusal.status,
                refusal.body.trim()
            ),
        };
    }
    if let Some(error) = http.last_send_error() {
        return format!(
            "cannot reach PowerSync at {} ({error}): start the service, or fix powersync.internal_url",
            ps.internal_url
        );
    }
    match sdk_error {
        Some(error) => format!("the sync stream failed ({error}): see PowerSync's log"),
        None => format!(
            "the sync stream to {} did not connect within 20 s: see PowerSync's log",
            ps.internal_url
        ),
    }
}

/// A change that notebox committed did not reach the local database: find the first link
/// of Postgres → publication → replication slot → service → sync config that is broken.
pub async fn not_arrived(pool: &PgPool, config: &Config, http: &SdkHttp, what: &str) -> String {
    let ps = &config.powersync;
    let published: Result<bool, _> = sqlx::query_scalar(
        "select exists (select 1 from pg_publication_tables where pubname = $1 and tablename = 'notes')",
    )
    .bind(PUBLICATION)
    .fetch_one(pool)
    .await;
    if let Ok(false) = published {
        return format!(
            "{what} is in Postgres, but the {PUBLICATION} publication does not list notes, so nothing replicates: run `notebox migrate`"
        );
    }
    match replication_slot(pool).await {
        Ok(None) => {
            return format!(
                "{what} is in Postgres, but PowerSync has no replication slot on this database: point its replication connection at database.url (`notebox powersync-config`) and restart it"
            );
        }
        Ok(Some((name, false, _))) => {
            return format!(
                "{what} is in Postgres, but nothing reads the replication slot {name}: PowerSync has stopped replicating; restart it and see its log"
            );
        }
        _ => {}
    }
    if let Liveness::Down(why) = liveness(&reqwest::Client::new(), &ps.internal_url).await {
        return format!("{what} did not come back: {why}; the service has stopped: restart it");
    }
    match http.last_refusal() {
        Some(refusal) => format!(
            "{what} did not come back within 30 s; PowerSync's last refusal: HTTP {} {}: see its log",
            refusal.status,
            refusal.body.trim()
        ),
        None => format!(
            "{what} did not come back within 30 s although it is in Postgres and the replication slot is active: replication lags (see `notebox check`) or PowerSync runs another sync config; render it with `notebox powersync-config` and restart the service"
        ),
    }
}
