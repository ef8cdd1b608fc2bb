//! Invitations: one-time, expiring links that let a person create an account (even with
//! sign-up closed) and, when they name a notebook, join it. Only the token's SHA-256 is
//! stored. Owners invite to their notebooks; admins may also invite without one.

pub mod http;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use super::Role;
use crate::auth::sessions::hash_token;
use crate::auth::users::User;
use crate::config::Config;
use crate::http::ApiError;

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

/// The notebook joined (none for a plain account invitation) and the role held there.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub notebook_id: Option<Uuid>,
    pub role: Option<Role>,
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
