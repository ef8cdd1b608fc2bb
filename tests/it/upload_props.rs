//! Property: whatever a client sends as data, the answer is 2xx, each refused transaction
//! leaves exactly one rejection row, and nothing of another user changes.

use axum::http::StatusCode;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::config_for;
use crate::upload::{fixture, put};

const CASES: usize = 200;

/// Text a client might send: anything printable, NULs, dates, numbers, long runs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        ".{0,6}",
        Just("\u{0}".to_owned()),
        "[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}( [0-9]{1,2}:[0-9]{2})?",
        "-?[0-9]{1,40}(\\.[0-9]{1,10})?(e[0-9]{1,3})?",
        (1usize..1500).prop_map(|n| "x".repeat(n)),
        Just("infinity".to_owned()),
        Just("@alice".to_owned()),
        Just("@bob".to_owned()),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn column() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop_oneof![Just("title"), Just("body"), Just("created_at"), Just("updated_at"), Just("owner_id"), Just("id")]
            .prop_map(str::to_owned),
        1 => text(),
    ]
}

/// (op, table, which id, data): ids are chosen at run time from the users' rows.
type EntryShape = (u8, Option<String>, u8, Vec<(String, Value)>);

fn entry() -> impl Strategy<Value = EntryShape> {
    (
        0u8..3,
        prop::option::weighted(0.1, text()),
        0u8..5,
        prop::collection::vec((column(), value()), 0..4),
    )
}

fn request() -> impl Strategy<Value = (bool, Vec<Vec<EntryShape>>)> {
    (
        any::<bool>(),
        prop::collection::vec(prop::collection::vec(entry(), 1..4), 1..3),
    )
}

struct Users {
    alice: String,
    bob: String,
    alices_note: String,
    bobs_note: String,
}

fn resolve(value: Value, users: &Users) -> Value {
    match value {
        Value::String(s) if s == "@alice" => Value::String(users.alice.clone()),
        Value::String(s) if s == "@bob" => Value::String(users.bob.clone()),
        other => other,
    }
}

fn build(shape: &(bool, Vec<Vec<EntryShape>>), users: &Users) -> Value {
    let (as_batch, transactions) = shape;
    let crud = |tx: usize, (op, table, id, data): &EntryShape| {
        let id = match id {
            0 => users.bobs_note.clone(),
            1 => users.alices_note.clone(),
            2 => Uuid::new_v4().to_string(),
            3 => users.alices_note.to_uppercase(),
            _ => "not-an-id".to_owned(),
        };
        let data: Map<String, Value> = data
            .iter()
            .map(|(k, v)| (k.clone(), resolve(v.clone(), users)))
            .collect();
        let op = ["PUT", "PATCH", "DELETE"][*op as usize];
        json!({"op": op, "type": table.as_deref().unwrap_or("notes"),
               "id": id, "tx_id": tx, "data": data})
    };
    if *as_batch {
        let entries: Vec<Value> = transactions
            .iter()
            .enumerate()
            .flat_map(|(tx, entries)| entries.iter().map(move |e| crud(tx, e)))
            .collect();
        json!({ "batch": entries })
    } else {
        let transactions: Vec<Value> = transactions
            .iter()
            .enumerate()
            .map(|(tx, entries)| json!({"crud": entries.iter().map(|e| crud(tx, e)).collect::<Vec<_>>()}))
            .collect();
        json!({ "transactions": transactions })
    }
}

async fn rows_of(pool: &PgPool, owner: &str) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "select id::text, title, body, updated_at::text from notes where owner_id = $1::uuid order by id",
    )
    .bind(owner)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn arbitrary_data_never_wedges_a_queue_or_touches_another_user(pool: PgPool) {
    let mut config = config_for(&pool);
    config.upload.max_value = bytesize::ByteSize::kib(1);
    let f = fixture(pool.clone(), config).await;
    let ((alice_id, alice), (bob_id, bob)) = (&f.alice, &f.bob);
    let users = Users {
        alice: alice_id.clone(),
        bob: bob_id.clone(),
        alices_note: Uuid::new_v4().to_string(),
        bobs_note: Uuid::new_v4().to_string(),
    };
    f.upload(
        alice,
        json!({"batch": [put(&users.alices_note, 1, json!({"title": "a"}))]}),
    )
    .await;
    let alices_rows = rows_of(&f.pool, alice_id).await;
    assert_eq!(alices_rows.len(), 1);

    let mut runner = TestRunner::default();
    let strategy = request();
    for case in 0..CASES {
        let shape = strategy.new_tree(&mut runner).unwrap().current();
        if case % 10 == 0 {
            // Bob's row comes and goes with his own DELETEs: put it back now and then.
            f.upload(
                bob,
                json!({"batch": [put(&users.bobs_note, 1, json!({"title": "b"}))]}),
            )
            .await;
        }
        sqlx::query("delete from upload_rejections")
            .execute(&f.pool)
            .await
            .unwrap();
        let body = build(&shape, &users);
        let response = f.upload(bob, body.clone()).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "case {case}: {body}\n→ {}",
            String::from_utf8_lossy(&response.body)
        );
        let results = response.json()["results"].as_array().unwrap().clone();
        assert_eq!(results.len(), shape.1.len(), "case {case}: {body}");
        assert!(
            results
                .iter()
                .all(|r| r["status"] == "success" || r["status"] == "fatal_error"),
            "case {case}: {body}\n→ {results:?}"
        );
        let refused = results
            .iter()
            .filter(|r| r["status"] == "fatal_error")
            .count();
        let recorded: i64 =
            sqlx::query_scalar("select count(*) from upload_rejections where owner_id = $1::uuid")
                .bind(bob_id)
                .fetch_one(&f.pool)
                .await
                .unwrap();
        assert_eq!(recorded, refused as i64, "case {case}: {body}");
        assert_eq!(
            rows_of(&f.pool, alice_id).await,
            alices_rows,
            "case {case}: {body}"
        );
    }
}
