//! `user invite`, `user invitations`, `user uninvite`: invitation links from the command
//! line, sent as an admin (no inviter recorded).

use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;
use uuid::Uuid;

use crate::auth::normalize_email;
use crate::config::Config;
use crate::db;
use crate::notebooks::{Role, invitations};

#[derive(Debug, Subcommand)]
pub enum InvitationCommand {
    /// Print a one-time link (valid for auth.invitation_ttl) with which EMAIL can sign up,
    /// even when sign-up is closed; with --notebook they also join that notebook.
    Invite {
        email: String,
        /// The notebook to join (its id).
        #[arg(long, value_name = "ID")]
        notebook: Option<Uuid>,
        /// owner, editor or viewer (default: editor).
        #[arg(long, requires = "notebook")]
        role: Option<Role>,
    },
    /// List open invitations (not accepted, withdrawn or expired).
    Invitations,
    /// Withdraw an invitation: its link stops working.
    Uninvite {
        /// The invitation's id (see `notebox user invitations`).
        id: Uuid,
    },
}

pub(super) async fn run(config: Config, command: InvitationCommand) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    match command {
        InvitationCommand::Invite {
            email,
            notebook,
            role,
        } => {
            let email = normalize_email(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(id) = notebook {
                let exists: bool =
                    sqlx::query_scalar("select exists (select 1 from notebooks where id = $1)")
                        .bind(id)
                        .fetch_one(&pool)
                        .await?;
                if !exists {
                    bail!("there is no notebook with id {id}");
                }
            } else {
                let exists: bool = sqlx::query_scalar(
                    "select exists (select 1 from users where lower(email) = lower($1))",
                )
                .bind(&email)
                .fetch_one(&pool)
                .await?;
                if exists {
                    bail!("{email} already has an account: see `notebox user list`");
                }
            }
            let notebook = notebook.map(|id| (id, role.unwrap_or(Role::Editor)));
            let issued = invitations::issue(&pool, &config, &email, notebook, None).await?;
            println!("{}", issued.url);
            eprintln!(
                "invitation {} for {email}{}; the link works once, until {}",
                issued.id,
                notebook.map_or_else(String::new, |(id, role)| format!(
                    " to notebook {id} as {role}"
                )),
                issued.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        InvitationCommand::Invitations => {
            println!(
                "{:<36}  {:<32}  {:<24}  {:<6}  expires",
                "id", "email", "notebook", "role"
            );
            for invitation in invitations::list_open(&pool, None).await? {
                let notebook = match (&invitation.notebook_name, invitation.notebook_id) {
                    (Some(name), _) if !name.is_empty() => name.clone(),
                    (_, Some(id)) => id.to_string(),
                    _ => "-".to_owned(),
                };
                println!(
                    "{:<36}  {:<32}  {:<24}  {:<6}  {}",
                    invitation.id,
                    invitation.email,
                    notebook,
                    invitation
                        .role
                        .map_or_else(|| "-".to_owned(), |r| r.to_string()),
                    invitation.expires_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        InvitationCommand::Uninvite { id } => {
            if !invitations::revoke_by_id(&pool, id).await? {
                bail!(
                    "there is no open invitation {id} (an accepted one cannot be withdrawn): see `notebox user invitations`"
                );
            }
            println!("withdrew invitation {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
