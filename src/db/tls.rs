//! TLS to Postgres: what `sslmode` and `sslrootcert` in database.url ask for (sqlx honours
//! both), whether the connection really is encrypted, what to tell the operator when the
//! handshake fails, and how PowerSync (which reads neither from a URI) must be told.

use sqlx::PgPool;

use super::{Check, Severity};
use crate::config::redact_url_password;

/// `sslmode` and `sslrootcert` of a Postgres URL (absent: libpq's default, prefer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlTls {
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
}

impl UrlTls {
    pub fn of(url: &str) -> Self {
        let Ok(url) = url::Url::parse(url) else {
            return Self::default();
        };
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        Self {
            sslmode: param("sslmode").map(|m| m.to_ascii_lowercase()),
            sslrootcert: param("sslrootcert"),
        }
    }

    fn mode(&self) -> &str {
        self.sslmode.as_deref().unwrap_or("prefer")
    }
}

/// `notebox check`: is the pool's connection encrypted? Plain text is fine on loopback, a
/// warning anywhere else.
pub async fn encryption(pool: &PgPool, url: &str) -> Check {
    let row: Result<Option<(bool, Option<String>)>, _> =
        sqlx::query_as("select ssl, version from pg_stat_ssl where pid = pg_backend_pid()")
            .fetch_optional(pool)
            .await;
    let tls = UrlTls::of(url);
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let local = host.is_empty()
        || host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match row {
        Ok(Some((true, version))) => Check::new(
            "postgres tls",
            Severity::Ok,
            format!(
                "encrypted ({}, sslmode={})",
                version.unwrap_or_else(|| "TLS".into()),
                tls.mode()
            ),
        ),
        Ok(_) if local => Check::new(
            "postgres tls",
            Severity::Ok,
            format!("not encrypted (sslmode={}; a local connection)", tls.mode()),
        ),
        Ok(_) => Check::new(
            "postgres tls",
            Severity::Warn,
            format!(
                "not encrypted (sslmode={}): passwords and notes cross the network in plain text; add sslmode=verify-full (and sslrootcert=CA.pem) to database.url",
                tls.mode()
            ),
        ),
        Err(e) => Check::new(
            "postgres tls",
            Severity::Warn,
            format!("cannot read pg_stat_ssl: {e}"),
        ),
    }
}

/// The one sentence for a failed TLS handshake, from sqlx's error text.
pub fn explain_failure(error: &str, url: &str) -> String {
    let target = redact_url_password(url);
    let tls = UrlTls::of(url);
    let lower = error.to_ascii_lowercase();
    if lower.contains("does not support tls") {
        format!(
            "Postgres at {target} does not offer TLS but sslmode={} requires it: turn on ssl in postgresql.conf, or lower sslmode in database.url",
            tls.mode()
        )
    } else if lower.contains("unknownissuer")
        || lower.contains("unknown issuer")
        || lower.contains("badsignature")
    {
        format!(
            "Postgres at {target} presented a certificate that {} does not vouch for ({error}): set sslrootcert in database.url to the CA certificate that signed the server's",
            tls.sslrootcert.as_deref().map_or_else(
                || "the system's CA store".to_owned(),
                |ca| format!("sslrootcert ({ca})")
            )
        )
    } else if lower.contains("causedasendentity") {
        format!(
            "Postgres at {target} presented a CA certificate as its own ({error}), which TLS libraries such as notebox's (rustls) refuse: give the server a certificate signed by that CA (basicConstraints CA:FALSE), or use sslmode=require in database.url"
        )
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        format!(
            "Postgres at {target} presented a certificate for another host name ({error}): connect by the name in the certificate, or use sslmode=verify-ca in database.url"
        )
    } else if lower.contains("no such file")
        || lower.contains("sslrootcert")
        || lower.contains("certificate file")
    {
        format!(
            "cannot read the CA certificate for Postgres at {target} ({error}): fix the sslrootcert path in database.url"
        )
    } else {
        format!(
            "TLS to Postgres at {target} failed ({error}): fix sslmode / sslrootcert in database.url"
        )
    }
}

/// How the PowerSync service must connect to the same Postgres: its `sslmode` and, when
/// sslrootcert is given, the CA itself (PowerSync's `cacert` takes the PEM, not a path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PowerSyncTls {
    pub sslmode: &'static str,
    pub cacert: Option<String>,
}

/// PowerSync knows only disable, verify-ca and verify-full: no sslmode (or disable, allow,
/// prefer) renders as disable, as before; require must verify there, against sslrootcert
/// when given (verify-ca) or the public CAs (verify-full).
pub fn for_powersync(url: &str) -> Result<PowerSyncTls, String> {
    let tls = UrlTls::of(url);
    let cacert = match &tls.sslrootcert {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read sslrootcert {path} from database.url ({e}): PowerSync needs the CA certificate itself; fix the path"
            )
        })?),
        None => None,
    };
    let sslmode = match tls.mode() {
        "disable" | "allow" | "prefer" => {
            return Ok(PowerSyncTls {
                sslmode: "disable",
                cacert: None,
            });
        }
        "require" | "verify-ca" if cacert.is_some() => "verify-ca",
        "verify-ca" => {
            return Err(
                "sslmode=verify-ca in database.url needs sslrootcert=CA.pem as well: PowerSync verifies against that CA only"
                    .into(),
            );
        }
        "require" | "verify-full" => "verify-full",
        other => {
            return Err(format!(
                "sslmode={other} in database.url is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ));
        }
    };
    Ok(PowerSyncTls { sslmode, cacert })
}

#[cfg(test)]
mod tests {
    use super::{explain_failure, for_powersync};

    /// rustls's texts, as seen against a Postgres with a self-signed CA certificate and
    /// with a CA that did not sign the server's.
    #[test]
    fn refused_certificates_name_the_fix() {
        let url = "postgres://u:secret@db/x?sslmode=verify-full&sslrootcert=/etc/ca.pem";
        let ca_as_leaf = explain_failure(
            "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
            url,
        );
        assert!(ca_as_leaf.contains("CA:FALSE"), "{ca_as_leaf}");
        let unknown = explain_failure("invalid peer certificate: UnknownIssuer", url);
        assert!(
            unknown.contains("sslrootcert (/etc/ca.pem) does not vouch for"),
            "{unknown}"
        );
        assert!(!unknown.contains("secret"), "{unknown}");
    }

    #[test]
    fn powersync_takes_sslmode_from_the_url() {
        let mode = |url: &str| for_powersync(url).map(|t| t.sslmode);
        assert_eq!(mode("postgres://u:p@db/x"), Ok("disable"));
        assert_eq!(mode("postgres://u:p@db/x?sslmode=prefer"), Ok("disable"));
        assert_eq!(
            mode("postgres://u:p@db/x?sslmode=require"),
            Ok("verify-full")
        );
        assert_eq!(
            mode("postgres://u:p@db/x?sslmode=verify-full"),
            Ok("verify-full")
        );
        assert!(mode("postgres://u:p@db/x?sslmode=verify-ca").is_err());
        assert!(
            mode("postgres://u:p@db/x?sslmode=verify-full&sslrootcert=/nonexistent.pem").is_err()
        );
    }
}
