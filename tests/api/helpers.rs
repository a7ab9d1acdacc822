//! `TestApp`: a real Portcullis on 127.0.0.1 and a port of its own (its issuer names
//! `127.0.0.1`, or `localhost` for WebAuthn), on a database of its own
//! (`pt_<unix time>_<random>`, created by the app itself), with a Redis key prefix of its own.
//! When the last handle on a [`TestDb`] goes, pass or fail, its database is dropped and its Redis
//! keys deleted; databases older than an hour (left by a test that was killed) are dropped when a
//! test starts.
//! `TcpProxy` stands between the app and a store so a test can cut the store off.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use portcullis::state::AppState;
use portcullis::{App, Config};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::mailbox::Mailbox;

pub const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";
pub const REDIS: &str = "redis://127.0.0.1:6379";

/// A database of one test, shared by the apps the test starts on it (and their Redis prefix).
#[derive(Clone)]
pub struct TestDb {
    pub name: String,
    _cleanup: Arc<Cleanup>,
}

/// Drops the test's database and deletes its Redis keys when the last [`TestDb`] handle goes,
/// also when the test panics. `Drop` cannot await and the test's runtime may have one thread,
/// busy dropping this, so the work runs on a thread and a runtime of its own, waited for.
struct Cleanup {
    name: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let drop = format!("drop database if exists \"{name}\" with (force)");
            // The timeout is made inside the runtime: it needs its timer.
            runtime.block_on(async {
                let dropped = async {
                    use sqlx::Connection as _;
                    let mut admin =
                        sqlx::PgConnection::connect(&format!("{POSTGRES}/postgres")).await?;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                        .execute(&mut admin)
                        .await
                };
                let _ = tokio::time::timeout(Duration::from_secs(10), dropped).await;
            });
            let _ = delete_redis_keys(&format!("pt:{name}:*"));
        });
        let _ = done.join();
    }
}

