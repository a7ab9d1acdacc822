//! `portcullis user create | invite | list | disable | reset-mfa`. Changes to an existing user are the
//! admin pages' operations ([`crate::admin::users`]), with the same effects and audit events.

use std::io::Read as _;

use clap::Subcommand;
use serde_json::json;

use super::{CliError, Output, table};
use crate::admin::users as admin;
use crate::audit::{Actor, By};
use crate::config::Config;
use crate::crypto::PasswordHasher;
use crate::secret::Secret;
use crate::state::AppState;
use crate::storage::connect_postgres;
use crate::users::{self, DisplayName, Email, Username, store};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
        /// Enroll TOTP now and print its secret once, for provisioning.
        #[arg(long)]
        totp: bool,
        /// Read the password from standard input (it is never taken as an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Invite a person by address: the account has no password until they accept the
    /// invitation mail and choose a password or a passkey (the link works for 7 days).
    Invite {
        #[arg(long)]
        email: String,
        /// Their username; by default the address (where it can be one).
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Give the user the admin role (they are asked to set up a second factor).
        #[arg(long)]
        admin: bool,
    },
    /// List users.
    List,
    /// Disable a user: their sessions end and their refresh tokens stop working.
    Disable { username: String },
    /// Remove a user's second factor (a lost phone): they sign in with the password alone
    /// until they set it up again.
    ResetMfa { username: String },
}

pub async fn run(command: UserCommand, config: Config, out: Output) -> Result<(), CliError> {
    match command {
        UserCommand::Create {
            username,
            email,
            name,
            admin,
            totp,
            password_stdin: _,
        } => {
            let usage = CliError::Usage;
            let username = Username::parse(&username).map_err(usage)?;
            let email = email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(usage)?;
            let name = name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()
                .map_err(usage)?;
            let password = read_password()?;
            users::password_policy::check_new_password(
                &password,
                username.as_str(),
                email.as_ref().map(Email::as_str),
            )
            .await
            .map_err(usage)?;
            let enrollment = if totp {
                Some(crate::mfa::totp::enroll(username.as_str(), &config.kek())?)
            } else {
                None
            };
            let pool = connect_postgres(&config).await?;
            let cost = config.argon2;
            let hash = tokio::task::spawn_blocking(move || {
                PasswordHasher::new(cost).and_then(|h| h.hash_blocking(&password))
            })
            .await
            .map_err(anyhow::Error::from)??;
            let new = store::NewUser {
                username: &username,
                email: email.as_ref(),
                name: name.as_ref(),
                password_hash: Some(&hash),
                is_admin: admin,
                totp_secret_sealed: enrollment.as_ref().map(|e| e.sealed.as_str()),
                invited: false,
            };
            let id = store::create(&pool, new, &Actor::Cli).await?;
            let mut value = json!({ "id": id, "username": username.as_str() });
            if let Some(e) = &enrollment {
                value["totp_secret"] = json!(e.secret_base32.expose());
                value["otpauth_url"] = json!(e.otpauth_url.expose());
            }
            out.print(&value, || {
                let mut text = format!("Created user {username} ({id}).");
                if let Some(e) = &enrollment {
                    text += &format!(
                        "\nTOTP secret (shown once): {}\notpauth URL: {}",
                        e.secret_base32.expose(),
                        e.otpauth_url.expose()
                    );
                }
                text
            });
            Ok(())
        }
        UserCommand::Invite {
            email,
            username,
            name,
            admin,
        } => {
            let state = crate::app::connect(config).await?;
            let spec = crate::users::invite::InviteSpec {
                email,
                username: username.unwrap_or_default(),
                name: name.unwrap_or_default(),
                is_admin: admin,
            };
            let by = By::new(Actor::Cli, None);
            let id = crate::users::invite::invite(&state, spec, &by).await?;
            let summary = store::summary(&state.db, id).await?;
            let username = summary.map(|u| u.username).unwrap_or_default();
            out.print(&json!({ "id": id, "username": username, "invited": true }), || {
                format!(
                    "Invited {username} ({id}); the invitation mail is queued (sent by a running server)."
                )
            });
            Ok(())
        }
        UserCommand::List => {
            let pool = connect_postgres(&config).await?;
            let users = store::list(&pool).await?;
            out.print(&json!(users), || {
                let rows = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.username.clone(),
                            u.email.clone().unwrap_or_default(),
                            yes(u.is_admin),
                            yes(u.totp_enrolled),
                            if u.disabled { "disabled" } else { "enabled" }.into(),
                            u.id.to_string(),
                        ]
                    })
                    .collect();
                table(
                    &["USERNAME", "EMAIL", "ADMIN", "TOTP", "STATUS", "ID"],
                    rows,
                )
            });
            Ok(())
        }
        UserCommand::Disable { username } => {
            let state = crate::app::connect(config).await?;
            let id = id_of(&state, &username).await?;
            admin::set_disabled(&state, id, true, &By::new(Actor::Cli, None)).await?;
            out.print(&json!({ "disabled": username }), || {
                format!("Disabled user {username}.")
            });
            Ok(())
        }
        UserCommand::ResetMfa { username } => {
            let state = crate::app::connect(config).await?;
            let id = id_of(&state, &username).await?;
            admin::reset_mfa(&state, id, &By::new(Actor::Cli, None)).await?;
            out.print(&json!({ "mfa_reset": username }), || {
                format!("Two-step verification was reset for {username}.")
            });
            Ok(())
        }
    }
}

/// The id of the user named `username`; a usage error if there is none.
async fn id_of(state: &AppState, username: &str) -> Result<uuid::Uuid, CliError> {
    store::id_of(&state.db, username)
        .await?
        .ok_or_else(|| CliError::Usage(format!("no user named `{username}`")))
}

fn yes(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

/// The password from standard input, without its trailing newline.
fn read_password() -> Result<Secret<String>, CliError> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| {
        CliError::Usage(format!("cannot read the password from standard input: {e}"))
    })?;
    let password = input.strip_suffix('\n').unwrap_or(&input);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(CliError::Usage("no password on standard input (pipe it in, e.g. `printf %s \"$PW\" | portcullis user create ...`)".into()));
    }
    Ok(Secret::new(password.to_owned()))
}
