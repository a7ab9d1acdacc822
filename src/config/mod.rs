//! One typed [`Config`], read once at start from built-in defaults, an optional TOML file
//! (`--config`) and `PORTCULLIS_*` environment variables, in that order, and validated before
//! anything else happens. A bad value is a [`ConfigError`] that names the setting and says what is
//! allowed; the binary exits with status 2 on it. The config is passed down, never global.

pub mod duration;
pub mod layers;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;

pub use duration::{Human, parse_duration};
use layers::Layers;
pub use layers::{ConfigError, ENV_PREFIX, Origin, env_name};

pub use crate::crypto::Argon2Params;
use crate::crypto::Kek;
use crate::secret::Secret;

/// A setting: its file key (the environment variable is `PORTCULLIS_` + the key in capitals), its
/// default as it would be written, and one line for the README and `--help`.
pub struct Setting {
    pub key: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Every setting Portcullis reads. The README's configuration table lists the same.
pub const SETTINGS: &[Setting] = &[
    s(
        "issuer",
        "http://127.0.0.1:8080",
        "Public base URL; https, or http on a loopback host",
    ),
    s("listen", "127.0.0.1:8080", "Address and port to listen on"),
    s(
        "metrics_listen",
        "",
        "Address and port for /metrics alone; when set, /metrics is not on the public listener",
    ),
    s(
        "database_url",
        "postgres://postgres@127.0.0.1:5432/portcullis",
        "PostgreSQL URL; the database is created if missing",
    ),
    s("database_max_connections", "10", "PostgreSQL pool size"),
    s(
        "redis_url",
        "redis://127.0.0.1:6379",
        "Redis URL (redis:// or rediss://)",
    ),
    s(
        "redis_prefix",
        "portcullis:",
        "Prefix of every Redis key, so deployments can share one Redis",
    ),
    s(
        "key_encryption_key",
        "",
        "Base64 of 32 random bytes; encrypts private keys and TOTP secrets at rest",
    ),
    s(
        "key_encryption_key_file",
        "",
        "A file holding the key-encryption key (instead of the variable)",
    ),
    s(
        "key_rotation_period",
        "30d",
        "How long each signing key signs",
    ),
    s(
        "key_prepublish",
        "1d",
        "How long a new key is in the JWKS before it signs",
    ),
    s(
        "jwks_max_age",
        "15m",
        "Cache-Control max-age of the JWKS; at most the pre-publish period",
    ),
    s("access_token_ttl", "10m", "Access token lifetime"),
    s("id_token_ttl", "10m", "ID token lifetime"),
    s("refresh_token_ttl", "30d", "Refresh token lifetime"),
    s(
        "authorization_code_ttl",
        "60s",
        "Authorization code lifetime (at most 10m)",
    ),
    s(
        "device_code_ttl",
        "10m",
        "How long a device flow's codes stay valid",
    ),
    s(
        "device_poll_interval",
        "5s",
        "The polling interval devices are told to keep (RFC 8628)",
    ),
    s(
        "refresh_token_grace",
        "0s",
        "How long a just-rotated refresh token may be used again",
    ),
    s(
        "session_idle_timeout",
        "30m",
        "A browser session ends after this long without requests",
    ),
    s(
        "session_lifetime",
        "12h",
        "A browser session ends this long after sign-in, active or not",
    ),
    s(
        "admin_step_up",
        "10m",
        "Admin changes need a second factor entered this recently; older, it is asked again",
    ),
    s(
        "new_sessions_per_minute",
        "120",
        "New browser sessions one client address may start in a minute (raise it for many people behind one NAT address)",
    ),
    s(
        "argon2_memory_kib",
        "19456",
        "argon2id memory cost in KiB (at least 19456)",
    ),
    s("argon2_iterations", "2", "argon2id time cost (at least 2)"),
    s("argon2_parallelism", "1", "argon2id lanes (1 to 16)"),
    s(
        "startup_timeout",
        "30s",
        "How long to retry PostgreSQL and Redis at start",
    ),
    s("log_format", "text", "Log format: text or json"),
    s(
        "access_log",
        "off",
        "One log line per request: off or on (errors and slow requests are logged either way)",
    ),
    s(
        "trusted_proxies",
        "",
        "Addresses (CIDR) of proxies whose X-Forwarded-For is believed",
    ),
    s(
        "drain_delay",
        "5s",
        "After SIGTERM, how long /readyz fails while requests are still served",
    ),
    s(
        "shutdown_timeout",
        "25s",
        "After the drain delay, how long requests in flight may take to finish",
    ),
];

const fn s(key: &'static str, default: &'static str, help: &'static str) -> Setting {
    Setting { key, default, help }
}

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

