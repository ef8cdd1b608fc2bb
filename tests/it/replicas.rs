//! N replicas started at once on an empty database: the setup (migrations, publication,
//! roles, storage database, first signing key) runs once, under the setup lock; every
//! replica comes up.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::binary::{free_port, notebox};
use crate::helpers::{KillOnPanic, config_for, drop_powersync_objects, unique};

const REPLICAS: usize = 3;

/// Polls `/readyz` until it answers 200 (or the process exits, or 60 s pass).
async fn healthy(port: u16, child: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = format!("http://127.0.0.1:{port}/readyz");
    loop {
        if let Ok(response) = reqwest::get(&url).await
            && response.status().is_success()
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait().unwrap() {
            return Err(format!("exited with {status}"));
        }
        if Instant::now() > deadline {
            return Err("not ready within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

#[sqlx::test(migrations = false)]
async fn three_replicas_started_at_once_set_up_once(pool: PgPool) {
    let config = config_for(&pool);
    let logs = std::env::temp_dir().join(unique("replicas"));
    std::fs::create_dir_all(&logs).unwrap();
    let mut replicas: Vec<(u16, Child)> = (0..REPLICAS)
        .map(|i| {
            let port = free_port();
            let log = std::fs::File::create(logs.join(format!("{i}.log"))).unwrap();
            let child = notebox(&config)
                .args(["serve"])
                .env("NOTEBOX_SERVER__BIND", format!("127.0.0.1:{port}"))
                .env("NOTEBOX_LOG__FORMAT", "json")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap();
            (port, child)
        })
        .collect();
    let _kill: Vec<KillOnPanic> = replicas
        .iter()
        .map(|(_, child)| KillOnPanic::new(child))
        .collect();
    let mut outcome = Ok(());
    for (i, (port, child)) in replicas.iter_mut().enumerate() {
        if let Err(why) = healthy(*port, child).await {
            outcome = Err(format!("replica {i}: {why}"));
            break;
        }
    }
    for (_, child) in &mut replicas {
        stop(child);
    }
    let log_text: Vec<String> = (0..REPLICAS)
        .map(|i| std::fs::read_to_string(logs.join(format!("{i}.log"))).unwrap())
        .collect();
    let _ = std::fs::remove_dir_all(&logs);
    if let Err(why) = outcome {
        drop_powersync_objects(&pool, &config).await;
        panic!("{why}\n{}", log_text.join("\n---\n"));
    }

    let keys: i64 = sqlx::query_scalar("select count(*) from signing_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    let publications: i64 =
        sqlx::query_scalar("select count(*) from pg_publication where pubname = 'powersync'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let created_keys = log_text
        .iter()
        .filter(|log| log.contains("created the first token signing key"))
        .count();
    drop_powersync_objects(&pool, &config).await;
    assert_eq!(keys, 1, "exactly one signing key");
    assert_eq!(publications, 1);
    assert_eq!(created_keys, 1, "one replica created the key");
    for (i, log) in log_text.iter().enumerate() {
        assert!(
            !log.contains("already exists") && !log.contains("\"level\":\"ERROR\""),
            "replica {i}:\n{log}"
        );
        assert!(log.contains("is up"), "replica {i} served:\n{log}");
    }
}
