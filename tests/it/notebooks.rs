//! Memberships over HTTP against real Postgres: owners add, re-role and remove members,
//! anyone leaves, the last owner stays; the triggers behind it (owner backstop, names copied
//! from users).

use axum::http::StatusCode;
use notebox::config::SignupPolicy;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{ORIGIN, TestResponse, app, config_for, get_as, json_request, send, signup};

/// An app with open sign-up, where Ann (admin) owns notebook "Plans" and Bob and Cat have
/// accounts but no membership.
pub struct Team {
    pub app: axum::Router,
    pub notebook: String,
    pub ann: (String, String),
    pub bob: (String, String),
    pub cat: (String, String),
}

pub async fn team(pool: &PgPool) -> Team {
    let mut config = config_for(pool);
    config.auth.signup = SignupPolicy::Open;
    let app = app(config, pool.clone());
    let ann = signup(&app, "ann@example.org").await;
    let bob = signup(&app, "Bob@Example.org").await;
    let cat = signup(&app, "cat@example.org").await;
    let notebook = uuid::Uuid::new_v4();
    // Its creator becomes its owner (a trigger, whoever inserts it).
    sqlx::query("insert into notebooks (id, name, created_by) values ($1, 'Plans', $2::uuid)")
        .bind(notebook)
        .bind(&ann.0)
        .execute(pool)
        .await
        .unwrap();
    let role: String = sqlx::query_scalar(
        "select role from notebook_members where notebook_id = $1 and user_id = $2::uuid",
    )
    .bind(notebook)
    .bind(&ann.0)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(role, "owner");
    Team {
        app,
        notebook: notebook.to_string(),
        ann,
        bob,
        cat,
    }
}

pub async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    body: Value,
    session: &str,
) -> TestResponse {
    send(app, json_request(method, path, body, Some(session))).await
}

impl Team {
    fn members(&self) -> String {
        format!("/api/notebooks/{}/members", self.notebook)
    }

    fn member(&self, user_id: &str) -> String {
        format!("/api/notebooks/{}/members/{user_id}", self.notebook)
    }

    async fn add(&self, as_session: &str, email: &str, role: &str) -> TestResponse {
        call(
            &self.app,
            "POST",
            &self.members(),
            json!({"email": email, "role": role}),
            as_session,
        )
        .await
    }

    async fn set_role(&self, as_session: &str, user_id: &str, role: &str) -> TestResponse {
        call(
            &self.app,
            "PATCH",
            &self.member(user_id),
            json!({"role": role}),
            as_session,
        )
        .await
    }

    async fn remove(&self, as_session: &str, user_id: &str) -> TestResponse {
        call(
            &self.app,
            "DELETE",
            &self.member(user_id),
            json!({}),
            as_session,
        )
        .await
    }
}

async fn roles(pool: &PgPool, notebook: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "select email, role from notebook_members where notebook_id = $1::uuid order by email",
    )
    .bind(notebook)
    .fetch_all(pool)
    .await
    .unwrap()
}

fn pair(email: &str, role: &str) -> (String, String) {
    (email.to_owned(), role.to_owned())
}