        let config = Config {
            issuer: layers.get("issuer", |raw| parse_issuer(raw, demo))?,
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

fn bounded(value: Duration, min: Duration, max: Duration) -> Result<Duration, String> {
    if value < min || value > max {
        return Err(format!(
            "{} is out of range; allowed: {} to {}",
            Human(value),
            Human(min),
            Human(max)
        ));
    }
    Ok(value)
}

fn parse_u32(raw: &str, min: u32, max: u32) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{raw}` is not allowed; write a whole number from {min} to {max}"
        )),
    }
}

fn parse_issuer(raw: &str, demo: bool) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| {
        format!("`{raw}` is not an absolute URL ({e}); write it like https://id.example.com")
    })?;
    // OIDC Discovery §3: the issuer is an https URL with no query or fragment.
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "`{raw}` must not have a query, fragment or user info"
        ));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback || demo => {}
        "http" => {
            return Err(format!(
                "`{raw}` must use https (http is allowed only on a loopback host or with --demo)"
            ));
        }
        other => return Err(format!("`{raw}` has scheme `{other}`; use https")),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn url_with_scheme(raw: &str, schemes: &[&str]) -> Result<String, String> {
    let shown = crate::secret::redact_url(raw);
    let url = url::Url::parse(raw).map_err(|e| format!("`{shown}` is not a URL ({e})"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!(
            "`{shown}` must start with {}",
            schemes
                .iter()
                .map(|s| format!("{s}://"))
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    Ok(raw.to_owned())
}

/// `10.0.0.0/8, 192.168.1.7, fd00::/8`: networks, or single addresses.
pub fn parse_networks(raw: &str) -> Result<Vec<ipnet::IpNet>, String> {
    raw.split([',', ' '])
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    format!("`{part}` is not an address or a network; write it like 10.0.0.0/8 or 192.168.1.7")
                })
        })
        .collect()
}

fn parse_address(raw: &str) -> Result<SocketAddr, String> {
    raw.parse::<SocketAddr>().map_err(|_| {
        format!("`{raw}` is not an address; write ip:port, like 127.0.0.1:8080 or 0.0.0.0:8080")
    })
}

fn parse_prefix(raw: &str) -> Result<String, String> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":_-.".contains(&b));
    if !ok {
        return Err(format!(
            "`{raw}` is not allowed; use 1 to 64 letters, digits and : _ - ."
        ));
    }
    Ok(raw.to_owned())
}

const KEK_FORMAT: &str =
    "must be the base64 of exactly 32 bytes (for example `openssl rand -base64 32`)";

fn read_kek(layers: &Layers) -> Result<Option<Kek>, ConfigError> {
    let decode = |raw: &str| -> Result<Kek, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .map_err(|_| KEK_FORMAT.to_owned())?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KEK_FORMAT.to_owned())?;
        Ok(Kek::new(bytes))
    };
    let inline = layers.get_opt("key_encryption_key", decode)?;
    let from_file = layers.get_opt("key_encryption_key_file", |path| {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
        decode(&text).map_err(|e| format!("the content of `{path}` {e}"))
    })?;
    match (inline, from_file) {
        (Some(_), Some(_)) => Err(layers.error(
            "key_encryption_key_file",
            "is set together with PORTCULLIS_KEY_ENCRYPTION_KEY; set only one of them",
        )),
        (inline, file) => Ok(inline.or(file)),
    }
}
