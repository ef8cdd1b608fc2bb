//! Shared bench plumbing: a fresh database on DATABASE_URL's server, migrated, and notebox
//! served on a free loopback port, so figures include HTTP, JSON and auth like production.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use notebox::app::{AppState, router};
use notebox::config::{Config, Secret, SignupPolicy};
use sqlx::{Connection, PgConnection, PgPool};

pub struct Bench {
    pub base: String,
    pub pool: PgPool,
    pub session: String,
    pub user_id: uuid::Uuid,
    pub client: reqwest::Client,
    database: String,
    admin_url: String,
}

pub async fn start(max_connections: u32) -> Bench {
    let admin_url = std::env::var("DATABASE_URL")
        .expect("set DATABASE_URL to a superuser URL on a wal_level=logical server");
    let database = format!(
        "notebox_bench_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {database}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&database);
    let mut config = Config::default();
    config.database.url = Secret::new(url.as_str());
    config.database.max_connections = max_connections;
    config.auth.signup = SignupPolicy::Open;
    config.powersync.storage_database = String::new();
    let pool = notebox::db::connect(&config.database).await.unwrap();
    notebox::db::MIGRATOR.run(&pool).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(AppState::new(config, pool.clone()));
    // Served exactly as `notebox serve` serves (socket options included).
    tokio::spawn(notebox::http::serve(
        listener,
        app,
        std::future::pending(),
        notebox::http::ServeOptions::default(),
    ));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    // The first account needs a setup token, as `notebox setup-link` prints.
    let setup_token = notebox::auth::setup::issue(&pool)
        .await
        .unwrap()
        .expect("a fresh database");
    let signup: serde_json::Value = client
        .post(format!("{base}/api/auth/signup"))
        .json(&serde_json::json!({"email": "bench@example.org", "password": "benchmark password", "setup_token": setup_token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = signup["session_token"].as_str().unwrap().to_owned();
    let user_id = signup["user"]["id"].as_str().unwrap().parse().unwrap();
    Bench {
        base,
        pool,
        session,
        user_id,
        client,
        database,
        admin_url,
    }
}

impl Bench {
    /// The bench database's superuser URL.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&self.admin_url).unwrap();
        url.set_path(&self.database);
        url.into()
    }

    pub async fn finish(self) {
        self.pool.close().await;
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database {} with (force)",
            self.database
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }
}

/// Latency percentiles of a set of samples.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs `requests` calls of `call` over `clients` concurrent tasks; returns the wall time
/// and every call's latency.
pub async fn load<F, Fut>(clients: usize, requests: usize, call: F) -> (Duration, Vec<Duration>)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let call = call.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= requests {
                    return latencies;
                }
                let t = Instant::now();
                call(i).await;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    (started.elapsed(), all)
}

/// CPU seconds used so far by this process (every thread: the server and the bench's
/// clients) and by every `postgres` process on this machine, from /proc's schedstat.
pub fn cpu_seconds() -> (f64, f64) {
    let on_cpu = |path: std::path::PathBuf| -> f64 {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |ns| ns / 1e9)
    };
    let threads = std::fs::read_dir("/proc/self/task")
        .map(|dir| {
            dir.flatten()
                .map(|task| on_cpu(task.path().join("schedstat")))
                .sum()
        })
        .unwrap_or(0.0);
    let postgres = std::fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter(|p| {
                    std::fs::read_to_string(p.path().join("comm"))
                        .is_ok_and(|comm| comm.trim() == "postgres")
                })
                .map(|p| on_cpu(p.path().join("schedstat")))
                .sum()
        })
        .unwrap_or(0.0);
    (threads, postgres)
}
