//! Invitations against real Postgres: links that are one-time, expiring, revocable and
//! stored only hashed; sign-up with one while sign-up is closed; the CLI's links.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::helpers::{TestResponse, app, config_for, get, get_as, post_json};
use crate::notebooks::{Team, call, team};

const PASSWORD: &str = "correct horse battery";

async fn invite(t: &Team, session: &str, body: Value) -> TestResponse {
    post_json(&t.app, "/api/invitations", body, Some(session)).await
}

pub fn token_of(url: &str) -> String {
    url.split_once("/?invitation=")
        .unwrap_or_else(|| panic!("an invitation link: {url}"))
        .1
        .to_owned()
}

/// Signs up on an app whose sign-up is closed (the default config).
pub async fn closed_signup(pool: &PgPool, email: &str, invitation: Option<&str>) -> TestResponse {
    let closed = app(config_for(pool), pool.clone());
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(token) = invitation {
        body["invitation"] = json!(token);
    }
    post_json(&closed, "/api/auth/signup", body, None).await
}

async fn user_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(pool)
        .await
        .unwrap()
}

pub async fn role_of(pool: &PgPool, notebook: &str, email: &str) -> Option<String> {
    sqlx::query_scalar(
        "select role from notebook_members where notebook_id = $1::uuid and email = $2",
    )
    .bind(notebook)
    .bind(email)
    .fetch_optional(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn invited_person_signs_up_while_closed_and_joins_once(pool: PgPool) {
    let t = team(&pool).await;
    let created = invite(
        &t,
        &t.ann.1,
        json!({"email": "dan@example.org", "notebook_id": t.notebook, "role": "viewer"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json());
    let body = created.json();
    let url = body["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://localhost:8080/?invitation="),
        "{url}"
    );
    assert_eq!(body["role"], "viewer");
    assert_eq!(body["notebook_id"], t.notebook);
    assert!(body["id"].is_string() && body["expires_at"].is_string());
    let token = token_of(url);

    // Only the token's SHA-256 is stored, nowhere the token itself.
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from invitations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, Sha256::digest(token.as_bytes()).to_vec());
    let dump: String = sqlx::query_scalar("select string_agg(i::text, '') from invitations i")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!dump.contains(&token));

    let preview = get(&t.app, &format!("/api/invitations/{token}")).await;
    assert_eq!(preview.status, StatusCode::OK);
    let preview = preview.json();
    assert_eq!(preview["email"], "dan@example.org");
    assert_eq!(preview["notebook_name"], "Plans");
    assert_eq!(preview["role"], "viewer");
    assert_eq!(preview["invited_by_name"], "ann@example.org");
    assert_eq!(preview["has_account"], false);

    // Closed: no invitation, no account; the wrong email with it, neither.
    let without = closed_signup(&pool, "dan@example.org", None).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    let wrong = closed_signup(&pool, "eve@example.org", Some(&token)).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(
        wrong.error_message().contains("dan@example.org"),
        "{}",
        wrong.error_message()
    );
    let before = user_count(&pool).await;

    let signed_up = closed_signup(&pool, "DAN@example.org", Some(&token)).await;
    assert_eq!(
        signed_up.status,
        StatusCode::CREATED,
        "{:?}",
        signed_up.json()
    );
    assert_eq!(user_count(&pool).await, before + 1);
    assert_eq!(
        role_of(&pool, &t.notebook, "DAN@example.org")
            .await
            .as_deref(),
        Some("viewer")
    );
    let (accepted_by, accepted): (Option<uuid::Uuid>, bool) =
        sqlx::query_as("select accepted_by, accepted_at is not null from invitations")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        accepted_by.map(|u| u.to_string()).as_deref(),
        signed_up.json()["user"]["id"].as_str()
    );
    assert!(accepted);

    // Used: the link answers 410 everywhere.
    let reused = get(&t.app, &format!("/api/invitations/{token}")).await;
    assert_eq!(reused.status, StatusCode::GONE);
    assert!(
        reused.error_message().contains("already used"),
        "{}",
        reused.error_message()
    );
    let again = closed_signup(&pool, "dan2@example.org", Some(&token)).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert_eq!(user_count(&pool).await, before + 1);

    let unknown = get(&t.app, "/api/invitations/not-a-token").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn expired_invitation_is_gone(pool: PgPool) {
    let t = team(&pool).await;
    let token = token_of(
        invite(
            &t,
            &t.ann.1,
            json!({"email": "dan@example.org", "notebook_id": t.notebook}),
        )
        .await
        .json()["url"]
            .as_str()
            .unwrap(),
    );
    sqlx::query("update invitations set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    let preview = get(&t.app, &format!("/api/invitations/{token}")).await;
    assert_eq!(preview.status, StatusCode::GONE);
    assert!(
        preview.error_message().contains("expired"),
        "{}",
        preview.error_message()
    );
    let before = user_count(&pool).await;
    let signup = closed_signup(&pool, "dan@example.org", Some(&token)).await;
    assert_eq!(signup.status, StatusCode::GONE);
    assert_eq!(user_count(&pool).await, before);
}

#[sqlx::test]
async fn logged_in_people_accept_invitations_meant_for_them(pool: PgPool) {
    let t = team(&pool).await;
    let token = token_of(
        invite(
            &t,
            &t.ann.1,
            json!({"email": "CAT@example.org", "notebook_id": t.notebook}),
        )
        .await
        .json()["url"]
            .as_str()
            .unwrap(),
    );
    let preview = get(&t.app, &format!("/api/invitations/{token}"))
        .await
        .json();
    assert_eq!(preview["has_account"], true);

    let by_bob = call(
        &t.app,
        "POST",
        "/api/invitations/accept",
        json!({"token": token}),
        &t.bob.1,
    )
    .await;
    assert_eq!(by_bob.status, StatusCode::FORBIDDEN);
    let by_cat = call(
        &t.app,
        "POST",
        "/api/invitations/accept",
        json!({"token": token}),
        &t.cat.1,
    )
    .await;
    assert_eq!(by_cat.status, StatusCode::OK, "{:?}", by_cat.json());
    assert_eq!(
        by_cat.json(),
        json!({"notebook_id": t.notebook, "role": "editor"})
    );
    assert_eq!(
        role_of(&pool, &t.notebook, "cat@example.org")
            .await
            .as_deref(),
        Some("editor")
    );
    let twice = call(
        &t.app,
        "POST",
        "/api/invitations/accept",
        json!({"token": token}),
        &t.cat.1,
    )
    .await;
    assert_eq!(twice.status, StatusCode::GONE);
    let unknown = call(
        &t.app,
        "POST",
        "/api/invitations/accept",
        json!({"token": "x"}),
        &t.cat.1,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn who_may_invite(pool: PgPool) {
    let t = team(&pool).await;
    let to_notebook = json!({"email": "dan@example.org", "notebook_id": t.notebook});
    // Not a member: 404; an editor: 403.
    assert_eq!(
        invite(&t, &t.bob.1, to_notebook.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    call(
        &t.app,
        "POST",
        &format!("/api/notebooks/{}/members", t.notebook),
        json!({"email": "bob@example.org", "role": "editor"}),
        &t.ann.1,
    )
    .await;
    assert_eq!(
        invite(&t, &t.bob.1, to_notebook).await.status,
        StatusCode::FORBIDDEN
    );
    let member = json!({"email": "BOB@example.org", "notebook_id": t.notebook});
    assert_eq!(
        invite(&t, &t.ann.1, member).await.status,
        StatusCode::CONFLICT
    );

    // Without a notebook: admins only, and not for an existing account.
    let plain = json!({"email": "dan@example.org"});
    assert_eq!(
        invite(&t, &t.bob.1, plain.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let role_alone = invite(
        &t,
        &t.ann.1,
        json!({"email": "dan@example.org", "role": "owner"}),
    )
    .await;
    assert_eq!(role_alone.status, StatusCode::BAD_REQUEST);
    let existing = invite(&t, &t.ann.1, json!({"email": "Cat@example.org"})).await;
    assert_eq!(existing.status, StatusCode::CONFLICT);
    let bad_email = invite(&t, &t.ann.1, json!({"email": "nobody"})).await;
    assert_eq!(bad_email.status, StatusCode::BAD_REQUEST);

    let account_only = invite(&t, &t.ann.1, plain).await;
    assert_eq!(account_only.status, StatusCode::CREATED);
    assert_eq!(account_only.json()["notebook_id"], Value::Null);
    let token = token_of(account_only.json()["url"].as_str().unwrap());
    let signed_up = closed_signup(&pool, "dan@example.org", Some(&token)).await;
    assert_eq!(signed_up.status, StatusCode::CREATED);
    let memberships: i64 = sqlx::query_scalar(
        "select count(*) from notebook_members m join users u on u.id = m.user_id where u.email = 'dan@example.org'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(memberships, 0);
}

#[sqlx::test]
async fn listing_and_revoking(pool: PgPool) {
    let t = team(&pool).await;
    // Cat owns a notebook of her own and invites to it; Ann (admin) invites to hers.
    let cats = uuid::Uuid::new_v4();
    sqlx::query("insert into notebooks (id, name) values ($1, 'Cat''s')")
        .bind(cats)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into notebook_members (notebook_id, user_id, role) values ($1, $2::uuid, 'owner')",
    )
    .bind(cats)
    .bind(&t.cat.0)
    .execute(&pool)
    .await
    .unwrap();
    let by_cat = invite(
        &t,
        &t.cat.1,
        json!({"email": "eve@example.org", "notebook_id": cats}),
    )
    .await;
    let by_ann = invite(
        &t,
        &t.ann.1,
        json!({"email": "dan@example.org", "notebook_id": t.notebook}),
    )
    .await;
    let cat_id = by_cat.json()["id"].as_str().unwrap().to_owned();
    let ann_id = by_ann.json()["id"].as_str().unwrap().to_owned();

    let emails = |r: TestResponse| -> Vec<String> {
        r.json()["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["email"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        emails(get_as(&t.app, "/api/invitations", &t.ann.1).await),
        ["eve@example.org", "dan@example.org"]
    );
    let mine = get_as(&t.app, "/api/invitations", &t.cat.1).await;
    assert_eq!(mine.json()["invitations"][0]["notebook_name"], "Cat's");
    assert_eq!(emails(mine), ["eve@example.org"]);
    assert!(emails(get_as(&t.app, "/api/invitations", &t.bob.1).await).is_empty());

    // Only an admin or the inviter withdraws.
    let path = |id: &str| format!("/api/invitations/{id}");
    assert_eq!(
        call(&t.app, "DELETE", &path(&ann_id), json!({}), &t.cat.1)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&t.app, "DELETE", &path(&cat_id), json!({}), &t.ann.1)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&t.app, "DELETE", &path(&ann_id), json!({}), &t.ann.1)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        call(&t.app, "DELETE", &path(&unknown), json!({}), &t.ann.1)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(emails(get_as(&t.app, "/api/invitations", &t.ann.1).await).is_empty());

    let token = token_of(by_ann.json()["url"].as_str().unwrap());
    let withdrawn = get(&t.app, &path(&token)).await;
    assert_eq!(withdrawn.status, StatusCode::GONE);
    assert!(
        withdrawn.error_message().contains("withdrawn"),
        "{}",
        withdrawn.error_message()
    );
    assert_eq!(
        closed_signup(&pool, "dan@example.org", Some(&token))
            .await
            .status,
        StatusCode::GONE
    );

    // An accepted invitation cannot be withdrawn: there is a member to remove instead.
    let fresh = invite(
        &t,
        &t.ann.1,
        json!({"email": "cat@example.org", "notebook_id": t.notebook}),
    )
    .await
    .json();
    call(
        &t.app,
        "POST",
        "/api/invitations/accept",
        json!({"token": token_of(fresh["url"].as_str().unwrap())}),
        &t.cat.1,
    )
    .await;
    let late = call(
        &t.app,
        "DELETE",
        &path(fresh["id"].as_str().unwrap()),
        json!({}),
        &t.ann.1,
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
}

#[sqlx::test]
async fn an_invitation_lapses_when_its_sender_stops_being_an_owner(pool: PgPool) {
    let t = team(&pool).await;
    let token = token_of(
        invite(
            &t,
            &t.ann.1,
            json!({"email": "dan@example.org", "notebook_id": t.notebook, "role": "owner"}),
        )
        .await
        .json()["url"]
            .as_str()
            .unwrap(),
    );
    let members = format!("/api/notebooks/{}/members", t.notebook);
    call(
        &t.app,
        "POST",
        &members,
        json!({"email": "cat@example.org", "role": "owner"}),
        &t.ann.1,
    )
    .await;
    let demoted = call(
        &t.app,
        "PATCH",
        &format!("{members}/{}", t.ann.0),
        json!({"role": "viewer"}),
        &t.cat.1,
    )
    .await;
    assert_eq!(demoted.status, StatusCode::OK);

    let preview = get(&t.app, &format!("/api/invitations/{token}")).await;
    assert_eq!(preview.status, StatusCode::GONE);
    assert!(
        preview.error_message().contains("no longer an owner"),
        "{}",
        preview.error_message()
    );
    let signup = closed_signup(&pool, "dan@example.org", Some(&token)).await;
    assert_eq!(signup.status, StatusCode::GONE);
    assert_eq!(role_of(&pool, &t.notebook, "dan@example.org").await, None);
}
