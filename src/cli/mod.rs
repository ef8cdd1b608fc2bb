//! The command line. Every command fails with one sentence on stderr and exit code 1.

mod accounts;
mod invitations;
mod transfer;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app::{self, AppState};
use crate::auth::keys;
use crate::config::{Config, DEFAULT_TOML, KeyAlgorithm};
use crate::db::{self, Severity};
use crate::http;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "notebox",
    version,
    about = "Offline-first notes on Postgres + PowerSync: token issuer, upload API, migrations and web UI"
)]
pub struct Cli {
    /// Configuration file (TOML). Without it: built-in defaults + NOTEBOX_* variables.
    #[arg(
        long,
        short,
        global = true,
        env = "NOTEBOX_CONFIG",
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate (unless database.migrate_on_start = false), check Postgres, and serve HTTP (the default).
    Serve,
    /// Apply database migrations and the PowerSync setup (publication, roles, storage database).
    Migrate {
        /// Only list migrations and whether each is applied.
        #[arg(long)]
        status: bool,
    },
    /// Check that Postgres and the PowerSync service are ready; exits 1 on a FAIL line (or any warning with --strict).
    Check {
        /// Only check Postgres (e.g. before PowerSync is started).
        #[arg(long)]
        postgres_only: bool,
        /// Fail on warnings too (by default only FAIL lines fail the command).
        #[arg(long)]
        strict: bool,
        /// Then act as a real client: sync a probe note through notebox and PowerSync into a
        /// temporary SQLite and delete it again; exits 0 only when the round trip completed.
        #[arg(long)]
        e2e: bool,
    },
    /// Render the PowerSync service config (powersync.yaml, sync config inline) from this config.
    PowersyncConfig {
        /// Write powersync.yaml and sync-config.yaml into this directory instead of printing.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Exit 0 when this notebox answers GET /healthz (for Docker's HEALTHCHECK).
    Healthcheck {
        /// Instead: exit 0 only when a probe note makes the round trip through PowerSync (see `check --e2e`).
        #[arg(long)]
        e2e: bool,
    },
    /// Write a user's notes (and notebooks) to a SQLite file with the tables the clients
    /// sync, or to one Markdown file per note. Never overwrites a file.
    Export {
        /// The user's email.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        user: Option<String>,
        /// Every user, one file (or folder) per user inside --out.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value = "sqlite")]
        format: transfer::ExportFormat,
        /// The SQLite file (or, for markdown and --all, the folder) to write.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
    /// Import notes for a user from a folder of Markdown/text files (Obsidian, Joplin,
    /// notebox) or a notebox SQLite export. Bad files are reported and skipped; the rest
    /// is imported in one transaction.
    Import {
        /// The user's email.
        #[arg(long)]
        user: String,
        /// A folder, a Markdown or text file, or a .sqlite export.
        source: PathBuf,
    },
    /// Print or validate configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage the RS256 keys that sign PowerSync tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print a one-time link that creates the first (admin) account in the web UI
    /// (only while no account exists; each run prints a new link, all valid until one is used).
    SetupLink,
    /// Print a PowerSync token for a user (for debugging with curl or the PowerSync diagnostics app).
    Token {
        /// The user's email.
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys: kid, created, signing since, retires.
    List,
    /// Publish a new key now; it signs after auth.key_rotation_grace, and the current key
    /// retires once its last token has expired.
    Rotate,
    /// Print a fresh key pair (PEM) and its public JWK, for inline PowerSync keys. Stores nothing.
    Generate {
        /// The signature algorithm (auth.key_algorithm's values).
        #[arg(long, value_enum, default_value_t = KeyAlgorithm::RS256)]
        algorithm: KeyAlgorithm,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a strong password is generated and printed once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        display_name: String,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Disable an account and end its sessions.
    Disable { email: String },
    /// Set a new password (ends the user's sessions). Without --password-stdin one is generated and printed.
    Passwd {
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    #[command(flatten)]
    Invitation(invitations::InvitationCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the fully commented default configuration.
    PrintDefault,
    /// Load the configuration (file + environment), check it, and print the effective values with secrets hidden.
    Validate,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Config(ConfigCommand::PrintDefault) = command {
        print!("{DEFAULT_TOML}");
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Keys(KeysCommand::Generate { algorithm }) = command {
        let key = keys::generate(algorithm)?;
        print!("{}{}", key.private_pem, key.public_pem);
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "keys": [key.jwk] }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(cli.config.as_deref())?;
    if let Command::PowersyncConfig { out } = &command {
        return render_powersync_config(&config, out.as_deref());
    }
    if let Command::Config(ConfigCommand::Validate) = command {
        print!("{}", config.to_redacted_toml());
        return Ok(ExitCode::SUCCESS);
    }
    telemetry::init(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(async move {
        match command {
            Command::Serve => serve(config).await,
            Command::Migrate { status } => migrate(config, status).await,
            Command::Check {
                postgres_only,
                strict,
                e2e,
            } => check(config, postgres_only, strict, e2e).await,
            Command::Healthcheck { e2e: false } => healthcheck(config).await,
            Command::Healthcheck { e2e: true } => round_trip(config).await,
            Command::Export {
                user,
                all,
                format,
                out,
            } => transfer::export(config, user, all, format, out).await,
            Command::Import { user, source } => transfer::import(config, &user, &source).await,
            Command::PowersyncConfig { .. } => unreachable!("handled above"),
            Command::Keys(command) => accounts::keys(config, command).await,
            Command::User(UserCommand::Invitation(command)) => {
                invitations::run(config, command).await
            }
            Command::User(command) => accounts::user(config, command).await,
            Command::Token { user } => accounts::token(config, &user).await,
            Command::SetupLink => accounts::setup_link(config).await,
            Command::Config(_) => unreachable!("handled above"),
        }
    })
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    if config.database.migrate_on_start {
        // With database.admin_url the setup runs as that role and the app role is set up
        // (created, granted) before the first connection as it below.
        let admin = db::connect_admin(&config.database).await?;
        let setup = db::under_setup_lock(&admin, || async {
            for step in db::migrate(&admin, &config).await? {
                log_setup_step(&step);
            }
            first_signing_key(&admin, &config).await
        })
        .await;
        admin.close().await;
        setup?;
    }
    let pool = db::connect(&config.database).await?;
    let checks = db::preflight(&pool, &config)
        .await
        .map_err(|e| db::explain(&e, config.database.url.expose()))?;
    for check in &checks {
        match check.severity {
            Severity::Ok => tracing::debug!(check = check.name, "{}", check.message),
            Severity::Warn => tracing::warn!(check = check.name, "{}", check.message),
            Severity::Fail => tracing::error!(check = check.name, "{}", check.message),
        }
    }
    if let Some(failed) = checks.iter().find(|c| c.severity == Severity::Fail) {
        bail!("{}", failed.message);
    }
    if !config.database.migrate_on_start {
        first_signing_key(&pool, &config).await?;
    }
    match crate::auth::setup::issue(&pool).await {
        Ok(Some(token)) => {
            let link = crate::auth::setup::link(&config.server.public_url, &token);
            println!(
                "\nNo account exists yet. Create the admin account by opening this one-time link:\n\n    {link}\n\n(`notebox setup-link` prints another.)\n"
            );
        }
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, "could not create a setup link; run `notebox setup-link`")
        }
    }
    crate::notes::apply_settings(&pool, &config)
        .await
        .map_err(|e| db::explain(&e, config.database.url.expose()))?;
    tokio::spawn(purge_hourly(pool.clone(), config.clone()));
    let state = AppState::new(config, pool.clone());
    tokio::spawn(state.metrics.clone().upkeep());
    tokio::spawn(state.auth.clone().forget_expired());
    state.upload.schema(&state).await?; // a wrong [upload.tables] fails here, not on the first upload
    let config = state.config.clone();
    let listener = TcpListener::bind(config.server.bind)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (server.bind): is another program using it?",
                config.server.bind
            )
        })?;
    let address = listener.local_addr()?;
    let options = http::ServeOptions::from(&config.server);
    tracing::info!(
        listen = %address,
        public_url = %config.server.public_url,
        powersync = %config.powersync.url,
        "notebox {} is up: open {}",
        env!("CARGO_PKG_VERSION"),
        config.server.public_url
    );
    let upload = state.upload.clone();
    let router = app::router(state);
    http::serve(listener, router, http::shutdown_signal(), options).await?;
    upload.release_spare();
    // Connections still checked out belong to requests that were just dropped: don't wait.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), pool.close()).await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn first_signing_key(pool: &sqlx::PgPool, config: &Config) -> anyhow::Result<()> {
    if let Some(kid) = keys::ensure_signing_key(pool, config.auth.key_algorithm)
        .await
        .map_err(|e| anyhow::anyhow!("could not create the first signing key: {e}"))?
    {
        tracing::info!(%kid, "created the first token signing key");
    }
    Ok(())
}

fn log_setup_step(step: &db::SetupStep) {
    match step {
        db::SetupStep::Skipped { .. } => tracing::warn!("PowerSync setup {step}"),
        _ => tracing::info!("PowerSync setup {step}"),
    }
}

async fn migrate(config: Config, status_only: bool) -> anyhow::Result<ExitCode> {
    let pool = db::connect_admin(&config.database).await?;
    if !status_only {
        let steps = db::under_setup_lock(&pool, || db::migrate(&pool, &config)).await?;
        for step in steps {
            println!("{step}");
        }
    }
    let status = db::migration_status(&pool)
        .await
        .map_err(|e| db::explain(&e, config.database.url.expose()))?;
    for migration in status {
        match migration.applied_on {
            Some(at) => println!(
                "applied  {} {} ({})",
                migration.version,
                migration.description,
                at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            None => println!("pending  {} {}", migration.version, migration.description),
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn check(
    config: Config,
    postgres_only: bool,
    strict: bool,
    e2e: bool,
) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    let mut checks = vec![db::tls::encryption(&pool, config.database.url.expose()).await];
    checks.extend(
        db::preflight(&pool, &config)
            .await
            .map_err(|e| db::explain(&e, config.database.url.expose()))?,
    );
    checks.push(
        db::serving_role(&pool)
            .await
            .map_err(|e| db::explain(&e, config.database.url.expose()))?,
    );
    if !postgres_only {
        checks.extend(crate::powersync::checks(&pool, &config, &reqwest::Client::new()).await);
        checks.extend(crate::auth::oidc::checks(&config).await);
    }
    for check in &checks {
        println!("{check}");
    }
    let failures = checks
        .iter()
        .filter(|c| c.severity == Severity::Fail || (strict && c.severity != Severity::Ok))
        .count();
    let warnings = checks
        .iter()
        .filter(|c| c.severity == Severity::Warn)
        .count();
    if e2e && crate::client::run(&pool, &config).await != crate::client::Outcome::RoundTrip {
        eprintln!(
            "error: the end-to-end round trip failed; fix what its FAIL line says and run `notebox check --e2e` again"
        );
        return Ok(ExitCode::FAILURE);
    }
    if failures == 0 && warnings > 0 {
        println!("{warnings} warning(s): notebox can run; see above (`--strict` fails on them).");
        Ok(ExitCode::SUCCESS)
    } else if failures == 0 {
        if postgres_only {
            println!("Postgres is ready for PowerSync.");
        } else {
            println!("Postgres and PowerSync are ready.");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: {failures} check(s) failed; fix them and run `notebox check` again");
        Ok(ExitCode::FAILURE)
    }
}

fn render_powersync_config(
    config: &Config,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let service = crate::powersync::service_config(config).map_err(anyhow::Error::msg)?;
    let Some(dir) = out else {
        print!("{service}");
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in [
        ("powersync.yaml", service),
        ("sync-config.yaml", crate::powersync::sync_config(config)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!(
        "PowerSync needs these in its environment: {}",
        crate::powersync::required_env(config).join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// `healthcheck --e2e`: only the round trip (see `check --e2e`).
async fn round_trip(config: Config) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    Ok(match crate::client::run(&pool, &config).await {
        crate::client::Outcome::RoundTrip => ExitCode::SUCCESS,
        crate::client::Outcome::Failed => ExitCode::FAILURE,
    })
}

async fn healthcheck(config: Config) -> anyhow::Result<ExitCode> {
    let mut address = config.server.bind;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{address}/healthz");
    let response = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(3))
        .send()
        .await
        .with_context(|| format!("notebox does not answer at {url}"))?;
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    Ok(ExitCode::SUCCESS)
}

/// Expired sessions, old trash and history, and the old upload ledger, once an hour.
async fn purge_hourly(pool: sqlx::PgPool, config: crate::config::Config) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match crate::auth::sessions::purge_expired(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "purged expired sessions"),
            Err(error) => tracing::warn!(%error, "could not purge expired sessions"),
        }
        match crate::notes::purge_expired(&pool, &config).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "purged old trash, history and upload ledger"),
            Err(error) => tracing::warn!(%error, "could not purge old trash and ledger"),
        }
    }
}
