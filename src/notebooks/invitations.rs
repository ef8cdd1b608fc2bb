//! Invitations: one-time, expiring links that let a person create an account (even with
//! sign-up closed) and, when they name a notebook, join it. Only the token's SHA-256 is
//! stored. Owners invite to their notebooks; admins may also invite without one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use super::{Role, require_owner, role_of};
use crate::app::AppState;
use crate::auth::users::User;
use crate::auth::{CurrentSession, normalize_email, sessions::hash_token};
use crate::config::Config;
use crate::http::{ApiError, Json};

/// A new invitation: the link is shown once and never stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedInvitation {
    pub id: Uuid,
    pub url: String,
    pub email: String,
    pub notebook_id: Option<Uuid>,
    pub role: Option<Role>,
    pub expires_at: DateTime<Utc>,
}

/// An invitation not yet accepted, withdrawn or expired.
#[derive(Debug, Serialize, FromRow, utoipa::ToSchema)]
pub struct OpenInvitation {
    pub id: Uuid,
    pub email: String,
    pub notebook_id: Option<Uuid>,
    pub notebook_name: Option<String>,
    pub role: Option<Role>,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

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

/// The notebook joined (none for a plain account invitation) and the role held there.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub notebook_id: Option<Uuid>,
    pub role: Option<Role>,
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

/// The state of an invitation found by its token.
#[derive(FromRow)]
struct Found {
    id: Uuid,
    email: String,
    notebook_id: Option<Uuid>,
    role: Option<Role>,
    invited_by: Option<Uuid>,
    expires_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    /// False once whoever invited to a notebook is no longer one of its owners.
    inviter_is_owner: bool,
}

impl Found {
    /// 410 for a withdrawn, used or expired invitation, saying so.
    fn check_usable(&self) -> Result<(), ApiError> {
        if self.revoked_at.is_some() {
            return Err(ApiError::Gone(
                "this invitation was withdrawn: ask for a new one".into(),
            ));
        }
        if self.accepted_at.is_some() {
            return Err(ApiError::Gone(
                "this invitation was already used: log in instead, or ask for a new one".into(),
            ));
        }
        if !self.inviter_is_owner {
            return Err(ApiError::Gone(
                "whoever sent this invitation is no longer an owner of the notebook: ask an owner for a new one".into(),
            ));
        }
        if self.expires_at <= Utc::now() {
            return Err(ApiError::Gone(format!(
                "this invitation expired on {}: ask for a new one",
                self.expires_at.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        Ok(())
    }

    fn check_email(&self, email: &str, what_to_do: &str) -> Result<(), ApiError> {
        if self.email.to_lowercase() == email.trim().to_lowercase() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this invitation is for {}: {what_to_do}",
                self.email
            )))
        }
    }
}

/// An invitation's state, from `invitations i`.
const FOUND_COLUMNS: &str = "i.id, i.email, i.notebook_id, i.role, i.invited_by, i.expires_at,
    i.accepted_at, i.revoked_at,
    (i.notebook_id is null or i.invited_by is null or exists (
        select 1 from notebook_members m
        where m.notebook_id = i.notebook_id and m.user_id = i.invited_by and m.role = 'owner'
    )) as inviter_is_owner";

fn unknown_token() -> ApiError {
    ApiError::Missing(
        "this invitation link is not valid: check that it was copied whole, or ask for a new one"
            .into(),
    )
}

/// Stores a new invitation and returns its link (`server.public_url` + `/?invitation=TOKEN`),
/// valid for `auth.invitation_ttl`. `invited_by` is None for an admin on the command line.
pub async fn issue(
    db: impl PgExecutor<'_>,
    config: &Config,
    email: &str,
    notebook: Option<(Uuid, Role)>,
    invited_by: Option<Uuid>,
) -> Result<IssuedInvitation, sqlx::Error> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let ttl =
        chrono::Duration::from_std(config.auth.invitation_ttl).unwrap_or(chrono::Duration::days(7));
    let expires_at = Utc::now() + ttl;
    let id = sqlx::query_scalar(
        "insert into invitations (token_hash, email, notebook_id, role, invited_by, expires_at)
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(hash_token(&token))
    .bind(email)
    .bind(notebook.map(|(id, _)| id))
    .bind(notebook.map(|(_, role)| role))
    .bind(invited_by)
    .bind(expires_at)
    .fetch_one(db)
    .await?;
    let base = config.server.public_url.as_str().trim_end_matches('/');
    Ok(IssuedInvitation {
        id,
        url: format!("{base}/?invitation={token}"),
        email: email.to_owned(),
        notebook_id: notebook.map(|(id, _)| id),
        role: notebook.map(|(_, role)| role),
        expires_at,
    })
}

/// Open invitations: all of them, or only those `invited_by` sent.
pub async fn list_open(
    db: impl PgExecutor<'_>,
    invited_by: Option<Uuid>,
) -> Result<Vec<OpenInvitation>, sqlx::Error> {
    sqlx::query_as(
        "select i.id, i.email, i.notebook_id, n.name as notebook_name, i.role, i.invited_by,
                i.created_at, i.expires_at
         from invitations i left join notebooks n on n.id = i.notebook_id
         where i.accepted_at is null and i.revoked_at is null and i.expires_at > now()
           and ($1::uuid is null or i.invited_by = $1)
         order by i.created_at",
    )
    .bind(invited_by)
    .fetch_all(db)
    .await
}

/// Withdraws an invitation. False when there is no such invitation or it was already
/// accepted (then there is a member to remove instead).
pub async fn revoke_by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "update invitations set revoked_at = coalesce(revoked_at, now())
         where id = $1 and accepted_at is null",
    )
    .bind(id)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
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
/// Open invitations: the caller's (all of them for admins).
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

