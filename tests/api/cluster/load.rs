//! Load for the fault tests, and the two clients that watch it: a careful HTTP client that retries
//! (and counts what it saw), and a resource server that verifies tokens with a JWKS it caches for
//! exactly as long as `Cache-Control` allows.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::Server;

/// How many attempts a careful client makes, and how long it waits between them.
const ATTEMPTS: u32 = 5;
const BACKOFF: Duration = Duration::from_millis(100);

/// What the clients of one load run saw.
#[derive(Default)]
pub struct Counters {
    /// Requests sent, retries included.
    pub sent: AtomicU64,
    /// Attempts that failed: no answer, or 502/503/504.
    pub errors: AtomicU64,
    /// Requests that still failed after every retry.
    pub failed: AtomicU64,
    samples: Mutex<Vec<String>>,
    last_error: Mutex<Option<Instant>>,
}

impl Counters {
    /// Sends the request `make` builds; on a failed attempt, waits and sends it again, up to
    /// five attempts. The status and body of the first answer that is not a failure.
    pub async fn send(&self, make: impl Fn() -> reqwest::RequestBuilder) -> Option<(u16, String)> {
        for _ in 0..ATTEMPTS {
            if let Some(answer) = self.attempt(make()).await {
                return Some(answer);
            }
            tokio::time::sleep(BACKOFF).await;
        }
        self.failed.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// Sends once; `None` (and counted) on no answer or 502/503/504.
    pub async fn attempt(&self, request: reqwest::RequestBuilder) -> Option<(u16, String)> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let problem = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.text().await {
                    Ok(body) if !matches!(status, 502..=504) => return Some((status, body)),
                    Ok(body) => format!("{status}: {}", body.chars().take(120).collect::<String>()),
                    Err(e) => format!("{status}, body: {e}"),
                }
            }
            Err(e) => format!("no answer: {e}"),
        };
        self.errors.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap() = Some(Instant::now());
        let mut samples = self.samples.lock().unwrap();
        if samples.len() < 5 {
            samples.push(problem);
        }
        None
    }

    /// Like [`Counters::send`], and the answer must be 200: its body as JSON.
    pub async fn ok_json(&self, make: impl Fn() -> reqwest::RequestBuilder) -> Option<Value> {
        let (status, body) = self.send(make).await?;
        if status != 200 {
            self.failed.fetch_add(1, Ordering::Relaxed);
            self.samples
                .lock()
                .unwrap()
                .push(format!("{status}: {body}"));
            return None;
        }
        serde_json::from_str(&body).ok()
    }

    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// When the last failed attempt happened.
    pub fn last_error(&self) -> Option<Instant> {
        *self.last_error.lock().unwrap()
    }

    /// One line for the test's output (and the notes): what was sent and what went wrong.
    pub fn report(&self, what: &str) -> String {
        format!(
            "{what}: {} requests, {} failed attempts, {} failures after retries; samples: {:?}",
            self.sent(),
            self.errors(),
            self.failed(),
            self.samples.lock().unwrap()
        )
    }
}

/// A resource server's view of the JWKS: fetched, then trusted for `max-age` seconds exactly as
/// the response's `Cache-Control` says, and never re-fetched early (not even on an unknown `kid`).
pub struct CachingVerifier {
    jwks: Value,
    expires: Instant,
    pub fetches: u32,
}

impl CachingVerifier {
    pub fn new() -> CachingVerifier {
        CachingVerifier {
            jwks: Value::Null,
            expires: Instant::now(),
            fetches: 0,
        }
    }

    /// Verifies `token`'s signature (fetching the JWKS from `server` if the cached one is stale);
    /// the `kid` that verified it.
    pub async fn verify(&mut self, server: &impl Server, token: &str) -> Result<String, String> {
        if Instant::now() >= self.expires {
            let response = server
                .http()
                .get(server.url("/jwks.json"))
                .send()
                .await
                .map_err(|e| format!("JWKS: {e}"))?;
            let max_age = response
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.split(',')
                        .find_map(|d| d.trim().strip_prefix("max-age=")?.parse::<u64>().ok())
                })
                .ok_or("the JWKS has no max-age")?;
            self.jwks = response.json().await.map_err(|e| format!("JWKS: {e}"))?;
            self.expires = Instant::now() + Duration::from_secs(max_age);
            self.fetches += 1;
        }
        crate::keys::verify(&self.jwks, token)
    }
}
