//! Shared test plumbing: configs pointing at the per-test database, unique cluster-wide
//! names, and an HTTP client for the in-process router.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use notebox::app::{AppState, router};
use notebox::config::{Config, Secret};
use sqlx::PgPool;
use tower::ServiceExt;

/// The URL of the database `pool` is connected to (sqlx::test makes one per test).
pub fn url_of(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set by scripts/test");
    let mut url = url::Url::parse(&base).expect("DATABASE_URL parses");
    url.set_path(
        pool.connect_options()
            .get_database()
            .expect("test pool has a database"),
    );
    url.to_string()
}

/// A short random suffix for roles and databases, which are shared by the whole cluster.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// Defaults pointed at this test's database, with PowerSync role names of its own.
pub fn config_for(pool: &PgPool) -> Config {
    let mut config = Config::default();
    config.database.url = Secret::new(url_of(pool));
    config.database.acquire_timeout = Duration::from_secs(2);
    config.powersync.replication_role = unique("ps_repl");
    config.powersync.replication_password = Some(Secret::new("repl-password-1"));
    config.powersync.storage_database = unique("ps_storage");
    config.powersync.storage_user = unique("ps_store");
    config.powersync.storage_password = Some(Secret::new("storage-password-1"));
    config
}

/// `config_for` without the replication role and storage database, with the publication
/// set up: what a test needs to read the `powersync` publication, and nothing cluster-wide.
pub async fn config_with_publication(pool: &PgPool) -> Config {
    let mut config = config_for(pool);
    config.powersync.replication_password = None;
    config.powersync.storage_database = String::new();
    notebox::db::setup_powersync(pool, &config).await.unwrap();
    config
}

/// Drops the cluster-wide objects a test's PowerSync setup created.
pub async fn drop_powersync_objects(pool: &PgPool, config: &Config) {
    let ps = &config.powersync;
    for sql in [
        format!("drop database if exists \"{}\"", ps.storage_database),
        format!("drop role if exists \"{}\"", ps.storage_user),
        format!("drop owned by \"{}\"", ps.replication_role),
        format!("drop role if exists \"{}\"", ps.replication_role),
    ] {
        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await;
    }
}

/// The setup token `app` accepts for the first account (`signup` sends it).
pub const SETUP_TOKEN: &str = "test-setup-token";

/// The router, with `SETUP_TOKEN` stored as a setup token before every sign-up while no
/// account exists, so tests can create the first account as `notebox setup-link` lets a
/// person do. (Tests of first-run itself use `notebox::app::router` directly.)
/// Stores `SETUP_TOKEN` as a setup token while no account exists (errors ignored: a test
/// without migrations has no table for it and signs nobody up).
pub async fn allow_first_signup(pool: &PgPool) {
    let _ = sqlx::query(
        "insert into setup_tokens (token_hash) select sha256($1::bytea)
         where not exists (select 1 from users) on conflict do nothing",
    )
    .bind(SETUP_TOKEN.as_bytes())
    .execute(pool)
    .await;
}

pub fn app(config: Config, pool: PgPool) -> Router {
    let seed_pool = pool.clone();
    let seed = axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let pool = seed_pool.clone();
            async move {
                if request.uri().path() == "/api/auth/signup" {
                    allow_first_signup(&pool).await;
                }
                next.run(request).await
            }
        },
    );
    router(AppState::new(config, pool)).layer(seed)
}

