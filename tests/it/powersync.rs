//! The rendered PowerSync config, checked by PowerSync's own sync-rules engine and YAML
//! parser (tests/node/check-powersync-config.mjs), and /readyz, /metrics, `check`.

use axum::http::StatusCode;
use notebox::config::Config;
use notebox::powersync;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{app, config_for, get, get_as, node, post_json, serve, signup};

const ALICE: &str = "0d3c1a2b-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const BOB: &str = "9f8e7d6c-5b4a-4321-8fed-cba987654321";

async fn check(config: &Config, sync_override: Option<&str>, rows: Value, users: &[&str]) -> Value {
    let dir = std::env::temp_dir().join(crate::helpers::unique("psconf"));
    std::fs::create_dir_all(&dir).unwrap();
    let service = dir.join("powersync.yaml");
    let sync = dir.join("sync-config.yaml");
    std::fs::write(&service, powersync::service_config(config).unwrap()).unwrap();
    std::fs::write(
        &sync,
        sync_override.map_or_else(|| powersync::sync_config(config), str::to_owned),
    )
    .unwrap();
    let spec = json!({"service": service, "sync": sync, "rows": rows, "users": users});
    let out = node("check-powersync-config.mjs", &[&spec.to_string()])
        .await
        .remove(0);
    std::fs::remove_dir_all(&dir).unwrap();
    out
}

const CAROL: &str = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d";
const DAVE: &str = "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b";
const NOTEBOOK: &str = "b0b0b0b0-1111-4222-8333-444455556666";

/// Row by row: which users receive it, as PowerSync's engine computes buckets (with the
/// membership rows as the streams' parameter lookups).
#[tokio::test]
async fn sync_streams_give_each_row_to_exactly_who_may_see_it() {
    let member = |id: &str, user: &str, role: &str| json!({"table": "notebook_members", "record": {"id": id, "notebook_id": NOTEBOOK, "user_id": user, "role": role}});
    let rows = json!([
        {"table": "notes", "record": {"id": "n-alice", "owner_id": ALICE, "notebook_id": null, "title": "a"}},
        {"table": "notes", "record": {"id": "n-bob", "owner_id": BOB, "notebook_id": null, "title": "b"}},
        {"table": "notes", "record": {"id": "n-shared", "owner_id": BOB, "notebook_id": NOTEBOOK, "title": "s"}},
        {"table": "notebooks", "record": {"id": NOTEBOOK, "name": "Team", "created_by": ALICE}},
        member("m-alice", ALICE, "owner"),
        member("m-bob", BOB, "editor"),
        member("m-carol", CAROL, "viewer"),
        {"table": "upload_rejections", "record": {"id": "r-alice", "owner_id": ALICE, "code": "NOT_OWNER"}},
        {"table": "users", "record": {"id": ALICE, "email": "a@example.org"}},
        {"table": "invitations", "record": {"id": "i-1", "email": "x@example.org"}},
    ]);
    let everyone = [ALICE, BOB, CAROL, DAVE];
    let out = check(&Config::default(), None, rows.clone(), &everyone).await;
    assert_eq!(
        out["errors"],
        json!([]),
        "PowerSync's engine accepts the rendered sync config"
    );
    let receivers = |row: usize| -> Vec<&str> {
        let buckets = out["rows"][row]["buckets"].as_array().unwrap();
        everyone
            .into_iter()
            .filter(|user| {
                let mine = out["users"][*user].as_array().unwrap();
                buckets.iter().any(|b| mine.contains(b))
            })
            .collect()
    };
    let members = vec![ALICE, BOB, CAROL];
    let expected: [(&str, Vec<&str>); 10] = [
        ("a personal note: its owner only", vec![ALICE]),
        ("another personal note: its owner only", vec![BOB]),
        (
            "a notebook's note: owner, editor and viewer",
            members.clone(),
        ),
        ("the notebook: its members", members.clone()),
        ("member rows: every member", members.clone()),
        ("member rows: every member", members.clone()),
        ("member rows: every member", members.clone()),
        ("a rejection: its owner only", vec![ALICE]),
        ("users: never", vec![]),
        ("invitations: never", vec![]),
    ];
    for (row, (what, who)) in expected.iter().enumerate() {
        assert_eq!(&receivers(row), who, "row {row}: {what}; {out}");
    }
    // A removed member (no membership row) receives nothing of the notebook any more.
    let mut without_carol = rows.as_array().unwrap().clone();
    without_carol.remove(6);
    let out = check(&Config::default(), None, json!(without_carol), &[CAROL]).await;
    let shared = out["rows"][2]["buckets"].as_array().unwrap();
    let carol = out["users"][CAROL].as_array().unwrap();
    assert!(!shared.iter().any(|b| carol.contains(b)), "{out}");
}

