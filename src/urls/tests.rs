use super::*;

fn path(segments: &[&str]) -> String {
    segments
        .iter()
        .fold(Href::root(), |h, s| h.seg(s))
        .to_string()
}

/// What a browser makes of `href` on this server: the segments it would request, decoded.
fn resolved(href: &str) -> Vec<String> {
    let url = url::Url::parse("https://idp.example/admin/page")
        .and_then(|base| base.join(href))
        .unwrap();
    url.path_segments()
        .unwrap()
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .unwrap()
                .into_owned()
        })
        .collect()
}

#[test]
fn every_segment_stays_one_segment_and_decodes_to_itself() {
    for value in [
        "x/../../users/1/grant-admin",
        "a?b=c",
        "a#frag",
        "100%",
        "%2F",
        "ops/eu",
        "grüße 東京",
        "a b+c",
        "\\..\\",
        "..x",
        "",
    ] {
        let href = path(&["admin", "roles", value, "delete"]);
        assert_eq!(
            resolved(&href),
            ["admin", "roles", value, "delete"],
            "{value} as {href}"
        );
        assert!(!href.contains('?') && !href.contains('#'), "{href}");
    }
}

#[test]
fn known_characters_are_encoded_as_rfc_3986_says() {
    assert_eq!(
        path(&["a/b", "c?d", "e#f", "g%h"]),
        "/a%2Fb/c%3Fd/e%23f/g%25h"
    );
    assert_eq!(path(&["ü"]), "/%C3%BC");
    assert_eq!(path(&["a-b_c.d~e"]), "/a-b_c.d~e");
}

#[test]
fn dot_segments_are_never_written_literally() {
    assert_eq!(path(&["admin", ".."]), "/admin/%2E%2E");
    assert_eq!(path(&["."]), "/%2E");
}

#[test]
fn queries_are_form_encoded_and_absolute_urls_use_the_issuer() {
    let href = admin::users().query(&[("q", "a&b=c d"), ("page", "2")]);
    assert_eq!(href.as_str(), "/admin/users?q=a%26b%3Dc+d&page=2");
    assert_eq!(Href::root().as_str(), "/");
    assert_eq!(
        account::overview().absolute("https://idp.example/"),
        "https://idp.example/account"
    );
}

#[test]
fn the_attack_path_stays_inside_the_keys_page() {
    let kid = "x/../../users/00000000-0000-0000-0000-000000000000/grant-admin";
    let href = admin::key_action(&crate::admin::actions::KeyAction::Revoke(kid.into()));
    assert_eq!(
        resolved(href.as_str()),
        ["admin", "keys", &format!("revoke-{kid}")]
    );
}

#[test]
fn pages_continue_their_request_and_the_device_uris_are_absolute() {
    let raw = format!("abcDEF123_-{}", "x".repeat(32));
    let id = crate::sessions::pending::RequestId::parse(&raw).unwrap();
    assert_eq!(
        login::password().continuing(Some(&id)).to_string(),
        format!("/login?request={raw}")
    );
    assert_eq!(login::consent().continuing(None).as_str(), "/consent");
    assert_eq!(
        device::enter_code("BCDF-GHJK").absolute("https://idp.example"),
        "https://idp.example/device?user_code=BCDF-GHJK"
    );
    assert_eq!(device::done(true).as_str(), "/device/done?approved=1");
    assert_eq!(stylesheet().as_str(), paths::STYLESHEET);
}