pub struct TestResponse {
    pub status: StatusCode,
    #[allow(dead_code)] // read by the auth and web tests
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    /// `error.message` of the JSON error envelope.
    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .expect("an error envelope")
            .to_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> TestResponse {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    TestResponse {
        status,
        headers,
        body,
    }
}

pub async fn get(app: &Router, path: &str) -> TestResponse {
    send(app, Request::get(path).body(Body::empty()).unwrap()).await
}

/// What a pgoutput slot decoded: relation names, insert count and the raw bytes.
#[derive(Debug, Default)]
pub struct SlotChanges {
    pub relations: Vec<String>,
    pub inserts: usize,
    pub updates: usize,
    pub raw: Vec<u8>,
}

/// Consumes the slot's pending changes for the `powersync` publication.
pub async fn slot_changes(pool: &PgPool, slot: &str) -> SlotChanges {
    let messages: Vec<Vec<u8>> = sqlx::query_scalar(
        "select data from pg_logical_slot_get_binary_changes($1, null, null, 'proto_version', '1', 'publication_names', 'powersync')",
    )
    .bind(slot)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut changes = SlotChanges::default();
    for message in messages {
        match message.first() {
            // Relation: 'R', oid (4), namespace (cstring), name (cstring), ...
            Some(b'R') => {
                let mut parts = message[5..].split(|b| *b == 0);
                let _namespace = parts.next();
                if let Some(name) = parts.next() {
                    changes
                        .relations
                        .push(String::from_utf8_lossy(name).into_owned());
                }
            }
            Some(b'I') => changes.inserts += 1,
            Some(b'U') => changes.updates += 1,
            _ => {}
        }
        changes.raw.extend_from_slice(&message);
    }
    changes
}

/// Reads the slot until `done` holds for everything read so far, or 10 s pass: decoding
/// only sees WAL once it is flushed.
pub async fn slot_changes_until(
    pool: &PgPool,
    slot: &str,
    done: impl Fn(&SlotChanges) -> bool,
) -> SlotChanges {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut all = SlotChanges::default();
    loop {
        let more = slot_changes(pool, slot).await;
        all.relations.extend(more.relations);
        all.inserts += more.inserts;
        all.updates += more.updates;
        all.raw.extend(more.raw);
        if done(&all) || std::time::Instant::now() > deadline {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub const ORIGIN: &str = "http://localhost:8080";

/// A JSON request; `session` goes in the Authorization header as a bearer token.
pub fn json_request(
    method: &str,
    path: &str,
    body: serde_json::Value,
    session: Option<&str>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(token) = session {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

pub async fn get_as(app: &Router, path: &str, session: &str) -> TestResponse {
    send(
        app,
        Request::get(path)
            .header("authorization", format!("Bearer {session}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// POSTs a JSON body (as bearer `session` when given) and reads the answer.
pub async fn post_json(
    app: &Router,
    path: &str,
    body: serde_json::Value,
    session: Option<&str>,
) -> TestResponse {
    send(app, json_request("POST", path, body, session)).await
}

/// Signs up through the API and returns (user id, session token).
pub async fn signup(app: &Router, email: &str) -> (String, String) {
    let response = post_json(
        app,
        "/api/auth/signup",
        serde_json::json!({"email": email, "password": "correct horse battery", "setup_token": SETUP_TOKEN}),
        None,
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "{:?}",
        response.json()
    );
    let body = response.json();
    (
        body["user"]["id"].as_str().unwrap().to_owned(),
        body["session_token"].as_str().unwrap().to_owned(),
    )
}

/// Serves `app` on a free 127.0.0.1 port for the rest of the test; returns its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{address}")
}

/// Runs tests/node/NAME with node and returns its stdout lines parsed as JSON.
/// (Async: the script may call back into a server this test runs on its runtime.)
pub async fn node(script: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules").is_dir(),
        "run `npm ci` in tests/node first (scripts/test does)"
    );
    let output = tokio::process::Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .output()
        .await
        .expect("node is installed");
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A pgoutput logical replication slot reading the `powersync` publication, as PowerSync's.
pub struct Slot<'a> {
    pool: &'a PgPool,
    name: String,
}

impl<'a> Slot<'a> {
    pub async fn create(pool: &'a PgPool) -> Self {
        let name = unique("slot");
        sqlx::query("select pg_create_logical_replication_slot($1, 'pgoutput')")
            .bind(&name)
            .execute(pool)
            .await
            .unwrap();
        Self { pool, name }
    }

    /// Reads changes until `done` holds (or 10 s pass), then drops the slot: a slot left
    /// behind would keep WAL and block dropping the test database.
    pub async fn read_until_and_drop(self, done: impl Fn(&SlotChanges) -> bool) -> SlotChanges {
        let changes = slot_changes_until(self.pool, &self.name, done).await;
        sqlx::query("select pg_drop_replication_slot($1)")
            .bind(&self.name)
            .execute(self.pool)
            .await
            .unwrap();
        changes
    }
}

/// Kills a spawned process if the test panics before stopping it (a failed assertion would
/// otherwise leave a server running on the machine). A test that passes stops its own.
pub struct KillOnPanic(u32);

impl KillOnPanic {
    pub fn new(child: &std::process::Child) -> Self {
        Self(child.id())
    }
}

impl Drop for KillOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}
