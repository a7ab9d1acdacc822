//! Browser sessions: tower-sessions over Redis ([`store::RedisSessionStore`]), with a typed
//! wrapper ([`TypedSession`]) so handlers never touch raw keys: each value a session holds has
//! typed accessors (here and in `values`), and the key names are private to this module. The
//! cookie is `HttpOnly`, `SameSite=Lax`, and under an https issuer `Secure` with the `__Host-`
//! prefix. A session ends after `PORTCULLIS_SESSION_IDLE_TIMEOUT` without requests (the Redis key
//! expires) and at most `PORTCULLIS_SESSION_LIFETIME` after sign-in (checked here). The id changes
//! whenever privilege changes: after the password, after the second factor, at sign-out.

pub mod admission;
pub mod index;
pub mod pending;
pub mod store;
mod values;

pub use values::AfterLogout;
use values::key;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration as CookieDuration;
use tower_sessions::session_store::Error;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use uuid::Uuid;

use redis::AsyncCommands as _;

use crate::amr::Amr;
use crate::config::Config;
use crate::crypto::random_token;
use crate::storage::{Redis, RedisKey};
use store::RedisSessionStore;

/// The session layer for the router.
pub fn layer(config: &Config, store: RedisSessionStore) -> SessionManagerLayer<RedisSessionStore> {
    let https = config.issuer.starts_with("https://");
    let idle = CookieDuration::seconds(
        i64::try_from(config.session_idle_timeout.as_secs()).unwrap_or(i64::MAX),
    );
    SessionManagerLayer::new(store)
        // RFC 6265bis §4.1.3.2: `__Host-` cookies are Secure, host-only and Path=/.
        .with_name(if https {
            "__Host-portcullis"
        } else {
            "portcullis"
        })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
        // Save on every request, so that activity (not only a change) extends the idle timeout.
        .with_always_save(true)
}

/// A person who has completed sign-in in this browser.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: Uuid,
    /// When the person last proved who they are (OIDC `auth_time`), unix seconds.
    pub auth_time: i64,
    /// How (RFC 8176 values).
    pub amr: Vec<Amr>,
    /// The session id given to relying parties (OIDC `sid`); not the cookie value.
    pub sid: String,
    /// When this session signed in, in milliseconds (to compare with "sign out everywhere").
    #[serde(default)]
    pub since_ms: i64,
}

/// The first factor passed; the second is still due.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordVerified {
    pub user_id: Uuid,
    pub at: i64,
    /// Not a sign-in: a signed-in person re-entering a second factor before a change
    /// ([`TypedSession::ask_step_up`]).
    #[serde(default)]
    pub step_up: bool,
}

/// Errors from the session store (Redis).
pub type SessionError = tower_sessions::session::Error;

/// The session with typed accessors.
pub struct TypedSession(pub Session);

impl TypedSession {
    /// The signed-in person, unless the session outlived `lifetime` since sign-in or the person
    /// signed out everywhere after signing in here.
    pub async fn signed_in(
        &self,
        lifetime: std::time::Duration,
        redis: &Redis,
    ) -> Result<Option<SignedIn>, SessionError> {
        let Some(signed_in) = self.0.get::<SignedIn>(key::SIGNED_IN).await? else {
            return Ok(None);
        };
        // `since_ms` (not the whole-second `auth_time`), so a session gets its full lifetime.
        let started_ms = if signed_in.since_ms > 0 {
            signed_in.since_ms
        } else {
            signed_in.auth_time * 1000
        };
        let lifetime_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
        let revoked = signed_out_everywhere_at(redis, signed_in.user_id)
            .await
            .map_err(|e| SessionError::Store(Error::Backend(e.to_string())))?;
        let ended = revoked.is_some_and(|at| at >= signed_in.since_ms);
        if now_ms() > started_ms.saturating_add(lifetime_ms) || ended {
            self.0.flush().await?;
            return Ok(None);
        }
        Ok(Some(signed_in))
    }

    /// Records the first factor; a new session id, since privilege changed.
    pub async fn password_verified(&self, user_id: Uuid) -> Result<(), SessionError> {
        self.0.cycle_id().await?;
        self.0.remove_value(key::SIGNED_IN).await?;
        let at = OffsetDateTime::now_utc().unix_timestamp();
        self.0
            .insert(
                key::PASSWORD_VERIFIED,
                PasswordVerified {
                    user_id,
                    at,
                    step_up: false,
                },
            )
            .await
    }

    /// When `signed_in` (this session's person) last entered a second factor: at sign-in, or
    /// later at a step-up; `None` if this session never used one.
    pub async fn second_factor_at(
        &self,
        signed_in: &SignedIn,
    ) -> Result<Option<i64>, SessionError> {
        let at_sign_in = Amr::second_factor(&signed_in.amr).then_some(signed_in.auth_time);
        let stepped_up = self.0.get::<i64>(key::SECOND_FACTOR_AT).await?;
        Ok(at_sign_in.max(stepped_up))
    }