/// `GET /api/invitations/{token}` (public): what the link invites to, for the sign-up page.
/// What an invitation link is for (public: the link is the secret).
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
/// Accepts an invitation as the logged-in user (the invited email).
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
    let mut tx = state.pool.begin().await?;
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

/// `DELETE /api/invitations/{id}` (an admin, or whoever sent it): withdraws it.
/// Withdraws an open invitation (whoever sent it, or an admin).
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

/// Sign-up with an invitation, before anything is written: the token must be usable and
/// name `email`. (The invitation is consumed by [`accept_at_signup`] in the sign-up's
/// transaction.)
pub async fn check_signup_invitation(
    db: impl PgExecutor<'_>,
    token: &str,
    email: &str,
) -> Result<(), ApiError> {
    let found: Found = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {FOUND_COLUMNS} from invitations i where i.token_hash = $1"
    )))
    .bind(hash_token(token))
    .fetch_optional(db)
    .await?
    .ok_or_else(unknown_token)?;
    found.check_usable()?;
    found.check_email(email, "sign up with that email")
}

/// Consumes the invitation for the account just created in `tx` and joins its notebook.
pub async fn accept_at_signup(
    tx: &mut PgConnection,
    token: &str,
    user: &User,
) -> Result<Accepted, ApiError> {
    consume(tx, token, user, "sign up with that email").await
}

/// Marks the invitation accepted by `user` and adds them to its notebook with the invited
/// role (an existing membership is kept as it is). The row lock makes a second, concurrent
/// use of the same token wait and then find it used.
async fn consume(
    tx: &mut PgConnection,
    token: &str,
    user: &User,
    what_to_do: &str,
) -> Result<Accepted, ApiError> {
    let found: Found = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {FOUND_COLUMNS} from invitations i where i.token_hash = $1 for update of i"
    )))
    .bind(hash_token(token))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(unknown_token)?;
    found.check_usable()?;
    found.check_email(&user.email, what_to_do)?;
    sqlx::query("update invitations set accepted_at = now(), accepted_by = $2 where id = $1")
        .bind(found.id)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let (Some(notebook_id), Some(role)) = (found.notebook_id, found.role) else {
        return Ok(Accepted {
            notebook_id: None,
            role: None,
        });
    };
    let role = sqlx::query_scalar(
        "with added as (
             insert into notebook_members (notebook_id, user_id, role, added_by)
             values ($1, $2, $3, $4) on conflict (notebook_id, user_id) do nothing returning role
         )
         select role from added
         union all
         select role from notebook_members where notebook_id = $1 and user_id = $2",
    )
    .bind(notebook_id)
    .bind(user.id)
    .bind(role)
    .bind(found.invited_by)
    .fetch_one(&mut *tx)
    .await?;
    tracing::info!(invitation = %found.id, %notebook_id, user_id = %user.id, "invitation accepted");
    Ok(Accepted {
        notebook_id: Some(notebook_id),
        role: Some(role),
    })
}
