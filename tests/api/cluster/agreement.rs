//! Replicas agree: what one replica starts, another continues; what one refuses, all refuse; and
//! every replica's tokens verify with every replica's JWKS across key rotations.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::load::CachingVerifier;
use super::{Cluster, Options};
use crate::admin::api::call;
use crate::helpers::{Server, location, query_param};
use crate::machines::client_credentials;
use crate::signin::{authorize_query, browser, onwards, password_step, redeem, submit, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_goes_from_replica_to_replica_and_its_tokens_obey_every_replica() {
    let cluster = Cluster::start(Options::default()).await;
    let (a, b, c) = (
        cluster.replica("a"),
        cluster.replica("b"),
        cluster.replica("c"),
    );
    let user = cluster.control.user("alice", true).await;
    let rp = cluster.control.client("Notes", false, false).await;
    let browser = browser();

    // The password on A, the second factor on B, consent on C: one session throughout.
    let response = browser
        .get(a.url("/authorize"))
        .query(&authorize_query(&rp, "openid offline_access"))
        .send()
        .await
        .unwrap();
    let login = location(&response);
    assert!(login.starts_with("/login?request="), "{login}");
    let response = crate::signin::password_step_at(a, &browser, &user, &login).await;
    let mfa = location(&response);
    assert!(mfa.starts_with("/login/mfa?request="), "{mfa}");
    let response = submit(b, &browser, &mfa, &[("code", &user.code())]).await;
    let back = onwards(c, &browser, response).await;
    assert!(back.starts_with(&rp.redirect_uri), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-123"));
    let code = query_param(&back, "code").unwrap();

    // C issued the code; B redeems it (and A will refuse it the second time, below).
    let response = redeem(b, &rp, &code).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    let issuer = cluster.balancer.base();
    let id_token = crate::signin::payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        id_token["iss"], issuer,
        "every replica speaks as the issuer"
    );

    // A rotates the refresh token; the old one is a replay on C, which revokes the family, so
    // the new one is refused on B as well.
    let old = tokens["refresh_token"].as_str().unwrap();
    let refresh = |token| [("grant_type", "refresh_token"), ("refresh_token", token)];
    let (status, rotated) = token(a, &rp, &refresh(old)).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["refresh_token"].as_str().unwrap();
    let (status, replay) = token(c, &rp, &refresh(old)).await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, after) = token(b, &rp, &refresh(new)).await;
    assert_eq!(
        (status, after["error"].as_str()),
        (400, Some("invalid_grant")),
        "the family is revoked"
    );
    assert_eq!(
        redeem(a, &rp, &code).await.status(),
        400,
        "codes are single-use"
    );

    // The session continues on every replica, through the balancer too.
    let everywhere = [a.base(), b.base(), c.base(), cluster.balancer.base()];
    for base in everywhere {
        let account = browser.get(format!("{base}/account")).send().await.unwrap();
        assert_eq!(account.status(), 200, "signed in at {base}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_client_or_user_is_refused_by_every_replica_within_a_second() {
    let cluster = Cluster::start(Options::default()).await;
    let service = cluster.control.service("Worker", &["jobs"], &[]).await;
    let user = cluster.control.user("bob", false).await;
    let automation = cluster.control.service("Automation", &["admin"], &[]).await;
    let (status, body) = token(
        &cluster.balancer,
        &automation,
        &[("grant_type", "client_credentials"), ("scope", "admin")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let admin = body["access_token"].as_str().unwrap().to_owned();
    // Every replica has the client cached and a session for the person.
    let browser = browser();
    let response = password_step(cluster.replica("a"), &browser, &user).await;
    assert_eq!(location(&response), "/account");
    for replica in &cluster.replicas {
        assert_eq!(client_credentials(replica, &service, &[]).await.0, 200);
        let account = browser.get(replica.url("/account")).send().await.unwrap();
        assert_eq!(account.status(), 200);
    }

    // Disabled through the admin API on A: every replica refuses within a second.
    let a = cluster.replica("a");
    let path = format!("/clients/{}/enabled", service.id);
    let off = Some(json!({ "enabled": false }));
    assert_eq!(call(a, &admin, Method::PUT, &path, off).await.0, 204);
    let path = format!("/users/{}/disabled", user.id);
    let on = Some(json!({ "value": true }));
    assert_eq!(call(a, &admin, Method::PUT, &path, on).await.0, 204);
    let disabled = Instant::now();
    let mut refused = BTreeSet::new();
    while refused.len() < cluster.replicas.len() {
        assert!(
            disabled.elapsed() < Duration::from_secs(1),
            "not refused within a second by every replica; refused by {refused:?}"
        );
        for replica in &cluster.replicas {
            let (status, body) = client_credentials(replica, &service, &[]).await;
            let account = browser.get(replica.url("/account")).send().await.unwrap();
            if status == 401 && body["error"] == "invalid_client" && account.status() == 303 {
                refused.insert(replica.name);
            }
        }
    }
    // The person cannot sign in again on any replica.
    for replica in &cluster.replicas {
        let response = password_step(replica, &crate::signin::browser(), &user).await;
        assert_eq!(location(&response), "/login", "back to the sign-in page");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_key_rotations_every_replica_serves_one_jwks_and_a_caching_verifier_never_fails() {
    // A key signs for 2 s and is published 1 s before; verifiers may cache the JWKS for 1 s.
    let cluster = Cluster::start(Options {
        settings: vec![
            ("PORTCULLIS_KEY_ROTATION_PERIOD", "2s"),
            ("PORTCULLIS_KEY_PREPUBLISH", "1s"),
            ("PORTCULLIS_JWKS_MAX_AGE", "1s"),
            ("PORTCULLIS_ACCESS_TOKEN_TTL", "3s"),
            ("PORTCULLIS_ID_TOKEN_TTL", "3s"),
        ],
        ..Options::default()
    })
    .await;
    let service = cluster.control.service("Worker", &["jobs"], &[]).await;
    let mut verifiers: Vec<CachingVerifier> = (0..3).map(|_| CachingVerifier::new()).collect();
    let mut kids = BTreeSet::new();
    let (mut verified, mut disagreements) = (0, 0);
    let started = Instant::now();
    let mut round = 0usize;
    while started.elapsed() < Duration::from_secs(9) {
        // A token from each replica in turn, checked by three verifiers that fetched their JWKS
        // from different replicas at different times.
        let issuer = &cluster.replicas[round % 3];
        let (status, body) = client_credentials(issuer, &service, &[]).await;
        assert_eq!(status, 200, "{body}");
        let access = body["access_token"].as_str().unwrap();
        for (i, verifier) in verifiers.iter_mut().enumerate() {
            let from = &cluster.replicas[(round + i) % 3];
            match verifier.verify(from, access).await {
                Ok(kid) => {
                    kids.insert(kid);
                    verified += 1;
                }
                Err(e) => panic!("a token from {} failed verification: {e}", issuer.name),
            }
        }
        // Every replica publishes the same keys (allowing a moment for a rotation to propagate).
        if round.is_multiple_of(4) && !same_jwks(&cluster).await {
            disagreements += 1;
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(
                same_jwks(&cluster).await,
                "replicas disagree on the JWKS for 300 ms"
            );
        }
        round += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(kids.len() >= 4, "several rotations happened: {kids:?}");
    println!(
        "key rotation: {round} tokens, {verified} verifications, {} signing keys seen, {} JWKS fetches, {disagreements} momentary JWKS differences",
        kids.len(),
        verifiers.iter().map(|v| v.fetches).sum::<u32>()
    );
}

/// Whether the three replicas publish the same set of key ids right now.
async fn same_jwks(cluster: &Cluster) -> bool {
    let mut sets = Vec::new();
    for replica in &cluster.replicas {
        let jwks = replica.fetch_json("/jwks.json").await;
        let kids: BTreeSet<String> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        sets.push(kids);
    }
    sets.windows(2).all(|w| w[0] == w[1])
}
