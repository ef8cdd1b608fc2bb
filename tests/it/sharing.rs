//! Writing under membership rules: the authorization matrix of POST /api/data (role × table
//! × op × personal/notebook, forged owners, moves between notebooks), each case on a fresh
//! database with the rows in Postgres asserted after.

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{app, config_for, post_json, signup};

/// Ann owns notebook N (made by her upload) with Bob as editor and Cat as viewer; Bob
/// also owns notebook M alone; Dan is in no notebook. Note X lives in N (Ann's), note P
/// is Ann's personal note.
struct Team {
    app: Router,
    pool: PgPool,
    ids: std::collections::HashMap<&'static str, String>,
    sessions: std::collections::HashMap<&'static str, String>,
}

const N: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const M: &str = "aaaaaaaa-0000-4000-8000-000000000002";
const X: &str = "bbbbbbbb-0000-4000-8000-000000000001";
const P: &str = "bbbbbbbb-0000-4000-8000-000000000002";
const Y: &str = "bbbbbbbb-0000-4000-8000-000000000003";

fn put(table: &str, id: &str, data: Value) -> Value {
    json!({"op": "PUT", "type": table, "id": id, "data": data})
}

fn patch(table: &str, id: &str, data: Value) -> Value {
    json!({"op": "PATCH", "type": table, "id": id, "data": data})
}

fn delete(table: &str, id: &str) -> Value {
    json!({"op": "DELETE", "type": table, "id": id})
}

impl Team {
    async fn new(pool: PgPool) -> Self {
        let mut config = config_for(&pool);
        config.auth.signup = notebox::config::SignupPolicy::Open;
        let app = app(config, pool.clone());
        let mut team = Team {
            app,
            pool,
            ids: Default::default(),
            sessions: Default::default(),
        };
        for name in ["ann", "bob", "cat", "dan"] {
            let (id, session) = signup(&team.app, &format!("{name}@example.org")).await;
            team.ids.insert(name, id);
            team.sessions.insert(name, session);
        }
        let ann = team.ids["ann"].clone();
        let bob = team.ids["bob"].clone();
        assert_eq!(
            team.upload(
                "ann",
                put("notebooks", N, json!({"name": "Team", "created_by": ann}))
            )
            .await,
            "success"
        );
        assert_eq!(
            team.upload(
                "bob",
                put("notebooks", M, json!({"name": "Bob's", "created_by": bob}))
            )
            .await,
            "success"
        );
        for (user, role) in [("bob", "editor"), ("cat", "viewer")] {
            sqlx::query("insert into notebook_members (notebook_id, user_id, role) values ($1::uuid, $2::uuid, $3)")
                .bind(N)
                .bind(&team.ids[user])
                .bind(role)
                .execute(&team.pool)
                .await
                .unwrap();
        }
        let x = put(
            "notes",
            X,
            json!({"title": "x", "owner_id": ann, "notebook_id": N}),
        );
        assert_eq!(team.upload("ann", x).await, "success");
        let p = put("notes", P, json!({"title": "p", "owner_id": ann}));
        assert_eq!(team.upload("ann", p).await, "success");
        team
    }

    /// Uploads one entry as `user`; returns "success" or the rejection code.
    async fn upload(&self, user: &str, entry: Value) -> String {
        let body = json!({"transactions": [{"crud": [entry]}]});
        let response = post_json(&self.app, "/api/data", body, Some(&self.sessions[user])).await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
        let result = &response.json()["results"][0];
        match result["status"].as_str().unwrap() {
            "success" => "success".into(),
            _ => result["code"].as_str().unwrap().to_owned(),
        }
    }

    /// (owner, notebook, title, updated_by) of a note, None when it is gone.
    async fn note(&self, id: &str) -> Option<(String, Option<String>, String, Option<String>)> {
        sqlx::query_as(
            "select owner_id::text, notebook_id::text, title, updated_by::text from notes where id = $1::uuid",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .unwrap()
    }

    fn name_of(&self, id: Option<&str>) -> Option<&'static str> {
        let id = id?;
        self.ids
            .iter()
            .find(|(_, v)| v.as_str() == id)
            .map(|(k, _)| *k)
    }
}

#[sqlx::test]
async fn creating_a_notebook_by_upload_makes_its_creator_the_owner(pool: PgPool) {
    let team = Team::new(pool).await;
    let owners: Vec<String> = sqlx::query_scalar(
        "select u.email from notebook_members m join users u on u.id = m.user_id where m.notebook_id = $1::uuid and m.role = 'owner'",
    )
    .bind(N)
    .fetch_all(&team.pool)
    .await
    .unwrap();
    assert_eq!(owners, ["ann@example.org"]);
    // A forged creator is refused and creates nothing.
    let forged = put(
        "notebooks",
        "aaaaaaaa-0000-4000-8000-000000000009",
        json!({"name": "x", "created_by": team.ids["ann"]}),
    );
    assert_eq!(team.upload("dan", forged).await, "OWNER_MISMATCH");
    // Memberships change through the API only.
    let member = put(
        "notebook_members",
        "aaaaaaaa-0000-4000-8000-00000000000a",
        json!({"notebook_id": N, "user_id": team.ids["dan"], "role": "owner"}),
    );
    assert_eq!(team.upload("dan", member).await, "UNKNOWN_TABLE");
}

