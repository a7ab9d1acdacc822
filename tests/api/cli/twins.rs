//! The commands that have an admin-page twin do what the page does: the same effects on a
//! running server (sessions end, refresh tokens stop, a disabled client or revoked key is refused
//! at once) and the same audit event, told apart only by its actor (`cli`).

use std::time::Duration;

use serde_json::Value;

use super::Cli;
use crate::admin::admin_browser;
use crate::helpers::{Settings, TestApp, eventually, query_param};
use crate::machines::client_credentials;
use crate::signin::{authorize, browser, redeem, sign_in, submit_from, token};

/// A running server, and the CLI against its database and Redis.
async fn app_and_cli() -> (TestApp, Cli) {
    let settings = Settings::new().await;
    let (db, kek) = (settings.db.clone(), settings.kek.clone());
    let app = settings.spawn().await;
    let port = app.port();
    let cli = Cli {
        env: Settings::replica(&db, &kek).env(port),
        db,
        kek,
    };
    (app, cli)
}

/// The latest audit event named `event`: (actor, target, details).
async fn latest(app: &TestApp, event: &str) -> (String, String, Value) {
    sqlx::query_as(
        "select actor, coalesce(target, ''), details from audit_events where event = $1 \
         order by id desc limit 1",
    )
    .bind(event)
    .fetch_one(&app.state.db)
    .await
    .unwrap_or_else(|e| panic!("an audit event {event}: {e}"))
}

/// The page's event and the command's are the same but for the actor: the same name, a target
/// of the same kind, the same details.
fn same_event(page: &(String, String, Value), cli: &(String, String, Value), targets: [&str; 2]) {
    assert!(page.0.starts_with("user:"), "{page:?}");
    assert_eq!(cli.0, "cli");
    assert_eq!((page.1.as_str(), cli.1.as_str()), (targets[0], targets[1]));
    assert_eq!(page.2, cli.2);
}

/// Posts an admin page's confirmation form (the page is its own form's source).
async fn confirm(app: &TestApp, admin: &reqwest::Client, path: &str) {
    let response = submit_from(app, admin, path, path, &[]).await;
    assert_eq!(response.status(), 303, "POST {path}");
}

#[tokio::test]
async fn disabling_a_user_from_the_cli_ends_sessions_and_tokens_like_the_admin_page() {
    let (app, cli) = app_and_cli().await;
    let (admin, _) = admin_browser(&app).await;
    let alice = app.user("alice", false).await;
    let theirs = browser();
    sign_in(&app, &theirs, &alice).await;
    let client = app.client("App", false, true).await;
    let back = authorize(&app, &theirs, &client, &alice, "openid offline_access").await;
    let issued: Value = redeem(&app, &client, &query_param(&back, "code").unwrap())
        .await
        .json()
        .await
        .unwrap();
    let refresh = issued["refresh_token"].as_str().unwrap();
    let account = theirs.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), 200);

    let out = cli.run(&["user", "disable", "alice", "--json"], None).await;
    assert_eq!(out.json()["disabled"], "alice");

    let account = theirs.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), 303, "the session ended");
    let refreshed = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let (status, body) = token(&app, &client, &refreshed).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let access = issued["access_token"].as_str().unwrap();
    let (status, _) = crate::token_access::userinfo(&app, access).await;
    assert_eq!(status, 401, "the access token is refused");
    let by_cli = latest(&app, "user.disabled").await;

    let bob = app.user("bob", false).await;
    confirm(&app, &admin, &format!("/admin/users/{}/disable", bob.id)).await;
    let by_page = latest(&app, "user.disabled").await;
    same_event(
        &by_page,
        &by_cli,
        [&bob.id.to_string(), &alice.id.to_string()],
    );
}

