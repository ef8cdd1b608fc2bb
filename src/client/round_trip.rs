//! `notebox check --e2e`: one real client's round trip. A probe account gets a session and
//! a PowerSync token, the Rust SDK syncs into a temporary SQLite file, a probe note is
//! uploaded through notebox's `/api/data` (the request the SDK's upload connector sends),
//! and the note must come back through Postgres → replication → PowerSync → the local
//! SQLite; then the same for its deletion. Each step prints its time; a failed step says
//! which link of the chain broke and how to fix it.

use std::path::Path;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use powersync::env::PowerSyncEnvironment;
use powersync::error::PowerSyncError;
use powersync::schema::{Column, Schema, Table};
use powersync::{
    BackendConnector, ConnectionPool, PowerSyncCredentials, PowerSyncDatabase, SyncOptions,
};
use rusqlite::OptionalExtension;
use sqlx::PgPool;
use uuid::Uuid;

use super::diagnose;
use super::http::{SdkHttp, error_chain};
use crate::auth::{keys, sessions, tokens};
use crate::config::Config;
use crate::powersync::{Liveness, liveness};

/// The probe account. `.invalid` can never receive mail, and its password hash is not a
/// hash, so no password (and no sign-in) ever matches it.
pub const PROBE_EMAIL: &str = "e2e-probe@notebox.invalid";
const PROBE_NAME: &str = "notebox check --e2e";
const NO_LOGIN: &str = "!probe: never logs in";

/// How long a change may take to travel the whole chain before the step fails.
const ARRIVAL: Duration = Duration::from_secs(30);
const CONNECT: Duration = Duration::from_secs(20);

/// What the probe found: every step passed, or the first failure (already printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    RoundTrip,
    Failed,
}

/// Prints one line per step: `ok   e2e <step> <what> (<ms> ms)` or `FAIL …`.
struct Steps {
    started: Instant,
}

impl Steps {
    fn start() -> Self {
        Self {
            started: Instant::now(),
        }
    }

    fn pass(&mut self, step: &str, message: impl std::fmt::Display) {
        println!(
            "ok   e2e {step:<18} {message} ({} ms)",
            self.started.elapsed().as_millis()
        );
        self.started = Instant::now();
    }

    fn fail(&mut self, step: &str, message: impl std::fmt::Display) {
        println!(
            "FAIL e2e {step:<18} {message} ({} ms)",
            self.started.elapsed().as_millis()
        );
        self.started = Instant::now();
    }
}

