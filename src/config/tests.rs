//! Config validation: defaults, layering, and an error that names the setting for each bad value.

use super::*;

const KEK: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // base64 of 32 bytes

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all = vec![("PORTCULLIS_KEY_ENCRYPTION_KEY".to_owned(), KEK.to_owned())];
    all.extend(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    all
}

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_sources(None, env(pairs), false)
}

fn error_for(pairs: &[(&str, &str)]) -> String {
    load(pairs).expect_err("should be refused").to_string()
}

#[test]
fn defaults_work_on_this_machine() {
    let c = load(&[]).unwrap();
    assert_eq!(c.issuer, "http://127.0.0.1:8080");
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        c.database_url.expose(),
        "postgres://postgres@127.0.0.1:5432/portcullis"
    );
    assert_eq!(c.redis_url.expose(), "redis://127.0.0.1:6379");
    assert_eq!(c.redis_prefix, "portcullis:");
    assert_eq!(c.key_rotation_period, Duration::from_secs(30 * 86400));
    assert_eq!(
        c.argon2,
        Argon2Params {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1
        }
    );
    assert!(c.jwks_max_age <= c.key_prepublish);
    assert_eq!(
        c.access_log,
        AccessLog::Off,
        "no line per request by default"
    );
}

#[test]
fn environment_variables_set_values() {
    let c = load(&[
        ("PORTCULLIS_ISSUER", "https://id.example.com/"),
        ("PORTCULLIS_KEY_ROTATION_PERIOD", "7d"),
        ("PORTCULLIS_ACCESS_TOKEN_TTL", "90s"),
        ("PORTCULLIS_REDIS_PREFIX", "test:abc:"),
        ("PORTCULLIS_ACCESS_LOG", "on"),
    ])
    .unwrap();
    assert_eq!(c.access_log, AccessLog::On);
    assert_eq!(c.issuer, "https://id.example.com", "trailing slash removed");
    assert_eq!(c.key_rotation_period, Duration::from_secs(7 * 86400));
    assert_eq!(c.access_token_ttl, Duration::from_secs(90));
    assert_eq!(c.redis_prefix, "test:abc:");
}

#[test]
fn each_bad_value_names_its_setting_and_what_is_allowed() {
    let cases: &[(&str, &str, &str)] = &[
        ("PORTCULLIS_LISTEN", "nowhere", "ip:port"),
        ("PORTCULLIS_ISSUER", "http://id.example.com", "https"),
        ("PORTCULLIS_ISSUER", "not a url", "absolute URL"),
        ("PORTCULLIS_ISSUER", "https://id.example.com/?x=1", "query"),
        (
            "PORTCULLIS_DATABASE_URL",
            "mysql://localhost/db",
            "postgres://",
        ),
        ("PORTCULLIS_REDIS_URL", "http://localhost", "redis://"),
        ("PORTCULLIS_REDIS_PREFIX", "has space", "letters"),
        ("PORTCULLIS_KEY_ROTATION_PERIOD", "soon", "like 90s"),
        ("PORTCULLIS_ACCESS_TOKEN_TTL", "0s", "out of range"),
        ("PORTCULLIS_AUTHORIZATION_CODE_TTL", "11m", "out of range"),
        ("PORTCULLIS_ARGON2_MEMORY_KIB", "1024", "19456"),
        ("PORTCULLIS_ARGON2_ITERATIONS", "one", "whole number"),
        ("PORTCULLIS_LOG_FORMAT", "xml", "text or json"),
        ("PORTCULLIS_ACCESS_LOG", "yes", "off or on"),
        ("PORTCULLIS_KEY_ENCRYPTION_KEY", "c2hvcnQ=", "32 bytes"),
        ("PORTCULLIS_OTLP_ENDPOINT", "127.0.0.1:4318", "http://"),
        (
            "PORTCULLIS_OTLP_ENDPOINT",
            "grpc://127.0.0.1:4317",
            "http://",
        ),
        (
            "PORTCULLIS_OTLP_ENDPOINT",
            "http://u:p@collector:4318",
            "user info",
        ),
        (
            "PORTCULLIS_OTLP_ENDPOINT",
            "http://collector:4318/?a=b",
            "query",
        ),
    ];
    for (name, value, allowed) in cases {
        let message = error_for(&[(name, value)]);
        assert!(message.contains(name), "{name}={value}: {message}");
        assert!(message.contains(allowed), "{name}={value}: {message}");
    }
}

