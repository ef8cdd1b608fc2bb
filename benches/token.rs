//! GET /api/auth/token throughput and latency with a valid session, and raw RS256 signing.
//! Run: DATABASE_URL=postgres://… cargo bench --bench token
//!
//! "one user": every request the same session (a client refetching: token reused).
//! "distinct users": every request a different user's first (session checked in Postgres,
//! a fresh RS256 signature), as when every client reconnects after PowerSync restarts.

mod support;

use std::time::Instant;

#[tokio::main]
async fn main() {
    let bench = support::start(10).await;
    let url = format!("{}/api/auth/token", bench.base);
    // Warm up: the first call creates the signing key.
    bench
        .client
        .get(&url)
        .bearer_auth(&bench.session)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();

    let ring = notebox::auth::KeyRing::default();
    let config = notebox::config::Config::default();
    let signs = 2000;
    let started = Instant::now();
    for _ in 0..signs {
        notebox::auth::tokens::issue(&ring, &bench.pool, &config, bench.user_id)
            .await
            .unwrap();
    }
    let sign_rate = signs as f64 / started.elapsed().as_secs_f64();
    println!("token signing (RS256, cached key, one task): {sign_rate:.0} tokens/s");
    // Each `auth.key_algorithm`: a signature alone, and its verification, one thread.
    let now = chrono::Utc::now();
    let claims = notebox::auth::tokens::Claims {
        sub: bench.user_id.to_string(),
        aud: "powersync".into(),
        iss: "http://localhost:8080".into(),
        iat: now.timestamp(),
        exp: now.timestamp() + 900,
    };
    for algorithm in [
        notebox::config::KeyAlgorithm::RS256,
        notebox::config::KeyAlgorithm::EdDSA,
        notebox::config::KeyAlgorithm::ES256,
    ] {
        let generated = notebox::auth::keys::generate(algorithm).unwrap();
        let key = notebox::auth::keys::SigningKey::from_pem(&generated.private_pem, now, now, None)
            .unwrap();
        let started = Instant::now();
        let mut token = String::new();
        for _ in 0..signs {
            token = std::hint::black_box(key.sign(&claims).unwrap());
        }
        let sign_rate = signs as f64 / started.elapsed().as_secs_f64();
        let mut validation = jsonwebtoken::Validation::new(algorithm.jwt());
        validation.set_audience(&["powersync"]);
        let started = Instant::now();
        for _ in 0..signs {
            jsonwebtoken::decode::<serde_json::Value>(&token, &key.decoding, &validation).unwrap();
        }
        let verify_rate = signs as f64 / started.elapsed().as_secs_f64();
        println!(
            "{:<52} {sign_rate:>7.0} tokens/s signed, {verify_rate:>7.0} verified",
            format!("key_algorithm = {algorithm:?} (one thread)")
        );
    }

    // Distinct users with sessions, made directly (sign-up is rate limited per address).
    let requests = 3000;
    let users: Vec<uuid::Uuid> = sqlx::query_scalar(
        "insert into users (email, password_hash) select 'u' || i || '@example.org', 'x' from generate_series(1, $1) i returning id",
    )
    .bind(i32::try_from(2 * requests).unwrap())
    .fetch_all(&bench.pool)
    .await
    .unwrap();
    let mut sessions = Vec::new();
    for user in users {
        let ttl = std::time::Duration::from_secs(3600);
        sessions.push(
            notebox::auth::sessions::create(&bench.pool, user, ttl)
                .await
                .unwrap()
                .token,
        );
    }
    let (first_half, second_half) = sessions.split_at(requests);
    let runs = [
        ("one user", 1, vec![bench.session.clone(); requests]),
        ("one user", 16, vec![bench.session.clone(); requests]),
        ("distinct users", 1, first_half.to_vec()),
        ("distinct users", 16, second_half.to_vec()),
    ];
    for (what, clients, sessions) in runs {
        let sessions = std::sync::Arc::new(sessions);
        let (client, url) = (bench.client.clone(), url.clone());
        let (wall, mut latencies) = support::load(clients, requests, move |i| {
            let (client, session, url) = (client.clone(), sessions[i].clone(), url.clone());
            async move {
                let response = client.get(&url).bearer_auth(&session).send().await.unwrap();
                assert!(response.status().is_success());
                response.bytes().await.unwrap();
            }
        })
        .await;
        println!(
            "GET /api/auth/token, {what:<14} {clients:>2} clients: {:>6.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({requests} requests)",
            requests as f64 / wall.as_secs_f64(),
            support::percentile(&mut latencies, 0.5).as_secs_f64() * 1e3,
            support::percentile(&mut latencies, 0.99).as_secs_f64() * 1e3,
        );
    }
    bench.finish().await;
}
