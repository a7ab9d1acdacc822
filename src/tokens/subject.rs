//! Subject identifiers (OIDC Core §8). Portcullis gives a person the same `sub` at every client
//! (the `public` type): their user id. The builders in [`super`] take the `sub` of an ID token,
//! userinfo and a person's access token from [`SubjectType::SERVED`], and discovery advertises
//! exactly [`SubjectType::SUPPORTED`] (`subject_types_supported`, OIDC Discovery §3).

use uuid::Uuid;

/// A subject identifier type that is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectType {
    /// The same `sub` for every client (OIDC Core §8).
    Public,
}

impl SubjectType {
    pub const SUPPORTED: [SubjectType; 1] = [SubjectType::Public];

    /// The type every token's `sub` is of.
    pub const SERVED: SubjectType = SubjectType::Public;

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::Public => "public",
        }
    }

    pub fn parse(raw: &str) -> Option<SubjectType> {
        SubjectType::SUPPORTED
            .into_iter()
            .find(|t| t.as_str() == raw)
    }

    /// The `sub` of the person `user_id`.
    pub fn subject(self, user_id: Uuid) -> String {
        match self {
            SubjectType::Public => user_id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_subject_is_the_user_id() {
        let id = Uuid::now_v7();
        assert_eq!(SubjectType::Public.subject(id), id.to_string());
        assert_eq!(SubjectType::parse("public"), Some(SubjectType::Public));
        for unknown in ["pairwise", "", "Public", &"p".repeat(5000)] {
            assert_eq!(SubjectType::parse(unknown), None, "{unknown}");
        }
    }
}
