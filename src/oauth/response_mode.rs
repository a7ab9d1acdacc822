//! How the authorization response reaches the client (OAuth 2.0 Multiple Response Type Encoding
//! Practices §2.1). Portcullis serves the code flow only and answers in the query of the
//! redirect URI, the default for `response_type=code`; every authorization response (a code or
//! an error) is built by [`ResponseMode::location`], and discovery advertises exactly
//! [`ResponseMode::SUPPORTED`] (`response_modes_supported`, OIDC Discovery §3). A
//! `response_mode` parameter is not read: the answer is in the query whatever it says.

/// A response mode that is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// The parameters are added to the query of the redirect URI (RFC 6749 §4.1.2).
    Query,
}

impl ResponseMode {
    pub const SUPPORTED: [ResponseMode; 1] = [ResponseMode::Query];

    /// The mode every authorization response is sent in.
    pub const SERVED: ResponseMode = ResponseMode::Query;

    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
        }
    }

    pub fn parse(raw: &str) -> Option<ResponseMode> {
        ResponseMode::SUPPORTED
            .into_iter()
            .find(|m| m.as_str() == raw)
    }

    /// Where the browser is sent with `params` for the client at `redirect_uri`.
    pub fn location(self, redirect_uri: &str, params: &[(&str, &str)]) -> String {
        match self {
            ResponseMode::Query => crate::urls::client_redirect(redirect_uri, params),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_query_mode_is_known_and_it_puts_parameters_in_the_query() {
        assert_eq!(ResponseMode::parse("query"), Some(ResponseMode::Query));
        for unknown in ["fragment", "form_post", "", "QUERY", &"q".repeat(5000)] {
            assert_eq!(ResponseMode::parse(unknown), None, "{unknown}");
        }
        let location = ResponseMode::Query.location("https://app.example/cb?a=1", &[("code", "c")]);
        let url = url::Url::parse(&location).unwrap();
        assert_eq!(url.query(), Some("a=1&code=c"));
        assert_eq!(url.fragment(), None);
    }
}
