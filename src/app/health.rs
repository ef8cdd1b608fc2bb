//! `/healthz`: the process answers. `/readyz`: it can do its job (database reachable,
//! migrations applied, publication present); 503 with the reasons otherwise. PowerSync
//! being down makes it "degraded", not unready: logins and uploads still work.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::AppState;
use crate::db::{PUBLICATION, migration_status};
use crate::http::{ApiError, Json, metrics_response};
use crate::powersync::{Liveness, liveness};

const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

#[derive(Debug, Serialize)]
struct Probe {
    name: &'static str,
    ok: bool,
    message: String,
}

#[tracing::instrument(skip_all)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (database, powersync) = tokio::join!(
        tokio::time::timeout(READY_TIMEOUT, probe_database(&state)),
        liveness(&state.http_client, &state.config.powersync.internal_url)
    );
    let powersync = match powersync {
        Liveness::Up => Probe {
            name: "powersync",
            ok: true,
            message: "liveness probe answered".into(),
        },
        Liveness::Down(why) => Probe {
            name: "powersync",
            ok: false,
            message: why,
        },
    };
    let mut probes = match database {
        Ok(probes) => probes,
        Err(_) => vec![Probe {
            name: "database",
            ok: false,
            message: format!(
                "no answer from Postgres within {} s",
                READY_TIMEOUT.as_secs()
            ),
        }],
    };
    let failed: Vec<String> = probes
        .iter()
        .filter(|p| !p.ok)
        .map(|p| format!("{}: {}", p.name, p.message))
        .collect();
    let status = if powersync.ok { "ready" } else { "degraded" };
    probes.push(powersync);
    if failed.is_empty() {
        Json(json!({ "status": status, "checks": probes })).into_response()
    } else {
        let body = json!({
            "status": "not_ready",
            "error": { "code": "not_ready", "message": failed.join("; ") },
            "checks": probes,
        });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

async fn probe_database(state: &AppState) -> Vec<Probe> {
    // Driver errors go to the log: this body is public and may name hosts and roles.
    if let Err(error) = sqlx::query("select 1").execute(&state.pool).await {
        tracing::warn!(%error, "readiness: database unreachable");
        return vec![Probe {
            name: "database",
            ok: false,
            message: "unreachable: is Postgres running, and is database.url right?".into(),
        }];
    }
    let mut probes = vec![Probe {
        name: "database",
        ok: true,
        message: "reachable".into(),
    }];
    probes.push(match migration_status(&state.pool).await {
        Ok(status) => {
            let pending = status.iter().filter(|m| m.applied_on.is_none()).count();
            Probe {
                name: "migrations",
                ok: pending == 0,
                message: if pending == 0 {
                    "all applied".into()
                } else {
                    format!("{pending} pending: run `notebox migrate`")
                },
            }
        }
        Err(error) => {
            tracing::warn!(%error, "readiness: cannot read the applied migrations");
            Probe {
                name: "migrations",
                ok: false,
                message: "cannot read the applied migrations (see the log)".into(),
            }
        }
    });
    probes.push(publication_probe(state).await);
    probes
}

/// `GET /metrics` (Prometheus), behind `server.metrics_token` when one is configured.
pub async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    metrics_response(
        &state.metrics,
        &state.pool,
        state.config.server.metrics_token.as_ref(),
        &headers,
    )
}

/// The publication exists and publishes every table of the sync schema.
async fn publication_probe(state: &AppState) -> Probe {
    let published: Result<Option<Vec<String>>, _> = sqlx::query_scalar(
        "select array(select tablename::text from pg_publication_tables t
                      where t.pubname = p.pubname and t.schemaname = 'public')
         from pg_publication p where p.pubname = $1",
    )
    .bind(PUBLICATION)
    .fetch_optional(&state.pool)
    .await;
    let (ok, message) = match published {
        Ok(Some(published)) => {
            let missing: Vec<&str> = state
                .schema
                .table_names()
                .into_iter()
                .filter(|t| !published.iter().any(|p| p == t))
                .collect();
            if missing.is_empty() {
                (
                    true,
                    format!("'{PUBLICATION}' publishes every synced table"),
                )
            } else {
                (
                    false,
                    format!(
                        "'{PUBLICATION}' lacks {}: run `notebox migrate`",
                        missing.join(", ")
                    ),
                )
            }
        }
        Ok(None) => (
            false,
            format!("'{PUBLICATION}' is missing: run `notebox migrate`"),
        ),
        Err(e) => (false, e.to_string()),
    };
    Probe {
        name: "publication",
        ok,
        message,
    }
}
