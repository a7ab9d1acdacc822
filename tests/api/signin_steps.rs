//! Sign-in steps that continue a pending request: the login page a redirect sent the browser to
//! (`/login?request=<id>`), its second factor, and the request id a consent or device form
//! carries, as a browser would send them.

use crate::helpers::{Server, TestUser, location};
use crate::signin::submit;

/// The `request` hidden field of a page's form (the pending request it decides on), if any.
pub fn hidden_request(html: &str) -> Option<String> {
    let marker = "name=\"request\" value=\"";
    let start = html.find(marker)? + marker.len();
    html[start..].split('"').next().map(str::to_owned)
}

/// The first step on the login page at `path` (`/login?request=<id>` when it continues a request).
pub async fn password_step_at(
    app: &impl Server,
    browser: &reqwest::Client,
    user: &TestUser,
    path: &str,
) -> reqwest::Response {
    submit(
        app,
        browser,
        path,
        &[("username", &user.username), ("password", &user.password)],
    )
    .await
}

/// [`sign_in`] from the login page at `path`, where a redirect sent the browser.
pub async fn sign_in_at(
    app: &impl Server,
    browser: &reqwest::Client,
    user: &TestUser,
    path: &str,
) -> reqwest::Response {
    let response = password_step_at(app, browser, user, path).await;
    if user.totp.is_none() {
        return response;
    }
    let mfa = location(&response);
    assert!(mfa.starts_with("/login/mfa"), "{mfa}");
    submit(app, browser, &mfa, &[("code", &user.code())]).await
}
