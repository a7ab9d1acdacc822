//! Password hashes: argon2id (PHC strings, cost from configuration) computed on dedicated
//! low-priority threads behind a semaphore, so that sign-ins queue instead of starving the async
//! runtime. An unknown user costs one hash too (against a dummy hash), so timing does not tell
//! which names exist. Verification reuses each thread's working memory.

use std::sync::Arc;

use anyhow::Context as _;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
use subtle::ConstantTimeEq as _;
use tokio::sync::Semaphore;

use super::random_token;
use crate::secret::Secret;

/// Runs the calling thread at nice 10: when the async runtime has work (health checks, token
/// requests) the scheduler gives it the CPU first, and hashing takes what is left.
fn lower_priority() {
    // SAFETY: setpriority only reads its integer arguments; on Linux, PRIO_PROCESS with id 0
    // changes the calling thread. A failure (not permitted) just leaves the priority as it was.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
}

/// A job for the hashing threads.
type Job = Box<dyn FnOnce() + Send>;

/// argon2id cost parameters for password hashes (configured, see [`crate::config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// argon2id hashing on its own threads (one per core), at most one hash per core at a time, so a
/// storm of sign-ins queues instead of starving the async runtime. Dedicated threads (rather than
/// tokio's blocking pool, which grows to hundreds of threads) also bound memory: each thread keeps
/// its allocator arena, and each hash needs `m` (19 MiB) of it.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<Job>,
    /// A hash of a random password at the configured cost, verified when a user is unknown so that
    /// an unknown user costs the same as a wrong password.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    pub fn new(cost: Argon2Params) -> anyhow::Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..cores {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only to take a job; it ends when every sender is gone.
                        let job = match queue.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        let mut hasher = Self {
            params,
            permits: Arc::new(Semaphore::new(cores)),
            jobs,
            dummy_hash: Arc::new(String::new()),
        };
        hasher.dummy_hash = Arc::new(hasher.hash_blocking(&random_token())?);
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes on the calling thread: for the CLI, and for [`PasswordHasher::hash`].
    pub fn hash_blocking(&self, password: &Secret<String>) -> anyhow::Result<String> {
        let hash = self
            .argon2()
            .hash_password(password.expose().as_bytes())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
        Ok(hash.to_string())
    }

    /// Checks `password` against `stored` on the calling thread, as a hashing thread does: for the
    /// benchmark of the machine's sign-in limit.
    pub fn verify_blocking(&self, password: &Secret<String>, stored: &str) -> bool {
        verify_with_thread_memory(password.expose().as_bytes(), stored)
    }

    /// Runs `work` on a hashing thread, waiting for a free one. The caller's span goes with it,
    /// so what the hash logs (and its time) belongs to the sign-in that asked for it.
    async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await?;
        let (done, result) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _ = done.send(span.in_scope(work));
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("the hashing threads are gone"))?;
        result.await.context("a hashing thread failed")
    }

    /// Hashes a new password (PHC string format, parameters and salt included).
    pub async fn hash(&self, password: Secret<String>) -> anyhow::Result<String> {
        let this = self.clone();
        self.on_pool(move || this.hash_blocking(&password)).await?
    }

    /// Checks `password` against `stored` (or against a dummy hash when the user is unknown, so
    /// both cost one hash). A malformed stored hash is treated as a mismatch.
    pub async fn verify(
        &self,
        password: Secret<String>,
        stored: Option<String>,
    ) -> anyhow::Result<bool> {
        let dummy = Arc::clone(&self.dummy_hash);
        self.on_pool(move || {
            let known = stored.is_some();
            let hash = stored.as_deref().unwrap_or(dummy.as_str());
            verify_with_thread_memory(password.expose().as_bytes(), hash) && known
        })
        .await
    }
}

thread_local! {
    /// The argon2 working memory of this hashing thread, allocated on its first verification and
    /// reused after: a fresh 19 MiB allocation per hash fragments the allocator's arenas until
    /// the process holds several times the memory the hashes need.
    static MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Recomputes the hash of `password` with the algorithm, version, cost and salt written in
/// `stored` (a PHC string, so older hashes at another cost still verify) into this thread's
/// reused memory, and compares the outputs in constant time. Anything malformed is a mismatch.
fn verify_with_thread_memory(password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = argon2::PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str());
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&parsed))
    else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut output = vec![0u8; expected.len()];
    let computed = MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::new());
        }
        let memory = memory.get_mut(..blocks).unwrap_or_default();
        argon2.hash_password_into_with_memory(password, salt, &mut output, memory)
    });
    computed.is_ok() && bool::from(expected.as_bytes().ct_eq(&output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_and_unknown_users_never_match() {
        let cost = Argon2Params {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        };
        let hasher = PasswordHasher::new(cost).unwrap();
        let hash = hasher
            .hash(Secret::new("correct horse".into()))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            hasher
                .verify(Secret::new("correct horse".into()), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Secret::new("wrong".into()), Some(hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Secret::new("anything".into()), None)
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Secret::new("x".into()), Some("not a hash".into()))
                .await
                .unwrap()
        );
    }

    /// Records which thread entered which span.
    #[derive(Clone, Default)]
    struct Entered(Arc<std::sync::Mutex<Vec<(String, String)>>>);

    impl<S> tracing_subscriber::Layer<S> for Entered
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        fn on_enter(&self, id: &tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
            let thread = std::thread::current().name().unwrap_or_default().to_owned();
            if let (Some(span), Ok(mut entered)) = (ctx.span(id), self.0.lock()) {
                entered.push((span.name().to_owned(), thread));
            }
        }
    }

    #[tokio::test]
    async fn the_callers_span_follows_the_hash_onto_its_thread() {
        use tracing::Instrument as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        let entered = Entered::default();
        let subscriber = tracing_subscriber::registry().with(entered.clone());
        let _guard = tracing::subscriber::set_default(subscriber);
        let cost = Argon2Params {
            memory_kib: 8_192,
            iterations: 1,
            parallelism: 1,
        };
        let hasher = PasswordHasher::new(cost).unwrap();
        let hash = hasher
            .hash(Secret::new("correct horse".into()))
            .instrument(tracing::info_span!("sign_in"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let entered = entered.0.lock().unwrap().clone();
        assert!(
            entered
                .iter()
                .any(|(span, thread)| span == "sign_in" && thread.starts_with("argon2-")),
            "{entered:?}"
        );
    }

    #[test]
    fn hashes_at_other_costs_verify_in_the_reused_memory() {
        let password = b"correct horse";
        for (m, t, p) in [(8_192, 1, 1), (32_768, 1, 2), (19_456, 2, 1)] {
            let params = Params::new(m, t, p, None).unwrap();
            let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password)
                .unwrap()
                .to_string();
            assert!(verify_with_thread_memory(password, &hash), "{hash}");
            assert!(!verify_with_thread_memory(b"correct horsf", &hash));
            let truncated = &hash[..hash.len() - 2];
            assert!(!verify_with_thread_memory(password, truncated));
        }
        assert!(!verify_with_thread_memory(
            password,
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ"
        ));
    }
}
