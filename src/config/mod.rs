//! One typed [`Config`], read once at start from built-in defaults, an optional TOML file
//! (`--config`) and `PORTCULLIS_*` environment variables, in that order, and validated before
//! anything else happens. A bad value is a [`ConfigError`] that names the setting and says what is
//! allowed; the binary exits with status 2 on it. The config is passed down, never global.

pub mod duration;
pub mod layers;
mod settings;
#[cfg(test)]
mod tests;
mod values;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub use duration::{Human, parse_duration};
use layers::Layers;
pub use layers::{ConfigError, ENV_PREFIX, Origin, env_name};
pub use settings::{SETTINGS, Setting};
pub use values::parse_networks;
use values::{
    bounded, parse_address, parse_issuer, parse_otlp_endpoint, parse_prefix, parse_u32, read_kek,
    url_with_scheme,
};

pub use crate::crypto::Argon2Params;
use crate::crypto::Kek;
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Whether every request gets a log line. Off by default: a line per JWKS fetch costs more than
/// the fetch. Server errors and slow requests are logged either way (see `http::access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLog {
    Off,
    On,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Without a trailing slash, exactly as it appears in `iss`.
    pub issuer: String,
    pub listen: SocketAddr,
    /// Where `/metrics` is served, apart from everything else; `None`: on `listen`, as before.
    pub metrics_listen: Option<SocketAddr>,
    pub database_url: Secret<String>,
    pub database_max_connections: u32,
    pub redis_url: Secret<String>,
    pub redis_prefix: String,
    /// `None` only in demo mode, where a built-in demo key is used instead.
    pub key_encryption_key: Option<Kek>,
    pub key_rotation_period: Duration,
    pub key_prepublish: Duration,
    pub jwks_max_age: Duration,
    pub access_token_ttl: Duration,
    pub id_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub authorization_code_ttl: Duration,
    pub device_code_ttl: Duration,
    pub device_poll_interval: Duration,
    pub refresh_token_grace: Duration,
    /// How often the cleanup runs ([`crate::cleanup`]).
    pub cleanup_interval: Duration,
    /// How long ended refresh tokens and expired signing keys are kept before the cleanup.
    pub cleanup_grace: Duration,
    /// How long audit events are kept; `None` (configured as `0`): forever.
    pub audit_retention: Option<Duration>,
    pub session_idle_timeout: Duration,
    pub session_lifetime: Duration,
    /// How recently an administrator must have entered a second factor to change anything
    /// (ASVS 5.0 V6.4 step-up).
    pub admin_step_up: Duration,
    /// New browser sessions per client address and minute ([`crate::sessions::admission`]).
    pub new_sessions_per_minute: u32,
    pub argon2: Argon2Params,
    pub startup_timeout: Duration,
    pub log_format: LogFormat,
    pub access_log: AccessLog,
    /// Load balancers and ingress controllers in front of Portcullis: from these peers the
    /// client's address is read from `X-Forwarded-For` ([`crate::http`]'s `ClientAddr`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// After SIGTERM: readiness fails for this long while the listener still serves, so that load
    /// balancers stop sending new requests before it closes.
    pub drain_delay: Duration,
    /// Then: how long requests in flight may take before the process exits anyway.
    pub shutdown_timeout: Duration,
    /// The OpenTelemetry collector's base URL (OTLP over HTTP); `None`: no traces.
    pub otlp_endpoint: Option<url::Url>,
    /// Passkeys: allowed, required for administrators or for everyone, or off. Off (with a
    /// warning) when the issuer's host cannot be a relying party id (an IP address).
    pub passkeys: crate::passkeys::Policy,
    /// The WebAuthn relying party id: the issuer's host, or the parent domain configured.
    pub passkey_rp_id: String,
    /// The SMTP server's URL (it may hold a password); `None`: mails go to the log.
    pub smtp_url: Option<Secret<String>>,
    /// The sender of every mail.
    pub mail_from: lettre::message::Mailbox,
    /// How long the outbox keeps trying a mail ([`crate::outbox`]).
    pub mail_give_up_after: Duration,
    /// Who may make accounts besides administrators (`crate::users::signup`).
    pub signup: crate::users::signup::Mode,
    /// The email domains sign-up and member invitations accept; `None`: any.
    pub signup_domains: Option<crate::users::signup::Domains>,
    /// Started with `serve --demo`.
    pub demo: bool,
    /// Things worth logging once telemetry is up (unknown `PORTCULLIS_*` variables).
    pub warnings: Vec<String>,
}

