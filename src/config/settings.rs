//! The list of settings: each one's file key, its default as it would be written, and one line
//! of help. [`Config::from_sources`](super::Config::from_sources) takes its defaults from here,
//! and a test checks that the README's configuration table names each setting with this default.

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
        "key_encryption_key_previous",
        "",
        "During a key-encryption key rotation: the key used before, to open what it sealed",
    ),
    s(
        "key_encryption_key_previous_file",
        "",
        "A file holding the previous key-encryption key (instead of the variable)",
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
        "cleanup_interval",
        "10m",
        "How often each replica runs the cleanup of ended tokens, expired keys and old audit events",
    ),
    s(
        "cleanup_grace",
        "1d",
        "How long used, revoked or expired refresh tokens and expired signing keys are kept",
    ),
    s(
        "audit_retention",
        "400d",
        "How long audit events are kept; 0 keeps them forever",
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
        "passkeys",
        "optional",
        "Passkeys: off, optional, required-for-admins (the admin console needs one) or required (every application sign-in needs one)",
    ),
    s(
        "passkey_rp_id",
        "",
        "The passkeys' relying party id: empty for the issuer's host, or a parent domain of it",
    ),
    s(
        "smtp_url",
        "",
        "SMTP server for mail: smtp://host:port (plain, a relay on loopback), smtp://user:password@host:587?tls=required (STARTTLS) or smtps://user:password@host:465; unset: mails are written to the log",
    ),
    s(
        "mail_from",
        "",
        "Sender of every mail, `Name <address>`; empty: `Portcullis <no-reply@ISSUER-HOST>`",
    ),
    s(
        "mail_give_up_after",
        "1d",
        "How long the outbox retries a mail the SMTP server does not take before it gives up (audited as mail.failed)",
    ),
    s(
        "signup",
        "off",
        "Self-registration: off (administrators create or invite accounts), invite (every signed-in person may invite others by address) or open (anyone may sign up at /signup)",
    ),
    s(
        "signup_domains",
        "",
        "Comma-separated email domains sign-up and member invitations accept (exact, any case); empty: any",
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
    s(
        "otlp_endpoint",
        "",
        "OpenTelemetry collector base URL (OTLP over HTTP, e.g. http://127.0.0.1:4318); traces are off when unset",
    ),
];

const fn s(key: &'static str, default: &'static str, help: &'static str) -> Setting {
    Setting { key, default, help }
}
