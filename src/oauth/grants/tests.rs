//! Unit tests of the dispatch: the grant type must be known and allowed for the client.

use super::testing::{Fake, Signing, client, code, request};
use super::*;

#[tokio::test]
async fn an_unknown_grant_type_is_unsupported() {
    let signing = Signing::new();
    let app = client(&["client_credentials"], &["read"]);
    for grant_type in ["password", "implicit", "Client_Credentials"] {
        let request = request(&[("grant_type", grant_type)]);
        let result = exchange(&signing.issuer(), &Fake::default(), &app, &request).await;
        assert_eq!(
            code(result),
            ErrorCode::UnsupportedGrantType,
            "{grant_type}"
        );
    }
    let result = exchange(&signing.issuer(), &Fake::default(), &app, &request(&[])).await;
    assert_eq!(code(result), ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn a_grant_the_client_may_not_use_is_refused_before_it_runs() {
    let signing = Signing::new();
    let app = client(&["authorization_code"], &["read"]);
    let request = request(&[("grant_type", "client_credentials")]);
    let result = exchange(&signing.issuer(), &Fake::default(), &app, &request).await;
    assert_eq!(code(result), ErrorCode::UnauthorizedClient);
    let request = super::testing::request(&[("grant_type", "client_credentials")]);
    let app = client(&["client_credentials"], &["read"]);
    let response = exchange(&signing.issuer(), &Fake::default(), &app, &request).await;
    assert_eq!(response.unwrap().scope.to_string(), "read");
}
