//! Portcullis as production runs it, on loopback: three release binaries (replicas a, b and c)
//! behind HAProxy, on one PostgreSQL and one Redis. A fourth, in-process app on the same database
//! (`control`) seeds users and clients. Each replica is a real process, so a test can SIGKILL or
//! SIGTERM it; its log is kept in the cluster's directory and printed when a test fails.
//!
//! The release binary is built on first use (`cargo build --release`; a no-op when it is up to
//! date). HAProxy health-checks `/readyz` every 200 ms and retries a request on another replica
//! when the connection fails or the replica closes it without an answer.

mod agreement;
mod balancer;
mod faults;
mod idle;
mod load;
pub mod stores;
mod tls;
mod upgrade;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::helpers::{Server, Settings, TestApp, TestDb, eventually, random_kek, serves_at};
use balancer::Balancer;

/// A scratch directory for one cluster (logs, configuration, private stores), removed at the end
/// unless the test failed.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "portcullis-cluster-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("cluster files kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The release binary, built once per test process.
fn release_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // target/debug/portcullis → target/
            let debug = Path::new(env!("CARGO_BIN_EXE_portcullis"));
            let target = debug.parent().and_then(Path::parent).expect("target dir");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = std::process::Command::new(cargo);
            build
                .args(["build", "--release", "--locked", "--quiet", "--bin"])
                .arg("portcullis")
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env("CARGO_TARGET_DIR", target);
            // What cargo sets for this test process (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`, ...)
            // is not in the shell that built the binary (`./test`), and build scripts that watch
            // those names (ring's does) would rebuild the whole release binary: leave them out.
            for (name, _) in std::env::vars_os() {
                let name = name.to_string_lossy();
                let set_by_cargo = [
                    "CARGO_PKG_",
                    "CARGO_MANIFEST_",
                    "CARGO_CRATE_",
                    "CARGO_BIN_",
                ]
                .iter()
                .any(|prefix| name.starts_with(prefix))
                    || ["CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "OUT_DIR"]
                        .contains(&name.as_ref());
                if set_by_cargo {
                    build.env_remove(name.as_ref());
                }
            }
            let status = build.status().expect("run cargo");
            assert!(status.success(), "cargo build --release failed");
            target.join("release").join("portcullis")
        })
        .clone()
}

/// A free loopback port (bound and released; the replica binds it a moment later).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// One replica: a `portcullis serve` process.
pub struct Replica {
    pub name: &'static str,
    binary: PathBuf,
    base: String,
    http: reqwest::Client,
    child: Option<Child>,
    log: PathBuf,
    env: Vec<(String, String)>,
}

serves_at!(Replica, base);

impl Replica {
    async fn start(name: &'static str, env: Vec<(String, String)>, dir: &Path) -> Replica {
        Replica::start_binary(name, &release_binary(), env, dir).await
    }

    /// Starts `binary` (another release's, say) as a replica.
    async fn start_binary(
        name: &'static str,
        binary: &Path,
        env: Vec<(String, String)>,
        dir: &Path,
    ) -> Replica {
        let listen = env
            .iter()
            .rev()
            .find(|(k, _)| k == "PORTCULLIS_LISTEN")
            .map(|(_, v)| v.clone())
            .expect("a listen address");
        let mut replica = Replica {
            name,
            binary: binary.to_owned(),
            base: format!("http://{listen}"),
            http: client(),
            child: None,
            log: dir.join(format!("replica-{name}.log")),
            env,
        };
        replica.launch().await;
        replica
    }

    /// Starts the process (again) and waits until it answers.
    pub async fn launch(&mut self) {
        let mut command = Command::new(&self.binary);
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,tower_http=warn")
            .envs(self.env.iter().cloned());
        self.child = Some(spawn_logged(command, &self.log));
        until_answers(self, "/healthz", Duration::from_secs(30)).await;
    }

    pub fn pid(&self) -> i32 {
        let id = self.child.as_ref().and_then(Child::id).expect("running");
        i32::try_from(id).expect("pid")
    }

    /// Sends `signal` (libc::SIGKILL, SIGTERM) to the process.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        let done = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(done, 0, "kill({}, {signal})", self.pid());
    }

    /// Waits for the process to exit; its exit code (None when killed by a signal).
    pub async fn exited(&mut self, within: Duration) -> Option<i32> {
        let child = self.child.as_mut().expect("started");
        let status = tokio::time::timeout(within, child.wait())
            .await
            .unwrap_or_else(|_| panic!("replica {} still running after {within:?}", self.name))
            .expect("wait");
        self.child = None;
        status.code()
    }

    /// The `/readyz` document, if the replica answers.
    pub async fn readiness(&self) -> Option<serde_json::Value> {
        let response = self.http.get(self.url("/readyz")).send().await.ok()?;
        response.json().await.ok()
    }

    /// Whether the process is still running (it has not crashed or exited).
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Starts `command` with its output appended to `log`; the process is killed when dropped.
fn spawn_logged(mut command: Command, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {command:?}: {e}"))
}

