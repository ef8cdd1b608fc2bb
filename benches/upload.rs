//! POST /api/data throughput against a bare multi-row upsert, in one run on one Postgres.
//! Run: DATABASE_URL=postgres://… cargo bench --bench upload
//!
//! (a) 100-op PUT transactions, one client      (b) mixed PUT/PATCH/DELETE transactions
//! (c) 1-op transactions from 32 clients         (d) the rows of (a) by a bare
//!     `INSERT … VALUES (…100 rows) ON CONFLICT DO UPDATE`, one connection: the baseline.
//! (e) (a) into a shared notebook (the membership guard in every statement)
//! (f) (c) with a client_id (the exactly-once ledger claimed in the same statement),
//!     alternating with (c) so both see the same machine.
//! (h) (d2) behind the same HTTP server and client as (a), and nothing else (no auth, no
//!     parse): the most any HTTP backend could reach here, as a share of (d2).

mod support;

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Value, json};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

const OPS_PER_TX: usize = 100;
const TRANSACTIONS: usize = 200;
const ROUNDS: usize = 9;
/// Rounds of (c) and (f) each.
const ROUNDS_ONE_OP: usize = 5;

fn note(i: usize) -> (Uuid, String, String) {
    (
        Uuid::new_v4(),
        format!("note {i}"),
        format!("body of note {i} with a little text in it"),
    )
}

fn put(id: Uuid, title: &str, body: &str, tx: usize) -> Value {
    json!({"op": "PUT", "type": "notes", "id": id, "tx_id": tx,
           "data": {"title": title, "body": body, "created_at": "2026-11-24T10:00:00Z", "updated_at": "2026-11-24T10:00:00Z"}})
}

/// A PUT of a note into a notebook.
fn put_in(id: Uuid, title: &str, body: &str, tx: usize, notebook: Uuid) -> Value {
    let mut entry = put(id, title, body, tx);
    entry["data"]["notebook_id"] = json!(notebook);
    entry
}

/// Posts a body serialized beforehand: the server's work is measured, not the client's.
async fn post(bench: &support::Bench, body: &Value) {
    post_bytes(bench, serde_json::to_vec(body).unwrap()).await;
}

async fn post_bytes(bench: &support::Bench, body: Vec<u8>) {
    let request = bench
        .client
        .post(format!("{}/api/data", bench.base))
        .bearer_auth(&bench.session);
    send_upload(request, body).await;
}

