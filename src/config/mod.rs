//! The one configuration notebox (and the PowerSync config it renders) runs from.
//!
//! Layers, last wins: built-in defaults (`#[serde(default)]`) → the TOML file named by
//! `--config`/`NOTEBOX_CONFIG` → `NOTEBOX_*` environment variables (`__` nests) →
//! `NOTEBOX_*_FILE` variables whose file holds the value (Docker secrets).

mod oidc;
mod secret;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytesize::ByteSize;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use url::Url;

pub use oidc::OidcConfig;
pub use secret::{Secret, redact_url_password};

/// The commented default configuration, shipped as `config/notebox.toml`.
pub const DEFAULT_TOML: &str = include_str!("../../config/notebox.toml");

const ENV_PREFIX: &str = "NOTEBOX_";

/// PowerSync refuses tokens whose `exp - iat` exceeds one day.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub powersync: PowerSyncConfig,
    pub auth: AuthConfig,
    pub upload: UploadConfig,
    pub notes: NotesConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub public_url: Url,
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    pub metrics_token: Option<Secret>,
    /// Peers whose `Forwarded` / `X-Forwarded-For` are believed (CIDR ranges or addresses).
    #[serde(deserialize_with = "proxies::deserialize")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A connection must send a request's headers within this (also how long an idle
    /// keep-alive connection stays open waiting for the next request).
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// A connection with no traffic either way for this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Open connections at most; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: ([0, 0, 0, 0], 8080).into(),
            public_url: Url::parse("http://localhost:8080").expect("valid default URL"),
            shutdown_timeout: Duration::from_secs(10),
            metrics_token: None,
            trusted_proxies: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

mod proxies {
    use std::net::IpAddr;

    use ipnet::IpNet;
    use serde::{Deserialize, Deserializer};

    /// `"10.0.0.0/8"` or a single address, `"192.0.2.1"`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        serde::de::Error::custom(format!(
                            "{entry:?} is neither an IP address nor a CIDR range like \"10.0.0.0/8\""
                        ))
                    })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    #[serde(serialize_with = "secret::serialize_url_redacted")]
    pub url: Secret,
    /// A privileged role for `migrate` and the setup step only (roles, storage database,
    /// grants to the `url` role); unset: `url` does those too.
    pub admin_url: Option<Secret>,
    pub max_connections: u32,
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    pub migrate_on_start: bool,
    /// Postgres cancels any one statement of notebox's that runs longer.
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
    /// Postgres ends a notebox session left idle inside a transaction this long.
    #[serde(with = "humantime_serde")]
    pub idle_in_transaction_timeout: Duration,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: Secret::new("postgres://notebox:notebox@localhost:5432/notebox"),
            admin_url: None,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            migrate_on_start: true,
            statement_timeout: Duration::from_secs(20),
            idle_in_transaction_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowerSyncConfig {
    pub url: Url,
    pub internal_url: Url,
    pub audience: String,
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
    pub replication_role: String,
    pub replication_password: Option<Secret>,
    pub storage_database: String,
    pub storage_user: String,
    pub storage_password: Option<Secret>,
    pub jwks_url: Url,
    pub api_token: Option<Secret>,
    pub share_telemetry: bool,
}

