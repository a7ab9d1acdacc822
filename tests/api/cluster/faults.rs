//! Faults under load, through the balancer: a replica killed or stopped, Redis stopped and
//! started, PostgreSQL restarted. Each test prints what it measured (requests, failed attempts,
//! failures after retries, recovery time); `cargo nextest run cluster --no-capture` shows it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::load::{CachingVerifier, Counters};
use super::stores::{PrivatePostgres, PrivateRedis};
use super::{Cluster, Options, Scratch};
use crate::helpers::{Server, TestClient, browser_from, eventually, location};
use crate::machines::client_credentials;
use crate::signin::{browser, password_step};

/// Services asking for tokens and verifying them with a cached JWKS, and people whose signed-in
/// sessions keep loading `/account`, all through the balancer, until `stop` is cancelled.
struct Traffic {
    counters: Arc<Counters>,
    lost_sessions: Arc<AtomicU64>,
    bad_tokens: Arc<AtomicU64>,
    tokens: Arc<Mutex<Vec<String>>>,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Traffic {
    async fn start(cluster: &Cluster, people: usize) -> Traffic {
        let service = Arc::new(cluster.control.service("Worker", &["jobs"], &[]).await);
        let mut traffic = Traffic {
            counters: Arc::new(Counters::default()),
            lost_sessions: Arc::new(AtomicU64::new(0)),
            bad_tokens: Arc::new(AtomicU64::new(0)),
            tokens: Arc::new(Mutex::new(Vec::new())),
            stop: CancellationToken::new(),
            tasks: Vec::new(),
        };
        for n in 0..people {
            let user = cluster.control.user(&format!("person{n}"), false).await;
            let browser = browser();
            let response = password_step(&cluster.balancer, &browser, &user).await;
            assert_eq!(location(&response), "/account");
            traffic.spawn_person(cluster, browser);
        }
        for _ in 0..2 {
            traffic.spawn_service(cluster, service.clone());
        }
        traffic
    }

    fn spawn_person(&mut self, cluster: &Cluster, browser: reqwest::Client) {
        let (counters, lost, stop) = (
            self.counters.clone(),
            self.lost_sessions.clone(),
            self.stop.clone(),
        );
        let url = cluster.balancer.url("/account");
        self.tasks.push(tokio::spawn(async move {
            while !stop.is_cancelled() {
                if let Some((status, _)) = counters.send(|| browser.get(&url)).await
                    && status != 200
                {
                    // Sent to the sign-in page: the session was lost.
                    lost.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    fn spawn_service(&mut self, cluster: &Cluster, service: Arc<TestClient>) {
        let (counters, bad, tokens, stop) = (
            self.counters.clone(),
            self.bad_tokens.clone(),
            self.tokens.clone(),
            self.stop.clone(),
        );
        let (http, token_url) = (
            cluster.balancer.http().clone(),
            cluster.balancer.url("/token"),
        );
        let lb = super::Endpoint::new(cluster.balancer.base().to_owned(), http.clone());
        self.tasks.push(tokio::spawn(async move {
            let mut verifier = CachingVerifier::new();
            while !stop.is_cancelled() {
                let request = || client_credentials_request(&http, &token_url, &service);
                if let Some(body) = counters.ok_json(request).await {
                    let token = body["access_token"].as_str().unwrap_or_default().to_owned();
                    if verifier.verify(&lb, &token).await.is_err() {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                    tokens.lock().await.push(token);
                }
            }
        }));
    }

    /// Stops the traffic and checks what every careful client must have seen: no failure after
    /// retries, no session lost, no token that failed to verify (then or now).
    async fn finish(self, cluster: &Cluster, what: &str) -> Arc<Counters> {
        self.stop.cancel();
        for task in self.tasks {
            task.await.unwrap();
        }
        let mut verifier = CachingVerifier::new();
        let tokens = self.tokens.lock().await;
        for token in tokens.iter() {
            assert!(
                verifier.verify(&cluster.balancer, token).await.is_ok(),
                "every token issued still verifies"
            );
        }
        let report = self.counters.report(what);
        println!("{report}; {} tokens checked", tokens.len());
        assert_eq!(self.counters.failed(), 0, "{report}");
        assert_eq!(
            self.lost_sessions.load(Ordering::Relaxed),
            0,
            "lost sessions; {report}"
        );
        assert_eq!(
            self.bad_tokens.load(Ordering::Relaxed),
            0,
            "unverifiable tokens; {report}"
        );
        self.counters.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_under_load_loses_no_session_and_no_token() {
    let mut cluster = Cluster::start(Options::default()).await;
    let traffic = Traffic::start(&cluster, 4).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let killed = Instant::now();
    cluster.replica("b").signal(libc::SIGKILL);
    assert_eq!(
        cluster
            .replica_mut("b")
            .exited(Duration::from_secs(5))
            .await,
        None
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let counters = traffic.finish(&cluster, "SIGKILL of one replica").await;
    let recovery = counters
        .last_error()
        .map(|t| t.saturating_duration_since(killed));
    println!("SIGKILL: last failed attempt {recovery:?} after the kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stopped_with_sigterm_drains_without_a_single_error() {
    let mut cluster = Cluster::start(Options::default()).await;
    let traffic = Traffic::start(&cluster, 4).await;
    let mut late = Vec::new();
    for n in 0..40 {
        late.push(cluster.control.user(&format!("late{n}"), false).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Sign-ins of 40 people from 40 addresses (every guess reserves an attempt per account and
    // per address first, so one person's 40 simultaneous sign-ins would mostly be throttled),
    // sent straight to B, in flight when it is told to stop.
    let b = cluster.replica("b");
    let mut in_flight = Vec::new();
    for (n, user) in late.into_iter().enumerate() {
        let b_base = super::Endpoint::new(b.base().to_owned(), super::client());
        in_flight.push(tokio::spawn(async move {
            let from = browser_from(&format!("10.9.0.{n}"));
            let response = password_step(&b_base, &from, &user).await;
            location(&response)
        }));
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    let stopped = Instant::now();
    b.signal(libc::SIGTERM);
    eventually(
        Duration::from_millis(500),
        "draining: out of rotation",
        || async {
            let ready = b.http().get(b.url("/readyz")).send().await.ok()?;
            (ready.status() == 503).then_some(())
        },
    )
    .await;
    let mut finished_late = 0;
    for request in in_flight {
        assert_eq!(
            request.await.unwrap(),
            "/account",
            "every request in flight is answered"
        );
        if stopped.elapsed() > Duration::from_secs(1) {
            finished_late += 1;
        }
    }
    let code = cluster
        .replica_mut("b")
        .exited(Duration::from_secs(15))
        .await;
    let exit_after = stopped.elapsed();
    assert_eq!(code, Some(0), "a clean exit");
    let log = cluster.replica("b").log();
    assert!(log.contains("draining") && log.contains("stopped"), "{log}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let counters = traffic.finish(&cluster, "SIGTERM of one replica").await;
    assert_eq!(
        counters.errors(),
        0,
        "not one failed attempt: {}",
        counters.report("SIGTERM")
    );
    println!(
        "SIGTERM: 40 sign-ins in flight all answered ({finished_late} after the drain delay); exit 0 after {exit_after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_started_under_load() {
    let scratch = Scratch::new();
    let mut redis = PrivateRedis::start(&scratch.0).await;
    let options = Options {
        redis_url: Some(redis.url()),
        ..Options::default()
    };
    let mut cluster = Cluster::start_in(&scratch.0, options).await;
    let person = cluster.control.user("carol", false).await;
    let browser = browser();
    let response = password_step(&cluster.balancer, &browser, &person).await;
    assert_eq!(location(&response), "/account");
    let stateless = StatelessLoad::start(&cluster).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    redis.stop().await;
    let lb = &cluster.balancer;
    for path in ["/login", "/account"] {
        let response = eventually(Duration::from_secs(5), "a 503 page", || async {
            let r = browser.get(lb.url(path)).send().await.ok()?;
            (r.status() == 503).then_some(r)
        })
        .await;
        assert!(response.headers().contains_key("retry-after"), "{path}");
        assert!(
            !response.headers().contains_key("set-cookie"),
            "{path}: the cookie stays"
        );
        let page = response.text().await.unwrap();
        assert!(page.contains("temporarily unavailable"), "{page}");
    }
    // Reported, and still in rotation.
    cluster.all_report("degraded", Some("redis")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    redis.launch().await;
    let back = Instant::now();
    eventually(
        Duration::from_secs(10),
        "the session works again",
        || async {
            let r = browser.get(lb.url("/account")).send().await.ok()?;
            (r.status() == 200).then_some(())
        },
    )
    .await;
    let recovered = back.elapsed();
    for replica in cluster.replicas.iter_mut() {
        assert!(replica.running(), "replica {} did not crash", replica.name);
    }
    cluster.all_ready().await;
    let (published, tokens) = stateless.finish().await;
    let report = format!(
        "Redis stopped for 2 s. {}. {}. The signed-in session worked again {recovered:?} after Redis was back",
        published.report("JWKS and discovery"),
        tokens.report("client_credentials")
    );
    println!("{report}");
    for counters in [&published, &tokens] {
        assert_eq!((counters.errors(), counters.failed()), (0, 0), "{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load() {
    let scratch = Scratch::new();
    let postgres = PrivatePostgres::start(&scratch.0).await;
    let options = Options {
        postgres: Some(postgres.url()),
        ..Options::default()
    };
    let cluster = Cluster::start_in(&scratch.0, options).await;
    let stateless = StatelessLoad::start(&cluster).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Down for two seconds: every replica reports it and keeps serving what needs no database.
    postgres.stop().await;
    let stopped = Instant::now();
    // Reported, and still in rotation.
    cluster.all_report("degraded", Some("postgres")).await;
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(stopped.elapsed())).await;
    postgres.start_again().await;
    let restarted = Instant::now();
    let down_for = stopped.elapsed();

    // A client the replicas have never seen must be read from the database: the pools reconnect.
    let fresh = cluster.control.service("Fresh", &["jobs"], &[]).await;
    eventually(
        Duration::from_secs(10),
        "a new client gets a token",
        || async {
            let form = [("grant_type", "client_credentials")];
            let (status, _) = crate::signin::token(&cluster.balancer, &fresh, &form).await;
            (status == 200).then_some(())
        },
    )
    .await;
    let recovered = restarted.elapsed();
    cluster.all_ready().await;
    let (published, tokens) = stateless.finish().await;
    let report = format!(
        "PostgreSQL down for {down_for:?}; a new client got a token {recovered:?} after it was back. {}. {}",
        published.report("JWKS and discovery"),
        tokens.report("client_credentials (cached client)")
    );
    println!("{report}");
    assert_eq!((published.errors(), published.failed()), (0, 0), "{report}");
    assert_eq!(tokens.failed(), 0, "{report}");
}

/// JWKS and discovery (`published`), and `client_credentials` (`tokens`), through the balancer:
/// what must keep answering while a store is away.
struct StatelessLoad {
    published: Arc<Counters>,
    tokens: Arc<Counters>,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl StatelessLoad {
    async fn start(cluster: &Cluster) -> StatelessLoad {
        let service = cluster.control.service("Steady", &["jobs"], &[]).await;
        // Every replica has the client cached before the fault.
        for replica in &cluster.replicas {
            assert_eq!(client_credentials(replica, &service, &[]).await.0, 200);
        }
        let load = StatelessLoad {
            published: Arc::new(Counters::default()),
            tokens: Arc::new(Counters::default()),
            stop: CancellationToken::new(),
            tasks: Vec::new(),
        };
        let http = cluster.balancer.http().clone();
        let (published, stop) = (load.published.clone(), load.stop.clone());
        let urls = [
            cluster.balancer.url("/jwks.json"),
            cluster.balancer.url("/.well-known/openid-configuration"),
        ];
        let get = http.clone();
        let mut tasks = vec![tokio::spawn(async move {
            while !stop.is_cancelled() {
                for url in &urls {
                    published.ok_json(|| get.get(url)).await;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })];
        let (tokens, stop) = (load.tokens.clone(), load.stop.clone());
        let token_url = cluster.balancer.url("/token");
        tasks.push(tokio::spawn(async move {
            while !stop.is_cancelled() {
                let request = || client_credentials_request(&http, &token_url, &service);
                tokens.ok_json(request).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
        StatelessLoad { tasks, ..load }
    }

    async fn finish(self) -> (Arc<Counters>, Arc<Counters>) {
        self.stop.cancel();
        for task in self.tasks {
            task.await.unwrap();
        }
        (self.published, self.tokens)
    }
}

/// A `client_credentials` token request from `service` to `token_url`.
fn client_credentials_request(
    http: &reqwest::Client,
    token_url: &str,
    service: &TestClient,
) -> reqwest::RequestBuilder {
    http.post(token_url)
        .basic_auth(&service.id, service.secret.as_ref())
        .form(&[("grant_type", "client_credentials")])
}