#[tokio::test]
async fn the_validator_is_not_vacuous() {
    let broken = "bucket_definitions:\n  b:\n    parameters: SELECT request.user_id() AS user_id\n    data:\n      - SELECT * FROM notes WHERE owner_id = bucket.nobody\n";
    let out = check(&Config::default(), Some(broken), json!([]), &[]).await;
    assert_ne!(out["errors"], json!([]), "{out}");
}

#[tokio::test]
async fn service_config_carries_every_required_field_and_no_secret() {
    let mut config = Config::default();
    config.database.url =
        notebox::config::Secret::new("postgres://app:db-secret@db.internal:6543/notes");
    config.powersync.replication_password = Some(notebox::config::Secret::new("repl-secret"));
    config.powersync.storage_password = Some(notebox::config::Secret::new("storage-secret"));
    config.powersync.api_token = Some(notebox::config::Secret::new("api-secret"));
    config.powersync.audience = "notes-audience".into();
    config.powersync.internal_url = "http://powersync:8080".parse().unwrap();
    config.powersync.jwks_url = "http://notebox:8080/.well-known/jwks.json".parse().unwrap();
    let text = powersync::service_config(&config).unwrap();
    for secret in ["db-secret", "repl-secret", "storage-secret", "api-secret"] {
        assert!(!text.contains(secret), "{secret} written into the file");
    }
    let out = check(&config, None, json!([]), &[]).await;
    let service = &out["service"];
    let connection = &service["replication"]["connections"][0];
    assert_eq!(connection["type"], "postgresql");
    assert_eq!(connection["hostname"], "db.internal");
    assert_eq!(connection["port"], 6543);
    assert_eq!(connection["database"], "notes");
    assert_eq!(connection["username"], "powersync_role");
    assert_eq!(
        connection["password"],
        json!({"env": "PS_REPLICATION_PASSWORD"})
    );
    assert_eq!(connection["sslmode"], "disable");
    assert_eq!(service["storage"]["database"], "powersync_storage");
    assert_eq!(
        service["storage"]["password"],
        json!({"env": "PS_STORAGE_PASSWORD"})
    );
    assert_eq!(service["port"], 8080);
    assert_eq!(
        service["client_auth"]["jwks_uri"],
        "http://notebox:8080/.well-known/jwks.json"
    );
    assert_eq!(
        service["client_auth"]["audience"],
        json!(["notes-audience"])
    );
    assert_eq!(service["api"]["tokens"], json!([{"env": "PS_API_TOKEN"}]));
    assert_eq!(service["healthcheck"]["probes"]["use_http"], true);
    assert_eq!(
        service["telemetry"]["disable_telemetry_sharing"], true,
        "a self-hosted stack phones no one"
    );
    assert_eq!(
        service["sync_config"]["content"].as_str().unwrap(),
        powersync::sync_config(&config)
    );
    // Without an API token there is no `!env PS_API_TOKEN` (an unset variable stops PowerSync).
    config.powersync.api_token = None;
    assert!(
        !powersync::service_config(&config)
            .unwrap()
            .contains("!env PS_API_TOKEN")
    );
}