impl Config {
    /// Reads the process environment and, if given, the TOML file at `file`.
    pub fn load(file: Option<&Path>, demo: bool) -> Result<Self, ConfigError> {
        Self::from_sources(file, std::env::vars(), demo)
    }

    /// Reads the given environment (name, value pairs) instead of the process's: tests use this.
    pub fn from_sources(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        demo: bool,
    ) -> Result<Self, ConfigError> {
        let defaults = SETTINGS.iter().map(|s| (s.key, s.default)).collect();
        let (layers, warnings) = Layers::read(file, env, defaults)?;
        let get_duration = |key: &str, min: Duration, max: Duration| {
            layers.get(key, |raw| bounded(parse_duration(raw)?, min, max))
        };
        let get_u32 =
            |key: &str, min: u32, max: u32| layers.get(key, |raw| parse_u32(raw, min, max));
        const SEC: Duration = Duration::from_secs(1);
        const DAY: Duration = Duration::from_secs(86_400);

        let mut warnings = warnings;
        let issuer = layers.get("issuer", |raw| parse_issuer(raw, demo))?;
        let mut passkeys = layers.get("passkeys", crate::passkeys::Policy::parse)?;
        let configured_rp_id = layers.get_opt("passkey_rp_id", |raw| Ok(raw.to_owned()))?;
        let passkey_rp_id = match crate::passkeys::rp_id_for(&issuer, configured_rp_id.as_deref()) {
            Ok(rp_id) => rp_id,
            Err(why) if configured_rp_id.is_some() => {
                return Err(layers.error("passkey_rp_id", why));
            }
            Err(why) => {
                // Said when passkeys were asked for; the default on a loopback IP stays quiet.
                if passkeys.enabled() && layers.raw("passkeys").is_some() {
                    warnings.push(format!("passkeys are off: {why}"));
                }
                passkeys = crate::passkeys::Policy::Off;
                String::new()
            }
        };
        let issuer_for_mail = issuer.clone();
        let config = Config {
            issuer,
            listen: layers.get("listen", parse_address)?,
            metrics_listen: layers.get_opt("metrics_listen", parse_address)?,
            database_url: layers.get("database_url", |raw| {
                url_with_scheme(raw, &["postgres", "postgresql"]).map(Secret::new)
            })?,
            database_max_connections: get_u32("database_max_connections", 1, 1000)?,
            redis_url: layers.get("redis_url", |raw| {
                url_with_scheme(raw, &["redis", "rediss"]).map(Secret::new)
            })?,
            redis_prefix: layers.get("redis_prefix", parse_prefix)?,
            key_encryption_key: read_kek(&layers)?,
            key_rotation_period: get_duration("key_rotation_period", SEC, 3650 * DAY)?,
            key_prepublish: get_duration("key_prepublish", SEC, 365 * DAY)?,
            jwks_max_age: get_duration("jwks_max_age", Duration::ZERO, 7 * DAY)?,
            access_token_ttl: get_duration("access_token_ttl", SEC, DAY)?,
            id_token_ttl: get_duration("id_token_ttl", SEC, DAY)?,
            refresh_token_ttl: get_duration("refresh_token_ttl", SEC, 365 * DAY)?,
            // RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
            authorization_code_ttl: get_duration("authorization_code_ttl", SEC, 600 * SEC)?,
            device_code_ttl: get_duration("device_code_ttl", SEC, DAY)?,
            device_poll_interval: get_duration("device_poll_interval", SEC, 60 * SEC)?,
            refresh_token_grace: get_duration("refresh_token_grace", Duration::ZERO, 60 * SEC)?,
            cleanup_interval: get_duration("cleanup_interval", SEC, 7 * DAY)?,
            cleanup_grace: get_duration("cleanup_grace", SEC, 3650 * DAY)?,
            audit_retention: layers.get("audit_retention", |raw| match raw.trim() {
                "0" => Ok(None),
                raw => bounded(parse_duration(raw)?, SEC, 36_500 * DAY).map(Some),
            })?,
            session_idle_timeout: get_duration("session_idle_timeout", SEC, DAY)?,
            session_lifetime: get_duration("session_lifetime", SEC, 30 * DAY)?,
            admin_step_up: get_duration("admin_step_up", SEC, DAY)?,
            new_sessions_per_minute: get_u32("new_sessions_per_minute", 1, 1_000_000)?,
            argon2: Argon2Params {
                // The OWASP minimum for argon2id: m=19 MiB, t=2, p=1.
                memory_kib: get_u32("argon2_memory_kib", 19_456, 4 * 1024 * 1024)?,
                iterations: get_u32("argon2_iterations", 2, 100)?,
                parallelism: get_u32("argon2_parallelism", 1, 16)?,
            },
            startup_timeout: get_duration("startup_timeout", Duration::ZERO, 3600 * SEC)?,
            log_format: layers.get("log_format", |raw| match raw {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err(format!("`{raw}` is not a log format; use text or json")),
            })?,
            access_log: layers.get("access_log", |raw| match raw {
                "off" => Ok(AccessLog::Off),
                "on" => Ok(AccessLog::On),
                _ => Err(format!("`{raw}` is not allowed; use off or on")),
            })?,
            trusted_proxies: layers
                .get_opt("trusted_proxies", parse_networks)?
                .unwrap_or_default(),
            drain_delay: get_duration("drain_delay", Duration::ZERO, 300 * SEC)?,
            shutdown_timeout: get_duration("shutdown_timeout", SEC, 600 * SEC)?,
            otlp_endpoint: layers.get_opt("otlp_endpoint", parse_otlp_endpoint)?,
            passkeys,
            passkey_rp_id,
            smtp_url: layers.get_opt("smtp_url", crate::mail::transport::parse_smtp_url)?,
            mail_from: match layers.get_opt("mail_from", crate::mail::transport::parse_from)? {
                Some(from) => from,
                None => crate::mail::transport::default_from(&issuer_for_mail),
            },
            mail_give_up_after: get_duration("mail_give_up_after", SEC, 30 * DAY)?,
            signup: layers.get("signup", crate::users::signup::Mode::parse)?,
            signup_domains: layers
                .get_opt("signup_domains", crate::users::signup::Domains::parse)?,
            demo,
            warnings,
        };
        config.check_relations(&layers)?;
        Ok(config)
    }

