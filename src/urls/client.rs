//! URLs on a relying party's side: the redirect back to a client after authorization (RFC 6749
//! §4.1.2, §4.1.2.1) or sign-out (OpenID Connect RP-Initiated Logout 1.0 §3). The base is the
//! client's registered URI, taken as it is; the server's own values (`code`, `state`, `iss`,
//! `error`, ...) are appended as `application/x-www-form-urlencoded` query pairs (RFC 6749
//! §4.1.2 and Appendix B), so a `state` holding `&`, `#`, `=` or any other character comes back
//! to the client exactly as it was sent, and never adds a parameter or a fragment of its own.

/// `redirect_uri` with `params` appended to its query, keeping the query it already has
/// (RFC 6749 §3.1.2: "MUST retain" it).
///
/// Redirect URIs are checked to be absolute URLs when a client is registered, so parsing cannot
/// fail for one that matched; if it somehow did, the URI is returned unchanged rather than
/// with the parameters pasted on by hand.
pub fn client_redirect(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        // Unchanged: not even an empty `?` added.
        return redirect_uri.to_owned();
    }
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.into()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWKWARD: [&str; 8] = [
        "a&b=c",
        "x#frag",
        "=",
        "with space+plus",
        "grüße 東京 🙂",
        "100%25 %",
        "?iss=https://evil.example",
        "",
    ];

    fn pairs(url: &str) -> Vec<(String, String)> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn state_round_trips_whatever_it_holds() {
        for state in AWKWARD {
            let url = client_redirect(
                "https://app.example/cb",
                &[
                    ("code", "c0de"),
                    ("state", state),
                    ("iss", "https://idp.example"),
                ],
            );
            let parsed = url::Url::parse(&url).unwrap();
            assert_eq!(parsed.fragment(), None, "{url}");
            assert_eq!(
                pairs(&url),
                [
                    ("code".into(), "c0de".into()),
                    ("state".into(), state.to_owned()),
                    ("iss".into(), "https://idp.example".into()),
                ],
                "{state:?} as {url}"
            );
        }
    }

    #[test]
    fn the_registered_query_is_kept_and_nothing_added_without_params() {
        let url = client_redirect("https://app.example/cb?tenant=a%26b", &[("state", "s t")]);
        assert_eq!(url, "https://app.example/cb?tenant=a%26b&state=s+t");
        assert_eq!(
            client_redirect("https://app.example/cb", &[]),
            "https://app.example/cb"
        );
    }
}