#[sqlx::test]
async fn owner_adds_changes_and_removes_members(pool: PgPool) {
    let t = team(&pool).await;
    let added = t.add(&t.ann.1, "bob@EXAMPLE.org", "editor").await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.json());
    let body = added.json();
    assert_eq!(body["user_id"], t.bob.0);
    assert_eq!(body["notebook_id"], t.notebook);
    assert_eq!(body["role"], "editor");
    assert_eq!(body["email"], "Bob@Example.org");
    assert_eq!(body["added_by"], t.ann.0);
    assert!(body["id"].is_string() && body["created_at"].is_string());

    // Any member lists the members, names included.
    let listed = get_as(&t.app, &t.members(), &t.bob.1).await;
    assert_eq!(listed.status, StatusCode::OK);
    let members = listed.json()["members"].as_array().unwrap().clone();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["email"], "ann@example.org");
    assert_eq!(members[0]["role"], "owner");

    let changed = t.set_role(&t.ann.1, &t.bob.0, "viewer").await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json()["role"], "viewer");
    assert_eq!(
        roles(&pool, &t.notebook).await,
        [
            pair("Bob@Example.org", "viewer"),
            pair("ann@example.org", "owner")
        ]
    );

    let removed = t.remove(&t.ann.1, &t.bob.0).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        roles(&pool, &t.notebook).await,
        [pair("ann@example.org", "owner")]
    );
    // Bob no longer sees the notebook at all.
    let gone = get_as(&t.app, &t.members(), &t.bob.1).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn adding_refuses_strangers_non_owners_unknown_people_and_duplicates(pool: PgPool) {
    let t = team(&pool).await;
    // Not a member: the notebook is invisible, 404 like one that does not exist.
    let stranger = t.add(&t.bob.1, "cat@example.org", "editor").await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let missing = call(
        &t.app,
        "POST",
        &format!("/api/notebooks/{}/members", uuid::Uuid::new_v4()),
        json!({"email": "cat@example.org", "role": "editor"}),
        &t.ann.1,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let not_a_uuid = call(
        &t.app,
        "POST",
        "/api/notebooks/nope/members",
        json!({"email": "cat@example.org", "role": "editor"}),
        &t.ann.1,
    )
    .await;
    assert_eq!(not_a_uuid.status, StatusCode::NOT_FOUND);
    assert_eq!(not_a_uuid.json()["error"]["code"], "not_found");

    // An editor is a member but not an owner: 403.
    assert_eq!(
        t.add(&t.ann.1, "bob@example.org", "editor").await.status,
        StatusCode::CREATED
    );
    let editor = t.add(&t.bob.1, "cat@example.org", "viewer").await;
    assert_eq!(editor.status, StatusCode::FORBIDDEN);
    assert!(
        editor.error_message().contains("owners"),
        "{}",
        editor.error_message()
    );

    // Nobody with that email: 404 that points at invitations.
    let unknown = t.add(&t.ann.1, "dan@example.org", "editor").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.error_message().contains("POST /api/invitations"),
        "{}",
        unknown.error_message()
    );

    // Already a member: 409, the role is not silently changed.
    let again = t.add(&t.ann.1, "BOB@example.org", "owner").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.error_message().contains("PATCH"),
        "{}",
        again.error_message()
    );

    // A bad role is a 400 in the envelope.
    let bad = t.add(&t.ann.1, "cat@example.org", "admin").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["code"], "bad_request");
    assert_eq!(
        roles(&pool, &t.notebook).await,
        [
            pair("Bob@Example.org", "editor"),
            pair("ann@example.org", "owner")
        ]
    );
}

#[sqlx::test]
async fn role_changes_and_removals_refused_for_non_owners_and_unknown_members(pool: PgPool) {
    let t = team(&pool).await;
    t.add(&t.ann.1, "bob@example.org", "editor").await;
    t.add(&t.ann.1, "cat@example.org", "viewer").await;

    let by_editor = t.set_role(&t.bob.1, &t.cat.0, "editor").await;
    assert_eq!(by_editor.status, StatusCode::FORBIDDEN);
    let self_promotion = t.set_role(&t.bob.1, &t.bob.0, "owner").await;
    assert_eq!(self_promotion.status, StatusCode::FORBIDDEN);
    let removal_by_editor = t.remove(&t.bob.1, &t.cat.0).await;
    assert_eq!(removal_by_editor.status, StatusCode::FORBIDDEN);

    let nobody = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        t.set_role(&t.ann.1, &nobody, "editor").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.remove(&t.ann.1, &nobody).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.remove(&t.ann.1, "not-a-uuid").await.status,
        StatusCode::NOT_FOUND
    );

    // Cookie-authenticated writes follow the CSRF rules like every other route.
    let by_cookie = |origin: Option<&str>| {
        let mut request = axum::http::Request::builder()
            .method("DELETE")
            .uri(t.member(&t.cat.0))
            .header("cookie", format!("notebox_session={}", t.ann.1))
            .header("content-type", "application/json");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.body(axum::body::Body::empty()).unwrap()
    };
    let no_origin = send(&t.app, by_cookie(None)).await;
    assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
    let foreign = send(&t.app, by_cookie(Some("https://evil.example"))).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(
        roles(&pool, &t.notebook).await,
        [
            pair("Bob@Example.org", "editor"),
            pair("ann@example.org", "owner"),
            pair("cat@example.org", "viewer")
        ]
    );
    let ours = send(&t.app, by_cookie(Some(ORIGIN))).await;
    assert_eq!(ours.status, StatusCode::NO_CONTENT);
    assert_eq!(
        roles(&pool, &t.notebook).await,
        [
            pair("Bob@Example.org", "editor"),
            pair("ann@example.org", "owner")
        ]
    );
}

