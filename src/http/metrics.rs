//! Prometheus metrics with the `metrics` crate, recorded into a Prometheus recorder kept in
//! the app state (no global registry, so every `AppState` counts on its own): requests and
//! latency by route, upload operations by table/op/outcome, rejections, tokens issued, pool
//! usage. Every label value comes from a bounded set: route patterns (not raw paths), seven
//! methods plus "other", status codes, configured tables, our rejection codes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use super::ApiError;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
const LATENCY: &str = "notebox_http_request_duration_seconds";

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.into()), &BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Self { recorder, handle };
        metrics.record(|| {
            describe_counter!(
                "notebox_http_requests_total",
                "HTTP requests by route, method and status."
            );
            describe_histogram!(LATENCY, Unit::Seconds, "HTTP request latency by route.");
            describe_counter!(
                "notebox_upload_ops_total",
                "Uploaded operations by table, op and outcome (applied, rejected, retry)."
            );
            describe_counter!(
                "notebox_upload_rejections_total",
                "Client transactions refused for good, by code."
            );
            describe_counter!("notebox_tokens_issued_total", "PowerSync tokens issued.");
            describe_gauge!(
                "notebox_db_pool_connections",
                "Database pool connections by state."
            );
            describe_gauge!("notebox_db_pool_max_connections", "Configured pool size.");
            // Present from the start, as before: a scrape sees 0, not a missing series.
            counter!("notebox_tokens_issued_total").absolute(0);
        });
        metrics
    }
}

impl Metrics {
    fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    pub fn record_request(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        self.record(|| {
            counter!(
                "notebox_http_requests_total",
                "route" => route.to_owned(),
                "method" => method,
                "status" => status.to_string()
            )
            .increment(1);
            histogram!(LATENCY, "route" => route.to_owned()).record(seconds);
        });
    }

    /// `outcome`: "applied", "rejected" or "retry".
    pub fn record_upload_ops(
        &self,
        table: &str,
        op: &'static str,
        outcome: &'static str,
        count: u64,
    ) {
        self.record(|| {
            counter!(
                "notebox_upload_ops_total",
                "table" => table.to_owned(),
                "op" => op,
                "outcome" => outcome
            )
            .increment(count);
        });
    }

    pub fn record_rejection(&self, code: &str) {
        self.record(|| {
            counter!("notebox_upload_rejections_total", "code" => code.to_owned()).increment(1);
        });
    }

    pub fn record_token_issued(&self) {
        self.record(|| counter!("notebox_tokens_issued_total").increment(1));
    }

    pub fn render(&self, pool: &sqlx::PgPool) -> String {
        let (size, idle) = (pool.size(), pool.num_idle());
        self.record(|| {
            gauge!("notebox_db_pool_connections", "state" => "idle").set(idle as f64);
            gauge!("notebox_db_pool_connections", "state" => "in_use")
                .set(f64::from(size).max(idle as f64) - idle as f64);
            gauge!("notebox_db_pool_max_connections")
                .set(f64::from(pool.options().get_max_connections()));
        });
        self.handle.render()
    }

    /// Folds recorded latencies into their buckets now and then, so memory stays flat
    /// between scrapes (and when nobody scrapes).
    pub async fn upkeep(self: Arc<Self>) {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            self.handle.run_upkeep();
        }
    }
}

/// Middleware: counts and times every request under its route pattern (not its raw path,
/// which would give one series per note id).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // Extension methods are client-chosen text: one label value for all of them.
    let method = match request.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    metrics.record_request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The answer of `GET /metrics`, behind `token` (`server.metrics_token`) when one is set.
pub fn metrics_response(
    metrics: &Metrics,
    pool: &sqlx::PgPool,
    token: Option<&crate::config::Secret>,
    headers: &axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|given| same_secret(given, token.expose())) {
            return Err(ApiError::Unauthorized(
                "metrics need Authorization: Bearer <server.metrics_token>".into(),
            ));
        }
    }
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(pool),
    )
        .into_response())
}

/// Compares without an early exit, so response time does not reveal how much of a guess
/// was right (hashing first makes the lengths equal too).
fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
