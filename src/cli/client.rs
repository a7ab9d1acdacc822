//! `portcullis client create | list | disable`.

use clap::Subcommand;
use serde_json::json;

use super::{CliError, Output, table};
use crate::audit::{Actor, By};
use crate::clients::{ClientSpec, GrantType, store};
use crate::config::Config;
use crate::invalidation::Change;
use crate::storage::connect_postgres;

// Parsed once per run: the size of the largest variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Create(ClientSpec),
    /// List clients.
    List,
    /// Disable a client.
    Disable { client_id: String },
}

pub async fn run(command: ClientCommand, config: Config, out: Output) -> Result<(), CliError> {
    match command {
        ClientCommand::Create(spec) => {
            let client = spec.validate().map_err(CliError::Usage)?;
            let pool = connect_postgres(&config).await?;
            let created = store::create(&pool, &client, &By::new(Actor::Cli, None)).await?;
            super::announce(&config, Change::Client(&created.client_id)).await;
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
            let pool = connect_postgres(&config).await?;
            store::set_enabled(&pool, &client_id, false, &By::new(Actor::Cli, None)).await?;
            super::announce(&config, Change::Client(&client_id)).await;
            out.print(&json!({ "disabled": client_id }), || {
                format!("Disabled client {client_id}.")
            });
            Ok(())
        }
    }
}
