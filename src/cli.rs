//! The command line. Every command fails with one sentence on stderr and exit code 1.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{Config, DEFAULT_TOML};
use crate::db::{self, Severity};
use crate::http::{self, AppState};
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
    /// Check that Postgres is ready for PowerSync; exits 1 if anything is wrong.
    Check,
    /// Print or validate configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
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
    let config = Config::load(cli.config.as_deref())?;
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
            Command::Check => check(config).await,
            Command::Config(_) => unreachable!("handled above"),
        }
    })
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    if config.database.migrate_on_start {
        for step in db::migrate(&pool, &config.powersync).await? {
            log_setup_step(&step);
        }
    }
    let checks = db::preflight(&pool, &config.powersync)
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
    let listener = TcpListener::bind(config.server.bind)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (server.bind): is another program using it?",
                config.server.bind
            )
        })?;
    let address = listener.local_addr()?;
    let grace = config.server.shutdown_timeout;
    tracing::info!(
        listen = %address,
        public_url = %config.server.public_url,
        powersync = %config.powersync.url,
        "notebox {} is up: open {}",
        env!("CARGO_PKG_VERSION"),
        config.server.public_url
    );
    let router = http::router(AppState::new(config, pool.clone()));
    http::serve(listener, router, http::shutdown_signal(), grace).await?;
    pool.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn log_setup_step(step: &db::SetupStep) {
    match step {
        db::SetupStep::Skipped { .. } => tracing::warn!("PowerSync setup {step}"),
        _ => tracing::info!("PowerSync setup {step}"),
    }
}

async fn migrate(config: Config, status_only: bool) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    if !status_only {
        for step in db::migrate(&pool, &config.powersync).await? {
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

async fn check(config: Config) -> anyhow::Result<ExitCode> {
    let pool = db::connect(&config.database).await?;
    let checks = db::preflight(&pool, &config.powersync)
        .await
        .map_err(|e| db::explain(&e, config.database.url.expose()))?;
    for check in &checks {
        println!("{check}");
    }
    let failures = checks.iter().filter(|c| c.severity != Severity::Ok).count();
    if failures == 0 {
        println!("Postgres is ready for PowerSync.");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: {failures} check(s) failed; fix them and run `notebox check` again");
        Ok(ExitCode::FAILURE)
    }
}
