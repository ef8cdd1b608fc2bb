//! The invitations' HTTP API under `/api/invitations`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use uuid::Uuid;

use super::{
    Accepted, FOUND_COLUMNS, Found, IssuedInvitation, OpenInvitation, consume, issue, list_open,
    revoke_by_id, unknown_token,
};
use crate::app::AppState;
use crate::auth::{CurrentSession, normalize_email, sessions::hash_token};
use crate::http::{ApiError, Json};
use crate::notebooks::{Role, require_owner, role_of};

/// What the holder of a link may learn about it before signing up or logging in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationPreview {
    email: String,
    notebook_id: Option<Uuid>,
    notebook_name: Option<String>,
    role: Option<Role>,
    invited_by_name: Option<String>,
    expires_at: DateTime<Utc>,
    /// The invited email already has an account: log in and accept rather than sign up.
    has_account: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    #[schema(format = Email, max_length = 320)]
    email: String,
    #[serde(default)]
    notebook_id: Option<Uuid>,
    #[serde(default)]
    role: Option<Role>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InvitationList {
    invitations: Vec<OpenInvitation>,
}

/// Invites someone by email: to a notebook (its owners; the role defaults to editor), or to
/// an account without a notebook (admins only).
#[utoipa::path(post, path = "/invitations", tag = "invitations", security(("bearer" = []), ("session_cookie" = [])),
    request_body = NewInvitation,
    responses(
        (status = 201, description = "The invitation; its link is shown only now", body = IssuedInvitation),
        (status = 400, description = "Invalid email, or a role without a notebook", body = crate::http::ErrorBody),
        (status = 403, description = "Not an owner of the notebook; or no notebook and not an admin", body = crate::http::ErrorBody),
        (status = 404, description = "No such notebook, or the caller is not a member", body = crate::http::ErrorBody),
        (status = 409, description = "Already a member, or already has an account", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(request): Json<NewInvitation>,
) -> Result<(StatusCode, Json<IssuedInvitation>), ApiError> {
    let email = normalize_email(&request.email)?;
    let notebook = match request.notebook_id {
        Some(notebook_id) => {
            let role = role_of(&state.pool, notebook_id, session.user.id).await?;
            require_owner(role, "invite people to it")?;
            let member: bool = sqlx::query_scalar(
                "select exists (select 1 from notebook_members where notebook_id = $1 and lower(email) = lower($2))",
            )
            .bind(notebook_id)
            .bind(&email)
            .fetch_one(&state.pool)
            .await?;
            if member {
                return Err(ApiError::Conflict(format!(
                    "{email} is already a member of this notebook"
                )));
            }
            Some((notebook_id, request.role.unwrap_or(Role::Editor)))
        }
        None if request.role.is_some() => {
            return Err(ApiError::BadRequest(
                "a role needs a notebook: send notebook_id too".into(),
            ));
        }
        None if !session.user.is_admin => {
            return Err(ApiError::Forbidden(
                "only admins may invite people without a notebook: to share a notebook, send its notebook_id".into(),
            ));
        }
        None => {
            let exists: bool = sqlx::query_scalar(
                "select exists (select 1 from users where lower(email) = lower($1))",
            )
            .bind(&email)
            .fetch_one(&state.pool)
            .await?;
            if exists {
                return Err(ApiError::Conflict(format!(
                    "{email} already has an account"
                )));
            }
            None
        }
    };
    let issued = issue(
        &state.pool,
        &state.config,
        &email,
        notebook,
        Some(session.user.id),
    )
    .await?;
    tracing::info!(invitation = %issued.id, notebook_id = ?issued.notebook_id, "invitation created");
    Ok((StatusCode::CREATED, Json(issued)))
}

/// `GET /api/invitations` (logged in): admins see every open invitation, others the ones
/// they sent.
#[utoipa::path(get, path = "/invitations", tag = "invitations", security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = InvitationList)))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<InvitationList>, ApiError> {
    let mine = (!session.user.is_admin).then_some(session.user.id);
    let invitations = list_open(&state.pool, mine).await?;
    Ok(Json(InvitationList { invitations }))
}