/// Deletes the keys that match `pattern` (SCAN, then UNLINK), blocking.
fn delete_redis_keys(pattern: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(REDIS)?;
    let mut redis = client.get_connection_with_timeout(Duration::from_secs(2))?;
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(&mut redis)?;
        if !keys.is_empty() {
            redis::cmd("UNLINK").arg(&keys).exec(&mut redis)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

impl TestDb {
    pub async fn new() -> TestDb {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let name = format!(
            "pt_{now}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        drop_stale_databases(now).await;
        TestDb {
            _cleanup: Arc::new(Cleanup { name: name.clone() }),
            name,
        }
    }

    pub fn url(&self) -> String {
        format!("{POSTGRES}/{}", self.name)
    }

    /// Creates the database, empty, before any app does (to restore a dump into, or to lay out
    /// an older schema).
    pub async fn create(&self) {
        let admin = PgPool::connect(&format!("{POSTGRES}/postgres"))
            .await
            .expect("connect to PostgreSQL");
        let create = format!("create database \"{}\"", self.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&admin)
            .await
            .expect("create the test database");
    }

    /// A pool on the test database (after an app has created it).
    pub async fn pool(&self) -> PgPool {
        PgPool::connect(&self.url())
            .await
            .expect("connect to the test database")
    }
}

async fn drop_stale_databases(now: i64) {
    let Ok(admin) = PgPool::connect(&format!("{POSTGRES}/postgres")).await else {
        return;
    };
    let names: Vec<String> =
        sqlx::query_scalar("select datname from pg_database where datname like 'pt\\_%'")
            .fetch_all(&admin)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name
            .split('_')
            .nth(1)
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(now);
        if now - created > 3600 {
            let drop = format!("drop database if exists \"{name}\" with (force)");
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&admin)
                .await;
        }
    }
}

/// A random key-encryption key, base64.
pub fn random_kek() -> String {
    base64::engine::general_purpose::STANDARD.encode(rand_bytes())
}

fn rand_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(16) {
        chunk.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    bytes
}

pub struct TestApp {
    /// `http://127.0.0.1:<port>`, or `http://localhost:<port>` with
    /// [`Settings::set_localhost_issuer`]; also the issuer under http.
    pub address: String,
    pub db: TestDb,
    pub state: AppState,
    pub http: reqwest::Client,
    /// `http://<address>` of the metrics listener, when `PORTCULLIS_METRICS_LISTEN` is set.
    pub metrics: Option<String>,
    stop: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Settings for a test app, as environment variables.
pub struct Settings {
    pub db: TestDb,
    pub kek: String,
    pub redis_url: String,
    pub database_url: Option<String>,
    pub extra: Vec<(String, String)>,
    pub https_issuer: bool,
    pub localhost_issuer: bool,
}

impl Settings {
    pub async fn new() -> Settings {
        Settings::on(TestDb::new().await)
    }

    pub fn on(db: TestDb) -> Settings {
        Settings {
            db,
            kek: random_kek(),
            redis_url: REDIS.into(),
            database_url: None,
            extra: vec![],
            https_issuer: false,
            localhost_issuer: false,
        }
    }

    /// Another replica's settings: the same database and key-encryption key.
    pub fn replica(db: &TestDb, kek: &str) -> Settings {
        Settings {
            kek: kek.to_owned(),
            ..Settings::on(db.clone())
        }
    }

    /// An https issuer (the server itself still speaks plain http on loopback).
    pub fn set_https_issuer(mut self) -> Settings {
        self.https_issuer = true;
        self
    }

    /// An issuer on `localhost` rather than `127.0.0.1` (the server still listens on 127.0.0.1):
    /// browsers refuse WebAuthn on an IP address (WebAuthn L3 §5.1.3, §5.1.4: the effective domain
    /// must be a valid domain), and `http://localhost` is a secure context, where WebAuthn runs.
    pub fn set_localhost_issuer(mut self) -> Settings {
        self.localhost_issuer = true;
        self
    }

    /// The host the issuer names.
    fn host(&self) -> &'static str {
        if self.localhost_issuer {
            "localhost"
        } else {
            "127.0.0.1"
        }
    }

    /// Mail through `mailbox` (its SMTP URL), from a fixed sender.
    pub fn with_mail(self, mailbox: &Mailbox) -> Settings {
        self.set("PORTCULLIS_SMTP_URL", &mailbox.url())
            .set("PORTCULLIS_MAIL_FROM", "Portcullis <no-reply@example.test>")
    }

    pub fn set(mut self, name: &str, value: &str) -> Settings {
        self.extra.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The environment for this app (or for the CLI against its database).
    pub fn env(&self, port: u16) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "PORTCULLIS_ISSUER".to_owned(),
                format!(
                    "{}://{}:{port}",
                    if self.https_issuer { "https" } else { "http" },
                    self.host()
                ),
            ),
            ("PORTCULLIS_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
            (
                "PORTCULLIS_DATABASE_URL".to_owned(),
                self.database_url.clone().unwrap_or_else(|| self.db.url()),
            ),
            (
                "PORTCULLIS_DATABASE_MAX_CONNECTIONS".to_owned(),
                "4".to_owned(),
            ),
            ("PORTCULLIS_REDIS_URL".to_owned(), self.redis_url.clone()),
            // Replicas of one test share a database, so they share the prefix too.
            (
                "PORTCULLIS_REDIS_PREFIX".to_owned(),
                format!("pt:{}:", self.db.name),
            ),
            ("PORTCULLIS_KEY_ENCRYPTION_KEY".to_owned(), self.kek.clone()),
            ("PORTCULLIS_STARTUP_TIMEOUT".to_owned(), "5s".to_owned()),
            ("PORTCULLIS_DRAIN_DELAY".to_owned(), "0s".to_owned()),
        ];
        env.extend(self.extra.iter().cloned());
        env
    }

    pub async fn spawn(self) -> TestApp {
        self.try_spawn().await.expect("the app starts")
    }

    pub async fn try_spawn(self) -> anyhow::Result<TestApp> {
        self.try_spawn_at(0).await
    }

    /// An app on `port` (and so with the issuer of an earlier app there, now stopped): a server
    /// restarted with other settings, whose earlier tokens name the same issuer.
    pub async fn try_spawn_at(self, port: u16) -> anyhow::Result<TestApp> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let config = Config::from_sources(None, self.env(port), false)?;
        show_server_log(&config);
        let app = App::build_with_listener(config, listener).await?;
        let metrics = app.metrics_address().map(|a| format!("http://{a}"));
        let state = app.state().clone();
        let stop = app.stop_token();
        let handle = tokio::spawn(app.run_until_stopped());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(TestApp {
            address: format!("http://{}:{port}", self.host()),
            db: self.db,
            state,
            http,
            metrics,
            stop,
            handle: Some(handle),
        })
    }
}

/// With `TEST_LOG` set, the apps a test starts in this process log to the test's output (through
/// the production subscriber, filtered by `RUST_LOG`); without it they are silent. With
/// `PORTCULLIS_OTLP_ENDPOINT` set, the subscriber is the server's, exporting traces as `serve`
/// does (the first app of the process installs it). Replica processes (`cluster`) write their own
/// log files either way.
fn show_server_log(config: &Config) {
    if config.otlp_endpoint.is_some() {
        // The exporter lives as long as the process's subscriber; its spans leave every few
        // seconds, so the handle (for the flush at exit) is not needed.
        drop(portcullis::telemetry::start(config));
    } else if std::env::var_os("TEST_LOG").is_some() {
        portcullis::telemetry::init(portcullis::config::LogFormat::Text);
    }
}

/// Something a test sends HTTP requests to: an in-process app, a replica process, or the load
/// balancer in front of several.
// Only this test crate implements and calls it, on one runtime: no `Send` bounds needed.
#[allow(async_fn_in_trait)]
pub trait Server {
    /// `http://127.0.0.1:<port>` (or `localhost`).
    fn base(&self) -> &str;
    /// The client for requests that are not a browser's (it does not follow redirects).
    fn http(&self) -> &reqwest::Client;
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// GETs `path` and reads the JSON body (whatever the status).
    async fn fetch_json(&self, path: &str) -> serde_json::Value {
        let response = self
            .http()
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        response.json().await.expect("json")
    }
}

