//! The user, roles, keys and audit pages: each action through its form (and its confirmation
//! page where it has one), with what the person affected then sees.

use super::{admin_browser, redirected_to};
use crate::helpers::TestApp;
use crate::signin::{browser, page, sign_in, submit_from};

/// Submits the form on `from` (its CSRF token included) to `action`; returns the page the 303
/// leads to.
async fn act(
    app: &TestApp,
    browser: &reqwest::Client,
    from: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> String {
    let response = submit_from(app, browser, from, action, fields).await;
    page(app, browser, &redirected_to(&response)).await
}

#[tokio::test]
async fn users_are_created_given_roles_and_disabled_from_the_pages() {
    let app = TestApp::spawn().await;
    let (admin, root) = admin_browser(&app).await;
    let fields = [
        ("username", "frank"),
        ("email", "frank@example.com"),
        ("password", "short"),
    ];
    let response = submit_from(
        &app,
        &admin,
        "/admin/users/new",
        "/admin/users/new",
        &fields,
    )
    .await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains("at least 8 characters") && html.contains("value=\"frank\""));

    let fields = [("username", "frank"), ("password", "Larch-Tuesday-Orbit-5")];
    let response = submit_from(
        &app,
        &admin,
        "/admin/users/new",
        "/admin/users/new",
        &fields,
    )
    .await;
    let user_page = redirected_to(&response);
    let list = page(&app, &admin, "/admin/users?q=fra").await;
    assert!(list.contains("1 user matching") && list.contains(&user_page));

    let shown = act(
        &app,
        &admin,
        "/admin/roles",
        "/admin/roles/roles",
        &[("name", "ops")],
    )
    .await;
    assert!(shown.contains("The role was defined") && shown.contains("<code>ops</code>"));
    let bad = act(
        &app,
        &admin,
        "/admin/roles",
        "/admin/roles/groups",
        &[("name", "-x")],
    )
    .await;
    assert!(bad.contains("not a valid group name"), "{bad}");
    let roles = format!("{user_page}/roles");
    let shown = act(&app, &admin, &user_page, &roles, &[("role", "ops")]).await;
    assert!(shown.contains("Roles saved") && shown.contains("value=\"ops\" checked"));

    let frank = crate::helpers::TestUser {
        id: user_page.rsplit('/').next().unwrap().parse().unwrap(),
        username: "frank".into(),
        password: "Larch-Tuesday-Orbit-5".into(),
        totp: None,
    };
    let theirs = browser();
    sign_in(&app, &theirs, &frank).await;
    assert!(page(&app, &admin, &user_page).await.contains("End session"));
    let disable = format!("{user_page}/disable");
    assert!(
        page(&app, &admin, &disable)
            .await
            .contains("Disable frank?")
    );
    let shown = act(&app, &admin, &disable, &disable, &[]).await;
    assert!(shown.contains("The user was disabled") && shown.contains("No active sessions"));
    let account = theirs.get(app.url("/account")).send().await.unwrap();
    assert_eq!(redirected_to(&account), "/login");

    let last = format!("/admin/users/{}/remove-admin", root.id);
    let shown = act(&app, &admin, &last, &last, &[]).await;
    assert!(shown.contains("Nothing changed") && shown.contains("last administrator"));
}

#[tokio::test]
async fn keys_rotate_and_a_revoked_key_leaves_the_jwks_at_once() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    let keys = page(&app, &admin, "/admin/keys").await;
    assert_eq!(keys.matches(">active<").count(), 2, "{keys}");
    let rotate = "/admin/keys/rotate-ES256";
    let shown = act(&app, &admin, rotate, rotate, &[]).await;
    assert!(shown.contains("A new ES256 key was published"));
    let jwks = app.get_json("/jwks.json").await;
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let revoke = format!("/admin/keys/revoke-{kid}");
    assert!(
        page(&app, &admin, &revoke)
            .await
            .contains("stops verifying everywhere")
    );
    let shown = act(&app, &admin, &revoke, &revoke, &[]).await;
    assert!(shown.contains(&format!("Key {kid} was revoked")));
    let from: Option<String> = sqlx::query_scalar(
        "select host(ip) from audit_events where event = 'key.revoked' and target = $1",
    )
    .bind(&kid)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        from.as_deref(),
        Some("127.0.0.1"),
        "key events name the address too"
    );
    let jwks = app.get_json("/jwks.json").await;
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["kid"] != kid.as_str())
    );
    let token = app.service("Worker", &["jobs"], &[]).await;
    let grant = [("grant_type", "client_credentials")];
    assert_eq!(
        crate::signin::token(&app, &token, &grant).await.0,
        200,
        "another key signs"
    );
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_event_and_time() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    act(
        &app,
        &admin,
        "/admin/roles",
        "/admin/roles/roles",
        &[("name", "ops")],
    )
    .await;
    let all = page(&app, &admin, "/admin/audit").await;
    assert!(
        all.contains("role.defined") && all.contains("login.succeeded"),
        "{all}"
    );
    let defined = page(&app, &admin, "/admin/audit?event=role.defined").await;
    assert!(
        defined.contains("1 event,") && defined.contains("root"),
        "{defined}"
    );
    let by_root = page(&app, &admin, "/admin/audit?actor=root&event=key.").await;
    assert!(by_root.contains("No events match"));
    let future = page(&app, &admin, "/admin/audit?since=2999-01-01").await;
    assert!(future.contains("No events match"));
    let response = admin
        .get(app.url("/admin/audit?until=tomorrow"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("is not a date"));
}