#[test]
fn the_key_encryption_key_is_required_outside_demo_mode_and_never_shown() {
    let err = Config::from_sources(None, Vec::new(), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("PORTCULLIS_KEY_ENCRYPTION_KEY"), "{err}");
    let demo = Config::from_sources(None, Vec::new(), true).unwrap();
    assert!(demo.key_encryption_key.is_none());
    let c = load(&[]).unwrap();
    assert!(!format!("{c:?}").contains(KEK));
    // A wrong key is refused without echoing it.
    let secret_looking = "bm90IGEgdmFsaWQga2V5IGJ1dCBzZWNyZXQ=";
    let message = error_for(&[("PORTCULLIS_KEY_ENCRYPTION_KEY", secret_looking)]);
    assert!(!message.contains(secret_looking), "{message}");
}

#[test]
fn the_key_encryption_key_can_come_from_a_file_but_not_both() {
    let dir = std::env::temp_dir().join(format!("portcullis-kek-{}", uuid::Uuid::new_v4()));
    std::fs::write(&dir, format!("{KEK}\n")).unwrap();
    let path = dir.to_string_lossy().to_string();
    let only_file = vec![(
        "PORTCULLIS_KEY_ENCRYPTION_KEY_FILE".to_owned(),
        path.clone(),
    )];
    let c = Config::from_sources(None, only_file, false).unwrap();
    assert_eq!(
        c.kek().id(),
        Kek::new(*b"0123456789abcdef0123456789abcdef").id()
    );
    let both = error_for(&[("PORTCULLIS_KEY_ENCRYPTION_KEY_FILE", &path)]);
    assert!(both.contains("only one"), "{both}");
    let missing = error_for(&[("PORTCULLIS_KEY_ENCRYPTION_KEY_FILE", "/nonexistent/kek")]);
    assert!(missing.contains("cannot read"), "{missing}");
    std::fs::remove_file(dir).unwrap();
}

#[test]
fn the_previous_key_encryption_key_opens_what_it_sealed_and_is_checked() {
    const OLD: &str = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXowMTIzNDU="; // another 32 bytes
    let old = Kek::new(*b"abcdefghijklmnopqrstuvwxyz012345");
    let c = load(&[("PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS", OLD)]).unwrap();
    let kek = c.kek();
    assert_eq!(
        kek.id(),
        Kek::new(*b"0123456789abcdef0123456789abcdef").id()
    );
    assert_eq!(kek.previous_id(), Some(old.id()));
    assert!(!format!("{c:?}").contains(OLD));
    let sealed = old.seal(b"secret").unwrap();
    assert_eq!(kek.open(&sealed).unwrap().expose(), b"secret");

    // From a file, like the current key.
    let file = std::env::temp_dir().join(format!("portcullis-kek-{}", uuid::Uuid::new_v4()));
    std::fs::write(&file, format!("{OLD}\n")).unwrap();
    let path = file.to_string_lossy().to_string();
    let c = load(&[("PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS_FILE", &path)]).unwrap();
    assert_eq!(c.kek().previous_id(), Some(old.id()));
    let both = error_for(&[
        ("PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS", OLD),
        ("PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS_FILE", &path),
    ]);
    assert!(
        both.contains("PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS_FILE") && both.contains("only one"),
        "{both}"
    );
    std::fs::remove_file(file).unwrap();

    let same = error_for(&[("PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS", KEK)]);
    assert!(same.contains("the same key"), "{same}");
    let bad = error_for(&[("PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS", "c2hvcnQ=")]);
    assert!(
        bad.contains("PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS") && bad.contains("32 bytes"),
        "{bad}"
    );
    let alone = vec![(
        "PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS".to_owned(),
        OLD.to_owned(),
    )];
    let alone = Config::from_sources(None, alone, true)
        .unwrap_err()
        .to_string();
    assert!(
        alone.contains("without PORTCULLIS_KEY_ENCRYPTION_KEY"),
        "{alone}"
    );
}