/// The rendered jwks_uri, fetched from the notebox side, publishes kid-bearing RS256 keys.
#[sqlx::test]
async fn rendered_jwks_uri_serves_keys_with_kids(pool: PgPool) {
    let mut config = config_for(&pool);
    let base = serve(app(config.clone(), pool.clone())).await;
    config.powersync.jwks_url = format!("{base}/.well-known/jwks.json").parse().unwrap();
    notebox::auth::keys::ensure_signing_key(&pool, notebox::auth::keys::KeyAlgorithm::RS256)
        .await
        .unwrap();
    let out = check(&config, None, json!([]), &[]).await;
    let uri = out["service"]["client_auth"]["jwks_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let jwks: Value = reqwest::get(&uri).await.unwrap().json().await.unwrap();
    let key = &jwks["keys"][0];
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{jwks}");
    assert_eq!(key["alg"], "RS256");
}

#[sqlx::test]
async fn readyz_is_degraded_not_down_without_powersync(pool: PgPool) {
    let mut config = crate::helpers::config_with_publication(&pool).await;
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    config.powersync.internal_url = format!("http://127.0.0.1:{dead_port}").parse().unwrap();
    let response = get(&app(config.clone(), pool.clone()), "/readyz").await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "uploads still work without PowerSync"
    );
    let body = response.json();
    assert_eq!(body["status"], "degraded");
    let probe = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "powersync")
        .unwrap()
        .clone();
    assert_eq!(probe["ok"], false);

    // A stand-in answering PowerSync's liveness probe path: ready.
    let probe_app =
        axum::Router::new().route("/probes/liveness", axum::routing::get(|| async { "{}" }));
    let probe_url = serve(probe_app).await;
    config.powersync.internal_url = probe_url.parse().unwrap();
    let body = get(&app(config, pool), "/readyz").await.json();
    assert_eq!(body["status"], "ready", "{body}");
}

#[sqlx::test]
async fn metrics_count_requests_uploads_and_tokens(pool: PgPool) {
    let mut config = config_for(&pool);
    config.server.metrics_token = Some(notebox::config::Secret::new("scrape-me"));
    let app = app(config, pool);
    let (_, session) = signup(&app, "ada@example.org").await;
    get_as(&app, "/api/auth/token", &session).await;
    let note = uuid::Uuid::new_v4().to_string();
    let batch = json!({"batch": [
        {"op": "PUT", "type": "notes", "id": note, "tx_id": 1, "data": {"title": "t"}},
        {"op": "PUT", "type": "nope", "id": note, "tx_id": 2, "data": {}},
    ]});
    post_json(&app, "/api/data", batch, Some(&session)).await;
    assert_eq!(get(&app, "/metrics").await.status, StatusCode::UNAUTHORIZED);
    let metrics = get_as(&app, "/metrics", "scrape-me").await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = String::from_utf8(metrics.body).unwrap();
    for line in [
        "notebox_tokens_issued_total 1",
        "notebox_upload_ops_total{table=\"notes\",op=\"PUT\",outcome=\"applied\"} 1",
        "notebox_upload_ops_total{table=\"other\",op=\"PUT\",outcome=\"rejected\"} 1",
        "notebox_upload_rejections_total{code=\"UNKNOWN_TABLE\"} 1",
        "notebox_http_requests_total{route=\"/api/data\",method=\"POST\",status=\"200\"} 1",
        "notebox_http_request_duration_seconds_count{route=\"/api/auth/token\"} 1",
        "notebox_db_pool_max_connections ",
        "notebox_db_pool_connections{state=\"in_use\"}",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[sqlx::test]
async fn powersync_config_command_writes_both_files(pool: PgPool) {
    let config = config_for(&pool);
    let dir = std::env::temp_dir().join(crate::helpers::unique("render"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_notebox"))
        .env_clear()
        .env("NOTEBOX_DATABASE__URL", config.database.url.expose())
        .env("NOTEBOX_POWERSYNC__AUDIENCE", "from-env")
        .args(["powersync-config", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("PS_REPLICATION_PASSWORD") && stdout.contains("PS_STORAGE_PASSWORD"),
        "{stdout}"
    );
    let service = std::fs::read_to_string(dir.join("powersync.yaml")).unwrap();
    assert!(
        service.contains("audience:\n  - from-env"),
        "one config drives both: {service}"
    );
    let sync = std::fs::read_to_string(dir.join("sync-config.yaml")).unwrap();
    assert!(
        sync.contains("edition: 3") && sync.contains("streams:"),
        "{sync}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