/// One case: who does what, and what Postgres holds after.
struct Case {
    who: &'static str,
    entry: fn(&Team) -> Value,
    outcome: &'static str,
    /// Expected (owner, notebook, title, last editor) of the checked note, None = gone.
    after: Option<(
        &'static str,
        Option<&'static str>,
        &'static str,
        Option<&'static str>,
    )>,
    note: &'static str,
}

#[sqlx::test]
async fn authorization_matrix(pool: PgPool) {
    let cases: Vec<Case> = vec![
        // Editing a notebook's note: owners and editors, never viewers or strangers.
        Case {
            who: "ann",
            entry: |_| patch("notes", X, json!({"title": "by ann"})),
            outcome: "success",
            after: Some(("ann", Some(N), "by ann", Some("ann"))),
            note: X,
        },
        Case {
            who: "bob",
            entry: |_| patch("notes", X, json!({"title": "by bob"})),
            outcome: "success",
            after: Some(("ann", Some(N), "by bob", Some("bob"))),
            note: X,
        },
        Case {
            who: "cat",
            entry: |_| patch("notes", X, json!({"title": "by cat"})),
            outcome: "READ_ONLY",
            after: Some(("ann", Some(N), "x", Some("ann"))),
            note: X,
        },
        Case {
            who: "dan",
            entry: |_| patch("notes", X, json!({"title": "by dan"})),
            outcome: "NOT_A_MEMBER",
            after: Some(("ann", Some(N), "x", Some("ann"))),
            note: X,
        },
        Case {
            who: "cat",
            entry: |_| patch("notes", X, json!({})),
            outcome: "READ_ONLY",
            after: Some(("ann", Some(N), "x", Some("ann"))),
            note: X,
        },
        // Deleting one.
        Case {
            who: "bob",
            entry: |_| delete("notes", X),
            outcome: "success",
            after: None,
            note: X,
        },
        Case {
            who: "cat",
            entry: |_| delete("notes", X),
            outcome: "READ_ONLY",
            after: Some(("ann", Some(N), "x", Some("ann"))),
            note: X,
        },
        Case {
            who: "dan",
            entry: |_| delete("notes", X),
            outcome: "NOT_A_MEMBER",
            after: Some(("ann", Some(N), "x", Some("ann"))),
            note: X,
        },
        // Replacing one (PUT): the creator stays its owner; a forged owner is refused.
        Case {
            who: "bob",
            entry: |t| {
                put(
                    "notes",
                    X,
                    json!({"title": "put", "owner_id": t.ids["bob"], "notebook_id": N}),
                )
            },
            outcome: "success",
            after: Some(("ann", Some(N), "put", Some("bob"))),
            note: X,
        },
        Case {
            who: "bob",
            entry: |t| {
                put(
                    "notes",
                    X,
                    json!({"title": "put", "owner_id": t.ids["ann"], "notebook_id": N}),
                )
            },
            outcome: "OWNER_MISMATCH",
            after: Some(("ann", Some(N), "x", Some("ann"))),
            note: X,
        },
        Case {
            who: "cat",
            entry: |t| {
                put(
                    "notes",
                    X,
                    json!({"title": "put", "owner_id": t.ids["cat"], "notebook_id": N}),
                )
            },
            outcome: "READ_ONLY",
            after: Some(("ann", Some(N), "x", Some("ann"))),
            note: X,
        },
        // Creating one in a notebook.
        Case {
            who: "bob",
            entry: |t| {
                put(
                    "notes",
                    Y,
                    json!({"title": "new", "owner_id": t.ids["bob"], "notebook_id": N}),
                )
            },
            outcome: "success",
            after: Some(("bob", Some(N), "new", Some("bob"))),
            note: Y,
        },
        Case {
            who: "cat",
            entry: |t| {
                put(
                    "notes",
                    Y,
                    json!({"title": "new", "owner_id": t.ids["cat"], "notebook_id": N}),
                )
            },
            outcome: "READ_ONLY",
            after: None,
            note: Y,
        },
        Case {
            who: "dan",
            entry: |t| {
                put(
                    "notes",
                    Y,
                    json!({"title": "new", "owner_id": t.ids["dan"], "notebook_id": N}),
                )
            },
            outcome: "NOT_A_MEMBER",
            after: None,
            note: Y,
        },
        // Moves need write rights on both sides.
        Case {
            who: "bob",
            entry: |_| patch("notes", X, json!({"notebook_id": M})),
            outcome: "success",
            after: Some(("ann", Some(M), "x", Some("bob"))),
            note: X,
        },
        Case {
            who: "ann",
            entry: |_| patch("notes", X, json!({"notebook_id": M})),
            outcome: "NOT_A_MEMBER",
            after: Some(("ann", Some(N), "x", Some("ann"))),
            note: X,
        },
        Case {
            who: "bob",
            entry: |_| patch("notes", X, json!({"notebook_id": null})),
            outcome: "NOT_OWNER",
            after: Some(("ann", Some(N), "x", Some("ann"))),
            note: X,
        },
        Case {
            who: "ann",
            entry: |_| patch("notes", X, json!({"notebook_id": null})),
            outcome: "success",
            after: Some(("ann", None, "x", Some("ann"))),
            note: X,
        },
        Case {
            who: "ann",
            entry: |_| patch("notes", P, json!({"notebook_id": N})),
            outcome: "success",
            after: Some(("ann", Some(N), "p", Some("ann"))),
            note: P,
        },
        Case {
            who: "bob",
            entry: |t| {
                put(
                    "notes",
                    Y,
                    json!({"title": "new", "owner_id": t.ids["bob"], "notebook_id": "aaaaaaaa-0000-4000-8000-0000000000ff"}),
                )
            },
            outcome: "NOT_A_MEMBER",
            after: None,
            note: Y,
        },
        // Personal notes: their owner only, as before.
        Case {
            who: "bob",
            entry: |_| patch("notes", P, json!({"title": "bob"})),
            outcome: "NOT_OWNER",
            after: Some(("ann", None, "p", Some("ann"))),
            note: P,
        },
        Case {
            who: "bob",
            entry: |_| delete("notes", P),
            outcome: "NOT_OWNER",
            after: Some(("ann", None, "p", Some("ann"))),
            note: P,
        },
        Case {
            who: "ann",
            entry: |_| patch("notes", P, json!({"title": "mine"})),
            outcome: "success",
            after: Some(("ann", None, "mine", Some("ann"))),
            note: P,
        },
        Case {
            who: "bob",
            entry: |_| patch("notes", P, json!({"notebook_id": M})),
            outcome: "NOT_OWNER",
            after: Some(("ann", None, "p", Some("ann"))),
            note: P,
        },
    ];
    let base = url::Url::parse(&crate::helpers::url_of(&pool)).unwrap();
    for (index, case) in cases.iter().enumerate() {
        // A fresh database per case, so cases cannot lean on each other.
        let name = crate::helpers::unique("matrix");
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&pool)
            .await
            .unwrap();
        let mut url = base.clone();
        url.set_path(&name);
        let case_pool = PgPool::connect(url.as_str()).await.unwrap();
        notebox::db::MIGRATOR.run(&case_pool).await.unwrap();
        let team = Team::new(case_pool.clone()).await;
        let outcome = team.upload(case.who, (case.entry)(&team)).await;
        assert_eq!(
            outcome,
            case.outcome,
            "case {index}: {} {}",
            case.who,
            (case.entry)(&team)
        );
        let after = team
            .note(case.note)
            .await
            .map(|(owner, notebook, title, by)| {
                (
                    team.name_of(Some(&owner)).unwrap(),
                    notebook,
                    title,
                    team.name_of(by.as_deref()),
                )
            });
        let expected = case.after.map(|(owner, notebook, title, by)| {
            (owner, notebook.map(str::to_owned), title.to_owned(), by)
        });
        assert_eq!(
            after,
            expected,
            "case {index}: {} {}",
            case.who,
            (case.entry)(&team)
        );
        case_pool.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database {name} with (force)"
        )))
        .execute(&pool)
        .await
        .unwrap();
    }
}

