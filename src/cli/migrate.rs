//! `portcullis migrate`: creates the database if needed and applies the pending migrations; with
//! `--dry-run`, lists what would be applied and changes nothing (not even creating the database).

use anyhow::Context as _;
use sqlx::Postgres;
use sqlx::migrate::MigrateDatabase as _;
use sqlx::postgres::PgPoolOptions;

use super::{CliError, Output};
use crate::config::Config;
use crate::migrations::{self, Plan, Step};
use crate::secret::redact_url;

pub async fn run(dry_run: bool, config: Config, out: Output) -> Result<(), CliError> {
    if dry_run {
        let plan = dry(&config).await?;
        out.print(
            &serde_json::json!({ "dry_run": true, "plan": plan }),
            || describe(&plan),
        );
        return Ok(());
    }
    let pool = crate::storage::connect_pool(&config).await?;
    let applied = migrations::apply(&pool, config.startup_timeout).await?;
    out.print(
        &serde_json::json!({ "migrated": true, "applied": applied }),
        || match applied.as_slice() {
            [] => "The database is up to date.".into(),
            steps => format!("Applied:\n{}", list(steps)),
        },
    );
    Ok(())
}

/// The plan for the configured database, read without changing it.
async fn dry(config: &Config) -> anyhow::Result<Plan> {
    let url = config.database_url.expose();
    let what = format!("PostgreSQL at {}", redact_url(url));
    let exists = Postgres::database_exists(url)
        .await
        .with_context(|| format!("cannot reach {what}"))?;
    if !exists {
        return Ok(migrations::plan_from(&[]));
    }
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .with_context(|| format!("cannot reach {what}"))?;
    let plan = migrations::plan(&pool).await?;
    pool.close().await;
    Ok(plan)
}

fn describe(plan: &Plan) -> String {
    let mut text = match plan.pending.as_slice() {
        [] => "The database is up to date: nothing would be applied.".to_owned(),
        steps => format!(
            "{} migration(s) would be applied, in this order:\n{}",
            steps.len(),
            list(steps)
        ),
    };
    if !plan.newer.is_empty() {
        let versions: Vec<String> = plan.newer.iter().map(|v| format!("{v:04}")).collect();
        text.push_str(&format!(
            "\nThe database also has migrations of a newer release ({}); this release works beside them.",
            versions.join(", ")
        ));
    }
    text
}

fn list(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|step| format!("  {:04} {}", step.version, step.description))
        .collect::<Vec<_>>()
        .join("\n")
}
