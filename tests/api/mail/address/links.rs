//! What a link is and is not: a reset link confirms no address and a confirmation link resets no
//! password, a token that cannot be ours gets a clear 4xx, and the link is sent again at most
//! three times an hour however many ask at once (only the latest works).

use portcullis::mail::links::Purpose;

use super::{
    WAIT, address_of, confirm, mail_app, make_link, outbox_idle, press, verified_at_is_set,
    verify_link,
};
use crate::helpers::{Settings, csrf, location};
use crate::signin::{browser, page, sign_in, submit_from};

#[tokio::test]
async fn a_link_works_only_for_its_purpose() {
    let (mailbox, app) = mail_app(Settings::new().await).await;
    let pia = app.user("pia", false).await;
    let verify = verify_link(&app, &mailbox.wait_for_to(&address_of(&pia), WAIT).await);
    let verify = crate::helpers::query_param(&verify, "token").unwrap();

    // A reset link confirms no address, and stays a reset link.
    let reset = make_link(&app, &pia, Purpose::Reset).await;
    let link = format!("{}/email/verify?token={reset}", app.address);
    let (status, html) = confirm(&app, &link).await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("This link cannot be used"));
    assert_eq!(press(&app, &reset).await.0, 404);
    assert!(!verified_at_is_set(&app, pia.id).await);
    let resets: i64 = sqlx::query_scalar(
        "select count(*) from mail_links where user_id = $1 and purpose = 'reset'",
    )
    .bind(pia.id)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(resets, 1, "the reset link was not used up either");

    // The confirmation link sets no password at /password/reset, and still confirms afterwards.
    let person = browser();
    let new = "larch tuesday orbit five";
    let (status, _) = crate::mail::reset::open(&app, &person, &verify).await;
    assert_eq!(status, 404);
    let refused = crate::mail::reset::choose(&app, &person, &verify, new, new).await;
    assert_eq!(refused.status(), 404);
    assert!(!crate::mail::reset::signs_in(&app, &pia, new).await);
    let link = format!("{}/email/verify?token={verify}", app.address);
    assert_eq!(confirm(&app, &link).await.0, 200);
    assert!(verified_at_is_set(&app, pia.id).await);
}

#[tokio::test]
async fn sending_the_link_again_is_limited_even_when_asked_all_at_once() {
    let (mailbox, app) = mail_app(Settings::new().await).await;
    let rita = app.user("rita", false).await;
    let to = address_of(&rita);
    mailbox.wait_for_to(&to, WAIT).await;
    let b = browser();
    sign_in(&app, &b, &rita).await;
    let token = csrf(&page(&app, &b, "/account").await);
    let mut presses = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (b, url, token) = (b.clone(), app.url("/account/email/resend"), token.clone());
        presses.spawn(async move {
            let response = b.post(url).form(&[("csrf", token)]).send().await.unwrap();
            location(&response)
        });
    }
    let answers = presses.join_all().await;
    assert!(answers.iter().all(|to| to == "/account"), "{answers:?}");
    outbox_idle(&app).await;
    assert_eq!(
        mailbox.count_to(&to),
        1 + 3,
        "the first link and three more"
    );
    let response = submit_from(&app, &b, "/account", "/account/email/resend", &[]).await;
    assert_eq!(location(&response), "/account");
    let shown = page(&app, &b, "/account").await;
    assert!(
        shown.contains("A link was sent several times already"),
        "{shown}"
    );
    outbox_idle(&app).await;
    assert_eq!(mailbox.count_to(&to), 4);
    // Only the latest link works.
    let links: Vec<String> = mailbox
        .messages()
        .iter()
        .filter(|m| m.is_to(&to))
        .map(|m| verify_link(&app, m))
        .collect();
    assert_eq!(confirm(&app, &links[0]).await.0, 404);
    assert_eq!(confirm(&app, &links[3]).await.0, 200);
}

#[tokio::test]
async fn a_malformed_token_gets_a_clear_4xx() {
    let (_mailbox, app) = mail_app(Settings::new().await).await;
    let b = browser();
    for (query, status, says) in [
        (
            "token=".to_owned() + &"a".repeat(129),
            404,
            "cannot be used",
        ),
        ("token=".to_owned() + &"a".repeat(9000), 400, "longer than"),
        (String::new(), 404, "cannot be used"),
        ("token=%00%ff".to_owned(), 404, "cannot be used"),
        ("token=a%2Fb".to_owned(), 404, "cannot be used"),
        ("token=".to_owned() + &"a".repeat(43), 404, "cannot be used"),
    ] {
        let response = b
            .get(app.url(&format!("/email/verify?{query}")))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let got = response.status().as_u16();
        let html = response.text().await.unwrap();
        assert_eq!(got, status, "{query:.40}: {html}");
        assert!(html.contains(says), "{query:.40}: {html}");
    }
    let (status, html) = press(&app, &"a".repeat(500)).await;
    assert_eq!(status, 404);
    assert!(html.contains("cannot be used"), "{html}");
}
