//! `/api/notebooks/{id}/members`: owners add people with an account, change roles and
//! remove members; any member may list them or leave. The last owner can neither leave nor
//! be demoted (checked here for a clear answer; a deferred trigger is the backstop).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::{Role, require_owner, role_of, unknown_notebook};
use crate::app::AppState;
use crate::auth::CurrentSession;
use crate::http::{ApiError, Json};

/// One membership, with the member's name and email as co-members see them.
#[derive(Debug, Serialize, FromRow, utoipa::ToSchema)]
pub struct Member {
    pub id: Uuid,
    pub notebook_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub display_name: String,
    pub email: String,
    pub added_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub(super) const MEMBER_COLUMNS: &str =
    "id, notebook_id, user_id, role, display_name, email, added_by, created_at";

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberList {
    members: Vec<Member>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    email: String,
    /// `editor` when left out.
    #[serde(default = "default_role")]
    role: Role,
}

fn default_role() -> Role {
    Role::Editor
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    role: Role,
}

/// An id from the path; one that is not a UUID names nothing, so it is a 404 too.
fn parse_id(raw: &str, missing: fn() -> ApiError) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| missing())
}

fn unknown_member() -> ApiError {
    ApiError::Missing("this person is not a member of this notebook".into())
}

/// Locks the notebook's row for the rest of the transaction, so concurrent membership
/// changes of one notebook run one after the other (two owners demoting each other at once
/// would otherwise both see "another owner is left"). 404 when it does not exist.
async fn lock_notebook(tx: &mut PgConnection, notebook_id: Uuid) -> Result<(), ApiError> {
    sqlx::query("select 1 from notebooks where id = $1 for no key update")
        .bind(notebook_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|_| ())
        .ok_or_else(unknown_notebook)
}

async fn member_role(
    tx: &mut PgConnection,
    notebook_id: Uuid,
    user_id: Uuid,
) -> Result<Role, ApiError> {
    sqlx::query_scalar("select role from notebook_members where notebook_id = $1 and user_id = $2")
        .bind(notebook_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(unknown_member)
}

async fn owner_count(tx: &mut PgConnection, notebook_id: Uuid) -> Result<i64, ApiError> {
    Ok(sqlx::query_scalar(
        "select count(*) from notebook_members where notebook_id = $1 and role = 'owner'",
    )
    .bind(notebook_id)
    .fetch_one(&mut *tx)
    .await?)
}

/// `GET /api/notebooks/{id}/members` (any member).
#[utoipa::path(get, path = "/notebooks/{id}/members", tag = "notebooks", security(("bearer" = []), ("session_cookie" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notebook (an id that is not a UUID names nothing: 404)")),
    responses(
        (status = 200, body = MemberList),
        (status = 404, description = "No such notebook, or the caller is not a member", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(notebook_id): Path<String>,
) -> Result<Json<MemberList>, ApiError> {
    let notebook_id = parse_id(&notebook_id, unknown_notebook)?;
    role_of(&state.pool, notebook_id, session.user.id).await?;
    let members = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {MEMBER_COLUMNS} from notebook_members where notebook_id = $1 order by created_at, email"
    )))
    .bind(notebook_id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(MemberList { members }))
}

/// `POST /api/notebooks/{id}/members {email, role}` (owners): adds someone who has an account.
#[utoipa::path(post, path = "/notebooks/{id}/members", tag = "notebooks", security(("bearer" = []), ("session_cookie" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notebook (an id that is not a UUID names nothing: 404)")), request_body = AddMember,
    responses(
        (status = 201, body = Member),
        (status = 403, description = "Only owners add members", body = crate::http::ErrorBody),
        (status = 404, description = "No such notebook (or the caller is not a member), or nobody has an account with this email", body = crate::http::ErrorBody),
        (status = 409, description = "Already a member", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn add(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(notebook_id): Path<String>,
    Json(request): Json<AddMember>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    let notebook_id = parse_id(&notebook_id, unknown_notebook)?;
    let mut tx = crate::db::begin(&state.pool).await?;
    lock_notebook(&mut tx, notebook_id).await?;
    require_owner(
        role_of(&mut *tx, notebook_id, session.user.id).await?,
        "add members",
    )?;
    let email = request.email.trim();
    let user_id: Option<Uuid> =
        sqlx::query_scalar("select id from users where lower(email) = lower($1)")
            .bind(email)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(user_id) = user_id else {
        return Err(ApiError::Missing(format!(
            "nobody has an account with the email {email}: invite them with POST /api/invitations, and they join when they sign up"
        )));
    };
    let added: Option<Member> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into notebook_members (notebook_id, user_id, role, added_by) values ($1, $2, $3, $4)
         on conflict (notebook_id, user_id) do nothing returning {MEMBER_COLUMNS}"
    )))
    .bind(notebook_id)
    .bind(user_id)
    .bind(request.role)
    .bind(session.user.id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(member) = added else {
        let role = member_role(&mut tx, notebook_id, user_id).await?;
        return Err(ApiError::Conflict(format!(
            "{email} is already a member of this notebook (as {role}): change the role with PATCH /api/notebooks/{notebook_id}/members/{user_id}"
        )));
    };
    tx.commit().await?;
    tracing::info!(%notebook_id, %user_id, role = %member.role, "member added");
    Ok((StatusCode::CREATED, Json(member)))
}