#[tokio::test]
async fn resetting_mfa_from_the_cli_is_the_admin_pages_reset() {
    let (app, cli) = app_and_cli().await;
    let (admin, _) = admin_browser(&app).await;
    let carol = app.user("carol", true).await;
    let dave = app.user("dave", true).await;
    let out = cli
        .run(&["user", "reset-mfa", "CAROL", "--json"], None)
        .await;
    assert_eq!(out.json()["mfa_reset"], "CAROL");
    let enrolled: bool =
        sqlx::query_scalar("select totp_secret_sealed is not null from users where id = $1")
            .bind(carol.id)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(!enrolled);
    let by_cli = latest(&app, "mfa.reset").await;
    confirm(&app, &admin, &format!("/admin/users/{}/reset-mfa", dave.id)).await;
    let by_page = latest(&app, "mfa.reset").await;
    same_event(
        &by_page,
        &by_cli,
        [&dave.id.to_string(), &carol.id.to_string()],
    );

    let nobody = cli.run(&["user", "reset-mfa", "nobody"], None).await;
    assert_eq!(nobody.status, 1);
    assert!(
        nobody.stderr.contains("no user named `nobody`"),
        "{}",
        nobody.stderr
    );
}

#[tokio::test]
async fn client_and_key_commands_act_on_a_running_server_like_the_admin_pages() {
    let (app, cli) = app_and_cli().await;
    let (admin, _) = admin_browser(&app).await;

    // A new secret works at once and the old one no longer does.
    let worker = app.service("Worker", &["reports"], &[]).await;
    assert_eq!(client_credentials(&app, &worker, &[]).await.0, 200);
    let rotated = cli
        .run(&["client", "rotate-secret", &worker.id, "--json"], None)
        .await
        .json();
    eventually(
        Duration::from_secs(5),
        "the old secret is refused",
        || async { (client_credentials(&app, &worker, &[]).await.0 == 401).then_some(()) },
    )
    .await;
    let renewed = crate::helpers::TestClient {
        id: worker.id.clone(),
        secret: rotated["client_secret"].as_str().map(str::to_owned),
        redirect_uri: String::new(),
    };
    assert_eq!(client_credentials(&app, &renewed, &[]).await.0, 200);
    let by_cli = latest(&app, "client.secret_rotated").await;
    let other = app.service("Other", &["reports"], &[]).await;
    confirm(
        &app,
        &admin,
        &format!("/admin/clients/{}/rotate-secret", other.id),
    )
    .await;
    let by_page = latest(&app, "client.secret_rotated").await;
    same_event(&by_page, &by_cli, [&other.id, &worker.id]);

    // A disabled client is refused by the running server within moments (it is told over Redis).
    cli.run(&["client", "disable", &worker.id], None)
        .await
        .json_ok();
    eventually(Duration::from_secs(5), "the client is refused", || async {
        (client_credentials(&app, &renewed, &[]).await.0 == 401).then_some(())
    })
    .await;
    let by_cli = latest(&app, "client.disabled").await;
    confirm(
        &app,
        &admin,
        &format!("/admin/clients/{}/disable", other.id),
    )
    .await;
    let by_page = latest(&app, "client.disabled").await;
    same_event(&by_page, &by_cli, [&other.id, &worker.id]);

    // A revoked key leaves the running server's JWKS.
    let jwks = app.get_json("/jwks.json").await;
    let kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    cli.run(&["keys", "revoke", &kids[0]], None).await.json_ok();
    eventually(
        Duration::from_secs(5),
        "the key leaves the JWKS",
        || async {
            let jwks = app.get_json("/jwks.json").await;
            (!jwks.to_string().contains(&kids[0])).then_some(())
        },
    )
    .await;
    let by_cli = latest(&app, "key.revoked").await;
    confirm(&app, &admin, &format!("/admin/keys/revoke-{}", kids[1])).await;
    let by_page = latest(&app, "key.revoked").await;
    assert_eq!(
        (by_cli.1.as_str(), by_page.1.as_str()),
        (kids[0].as_str(), kids[1].as_str())
    );
    same_kind(&by_page, &by_cli);

    cli.run(&["keys", "rotate", "--alg", "ES256"], None)
        .await
        .json_ok();
    let by_cli = latest(&app, "key.rotated").await;
    confirm(&app, &admin, "/admin/keys/rotate-ES256").await;
    let by_page = latest(&app, "key.rotated").await;
    same_kind(&by_page, &by_cli);
}

/// Events on keys name different keys (and algorithms): the same actors as [`same_event`], and
/// details with the same fields.
fn same_kind(page: &(String, String, Value), cli: &(String, String, Value)) {
    assert!(page.0.starts_with("user:"), "{page:?}");
    assert_eq!(cli.0, "cli");
    let fields = |details: &Value| {
        details
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
    };
    assert_eq!(fields(&page.2), fields(&cli.2));
}
