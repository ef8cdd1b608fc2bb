//! A real OpenID Provider (tests/oidc/provider.mjs, the `oidc-provider` package) and a
//! notebox configured to sign in through it, both on 127.0.0.1; and a cookie-keeping HTTP
//! client that walks the redirects like a browser, so a test can stop at any hop.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use notebox::config::{Config, OidcConfig};
use reqwest::{Response, StatusCode};
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use url::Url;

use crate::helpers::{app, config_for};

pub const CLIENT_SECRET: &str = "notebox-test-secret";

/// The provider process; killed when dropped (at the end of the test).
pub struct TestProvider {
    _child: tokio::process::Child,
    pub issuer: Url,
}

impl TestProvider {
    /// Starts it with a client whose only redirect URI is `redirect_uri`.
    pub async fn start(redirect_uri: &str, args: &[&str]) -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        assert!(
            dir.join("node_modules").is_dir(),
            "run `npm ci` in tests/oidc first (scripts/test does)"
        );
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("provider.mjs"))
            .args(["--port", "0", "--redirect-uri", redirect_uri])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node is installed");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the provider starts within a minute")
            .unwrap()
            .expect("the provider prints its issuer");
        // Keep reading: a closed pipe would kill the provider at its next log line.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let started: serde_json::Value = serde_json::from_str(&line).unwrap();
        let issuer = Url::parse(started["issuer"].as_str().unwrap()).unwrap();
        Self {
            _child: child,
            issuer,
        }
    }
}

/// `[auth.oidc]` for `issuer` with the test client, defaults for the rest.
pub fn oidc_config(issuer: &Url) -> OidcConfig {
    toml::from_str(&format!(
        "issuer = \"{issuer}\"\nclient_id = \"notebox\"\nclient_secret = \"{CLIENT_SECRET}\"\nbutton_label = \"Test provider\""
    ))
    .unwrap()
}

/// A notebox served on 127.0.0.1 with single sign-on through its own provider.
pub struct Sso {
    pub base: Url,
    pub provider: TestProvider,
    pub config: Config,
}

impl Sso {
    pub async fn start(pool: &PgPool, tweak: impl FnOnce(&mut OidcConfig)) -> Self {
        Self::start_with(pool, &[], tweak).await
    }

    /// `provider_args` go to provider.mjs (e.g. `--id-token-ttl 1`).
    pub async fn start_with(
        pool: &PgPool,
        provider_args: &[&str],
        tweak: impl FnOnce(&mut OidcConfig),
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let redirect = base.join("api/auth/oidc/callback").unwrap();
        let provider = TestProvider::start(redirect.as_str(), provider_args).await;
        let mut config = config_for(pool);
        config.server.public_url = base.clone();
        let mut oidc = oidc_config(&provider.issuer);
        tweak(&mut oidc);
        config.auth.oidc = Some(oidc);
        assert_eq!(config.problems(), Vec::<String>::new());
        let router = app(config.clone(), pool.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            base,
            provider,
            config,
        }
    }

    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }
}

/// One browser: its own cookies, redirects followed by hand.
pub struct Browser {
    client: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }
}

impl Browser {
    /// GETs `url` and follows redirects until `stop` says so or a page answers.
    pub async fn walk(&self, mut url: Url, stop: impl Fn(&Url) -> bool) -> (Url, Response) {
        for _ in 0..20 {
            let response = self.client.get(url.clone()).send().await.unwrap();
            match next_hop(&url, &response) {
                Some(next) if !stop(&next) => url = next,
                Some(next) => return (next, response),
                None => return (url, response),
            }
        }
        panic!("more than 20 redirects from {url}");
    }

    /// From "Sign in with …" to the provider's login page; returns its URL.
    pub async fn open_login(&self, sso: &Sso) -> Url {
        let (url, response) = self.walk(sso.url("api/auth/oidc/login"), |_| false).await;
        assert_eq!(response.status(), StatusCode::OK, "at {url}");
        assert!(url.path().starts_with("/interaction/"), "landed on {url}");
        url
    }

    /// Submits the provider's login form as `account` with these claims; returns the
    /// callback URL the provider sends the browser to (not yet followed).
    pub async fn submit(&self, login_page: &Url, form: &[(&str, &str)]) -> Url {
        self.submit_to(login_page, "login", form).await
    }

    /// Posts the provider's `login` or `abort` form; returns the callback URL.
    pub async fn submit_to(&self, login_page: &Url, action: &str, form: &[(&str, &str)]) -> Url {
        let action = Url::parse(&format!("{login_page}/{action}")).unwrap();
        let response = self
            .client
            .post(action.clone())
            .form(form)
            .send()
            .await
            .unwrap();
        let next = next_hop(&action, &response).expect("the login form redirects");
        let (callback, _) = self
            .walk(next, |u| u.path() == "/api/auth/oidc/callback")
            .await;
        callback
    }

    /// Follows the callback to where notebox sends the browser.
    pub async fn land(&self, callback: Url) -> Url {
        let response = self.client.get(callback.clone()).send().await.unwrap();
        next_hop(&callback, &response).expect("the callback redirects")
    }

    /// The whole sign-in: login page, form, callback. Returns where the browser lands.
    pub async fn sign_in(&self, sso: &Sso, form: &[(&str, &str)]) -> Url {
        let page = self.open_login(sso).await;
        let callback = self.submit(&page, form).await;
        self.land(callback).await
    }

    /// `GET /api/auth/me` with this browser's cookie: the user, or the status.
    pub async fn me(&self, sso: &Sso) -> Result<serde_json::Value, StatusCode> {
        let response = self
            .client
            .get(sso.url("api/auth/me"))
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::OK => Ok(response.json().await.unwrap()),
            status => Err(status),
        }
    }

    pub async fn get(&self, url: Url) -> Response {
        self.client.get(url).send().await.unwrap()
    }
}

fn next_hop(from: &Url, response: &Response) -> Option<Url> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response.headers().get("location")?.to_str().ok()?;
    Some(from.join(location).unwrap())
}

/// The `login_error` notebox put on the UI's address (None: signed in).
pub fn login_error(landed: &Url) -> Option<String> {
    landed
        .query_pairs()
        .find(|(k, _)| k == "login_error")
        .map(|(_, v)| v.into_owned())
}

/// A form that signs in as `sub` with a verified `email`.
pub fn person<'a>(sub: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("account", sub),
        ("email", email),
        ("email_verified", "true"),
        ("name", sub),
    ]
}

pub async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(pool)
        .await
        .unwrap()
}