/// `PATCH /api/notebooks/{id}/members/{user_id} {role}` (owners).
#[utoipa::path(patch, path = "/notebooks/{id}/members/{user_id}", tag = "notebooks", security(("bearer" = []), ("session_cookie" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notebook (an id that is not a UUID names nothing: 404)"), ("user_id" = uuid::Uuid, Path, description = "The member's user id")), request_body = ChangeRole,
    responses(
        (status = 200, body = Member),
        (status = 403, description = "Only owners change roles", body = crate::http::ErrorBody),
        (status = 404, description = "No such notebook or member", body = crate::http::ErrorBody),
        (status = 409, description = "The last owner cannot be demoted", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn change_role(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((notebook_id, user_id)): Path<(String, String)>,
    Json(request): Json<ChangeRole>,
) -> Result<Json<Member>, ApiError> {
    let notebook_id = parse_id(&notebook_id, unknown_notebook)?;
    let mut tx = crate::db::begin(&state.pool).await?;
    lock_notebook(&mut tx, notebook_id).await?;
    require_owner(
        role_of(&mut *tx, notebook_id, session.user.id).await?,
        "change roles",
    )?;
    let user_id = parse_id(&user_id, unknown_member)?;
    let current = member_role(&mut tx, notebook_id, user_id).await?;
    if current == Role::Owner
        && request.role != Role::Owner
        && owner_count(&mut tx, notebook_id).await? == 1
    {
        return Err(ApiError::Conflict(
            "this is the notebook's last owner: make another member owner first".into(),
        ));
    }
    let member: Member = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update notebook_members set role = $3 where notebook_id = $1 and user_id = $2 returning {MEMBER_COLUMNS}"
    )))
    .bind(notebook_id)
    .bind(user_id)
    .bind(request.role)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(%notebook_id, %user_id, role = %member.role, "member role changed");
    Ok(Json(member))
}

/// `DELETE /api/notebooks/{id}/members/{user_id}` (owners; anyone for themself = leave).
/// Removes a member (owners), or leaves the notebook (the caller's own user id).
#[utoipa::path(delete, path = "/notebooks/{id}/members/{user_id}", tag = "notebooks", security(("bearer" = []), ("session_cookie" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notebook (an id that is not a UUID names nothing: 404)"), ("user_id" = uuid::Uuid, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Only owners remove other members", body = crate::http::ErrorBody),
        (status = 404, description = "No such notebook or member", body = crate::http::ErrorBody),
        (status = 409, description = "The last owner cannot leave", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn remove(
    State(state): State<AppState>,
    session: CurrentSession,
    Path((notebook_id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let notebook_id = parse_id(&notebook_id, unknown_notebook)?;
    let mut tx = crate::db::begin(&state.pool).await?;
    lock_notebook(&mut tx, notebook_id).await?;
    let caller_role = role_of(&mut *tx, notebook_id, session.user.id).await?;
    let user_id = parse_id(&user_id, unknown_member)?;
    let leaving = user_id == session.user.id;
    if !leaving {
        require_owner(caller_role, "remove other members")?;
    }
    let current = member_role(&mut tx, notebook_id, user_id).await?;
    if current == Role::Owner && owner_count(&mut tx, notebook_id).await? == 1 {
        return Err(ApiError::Conflict(
            "you are the notebook's last owner: make another member owner first, or delete the notebook".into(),
        ));
    }
    sqlx::query("delete from notebook_members where notebook_id = $1 and user_id = $2")
        .bind(notebook_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(%notebook_id, %user_id, leaving, "member removed");
    Ok(StatusCode::NO_CONTENT)
}
