//! Which account a provider's identity signs in to: linking by verified email (once),
//! the subject afterwards, admins from a group, disabled accounts, allowed domains, and
//! password login turned off.

use notebox::auth::{password, users};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::oidc_provider::{Browser, Sso, count, login_error, person};

const PASSWORD: &str = "correct horse battery";

async fn password_account(pool: &PgPool, email: &str) -> users::User {
    let hash = password::hash(PASSWORD.into()).await.unwrap();
    users::create(pool, email, "", &hash, false).await.unwrap()
}

async fn post(sso: &Sso, path: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(sso.url(path))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_verified_email_links_the_existing_account_once(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let carol = password_account(&pool, "Carol@Example.com").await;

    let browser = Browser::default();
    let landed = browser
        .sign_in(&sso, &person("carol-sub", "carol@example.com"))
        .await;
    assert_eq!(login_error(&landed), None);
    assert_eq!(browser.me(&sso).await.unwrap()["id"], carol.id.to_string());
    assert_eq!(count(&pool, "user_identities").await, 1);

    // Her email changes at the provider: the subject still says who she is.
    let moved = Browser::default();
    let landed = moved
        .sign_in(&sso, &person("carol-sub", "carol.new@example.com"))
        .await;
    assert_eq!(login_error(&landed), None);
    assert_eq!(moved.me(&sso).await.unwrap()["id"], carol.id.to_string());
    assert_eq!(count(&pool, "users").await, 1, "no second account");

    // Someone else now holds her old address at the provider: no way into her account.
    let other = Browser::default();
    let landed = other
        .sign_in(&sso, &person("other-sub", "carol@example.com"))
        .await;
    assert_eq!(login_error(&landed).as_deref(), Some("linked"));
    assert_eq!(other.me(&sso).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(count(&pool, "users").await, 1);
    assert_eq!(count(&pool, "user_identities").await, 1);
    // Her password still works: linking takes nothing away.
    let login = post(
        &sso,
        "api/auth/login",
        json!({"email": "carol@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(login.status(), StatusCode::OK);
}

#[sqlx::test]
async fn an_unverified_email_is_never_linked_nor_used(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    password_account(&pool, "dave@example.com").await;
    let browser = Browser::default();
    let unverified = [
        ("account", "dave-sub"),
        ("email", "dave@example.com"),
        ("email_verified", "false"),
    ];
    let landed = browser.sign_in(&sso, &unverified).await;
    assert_eq!(login_error(&landed).as_deref(), Some("unverified"));
    let stranger = [
        ("account", "stranger"),
        ("email", "stranger@example.com"),
        ("email_verified", "false"),
    ];
    let landed = Browser::default().sign_in(&sso, &stranger).await;
    assert_eq!(login_error(&landed).as_deref(), Some("unverified"));
    assert_eq!(browser.me(&sso).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(count(&pool, "users").await, 1);
    assert_eq!(count(&pool, "user_identities").await, 0);
    assert_eq!(count(&pool, "sessions").await, 0);
}

#[sqlx::test]
async fn members_of_the_admin_group_are_admins(pool: PgPool) {
    let sso = Sso::start(&pool, |o| o.admin_group = Some("notebox-admins".into())).await;
    let mut first = person("first", "first@example.com");
    first.push(("groups", "staff"));
    let browser = Browser::default();
    browser.sign_in(&sso, &first).await;
    let me = browser.me(&sso).await.unwrap();
    assert_eq!(
        me["is_admin"], false,
        "with admin_group the provider decides, first or not"
    );

    let mut boss = person("boss", "boss@example.com");
    boss.push(("groups", "staff,notebox-admins"));
    let browser = Browser::default();
    browser.sign_in(&sso, &boss).await;
    assert_eq!(browser.me(&sso).await.unwrap()["is_admin"], true);

    // Out of the group at the provider: no longer an admin at the next sign-in.
    let browser = Browser::default();
    browser
        .sign_in(&sso, &[("account", "boss"), ("groups", "staff")])
        .await;
    assert_eq!(browser.me(&sso).await.unwrap()["is_admin"], false);
}

#[sqlx::test]
async fn a_disabled_account_cannot_sign_in_through_the_provider(pool: PgPool) {
    let sso = Sso::start(&pool, |_| {}).await;
    let browser = Browser::default();
    browser
        .sign_in(&sso, &person("frank", "frank@example.com"))
        .await;
    assert!(browser.me(&sso).await.is_ok());
    assert!(users::disable(&pool, "frank@example.com").await.unwrap());

    let again = Browser::default();
    let landed = again
        .sign_in(&sso, &person("frank", "frank@example.com"))
        .await;
    assert_eq!(login_error(&landed).as_deref(), Some("disabled"));
    assert_eq!(again.me(&sso).await, Err(StatusCode::UNAUTHORIZED));

    // Disabled before ever signing in: not linked either.
    password_account(&pool, "gina@example.com").await;
    assert!(users::disable(&pool, "gina@example.com").await.unwrap());
    let landed = Browser::default()
        .sign_in(&sso, &person("gina", "gina@example.com"))
        .await;
    assert_eq!(login_error(&landed).as_deref(), Some("disabled"));
    assert_eq!(count(&pool, "user_identities").await, 1);
    assert_eq!(count(&pool, "sessions").await, 0);
}

#[sqlx::test]
async fn allowed_domains_and_no_auto_creation_are_enforced(pool: PgPool) {
    let sso = Sso::start(&pool, |o| {
        o.allowed_email_domains = vec!["example.com".into()];
        o.auto_create_users = false;
    })
    .await;
    password_account(&pool, "hal@example.com").await;
    // (A fresh browser each time: the provider remembers who signed in.)
    let landed = Browser::default()
        .sign_in(&sso, &person("outsider", "outsider@example.org"))
        .await;
    assert_eq!(login_error(&landed).as_deref(), Some("domain"));
    let landed = Browser::default()
        .sign_in(&sso, &person("newcomer", "newcomer@example.com"))
        .await;
    assert_eq!(login_error(&landed).as_deref(), Some("no_account"));
    assert_eq!(count(&pool, "users").await, 1);
    let landed = Browser::default()
        .sign_in(&sso, &person("hal", "hal@example.com"))
        .await;
    assert_eq!(
        login_error(&landed),
        None,
        "an existing account still links"
    );
}

#[sqlx::test]
async fn password_login_off_refuses_passwords_but_the_cli_still_works(pool: PgPool) {
    let sso = Sso::start(&pool, |o| o.password_login = false).await;
    password_account(&pool, "ivy@example.com").await;
    let settings: serde_json::Value = reqwest::get(sso.url("api/auth/oidc"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        settings,
        json!({"button_label": "Test provider", "login_url": "/api/auth/oidc/login", "password_login": false})
    );
    let login = post(
        &sso,
        "api/auth/login",
        json!({"email": "ivy@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(login.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = login.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "password login is turned off on this server: sign in with Test provider"
    );
    let signup = post(
        &sso,
        "api/auth/signup",
        json!({"email": "new@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(signup.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&pool, "sessions").await, 0);

    // Break glass: the CLI, with the same config, still sets a password.
    let oidc = sso.config.auth.oidc.as_ref().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_notebox"))
        .env_clear()
        .env("NOTEBOX_DATABASE__URL", sso.config.database.url.expose())
        .env("NOTEBOX_AUTH__OIDC__ISSUER", oidc.issuer.as_str())
        .env("NOTEBOX_AUTH__OIDC__CLIENT_ID", &oidc.client_id)
        .env(
            "NOTEBOX_AUTH__OIDC__CLIENT_SECRET",
            oidc.client_secret.expose(),
        )
        .env("NOTEBOX_AUTH__OIDC__PASSWORD_LOGIN", "false")
        .args(["user", "passwd", "ivy@example.com"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    let new_password = printed
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password is printed");
    let (_, hash) = users::find_by_email(&pool, "ivy@example.com")
        .await
        .unwrap()
        .unwrap();
    let hasher = password::Hasher::default();
    assert!(hasher.verify(new_password.into(), hash).await.unwrap());

    // Signing in through the provider still works, of course.
    let browser = Browser::default();
    let landed = browser
        .sign_in(&sso, &person("ivy", "ivy@example.com"))
        .await;
    assert_eq!(login_error(&landed), None);
}
