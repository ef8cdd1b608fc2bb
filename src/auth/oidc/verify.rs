//! The code exchange and the ID token's verification; userinfo fills in what the token
//! leaves out (Authelia and oidc-provider put email and groups only there).

use openidconnect::core::{CoreErrorResponseType, CoreGenderClaim};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, Nonce, OAuth2TokenResponse, PkceCodeVerifier,
    RequestTokenError, TokenResponse, UserInfoClaims,
};

use super::accounts::{Identity, Refusal};
use super::error_chain;
use super::failure::Failure;
use super::provider::ExtraClaims;
use crate::app::AppState;
use crate::config::OidcConfig;

/// Who signed in, once the code is exchanged (with the PKCE verifier) and the ID token
/// verifies against the provider's keys, this client and `nonce`.
pub async fn identity(
    state: &AppState,
    config: &OidcConfig,
    code: String,
    nonce: String,
    pkce_verifier: String,
) -> Result<Identity, Refusal> {
    let public_url = &state.config.server.public_url;
    let provider = &state.auth.oidc;
    let unreachable = |e: super::provider::DiscoveryError| {
        (
            Failure::Unreachable,
            format!("discovery at {} failed: {}", config.issuer, error_chain(&e)),
        )
    };
    let client = provider
        .client(config, public_url, false)
        .await
        .map_err(unreachable)?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| (Failure::Provider, format!("no token endpoint: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
        .request_async(&provider.http)
        .await
        .map_err(token_failure)?;
    let id_token = tokens.id_token().ok_or_else(|| {
        (
            Failure::Token,
            "the token response has no id_token".to_owned(),
        )
    })?;
    let nonce = Nonce::new(nonce);
    let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
        Ok(claims) => claims.clone(),
        // Signed by a key we have not seen: the provider rotated its keys. Refetch once.
        Err(ClaimsVerificationError::SignatureVerification(_)) => {
            let fresh = provider
                .client(config, public_url, true)
                .await
                .map_err(unreachable)?;
            id_token
                .claims(&fresh.id_token_verifier(), &nonce)
                .map_err(claims_failure)?
                .clone()
        }
        Err(e) => return Err(claims_failure(e)),
    };
    let mut identity = Identity {
        issuer: claims.issuer().to_string(),
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .or_else(|| claims.preferred_username().map(|u| u.to_string())),
        groups: groups(&claims.additional_claims().claims, &config.groups_claim),
    };
    let wants_groups = config.admin_group.is_some() && identity.groups.is_none();
    let has_userinfo = client.user_info_url().is_some();
    if has_userinfo && (identity.email.is_none() || !identity.email_verified || wants_groups) {
        let info: UserInfoClaims<ExtraClaims, CoreGenderClaim> = client
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .map_err(|e| (Failure::Provider, format!("userinfo: {e}")))?
            .request_async(&provider.http)
            .await
            .map_err(|e| {
                (
                    Failure::Unreachable,
                    format!("the userinfo request failed: {}", error_chain(&e)),
                )
            })?;
        if identity.email.is_none() || !identity.email_verified {
            identity.email = info.email().map(|e| e.to_string());
            identity.email_verified = info.email_verified().unwrap_or(false);
        }
        if identity.name.is_none() {
            identity.name = info.name().and_then(|n| n.get(None)).map(|n| n.to_string());
        }
        if identity.groups.is_none() {
            identity.groups = groups(&info.additional_claims().claims, &config.groups_claim);
        }
    }
    Ok(identity)
}

/// The groups claim: a list of names (or one name). `None` when absent.
fn groups(claims: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<Vec<String>> {
    match claims.get(name)? {
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect(),
        ),
        serde_json::Value::String(one) => Some(vec![one.clone()]),
        _ => None,
    }
}

fn token_failure<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> Refusal {
    let failure = match &error {
        RequestTokenError::ServerResponse(response) => match response.error() {
            CoreErrorResponseType::InvalidClient | CoreErrorResponseType::UnauthorizedClient => {
                Failure::Client
            }
            CoreErrorResponseType::InvalidGrant => Failure::Expired,
            _ => Failure::Provider,
        },
        RequestTokenError::Request(_) => Failure::Unreachable,
        RequestTokenError::Parse(..) | RequestTokenError::Other(_) => Failure::Provider,
    };
    let details = match &error {
        RequestTokenError::ServerResponse(response) => format!(
            "the token endpoint answered {}: {}",
            response.error(),
            response.error_description().map_or("", String::as_str)
        ),
        other => format!("the token request failed: {}", error_chain(other)),
    };
    (failure, details)
}

fn claims_failure(error: ClaimsVerificationError) -> Refusal {
    let failure = match error {
        ClaimsVerificationError::Expired(_) => Failure::Clock,
        _ => Failure::Token,
    };
    (
        failure,
        format!("the ID token did not verify: {}", error_chain(&error)),
    )
}