#[test]
fn the_jwks_may_not_be_cached_longer_than_the_prepublish_period() {
    let err = error_for(&[
        ("PORTCULLIS_JWKS_MAX_AGE", "2h"),
        ("PORTCULLIS_KEY_PREPUBLISH", "1h"),
    ]);
    assert!(
        err.contains("PORTCULLIS_JWKS_MAX_AGE") && err.contains("PORTCULLIS_KEY_PREPUBLISH"),
        "{err}"
    );
    let err = error_for(&[
        ("PORTCULLIS_KEY_PREPUBLISH", "30d"),
        ("PORTCULLIS_KEY_ROTATION_PERIOD", "30d"),
    ]);
    assert!(err.contains("PORTCULLIS_KEY_PREPUBLISH"), "{err}");
}

#[test]
fn a_toml_file_is_read_and_the_environment_overrides_it() {
    let path = std::env::temp_dir().join(format!("portcullis-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, "issuer = \"https://file.example.com\"\njwks_max_age = \"5m\"\ndatabase_max_connections = 4\n").unwrap();
    let c = Config::from_sources(
        Some(&path),
        env(&[("PORTCULLIS_JWKS_MAX_AGE", "1m")]),
        false,
    )
    .unwrap();
    assert_eq!(c.issuer, "https://file.example.com");
    assert_eq!(c.jwks_max_age, Duration::from_secs(60));
    assert_eq!(c.database_max_connections, 4);

    std::fs::write(&path, "isuer = \"https://typo.example.com\"\n").unwrap();
    let err = Config::from_sources(Some(&path), env(&[]), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown setting `isuer`"), "{err}");

    std::fs::write(&path, "key_rotation_period = \"forever\"\n").unwrap();
    let err = Config::from_sources(Some(&path), env(&[]), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`key_rotation_period`") && err.contains(&path.display().to_string()),
        "{err}"
    );

    std::fs::write(&path, "not toml at all [").unwrap();
    let err = Config::from_sources(Some(&path), env(&[]), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not valid TOML"), "{err}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn unknown_environment_variables_are_warnings_not_errors() {
    // Kubernetes injects PORTCULLIS_PORT=tcp://... for a Service named portcullis.
    let c = load(&[("PORTCULLIS_PORT", "tcp://10.0.0.1:8080")]).unwrap();
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].contains("PORTCULLIS_PORT"));
}

#[test]
fn the_readme_documents_every_setting_with_its_default() {
    let readme = include_str!("../../README.md");
    for setting in SETTINGS {
        let name = env_name(setting.key);
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .unwrap_or_else(|| panic!("{name} missing"));
        if !setting.default.is_empty() {
            assert!(
                row.contains(&format!("`{}`", setting.default)),
                "{name}: {row}"
            );
        }
    }
}

#[test]
fn trusted_proxies_are_networks_or_addresses() {
    let c = load(&[(
        "PORTCULLIS_TRUSTED_PROXIES",
        "10.0.0.0/8, 192.168.1.7,fd00::/8",
    )])
    .unwrap();
    assert_eq!(c.trusted_proxies.len(), 3);
    assert!(
        load(&[]).unwrap().trusted_proxies.is_empty(),
        "none by default"
    );
    let e = load(&[("PORTCULLIS_TRUSTED_PROXIES", "10.0.0.0/8 nonsense")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("PORTCULLIS_TRUSTED_PROXIES") && e.contains("`nonsense`"),
        "{e}"
    );
}

#[test]
fn cleanup_settings_have_defaults_and_refuse_what_cannot_work() {
    let c = load(&[]).unwrap();
    assert_eq!(c.cleanup_interval, Duration::from_secs(600));
    assert_eq!(c.cleanup_grace, Duration::from_secs(86_400));
    assert_eq!(c.audit_retention, Some(Duration::from_secs(400 * 86_400)));
    let c = load(&[
        ("PORTCULLIS_AUDIT_RETENTION", "0"),
        ("PORTCULLIS_CLEANUP_GRACE", "2s"),
        ("PORTCULLIS_CLEANUP_INTERVAL", "1s"),
    ])
    .unwrap();
    assert_eq!(c.audit_retention, None, "0 keeps audit events forever");
    assert_eq!(c.cleanup_grace, Duration::from_secs(2));
    for (name, value, allowed) in [
        ("PORTCULLIS_CLEANUP_INTERVAL", "0s", "allowed: 1s to 7d"),
        ("PORTCULLIS_CLEANUP_INTERVAL", "often", "not a duration"),
        ("PORTCULLIS_CLEANUP_GRACE", "0s", "allowed: 1s"),
        ("PORTCULLIS_AUDIT_RETENTION", "forever", "not a duration"),
        ("PORTCULLIS_AUDIT_RETENTION", "-1d", "not a duration"),
    ] {
        let message = error_for(&[(name, value)]);
        assert!(
            message.contains(name) && message.contains(allowed),
            "{name}={value}: {message}"
        );
    }
    let err = error_for(&[
        ("PORTCULLIS_CLEANUP_GRACE", "5s"),
        ("PORTCULLIS_REFRESH_TOKEN_GRACE", "30s"),
    ]);
    assert!(
        err.contains("PORTCULLIS_CLEANUP_GRACE") && err.contains("PORTCULLIS_REFRESH_TOKEN_GRACE"),
        "{err}"
    );
}

#[test]
fn the_otlp_endpoint_is_off_by_default_and_a_bounded_url() {
    assert_eq!(load(&[]).unwrap().otlp_endpoint, None);
    let c = load(&[("PORTCULLIS_OTLP_ENDPOINT", "http://127.0.0.1:4318")]).unwrap();
    assert_eq!(
        c.otlp_endpoint.map(|u| u.to_string()),
        Some("http://127.0.0.1:4318/".to_owned())
    );
    let long = format!("http://collector:4318/{}", "a".repeat(2100));
    let message = error_for(&[("PORTCULLIS_OTLP_ENDPOINT", &long)]);
    assert!(message.contains("PORTCULLIS_OTLP_ENDPOINT"), "{message}");
    assert!(message.contains("at most 2048"), "{message}");
    assert!(
        !message.contains(&long),
        "the value is not echoed: {message}"
    );
}

#[test]
fn passkeys_follow_the_issuers_host_and_a_bad_rp_id_is_named() {
    // An IP address cannot be a relying party id: off, quietly by default, with a warning that
    // says why when passkeys were asked for.
    let c = load(&[]).unwrap();
    assert_eq!(c.passkeys, crate::passkeys::Policy::Off);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let c = load(&[("PORTCULLIS_PASSKEYS", "required")]).unwrap();
    assert_eq!(c.passkeys, crate::passkeys::Policy::Off);
    assert!(
        c.warnings.iter().any(|w| w.contains("passkeys are off")),
        "{:?}",
        c.warnings
    );
    let c = load(&[("PORTCULLIS_ISSUER", "https://id.example.com")]).unwrap();
    assert_eq!(c.passkeys, crate::passkeys::Policy::Optional);
    assert_eq!(c.passkey_rp_id, "id.example.com");
    let c = load(&[
        ("PORTCULLIS_ISSUER", "https://id.example.com"),
        ("PORTCULLIS_PASSKEY_RP_ID", "example.com"),
        ("PORTCULLIS_PASSKEYS", "required-for-admins"),
    ])
    .unwrap();
    assert_eq!(c.passkey_rp_id, "example.com");
    assert_eq!(c.passkeys, crate::passkeys::Policy::RequiredForAdmins);
    let e = error_for(&[
        ("PORTCULLIS_ISSUER", "https://id.example.com"),
        ("PORTCULLIS_PASSKEY_RP_ID", "example.org"),
    ]);
    assert!(
        e.contains("PORTCULLIS_PASSKEY_RP_ID") && e.contains("parent domain"),
        "{e}"
    );
    let e = error_for(&[("PORTCULLIS_PASSKEYS", "sometimes")]);
    assert!(
        e.contains("PORTCULLIS_PASSKEYS") && e.contains("required-for-admins"),
        "{e}"
    );
    // Off by choice: no warning about the host.
    let c = load(&[("PORTCULLIS_PASSKEYS", "off")]).unwrap();
    assert!(!c.warnings.iter().any(|w| w.contains("passkeys")));
}

#[test]
fn mail_settings_are_checked_and_name_the_setting() {
    let c = load(&[]).unwrap();
    assert!(c.smtp_url.is_none(), "no SMTP by default: the log");
    assert_eq!(
        c.mail_from.to_string(),
        "Portcullis <no-reply@localhost>",
        "an IP issuer has no host name for the sender"
    );
    let c = load(&[
        (
            "PORTCULLIS_SMTP_URL",
            "smtps://u:p%40ss@mail.example.com:465",
        ),
        ("PORTCULLIS_MAIL_FROM", "Example ID <id@example.com>"),
        ("PORTCULLIS_MAIL_GIVE_UP_AFTER", "2h"),
    ])
    .unwrap();
    assert!(c.smtp_url.is_some());
    assert_eq!(c.mail_from.email.to_string(), "id@example.com");
    assert_eq!(c.mail_give_up_after, Duration::from_secs(7200));
    for (name, value) in [
        ("PORTCULLIS_SMTP_URL", "http://mail.example.com"),
        (
            "PORTCULLIS_SMTP_URL",
            "smtp://mail.example.com?tls=sometimes",
        ),
        ("PORTCULLIS_MAIL_FROM", "not an address"),
        (
            "PORTCULLIS_MAIL_FROM",
            "Eve <eve@example.com>\r\nBcc: x@example.com",
        ),
        ("PORTCULLIS_MAIL_GIVE_UP_AFTER", "0s"),
    ] {
        let e = load(&[(name, value)]).unwrap_err().to_string();
        assert!(e.contains(name), "{name}={value}: {e}");
    }
    // The password of an SMTP URL never appears in an error.
    let e = load(&[("PORTCULLIS_SMTP_URL", "ftp://u:hunter2@mail.example.com")])
        .unwrap_err()
        .to_string();
    assert!(!e.contains("hunter2"), "{e}");
}

#[test]
fn signup_is_off_by_default_and_its_settings_are_checked() {
    use crate::users::signup::{Domains, Mode};
    let c = load(&[]).unwrap();
    assert_eq!(c.signup, Mode::Off);
    assert_eq!(c.signup_domains, None);
    let c = load(&[
        ("PORTCULLIS_SIGNUP", "invite"),
        ("PORTCULLIS_SIGNUP_DOMAINS", "Example.com, example.org"),
    ])
    .unwrap();
    assert_eq!(c.signup, Mode::Invite);
    assert_eq!(
        c.signup_domains,
        Domains::parse("example.com,example.org").ok()
    );
    assert_eq!(
        load(&[("PORTCULLIS_SIGNUP", "open")]).unwrap().signup,
        Mode::Open
    );
    for (name, value) in [
        ("PORTCULLIS_SIGNUP", "yes"),
        ("PORTCULLIS_SIGNUP", "Open"),
        ("PORTCULLIS_SIGNUP_DOMAINS", "example.com, @example.org"),
        ("PORTCULLIS_SIGNUP_DOMAINS", "localhost"),
        ("PORTCULLIS_SIGNUP_DOMAINS", ","),
    ] {
        let e = load(&[(name, value)]).unwrap_err().to_string();
        assert!(e.contains(name), "{name}={value}: {e}");
    }
}
