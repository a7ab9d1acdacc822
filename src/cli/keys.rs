//! `portcullis keys list | rotate | revoke`. Rotating and revoking are the admin pages'
//! operations ([`crate::admin::keys`]): the same audit events, and running servers reload at once.

use clap::Subcommand;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{CliError, Output, table};
use crate::admin::keys as admin;
use crate::audit::{Actor, By};
use crate::config::Config;
use crate::crypto::Kek;
use crate::error::Error;
use crate::keys::{Alg, store};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys and their states.
    List,
    /// Start a rotation now: the next key signs as soon as it has been published for the
    /// pre-publish period, and a new next key is made.
    Rotate {
        /// Only this algorithm (RS256 or ES256); both by default.
        #[arg(long)]
        alg: Option<String>,
    },
    /// Revoke a key at once (for a compromised key): it leaves the JWKS and tokens it signed stop
    /// verifying.
    Revoke {
        /// The key's id, as `keys list` shows it. Ids are base64url, so one may begin with `-`:
        /// it is still the id, not an option.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

pub async fn run(command: KeysCommand, config: Config, out: Output) -> Result<(), CliError> {
    let state = crate::app::connect(config).await?;
    let by = By::new(Actor::Cli, None);
    match command {
        KeysCommand::List => {}
        KeysCommand::Rotate { alg } => {
            let algs = match alg.as_deref() {
                None => Alg::ALL.to_vec(),
                Some(raw) => vec![Alg::parse(raw).ok_or_else(|| {
                    CliError::Usage(format!("`{raw}` is not an algorithm; use RS256 or ES256"))
                })?],
            };
            for alg in algs {
                admin::rotate(&state, alg.as_str(), &by).await?;
            }
        }
        KeysCommand::Revoke { kid } => match admin::revoke(&state, &kid, &by).await {
            Ok(()) => {}
            Err(Error::NotFound(_)) => {
                return Err(CliError::Usage(format!(
                    "no live key with id `{kid}` (see `portcullis keys list`)"
                )));
            }
            Err(e) => return Err(e.into()),
        },
    }
    print_keys(&state.db, state.keys.kek(), out).await
}

async fn print_keys(pool: &sqlx::PgPool, kek: &Kek, out: Output) -> Result<(), CliError> {
    let now = OffsetDateTime::now_utc();
    let rows = store::load_all(pool).await?;
    let when = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let keys: Vec<Value> = rows
        .iter()
        .map(|row| {
            let state = row.key_times(kek).state(now);
            json!({
                "kid": row.kid, "alg": row.alg, "state": state.as_str(),
                "created_at": when(row.created_at), "activate_at": when(row.activate_at),
                "retire_at": when(row.retire_at), "expire_at": when(row.expire_at),
                "revoked_at": row.revoked_at.map(when),
            })
        })
        .collect();
    out.print(&json!(keys), || {
        let rows = keys
            .iter()
            .map(|k| {
                [
                    "kid",
                    "alg",
                    "state",
                    "activate_at",
                    "retire_at",
                    "expire_at",
                ]
                .iter()
                .map(|f| k[*f].as_str().unwrap_or_default().to_owned())
                .collect()
            })
            .collect();
        table(
            &["KID", "ALG", "STATE", "ACTIVATES", "RETIRES", "EXPIRES"],
            rows,
        )
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    #[test]
    fn a_key_id_that_begins_with_a_hyphen_is_an_id() {
        let parsed = super::super::Args::try_parse_from(["portcullis", "keys", "revoke", "-7xQ"]);
        let debug = format!("{:?}", parsed.expect("parses"));
        assert!(debug.contains(r#"kid: "-7xQ""#), "{debug}");
    }
}