#[tokio::test]
async fn every_other_user_action_works_from_the_user_page() {
    let app = TestApp::spawn().await;
    let (admin, _) = admin_browser(&app).await;
    let gina = app.user("gina", true).await;
    let here = format!("/admin/users/{}", gina.id);
    let to = |action: &str| format!("{here}/{action}");

    // Her session, ended from here.
    let first = browser();
    sign_in(&app, &first, &gina).await;
    let shown = page(&app, &admin, &here).await;
    let session = shown
        .split("name=\"session\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let ended = act(
        &app,
        &admin,
        &here,
        &to("end-session"),
        &[("session", &session)],
    )
    .await;
    assert!(ended.contains("The session ended") && ended.contains("No active sessions"));
    let account = first.get(app.url("/account")).send().await.unwrap();
    assert_eq!(redirected_to(&account), "/login");

    let shown = act(&app, &admin, &here, &to("grant-admin"), &[]).await;
    assert!(shown.contains("is now an administrator") && shown.contains("pill info"));
    assert!(
        page(&app, &admin, &to("reset-mfa"))
            .await
            .contains("Reset two-step verification for gina?")
    );
    let shown = act(&app, &admin, &to("reset-mfa"), &to("reset-mfa"), &[]).await;
    assert!(shown.contains("Two-step verification was reset"));
    let shown = act(&app, &admin, &here, &to("clear-throttling"), &[]).await;
    assert!(shown.contains("Failed sign-in counts were cleared"));
    let short = act(
        &app,
        &admin,
        &here,
        &to("password"),
        &[("password", "short")],
    )
    .await;
    assert!(short.contains("Nothing changed") && short.contains("at least 8"));
    let shown = act(
        &app,
        &admin,
        &here,
        &to("password"),
        &[("password", "Quiet-Harbor-Lantern-8")],
    )
    .await;
    assert!(shown.contains("The password was set"));
    act(
        &app,
        &admin,
        "/admin/roles",
        "/admin/roles/groups",
        &[("name", "eng")],
    )
    .await;
    let shown = act(&app, &admin, &here, &to("groups"), &[("group", "eng")]).await;
    assert!(shown.contains("Groups saved") && shown.contains("value=\"eng\" checked"));
    let shown = act(&app, &admin, &to("disable"), &to("disable"), &[]).await;
    assert!(shown.contains("disabled"));
    let shown = act(&app, &admin, &here, &to("enable"), &[]).await;
    assert!(shown.contains("The user was enabled"));

    // She signs in with the new password and no second factor (an administrator now, she is
    // sent to set one up before the admin pages open).
    let mut renewed = gina.clone();
    renewed.password = "Quiet-Harbor-Lantern-8".into();
    renewed.totp = None;
    let theirs = browser();
    let response = sign_in(&app, &theirs, &renewed).await;
    assert_eq!(redirected_to(&response), "/account");
    let admin_page = theirs.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(redirected_to(&admin_page), "/account/totp");
    assert!(
        page(&app, &admin, &to("end-sessions"))
            .await
            .contains("End every session of gina?")
    );
    let shown = act(&app, &admin, &to("end-sessions"), &to("end-sessions"), &[]).await;
    assert!(shown.contains("Every session ended"));
    let account = theirs.get(app.url("/account")).send().await.unwrap();
    assert_eq!(redirected_to(&account), "/login");
}
