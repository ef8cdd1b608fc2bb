//! Which notebox account a verified identity signs in to: the linked one, else the account
//! with the same verified email (linked now, once), else a new account.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sqlx::{Postgres, Transaction};

use super::failure::Failure;
use crate::auth::handlers::SIGNUP_LOCK;
use crate::auth::password;
use crate::auth::users::{self, User};
use crate::config::OidcConfig;

/// Who the provider says signed in, after the ID token (and userinfo) checked out.
#[derive(Debug)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// The groups claim; `None` when the provider sent none.
    pub groups: Option<Vec<String>>,
}

impl Identity {
    fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }
}

/// A refusal the user is told about, with the details for the log.
pub type Refusal = (Failure, String);

const USER_COLUMNS: &str = "u.id, u.email, u.display_name, u.is_admin, u.created_at, u.disabled_at";

/// The account `identity` signs in to, linked or created as needed, in one transaction.
pub async fn sign_in(
    pool: &sqlx::PgPool,
    config: &OidcConfig,
    identity: &Identity,
) -> anyhow::Result<Result<User, Refusal>> {
    if !config.allowed_email_domains.is_empty() {
        match identity.verified_email() {
            Some(email) if config.allows_email(email) => {}
            Some(email) => {
                return Ok(Err((
                    Failure::Domain,
                    format!("{email} is not in auth.oidc.allowed_email_domains"),
                )));
            }
            None => return Ok(Err(unverified(identity))),
        }
    }
    let mut tx = crate::db::begin(pool).await?;
    let linked: Option<User> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {USER_COLUMNS} from user_identities i join users u on u.id = i.user_id
         where i.issuer = $1 and i.subject = $2"
    )))
    .bind(&identity.issuer)
    .bind(&identity.subject)
    .fetch_optional(&mut *tx)
    .await?;
    let user = match linked {
        Some(user) => user,
        None => match link_or_create(&mut tx, config, identity).await? {
            Ok(user) => user,
            Err(refusal) => return Ok(Err(refusal)),
        },
    };
    if user.disabled_at.is_some() {
        return Ok(Err((
            Failure::Disabled,
            format!("account {} is disabled", user.id),
        )));
    }
    sqlx::query(
        "update user_identities set last_login_at = now() where issuer = $1 and subject = $2",
    )
    .bind(&identity.issuer)
    .bind(&identity.subject)
    .execute(&mut *tx)
    .await?;
    let user = sync_admin(&mut tx, config, identity, user).await?;
    tx.commit().await?;
    Ok(Ok(user))
}

fn unverified(identity: &Identity) -> Refusal {
    let details = match &identity.email {
        None => "the provider sent no email (is the \"email\" scope granted?)".to_owned(),
        Some(email) => {
            format!("the provider has not verified {email} (email_verified is not true)")
        }
    };
    (Failure::Unverified, details)
}

/// First sign-in of this subject: link the account with its verified email, or create one.
async fn link_or_create(
    tx: &mut Transaction<'_, Postgres>,
    config: &OidcConfig,
    identity: &Identity,
) -> anyhow::Result<Result<User, Refusal>> {
    let Some(email) = identity.verified_email() else {
        return Ok(Err(unverified(identity)));
    };
    let existing = users::find_by_email(&mut **tx, email).await?;
    let user = match existing {
        Some((user, _)) if user.disabled_at.is_some() => {
            return Ok(Err((
                Failure::Disabled,
                format!("account {} ({email}) is disabled", user.id),
            )));
        }
        Some((user, _)) => user,
        None if !config.auto_create_users => {
            return Ok(Err((
                Failure::NoAccount,
                format!("no account has the email {email} and auth.oidc.auto_create_users is off"),
            )));
        }
        None => {
            sqlx::query("select pg_advisory_xact_lock($1)")
                .bind(SIGNUP_LOCK)
                .execute(&mut **tx)
                .await?;
            let first = users::count(&mut **tx).await? == 0;
            let name: String = identity
                .name
                .as_deref()
                .unwrap_or_default()
                .trim()
                .chars()
                .take(200)
                .collect();
            // An unusable password: this account signs in through the provider (an admin
            // can still set one with `notebox user passwd`).
            let mut random = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut random);
            let hash = password::hash(URL_SAFE_NO_PAD.encode(random)).await?;
            let user = users::create(&mut **tx, email, &name, &hash, first).await?;
            tracing::info!(user_id = %user.id, admin = first, "account created by single sign-on");
            user
        }
    };
    let inserted = sqlx::query(
        "insert into user_identities (issuer, subject, user_id, email) values ($1, $2, $3, $4)
         on conflict (issuer, user_id) do nothing",
    )
    .bind(&identity.issuer)
    .bind(&identity.subject)
    .bind(user.id)
    .bind(email)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(Err((
            Failure::Linked,
            format!(
                "{email} (subject {}) matches account {}, which is linked to another subject at {}",
                identity.subject, user.id, identity.issuer
            ),
        )));
    }
    tracing::info!(user_id = %user.id, subject = %identity.subject, "account linked to the identity provider");
    Ok(Ok(user))
}

/// With `admin_group` set, the provider decides who is an admin, at every sign-in.
async fn sync_admin(
    tx: &mut Transaction<'_, Postgres>,
    config: &OidcConfig,
    identity: &Identity,
    user: User,
) -> anyhow::Result<User> {
    let Some(group) = &config.admin_group else {
        return Ok(user);
    };
    if identity.groups.is_none() {
        tracing::warn!(
            claim = %config.groups_claim,
            "the provider sent no groups claim: the user is not an admin (check auth.oidc.groups_claim and the scopes)"
        );
    }
    let admin = identity.groups.iter().flatten().any(|g| g == group);
    if admin == user.is_admin {
        return Ok(user);
    }
    sqlx::query("update users set is_admin = $2 where id = $1")
        .bind(user.id)
        .bind(admin)
        .execute(&mut **tx)
        .await?;
    tracing::info!(user_id = %user.id, admin, "admin rights set from the provider's groups");
    Ok(User {
        is_admin: admin,
        ..user
    })
}
