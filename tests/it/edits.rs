//! No edit is ever lost: exactly-once client transactions, three-way merges with conflict
//! copies, deletes racing edits, the trash and the history — each contract asserted on the
//! rows in Postgres.

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{app, config_for, get_as, json_request, post_json, send, signup};

const NOTE: &str = "cccccccc-0000-4000-8000-000000000001";

struct Fixture {
    app: Router,
    pool: PgPool,
    alice: (String, String),
}

async fn fixture(pool: PgPool) -> Fixture {
    let mut config = config_for(&pool);
    config.auth.signup = notebox::config::SignupPolicy::Open;
    let app = app(config, pool.clone());
    let alice = signup(&app, "alice@example.org").await;
    Fixture { app, pool, alice }
}

impl Fixture {
    /// One transaction from client `client` (None: no client_id), tx id `tx`; the result.
    async fn send(&self, client: Option<&str>, tx: i64, entry: Value) -> Value {
        let mut entry = entry;
        entry["tx_id"] = json!(tx);
        let mut body = json!({"transactions": [{"crud": [entry]}]});
        if let Some(client) = client {
            body["client_id"] = json!(client);
        }
        let response = post_json(&self.app, "/api/data", body, Some(&self.alice.1)).await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.json());
        response.json()["results"][0].clone()
    }

    async fn create(&self, title: &str, body: &str) {
        let entry = json!({"op": "PUT", "type": "notes", "id": NOTE, "data": {"title": title, "body": body}});
        assert_eq!(self.send(None, 0, entry).await["status"], "success");
    }

    async fn note(&self) -> Option<(String, String)> {
        sqlx::query_as("select title, body from notes where id = $1::uuid")
            .bind(NOTE)
            .fetch_optional(&self.pool)
            .await
            .unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

fn patch(data: Value, old: Value) -> Value {
    json!({"op": "PATCH", "type": "notes", "id": NOTE, "data": data, "old": old})
}

#[sqlx::test]
async fn a_retried_transaction_is_applied_at_most_once(pool: PgPool) {
    let f = fixture(pool).await;
    f.create("zero", "").await;
    let one = json!({"op": "PATCH", "type": "notes", "id": NOTE, "data": {"title": "one"}});
    let two = json!({"op": "PATCH", "type": "notes", "id": NOTE, "data": {"title": "two"}});
    assert_eq!(
        f.send(Some("c1"), 5, one.clone()).await["status"],
        "success"
    );
    assert_eq!(f.send(Some("c2"), 1, two).await["status"], "success");
    // The first transaction again, after a newer edit: answered, not applied.
    assert_eq!(
        f.send(Some("c1"), 5, one.clone()).await["status"],
        "success"
    );
    assert_eq!(f.note().await.unwrap().0, "two");
    // Without a client id it stays as before: applied again (idempotent ops).
    assert_eq!(f.send(None, 5, one).await["status"], "success");
    assert_eq!(f.note().await.unwrap().0, "one");
    assert_eq!(f.count("select count(*) from upload_ledger").await, 2);
}

#[sqlx::test]
async fn a_retried_refusal_is_answered_and_not_recorded_twice(pool: PgPool) {
    let f = fixture(pool).await;
    f.create("t", "").await;
    let too_long =
        json!({"op": "PATCH", "type": "notes", "id": NOTE, "data": {"title": "x".repeat(1001)}});
    let first = f.send(Some("c1"), 7, too_long.clone()).await;
    assert_eq!(first["status"], "fatal_error", "{first}");
    let again = f.send(Some("c1"), 7, too_long).await;
    assert_eq!(again, first, "the replay gets the recorded answer");
    assert_eq!(f.count("select count(*) from upload_rejections").await, 1);
    // A refusal found before the database (unknown column) is replayed the same way.
    let unknown = json!({"op": "PATCH", "type": "notes", "id": NOTE, "data": {"nope": 1}});
    assert_eq!(
        f.send(Some("c1"), 8, unknown.clone()).await["status"],
        "fatal_error"
    );
    assert_eq!(
        f.send(Some("c1"), 8, unknown).await["status"],
        "fatal_error"
    );
    assert_eq!(f.count("select count(*) from upload_rejections").await, 2);
}

#[sqlx::test]
async fn concurrent_edits_merge_and_clashes_keep_a_conflict_copy(pool: PgPool) {
    let f = fixture(pool).await;
    let base = "l1\nl2\nl3";
    f.create("t", base).await;
    let a = f
        .send(
            Some("c1"),
            1,
            patch(json!({"body": "A1\nl2\nl3"}), json!({"body": base})),
        )
        .await;
    assert_eq!(a["status"], "success");
    let b = f
        .send(
            Some("c2"),
            1,
            patch(json!({"body": "l1\nl2\nB3"}), json!({"body": base})),
        )
        .await;
    assert_eq!(b["status"], "success");
    assert_eq!(f.note().await.unwrap().1, "A1\nl2\nB3", "both edits kept");
    // Line 2 changed here to Y2, and from a stale base to X2 elsewhere.
    let merged = "A1\nl2\nB3";
    f.send(
        Some("c1"),
        2,
        patch(json!({"body": "A1\nY2\nB3"}), json!({"body": merged})),
    )
    .await;
    let clash = f
        .send(
            Some("c2"),
            2,
            patch(json!({"body": "A1\nX2\nB3"}), json!({"body": merged})),
        )
        .await;
    assert_eq!(
        clash["status"], "success",
        "a conflict is not the uploader's error"
    );
    assert_eq!(
        f.note().await.unwrap().1,
        "A1\nY2\nB3",
        "the note keeps what arrived first"
    );
    let (kept, theirs): (String, String) =
        sqlx::query_as("select kept_text, their_text from note_conflicts where note_id = $1::uuid")
            .bind(NOTE)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(
        (kept.as_str(), theirs.as_str()),
        ("A1\nY2\nB3", "A1\nX2\nB3")
    );
    assert!(
        f.count("select count(*) from note_versions where reason = 'merge'")
            .await
            >= 2,
        "the text before each merge and conflict is a version"
    );
    // Keeping both: the other text becomes a note beside it; nothing is dropped.
    let conflict: String = sqlx::query_scalar("select id::text from note_conflicts")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    let resolve = send(
        &f.app,
        json_request(
            "POST",
            &format!("/api/notes/{NOTE}/conflicts/{conflict}/resolve"),
            json!({"keep": "both"}),
            Some(&f.alice.1),
        ),
    )
    .await;
    assert_eq!(resolve.status, StatusCode::OK, "{:?}", resolve.json());
    let bodies: Vec<String> = sqlx::query_scalar("select body from notes order by body")
        .fetch_all(&f.pool)
        .await
        .unwrap();
    assert_eq!(bodies, ["A1\nX2\nB3", "A1\nY2\nB3"]);
    assert_eq!(f.count("select count(*) from note_conflicts").await, 0);
}

#[sqlx::test]
async fn a_delete_loses_to_a_newer_edit_and_deleted_text_is_kept(pool: PgPool) {
    let f = fixture(pool).await;
    f.create("t", "v1").await;
    f.send(
        Some("c1"),
        1,
        patch(json!({"body": "v2"}), json!({"body": "v1"})),
    )
    .await;
    // Deleted by a device that last saw v1: the edit is newer, the note stays.
    let stale_delete = json!({"op": "DELETE", "type": "notes", "id": NOTE, "old": {"body": "v1"}});
    assert_eq!(
        f.send(Some("c2"), 1, stale_delete).await["status"],
        "success"
    );
    assert_eq!(f.note().await.unwrap().1, "v2");
    // Deleted by a device that saw v2: gone, into the trash.
    let delete = json!({"op": "DELETE", "type": "notes", "id": NOTE, "old": {"body": "v2"}});
    f.send(Some("c2"), 2, delete).await;
    assert!(f.note().await.is_none());
    // An edit of an older text arrives late: the delete stands, the text is kept.
    f.send(
        Some("c3"),
        1,
        patch(json!({"body": "late"}), json!({"body": "v1"})),
    )
    .await;
    assert!(f.note().await.is_none());
    assert_eq!(
        f.count("select count(*) from note_versions where body = 'late'")
            .await,
        1
    );
    // An edit of the deleted text itself is newer than the delete: the note comes back.
    f.send(
        Some("c1"),
        2,
        patch(json!({"body": "v3"}), json!({"body": "v2"})),
    )
    .await;
    assert_eq!(f.note().await.unwrap().1, "v3");
    assert_eq!(f.count("select count(*) from note_trash").await, 0);
}

#[sqlx::test]
async fn the_trash_lists_restores_and_purges(pool: PgPool) {
    let f = fixture(pool).await;
    f.create("kept", "body").await;
    let (created, updated): (String, String) =
        sqlx::query_as("select created_at::text, updated_at::text from notes where id = $1::uuid")
            .bind(NOTE)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    let delete = json!({"op": "DELETE", "type": "notes", "id": NOTE});
    assert_eq!(f.send(None, 1, delete).await["status"], "success");
    let trash = get_as(&f.app, "/api/trash", &f.alice.1).await.json();
    assert_eq!(trash["notes"][0]["title"], "kept");
    assert_eq!(
        trash["notes"][0]["deleted_by"].as_str(),
        Some(f.alice.0.as_str())
    );
    // Someone else sees nothing to restore.
    let bob = signup(&f.app, "bob@example.org").await;
    assert_eq!(
        get_as(&f.app, "/api/trash", &bob.1).await.json()["notes"],
        json!([])
    );
    let path = format!("/api/trash/{NOTE}/restore");
    let refused = post_json(&f.app, &path, json!({}), Some(&bob.1)).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let restored = post_json(&f.app, &path, json!({}), Some(&f.alice.1)).await;
    assert_eq!(restored.status, StatusCode::OK, "{:?}", restored.json());
    let after: (String, String) =
        sqlx::query_as("select created_at::text, updated_at::text from notes where id = $1::uuid")
            .bind(NOTE)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(
        after,
        (created, updated),
        "restored exactly, times unchanged"
    );
    // Deleted again, then deleted forever.
    f.send(
        None,
        2,
        json!({"op": "DELETE", "type": "notes", "id": NOTE}),
    )
    .await;
    let purge = send(
        &f.app,
        json_request(
            "DELETE",
            &format!("/api/trash/{NOTE}"),
            json!({}),
            Some(&f.alice.1),
        ),
    )
    .await;
    assert_eq!(purge.status, StatusCode::NO_CONTENT);
    assert_eq!(f.count("select count(*) from note_trash").await, 0);
}

#[sqlx::test]
async fn history_keeps_earlier_versions_and_restores_them(pool: PgPool) {
    let f = fixture(pool).await;
    f.create("first", "one").await;
    for (tx, body) in [(1, "two"), (2, "three")] {
        let entry = json!({"op": "PATCH", "type": "notes", "id": NOTE, "data": {"body": body}});
        f.send(None, tx, entry).await;
    }
    let path = format!("/api/notes/{NOTE}/versions");
    let versions = get_as(&f.app, &path, &f.alice.1).await.json();
    let bodies: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["one"],
        "one version per history_interval: the text before the edits"
    );
    let id = versions["versions"][0]["id"].as_i64().unwrap();
    let restore = post_json(
        &f.app,
        &format!("{path}/{id}/restore"),
        json!({}),
        Some(&f.alice.1),
    )
    .await;
    assert_eq!(restore.status, StatusCode::OK, "{:?}", restore.json());
    assert_eq!(f.note().await.unwrap().1, "one");
    assert_eq!(
        f.count("select count(*) from note_versions where reason = 'restore' and body = 'three'")
            .await,
        1,
        "the text a restore replaced is a version too"
    );
    let bob = signup(&f.app, "bob@example.org").await;
    assert_eq!(
        get_as(&f.app, &path, &bob.1).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test]
async fn old_trash_and_ledger_are_purged(pool: PgPool) {
    let f = fixture(pool).await;
    f.create("t", "").await;
    f.send(
        Some("c1"),
        1,
        json!({"op": "DELETE", "type": "notes", "id": NOTE}),
    )
    .await;
    f.send(
        Some("c1"),
        2,
        json!({"op": "PATCH", "type": "notes", "id": NOTE, "data": {}}),
    )
    .await;
    sqlx::query("update note_trash set deleted_at = now() - interval '31 days'")
        .execute(&f.pool)
        .await
        .unwrap();
    sqlx::query("update upload_ledger set applied_at = now() - interval '31 days' where tx_id = 1")
        .execute(&f.pool)
        .await
        .unwrap();
    let config = notebox::config::Config::default();
    let purged = notebox::notes::purge_expired(&f.pool, &config)
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert_eq!(f.count("select count(*) from note_trash").await, 0);
    assert_eq!(
        f.count("select count(*) from upload_ledger").await,
        1,
        "the recent one stays"
    );
}
