//! Prometheus metrics, kept in the app state (no global registry): requests and latency by
//! route, upload operations by table/op/outcome, rejections, tokens issued, pool usage.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    upload_ops: Mutex<BTreeMap<(String, &'static str, &'static str), u64>>,
    rejections: Mutex<BTreeMap<String, u64>>,
    tokens_issued: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Prometheus label values escape backslash, quote and newline.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn record_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        *lock(&self.requests)
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
        let mut latency = lock(&self.latency);
        let histogram = latency.entry(route.to_owned()).or_default();
        for (bucket, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// `outcome`: "applied", "rejected" or "retry".
    pub fn record_upload_ops(
        &self,
        table: &str,
        op: &'static str,
        outcome: &'static str,
        count: u64,
    ) {
        *lock(&self.upload_ops)
            .entry((table.to_owned(), op, outcome))
            .or_default() += count;
    }

    pub fn record_rejection(&self, code: &str) {
        *lock(&self.rejections).entry(code.to_owned()).or_default() += 1;
    }

    pub fn record_token_issued(&self) {
        self.tokens_issued.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, pool: &sqlx::PgPool) -> String {
        let mut out = String::new();
        out.push_str("# HELP notebox_http_requests_total HTTP requests by route, method and status.\n# TYPE notebox_http_requests_total counter\n");
        for ((route, method, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "notebox_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
        out.push_str("# HELP notebox_http_request_duration_seconds HTTP request latency by route.\n# TYPE notebox_http_request_duration_seconds histogram\n");
        for (route, h) in lock(&self.latency).iter() {
            let route = label(route);
            for (count, bound) in h.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "notebox_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "notebox_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "notebox_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "notebox_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP notebox_upload_ops_total Uploaded operations by table, op and outcome (applied, rejected, retry).\n# TYPE notebox_upload_ops_total counter\n");
        for ((table, op, outcome), n) in lock(&self.upload_ops).iter() {
            let _ = writeln!(
                out,
                "notebox_upload_ops_total{{table=\"{}\",op=\"{op}\",outcome=\"{outcome}\"}} {n}",
                label(table)
            );
        }
        out.push_str("# HELP notebox_upload_rejections_total Client transactions refused for good, by code.\n# TYPE notebox_upload_rejections_total counter\n");
        for (code, n) in lock(&self.rejections).iter() {
            let _ = writeln!(
                out,
                "notebox_upload_rejections_total{{code=\"{}\"}} {n}",
                label(code)
            );
        }
        let _ = write!(
            out,
            "# HELP notebox_tokens_issued_total PowerSync tokens issued.\n# TYPE notebox_tokens_issued_total counter\nnotebox_tokens_issued_total {}\n",
            self.tokens_issued.load(Ordering::Relaxed)
        );
        let (size, idle) = (
            pool.size(),
            u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        );
        let _ = write!(
            out,
            "# HELP notebox_db_pool_connections Database pool connections by state.\n# TYPE notebox_db_pool_connections gauge\n\
             notebox_db_pool_connections{{state=\"idle\"}} {idle}\nnotebox_db_pool_connections{{state=\"in_use\"}} {}\n\
             # HELP notebox_db_pool_max_connections Configured pool size.\n# TYPE notebox_db_pool_max_connections gauge\n\
             notebox_db_pool_max_connections {}\n",
            size.saturating_sub(idle),
            pool.options().get_max_connections()
        );
        out
    }
}

/// Middleware: counts and times every request under its route pattern (not its raw path,
/// which would give one series per note id).
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // Extension methods are client-chosen text: one label value for all of them.
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "other",
    }
    .to_owned();
    let response = next.run(request).await;
    metrics.record_request(
        &route,
        &method,
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
