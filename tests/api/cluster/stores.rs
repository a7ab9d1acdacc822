//! Stores of a test's own, for tests that stop or restart them (the shared PostgreSQL and Redis
//! serve every other test and stay up): a `redis-server` on a free port, keeping an append-only
//! file in the scratch directory as a managed Redis with persistence would, and a PostgreSQL
//! cluster made with `initdb` (as the `postgres` user when the tests run as root).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::free_port;
use crate::helpers::eventually;

pub struct PrivateRedis {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    pub async fn start(scratch: &Path) -> PrivateRedis {
        let dir = scratch.join("redis");
        std::fs::create_dir_all(&dir).expect("redis dir");
        let mut redis = PrivateRedis {
            port: free_port(),
            dir,
            child: None,
        };
        redis.launch().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts `redis-server` (again, on the same port and files) and waits for PING.
    pub async fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .arg("--dir")
            .arg(&self.dir)
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .args(["--logfile", "redis.log"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let url = self.url();
        eventually(Duration::from_secs(10), "redis answers PING", || async {
            let client = redis::Client::open(url.as_str()).ok()?;
            let mut conn = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .ok()
        })
        .await;
    }

    /// Stops the server (SIGTERM: it syncs the append-only file and exits).
    pub async fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        let pid = i32::try_from(child.id().expect("pid")).expect("pid");
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .expect("redis stops")
            .expect("wait");
    }
}

pub struct PrivatePostgres {
    pub port: u16,
    data: PathBuf,
    bin: PathBuf,
}

impl PrivatePostgres {
    pub async fn start(scratch: &Path) -> PrivatePostgres {
        let data = scratch.join("pg");
        std::fs::create_dir_all(&data).expect("pg dir");
        if is_root() {
            run(
                "chown",
                &["-R", "postgres:postgres", &data.to_string_lossy()],
            )
            .await;
        }
        let postgres = PrivatePostgres {
            port: free_port(),
            bin: pg_bin(),
            data,
        };
        let initdb = postgres.bin.join("initdb");
        as_postgres(
            &initdb.to_string_lossy(),
            &[
                "-D",
                &postgres.data.join("data").to_string_lossy(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        )
        .await;
        postgres.pg_ctl("start").await;
        postgres
    }

    /// `postgres://postgres@127.0.0.1:<port>` (without a database).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// `pg_ctl stop -m fast`: every connection is closed, the server is down.
    pub async fn stop(&self) {
        self.pg_ctl("stop").await;
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub async fn start_again(&self) {
        self.pg_ctl("start").await;
    }

    async fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.to_string_lossy()
        );
        as_postgres(
            &self.bin.join("pg_ctl").to_string_lossy(),
            &[
                action,
                "-D",
                &self.data.join("data").to_string_lossy(),
                "-l",
                &self.data.join("postgres.log").to_string_lossy(),
                "-m",
                "fast",
                "-w",
                "-o",
                &options,
            ],
        )
        .await;
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.data.join("data");
        let mut command = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            std::process::Command::new(pg_ctl)
        };
        let _ = command
            .args(["stop", "-m", "immediate", "-D"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The newest PostgreSQL under /usr/lib/postgresql (Debian's layout).
fn pg_bin() -> PathBuf {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries in /usr/lib/postgresql")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    let version = versions.last().expect("a PostgreSQL version");
    PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"))
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs a PostgreSQL program, as the `postgres` user when we are root (initdb refuses root).
async fn as_postgres(program: &str, args: &[&str]) {
    if is_root() {
        let mut all = vec!["-u", "postgres", "--", program];
        all.extend_from_slice(args);
        run("runuser", &all).await;
    } else {
        run(program, args).await;
    }
}

async fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
