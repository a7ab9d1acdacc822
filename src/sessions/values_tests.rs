use std::collections::HashSet;
use std::sync::Arc;

use tower_sessions::{MemoryStore, Session};

use super::*;

fn session() -> TypedSession {
    TypedSession(Session::new(None, Arc::new(MemoryStore::default()), None))
}

#[test]
fn no_two_values_share_a_key() {
    let distinct: HashSet<&str> = key::ALL.into_iter().collect();
    assert_eq!(distinct.len(), key::ALL.len());
}

#[tokio::test]
async fn one_time_values_are_gone_once_taken() {
    let s = session();
    s.set_flash("wrong code").await.unwrap();
    s.set_admin_notice("saved").await.unwrap();
    assert_eq!(s.take_flash().await.unwrap().as_deref(), Some("wrong code"));
    assert_eq!(s.take_flash().await.unwrap(), None);
    // Each message has its own key: taking one leaves the others.
    assert_eq!(s.take_account_notice().await.unwrap(), None);
    assert_eq!(s.take_admin_problem().await.unwrap(), None);
    assert_eq!(
        s.take_admin_notice().await.unwrap().as_deref(),
        Some("saved")
    );
}

#[tokio::test]
async fn values_keep_the_names_and_shapes_sessions_already_hold() {
    let s = session();
    s.set_new_recovery_codes(&["a".into(), "b".into()])
        .await
        .unwrap();
    s.set_return_to("/admin/users").await.unwrap();
    let raw: Option<Vec<String>> = s.0.get("recovery_codes").await.unwrap();
    assert_eq!(raw, Some(vec!["a".into(), "b".into()]));
    let raw: Option<String> = s.0.get("return_to").await.unwrap();
    assert_eq!(raw.as_deref(), Some("/admin/users"));
}

#[tokio::test]
async fn a_new_secret_shows_only_on_its_clients_page() {
    let s = session();
    s.set_new_client_secret("c1", "s3cret").await.unwrap();
    assert_eq!(s.take_new_client_secret("c2").await.unwrap(), None);
    // Taken (and dropped) by the other client's page: not shown later either.
    assert_eq!(s.take_new_client_secret("c1").await.unwrap(), None);
    s.set_new_client_secret("c1", "s3cret").await.unwrap();
    assert_eq!(
        s.take_new_client_secret("c1").await.unwrap().as_deref(),
        Some("s3cret")
    );
}

#[tokio::test]
async fn a_pending_totp_stays_until_cleared_and_after_logout_can_be_forgotten() {
    let s = session();
    s.set_pending_totp("sealed").await.unwrap();
    assert_eq!(s.pending_totp().await.unwrap().as_deref(), Some("sealed"));
    assert_eq!(s.pending_totp().await.unwrap().as_deref(), Some("sealed"));
    s.clear_pending_totp().await.unwrap();
    assert_eq!(s.pending_totp().await.unwrap(), None);

    let after = AfterLogout {
        uri: "https://rp.example/bye".into(),
        state: Some("xyz".into()),
    };
    s.set_after_logout(Some(&after)).await.unwrap();
    s.set_after_logout(None).await.unwrap();
    assert_eq!(s.take_after_logout().await.unwrap(), None);
    s.set_after_logout(Some(&after)).await.unwrap();
    assert_eq!(s.take_after_logout().await.unwrap(), Some(after));
}
