//! Building and running the server. [`App::build`] connects to PostgreSQL and Redis (retrying at
//! start), migrates, loads the key ring and binds the listener (port 0 works, for tests);
//! [`App::run_until_stopped`] serves until the stop token is cancelled (SIGINT/SIGTERM in the
//! binary), then drains: readiness fails for `drain_delay` while requests are still served, the
//! listener closes, and requests in flight get `shutdown_timeout` to finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use axum::body::Bytes;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::clients::cache::ClientCache;
use crate::config::Config;
use crate::crypto::PasswordHasher;
use crate::health::StoreHealth;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::oidc::discovery::Metadata;
use crate::state::{AppState, Shared};
use crate::storage::{self, Redis};

/// How long a replica trusts a cached client without an announcement.
const CLIENT_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

pub struct App {
    listener: TcpListener,
    address: SocketAddr,
    /// `PORTCULLIS_METRICS_LISTEN`, bound: `/metrics` alone.
    metrics: Option<(TcpListener, SocketAddr)>,
    state: AppState,
    stop: CancellationToken,
}

impl App {
    /// Builds the app and binds `PORTCULLIS_LISTEN`.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let listener = std::net::TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {} (PORTCULLIS_LISTEN)", config.listen))?;
        Self::build_with_listener(config, listener).await
    }

    /// Builds the app on a listener bound by the caller (tests bind port 0 first, so the issuer
    /// URL can name the real port).
    pub async fn build_with_listener(
        config: Config,
        listener: std::net::TcpListener,
    ) -> anyhow::Result<App> {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let metrics = match config.metrics_listen {
            Some(at) => {
                let bound = TcpListener::bind(at).await.with_context(|| {
                    format!("cannot listen on {at} (PORTCULLIS_METRICS_LISTEN)")
                })?;
                let address = bound.local_addr()?;
                Some((bound, address))
            }
            None => None,
        };
        let address = listener.local_addr()?;
        let state = connect(config).await?;
        Ok(App {
            listener,
            address,
            metrics,
            state,
            stop: CancellationToken::new(),
        })
    }

    /// The bound address (with the real port when the configuration asked for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `/metrics` is served on its own, when configured (with the real port).
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, address)| *address)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Cancel this token to stop the server gracefully.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        // The background work stops with the server, not at the signal: a draining replica still
        // serves, so it must still hear about disabled clients and new keys.
        let background = CancellationToken::new();
        let _stop_background = background.clone().drop_guard();
        let every = KeyRing::reload_interval(&self.state.config);
        self.state.keys.spawn_ticker(every, background.clone());
        let state = &self.state;
        crate::invalidation::spawn_listener(
            state.redis.clone(),
            state.clients.clone(),
            state.keys.clone(),
            background.clone(),
        );
        crate::admin::dashboard::spawn_tally(self.state.clone(), background.clone());
        crate::cleanup::spawn(self.state.clone(), background.clone());
        crate::outbox::worker::spawn(&self.state, background.clone());
        crate::health::spawn_monitor(
            state.db.clone(),
            state.redis.clone(),
            state.health.clone(),
            background.clone(),
        );
        if let Some((listener, address)) = self.metrics {
            tracing::info!(%address, "serving /metrics");
            let router = crate::http::metrics_router(self.state.clone());
            tokio::spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(background.cancelled_owned())
                    .await;
                if let Err(error) = served {
                    tracing::error!(%error, "the metrics listener failed");
                }
            });
        }
        let router = crate::http::router(self.state.clone());
        tracing::info!(address = %self.address, issuer = %self.state.config.issuer, "listening");
        let drained = drain(self.state.clone(), self.stop.clone());
        let serve = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(drained)
        .into_future();
        let (drain_delay, timeout) = (
            self.state.config.drain_delay,
            self.state.config.shutdown_timeout,
        );
        // In-flight requests get `shutdown_timeout` after the drain; then the process stops anyway.
        let deadline = async {
            self.stop.cancelled().await;
            tokio::time::sleep(drain_delay + timeout).await;
        };
        tokio::select! {
            served = serve => served.context("the server failed")?,
            () = deadline => tracing::warn!(
                "requests still in flight after the shutdown timeout ({}); stopping anyway",
                crate::config::Human(timeout)
            ),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// The state of a server (or of a command acting like one): PostgreSQL (migrated), Redis, the
/// key ring, the password hasher. The command line uses it too, so that its changes go through
/// the same [`crate::admin`] operations as the admin pages'.
pub async fn connect(config: Config) -> anyhow::Result<AppState> {
    let db = storage::connect_postgres(&config).await?;
    let redis = Redis::connect(&config).await?;
    crate::kek::check_at_start(&db, &config.kek())
        .await
        .context("the key-encryption key does not open the live signing keys")?;
    let keys = KeyRing::start(db.clone(), &config)
        .await
        .context("cannot start the key ring")?;
    let cost = config.argon2;
    let hasher = tokio::task::spawn_blocking(move || PasswordHasher::new(cost)).await??;
    let discovery = Bytes::from(serde_json::to_vec(&Metadata::new(&config.issuer))?);
    let clients = Arc::new(ClientCache::new(db.clone(), CLIENT_CACHE_TTL));
    let jwks_cache_control =
        format!("public, max-age={}", config.jwks_max_age.as_secs()).parse()?;
    let passkeys = if config.passkeys.enabled() {
        let rp = crate::passkeys::RelyingParty::new(&config.issuer, &config.passkey_rp_id)
            .map_err(|e| anyhow::anyhow!("passkeys: {e}"))?;
        Some(Arc::new(rp))
    } else {
        None
    };
    Ok(AppState::new(Shared {
        passkeys,
        clients,
        config: Arc::new(config),
        db,
        redis,
        keys,
        metrics: Arc::new(Metrics::new()),
        hasher,
        discovery,
        jwks_cache_control,
        health: Arc::new(StoreHealth::default()),
        draining: AtomicBool::new(false),
    }))
}

/// Resolves when the listener should close: `drain_delay` after the stop token is cancelled.
/// Meanwhile `/readyz` answers 503 and everything else is served as usual, so that a load
/// balancer (or a Kubernetes endpoint controller) takes this replica out of rotation before any
/// connection is refused.
async fn drain(state: AppState, stop: CancellationToken) {
    stop.cancelled().await;
    state.draining.store(true, Ordering::SeqCst);
    let delay = state.config.drain_delay;
    tracing::info!(
        drain_delay = %crate::config::Human(delay),
        "draining: readiness fails, requests are still served"
    );
    tokio::time::sleep(delay).await;
    tracing::info!("closing the listener; finishing the requests in flight");
}
