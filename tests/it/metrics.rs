//! `/metrics` stays a bounded set of series: whatever methods and paths clients send, the
//! route label is a route pattern (or one value for everything unmatched) and the method
//! one of seven or "other".

use axum::body::Body;
use axum::http::Request;
use sqlx::PgPool;

use crate::helpers::{app, config_for, get, send};

/// The series names with their labels, in order (the exporter's order is not stable).
fn series(text: &str) -> std::collections::BTreeSet<&str> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' ').map(|(series, _)| series))
        .collect()
}

#[sqlx::test]
async fn arbitrary_methods_and_paths_add_no_series(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let round = |n: usize| {
        let app = app.clone();
        async move {
            for i in 0..n {
                for (method, path) in [
                    (
                        format!("FOO{i}"),
                        format!("/api/notes/{}/versions", uuid::Uuid::new_v4()),
                    ),
                    (format!("BAR{i}"), format!("/api/nothing-{i}")),
                    ("GET".to_owned(), format!("/api/nothing/{i}/at/all")),
                    ("DELETE".to_owned(), format!("/api/auth/{i}")),
                    (format!("X-{i}"), "/healthz".to_owned()),
                    (
                        "GET".to_owned(),
                        format!("/api/notes/{}/versions", uuid::Uuid::new_v4()),
                    ),
                ] {
                    let request = Request::builder()
                        .method(method.as_str())
                        .uri(path)
                        .body(Body::empty())
                        .unwrap();
                    send(&app, request).await;
                }
            }
        }
    };
    round(2).await;
    get(&app, "/metrics").await; // /metrics' own series appear from the next render on
    let before = String::from_utf8(get(&app, "/metrics").await.body).unwrap();
    round(50).await;
    let after = String::from_utf8(get(&app, "/metrics").await.body).unwrap();
    assert_eq!(series(&before), series(&after), "{after}");
    assert!(
        after.contains("method=\"other\"") && !after.contains("FOO") && !after.contains("nothing-"),
        "{after}"
    );
    assert!(
        after.contains("# TYPE notebox_http_request_duration_seconds histogram"),
        "{after}"
    );
}
