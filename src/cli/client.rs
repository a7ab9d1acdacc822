//! `portcullis client create | list | disable | rotate-secret`. Changes are the admin pages'
//! operations ([`crate::admin::clients`]), with the same validation, effects and audit events.

use clap::Subcommand;
use serde_json::json;

use super::{CliError, Output, table};
use crate::admin::clients as admin;
use crate::audit::{Actor, By};
use crate::clients::{ClientSpec, GrantType, store};
use crate::config::Config;
use crate::storage::connect_postgres;

// Parsed once per run: the size of the largest variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Create(ClientSpec),
    /// List clients.
    List,
    /// Disable a client: it gets `invalid_client` at once, on every replica.
    Disable { client_id: String },
    /// Replace a confidential client's secret; the new one is printed once and the old one stops
    /// working at once.
    RotateSecret { client_id: String },
}

/// Who acts: the command line (no address).
fn cli() -> By {
    By::new(Actor::Cli, None)
}

pub async fn run(command: ClientCommand, config: Config, out: Output) -> Result<(), CliError> {
    match command {
        ClientCommand::Create(spec) => {
            let client = spec.clone().validate().map_err(CliError::Usage)?;
            let state = crate::app::connect(config).await?;
            let created = admin::create(&state, spec, &cli()).await?;
            let secret = created.client_secret.as_ref().map(|s| s.expose().clone());
            let mut value = json!({ "client_id": created.client_id, "client_secret": secret });
            if secret.is_none() {
                value.as_object_mut().map(|o| o.remove("client_secret"));
            }
            out.print(&value, || match &secret {
                Some(secret) => format!(
                    "Created client {} ({}).\nclient_id:     {}\nclient_secret: {secret}\nThe secret is shown only now; store it safely.",
                    client.name, client.client_type.as_str(), created.client_id
                ),
                None => format!("Created public client {}.\nclient_id: {}", client.name, created.client_id),
            });
            Ok(())
        }
        ClientCommand::List => {
            let pool = connect_postgres(&config).await?;
            let clients = store::list(&pool).await?;
            out.print(&json!(clients), || {
                let rows = clients
                    .iter()
                    .map(|c| {
                        vec![
                            c.client_id.to_string(),
                            c.name.clone(),
                            c.client_type.to_string(),
                            GrantType::join(&c.grant_types, ","),
                            if c.enabled { "enabled" } else { "disabled" }.into(),
                        ]
                    })
                    .collect();
                table(&["CLIENT_ID", "NAME", "TYPE", "GRANTS", "STATUS"], rows)
            });
            Ok(())
        }
        ClientCommand::Disable { client_id } => {
            let state = crate::app::connect(config).await?;
            admin::set_enabled(&state, &client_id, false, &cli()).await?;
            out.print(&json!({ "disabled": client_id }), || {
                format!("Disabled client {client_id}.")
            });
            Ok(())
        }
        ClientCommand::RotateSecret { client_id } => {
            let state = crate::app::connect(config).await?;
            let secret = admin::rotate_secret(&state, &client_id, &cli()).await?;
            let secret = secret.expose();
            out.print(
                &json!({ "client_id": client_id, "client_secret": secret }),
                || format!("New secret of {client_id} (shown only now; the old one no longer works):\nclient_secret: {secret}"),
            );
            Ok(())
        }
    }
}