/// `GET /api/invitations/{token}` (public: the link is the secret): what the link invites
/// to, for the sign-up page.
#[utoipa::path(get, path = "/invitations/{key}", tag = "invitations",
    params(("key" = String, Path, description = "The invitation token from the link")),
    responses(
        (status = 200, body = InvitationPreview),
        (status = 404, description = "The link is not valid", body = crate::http::ErrorBody),
        (status = 410, description = "Withdrawn, used or expired", body = crate::http::ErrorBody),
        (status = 503, description = "The database is unavailable; retry", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<InvitationPreview>, ApiError> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        found: Found,
        notebook_name: Option<String>,
        invited_by_name: Option<String>,
        has_account: bool,
    }
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {FOUND_COLUMNS}, n.name as notebook_name,
                nullif(coalesce(nullif(u.display_name, ''), u.email), '') as invited_by_name,
                exists (select 1 from users x where lower(x.email) = lower(i.email)) as has_account
         from invitations i
         left join notebooks n on n.id = i.notebook_id
         left join users u on u.id = i.invited_by
         where i.token_hash = $1"
    )))
    .bind(hash_token(&token))
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(unknown_token)?;
    row.found.check_usable()?;
    Ok(Json(InvitationPreview {
        email: row.found.email,
        notebook_id: row.found.notebook_id,
        notebook_name: row.notebook_name,
        role: row.found.role,
        invited_by_name: row.invited_by_name,
        expires_at: row.found.expires_at,
        has_account: row.has_account,
    }))
}

/// `POST /api/invitations/accept {token}` (logged in as the invited email): joins the notebook.
#[utoipa::path(post, path = "/invitations/accept", tag = "invitations", security(("bearer" = []), ("session_cookie" = [])),
    request_body = AcceptRequest,
    responses(
        (status = 200, description = "The notebook joined, if any", body = Accepted),
        (status = 403, description = "The invitation is for another email", body = crate::http::ErrorBody),
        (status = 404, description = "The link is not valid", body = crate::http::ErrorBody),
        (status = 410, description = "Withdrawn, used or expired", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn accept(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(request): Json<AcceptRequest>,
) -> Result<Json<Accepted>, ApiError> {
    let mut tx = crate::db::begin(&state.pool).await?;
    let accepted = consume(
        &mut tx,
        &request.token,
        &session.user,
        "log in with that account to accept it",
    )
    .await?;
    tx.commit().await?;
    Ok(Json(accepted))
}

/// `DELETE /api/invitations/{id}` (an admin, or whoever sent it): withdraws an open invitation.
#[utoipa::path(delete, path = "/invitations/{key}", tag = "invitations", security(("bearer" = []), ("session_cookie" = [])),
    params(("key" = uuid::Uuid, Path, description = "The invitation's id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "Neither the sender nor an admin", body = crate::http::ErrorBody),
        (status = 404, description = "No such invitation", body = crate::http::ErrorBody),
        (status = 409, description = "Already accepted", body = crate::http::ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn revoke(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let unknown = || ApiError::Missing("there is no such invitation".into());
    let id: Uuid = id.parse().map_err(|_| unknown())?;
    let found: Found = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {FOUND_COLUMNS} from invitations i where i.id = $1"
    )))
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(unknown)?;
    if !session.user.is_admin && found.invited_by != Some(session.user.id) {
        return Err(ApiError::Forbidden(
            "only an admin or whoever sent this invitation may withdraw it".into(),
        ));
    }
    if !revoke_by_id(&state.pool, id).await? {
        return Err(ApiError::Conflict(
            "this invitation was already accepted: remove the member from the notebook instead"
                .into(),
        ));
    }
    tracing::info!(invitation = %id, "invitation withdrawn");
    Ok(StatusCode::NO_CONTENT)
}
