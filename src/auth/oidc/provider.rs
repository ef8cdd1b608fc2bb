//! The provider as discovered (metadata and signing keys), kept for a while.

use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthType, ClientId, ClientSecret, EmptyExtraTokenFields, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, RedirectUrl, StandardErrorResponse,
    StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use url::Url;

use crate::config::OidcConfig;

/// How long discovered metadata and keys are trusted before they are fetched again. A
/// token signed by a key not seen yet refetches at once (the provider rotated its keys).
const DISCOVERY_TTL: Duration = Duration::from_secs(10 * 60);
/// Longest any request to the provider may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Claims beyond the standard ones (the groups claim lives here).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for ExtraClaims {}

type TokenResponse = StandardTokenResponse<
    IdTokenFields<
        ExtraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// A client of the discovered provider: authorize, token and (maybe) userinfo endpoints.
pub type Client = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub type DiscoveryError =
    openidconnect::DiscoveryError<openidconnect::HttpClientError<openidconnect::reqwest::Error>>;

/// Where the provider sends the browser back: `server.public_url` + `/api/auth/oidc/callback`.
pub fn redirect_uri(public_url: &Url) -> Url {
    let mut url = public_url.clone();
    let path = format!(
        "{}/api/auth/oidc/callback",
        url.path().trim_end_matches('/')
    );
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// Outbound HTTP to the provider. Redirects are not followed: a provider answering with
/// one is misconfigured, and following it would let it point notebox anywhere.
pub fn http_client() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("the HTTP client builds")
}

/// The discovered provider, shared by every request of this process.
pub struct Provider {
    pub http: openidconnect::reqwest::Client,
    cached: Mutex<Option<(Client, Instant)>>,
}

impl Default for Provider {
    fn default() -> Self {
        Self {
            http: http_client(),
            cached: Mutex::new(None),
        }
    }
}

impl Provider {
    /// The client, discovering the provider when nothing fresh is cached (or `refresh`).
    pub async fn client(
        &self,
        config: &OidcConfig,
        public_url: &Url,
        refresh: bool,
    ) -> Result<Client, DiscoveryError> {
        let mut cached = self.cached.lock().await;
        if let Some((client, at)) = cached.as_ref()
            && !refresh
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(client.clone());
        }
        let client = discover(&self.http, config, public_url).await?;
        *cached = Some((client.clone(), Instant::now()));
        Ok(client)
    }
}

/// Reads the discovery document and the key set, and builds the client from them.
pub async fn discover(
    http: &openidconnect::reqwest::Client,
    config: &OidcConfig,
    public_url: &Url,
) -> Result<Client, DiscoveryError> {
    let metadata = CoreProviderMetadata::discover_async(issuer_url(config), http).await?;
    Ok(client_for(metadata, config, public_url))
}

/// The issuer as configured, without the trailing slash `Url` adds to a bare host: the
/// discovery document's `issuer` must match it exactly.
pub fn issuer_url(config: &OidcConfig) -> IssuerUrl {
    let issuer = config.issuer.as_str();
    let issuer = if config.issuer.path() == "/" {
        issuer.trim_end_matches('/')
    } else {
        issuer
    };
    IssuerUrl::new(issuer.to_owned()).expect("a validated config has a valid issuer URL")
}

pub(super) fn client_for(
    metadata: CoreProviderMetadata,
    config: &OidcConfig,
    public_url: &Url,
) -> Client {
    // Basic auth unless the provider says it only takes the secret in the body.
    let methods = metadata.token_endpoint_auth_methods_supported();
    let post_only = methods.is_some_and(|m| {
        !m.contains(&CoreClientAuthMethod::ClientSecretBasic)
            && m.contains(&CoreClientAuthMethod::ClientSecretPost)
    });
    Client::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(config.client_secret.expose().to_owned())),
    )
    .set_auth_type(if post_only {
        AuthType::RequestBody
    } else {
        AuthType::BasicAuth
    })
    .set_redirect_uri(RedirectUrl::from_url(redirect_uri(public_url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redirect_uri_follows_the_public_url() {
        for (public, expected) in [
            (
                "http://localhost:8080",
                "http://localhost:8080/api/auth/oidc/callback",
            ),
            (
                "https://notes.example.com/",
                "https://notes.example.com/api/auth/oidc/callback",
            ),
            (
                "https://example.com/notes/?x=1",
                "https://example.com/notes/api/auth/oidc/callback",
            ),
        ] {
            assert_eq!(
                redirect_uri(&Url::parse(public).unwrap()).as_str(),
                expected
            );
        }
    }

    #[test]
    fn a_bare_issuer_loses_the_slash_url_adds_and_a_path_keeps_its_own() {
        let config = |issuer: &str| -> OidcConfig {
            toml::from_str(&format!(
                "issuer = \"{issuer}\"\nclient_id = \"c\"\nclient_secret = \"s\""
            ))
            .unwrap()
        };
        for (issuer, expected) in [
            ("https://auth.example.com", "https://auth.example.com"),
            ("https://auth.example.com/", "https://auth.example.com"),
            (
                "https://kc.example.com/realms/home",
                "https://kc.example.com/realms/home",
            ),
            (
                "https://ak.example.com/application/o/notebox/",
                "https://ak.example.com/application/o/notebox/",
            ),
        ] {
            assert_eq!(issuer_url(&config(issuer)).as_str(), expected);
        }
    }
}
