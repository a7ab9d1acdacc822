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
}
