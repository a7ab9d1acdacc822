//! `portcullis serve [--demo]`: build the app, seed the demo if asked, serve until SIGINT or
//! SIGTERM, then drain the requests in flight. A server waits up to `startup_timeout` for its
//! stores (they may start after it); the demo, run by hand, first checks that PostgreSQL and Redis
//! answer at all and, if not, says in one line which is missing and how to start it.

use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use super::{CliError, Output};
use crate::App;
use crate::config::Config;

pub async fn serve(config: Config, out: Output) -> Result<(), CliError> {
    let demo = config.demo;
    if demo {
        preflight(&config).await?;
    }
    if demo && config.key_encryption_key.is_none() {
        tracing::warn!(
            "demo mode: private keys are sealed under a built-in, public key-encryption key"
        );
    }
    let app = App::build(config).await?;
    if demo {
        let report = crate::demo::seed(app.state(), app.address()).await?;
        out.print(&report.json, || report.text.clone());
    }
    let stop = app.stop_token();
    let mut terminate = signal(SignalKind::terminate()).map_err(anyhow::Error::from)?;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
        }
        stop.cancel();
    });
    app.run_until_stopped().await?;
    Ok(())
}

/// A store the server needs, as the preflight sees it.
struct Store {
    name: &'static str,
    /// `host:port`, from the configured URL.
    address: String,
    /// How to start it on a Debian machine.
    start: &'static str,
    /// The setting that points elsewhere.
    setting: &'static str,
}

/// Fails with one line naming each store that does not accept connections, and how to start it.
async fn preflight(config: &Config) -> Result<(), CliError> {
    let stores = [
        store_at(config.database_url.expose(), 5432).map(|address| Store {
            name: "PostgreSQL",
            address,
            start: "sudo systemctl start postgresql",
            setting: "PORTCULLIS_DATABASE_URL",
        }),
        store_at(config.redis_url.expose(), 6379).map(|address| Store {
            name: "Redis",
            address,
            start: "sudo systemctl start redis-server",
            setting: "PORTCULLIS_REDIS_URL",
        }),
    ];
    let mut missing = Vec::new();
    for store in stores.into_iter().flatten() {
        let connect = tokio::net::TcpStream::connect(store.address.as_str());
        if !matches!(
            tokio::time::timeout(Duration::from_secs(2), connect).await,
            Ok(Ok(_))
        ) {
            missing.push(store);
        }
    }
    match missing_line(&missing) {
        None => Ok(()),
        Some(line) => Err(CliError::Failed(anyhow::anyhow!(line))),
    }
}

/// `host:port` of a store URL (`default` when it names no port); `None` when it names no host
/// (a Unix socket), which the preflight leaves to the connection itself.
fn store_at(url: &str, default: u16) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url.host_str().filter(|h| !h.is_empty())?;
    Some(format!("{host}:{}", url.port().unwrap_or(default)))
}

fn missing_line(missing: &[Store]) -> Option<String> {
    if missing.is_empty() {
        return None;
    }
    let what = missing
        .iter()
        .map(|s| format!("{} is not running at {}", s.name, s.address))
        .collect::<Vec<_>>()
        .join(" and ");
    let start = missing
        .iter()
        .map(|s| format!("`{}`", s.start))
        .collect::<Vec<_>>()
        .join(" and ");
    let settings = missing
        .iter()
        .map(|s| s.setting)
        .collect::<Vec<_>>()
        .join(" / ");
    let it = if missing.len() > 1 { "them" } else { "it" };
    Some(format!(
        "{what}: start {it} with {start} (or `docker compose -f deploy/docker-compose.yml up -d`), or point {settings} at a running one"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(name: &'static str, address: &str) -> Store {
        Store {
            name,
            address: address.to_owned(),
            start: "start-it",
            setting: "SETTING",
        }
    }

    #[test]
    fn one_line_names_what_is_missing_and_how_to_start_it() {
        assert_eq!(missing_line(&[]), None);
        let line = missing_line(&[store("PostgreSQL", "127.0.0.1:5432")]).unwrap();
        assert!(!line.contains('\n'));
        assert!(
            line.starts_with(
                "PostgreSQL is not running at 127.0.0.1:5432: start it with `start-it`"
            ),
            "{line}"
        );
        let both =
            missing_line(&[store("PostgreSQL", "db:5432"), store("Redis", "cache:6379")]).unwrap();
        assert!(
            both.contains(
                "PostgreSQL is not running at db:5432 and Redis is not running at cache:6379"
            ),
            "{both}"
        );
    }

    #[test]
    fn the_address_comes_from_the_url_with_the_default_port() {
        assert_eq!(
            store_at("postgres://u:p@db.internal/x", 5432).as_deref(),
            Some("db.internal:5432")
        );
        assert_eq!(
            store_at("redis://127.0.0.1:7000", 6379).as_deref(),
            Some("127.0.0.1:7000")
        );
        assert_eq!(
            store_at("postgres:///portcullis?host=/run/postgresql", 5432),
            None
        );
    }
}
