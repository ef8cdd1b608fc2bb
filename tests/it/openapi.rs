//! The OpenAPI document at `/api/openapi.json` lists every `/api` route. Routes registered
//! through `OpenApiRouter::routes` are documented by construction; these tests catch the
//! rest: any path literal in `src/` that is served under `/api` (with any method) but
//! missing from the document fails, whatever registered it (`.route`, `.nest`, a merge).

use std::collections::BTreeSet;
use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{app, config_for, get as get_path, send};

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// What the source says about routes: every string literal in `src/` that could be a
/// path (`"/…"`), and those passed to a `nest(` (prefixes).
struct Literals {
    paths: BTreeSet<String>,
    prefixes: BTreeSet<String>,
}

fn source_literals() -> Literals {
    fn walk(dir: &Path, literals: &mut Literals) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, literals);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                for (start, _) in text.match_indices("\"/") {
                    let rest = &text[start + 1..];
                    let Some(end) = rest.find('"') else { continue };
                    let literal = &rest[..end];
                    if !literal
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/{}*._-".contains(c))
                    {
                        continue;
                    }
                    literals.paths.insert(literal.to_owned());
                    if text[..start].trim_end().ends_with("nest(") {
                        literals.prefixes.insert(literal.to_owned());
                    }
                }
            }
        }
    }
    let mut literals = Literals {
        paths: BTreeSet::new(),
        prefixes: BTreeSet::new(),
    };
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut literals,
    );
    literals
}

/// The `/api` paths worth probing: each literal under `/api`, also behind each nest
/// prefix, with parameters filled in.
fn probes(literals: &Literals) -> BTreeSet<String> {
    let fill = |path: &str| {
        path.split('/')
            .map(|segment| {
                if segment.starts_with("{*") {
                    "x"
                } else if segment.starts_with('{') {
                    "0b7a3c1e-5f3d-4c2a-9e8b-1d2c3b4a5f60"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut probes = BTreeSet::new();
    for literal in &literals.paths {
        if literal == "/api" || literal.starts_with("/api/") {
            probes.insert(fill(literal));
            continue;
        }
        probes.insert(fill(&format!("/api{literal}")));
        for prefix in &literals.prefixes {
            let prefix = prefix.strip_prefix("/api").unwrap_or(prefix);
            probes.insert(fill(&format!("/api{prefix}{literal}")));
        }
    }
    probes
}

/// Whether `doc` has `method` on a path template that `path` fills.
fn documented(doc: &Value, method: &Method, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .any(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t == s)
                && item.get(method.as_str().to_lowercase()).is_some()
        })
}

/// (method, path) pairs `router` serves under `/api` that `doc` lacks.
async fn undocumented(router: &Router, doc: &Value, probes: &BTreeSet<String>) -> Vec<String> {
    let mut missing = Vec::new();
    for path in probes {
        for method in METHODS {
            let request = Request::builder()
                .method(method.clone())
                .uri(path.as_str())
                .body(Body::empty())
                .unwrap();
            let response = send(router, request).await;
            let unrouted = response.status == StatusCode::NOT_FOUND
                && response.json()["error"]["message"] == "no such resource";
            if unrouted || response.status == StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            if !documented(doc, &method, path) {
                missing.push(format!("{method} {path} ({})", response.status));
            }
        }
    }
    missing
}

#[sqlx::test]
async fn every_served_api_route_is_in_the_document(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let doc = get_path(&app, "/api/openapi.json").await.json();
    let literals = source_literals();
    assert!(
        literals.paths.contains("/auth/login"),
        "the source scan finds routes"
    );
    let missing = undocumented(&app, &doc, &probes(&literals)).await;
    assert!(
        missing.is_empty(),
        "served under /api but not in /api/openapi.json (register the route with \
         `.routes(routes!(handler))` and a `#[utoipa::path]`, see src/app/openapi.rs): {missing:#?}"
    );
}

#[sqlx::test]
async fn an_undocumented_route_is_caught(pool: PgPool) {
    let app = app(config_for(&pool), pool).route(
        "/api/admin/stray/{id}",
        get(|| async { "served, not documented" }),
    );
    let doc = serde_json::to_value(notebox::app::openapi()).unwrap();
    let literals = Literals {
        paths: ["/stray/{id}"].map(String::from).into(),
        prefixes: ["/admin"].map(String::from).into(),
    };
    let missing = undocumented(&app, &doc, &probes(&literals)).await;
    assert_eq!(
        missing,
        ["GET /api/admin/stray/0b7a3c1e-5f3d-4c2a-9e8b-1d2c3b4a5f60 (200 OK)"]
    );
}

#[sqlx::test]
async fn every_documented_operation_is_served(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    let doc = get_path(&app, "/api/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc, serde_json::to_value(notebox::app::openapi()).unwrap());
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{} paths", paths.len());
    for (template, item) in paths {
        assert!(
            template.starts_with("/api/"),
            "{template} is not under /api"
        );
        let one = Literals {
            paths: [template.clone()].into(),
            prefixes: BTreeSet::new(),
        };
        let path = probes(&one).into_iter().next().unwrap();
        for (method, operation) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let request = Request::builder()
                .method(method.clone())
                .uri(path.as_str())
                .body(Body::empty())
                .unwrap();
            let response = send(&app, request).await;
            let unrouted = response.status == StatusCode::NOT_FOUND
                && response.json()["error"]["message"] == "no such resource";
            assert!(
                !unrouted && response.status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {template} is documented but not served ({})",
                response.status
            );
            // What schemathesis relies on: every path parameter is described, every
            // error has the envelope's schema.
            for name in template
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                let described = operation["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(
                    described,
                    "{method} {template}: parameter {name} is not described"
                );
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert!(
                        schema
                            .as_str()
                            .is_some_and(|s| s.ends_with("/Error") || s.ends_with("/UploadRetry")),
                        "{method} {template} {status}: not the error envelope: {response}"
                    );
                }
            }
        }
    }
}

/// Errors are rendered from the documented schema type (one fact, one place): the
/// envelope's own 405 and a handler's 404 both match it.
#[sqlx::test]
async fn error_bodies_have_the_documented_shape(pool: PgPool) {
    let app = app(config_for(&pool), pool);
    for response in [
        get_path(&app, "/api/nothing-here").await,
        send(
            &app,
            Request::put("/api/auth/me").body(Body::empty()).unwrap(),
        )
        .await,
        get_path(&app, "/api/auth/me").await,
    ] {
        let body = response.json();
        let error = body["error"].as_object().expect("an error envelope");
        assert_eq!(error.len(), 2, "{body}");
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{body}"
        );
    }
}
