//! Discovery and the JWKS, as a relying party sees them.

use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{ClientId, IssuerUrl, Nonce};
use portcullis::keys::Alg;

use crate::helpers::TestApp;

#[tokio::test]
async fn discovery_advertises_what_exists_and_nothing_else() {
    let app = TestApp::spawn().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        let doc: serde_json::Value = response.json().await.unwrap();
        assert_eq!(doc["issuer"], app.address.as_str());
        assert_eq!(doc["jwks_uri"], app.url("/jwks.json").as_str());
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256", "ES256"])
        );
        let advertised: Vec<&String> = doc
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.ends_with("_endpoint"))
            .collect();
        assert_eq!(advertised.len(), 7, "{advertised:?}");
        assert_eq!(
            doc["grant_types_supported"],
            serde_json::json!([
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code"
            ])
        );
        // Every advertised URL exists (answers something other than 404).
        for key in [
            "jwks_uri",
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "end_session_endpoint",
        ] {
            let status = app
                .http
                .get(doc[key].as_str().unwrap())
                .send()
                .await
                .unwrap()
                .status();
            assert_ne!(status, 404, "{key}");
        }
    }
}

#[tokio::test]
async fn the_jwks_has_public_keys_only_with_kid_alg_and_use() {
    let app = TestApp::spawn().await;
    let jwks = app.get_json("/jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    // An active and a next key for each algorithm.
    assert_eq!(keys.len(), 4, "{jwks}");
    for alg in ["RS256", "ES256"] {
        assert_eq!(keys.iter().filter(|k| k["alg"] == alg).count(), 2);
    }
    for key in keys {
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} in {key}"
            );
        }
    }
    // A relying-party library accepts the document.
    let parsed: CoreJsonWebKeySet = serde_json::from_value(jwks).unwrap();
    assert_eq!(parsed.keys().len(), 4);
}

#[tokio::test]
async fn the_jwks_is_cacheable_and_revalidates_with_its_etag() {
    let app = TestApp::spawn().await;
    let first = app.get("/jwks.json").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let cache = first.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        cache, "public, max-age=900",
        "default max-age is 15m, within the 1d pre-publish period"
    );
    let body = first.bytes().await.unwrap();

    let again = app
        .http
        .get(app.url("/jwks.json"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());

    let stale = app
        .http
        .get(app.url("/jwks.json"))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    assert_eq!(
        stale.bytes().await.unwrap(),
        body,
        "the same bytes until the keys change"
    );
}

#[tokio::test]
async fn an_id_token_from_the_key_ring_verifies_with_openidconnect_and_the_served_jwks() {
    let app = TestApp::spawn().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (alg, rp_alg) in [
        (Alg::RS256, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256),
        (Alg::ES256, CoreJwsSigningAlgorithm::EcdsaP256Sha256),
    ] {
        let claims = serde_json::json!({
            "iss": app.address, "sub": "user-1", "aud": ["rp"], "iat": now, "exp": now + 300, "nonce": "n-0S6_WzA2Mj",
        });
        let payload =
            josekit::jwt::JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
        let signed = app.state.keys.sign(alg, "JWT", &payload).unwrap();

        let jwks: CoreJsonWebKeySet = app.get("/jwks.json").await.json().await.unwrap();
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new("rp".into()),
            IssuerUrl::new(app.address.clone()).unwrap(),
            jwks,
        )
        .set_allowed_algs(vec![rp_alg.clone()]);
        let token: CoreIdToken = signed.token.parse().unwrap();
        let claims = token
            .claims(&verifier, &Nonce::new("n-0S6_WzA2Mj".into()))
            .expect("verifies");
        assert_eq!(claims.subject().as_str(), "user-1");
        // A token from another issuer is refused.
        let other = CoreIdTokenVerifier::new_public_client(
            ClientId::new("rp".into()),
            IssuerUrl::new("https://elsewhere.example".into()).unwrap(),
            app.get("/jwks.json").await.json().await.unwrap(),
        )
        .set_allowed_algs(vec![rp_alg.clone()]);
        assert!(
            token
                .claims(&other, &Nonce::new("n-0S6_WzA2Mj".into()))
                .is_err()
        );
    }
}
