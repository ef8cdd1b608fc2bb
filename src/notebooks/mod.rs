//! Shared notebooks: who is a member with which role, and invitations that bring new people
//! in. Notebooks themselves are created, renamed and deleted through uploads (`upload`);
//! memberships change only here, over HTTP, and only by a notebook's owners.

pub mod invitations;
mod members;

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::http::ApiError;

pub use invitations::{accept_at_signup, check_signup_invitation};

/// What a member may do in a notebook.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Role {
    /// Reads and writes notes, renames and deletes the notebook, manages members.
    Owner,
    /// Reads and writes notes, renames the notebook.
    Editor,
    /// Reads only.
    Viewer,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        })
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "{other:?} is not a role: use owner, editor or viewer"
            )),
        }
    }
}

/// `/api/notebooks/{id}/members…` and `/api/invitations…` (nested under `/api`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(members::list, members::add))
        .routes(routes!(members::change_role, members::remove))
        .routes(routes!(invitations::http::list, invitations::http::create))
        .routes(routes!(invitations::http::accept))
        // One parameter name for both: the token (GET, public) or the id (DELETE).
        .routes(routes!(invitations::http::show, invitations::http::revoke))
}

/// The caller's role in a notebook; 404 when the notebook does not exist or the caller is
/// not a member (a notebook you are not in is none of your business).
async fn role_of(
    db: impl PgExecutor<'_>,
    notebook_id: Uuid,
    user_id: Uuid,
) -> Result<Role, ApiError> {
    sqlx::query_scalar("select role from notebook_members where notebook_id = $1 and user_id = $2")
        .bind(notebook_id)
        .bind(user_id)
        .fetch_optional(db)
        .await?
        .ok_or_else(unknown_notebook)
}

/// 403 unless `role` is owner.
fn require_owner(role: Role, doing: &str) -> Result<(), ApiError> {
    if role == Role::Owner {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "only the notebook's owners may {doing}; you are a {role}"
        )))
    }
}

fn unknown_notebook() -> ApiError {
    ApiError::Missing("there is no such notebook, or you are not a member of it".into())
}
