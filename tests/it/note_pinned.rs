//! The `pinned` column of notes (migration 20261129000007): uploaded as the web client
//! writes it (SQLite integers 0/1), absent on a PUT from an older client means not pinned,
//! and the owner of a personal note may pin it while no one else can.

use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::config_for;
use crate::upload::{fixture, new_id, put};

async fn pinned(pool: &PgPool, id: &str) -> Option<bool> {
    sqlx::query_scalar("select pinned from notes where id = $1::uuid")
        .bind(id)
        .fetch_optional(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn pins_upload_as_the_client_writes_them(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let (_, alice) = &f.alice;
    let (pinned_id, plain_id) = (new_id(), new_id());
    let response = f
        .upload(
            alice,
            json!({"batch": [
                put(&pinned_id, 1, json!({"title": "pinned", "body": "", "pinned": 1})),
                put(&plain_id, 1, json!({"title": "from an older client", "body": ""})),
            ]}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json()["results"][0]["status"], "success");
    assert_eq!(pinned(&pool, &pinned_id).await, Some(true));
    assert_eq!(
        pinned(&pool, &plain_id).await,
        Some(false),
        "absent means not pinned"
    );

    let unpin = json!({"batch": [{"op_id": 2, "op": "PATCH", "type": "notes", "id": pinned_id, "tx_id": 2, "data": {"pinned": 0}}]});
    assert_eq!(
        f.upload(alice, unpin).await.json()["results"][0]["status"],
        "success"
    );
    assert_eq!(pinned(&pool, &pinned_id).await, Some(false));
    assert!(f.rejections().await.is_empty());
}

#[sqlx::test]
async fn no_one_else_pins_a_personal_note(pool: PgPool) {
    let f = fixture(pool.clone(), config_for(&pool)).await;
    let ((_, alice), (_, bob)) = (&f.alice, &f.bob);
    let id = new_id();
    f.upload(
        alice,
        json!({"batch": [put(&id, 1, json!({"title": "mine", "body": ""}))]}),
    )
    .await;
    let pin = json!({"batch": [{"op_id": 1, "op": "PATCH", "type": "notes", "id": id, "tx_id": 1, "data": {"pinned": 1}}]});
    f.upload(bob, pin).await;
    assert_eq!(pinned(&pool, &id).await, Some(false));
    assert_eq!(f.rejections().await.len(), 1, "refused and recorded");
}