#[sqlx::test]
async fn notebooks_are_renamed_by_writers_and_deleted_by_owners_only(pool: PgPool) {
    let team = Team::new(pool).await;
    let rename = |name: &str| patch("notebooks", N, json!({"name": name}));
    assert_eq!(team.upload("bob", rename("by bob")).await, "success");
    assert_eq!(team.upload("cat", rename("by cat")).await, "READ_ONLY");
    assert_eq!(team.upload("dan", rename("by dan")).await, "NOT_A_MEMBER");
    let name: String = sqlx::query_scalar("select name from notebooks where id = $1::uuid")
        .bind(N)
        .fetch_one(&team.pool)
        .await
        .unwrap();
    assert_eq!(name, "by bob");
    assert_eq!(
        team.upload("bob", delete("notebooks", N)).await,
        "OWNERS_ONLY"
    );
    assert_eq!(
        team.upload("cat", delete("notebooks", N)).await,
        "READ_ONLY"
    );
    assert!(team.note(X).await.is_some());
    assert_eq!(team.upload("ann", delete("notebooks", N)).await, "success");
    assert!(team.note(X).await.is_none(), "its notes go with it");
    assert!(team.note(P).await.is_some(), "personal notes stay");
    let rejections: Vec<(String, String)> = sqlx::query_as(
        "select u.email, r.code from upload_rejections r join users u on u.id = r.owner_id order by r.created_at",
    )
    .fetch_all(&team.pool)
    .await
    .unwrap();
    assert_eq!(
        rejections,
        [
            ("cat@example.org".to_owned(), "READ_ONLY".to_owned()),
            ("dan@example.org".into(), "NOT_A_MEMBER".into()),
            ("bob@example.org".into(), "OWNERS_ONLY".into()),
            ("cat@example.org".into(), "READ_ONLY".into()),
        ],
        "every refusal is the uploader's rejection row"
    );
}
