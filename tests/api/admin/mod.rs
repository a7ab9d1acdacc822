//! The admin pages and the admin API: who may enter, and every action, as an administrator's
//! browser (or a script) sees it.

mod access;
pub mod api;
mod browser;
mod clients;
mod levels;
mod links;
mod pages;
mod rbac;
mod secrets;
mod step_up;
mod users;

use crate::helpers::{TestApp, TestUser, location};
use crate::signin::{browser, sign_in};

/// An administrator signed in (password and TOTP) in a fresh browser.
pub async fn admin_browser(app: &TestApp) -> (reqwest::Client, TestUser) {
    let admin = app.admin("root").await;
    let browser = browser();
    let response = sign_in(app, &browser, &admin).await;
    assert_eq!(response.status(), 303);
    (browser, admin)
}

/// The path a 303 after an admin action leads to.
pub fn redirected_to(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 303, "expected 303 See Other");
    location(response)
}

/// Whether the user has the admin role, read from the database.
pub async fn is_admin(app: &TestApp, id: uuid::Uuid) -> bool {
    sqlx::query_scalar("select is_admin from users where id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}