    /// Asks the signed-in `user_id` for a second factor again (the second-factor step shows the
    /// form); they stay signed in meanwhile.
    pub async fn ask_step_up(&self, user_id: Uuid) -> Result<(), SessionError> {
        let at = OffsetDateTime::now_utc().unix_timestamp();
        let pending = PasswordVerified {
            user_id,
            at,
            step_up: true,
        };
        self.0.insert(key::PASSWORD_VERIFIED, pending).await
    }

    /// Records a second factor entered at a step-up; a new session id, since privilege changed.
    /// False (and nothing recorded) if the session is no longer signed in as `user_id`.
    pub async fn stepped_up(&self, user_id: Uuid) -> Result<bool, SessionError> {
        self.0.remove_value(key::PASSWORD_VERIFIED).await?;
        let signed_in = self.0.get::<SignedIn>(key::SIGNED_IN).await?;
        if signed_in.is_none_or(|s| s.user_id != user_id) {
            return Ok(false);
        }
        self.0.cycle_id().await?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.0.insert(key::SECOND_FACTOR_AT, now).await?;
        Ok(true)
    }

    /// Adds what a passkey proved (`added`) to this session's sign-in: a step-up to a higher
    /// level ([`crate::acr::Level`]). `auth_time` becomes now (OIDC Core §2: when the person last
    /// authenticated); the `sid` stays, since relying parties know the session by it; a new
    /// session id, since privilege changed. False (and nothing recorded) if the session is no
    /// longer signed in as `user_id`.
    pub async fn raise(&self, user_id: Uuid, added: &[Amr]) -> Result<bool, SessionError> {
        self.0.remove_value(key::PASSWORD_VERIFIED).await?;
        let Some(mut signed_in) = self.0.get::<SignedIn>(key::SIGNED_IN).await? else {
            return Ok(false);
        };
        if signed_in.user_id != user_id {
            return Ok(false);
        }
        for method in added {
            if !signed_in.amr.contains(method) {
                signed_in.amr.push(*method);
            }
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        signed_in.auth_time = now;
        self.0.cycle_id().await?;
        self.0.insert(key::SIGNED_IN, &signed_in).await?;
        self.0.insert(key::SECOND_FACTOR_AT, now).await?;
        Ok(true)
    }

    pub async fn pending_second_factor(&self) -> Result<Option<PasswordVerified>, SessionError> {
        self.0.get(key::PASSWORD_VERIFIED).await
    }

    /// Completes sign-in; a new session id, since privilege changed.
    pub async fn sign_in(&self, user_id: Uuid, amr: Vec<Amr>) -> Result<SignedIn, SessionError> {
        self.0.cycle_id().await?;
        self.0.remove_value(key::PASSWORD_VERIFIED).await?;
        self.0.remove_value(key::SECOND_FACTOR_AT).await?;
        let signed_in = SignedIn {
            user_id,
            auth_time: OffsetDateTime::now_utc().unix_timestamp(),
            amr,
            sid: Uuid::new_v4().simple().to_string(),
            since_ms: now_ms(),
        };
        self.0.insert(key::SIGNED_IN, &signed_in).await?;
        Ok(signed_in)
    }

    /// Ends the session: its data is deleted from Redis and the cookie cleared.
    pub async fn sign_out(&self) -> Result<(), SessionError> {
        self.0.flush().await
    }

    /// This session's CSRF token, made on first use.
    pub async fn csrf_token(&self) -> Result<String, SessionError> {
        if let Some(token) = self.0.get::<String>(key::CSRF).await? {
            return Ok(token);
        }
        let token = random_token().expose().clone();
        self.0.insert(key::CSRF, &token).await?;
        Ok(token)
    }

    /// Whether `presented` is this session's CSRF token (constant-time).
    pub async fn csrf_matches(&self, presented: &str) -> Result<bool, SessionError> {
        let expected = self.0.get::<String>(key::CSRF).await?;
        Ok(expected.is_some_and(|e| {
            !presented.is_empty() && bool::from(e.as_bytes().ct_eq(presented.as_bytes()))
        }))
    }
}

fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn everywhere_key(redis: &Redis, user_id: Uuid) -> String {
    redis.key(RedisKey::SignedOutEverywhere(user_id))
}

/// Ends every session of `user_id` signed in until now, on every replica: sessions compare their
/// sign-in time (ms) with this mark, kept as long as a session can live.
pub async fn sign_out_everywhere(
    redis: &Redis,
    user_id: Uuid,
    lifetime: std::time::Duration,
) -> crate::error::Result<()> {
    // Sessions in the index end now; the mark catches any the index does not know.
    index::end_all(redis, user_id).await?;
    let mut conn = redis.conn.clone();
    conn.set_ex(
        everywhere_key(redis, user_id),
        // One millisecond back: a session signed in right after this call (a password change
        // continues its own session) is never caught by the mark.
        now_ms() - 1,
        lifetime.as_secs().max(1),
    )
    .await
    .map_err(Into::into)
}

async fn signed_out_everywhere_at(
    redis: &Redis,
    user_id: Uuid,
) -> crate::error::Result<Option<i64>> {
    let mut conn = redis.conn.clone();
    Ok(conn.get(everywhere_key(redis, user_id)).await?)
}
