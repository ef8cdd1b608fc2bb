//! The semantic checks serde cannot express: each problem one sentence naming its key.

use std::time::Duration;

use url::Url;

use super::{Config, MAX_TOKEN_TTL, REQUEST_TIMEOUT};

impl Config {
    /// Semantic checks serde cannot express, each as one sentence.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let ttl = self.powersync.token_ttl;
        if ttl.is_zero() || ttl > MAX_TOKEN_TTL {
            problems.push(format!(
                "powersync.token_ttl is {}, but PowerSync only accepts tokens that live between 1s and 24h: pick e.g. \"15m\"",
                humantime::format_duration(ttl)
            ));
        }
        if self.powersync.audience.trim().is_empty() {
            problems.push("powersync.audience is empty, but PowerSync rejects every token without an audience: set it, e.g. \"powersync\"".into());
        }
        for (name, url) in [
            ("server.public_url", &self.server.public_url),
            ("powersync.url", &self.powersync.url),
            ("powersync.internal_url", &self.powersync.internal_url),
            ("powersync.jwks_url", &self.powersync.jwks_url),
        ] {
            if !matches!(url.scheme(), "http" | "https") {
                problems.push(format!(
                    "{name} is {url}, but it must be an http:// or https:// URL"
                ));
            }
        }
        match Url::parse(self.database.url.expose()) {
            Ok(url) if matches!(url.scheme(), "postgres" | "postgresql") => {}
            _ => problems.push(
                "database.url must be a postgres:// URL, e.g. postgres://notebox:PASSWORD@localhost:5432/notebox".into(),
            ),
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections must be at least 1".into());
        }
        if self.auth.session_ttl.is_zero() {
            problems.push("auth.session_ttl must be longer than 0s, e.g. \"30d\"".into());
        }
        if self.auth.invitation_ttl.is_zero() {
            problems.push("auth.invitation_ttl must be longer than 0s, e.g. \"7d\"".into());
        }
        if let Some(oidc) = &self.auth.oidc {
            oidc.problems(&mut problems);
        }
        if self.auth.min_password_length < 8 {
            problems.push("auth.min_password_length must be at least 8".into());
        }
        if let Err(problem) = crate::schema::SyncSchema::new(self) {
            problems.push(problem);
        }
        if self.notes.trash_days == 0 {
            problems.push("notes.trash_days must be at least 1 (deleted notes stay restorable that many days)".into());
        }
        if self.upload.ledger_retention < Duration::from_secs(86_400) {
            problems.push("upload.ledger_retention must be at least 1d: a device offline longer could have a retried upload applied twice".into());
        }
        if self.server.header_read_timeout.is_zero() {
            problems.push("server.header_read_timeout must be longer than 0s, e.g. \"10s\"".into());
        }
        if self.server.idle_timeout < REQUEST_TIMEOUT {
            problems.push(format!(
                "server.idle_timeout must be at least {} (a request may take that long without traffic), e.g. \"60s\"",
                humantime::format_duration(REQUEST_TIMEOUT)
            ));
        }
        if self.server.max_connections == 0 {
            problems.push("server.max_connections must be at least 1".into());
        }
        for (key, secret) in [
            (
                "powersync.replication_password",
                &self.powersync.replication_password,
            ),
            (
                "powersync.storage_password",
                &self.powersync.storage_password,
            ),
            ("powersync.api_token", &self.powersync.api_token),
        ] {
            if secret.as_ref().is_some_and(|s| is_placeholder(s.expose())) {
                problems.push(format!(
                    "{key} is empty or a placeholder (like \"change-me\"): set a real secret, e.g. from `openssl rand -hex 24`, or leave it unset"
                ));
            }
        }
        if self.upload.max_body.as_u64() < 1024 {
            problems.push("upload.max_body must be at least 1KiB".into());
        }
        let statement_timeout = self.database.statement_timeout;
        if statement_timeout.is_zero() || statement_timeout >= REQUEST_TIMEOUT {
            problems.push(format!(
                "database.statement_timeout must be between 1ms and the {}s request timeout, e.g. \"20s\"",
                REQUEST_TIMEOUT.as_secs()
            ));
        }
        if self.upload.max_value.as_u64() == 0 || self.upload.max_value > self.upload.max_body {
            problems
                .push("upload.max_value must be more than 0 and at most upload.max_body".into());
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            problems.push(format!(
                "log.level {:?} is not a valid filter ({e}); use e.g. \"info\"",
                self.log.level
            ));
        }
        problems
    }
}

/// Values that only say "put a secret here": an install that kept them is open to anyone
/// who read the example.
fn is_placeholder(secret: &str) -> bool {
    let normalized: String = secret
        .trim()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(normalized.as_str(), "" | "changeme" | "password")
}