impl Default for PowerSyncConfig {
    fn default() -> Self {
        let local = Url::parse("http://localhost:8095").expect("valid default URL");
        Self {
            url: local.clone(),
            internal_url: local,
            audience: "powersync".into(),
            token_ttl: Duration::from_secs(15 * 60),
            replication_role: "powersync_role".into(),
            replication_password: None,
            storage_database: "powersync_storage".into(),
            storage_user: "powersync_storage".into(),
            storage_password: None,
            jwks_url: Url::parse("http://localhost:8080/.well-known/jwks.json")
                .expect("valid default URL"),
            api_token: None,
            share_telemetry: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SignupPolicy {
    Closed,
    Open,
}

/// The signature of PowerSync tokens (`auth.key_algorithm`): every one PowerSync accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, clap::ValueEnum)]
#[value(rename_all = "verbatim")]
pub enum KeyAlgorithm {
    /// RSA-2048, PKCS#1 v1.5 with SHA-256: what every JWT library verifies.
    #[default]
    RS256,
    /// Ed25519: a signature costs microseconds instead of RSA's milliseconds.
    EdDSA,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub signup: SignupPolicy,
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    pub min_password_length: usize,
    #[serde(with = "humantime_serde")]
    pub key_rotation_grace: Duration,
    /// The algorithm of keys created from now on (the first key, `keys rotate`).
    pub key_algorithm: KeyAlgorithm,
    #[serde(with = "humantime_serde")]
    pub recheck_after: Duration,
    /// How long an invitation link stays usable.
    #[serde(with = "humantime_serde")]
    pub invitation_ttl: Duration,
    /// Single sign-on (`[auth.oidc]`); absent: passwords only.
    pub oidc: Option<OidcConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            signup: SignupPolicy::Closed,
            session_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            min_password_length: 10,
            key_rotation_grace: Duration::from_secs(10 * 60),
            key_algorithm: KeyAlgorithm::RS256,
            recheck_after: Duration::from_secs(10),
            invitation_ttl: Duration::from_secs(7 * 24 * 60 * 60),
            oidc: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadConfig {
    pub max_body: ByteSize,
    /// How long applied client transactions are remembered (exactly-once replays).
    #[serde(with = "humantime_serde")]
    pub ledger_retention: Duration,
    pub max_value: ByteSize,
    pub tables: BTreeMap<String, UploadTable>,
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            max_body: ByteSize::mib(8),
            max_value: ByteSize::kib(256),
            ledger_retention: Duration::from_secs(30 * 86_400),
            tables: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotesConfig {
    /// Days a deleted note stays restorable.
    pub trash_days: u32,
    /// At most one saved version of a note per this long (plus one before every merge,
    /// conflict and restore).
    #[serde(with = "humantime_serde")]
    pub history_interval: Duration,
}

impl Default for NotesConfig {
    fn default() -> Self {
        Self {
            trash_days: 30,
            history_interval: Duration::from_secs(10 * 60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UploadTable {
    pub owner_column: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            level: "info".into(),
        }
    }
}

/// Why a configuration could not be loaded: one sentence per problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "config file {0} does not exist; pass an existing file with --config or NOTEBOX_CONFIG"
    )]
    MissingFile(PathBuf),
    #[error("{0}")]
    Invalid(String),
    #[error("{var} names the file {path}, which could not be read: {source}")]
    SecretFile {
        var: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Config {
    /// Loads the configuration from the process environment and an optional file.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_figment(Self::figment(file)?)
    }

    /// The layered figment, reading `NOTEBOX_*` variables from the process environment.
    pub fn figment(file: Option<&Path>) -> Result<Figment, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed(ENV_PREFIX)
                .ignore(&["CONFIG"])
                // NOTEBOX_E2E_* configure the end-to-end test harness, not notebox.
                .filter(|key| {
                    let key = key.as_str().to_ascii_lowercase();
                    !key.ends_with("_file") && !key.starts_with("e2e_")
                })
                .split("__"),
        );
        for (var, path) in std::env::vars() {
            let Some(key) = secret_file_key(&var) else {
                continue;
            };
            let path = PathBuf::from(path);
            let value =
                std::fs::read_to_string(&path).map_err(|source| ConfigError::SecretFile {
                    var: var.clone(),
                    path: path.clone(),
                    source,
                })?;
            figment = figment.merge(Serialized::default(
                &key,
                value.trim_end_matches(['\n', '\r']),
            ));
        }
        Ok(figment)
    }

    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|e| {
            ConfigError::Invalid(
                e.into_iter()
                    .map(describe_figment_error)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems.join("; ")))
        }
    }

    /// The effective configuration as TOML with every secret shown as `***`.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the config always serializes")
    }
}

/// The longest a request may run before it is answered 408. A request can be that long
/// without traffic, so `server.idle_timeout` may not be shorter.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `NOTEBOX_DATABASE__URL_FILE` → `database.url`.
fn secret_file_key(var: &str) -> Option<String> {
    let rest = var.strip_prefix(ENV_PREFIX)?.strip_suffix("_FILE")?;
    (!rest.is_empty()).then(|| rest.to_ascii_lowercase().replace("__", "."))
}

/// Renders one figment error as a sentence that names the key and where it came from.
fn describe_figment_error(error: figment::Error) -> String {
    use figment::error::Kind;
    let key = error.path.join(".");
    let source = error
        .metadata
        .as_ref()
        .map(|meta| match &meta.source {
            Some(figment::Source::File(path)) => format!(" in {}", path.display()),
            Some(_) | None if meta.name.contains("environment") => {
                format!(" from environment variable {}", env_name(&error.path))
            }
            _ => String::new(),
        })
        .unwrap_or_default();
    let what = match &error.kind {
        Kind::UnknownField(field, expected) => {
            let key = if key.is_empty() { field.clone() } else { key };
            let nesting = field
                .split_once('_')
                .filter(|(section, _)| expected.iter().any(|e| e == section));
            let hint = match nesting {
                // NOTEBOX_DATABASE_URL: one underscore where two were meant.
                Some((section, rest)) => format!(
                    " (sections nest with a double underscore: {ENV_PREFIX}{}__{})",
                    section.to_ascii_uppercase(),
                    rest.to_ascii_uppercase()
                ),
                None if expected.is_empty() => String::new(),
                None => format!(" (expected one of: {})", expected.join(", ")),
            };
            return format!("unknown key `{key}`{source}{hint}");
        }
        other => other.to_string(),
    };
    if key.is_empty() {
        format!("invalid configuration{source}: {what}")
    } else {
        format!("invalid value for `{key}`{source}: {what}")
    }
}

fn env_name(path: &[String]) -> String {
    format!("{ENV_PREFIX}{}", path.join("__").to_ascii_uppercase())
}

#[cfg(test)]
mod tests;
