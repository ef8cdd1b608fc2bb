//! `keys`, `user` and `token`: managing who can sign in and what signs their tokens.

use std::process::ExitCode;

use anyhow::{Context, bail};

use super::{KeysCommand, UserCommand};
use crate::auth::{keys, password, setup, tokens, users};
use crate::config::Config;
use crate::db;

fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

pub(super) async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    match command {
        KeysCommand::List => {
            let now = chrono::Utc::now();
            println!(
                "{:<44}  {:<8}  {:<23}  {:<23}  retires",
                "kid", "status", "created", "signing since"
            );
            for key in keys::list(&pool).await? {
                let status = match key.retire_after {
                    Some(at) if at <= now => "retired",
                    _ if key.signing_from > now => "pending",
                    Some(_) => "retiring",
                    None => "signing",
                };
                println!(
                    "{:<44}  {status:<8}  {:<23}  {:<23}  {}",
                    key.kid,
                    when(Some(key.created_at)),
                    when(Some(key.signing_from)),
                    when(key.retire_after)
                );
            }
        }
        KeysCommand::Rotate => {
            let rotation = keys::rotate(
                &pool,
                config.auth.key_rotation_grace,
                config.powersync.token_ttl,
                config.auth.key_algorithm,
            )
            .await?;
            println!(
                "published new key {}; it signs from {}",
                rotation.kid,
                when(Some(rotation.signing_from))
            );
            for (kid, at) in rotation.retired {
                println!(
                    "key {kid} keeps signing until then and is withdrawn at {}",
                    when(Some(at))
                );
            }
        }
        KeysCommand::Generate { .. } => unreachable!("handled before connecting"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The password from stdin, or a generated one that is printed once.
fn new_password(from_stdin: bool, min_length: usize) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        use base64::Engine;
        use rand::RngCore;
        let mut bytes = [0u8; 18];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        return Ok((
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
            true,
        ));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.chars().count() < min_length {
        bail!(
            "the password must be at least {min_length} characters long (auth.min_password_length)"
        );
    }
    Ok((password, false))
}

pub(super) async fn user(config: Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    let min = config.auth.min_password_length;
    match command {
        UserCommand::Add {
            email,
            display_name,
            admin,
            password_stdin,
        } => {
            let (password, generated) = new_password(password_stdin, min)?;
            let hash = password::hash(password.clone()).await?;
            match users::create(&pool, email.trim(), display_name.trim(), &hash, admin).await {
                Ok(user) => println!(
                    "created {}{} ({})",
                    user.email,
                    if admin { " (admin)" } else { "" },
                    user.id
                ),
                Err(e)
                    if e.as_database_error()
                        .is_some_and(|d| d.is_unique_violation()) =>
                {
                    bail!("a user with email {email} already exists")
                }
                Err(e) => return Err(db::explain(&e, config.database.url.expose()).into()),
            }
            // A scripted install's first account: the setup links have nothing left to do.
            setup::finish(&pool).await?;
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::List => {
            println!(
                "{:<36}  {:<32}  {:<20}  {:<5}  {:<10}  disabled",
                "id", "email", "name", "admin", "created"
            );
            for user in users::list(&pool).await? {
                println!(
                    "{:<36}  {:<32}  {:<20}  {:<5}  {:<10}  {}",
                    user.id,
                    user.email,
                    user.display_name,
                    if user.is_admin { "yes" } else { "no" },
                    user.created_at.format("%Y-%m-%d"),
                    user.disabled_at
                        .map_or_else(|| "-".to_owned(), |at| at.format("%Y-%m-%d").to_string())
                );
            }
        }
        UserCommand::Disable { email } => {
            if !users::disable(&pool, &email).await? {
                bail!("there is no user with email {email}: see `notebox user list`");
            }
            println!("disabled {email} and ended its sessions");
        }
        UserCommand::Passwd {
            email,
            password_stdin,
        } => {
            let (password, generated) = new_password(password_stdin, min)?;
            let hash = password::hash(password.clone()).await?;
            if !users::set_password(&pool, &email, &hash).await? {
                bail!("there is no user with email {email}: see `notebox user list`");
            }
            println!("changed the password of {email} and ended its sessions");
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::Invitation(_) => unreachable!("handled by cli::invitations"),
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn token(config: Config, email: &str) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    let Some((user, _)) = users::find_by_email(&pool, email).await? else {
        bail!("there is no user with email {email}: see `notebox user list`");
    };
    if user.disabled_at.is_some() {
        bail!("{email} is disabled; PowerSync tokens are only issued to active users");
    }
    let ring = keys::KeyRing::default();
    let issued = tokens::issue(&ring, &pool, &config, user.id).await?;
    println!("{}", issued.token);
    eprintln!(
        "kid {}, sub {}, expires {}",
        issued.kid,
        user.id,
        when(Some(issued.expires_at))
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn setup_link(config: Config) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    let Some(token) = setup::issue(&pool)
        .await
        .context("could not store a setup token: run `notebox migrate` first")?
    else {
        bail!(
            "an account already exists, so there is no first run to set up: log in, or add accounts with `notebox user add`"
        );
    };
    println!("{}", setup::link(&config.server.public_url, &token));
    Ok(ExitCode::SUCCESS)
}
