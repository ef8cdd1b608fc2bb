//! Single sign-on against a real OpenID Provider (oidc-provider on loopback): the
//! authorization-code flow end to end, and every way it must refuse.

use notebox::db::Severity;
use sqlx::PgPool;

use crate::oidc_provider::{Browser, Sso, TestProvider, count, login_error, oidc_config, person};

#[sqlx::test]
async fn first_sign_in_creates_the_account_and_the_next_reuses_it(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let browser = Browser::default();
    assert_eq!(
        browser.me(&sso).await,
        Err(reqwest::StatusCode::UNAUTHORIZED)
    );

    let page = browser.open_login(&sso).await;
    let callback = browser
        .submit(&page, &person("ada-1", "ada@example.com"))
        .await;
    let answer = browser.get(callback).await;
    assert_eq!(answer.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()["location"], sso.base.as_str());
    // The same session cookie a password login sets.
    let cookies: Vec<_> = answer.headers().get_all("set-cookie").iter().collect();
    let session = cookies
        .iter()
        .map(|c| c.to_str().unwrap())
        .find(|c| c.starts_with("notebox_session="))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );

    let me = browser.me(&sso).await.expect("signed in");
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["display_name"], "ada-1");
    assert_eq!(me["is_admin"], true, "the first account is the admin");
    let (issuer, subject): (String, String) =
        sqlx::query_as("select issuer, subject from user_identities")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(issuer, sso.provider.issuer.as_str().trim_end_matches('/'));
    assert_eq!(subject, "ada-1");

    let again = Browser::default();
    let landed = again.sign_in(&sso, &[("account", "ada-1")]).await;
    assert_eq!(login_error(&landed), None);
    assert_eq!(again.me(&sso).await.unwrap()["id"], me["id"]);
    assert_eq!(count(&pool, "users").await, 1);
    assert_eq!(count(&pool, "sessions").await, 2);
    assert_eq!(
        count(&pool, "oidc_logins").await,
        0,
        "each state is used up"
    );
}

#[sqlx::test]
async fn an_unknown_or_replayed_state_creates_nothing(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let browser = Browser::default();
    let forged = sso.url("api/auth/oidc/callback?code=anything&state=forged");
    assert_eq!(
        login_error(&browser.land(forged).await).as_deref(),
        Some("expired")
    );
    let no_state = sso.url("api/auth/oidc/callback?code=anything");
    assert_eq!(
        login_error(&browser.land(no_state).await).as_deref(),
        Some("expired")
    );
    assert_eq!(count(&pool, "users").await, 0);
    assert_eq!(count(&pool, "sessions").await, 0);

    let page = browser.open_login(&sso).await;
    let callback = browser
        .submit(&page, &person("eve", "eve@example.com"))
        .await;
    assert_eq!(login_error(&browser.land(callback.clone()).await), None);
    assert_eq!(count(&pool, "sessions").await, 1);
    let replay = Browser::default();
    assert_eq!(
        login_error(&replay.land(callback.clone()).await).as_deref(),
        Some("expired")
    );
    assert_eq!(
        login_error(&browser.land(callback).await).as_deref(),
        Some("expired")
    );
    assert_eq!(
        count(&pool, "sessions").await,
        1,
        "a replay creates no session"
    );
    assert_eq!(
        replay.me(&sso).await,
        Err(reqwest::StatusCode::UNAUTHORIZED)
    );
}

#[sqlx::test]
async fn a_state_started_in_another_browser_is_refused(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let victim = Browser::default();
    let attacker = Browser::default();
    // Login CSRF: the attacker's callback, fed to the victim's browser.
    let page = attacker.open_login(&sso).await;
    let callback = attacker
        .submit(&page, &person("mallory", "mallory@example.com"))
        .await;
    assert_eq!(
        login_error(&victim.land(callback).await).as_deref(),
        Some("expired")
    );
    assert_eq!(
        victim.me(&sso).await,
        Err(reqwest::StatusCode::UNAUTHORIZED)
    );
    assert_eq!(count(&pool, "users").await, 0);
    assert_eq!(count(&pool, "sessions").await, 0);
}

#[sqlx::test]
async fn an_id_token_with_another_nonce_is_refused(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let browser = Browser::default();
    let authorize_path = "/auth";
    let (mut authorize, _) = browser
        .walk(sso.url("api/auth/oidc/login"), |u| {
            u.path() == authorize_path
        })
        .await;
    let params: Vec<(String, String)> = authorize
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "replayed-nonce".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    assert!(params.iter().any(|(k, _)| k == "nonce"));
    assert!(params.contains(&("code_challenge_method".into(), "S256".into())));
    authorize.query_pairs_mut().clear().extend_pairs(params);
    let (page, _) = browser.walk(authorize, |_| false).await;
    let callback = browser
        .submit(&page, &person("nina", "nina@example.com"))
        .await;
    assert_eq!(
        login_error(&browser.land(callback).await).as_deref(),
        Some("token")
    );
    assert_eq!(count(&pool, "users").await, 0);
    assert_eq!(count(&pool, "sessions").await, 0);
}

