//! GET /api/auth/token throughput and latency with a valid session, and raw RS256 signing.
//! Run: DATABASE_URL=postgres://… cargo bench --bench token

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

    for clients in [1, 16] {
        let requests = 3000;
        let (client, session, url) = (bench.client.clone(), bench.session.clone(), url.clone());
        let (wall, mut latencies) = support::load(clients, requests, move |_| {
            let (client, session, url) = (client.clone(), session.clone(), url.clone());
            async move {
                let response = client.get(&url).bearer_auth(&session).send().await.unwrap();
                assert!(response.status().is_success());
                response.bytes().await.unwrap();
            }
        })
        .await;
        println!(
            "GET /api/auth/token, {clients:>2} clients: {:>6.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({requests} requests)",
            requests as f64 / wall.as_secs_f64(),
            support::percentile(&mut latencies, 0.5).as_secs_f64() * 1e3,
            support::percentile(&mut latencies, 0.99).as_secs_f64() * 1e3,
        );
    }
    bench.finish().await;
}
