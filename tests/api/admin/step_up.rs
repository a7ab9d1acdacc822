//! Step-up before admin changes (ASVS 5.0 V6.4): viewing needs a session that signed in with a
//! second factor; changing anything needs one entered within `PORTCULLIS_ADMIN_STEP_UP`. Older,
//! the administrator enters a code again and comes back; nothing changes until then.

use std::time::Duration;

use super::{is_admin, redirected_to};
use crate::helpers::{Settings, TestApp, TestUser, csrf};
use crate::signin::{browser, page, sign_in, submit};

/// The window in these tests: short, so the test need not wait ten minutes.
const WINDOW_SECS: u64 = 4;

/// The code an authenticator shows in the next 30-second step: accepted now (one step of skew),
/// and never the step already used to sign in.
fn next_code(user: &TestUser) -> String {
    let secret = totp_rs::Secret::try_from_base32(user.totp.as_deref().unwrap()).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate(now + 30).to_string()
}

/// POSTs the user page's "Make administrator" form for `user`.
async fn grant_admin(
    app: &TestApp,
    admin: &reqwest::Client,
    user: uuid::Uuid,
) -> reqwest::Response {
    let here = format!("/admin/users/{user}");
    let token = csrf(&page(app, admin, &here).await);
    admin
        .post(app.url(&format!("{here}/grant-admin")))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_whose_second_factor_is_old_enters_it_again_before_a_change() {
    let app = Settings::new()
        .await
        .set("PORTCULLIS_ADMIN_STEP_UP", &format!("{WINDOW_SECS}s"))
        .spawn()
        .await;
    let root = app.admin("root").await;
    let bob = app.user("bob", false).await;
    let carol = app.user("carol", false).await;
    let admin = browser();
    assert_eq!(sign_in(&app, &admin, &root).await.status(), 303);

    // Just signed in with the code: changes go through.
    let done = grant_admin(&app, &admin, carol.id).await;
    assert_eq!(redirected_to(&done), format!("/admin/users/{}", carol.id));
    assert!(is_admin(&app, carol.id).await);

    tokio::time::sleep(Duration::from_secs(WINDOW_SECS) + Duration::from_millis(500)).await;
    // Looking needs no new code; changing does, and changes nothing meanwhile.
    let user_page = format!("/admin/users/{}", bob.id);
    assert!(
        page(&app, &admin, &user_page)
            .await
            .contains("Make administrator")
    );
    let asked = grant_admin(&app, &admin, bob.id).await;
    assert_eq!(redirected_to(&asked), "/login/mfa");
    assert!(
        !is_admin(&app, bob.id).await,
        "nothing changed before the code"
    );
    // A confirmation page leads to a change: it asks too, and is where the admin comes back to.
    let confirm = format!("/admin/users/{}/disable", bob.id);
    let asked = admin.get(app.url(&confirm)).send().await.unwrap();
    assert_eq!(redirected_to(&asked), "/login/mfa");

    let form = page(&app, &admin, "/login/mfa").await;
    assert!(form.contains("authenticator"), "{form}");
    let wrong = submit(&app, &admin, "/login/mfa", &[("code", "000000")]).await;
    assert_eq!(redirected_to(&wrong), "/login/mfa");
    assert!(!is_admin(&app, bob.id).await);
    let back = submit(&app, &admin, "/login/mfa", &[("code", &next_code(&root))]).await;
    assert_eq!(redirected_to(&back), confirm, "back to the page that asked");
    assert!(page(&app, &admin, &confirm).await.contains("Disable bob?"));

    let done = grant_admin(&app, &admin, bob.id).await;
    assert_eq!(redirected_to(&done), user_page);
    assert!(
        is_admin(&app, bob.id).await,
        "the change happens after the code"
    );
    // Still the same administrator's session: the dashboard opens without signing in again.
    let dashboard = admin.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(dashboard.status(), 200);
}
