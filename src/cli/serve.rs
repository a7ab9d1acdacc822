//! `portcullis serve [--demo]`: build the app, seed the demo if asked, serve until SIGINT or
//! SIGTERM, then drain the requests in flight.

use tokio::signal::unix::{SignalKind, signal};

use super::{CliError, Output};
use crate::App;
use crate::config::Config;

pub async fn serve(config: Config, out: Output) -> Result<(), CliError> {
    let demo = config.demo;
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
