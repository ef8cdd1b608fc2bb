//! `notebox check`, single sign-on part: discovery document and keys readable, and the
//! provider accepting this client with the redirect URI `server.public_url` implies.

use openidconnect::core::{CoreAuthenticationFlow, CoreProviderMetadata};
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, Scope};
use url::Url;

use super::error_chain;
use super::provider::{self, http_client, issuer_url, redirect_uri};
use crate::config::Config;
use crate::db::{Check, Severity};

pub async fn checks(config: &Config) -> Vec<Check> {
    let Some(oidc) = &config.auth.oidc else {
        return Vec::new();
    };
    let http = http_client();
    let issuer = issuer_url(oidc);
    let metadata = match CoreProviderMetadata::discover_async(issuer.clone(), &http).await {
        Ok(metadata) => metadata,
        Err(e) => {
            return vec![Check::new(
                "oidc discovery",
                Severity::Warn,
                format!(
                    "cannot read {}/.well-known/openid-configuration and its key set ({}); nobody can sign in with {} until it can: check auth.oidc.issuer",
                    issuer.as_str().trim_end_matches('/'),
                    error_chain(&e),
                    oidc.button_label
                ),
            )];
        }
    };
    let keys = metadata.jwks().keys().len();
    let mut checks = vec![Check::new(
        "oidc discovery",
        if keys == 0 {
            Severity::Warn
        } else {
            Severity::Ok
        },
        format!(
            "{} publishes its metadata and {keys} signing key(s)",
            issuer.as_str()
        ),
    )];
    let client = provider::client_for(metadata, oidc, &config.server.public_url);
    checks.push(redirect(&http, &client, config).await);
    checks
}

/// Asks the provider's authorize endpoint (without following it) whether it knows this
/// client with this redirect URI: providers answer an unregistered one with an error page.
async fn redirect(
    http: &openidconnect::reqwest::Client,
    client: &provider::Client,
    config: &Config,
) -> Check {
    let oidc = config.auth.oidc.as_ref().expect("checked by the caller");
    let uri = redirect_uri(&config.server.public_url);
    let loopback = matches!(uri.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if uri.scheme() != "https" && !loopback {
        return Check::new(
            "oidc redirect uri",
            Severity::Warn,
            format!(
                "the redirect URI {uri} is not https (server.public_url): providers refuse plain http except on localhost"
            ),
        );
    }
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in oidc.scopes().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    let (url, _, _) = request.set_pkce_challenge(challenge).url();
    let fix = format!(
        "register exactly {uri} as a redirect URI of client {:?} at the provider (it follows from server.public_url)",
        oidc.client_id
    );
    let response = match http.get(url.clone()).send().await {
        Ok(response) => response,
        Err(e) => {
            return Check::new(
                "oidc redirect uri",
                Severity::Warn,
                format!(
                    "cannot reach the authorization endpoint: {}",
                    error_chain(&e)
                ),
            );
        }
    };
    let status = response.status();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| url.join(l).ok());
    let refused_back = location.as_ref().and_then(|l| refusal_to(l, &uri));
    if status.is_client_error() || status.is_server_error() {
        Check::new(
            "oidc redirect uri",
            Severity::Warn,
            format!(
                "the provider refused an authorization request for client {:?} with redirect URI {uri} ({status}): {fix}",
                oidc.client_id
            ),
        )
    } else if let Some(error) = refused_back {
        Check::new(
            "oidc redirect uri",
            Severity::Warn,
            format!(
                "the provider answers the authorization request with {error}: check auth.oidc.client_id and auth.oidc.scopes"
            ),
        )
    } else {
        Check::new(
            "oidc redirect uri",
            Severity::Ok,
            format!(
                "the provider accepts client {:?} with redirect URI {uri}",
                oidc.client_id
            ),
        )
    }
}

/// The `error` a redirect back to notebox carries, if it is one.
fn refusal_to(location: &Url, redirect_uri: &Url) -> Option<String> {
    let same = location.origin() == redirect_uri.origin() && location.path() == redirect_uri.path();
    if !same {
        return None;
    }
    location
        .query_pairs()
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
}
