//! Unit tests of scope tokens, scope lists and the rules that narrow them.

use super::*;

fn scopes(list: &[Scope]) -> Scopes {
    Scopes::from(list.to_vec())
}

#[test]
fn only_allowed_scopes_are_granted_once_each() {
    let allowed = scopes(&[Scope::OPENID, Scope::EMAIL]);
    assert_eq!(
        grantable("email openid email admin", &allowed),
        scopes(&[Scope::EMAIL, Scope::OPENID])
    );
    assert!(grantable(Scope::ADMIN.as_str(), &allowed).is_empty());
    // A token that is no scope at all is left out like any other the client may not have.
    assert_eq!(
        grantable("openid a\"b \u{7f}", &allowed),
        scopes(&[Scope::OPENID])
    );
    assert!(is_subset(&[Scope::EMAIL], &allowed));
    assert!(!is_subset(&[Scope::PROFILE], &allowed));
}

#[test]
fn a_refresh_keeps_what_was_asked_and_is_still_allowed() {
    let granted = scopes(&[Scope::OPENID, Scope::EMAIL, Scope::OFFLINE_ACCESS]);
    let allowed = scopes(&[Scope::OPENID, Scope::OFFLINE_ACCESS]);
    assert_eq!(
        refreshed(None, &granted, &allowed).unwrap(),
        scopes(&[Scope::OPENID, Scope::OFFLINE_ACCESS])
    );
    assert_eq!(
        refreshed(Some(&[Scope::OPENID]), &granted, &granted).unwrap(),
        scopes(&[Scope::OPENID])
    );
    assert!(refreshed(Some(&[Scope::PROFILE]), &granted, &allowed).is_err());
    assert!(refreshed(Some(&[Scope::EMAIL]), &granted, &allowed).is_err());
}

#[test]
fn scope_tokens_follow_rfc_6749() {
    for good in ["openid", "a:b/c", "!#[]~"] {
        assert_eq!(Scope::parse(good).unwrap().as_str(), good);
    }
    for bad in ["", "a b", "a\"b", "a\\b", "é", "a\u{0}"] {
        assert!(Scope::parse(bad).is_err(), "{bad}");
    }
    let longest = "s".repeat(crate::limits::SCOPE_TOKEN);
    assert!(Scope::parse(&longest).is_ok());
    let oversized = Scope::parse(&format!("{longest}s")).unwrap_err();
    assert!(
        !oversized.contains(&longest),
        "an oversized value is not echoed"
    );
    // The constants are valid tokens, and a parsed token equals its constant.
    for known in Scope::SUPPORTED.into_iter().chain([Scope::ADMIN]) {
        assert_eq!(Scope::parse(known.as_str()), Ok(known));
    }
}

#[test]
fn a_scope_parameter_parses_into_its_tokens() {
    let parsed = Scopes::parse("  openid\temail  openid ").unwrap();
    assert_eq!(
        parsed,
        scopes(&[Scope::OPENID, Scope::EMAIL, Scope::OPENID])
    );
    assert!(Scopes::parse("").unwrap().is_empty());
    assert!(Scopes::parse("openid a\"b").is_err());
    let oversized = "s".repeat(crate::limits::SCOPE_TOKEN + 1);
    assert!(Scopes::parse(&format!("openid {oversized}")).is_err());
    assert!(Scopes::parse_all(&["openid", "a b"]).is_err());
    assert_eq!(
        Scopes::parse_all(&["openid", "email"]).unwrap(),
        scopes(&[Scope::OPENID, Scope::EMAIL])
    );
}

#[test]
fn scopes_print_space_separated_and_serialize_as_strings() {
    let default = scopes(&Scope::CLIENT_DEFAULT);
    assert_eq!(default.to_string(), "openid profile email offline_access");
    let json = serde_json::json!(["openid", "profile", "email", "offline_access"]);
    assert_eq!(serde_json::to_value(&default).unwrap(), json);
    assert_eq!(serde_json::from_value::<Scopes>(json).unwrap(), default);
    assert!(default.contains(&Scope::EMAIL) && !default.contains(&Scope::ROLES));
    // A stored value that is not a scope does not decode.
    assert!(serde_json::from_value::<Scopes>(serde_json::json!(["a b"])).is_err());
    assert!(serde_json::from_value::<Scope>(serde_json::json!("")).is_err());

    #[derive(Serialize)]
    struct Wire {
        #[serde(serialize_with = "space_separated")]
        scope: Scopes,
        #[serde(serialize_with = "space_separated_option")]
        maybe: Option<Scopes>,
        #[serde(serialize_with = "space_separated_option")]
        none: Option<Scopes>,
    }
    let wire = Wire {
        scope: default.clone(),
        maybe: Some(scopes(&[Scope::OPENID])),
        none: None,
    };
    assert_eq!(
        serde_json::to_value(wire).unwrap(),
        serde_json::json!({
            "scope": "openid profile email offline_access",
            "maybe": "openid",
            "none": null,
        })
    );
}

#[test]
fn known_scopes_are_described_in_words() {
    assert_eq!(Scope::EMAIL.describe(), "See your email address");
    let other = Scope::parse("read:mail").unwrap();
    assert_eq!(other.describe(), "Use the permission “read:mail”");
}
