//! Redirect URIs at request time: exact string matching against the registered values
//! (RFC 9700 §4.1.3), with one exception: a public (native) client registered with an http
//! loopback IP address may use any port (RFC 8252 §7.3), since the OS picks it at run time.
//! The redirect itself is built by [`crate::urls::client_redirect`].

use crate::clients::RedirectUri;

/// Whether `requested` may be used for a client that registered `registered`.
pub fn matches(registered: &[RedirectUri], requested: &str, public_client: bool) -> bool {
    registered
        .iter()
        .map(RedirectUri::as_str)
        .any(|r| r == requested || (public_client && loopback_equal_but_port(r, requested)))
}

fn loopback_equal_but_port(registered: &str, requested: &str) -> bool {
    let (Ok(mut a), Ok(mut b)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    let loopback_ip = matches!(a.host_str(), Some("127.0.0.1" | "[::1]"));
    if a.scheme() != "http" || !loopback_ip {
        return false;
    }
    let (_, _) = (a.set_port(None), b.set_port(None));
    a == b && !requested.contains('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(uris: &[&str]) -> Vec<RedirectUri> {
        uris.iter()
            .map(|u| RedirectUri::parse(u).unwrap())
            .collect()
    }

    #[test]
    fn matching_is_exact() {
        let r = reg(&["https://app.example.com/cb"]);
        assert!(matches(&r, "https://app.example.com/cb", false));
        for other in [
            "https://app.example.com/cb/",
            "https://app.example.com/CB",
            "https://app.example.com/cb?x=1",
            "https://app.example.com:443/cb?",
            "https://evil.example.com/cb",
        ] {
            assert!(!matches(&r, other, true), "{other}");
        }
    }

    #[test]
    fn loopback_ports_may_change_for_public_clients_only() {
        let r = reg(&["http://127.0.0.1/callback", "http://[::1]:8000/cb"]);
        assert!(matches(&r, "http://127.0.0.1:51004/callback", true));
        assert!(matches(&r, "http://[::1]:9/cb", true));
        assert!(
            !matches(&r, "http://127.0.0.1:51004/callback", false),
            "confidential clients match exactly"
        );
        assert!(!matches(&r, "http://127.0.0.1:51004/other", true));
        assert!(
            !matches(
                &reg(&["http://localhost/cb"]),
                "http://localhost:9/cb",
                true
            ),
            "IP literals only"
        );
    }
}
