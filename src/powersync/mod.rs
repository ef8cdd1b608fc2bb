//! The PowerSync service's configuration, rendered from notebox's, so the two can never
//! disagree on the audience, the key set URL, the publication or who syncs what
//! (powersync.md §5). Secrets are never written: the file names `PS_*` environment
//! variables (`!env`), which are the only ones PowerSync substitutes.

mod checks;
mod probe;

use std::fmt::Write;

use url::Url;

use crate::config::Config;
use crate::db::SYNCED_TABLES;

pub use checks::checks;
pub use probe::{Liveness, liveness};

/// Environment variables the rendered config expects in PowerSync's environment.
pub const ENV_REPLICATION_PASSWORD: &str = "PS_REPLICATION_PASSWORD";
pub const ENV_STORAGE_PASSWORD: &str = "PS_STORAGE_PASSWORD";
pub const ENV_STORAGE_URI: &str = "PS_STORAGE_URI";
pub const ENV_API_TOKEN: &str = "PS_API_TOKEN";

/// The `PS_*` variables the rendered config reads, which PowerSync's environment must set.
pub fn required_env(config: &Config) -> Vec<&'static str> {
    let ps = &config.powersync;
    let mut names = vec![ENV_REPLICATION_PASSWORD];
    names.push(if ps.storage_database.is_empty() {
        ENV_STORAGE_URI
    } else {
        ENV_STORAGE_PASSWORD
    });
    if ps.api_token.is_some() {
        names.push(ENV_API_TOKEN);
    }
    names
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("strings always serialize")
}

/// Each synced table with the column holding its owner's user id.
pub fn synced_tables(config: &Config) -> Vec<(&'static str, String)> {
    SYNCED_TABLES
        .iter()
        .map(|table| {
            let owner = config
                .upload
                .tables
                .get(*table)
                .map_or_else(|| "owner_id".to_owned(), |t| t.owner_column.clone());
            (*table, owner)
        })
        .collect()
}

/// The sync config: one bucket per user holding exactly their notes and their refused
/// uploads. `request.user_id()` is the token's `sub`, the same lowercase uuid text the
/// owner columns replicate as.
pub fn sync_config(config: &Config) -> String {
    let mut out = String::from(
        "# Rendered by `notebox powersync-config` from notebox's configuration: edit that, not this.\n\
         bucket_definitions:\n  user_data:\n    # One bucket per user: everything they own.\n    \
         parameters: SELECT request.user_id() AS user_id\n    data:\n",
    );
    for (table, owner) in synced_tables(config) {
        let _ = writeln!(
            out,
            "      - SELECT * FROM {table} WHERE \"{owner}\" = bucket.user_id"
        );
    }
    out
}

fn indent(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The PowerSync service config (`powersync.yaml`), sync config inline.
pub fn service_config(config: &Config) -> String {
    let ps = &config.powersync;
    let db = Url::parse(config.database.url.expose()).ok();
    let host = db
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    let port = db.as_ref().and_then(Url::port).unwrap_or(5432);
    let database = db
        .as_ref()
        .map(|u| u.path().trim_start_matches('/').to_owned())
        .unwrap_or_default();
    let listen_port = ps.internal_url.port_or_known_default().unwrap_or(8080);
    let storage = if ps.storage_database.is_empty() {
        format!(
            "storage:\n  # powersync.storage_database is empty: bucket storage is yours to provide.\n  type: postgresql\n  uri: !env {ENV_STORAGE_URI}\n  sslmode: disable\n"
        )
    } else {
        format!(
            "storage:\n  type: postgresql\n  hostname: {}\n  port: {port}\n  database: {}\n  username: {}\n  password: !env {ENV_STORAGE_PASSWORD}\n  sslmode: disable\n",
            quoted(&host),
            quoted(&ps.storage_database),
            quoted(&ps.storage_user)
        )
    };
    format!(
        "# PowerSync service configuration, rendered by `notebox powersync-config` from notebox's\n\
         # configuration: edit that and render again, never this file. Secrets come from the\n\
         # environment: {secrets}.\n\
         replication:\n  connections:\n    - type: postgresql\n      hostname: {host}\n      port: {port}\n      database: {database}\n      \
         username: {role}\n      password: !env {ENV_REPLICATION_PASSWORD}\n      \
         # Not read from a URI: PowerSync defaults to verify-full.\n      sslmode: disable\n\
         {storage}\
         port: {listen_port}\n\
         sync_config:\n  content: |\n{sync}\n\
         client_auth:\n  # notebox publishes its RS256 keys here and rotates them without downtime.\n  \
         jwks_uri: {jwks}\n  audience: [{audience}]\n\
         {api}\
         healthcheck:\n  probes:\n    use_http: true\n\
         telemetry:\n  disable_telemetry_sharing: {no_telemetry}\n",
        secrets = required_env(config).join(", "),
        no_telemetry = !ps.share_telemetry,
        host = quoted(&host),
        database = quoted(&database),
        role = quoted(&ps.replication_role),
        sync = indent(&sync_config(config), 4),
        jwks = quoted(ps.jwks_url.as_str()),
        audience = quoted(&ps.audience),
        // Only with a token configured: `!env` of an unset variable stops PowerSync.
        api = if ps.api_token.is_some() {
            format!("api:\n  tokens:\n    - !env {ENV_API_TOKEN}\n")
        } else {
            String::new()
        },
    )
}
