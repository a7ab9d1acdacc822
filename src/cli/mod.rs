//! The command line. Every command reads the same configuration as the server; `--json` makes
//! the output a single JSON document that scripts can rely on. Exit status: 0 on success, 2 for a
//! bad configuration or usage, 1 for any other failure (with a message naming the problem).

mod client;
mod healthcheck;
mod kek;
mod keys;
mod migrate;
mod serve;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::error::Error;

#[derive(Debug, Parser)]
#[command(
    name = "portcullis",
    version,
    about = "An OAuth 2.0 / OpenID Connect identity provider"
)]
pub struct Args {
    /// A TOML file with settings (environment variables override it).
    #[arg(long, global = true, env = "PORTCULLIS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print results (and errors, on stderr) as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server until SIGINT or SIGTERM.
    Serve {
        /// Seed a demo user and demo clients (once) and allow a missing key-encryption key.
        #[arg(long)]
        demo: bool,
    },
    /// Create the database if needed and apply migrations.
    Migrate {
        /// List the migrations that would be applied, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Exit 0 if the local server's /readyz answers 200 (for container health checks).
    Healthcheck,
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Rotate the key-encryption key that seals private keys and TOTP secrets.
    #[command(subcommand)]
    Kek(kek::KekCommand),
}

/// How a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        if e.is_caller_error() {
            CliError::Usage(e.to_string())
        } else {
            CliError::Failed(e.into())
        }
    }
}

impl From<sqlx::Error> for CliError {
    fn from(e: sqlx::Error) -> Self {
        CliError::Failed(e.into())
    }
}

/// Where command output goes: human text, or one JSON document.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or `text()` for people.
    pub fn print(&self, value: &serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{}", text());
        }
    }
}

pub fn main() -> ExitCode {
    let args = Args::parse();
    let out = Output { json: args.json };
    let result = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run(args, out)),
        Err(e) => Err(CliError::Failed(e.into())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if out.json {
                eprintln!("{}", serde_json::json!({ "error": error.to_string() }));
            } else {
                eprintln!("error: {error}");
            }
            match error {
                CliError::Config(_) => ExitCode::from(2),
                CliError::Usage(_) | CliError::Failed(_) => ExitCode::from(1),
            }
        }
    }
}

async fn run(args: Args, out: Output) -> Result<(), CliError> {
    let demo = matches!(args.command, Command::Serve { demo: true });
    let config = Config::load(args.config.as_deref(), demo)?;
    // Traces are the server's: a CLI command (a health check every few seconds) does not export.
    let traces = if matches!(args.command, Command::Serve { .. }) {
        crate::telemetry::start(&config)
    } else {
        crate::telemetry::init(config.log_format);
        crate::telemetry::Traces::off()
    };
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let done = match args.command {
        Command::Serve { .. } => serve::serve(config, out).await,
        Command::Migrate { dry_run } => migrate::run(dry_run, config, out).await,
        Command::Healthcheck => healthcheck::run(&config, out).await,
        Command::User(command) => user::run(command, config, out).await,
        Command::Client(command) => client::run(command, config, out).await,
        Command::Keys(command) => keys::run(command, config, out).await,
        Command::Kek(command) => kek::run(command, config, out).await,
    };
    // After the drain: the spans of the last requests are still queued.
    traces.shutdown().await;
    done
}

/// A simple text table: a header row and aligned columns.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(header.iter().map(|h| (*h).to_owned()).collect())];
    out.extend(rows.into_iter().map(line));
    out.join("\n")
}