/// Waits until `server` answers `path` with 200.
async fn until_answers(server: &impl Server, path: &str, within: Duration) {
    eventually(within, path, || async {
        let response = server.http().get(server.url(path)).send().await.ok()?;
        (response.status() == 200).then_some(())
    })
    .await;
}

/// A server address with a client of its own, cheap to move into a task.
#[derive(Clone)]
pub struct Endpoint {
    base: String,
    http: reqwest::Client,
}

impl Endpoint {
    pub fn new(base: String, http: reqwest::Client) -> Endpoint {
        Endpoint { base, http }
    }
}

serves_at!(Endpoint, base);

/// An HTTP client as a relying party or a service has one: no redirects followed, short timeouts.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// What a cluster runs on and with; `Options::default()` is the shared PostgreSQL and Redis.
#[derive(Default)]
pub struct Options {
    /// A Redis other than the shared one.
    pub redis_url: Option<String>,
    /// A PostgreSQL server (URL without a database) other than the shared one.
    pub postgres: Option<String>,
    /// More `PORTCULLIS_*` settings for every replica (and the control app).
    pub settings: Vec<(&'static str, &'static str)>,
}

pub struct Cluster {
    pub control: TestApp,
    pub replicas: Vec<Replica>,
    pub balancer: Balancer,
    /// The cluster's own scratch directory, unless the caller gave one (kept until the end).
    _scratch: Option<Scratch>,
}

impl Cluster {
    pub async fn start(options: Options) -> Cluster {
        let scratch = Scratch::new();
        let mut cluster = Cluster::start_in(&scratch.0, options).await;
        cluster._scratch = Some(scratch);
        cluster
    }

    /// Starts with its files in `dir`, a scratch directory the caller keeps (with private
    /// stores in it, which must outlive the cluster).
    pub async fn start_in(dir: &Path, options: Options) -> Cluster {
        let binary = tokio::task::spawn_blocking(release_binary);
        let db = TestDb::new().await;
        let kek = random_kek();
        let settings = || {
            let mut settings = Settings::replica(&db, &kek)
                // A replica drains for a second: longer than the balancer needs to notice.
                .set("PORTCULLIS_DRAIN_DELAY", "1s")
                .set("PORTCULLIS_SHUTDOWN_TIMEOUT", "10s")
                .set("PORTCULLIS_TRUSTED_PROXIES", "127.0.0.1")
                // Every simulated person comes from 127.0.0.1.
                .set("PORTCULLIS_NEW_SESSIONS_PER_MINUTE", "100000");
            if let Some(url) = &options.redis_url {
                settings.redis_url = url.clone();
            }
            if let Some(server) = &options.postgres {
                settings.database_url = Some(format!("{server}/{}", db.name));
            }
            for (name, value) in &options.settings {
                settings = settings.set(name, value);
            }
            settings
        };
        // The control app creates and migrates the database before the replicas start.
        let control = settings().spawn().await;
        binary.await.expect("build");
        let lb_port = free_port();
        let issuer = format!("http://127.0.0.1:{lb_port}");
        let mut replicas = Vec::new();
        for name in ["a", "b", "c"] {
            let port = free_port();
            let mut env = settings().env(port);
            env.push(("PORTCULLIS_ISSUER".into(), issuer.clone()));
            replicas.push(Replica::start(name, env, dir).await);
        }
        let balancer = Balancer::start(lb_port, &replicas, dir).await;
        Cluster {
            control,
            replicas,
            balancer,
            _scratch: None,
        }
    }

    /// Replica `a`, `b` or `c`.
    pub fn replica(&self, name: &str) -> &Replica {
        self.replicas
            .iter()
            .find(|r| r.name == name)
            .expect("a replica of that name")
    }

    /// Waits until every replica reports both stores up again.
    pub async fn all_ready(&self) {
        self.all_report("ready", None).await;
    }

    /// Waits until every replica's `/readyz` has this `status` (and names `store` unavailable).
    pub async fn all_report(&self, status: &str, store: Option<&str>) {
        for replica in &self.replicas {
            eventually(Duration::from_secs(5), status, || async {
                let ready = replica.readiness().await?;
                let store_down = store.is_none_or(|s| ready["checks"][s] == "unavailable");
                (ready["status"] == status && store_down).then_some(())
            })
            .await;
        }
    }

    pub fn replica_mut(&mut self, name: &str) -> &mut Replica {
        self.replicas
            .iter_mut()
            .find(|r| r.name == name)
            .expect("a replica of that name")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for replica in &self.replicas {
                let log = replica.log();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("--- replica {} (last lines, newest first)", replica.name);
                for line in tail {
                    eprintln!("{line}");
                }
            }
        }
    }
}