/// Sends an upload body; asserts every transaction in the answer succeeded.
async fn send_upload(request: reqwest::RequestBuilder, body: Vec<u8>) {
    let response = request
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let results: Value = response.json().await.unwrap();
    assert!(
        results["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "success"),
        "{results}"
    );
}

fn report(name: &str, ops: usize, wall: std::time::Duration) -> f64 {
    let rate = ops as f64 / wall.as_secs_f64();
    println!(
        "{name:<52} {rate:>9.0} ops/s  ({ops} ops in {:.2} s)",
        wall.as_secs_f64()
    );
    rate
}

/// (d): the rows by a bare multi-row upsert, 100 rows per statement, autocommit; with
/// `stamp`, also setting `updated_by` to the writer, as every upload does.
async fn baseline(
    conn: &mut PgConnection,
    user: Uuid,
    rows: &[Vec<(Uuid, String, String)>],
    stamp: bool,
) -> std::time::Duration {
    let started = std::time::Instant::now();
    for tx in rows {
        let mut query = QueryBuilder::new(
            "insert into notes (id, owner_id, title, body, created_at, updated_at",
        );
        query.push(if stamp { ", updated_by) " } else { ") " });
        query.push_values(tx, |mut row, (id, title, body)| {
            row.push_bind(id)
                .push_bind(user)
                .push_bind(title)
                .push_bind(body)
                .push("'2026-11-24T10:00:00Z'::timestamptz")
                .push("'2026-11-24T10:00:00Z'::timestamptz");
            if stamp {
                row.push_bind(user);
            }
        });
        query.push(
            " on conflict (id) do update set title = excluded.title, body = excluded.body, \
                    created_at = excluded.created_at, updated_at = excluded.updated_at",
        );
        if stamp {
            query.push(", updated_by = excluded.updated_by");
        }
        query.push(" where notes.owner_id = excluded.owner_id");
        query.build().execute(&mut *conn).await.unwrap();
    }
    started.elapsed()
}

/// (d) on a connection of the app's pool, as the bench always measured it.
async fn pooled_baseline(
    bench: &support::Bench,
    rows: &[Vec<(Uuid, String, String)>],
    stamp: bool,
) -> std::time::Duration {
    let mut conn = bench.pool.acquire().await.unwrap();
    baseline(&mut conn, bench.user_id, rows, stamp).await
}

/// One serialized `{"batch":[…]}` body of PUTs per transaction of rows.
fn batch_bodies(rows: &[Vec<(Uuid, String, String)>]) -> Vec<Vec<u8>> {
    rows.iter()
        .enumerate()
        .map(|(t, tx)| json!({"batch": tx.iter().map(|(id, title, body)| put(*id, title, body, t)).collect::<Vec<_>>()}))
        .map(|body| serde_json::to_vec(&body).unwrap())
        .collect()
}

/// (a): the same kind of rows through POST /api/data, one 100-op transaction per request.
async fn through_api(
    bench: &support::Bench,
    rows: &[Vec<(Uuid, String, String)>],
) -> std::time::Duration {
    let bodies = batch_bodies(rows);
    let started = std::time::Instant::now();
    for body in bodies {
        post_bytes(bench, body).await;
    }
    started.elapsed()
}

/// (h): the stamped bare upsert (d2) behind the same HTTP server and client as (a). Each
/// request ignores its body and writes the next queued rows on one connection held across
/// requests (no pool acquire or release per request), then answers like an upload.
struct BareHttp {
    url: String,
    queue: BareQueue,
    conn: HeldConnection,
}

type BareQueue = Arc<std::sync::Mutex<VecDeque<Vec<(Uuid, String, String)>>>>;
type HeldConnection = Arc<tokio::sync::Mutex<Option<PoolConnection<Postgres>>>>;

impl BareHttp {
    async fn start(bench: &support::Bench) -> Self {
        let queue = BareQueue::default();
        let conn: HeldConnection = Arc::new(tokio::sync::Mutex::new(Some(
            bench.pool.acquire().await.unwrap(),
        )));
        let user = bench.user_id;
        let (rows, held) = (queue.clone(), conn.clone());
        let app = axum::Router::new().route(
            "/bare",
            axum::routing::post(move |_body: axum::body::Bytes| async move {
                let next = rows
                    .lock()
                    .unwrap()
                    .pop_front()
                    .expect("rows queued per request");
                let mut conn = held.lock().await;
                baseline(
                    conn.as_mut().expect("held until the end"),
                    user,
                    &[next],
                    true,
                )
                .await;
                axum::Json(json!({"results": [{"status": "success"}]}))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/bare", listener.local_addr().unwrap());
        tokio::spawn(notebox::http::serve(
            listener,
            app,
            std::future::pending(),
            notebox::http::ServeOptions::default(),
        ));
        Self { url, queue, conn }
    }

    /// Posts the rows of (a), each request with the body (a) sends for it.
    async fn run(
        &self,
        bench: &support::Bench,
        rows: Vec<Vec<(Uuid, String, String)>>,
    ) -> std::time::Duration {
        let bodies = batch_bodies(&rows);
        self.queue.lock().unwrap().extend(rows);
        let started = std::time::Instant::now();
        for body in bodies {
            send_upload(bench.client.post(&self.url), body).await;
        }
        started.elapsed()
    }

    /// Gives the held connection back, so the pool can close.
    async fn stop(self) {
        self.conn.lock().await.take();
    }
}

/// The bodies through the library call alone (parse + apply on one held connection),
/// without HTTP, auth or the pool.
async fn library_call(
    bench: &support::Bench,
    schema: &notebox::upload::UploadSchema,
    bodies: &[Vec<u8>],
) -> std::time::Duration {
    let limits = notebox::upload::Limits {
        max_value: 256 * 1024,
        commit_by: std::time::Instant::now() + std::time::Duration::from_secs(3600),
    };
    let mut conn = bench.pool.acquire().await.unwrap();
    let started = std::time::Instant::now();
    for body in bodies {
        let (_, transactions) = notebox::upload::parse(body).unwrap();
        for transaction in &transactions {
            let outcome =
                notebox::upload::apply(&mut conn, schema, bench.user_id, transaction, &limits)
                    .await
                    .unwrap();
            assert!(matches!(outcome, notebox::upload::Outcome::Applied));
        }
    }
    started.elapsed()
}

/// The upload schema as the server reads it.
async fn upload_schema(bench: &support::Bench) -> notebox::upload::UploadSchema {
    notebox::upload::UploadSchema::load(
        &bench.pool,
        &notebox::schema::SyncSchema::new(&notebox::config::Config::default()).unwrap(),
    )
    .await
    .unwrap()
}

/// Each round's rate of `paths` as a percentage of the same round's `bases`.
fn percent_by_round(paths: &[f64], bases: &[f64]) -> Vec<f64> {
    paths
        .iter()
        .zip(bases)
        .map(|(path, base)| path / base * 100.0)
        .collect()
}

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

#[tokio::main]
async fn main() {
    let bench = support::start(40).await;
    let fresh = || -> Vec<Vec<(Uuid, String, String)>> {
        (0..TRANSACTIONS)
            .map(|t| (0..OPS_PER_TX).map(|i| note(t * OPS_PER_TX + i)).collect())
            .collect()
    };
    // For a profiler: NOTEBOX_BENCH_FLOOR_ONLY=N, only N empty POSTs (the HTTP + auth
    // floor); NOTEBOX_BENCH_PUTS_ONLY=N, only N rounds of (a); NOTEBOX_BENCH_LIBRARY_ONLY=N,
    // only N rounds of its library call.
    let only = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
    };
    if let Some(n) = only("NOTEBOX_BENCH_FLOOR_ONLY") {
        let started = std::time::Instant::now();
        for _ in 0..n {
            post_bytes(&bench, br#"{"batch":[]}"#.to_vec()).await;
        }
        println!(
            "    empty POST /api/data (HTTP + auth floor): {:.3} ms per request",
            started.elapsed().as_secs_f64() * 1e3 / n as f64
        );
        bench.finish().await;
        return;
    }
    if let Some(n) = only("NOTEBOX_BENCH_LIBRARY_ONLY") {
        let schema = upload_schema(&bench).await;
        for _ in 0..n {
            let wall = library_call(&bench, &schema, &batch_bodies(&fresh())).await;
            report(
                "    parse + apply without HTTP (library call)",
                TRANSACTIONS * OPS_PER_TX,
                wall,
            );
        }
        bench.finish().await;
        return;
    }
    if let Some(n) = only("NOTEBOX_BENCH_PUTS_ONLY") {
        for _ in 0..n {
            let rows = fresh();
            let wall = through_api(&bench, &rows).await;
            report(
                "(a) POST /api/data, 100-op PUT transactions",
                rows.len() * OPS_PER_TX,
                wall,
            );
        }
        bench.finish().await;
        return;
    }
    // Warm both paths (connections, prepared statements) before measuring.
    let mut plain = PgConnection::connect(&bench.url()).await.unwrap();
    through_api(&bench, &fresh()[..5]).await;
    pooled_baseline(&bench, &fresh()[..5], false).await;
    pooled_baseline(&bench, &fresh()[..5], true).await;
    baseline(&mut plain, bench.user_id, &fresh()[..5], true).await;
    let bare_http = BareHttp::start(&bench).await;
    bare_http.run(&bench, fresh()[..5].to_vec()).await;

    // (d), (d2), (d3), (h) and (a) alternate, fresh rows each round; the medians are compared,
    // so a neighbour's burst of CPU during one round does not decide the ratio. Each starts
    // from a vacuumed, analyzed table, in an order that rotates every round, so none always
    // follows the rows the others just wrote (and the autovacuum they wake). Every one
    // slows as the table grows (by a third from the first round to the last).
    let ops = (TRANSACTIONS * OPS_PER_TX) as f64;
    let (mut baseline_rates, mut api_rates) = (Vec::new(), Vec::new());
    let (mut stamped_rates, mut plain_rates) = (Vec::new(), Vec::new());
    let mut http_rates = Vec::new();
    let mut existing: Vec<Uuid> = Vec::new();
    for round in 0..ROUNDS {
        for step in 0..5 {
            sqlx::raw_sql("vacuum (analyze) notes")
                .execute(&mut plain)
                .await
                .unwrap();
            let rows = fresh();
            match (round + step) % 5 {
                0 => baseline_rates
                    .push(ops / pooled_baseline(&bench, &rows, false).await.as_secs_f64()),
                1 => stamped_rates
                    .push(ops / pooled_baseline(&bench, &rows, true).await.as_secs_f64()),
                2 => plain_rates.push(
                    ops / baseline(&mut plain, bench.user_id, &rows, true)
                        .await
                        .as_secs_f64(),
                ),
                3 => http_rates.push(ops / bare_http.run(&bench, rows).await.as_secs_f64()),
                _ => {
                    api_rates.push(ops / through_api(&bench, &rows).await.as_secs_f64());
                    existing.extend(rows.iter().flatten().map(|(id, _, _)| *id));
                }
            }
        }
    }
    drop(plain);
    bare_http.stop().await;
    let (baseline, puts) = (median(baseline_rates.clone()), median(api_rates.clone()));
    let (stamped, unpooled) = (median(stamped_rates.clone()), median(plain_rates.clone()));
    println!(
        "{:<52} {baseline:>9.0} ops/s  (median of {ROUNDS} rounds of {ops} ops: {baseline_rates:.0?})",
        "(d) bare multi-row INSERT … ON CONFLICT (baseline)"
    );
    println!(
        "{:<52} {stamped:>9.0} ops/s  (median of {ROUNDS} rounds of {ops} ops: {stamped_rates:.0?})",
        "(d2) (d) also setting updated_by, as uploads do"
    );
    println!(
        "{:<52} {unpooled:>9.0} ops/s  (median of {ROUNDS} rounds of {ops} ops: {plain_rates:.0?})",
        "(d3) (d2) on a plain connection (no pool settings)"
    );
    let over_http = median(http_rates.clone());
    println!(
        "{:<52} {over_http:>9.0} ops/s  (median of {ROUNDS} rounds of {ops} ops: {http_rates:.0?})",
        "(h) (d2) behind the same HTTP server and client"
    );
    println!(
        "{:<52} {puts:>9.0} ops/s  (median of {ROUNDS} rounds of {ops} ops: {api_rates:.0?})",
        "(a) POST /api/data, 100-op PUT transactions"
    );

    // The same rows through the library call alone (parse + apply), without HTTP or auth.
    let schema = upload_schema(&bench).await;
    let bodies = batch_bodies(&fresh());
    let started = std::time::Instant::now();
    for body in &bodies {
        std::hint::black_box(notebox::upload::parse(body).unwrap());
    }
    report(
        "    parse only (JSON → client transactions)",
        TRANSACTIONS * OPS_PER_TX,
        started.elapsed(),
    );
    let wall = library_call(&bench, &schema, &bodies).await;
    report(
        "    parse + apply without HTTP (library call)",
        TRANSACTIONS * OPS_PER_TX,
        wall,
    );

    // The floor: an empty batch costs HTTP, auth and JSON framing, no database work.
    let started = std::time::Instant::now();
    for _ in 0..2000 {
        post_bytes(&bench, br#"{"batch":[]}"#.to_vec()).await;
    }
    println!(
        "    empty POST /api/data (HTTP + auth floor): {:.3} ms per request",
        started.elapsed().as_secs_f64() / 2.0
    );

    // (b) mixed: each transaction inserts 50 notes, patches 30 and deletes 20 of those from (a).
    let mixed: Vec<Vec<u8>> = (0..TRANSACTIONS)
        .map(|t| {
            let mut entries: Vec<Value> = (0..50).map(|i| { let (id, title, body) = note(i); put(id, &title, &body, t) }).collect();
            let base = t * 50;
            entries.extend((0..30).map(|i| json!({"op": "PATCH", "type": "notes", "id": existing[base + i], "tx_id": t,
                                                    "data": {"body": format!("edited {i}"), "updated_at": "2026-11-24T11:00:00Z"}})));
            entries.extend((30..50).map(|i| json!({"op": "DELETE", "type": "notes", "id": existing[base + i], "tx_id": t})));
            serde_json::to_vec(&json!({"batch": entries})).unwrap()
        })
        .collect();
    let started = std::time::Instant::now();
    for body in mixed {
        post_bytes(&bench, body).await;
    }
    report(
        "(b) POST /api/data, mixed 50 PUT/30 PATCH/20 DELETE",
        TRANSACTIONS * OPS_PER_TX,
        started.elapsed(),
    );

    // (e) the rows of (a) into a notebook shared with another member.
    let notebook = Uuid::new_v4();
    post(
        &bench,
        &json!({"batch": [{"op": "PUT", "type": "notebooks", "id": notebook, "tx_id": 0,
                                     "data": {"name": "team", "created_by": bench.user_id}}]}),
    )
    .await;
    let mut shared_rates = Vec::new();
    for _ in 0..ROUNDS {
        let bodies: Vec<Vec<u8>> = fresh()
            .iter()
            .enumerate()
            .map(|(t, tx)| json!({"batch": tx.iter().map(|(id, title, body)| put_in(*id, title, body, t, notebook)).collect::<Vec<_>>()}))
            .map(|body| serde_json::to_vec(&body).unwrap())
            .collect();
        let started = std::time::Instant::now();
        for body in bodies {
            post_bytes(&bench, body).await;
        }
        shared_rates.push(ops / started.elapsed().as_secs_f64());
    }
    let shared_puts = median(shared_rates.clone());
    println!(
        "{:<52} {shared_puts:>9.0} ops/s  (median of {ROUNDS} rounds: {shared_rates:.0?})",
        "(e) POST /api/data, 100-op PUTs into a shared notebook"
    );

    // (c) and (f): one-op transactions from 32 concurrent clients, without and with a
    // client_id. A first unmeasured round opens the connections (HTTP and Postgres), then
    // they take turns, in an order that swaps every round.
    let requests = 3000;
    let shared = Arc::new(bench);
    let one_op = |with_client: bool, round: usize, requests: usize| {
        let b = shared.clone();
        support::load(32, requests, move |i| {
            let b = b.clone();
            async move {
                let (id, title, body) = note(i);
                let mut request = json!({"batch": [put(id, &title, &body, i)]});
                if with_client {
                    request["client_id"] = json!(format!("bench-{round}-{}", i % 32));
                }
                post(&b, &request).await;
            }
        })
    };
    one_op(false, usize::MAX, requests / 6).await;
    one_op(true, usize::MAX, requests / 6).await;
    let (mut plain, mut ledgered) = (Vec::new(), Vec::new());
    // Where the CPU goes during (c) and (f): Postgres, or notebox (with the bench's clients).
    let (notebox_before, postgres_before) = support::cpu_seconds();
    for round in 0..ROUNDS_ONE_OP {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for with_client in order {
            let (wall, mut latencies) = one_op(with_client, round, requests).await;
            let rate = requests as f64 / wall.as_secs_f64();
            let p99 = support::percentile(&mut latencies, 0.99).as_secs_f64() * 1e3;
            if with_client {
                &mut ledgered
            } else {
                &mut plain
            }
            .push((rate, p99));
        }
    }
    let (notebox_after, postgres_after) = support::cpu_seconds();
    let one_op_requests = (2 * ROUNDS_ONE_OP * requests) as f64;
    for (name, runs) in [
        ("(c) POST /api/data, 1-op transactions, 32 clients", &plain),
        (
            "(f) the same with a client_id (exactly-once ledger)",
            &ledgered,
        ),
    ] {
        let rate = median(runs.iter().map(|r| r.0).collect());
        println!(
            "{name:<52} {rate:>9.0} ops/s  ({ROUNDS_ONE_OP} rounds of {requests}: {runs:.1?} (ops/s, p99 ms))"
        );
    }
    let (c, f) = (
        median(plain.iter().map(|r| r.0).collect()),
        median(ledgered.iter().map(|r| r.0).collect()),
    );
    let paired: Vec<f64> = ledgered
        .iter()
        .zip(&plain)
        .map(|(f, c)| f.0 / c.0 * 100.0)
        .collect();
    println!(
        "(f)/(c) = {:.0} %, round by round: median {:.0} % ({paired:.0?}) (target ≥ 85 %)",
        f / c * 100.0,
        median(paired.clone())
    );
    let (postgres, notebox) = (
        postgres_after - postgres_before,
        notebox_after - notebox_before,
    );
    println!(
        "    CPU during (c) and (f): Postgres {postgres:.1} s ({:.3} ms per request), notebox + bench clients {notebox:.1} s ({:.3} ms per request)",
        postgres * 1e3 / one_op_requests,
        notebox * 1e3 / one_op_requests
    );
    println!(
        "(e)/(d) = {:.0} %, (e)/(d2) = {:.0} % (target ≥ 50 % of the bare upsert)",
        shared_puts / baseline * 100.0,
        shared_puts / stamped * 100.0
    );
    println!(
        "(a)/(d) = {:.0} %, (a)/(d2) = {:.0} %, (a)/(d3) = {:.0} % (target ≥ 85 % of the bare upsert)",
        puts / baseline * 100.0,
        puts / stamped * 100.0,
        puts / unpooled * 100.0
    );
    // The same ratio per round: (a) and (d2) ran minutes apart at most, so a machine that
    // speeds up or slows down between rounds moves both.
    let paired = percent_by_round(&api_rates, &stamped_rates);
    println!(
        "(a)/(d2) round by round: median {:.0} % ({paired:.0?})",
        median(paired.clone())
    );
    // What the HTTP hop alone leaves of (d2), with no work of notebox's on it.
    let ceiling = percent_by_round(&http_rates, &stamped_rates);
    println!(
        "(h)/(d2) = {:.0} %, round by round: median {:.0} % ({ceiling:.0?}): the most an HTTP backend reaches here; (a)/(h) = {:.0} %",
        over_http / stamped * 100.0,
        median(ceiling.clone()),
        puts / over_http * 100.0
    );
    if let Ok(bench) = Arc::try_unwrap(shared) {
        bench.finish().await;
    }
}
