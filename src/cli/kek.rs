//! `portcullis kek status | rotate`: what each key-encryption key sealed, and re-sealing
//! everything under the current key ([`crate::kek`]). Both need only PostgreSQL and the
//! configured keys, so they work while live values are under a key the server would refuse.

use clap::Subcommand;
use serde_json::json;

use super::{CliError, Output, table};
use crate::audit::{Actor, By};
use crate::config::Config;
use crate::kek::{self, Status};

#[derive(Debug, Subcommand)]
pub enum KekCommand {
    /// Count the private keys and TOTP secrets each key-encryption key sealed, and say whether
    /// the previous key can be removed.
    Status,
    /// Re-seal every private key and TOTP secret under the current key-encryption key, in
    /// batches. Safe to run again, or on several machines at once.
    Rotate,
}

pub async fn run(command: KekCommand, config: Config, out: Output) -> Result<(), CliError> {
    let pool = crate::storage::connect_postgres(&config).await?;
    let key = config.kek();
    match command {
        KekCommand::Status => {
            let status = kek::status(&pool, &key).await?;
            out.print(&json!(status), || describe(&status));
            Ok(())
        }
        KekCommand::Rotate => {
            let done = kek::rotate(&pool, &key, &By::new(Actor::Cli, None)).await?;
            let value = json!({
                "kek_id": key.id(),
                "resealed": { "signing_keys": done.signing_keys, "totp_secrets": done.totp_secrets },
                "problems": done.problems,
            });
            out.print(&value, || {
                format!(
                    "Re-sealed {} private signing keys and {} TOTP secrets under key-encryption key {}.",
                    done.signing_keys,
                    done.totp_secrets,
                    key.id()
                )
            });
            if done.problems.is_empty() {
                return Ok(());
            }
            Err(CliError::Failed(anyhow::anyhow!(
                "{} values were not re-sealed:\n  {}",
                done.problems.len(),
                done.problems.join("\n  ")
            )))
        }
    }
}

/// The status as a table and a sentence on the previous key.
fn describe(status: &Status) -> String {
    let rows = status
        .sealed
        .iter()
        .map(|s| {
            vec![
                s.kek_id.clone().unwrap_or_else(|| "-".into()),
                s.role.as_str().to_owned(),
                s.signing_keys.to_string(),
                s.totp_secrets.to_string(),
            ]
        })
        .collect();
    let header = ["KEY ID", "ROLE", "SIGNING KEYS", "TOTP SECRETS"];
    let verdict = match (&status.previous, status.previous_removable) {
        (Some(id), Some(true)) => format!(
            "Nothing is sealed under the previous key ({id}) any more: it can be removed \
             (PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS)."
        ),
        (Some(id), _) => format!(
            "Values are still sealed under the previous key ({id}): run `portcullis kek rotate` \
             before removing it."
        ),
        (None, _) => "No previous key is configured.".to_owned(),
    };
    format!("{}\n{verdict}", table(&header, rows))
}
