//! An administrator changes an address: on the user page (which shows whether it is confirmed)
//! and through the admin API; a taken address changes nothing.

use serde_json::Value;

use super::{WAIT, address_of, mail_app, mark_verified, verify_link};
use crate::helpers::Settings;
use crate::signin::{page, submit_from};

#[tokio::test]
async fn an_admin_changes_an_address_from_the_user_page_and_the_api() {
    let (mailbox, app) = mail_app(Settings::new().await).await;
    let (admin, _) = crate::admin::admin_browser(&app).await;
    let sven = app.user("sven", false).await;
    mailbox.wait_for_to(&address_of(&sven), WAIT).await;
    mark_verified(&app, &sven).await;
    let user_page = format!("/admin/users/{}", sven.id);
    let action = format!("{user_page}/email");
    let shown = page(&app, &admin, &user_page).await;
    assert!(shown.contains("value=\"sven@example.com\"") && shown.contains(">confirmed<"));
    for (email, says) in [
        (
            "root@example.com",
            "Nothing changed: another account already has this email address",
        ),
        ("sven.b@example.com", "The address was changed"),
    ] {
        let fields = [("email", email)];
        let response = submit_from(&app, &admin, &user_page, &action, &fields).await;
        let shown = page(&app, &admin, &crate::admin::redirected_to(&response)).await;
        assert!(shown.contains(says), "{shown}");
    }
    assert!(
        page(&app, &admin, &user_page)
            .await
            .contains("not confirmed")
    );
    verify_link(&app, &mailbox.wait_for_to("sven.b@example.com", WAIT).await);
    mailbox
        .wait_for(
            |m| m.is_to("sven@example.com") && m.subject.contains("was changed"),
            WAIT,
        )
        .await;

    let (_, token) = crate::admin::api::script(&app).await;
    let path = format!("/users/{}/email", sven.id);
    let put = |body: Value| {
        crate::admin::api::call(&app, &token, reqwest::Method::PUT, &path, Some(body))
    };
    let (status, body) = put(serde_json::json!({"email": "no"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = put(serde_json::json!({"email": "sven.c@example.com"})).await;
    assert_eq!(status, 204);
    verify_link(&app, &mailbox.wait_for_to("sven.c@example.com", WAIT).await);
    let (status, _) = put(serde_json::json!({"email": null})).await;
    assert_eq!(status, 204);
    let email: Option<String> = sqlx::query_scalar("select email from users where id = $1")
        .bind(sven.id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(email, None);
}
