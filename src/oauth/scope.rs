//! Scopes (RFC 6749 §3.3): space-separated, order-insensitive sets of tokens.

/// The requested scopes that `allowed` permits, in the order requested, without duplicates.
pub fn grantable(requested: &str, allowed: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in requested.split_whitespace() {
        if allowed.iter().any(|a| a == scope) && !out.iter().any(|s| s == scope) {
            out.push(scope.to_owned());
        }
    }
    out
}

/// Whether every scope in `wanted` is in `granted` (a refresh may only narrow scope).
pub fn is_subset(wanted: &[String], granted: &[String]) -> bool {
    wanted.iter().all(|w| granted.contains(w))
}

/// The `granted` scopes that the client may still use (`allowed`), in their order.
pub fn still_allowed(granted: &[String], allowed: &[String]) -> Vec<String> {
    granted
        .iter()
        .filter(|s| allowed.contains(s))
        .cloned()
        .collect()
}

/// The scope of a refreshed access token (RFC 6749 §6): what was `asked` (or, if nothing, what
/// was `granted`), never more than was granted, and only what the client may still use. A scope
/// the client lost is dropped; if none of those asked for remains, `Err` says why
/// (`invalid_scope`).
pub fn refreshed(
    asked: Option<&[String]>,
    granted: &[String],
    allowed: &[String],
) -> Result<Vec<String>, &'static str> {
    let asked = asked.unwrap_or(granted);
    if !is_subset(asked, granted) {
        return Err("a refresh can only keep or narrow the scope");
    }
    let kept = still_allowed(asked, allowed);
    if kept.is_empty() {
        return Err("none of the scopes asked for is still allowed for this client");
    }
    Ok(kept)
}

/// The scopes as one space-separated string.
pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// What a scope lets an application do, in plain words, for the consent page.
pub fn describe(scope: &str) -> String {
    match scope {
        "openid" => "Know who you are (sign you in)".into(),
        "profile" => "See your name and username".into(),
        "email" => "See your email address".into(),
        "offline_access" => "Stay signed in and act for you while you are away".into(),
        "roles" => "See your roles".into(),
        "groups" => "See the groups you belong to".into(),
        other => format!("Use the permission “{other}”"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_scopes_are_granted_once_each() {
        let allowed = vec!["openid".to_owned(), "email".to_owned()];
        assert_eq!(
            grantable("email openid email admin", &allowed),
            vec!["email", "openid"]
        );
        assert!(grantable("admin", &allowed).is_empty());
        assert!(is_subset(&["email".into()], &allowed));
        assert!(!is_subset(&["profile".into()], &allowed));
    }

    #[test]
    fn a_refresh_keeps_what_was_asked_and_is_still_allowed() {
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let granted = s(&["openid", "email", "offline_access"]);
        let allowed = s(&["openid", "offline_access"]);
        assert_eq!(
            refreshed(None, &granted, &allowed).unwrap(),
            s(&["openid", "offline_access"])
        );
        assert_eq!(
            refreshed(Some(&s(&["openid"])), &granted, &granted).unwrap(),
            s(&["openid"])
        );
        assert!(refreshed(Some(&s(&["profile"])), &granted, &allowed).is_err());
        assert!(refreshed(Some(&s(&["email"])), &granted, &allowed).is_err());
    }
}