#[sqlx::test]
async fn members_leave_but_the_last_owner_cannot_leave_or_be_demoted(pool: PgPool) {
    let t = team(&pool).await;
    t.add(&t.ann.1, "bob@example.org", "viewer").await;
    // A viewer may leave.
    assert_eq!(
        t.remove(&t.bob.1, &t.bob.0).await.status,
        StatusCode::NO_CONTENT
    );

    let leave = t.remove(&t.ann.1, &t.ann.0).await;
    assert_eq!(leave.status, StatusCode::CONFLICT);
    assert!(
        leave.error_message().contains("last owner"),
        "{}",
        leave.error_message()
    );
    let demote = t.set_role(&t.ann.1, &t.ann.0, "editor").await;
    assert_eq!(demote.status, StatusCode::CONFLICT);
    assert_eq!(
        roles(&pool, &t.notebook).await,
        [pair("ann@example.org", "owner")]
    );

    // With a second owner, the first may step down and then leave.
    t.add(&t.ann.1, "cat@example.org", "owner").await;
    assert_eq!(
        t.set_role(&t.ann.1, &t.ann.0, "editor").await.status,
        StatusCode::OK
    );
    assert_eq!(
        t.remove(&t.ann.1, &t.ann.0).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        roles(&pool, &t.notebook).await,
        [pair("cat@example.org", "owner")]
    );
}

#[sqlx::test]
async fn the_owner_trigger_backs_up_the_handlers(pool: PgPool) {
    let t = team(&pool).await;
    let demote =
        sqlx::query("update notebook_members set role = 'editor' where notebook_id = $1::uuid")
            .bind(&t.notebook)
            .execute(&pool)
            .await
            .unwrap_err();
    assert!(demote.to_string().contains("no owner left"), "{demote}");
    let delete = sqlx::query("delete from notebook_members where notebook_id = $1::uuid")
        .bind(&t.notebook)
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(delete.to_string().contains("no owner left"), "{delete}");

    // Deferred: handing ownership over within one transaction, in either order, passes.
    let mut tx = notebox::db::begin(&pool).await.unwrap();
    for sql in [
        "update notebook_members set role = 'viewer' where notebook_id = $1::uuid",
        "insert into notebook_members (notebook_id, user_id, role) select $1::uuid, id, 'owner' from users where email = 'cat@example.org'",
    ] {
        sqlx::query(sql)
            .bind(&t.notebook)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    // Deleting the notebook takes its members along: no owner needed any more.
    sqlx::query("delete from notebooks where id = $1::uuid")
        .bind(&t.notebook)
        .execute(&pool)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar("select count(*) from notebook_members")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test]
async fn member_rows_carry_the_users_name_and_email(pool: PgPool) {
    let t = team(&pool).await;
    // Whatever an inserter sends, the copy comes from users.
    sqlx::query(
        "insert into notebook_members (notebook_id, user_id, role, display_name, email)
         values ($1::uuid, $2::uuid, 'editor', 'Forged', 'forged@example.org')",
    )
    .bind(&t.notebook)
    .bind(&t.bob.0)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "update users set display_name = 'Bobby', email = 'bobby@example.org' where id = $1::uuid",
    )
    .bind(&t.bob.0)
    .execute(&pool)
    .await
    .unwrap();
    let copy: (String, String) =
        sqlx::query_as("select display_name, email from notebook_members where user_id = $1::uuid")
            .bind(&t.bob.0)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(copy, ("Bobby".to_owned(), "bobby@example.org".to_owned()));
    let listed = get_as(&t.app, &t.members(), &t.ann.1).await.json();
    assert_eq!(listed["members"][1]["display_name"], "Bobby");
}

#[sqlx::test]
async fn two_owners_demoting_each_other_at_once_leave_one_owner(pool: PgPool) {
    let t = team(&pool).await;
    for round in 0..5 {
        t.add(&t.ann.1, "cat@example.org", "owner").await;
        let (a, c) = tokio::join!(
            t.set_role(&t.ann.1, &t.cat.0, "editor"),
            t.set_role(&t.cat.1, &t.ann.0, "editor"),
        );
        // One wins; the other then is no owner any more (403) or would demote the last
        // one (409); never a 500 from the trigger, never no owner.
        let mut statuses = [a.status, c.status];
        statuses.sort();
        assert_eq!(statuses[0], StatusCode::OK, "round {round}");
        assert!(
            matches!(statuses[1], StatusCode::FORBIDDEN | StatusCode::CONFLICT),
            "round {round}: {statuses:?}"
        );
        let owners: Vec<String> = sqlx::query_scalar(
            "select email from notebook_members where notebook_id = $1::uuid and role = 'owner'",
        )
        .bind(&t.notebook)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(owners.len(), 1, "round {round}");
        // Back to Ann as the only owner, Cat out, for the next round.
        if owners[0] == "cat@example.org" {
            t.set_role(&t.cat.1, &t.ann.0, "owner").await;
        }
        sqlx::query("delete from notebook_members where user_id = $1::uuid")
            .bind(&t.cat.0)
            .execute(&pool)
            .await
            .unwrap();
    }
}
