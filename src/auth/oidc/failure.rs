//! Why a sign-in through the provider failed: a short code the login screen turns into
//! one sentence (assets/oidc.js), and the details, which go to the log only.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use url::Url;

/// What the user sees (by code, so a link cannot put words on notebox's login screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The user declined at the provider (`access_denied`).
    Cancelled,
    /// The provider answered the authorization with another error.
    Provider,
    /// Discovery, keys, token or userinfo endpoint could not be reached or read.
    Unreachable,
    /// The provider refused notebox's client credentials.
    Client,
    /// Unknown, reused, expired or foreign state; or a code the provider no longer takes.
    Expired,
    /// The ID token failed verification (signature, issuer, audience, nonce).
    Token,
    /// The ID token had expired: the clocks disagree (or the answer came very late).
    Clock,
    /// No email, or an email the provider has not verified.
    Unverified,
    /// The email's domain is not in `allowed_email_domains`.
    Domain,
    /// No account for this email, and `auto_create_users` is off.
    NoAccount,
    /// The notebox account is disabled.
    Disabled,
    /// The account with this email is linked to another identity at this provider.
    Linked,
    /// Single sign-on is not configured.
    NotConfigured,
    /// Too many sign-ins started from this address.
    TooMany,
    /// Anything else (database down, …).
    Server,
}

impl Failure {
    pub fn code(self) -> &'static str {
        match self {
            Failure::Cancelled => "cancelled",
            Failure::Provider => "provider",
            Failure::Unreachable => "unreachable",
            Failure::Client => "client",
            Failure::Expired => "expired",
            Failure::Token => "token",
            Failure::Clock => "clock",
            Failure::Unverified => "unverified",
            Failure::Domain => "domain",
            Failure::NoAccount => "no_account",
            Failure::Disabled => "disabled",
            Failure::Linked => "linked",
            Failure::NotConfigured => "not_configured",
            Failure::TooMany => "too_many",
            Failure::Server => "server",
        }
    }

    /// Logs `details` and sends the browser to the login screen with the code.
    pub fn respond(self, public_url: &Url, details: &str) -> Response {
        match self {
            Failure::Server | Failure::Unreachable | Failure::Client | Failure::Token => {
                tracing::error!(reason = self.code(), "single sign-on failed: {details}");
            }
            _ => tracing::warn!(reason = self.code(), "single sign-on refused: {details}"),
        }
        let mut url = home(public_url);
        url.query_pairs_mut()
            .append_pair("login_error", self.code());
        no_store(Redirect::to(url.as_str()).into_response())
    }
}

/// The UI's address (`server.public_url` itself).
pub fn home(public_url: &Url) -> Url {
    let mut url = public_url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    url
}

pub fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