#[sqlx::test]
async fn a_wrong_pkce_verifier_gets_no_tokens(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let browser = Browser::default();
    let (mut authorize, _) = browser
        .walk(sso.url("api/auth/oidc/login"), |u| u.path() == "/auth")
        .await;
    let params: Vec<(String, String)> = authorize
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "code_challenge" {
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    authorize.query_pairs_mut().clear().extend_pairs(params);
    let (page, _) = browser.walk(authorize, |_| false).await;
    let callback = browser
        .submit(&page, &person("pat", "pat@example.com"))
        .await;
    assert_eq!(
        login_error(&browser.land(callback).await).as_deref(),
        Some("expired")
    );
    assert_eq!(count(&pool, "sessions").await, 0);
}

#[sqlx::test]
async fn an_expired_id_token_is_refused_as_a_clock_problem(pool: PgPool) {
    // The ID token lives 1 s and the token answer takes 2.5 s: it arrives expired.
    let args = ["--id-token-ttl", "1", "--token-delay-ms", "2500"];
    let sso = Sso::start_with(&pool, &args, |_| {}).await;
    let browser = Browser::default();
    let landed = browser
        .sign_in(&sso, &person("late", "late@example.com"))
        .await;
    assert_eq!(login_error(&landed).as_deref(), Some("clock"));
    assert_eq!(count(&pool, "users").await, 0);
    assert_eq!(count(&pool, "sessions").await, 0);
}

#[sqlx::test]
async fn provider_errors_become_a_login_error(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let browser = Browser::default();
    // Denied consent: "Cancel" on the provider's page.
    let page = browser.open_login(&sso).await;
    let callback = browser.submit_to(&page, "abort", &[]).await;
    assert_eq!(
        login_error(&browser.land(callback).await).as_deref(),
        Some("cancelled")
    );

    // A wrong client secret: the token endpoint refuses the client.
    let wrong = Sso::start(&pool, |o| {
        o.client_secret = notebox::config::Secret::new("wrong")
    })
    .await;
    let landed = browser
        .sign_in(&wrong, &person("sam", "sam@example.com"))
        .await;
    assert_eq!(login_error(&landed).as_deref(), Some("client"));

    // An issuer nobody answers at.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = url::Url::parse(&format!("http://{}", closed.local_addr().unwrap())).unwrap();
    drop(closed);
    let mut config = sso.config.clone();
    config.auth.oidc = Some(oidc_config(&gone));
    let base = crate::helpers::serve(crate::helpers::app(config, pool.clone())).await;
    let landed = browser
        .walk(
            url::Url::parse(&format!("{base}/api/auth/oidc/login")).unwrap(),
            |_| false,
        )
        .await
        .0;
    assert_eq!(login_error(&landed).as_deref(), Some("unreachable"));
    assert_eq!(count(&pool, "users").await, 0);
    assert_eq!(count(&pool, "sessions").await, 0);
}

#[sqlx::test]
async fn check_reads_discovery_and_asks_about_the_redirect_uri(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let checks = notebox::auth::oidc::checks(&sso.config).await;
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(
        checks.iter().all(|c| c.severity == Severity::Ok),
        "{checks:?}"
    );

    // The provider knows another redirect URI than server.public_url implies.
    let elsewhere = TestProvider::start("http://127.0.0.1:1/api/auth/oidc/callback", &[]).await;
    let mut config = sso.config.clone();
    config.auth.oidc = Some(oidc_config(&elsewhere.issuer));
    let checks = notebox::auth::oidc::checks(&config).await;
    let redirect = checks
        .iter()
        .find(|c| c.name == "oidc redirect uri")
        .unwrap();
    assert_eq!(redirect.severity, Severity::Warn);
    assert!(
        redirect.message.contains(&format!(
            "register exactly {}api/auth/oidc/callback",
            sso.base
        )),
        "{}",
        redirect.message
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = url::Url::parse(&format!("http://{}", closed.local_addr().unwrap())).unwrap();
    drop(closed);
    config.auth.oidc = Some(oidc_config(&gone));
    let checks = notebox::auth::oidc::checks(&config).await;
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].severity, Severity::Warn);
    assert!(
        checks[0].message.contains("check auth.oidc.issuer"),
        "{}",
        checks[0].message
    );
}

#[sqlx::test]
async fn starting_sign_ins_is_rate_limited_per_address(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut targets = Vec::new();
    for _ in 0..21 {
        let response = client
            .get(sso.url("api/auth/oidc/login"))
            .send()
            .await
            .unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        targets.push(url::Url::parse(&location).unwrap());
    }
    assert!(
        targets[..20]
            .iter()
            .all(|t| t.origin() == sso.provider.issuer.origin())
    );
    assert_eq!(login_error(&targets[20]).as_deref(), Some("too_many"));
    assert_eq!(count(&pool, "oidc_logins").await, 20);
}

#[sqlx::test]
async fn a_sign_in_older_than_ten_minutes_is_refused(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let browser = Browser::default();
    let page = browser.open_login(&sso).await;
    let callback = browser
        .submit(&page, &person("slow", "slow@example.com"))
        .await;
    sqlx::query("update oidc_logins set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        login_error(&browser.land(callback).await).as_deref(),
        Some("expired")
    );
    assert_eq!(count(&pool, "users").await, 0);
    assert_eq!(count(&pool, "oidc_logins").await, 0, "used up all the same");
}
