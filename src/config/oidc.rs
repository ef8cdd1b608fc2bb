//! `[auth.oidc]`: single sign-on through the team's OpenID Connect provider.

use serde::{Deserialize, Serialize};
use url::Url;

use super::Secret;

/// Present (the `[auth.oidc]` section exists): "Sign in with …" is offered.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL; its `/.well-known/openid-configuration` is read.
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: Secret,
    /// Space-separated, `openid` included.
    #[serde(default = "default_scopes")]
    pub scopes: String,
    /// The UI says "Sign in with <button_label>".
    #[serde(default = "default_button_label")]
    pub button_label: String,
    /// Only emails in these domains may sign in (empty: any).
    #[serde(default)]
    pub allowed_email_domains: Vec<String>,
    /// Members of this group (in `groups_claim`) are admins; others are not.
    #[serde(default)]
    pub admin_group: Option<String>,
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// A first sign-in with a verified email that matches no account creates one.
    #[serde(default = "yes")]
    pub auto_create_users: bool,
    /// False: the web UI and API refuse passwords; the CLI still manages accounts.
    #[serde(default = "yes")]
    pub password_login: bool,
}

fn default_scopes() -> String {
    "openid email profile".into()
}

fn default_button_label() -> String {
    "single sign-on".into()
}

fn default_groups_claim() -> String {
    "groups".into()
}

fn yes() -> bool {
    true
}

impl OidcConfig {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.split_whitespace()
    }

    /// Whether `email` is in an allowed domain (any, when none are listed).
    pub fn allows_email(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
        self.allowed_email_domains.is_empty()
            || self
                .allowed_email_domains
                .iter()
                .any(|allowed| allowed.trim_start_matches('@').eq_ignore_ascii_case(domain))
    }

    pub(super) fn problems(&self, problems: &mut Vec<String>) {
        if !matches!(self.issuer.scheme(), "http" | "https") {
            problems.push(format!(
                "auth.oidc.issuer is {}, but it must be the provider's https:// issuer URL",
                self.issuer
            ));
        }
        if self.issuer.query().is_some() || self.issuer.fragment().is_some() {
            problems.push(format!(
                "auth.oidc.issuer is {}, but an issuer URL has no query or fragment",
                self.issuer
            ));
        }
        if self.client_id.trim().is_empty() {
            problems.push("auth.oidc.client_id is empty: set the client ID registered for notebox at the provider".into());
        }
        if self.client_secret.expose().trim().is_empty() {
            problems.push("auth.oidc.client_secret is empty: set the client secret registered for notebox at the provider (or NOTEBOX_AUTH__OIDC__CLIENT_SECRET_FILE)".into());
        }
        if !self.scopes().any(|s| s == "openid") {
            problems.push(format!(
                "auth.oidc.scopes is {:?}, but it must include \"openid\", e.g. \"openid email profile\"",
                self.scopes
            ));
        }
        if self.button_label.trim().is_empty() {
            problems.push(
                "auth.oidc.button_label is empty: name the provider, e.g. \"Authelia\"".into(),
            );
        }
        for domain in &self.allowed_email_domains {
            let bare = domain.trim_start_matches('@');
            if bare.is_empty() || bare.contains(['@', ' ']) || !bare.contains('.') {
                problems.push(format!(
                    "auth.oidc.allowed_email_domains lists {domain:?}, which is not a domain: write e.g. \"example.com\""
                ));
            }
        }
        if self.admin_group.is_some() && self.groups_claim.trim().is_empty() {
            problems.push("auth.oidc.admin_group is set but auth.oidc.groups_claim is empty: name the claim holding the groups, e.g. \"groups\"".into());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error.

    use figment::Jail;

    use crate::config::Config;

    #[test]
    fn the_section_takes_defaults_and_its_secret_from_a_file() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "notebox.toml",
                "[auth.oidc]\nissuer = \"https://auth.example.com\"\nclient_id = \"notebox\"\n",
            )?;
            jail.create_file("secret", "s3cret\n")?;
            jail.set_env("NOTEBOX_AUTH__OIDC__CLIENT_SECRET_FILE", "secret");
            let config = Config::load(Some(&jail.directory().join("notebox.toml"))).unwrap();
            let oidc = config.auth.oidc.clone().expect("the section is read");
            assert_eq!(oidc.client_secret.expose(), "s3cret");
            assert_eq!(oidc.scopes, "openid email profile");
            assert_eq!(oidc.groups_claim, "groups");
            assert!(oidc.auto_create_users && oidc.password_login);
            assert!(oidc.admin_group.is_none() && oidc.allowed_email_domains.is_empty());
            assert!(!config.to_redacted_toml().contains("s3cret"));
            assert!(Config::default().auth.oidc.is_none());
            Ok(())
        });
    }

    #[test]
    fn each_problem_is_one_sentence() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "notebox.toml",
                r#"[auth.oidc]
                issuer = "ftp://auth.example.com"
                client_id = " "
                client_secret = ""
                scopes = "email profile"
                button_label = ""
                allowed_email_domains = ["example.com", "@example.org", "bob@example.com"]
                admin_group = "admins"
                groups_claim = ""
                "#,
            )?;
            let error = Config::load(Some(&jail.directory().join("notebox.toml")))
                .expect_err("refused")
                .to_string();
            for expected in [
                "auth.oidc.issuer is ftp://auth.example.com",
                "auth.oidc.client_id is empty",
                "auth.oidc.client_secret is empty",
                "must include \"openid\"",
                "auth.oidc.button_label is empty",
                "lists \"bob@example.com\", which is not a domain",
                "auth.oidc.groups_claim is empty",
            ] {
                assert!(error.contains(expected), "{expected:?} not in: {error}");
            }
            assert!(!error.contains("@example.org"), "{error}");
            jail.create_file("notebox.toml", "[auth.oidc]\nclient_id = \"x\"\n")?;
            let error = Config::load(Some(&jail.directory().join("notebox.toml")))
                .expect_err("refused")
                .to_string();
            assert!(error.contains("issuer"), "{error}");
            Ok(())
        });
    }
}
