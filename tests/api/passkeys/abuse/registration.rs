//! Registering against the rules: one authenticator twice (the browser refuses when the options
//! exclude it; an answer replayed into a new ceremony, to this account or another, is refused by
//! the server: one account per credential id), a name over 64 characters, and more than
//! [`portcullis::passkeys::MAX_PER_USER`] passkeys, also when the limit is reached while the
//! ceremony runs.

use serde_json::Value;

use super::{Rig, add, b64, registration_options, says, stored, unb64};
use crate::signin::page;

/// `created` (a registration answer) moved to the ceremony of `options`: its client data names
/// the new challenge. With no attestation (`fmt: none`) nothing signs the client data of a
/// registration, so this is what anyone holding an old answer can send (WebAuthn L3 §8.7).
fn replayed(created: &Value, options: &Value) -> Value {
    let mut created = created.clone();
    let raw = unb64(created["response"]["clientDataJSON"].as_str().unwrap());
    let mut client_data: Value = serde_json::from_slice(&raw).unwrap();
    client_data["challenge"] = options["publicKey"]["challenge"].clone();
    created["response"]["clientDataJSON"] = b64(client_data.to_string().as_bytes()).into();
    created
}

/// Posts `created` and checks that the passkeys page then says `why`.
async fn refused(rig: &Rig, b: &reqwest::Client, created: &Value, why: &str) {
    let response = add(&rig.app, b, created).await;
    says(&rig.app, b, &response, why).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_authenticator_is_registered_once_to_one_account() {
    let rig = Rig::start().await;
    let (owner, b) = rig.signed_in("gwen", true).await;
    let first = rig.register(&b, "Laptop").await;

    // The options exclude it, and the authenticator that holds it declines to make another.
    let (status, options) = registration_options(&rig.app, &b, "Again").await;
    assert_eq!(status, 200);
    let excluded = options["publicKey"]["excludeCredentials"]
        .as_array()
        .unwrap();
    assert!(excluded.iter().any(|c| c["id"] == first["id"]), "{options}");
    let declined = rig.browser.create_credential(&options).await.unwrap_err();
    assert!(declined.starts_with("InvalidStateError"), "{declined}");

    // The first answer replayed into a new ceremony of the same account: the ceremony excludes
    // it (webauthn-rs 0.6 reports that as an algorithm not asked for, so the message is the
    // general one).
    let (_, options) = registration_options(&rig.app, &b, "Again").await;
    let why = "The passkey could not be added";
    refused(&rig, &b, &replayed(&first, &options), why).await;

    // And into another account's ceremony: the credential id belongs to the first account.
    let (thief, other) = rig.signed_in("hal", false).await;
    let (_, options) = registration_options(&rig.app, &other, "Mine").await;
    let why = "That passkey is already registered.";
    refused(&rig, &other, &replayed(&first, &options), why).await;

    assert_eq!(stored(&rig.app, Some(owner.id)).await, 1);
    assert_eq!(stored(&rig.app, Some(thief.id)).await, 0);
    rig.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_bounded_and_an_account_holds_at_most_twenty_passkeys() {
    let rig = Rig::start().await;
    let (user, b) = rig.signed_in("ivy", true).await;

    for name in [
        "x".repeat(65),
        "é".repeat(65),
        String::new(),
        "a\u{7}b".into(),
    ] {
        let (status, body) = registration_options(&rig.app, &b, &name).await;
        assert_eq!(status, 400, "{name:?}");
        let why = body["error"].as_str().unwrap();
        assert!(why.contains("1 to 64 characters"), "{why}");
    }
    rig.register(&b, &"é".repeat(64)).await;

    // Eighteen more, straight into the table: nineteen. A ceremony begins, and meanwhile the
    // twentieth arrives; its answer then finds the account full.
    fill(&rig, user.id, 18).await;
    let (status, options) = registration_options(&rig.app, &b, "Twenty-first").await;
    assert_eq!(status, 200, "{options}");
    fill(&rig, user.id, 1).await;
    // The authenticator forgets the passkey the options exclude, so it makes a new one.
    rig.browser.remove_all_credentials(&rig.authenticator).await;
    let created = rig.browser.create_credential(&options).await.unwrap();
    refused(
        &rig,
        &b,
        &created,
        "as many passkeys as an account may hold",
    )
    .await;
    assert_eq!(stored(&rig.app, Some(user.id)).await, 20);

    // Full: no ceremony begins, and the page says so.
    let (status, body) = registration_options(&rig.app, &b, "More").await;
    assert_eq!(status, 409, "{body}");
    let shown = page(&rig.app, &b, "/account/passkeys").await;
    assert!(
        shown.contains("holds as many passkeys as it may"),
        "{shown}"
    );
    rig.quit().await;
}

/// Adds `count` copies of `user_id`'s first passkey under new credential ids.
async fn fill(rig: &Rig, user_id: uuid::Uuid, count: i32) {
    sqlx::query(
        "insert into passkeys (id, user_id, credential_id, name, credential, backup_eligible) \
         select gen_random_uuid(), p.user_id, decode(md5(random()::text || n), 'hex'), \
                'Copy ' || n, p.credential, p.backup_eligible \
         from (select * from passkeys where user_id = $1 order by created_at limit 1) p, \
              generate_series(1, $2) n",
    )
    .bind(user_id)
    .bind(count)
    .execute(&rig.app.state.db)
    .await
    .unwrap();
}