/// Runs the round trip against the configured PowerSync service and the notebox serving
/// at `server.bind`, and removes everything it made (account, notes, local file).
pub async fn run(pool: &PgPool, config: &Config) -> Outcome {
    let mut steps = Steps::start();
    let user_id = match probe_account(pool).await {
        Ok(id) => {
            steps.pass("probe account", format!("{PROBE_EMAIL} ({id})"));
            id
        }
        Err(e) => {
            steps.fail(
                "probe account",
                format!("cannot create {PROBE_EMAIL}: {e}: run `notebox migrate` first"),
            );
            return Outcome::Failed;
        }
    };
    let dir = std::env::temp_dir().join(format!("notebox-e2e-{}", Uuid::new_v4().simple()));
    let outcome = match std::fs::create_dir_all(&dir) {
        Ok(()) => round_trip(pool, config, user_id, &dir, &mut steps).await,
        Err(e) => {
            steps.fail(
                "local database",
                format!(
                    "cannot create {} ({e}): set TMPDIR to a writable directory",
                    dir.display()
                ),
            );
            Outcome::Failed
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    match remove_probe_account(pool, user_id).await {
        Ok(()) => steps.pass("clean up", "probe account, its notes and the local file removed"),
        Err(e) => steps.fail(
            "clean up",
            format!("could not remove {PROBE_EMAIL} ({e}): remove it with `delete from users where email = '{PROBE_EMAIL}'`"),
        ),
    }
    outcome
}

async fn round_trip(
    pool: &PgPool,
    config: &Config,
    user_id: Uuid,
    dir: &std::path::Path,
    steps: &mut Steps,
) -> Outcome {
    let session = match sessions::create(pool, user_id, Duration::from_secs(600)).await {
        Ok(session) => session,
        Err(e) => {
            steps.fail("session", format!("cannot create a session: {e}"));
            return Outcome::Failed;
        }
    };
    let token = match tokens::issue(&keys::KeyRing::default(), pool, config, user_id).await {
        Ok(token) => {
            steps.pass(
                "token",
                format!(
                    "kid {}, aud {:?}, expires {}",
                    token.kid,
                    config.powersync.audience,
                    token.expires_at.format("%H:%M:%S UTC")
                ),
            );
            token
        }
        Err(e) => {
            steps.fail(
                "token",
                format!(
                    "cannot sign a PowerSync token ({e:#}): run `notebox migrate`, then try again"
                ),
            );
            return Outcome::Failed;
        }
    };
    let internal_url = &config.powersync.internal_url;
    match liveness(&reqwest::Client::new(), internal_url).await {
        Liveness::Up => steps.pass("powersync service", format!("{internal_url} is live")),
        Liveness::Down(why) => {
            steps.fail(
                "powersync service",
                format!("{why}: start the service, or fix powersync.internal_url"),
            );
            return Outcome::Failed;
        }
    }
    let http = SdkHttp::new(reqwest::Client::new());
    let path = dir.join("probe.sqlite");
    let database = match open_local(&path, http.clone()) {
        Ok(database) => {
            steps.pass("local database", path.display());
            database
        }
        Err(e) => {
            steps.fail(
                "local database",
                format!("cannot open {}: {e}", path.display()),
            );
            return Outcome::Failed;
        }
    };
    let _tasks = database.async_tasks().spawn_with_tokio();
    let mut options = SyncOptions::new(Connector {
        endpoint: config.powersync.internal_url.to_string(),
        token: token.token.clone(),
    });
    // The first token with a kid the service has not seen yet is refused once while it
    // refetches the key set (powersync.md §1): retry quickly instead of after 5 s.
    options.with_retry_delay(Duration::from_millis(500));
    database.connect(options).await;

    let api = NoteboxApi::new(config, &session.token);
    let outcome = sync_steps(pool, config, &database, &http, &api, steps).await;
    database.disconnect().await;
    outcome
}

async fn sync_steps(
    pool: &PgPool,
    config: &Config,
    database: &PowerSyncDatabase,
    http: &SdkHttp,
    api: &NoteboxApi,
    steps: &mut Steps,
) -> Outcome {
    let deadline = Instant::now() + CONNECT;
    loop {
        // Connected is not enough (the SDK reports it before the service has judged the
        // token): the first checkpoint must have been synced into the local database.
        if database.status().is_connected() && first_checkpoint_synced(database).await {
            steps.pass(
                "sync stream",
                format!(
                    "connected to {}, first checkpoint synced",
                    config.powersync.internal_url
                ),
            );
            break;
        }
        // These refusals do not go away by retrying (unlike the first unknown kid's).
        let lasting = http
            .last_refusal()
            .and_then(|r| r.code())
            .is_some_and(|code| {
                matches!(code.as_str(), "PSYNC_S2105" | "PSYNC_S2103" | "PSYNC_S2204")
            });
        if lasting || Instant::now() > deadline {
            let status = database.status();
            let error = status.download_error().map(|e| error_chain(e));
            steps.fail(
                "sync stream",
                diagnose::not_connected(config, http, error.as_deref()),
            );
            return Outcome::Failed;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let note = Uuid::new_v4();
    let title = format!("notebox e2e probe {}", chrono::Utc::now().to_rfc3339());
    match api.upload(note, Some(&title)).await {
        Ok(()) => steps.pass("upload", format!("PUT notes/{note} through {}", api.url)),
        Err(e) => {
            steps.fail("upload", e);
            return Outcome::Failed;
        }
    }
    if !wait_local(database, note, Some(&title)).await {
        steps.fail(
            "sync down",
            diagnose::not_arrived(pool, config, http, "the note").await,
        );
        return Outcome::Failed;
    }
    steps.pass(
        "sync down",
        "the note arrived in the local SQLite through PowerSync",
    );

    match api.upload(note, None).await {
        Ok(()) => steps.pass("delete", format!("DELETE notes/{note}")),
        Err(e) => {
            steps.fail("delete", e);
            return Outcome::Failed;
        }
    }
    if !wait_local(database, note, None).await {
        steps.fail(
            "sync delete",
            diagnose::not_arrived(pool, config, http, "the deletion").await,
        );
        return Outcome::Failed;
    }
    steps.pass("sync delete", "the deletion arrived in the local SQLite");
    Outcome::RoundTrip
}

/// Whether the SDK has completed a full checkpoint (the core extension's record of it).
async fn first_checkpoint_synced(database: &PowerSyncDatabase) -> bool {
    let Ok(reader) = database.reader().await else {
        return false;
    };
    reader
        .query_row("SELECT powersync_last_synced_at()", [], |row| {
            row.get::<_, Option<String>>(0)
        })
        .is_ok_and(|at| at.is_some())
}

/// Polls the local `notes` view until the note has `title` (`None`: until it is gone).
async fn wait_local(database: &PowerSyncDatabase, note: Uuid, title: Option<&str>) -> bool {
    let deadline = Instant::now() + ARRIVAL;
    let id = note.hyphenated().to_string();
    loop {
        let found: Option<String> = match database.reader().await {
            Ok(reader) => reader
                .query_row("SELECT title FROM notes WHERE id = ?", [&id], |row| {
                    row.get(0)
                })
                .optional()
                .unwrap_or(None),
            Err(_) => None,
        };
        if found.as_deref() == title {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The local schema: the columns of `notes` the web client declares (assets/db.js).
fn local_schema() -> Schema {
    let columns = [
        "owner_id",
        "notebook_id",
        "title",
        "body",
        "created_at",
        "updated_at",
        "updated_by",
    ];
    Schema {
        tables: vec![Table::create(
            "notes",
            columns.into_iter().map(Column::text).collect(),
            |_| {},
        )],
        raw_tables: vec![],
    }
}

fn open_local(path: &Path, http: SdkHttp) -> Result<PowerSyncDatabase, PowerSyncError> {
    PowerSyncEnvironment::powersync_auto_extension()?;
    let pool = ConnectionPool::open(path)?;
    let env = PowerSyncEnvironment::custom(http, pool, PowerSyncEnvironment::tokio_timer());
    Ok(PowerSyncDatabase::new(env, local_schema()))
}

/// Credentials as notebox's `/api/auth/token` would hand them out; nothing is ever written
/// locally, so there is nothing to upload through the SDK.
struct Connector {
    endpoint: String,
    token: String,
}

#[async_trait]
impl BackendConnector for Connector {
    async fn fetch_credentials(&self) -> Result<PowerSyncCredentials, PowerSyncError> {
        Ok(PowerSyncCredentials {
            endpoint: self.endpoint.clone(),
            token: self.token.clone(),
        })
    }

    async fn upload_data(&self) -> Result<(), PowerSyncError> {
        Ok(())
    }
}

/// notebox's upload API at `server.bind`, with the probe's session.
struct NoteboxApi {
    client: reqwest::Client,
    url: String,
    session: String,
    client_id: String,
}

impl NoteboxApi {
    fn new(config: &Config, session: &str) -> Self {
        let mut address = config.server.bind;
        if address.ip().is_unspecified() {
            address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        Self {
            client: reqwest::Client::new(),
            url: format!("http://{address}/api/data"),
            session: session.to_owned(),
            client_id: format!("notebox-e2e-{}", Uuid::new_v4().simple()),
        }
    }

    /// PUT the note with `title`, or DELETE it (`None`), as one client transaction.
    async fn upload(&self, note: Uuid, title: Option<&str>) -> Result<(), String> {
        let entry = match title {
            Some(title) => serde_json::json!({
                "op_id": 1, "op": "PUT", "type": "notes", "id": note, "tx_id": 1,
                "data": { "title": title, "body": "written by notebox check --e2e; removed when it finishes" },
            }),
            None => serde_json::json!({
                "op_id": 2, "op": "DELETE", "type": "notes", "id": note, "tx_id": 2,
            }),
        };
        let body = serde_json::json!({ "client_id": self.client_id, "transactions": [{ "crud": [entry] }] });
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(&self.session)
            .json(&body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "notebox does not answer at {} ({}): start `notebox serve` with this configuration (server.bind)",
                    self.url,
                    error_chain(&e)
                )
            })?;
        let status = response.status();
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        let result = answer["results"][0]["status"].as_str().unwrap_or_default();
        if status.is_success() && result == "success" {
            Ok(())
        } else {
            Err(format!(
                "{} answered {status} ({}): see notebox's log",
                self.url,
                if result.is_empty() {
                    answer.to_string()
                } else {
                    answer["results"][0].to_string()
                }
            ))
        }
    }
}

async fn probe_account(pool: &PgPool) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "insert into users (email, display_name, password_hash) values ($1, $2, $3)
         on conflict (lower(email)) do update set password_hash = excluded.password_hash, disabled_at = null
         returning id",
    )
    .bind(PROBE_EMAIL)
    .bind(PROBE_NAME)
    .bind(NO_LOGIN)
    .fetch_one(pool)
    .await
}

/// Deleting the account removes its sessions, notes, trash and history with it.
/// Its notes go first: deleting a note files it in the trash under its owner, which a
/// cascade from the account itself would refuse (the owner is already being deleted).
async fn remove_probe_account(pool: &PgPool, user_id: Uuid) -> Result<(), sqlx::Error> {
    let mut tx = crate::db::begin(pool).await?;
    sqlx::query("delete from notes where owner_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("delete from users where id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