/// `impl Server for $type` where the type has the fields `$base: String` and `http`.
macro_rules! serves_at {
    ($type:ty, $base:ident) => {
        impl $crate::helpers::Server for $type {
            fn base(&self) -> &str {
                &self.$base
            }

            fn http(&self) -> &reqwest::Client {
                &self.http
            }
        }
    };
}
pub(crate) use serves_at;

serves_at!(TestApp, address);

impl TestApp {
    /// An app on a fresh database with default test settings.
    pub async fn spawn() -> TestApp {
        Settings::new().await.spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// Stops the server and waits until it has finished the requests in flight.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.expect("join").expect("clean stop");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Polls `attempt` every 50 ms until it returns `Some`, failing the test after `within`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    within: Duration,
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A user made for a test.
#[derive(Clone)]
pub struct TestUser {
    pub id: uuid::Uuid,
    pub username: String,
    pub password: String,
    /// Base32 TOTP secret, when enrolled.
    pub totp: Option<String>,
}

impl TestUser {
    /// The current TOTP code.
    pub fn code(&self) -> String {
        totp_now(self.totp.as_deref().expect("TOTP enrolled"))
    }
}

/// The current TOTP code for a base32 secret, as an authenticator app computes it.
pub fn totp_now(secret: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate_current()
        .to_string()
}

/// A client made for a test.
#[derive(Clone)]
pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
}

impl TestApp {
    pub async fn user(&self, username: &str, totp: bool) -> TestUser {
        self.person(username, totp, false).await
    }

    /// An administrator with TOTP enrolled.
    pub async fn admin(&self, username: &str) -> TestUser {
        self.person(username, true, true).await
    }

    pub async fn person(&self, username: &str, totp: bool, is_admin: bool) -> TestUser {
        let password = format!("{username}-password-123");
        let enrollment =
            totp.then(|| portcullis::mfa::totp::enroll(username, self.state.keys.kek()).unwrap());
        let hash = self
            .state
            .hasher
            .hash(portcullis::secret::Secret::new(password.clone()))
            .await
            .unwrap();
        let name = portcullis::users::Username::parse(username).unwrap();
        let email = portcullis::users::Email::parse(&format!("{username}@example.com")).unwrap();
        let new = portcullis::users::store::NewUser {
            username: &name,
            email: Some(&email),
            name: Some(
                &portcullis::users::DisplayName::parse(&format!("{username} Example")).unwrap(),
            ),
            password_hash: Some(&hash),
            is_admin,
            totp_secret_sealed: enrollment.as_ref().map(|e| e.sealed.as_str()),
            invited: false,
        };
        let id =
            portcullis::users::store::create(&self.state.db, new, &portcullis::audit::Actor::Cli)
                .await
                .unwrap();
        TestUser {
            id,
            username: username.into(),
            password,
            totp: enrollment.map(|e| e.secret_base32.expose().clone()),
        }
    }

    /// A confidential service client for `client_credentials`, with these scopes and audiences.
    pub async fn service(&self, name: &str, scopes: &[&str], audiences: &[&str]) -> TestClient {
        let spec = portcullis::clients::ClientSpec {
            name: name.into(),
            grant_types: vec!["client_credentials".into()],
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            audiences: audiences.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        };
        self.register(spec, String::new()).await
    }

    /// Registers `spec`; `redirect_uri` is the one the test will use.
    pub async fn register(
        &self,
        spec: portcullis::clients::ClientSpec,
        redirect_uri: String,
    ) -> TestClient {
        let valid = spec.validate().unwrap();
        let by = portcullis::audit::By::new(portcullis::audit::Actor::Cli, None);
        let created = portcullis::clients::store::create(&self.state.db, &valid, &by)
            .await
            .unwrap();
        let secret = created.client_secret.map(|s| s.expose().clone());
        TestClient {
            id: created.client_id.into(),
            secret,
            redirect_uri,
        }
    }

    /// A client; `public` clients get no secret. Redirects to https://rp.example.com/cb.
    pub async fn client(&self, name: &str, public: bool, skip_consent: bool) -> TestClient {
        let redirect_uri = "https://rp.example.com/cb".to_owned();
        let spec = portcullis::clients::ClientSpec {
            name: name.into(),
            public,
            redirect_uris: vec![redirect_uri.clone(), "http://127.0.0.1/native".into()],
            post_logout_redirect_uris: vec!["https://rp.example.com/bye".into()],
            grant_types: vec![],
            scopes: vec![],
            skip_consent,
            audiences: vec![],
            ..Default::default()
        };
        self.register(spec, redirect_uri).await
    }
}

/// The CSRF token of the first form on a page.
pub fn csrf(html: &str) -> String {
    let start =
        html.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The `Location` of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {}",
        response.status()
    );
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A browser whose requests reach the app through a trusted proxy from `address`.
pub fn browser_from(address: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", address.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}
