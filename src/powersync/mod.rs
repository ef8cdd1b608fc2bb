//! The PowerSync service's configuration, rendered from notebox's, so the two can never
//! disagree on the audience, the key set URL, the publication or who syncs what
//! (powersync.md §5). Secrets are never written: the file names `PS_*` environment
//! variables (`!env`), which are the only ones PowerSync substitutes.

mod checks;
mod probe;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_yaml_ng::Value as YamlValue;
use serde_yaml_ng::value::{Tag, TaggedValue};
use url::Url;

use crate::config::Config;
use crate::schema::SyncSchema;

pub use checks::{checks, replication_slot};
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

/// The sync config PowerSync runs (edition-3 sync streams).
#[derive(Debug, Serialize)]
struct SyncConfig {
    config: Edition,
    streams: BTreeMap<String, Stream>,
}

#[derive(Debug, Serialize)]
struct Edition {
    edition: u8,
}

#[derive(Debug, Serialize)]
struct Stream {
    auto_subscribe: bool,
    query: String,
}

/// The sync config: the sync schema's streams, every one subscribed on connect, so each
/// user receives exactly their personal rows, their notebooks with their notes and member
/// lists, and their own refused uploads.
pub fn sync_config(config: &Config) -> String {
    let schema = SyncSchema::new(config).expect("a validated config has a valid sync schema");
    let rendered = SyncConfig {
        config: Edition { edition: 3 },
        streams: schema
            .streams()
            .into_iter()
            .map(|(name, query)| {
                let stream = Stream {
                    auto_subscribe: true,
                    query,
                };
                (name, stream)
            })
            .collect(),
    };
    format!(
        "# Rendered by `notebox powersync-config` from notebox's configuration: edit that, not this.\n{}",
        to_yaml(&rendered)
    )
}

fn to_yaml(value: &impl Serialize) -> String {
    serde_yaml_ng::to_string(value).expect("plain structs always serialize")
}

/// `!env NAME`: PowerSync substitutes the variable (only `PS_*` names) when it loads.
fn env(name: &str) -> YamlValue {
    YamlValue::Tagged(Box::new(TaggedValue {
        tag: Tag::new("env"),
        value: YamlValue::String(name.to_owned()),
    }))
}

/// The PowerSync service config (`powersync.yaml`).
#[derive(Debug, Serialize)]
struct ServiceConfig {
    replication: Replication,
    storage: Storage,
    port: u16,
    sync_config: SyncContent,
    client_auth: ClientAuth,
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<Api>,
    healthcheck: HealthCheck,
    telemetry: Telemetry,
}

#[derive(Debug, Serialize)]
struct Replication {
    connections: Vec<Connection>,
}

#[derive(Debug, Serialize)]
struct Connection {
    #[serde(rename = "type")]
    kind: &'static str,
    hostname: String,
    port: u16,
    database: String,
    username: String,
    password: YamlValue,
    /// Not read from a URI (PowerSync defaults to verify-full): taken from database.url.
    sslmode: &'static str,
    /// The CA's PEM (PowerSync takes the certificate itself, not a path).
    #[serde(skip_serializing_if = "Option::is_none")]
    cacert: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Storage {
    /// powersync.storage_database is empty: bucket storage is the operator's to provide.
    Uri {
        #[serde(rename = "type")]
        kind: &'static str,
        uri: YamlValue,
        sslmode: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        cacert: Option<String>,
    },
    Database(Connection),
}

#[derive(Debug, Serialize)]
struct SyncContent {
    content: String,
}

#[derive(Debug, Serialize)]
struct ClientAuth {
    /// notebox publishes its signing keys here and rotates them without downtime.
    jwks_uri: String,
    audience: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Api {
    tokens: Vec<YamlValue>,
}

#[derive(Debug, Serialize)]
struct HealthCheck {
    probes: Probes,
}

#[derive(Debug, Serialize)]
struct Probes {
    use_http: bool,
}

#[derive(Debug, Serialize)]
struct Telemetry {
    disable_telemetry_sharing: bool,
}

/// The PowerSync service config (`powersync.yaml`), sync config inline; refused when
/// database.url asks for TLS PowerSync cannot be told about (e.g. an unreadable CA).
pub fn service_config(config: &Config) -> Result<String, String> {
    let ps = &config.powersync;
    let db = Url::parse(config.database.url.expose()).ok();
    let hostname = db
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    let port = db.as_ref().and_then(Url::port).unwrap_or(5432);
    let database = db
        .as_ref()
        .map(|u| u.path().trim_start_matches('/').to_owned())
        .unwrap_or_default();
    let tls = crate::db::tls::for_powersync(config.database.url.expose())?;
    let storage = if ps.storage_database.is_empty() {
        Storage::Uri {
            kind: "postgresql",
            uri: env(ENV_STORAGE_URI),
            sslmode: tls.sslmode,
            cacert: tls.cacert.clone(),
        }
    } else {
        Storage::Database(Connection {
            kind: "postgresql",
            hostname: hostname.clone(),
            port,
            database: ps.storage_database.clone(),
            username: ps.storage_user.clone(),
            password: env(ENV_STORAGE_PASSWORD),
            sslmode: tls.sslmode,
            cacert: tls.cacert.clone(),
        })
    };
    let rendered = ServiceConfig {
        replication: Replication {
            connections: vec![Connection {
                kind: "postgresql",
                hostname,
                port,
                database,
                username: ps.replication_role.clone(),
                password: env(ENV_REPLICATION_PASSWORD),
                sslmode: tls.sslmode,
                cacert: tls.cacert,
            }],
        },
        storage,
        port: ps.internal_url.port_or_known_default().unwrap_or(8080),
        sync_config: SyncContent {
            content: sync_config(config),
        },
        client_auth: ClientAuth {
            jwks_uri: ps.jwks_url.to_string(),
            audience: vec![ps.audience.clone()],
        },
        // Only with a token configured: `!env` of an unset variable stops PowerSync.
        api: ps.api_token.as_ref().map(|_| Api {
            tokens: vec![env(ENV_API_TOKEN)],
        }),
        healthcheck: HealthCheck {
            probes: Probes { use_http: true },
        },
        telemetry: Telemetry {
            disable_telemetry_sharing: !ps.share_telemetry,
        },
    };
    Ok(format!(
        "# PowerSync service configuration, rendered by `notebox powersync-config` from notebox's\n\
         # configuration: edit that and render again, never this file. Secrets come from the\n\
         # environment: {}.\n{}",
        required_env(config).join(", "),
        to_yaml(&rendered)
    ))
}