    /// Rules that tie settings together.
    fn check_relations(&self, layers: &Layers) -> Result<(), ConfigError> {
        // A verifier may cache the JWKS for max-age; a new key must have been published longer
        // than that before it signs, or the verifier would meet an unknown `kid`.
        if self.jwks_max_age > self.key_prepublish {
            return Err(layers.error(
                "jwks_max_age",
                format!(
                    "{} is longer than the pre-publish period ({}, PORTCULLIS_KEY_PREPUBLISH); it must be at most that",
                    Human(self.jwks_max_age),
                    Human(self.key_prepublish)
                ),
            ));
        }
        if self.key_prepublish >= self.key_rotation_period {
            return Err(layers.error(
                "key_prepublish",
                format!(
                    "{} is not shorter than the rotation period ({}, PORTCULLIS_KEY_ROTATION_PERIOD); it must be",
                    Human(self.key_prepublish),
                    Human(self.key_rotation_period)
                ),
            ));
        }
        // A token used moments ago may be presented again within the refresh grace; the cleanup
        // must not delete its family before that window has closed.
        if self.cleanup_grace < self.refresh_token_grace {
            return Err(layers.error(
                "cleanup_grace",
                format!(
                    "{} is shorter than the refresh-token grace ({}, PORTCULLIS_REFRESH_TOKEN_GRACE); it must be at least that",
                    Human(self.cleanup_grace),
                    Human(self.refresh_token_grace)
                ),
            ));
        }
        if self.key_encryption_key.is_none() && !self.demo {
            return Err(layers.error(
                "key_encryption_key",
                "is required (outside `serve --demo`): set PORTCULLIS_KEY_ENCRYPTION_KEY to the base64 \
                 of 32 random bytes (for example the output of `openssl rand -base64 32`), or \
                 PORTCULLIS_KEY_ENCRYPTION_KEY_FILE to a file that holds it",
            ));
        }
        Ok(())
    }

    /// The longest time a token signed now can stay valid: how long a retired key stays published.
    /// RPs commonly allow 60 s of clock skew on `exp`, so that is added too.
    pub fn longest_token_lifetime(&self) -> Duration {
        self.access_token_ttl.max(self.id_token_ttl) + Duration::from_secs(60)
    }

    /// The configured key-encryption key, or the built-in demo key in demo mode.
    pub fn kek(&self) -> Kek {
        match &self.key_encryption_key {
            Some(kek) => kek.clone(),
            None => Kek::demo(),
        }
    }
}
