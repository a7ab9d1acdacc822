//! The `portcullis` binary as an operator and a script use it: JSON output, exit statuses, clear
//! messages, and nothing changed by a refused command. Helpers here; one file per command group.

mod backup;
mod clients;
mod kek;
mod keys;
mod migrate;
mod serve;
mod twins;
mod users;

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::Command;

use crate::helpers::{Settings, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

pub struct Out {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> Value {
        assert_eq!(self.status, 0, "stderr: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// The CLI against a fresh database.
pub struct Cli {
    pub env: Vec<(String, String)>,
    pub db: TestDb,
    pub kek: String,
}

impl Cli {
    pub async fn new() -> Cli {
        let settings = Settings::new().await;
        Cli {
            env: settings.env(8080),
            db: settings.db.clone(),
            kek: settings.kek.clone(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .envs(self.env.iter().cloned())
            .env("RUST_LOG", "warn")
            .args(args);
        command
    }

    pub async fn run(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            // A command that refuses its arguments may exit before reading: a closed pipe is
            // part of the outcome, not a test failure.
            let _ = input.write_all(text.as_bytes()).await;
        }
        drop(input);
        let output = child.wait_with_output().await.unwrap();
        Out {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub async fn pool(&self) -> PgPool {
        self.db.pool().await
    }

    pub fn with(mut self, name: &str, value: &str) -> Cli {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }
}

pub async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(pool)
        .await
        .unwrap()
}

impl Out {
    pub fn json_ok(&self) {
        assert_eq!(self.status, 0, "stderr: {}", self.stderr);
    }
}

/// Starts `serve --demo` on a free port and reads its output until the demo report is printed.
pub async fn start_demo(cli: &Cli, port: u16) -> (tokio::process::Child, String) {
    let mut child = cli
        .command(&["serve", "--demo"])
        .env("PORTCULLIS_LISTEN", format!("127.0.0.1:{port}"))
        .env("PORTCULLIS_ISSUER", format!("http://127.0.0.1:{port}"))
        .env_remove("PORTCULLIS_KEY_ENCRYPTION_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut report = String::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            report.push_str(&line);
            report.push('\n');
            if line.trim_start().starts_with("curl -s") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the demo starts");
    (child, report)
}
