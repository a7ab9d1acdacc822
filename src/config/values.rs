//! How one setting's text becomes its typed value: whole numbers and durations within bounds, the
//! issuer URL (OIDC Discovery §3), store URLs, listen addresses, proxy networks, the Redis prefix
//! and the key-encryption key. Each parser answers a message saying what is allowed; the layers
//! put the setting's name in front of it.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;

use super::duration::Human;
use super::layers::{ConfigError, Layers};
use crate::crypto::Kek;

pub(super) fn bounded(value: Duration, min: Duration, max: Duration) -> Result<Duration, String> {
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

pub(super) fn parse_u32(raw: &str, min: u32, max: u32) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{raw}` is not allowed; write a whole number from {min} to {max}"
        )),
    }
}

pub(super) fn parse_issuer(raw: &str, demo: bool) -> Result<String, String> {
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

pub(super) fn url_with_scheme(raw: &str, schemes: &[&str]) -> Result<String, String> {
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

/// The longest collector URL accepted.
const MAX_OTLP_ENDPOINT: usize = 2048;

/// The collector's base URL: http or https, a host, no user info, query or fragment (the OTLP
/// exporter adds `/v1/traces`).
pub(super) fn parse_otlp_endpoint(raw: &str) -> Result<url::Url, String> {
    if raw.len() > MAX_OTLP_ENDPOINT {
        return Err(format!(
            "is {} characters long; at most {MAX_OTLP_ENDPOINT} are allowed",
            raw.len()
        ));
    }
    let shown = crate::secret::redact_url(raw);
    let url = url::Url::parse(raw).map_err(|e| {
        format!("`{shown}` is not an absolute URL ({e}); write it like http://127.0.0.1:4318")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "`{shown}` must be an http:// or https:// URL with a host, like http://127.0.0.1:4318"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{shown}` must not carry user info"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{shown}` must not have a query or fragment"));
    }
    Ok(url)
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

pub(super) fn parse_address(raw: &str) -> Result<SocketAddr, String> {
    raw.parse::<SocketAddr>().map_err(|_| {
        format!("`{raw}` is not an address; write ip:port, like 127.0.0.1:8080 or 0.0.0.0:8080")
    })
}

pub(super) fn parse_prefix(raw: &str) -> Result<String, String> {
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

/// The key-encryption key (`key_encryption_key` or `key_encryption_key_file`) and, during a
/// rotation, the previous one (`key_encryption_key_previous` or `..._previous_file`).
pub(super) fn read_kek(layers: &Layers) -> Result<Option<Kek>, ConfigError> {
    let current = read_key(layers, "key_encryption_key")?;
    let previous = read_key(layers, "key_encryption_key_previous")?;
    match (current, previous) {
        (None, None) => Ok(None),
        (Some(current), None) => Ok(Some(Kek::new(current))),
        (None, Some(_)) => Err(layers.error(
            "key_encryption_key_previous",
            "is set without PORTCULLIS_KEY_ENCRYPTION_KEY; the previous key only opens what it \
             sealed, so set the current key too",
        )),
        (Some(current), Some(previous)) if current == previous => Err(layers.error(
            "key_encryption_key_previous",
            "is the same key as PORTCULLIS_KEY_ENCRYPTION_KEY; set it to the key used before, or \
             remove it",
        )),
        (Some(current), Some(previous)) => Ok(Some(Kek::new(current).with_previous(previous))),
    }
}

/// One 32-byte key, given inline as `setting` or in the file named by `setting` + `_file`.
fn read_key(layers: &Layers, setting: &str) -> Result<Option<[u8; 32]>, ConfigError> {
    let decode = |raw: &str| -> Result<[u8; 32], String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .map_err(|_| KEK_FORMAT.to_owned())?;
        bytes.try_into().map_err(|_| KEK_FORMAT.to_owned())
    };
    let file_setting = format!("{setting}_file");
    let inline = layers.get_opt(setting, decode)?;
    let from_file = layers.get_opt(&file_setting, |path| {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
        decode(&text).map_err(|e| format!("the content of `{path}` {e}"))
    })?;
    match (inline, from_file) {
        (Some(_), Some(_)) => Err(layers.error(
            &file_setting,
            format!(
                "is set together with {}; set only one of them",
                super::env_name(setting)
            ),
        )),
        (inline, file) => Ok(inline.or(file)),
    }
}
