//! A forgotten password under abuse: many requests at once for one name get at most the per-name
//! limit of mails and 429 for the rest; one link posted twice at once sets one password;
//! oversized names and tokens are refused with a clear 4xx and change nothing; a disabled account
//! and one without an address get the same answer as any other, and no mail.

use std::time::Duration;

use super::reset::{
    NEW, WITHIN, address, ask, choose, link_token, open, reset_mail, resets, session_csrf,
    signs_in, verify_address, with_mail,
};
use crate::helpers::{TestApp, location};
use crate::signin::browser;

/// How many reset mails the outbox holds, sent or not.
async fn queued(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from outbox where topic = 'reset'")
        .fetch_one(&app.db.pool().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_reset_thirty_requests_at_once_for_one_name_send_at_most_three_mails() {
    let (app, mailbox) = with_mail().await;
    let alice = app.user("alice", false).await;
    let person = browser();
    let csrf = session_csrf(&app, &person).await;
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let request = person
            .post(app.url("/password/forgot"))
            .form(&[("csrf", csrf.as_str()), ("username", "alice")]);
        requests.spawn(request.send());
    }
    let mut statuses = vec![];
    for response in requests.join_all().await {
        let response = response.unwrap();
        let status = response.status().as_u16();
        if status == 429 {
            assert!(response.headers().contains_key("retry-after"));
            let text = response.text().await.unwrap();
            assert!(text.contains("Please try again in"), "{text}");
        }
        statuses.push(status);
    }
    let passed = statuses.iter().filter(|s| **s == 303).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((passed, refused), (3, 27), "{statuses:?}");
    // Three mails arrive (each link replacing the one before), and no more.
    crate::helpers::eventually(WITHIN, "three reset mails", || async {
        (resets(&mailbox).len() == 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(resets(&mailbox).len(), 3);
    assert_eq!(
        mailbox.count_to(&address(&alice)),
        4,
        "three links and the address check"
    );
    // An unknown name is limited the same way.
    for _ in 0..3 {
        assert_eq!(ask(&app, &person, "nobody").await.status(), 303);
    }
    assert_eq!(ask(&app, &person, "nobody").await.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_reset_one_link_posted_twice_at_once_sets_one_password() {
    let (app, mailbox) = with_mail().await;
    let alice = app.user("alice", false).await;
    verify_address(&app, &alice).await;
    let token = link_token(&app, &mailbox, &alice).await;
    let (first, second) = (browser(), browser());
    let other = "another quiet copper kettle";
    let (a, b) = tokio::join!(
        choose(&app, &first, &token, NEW, NEW),
        choose(&app, &second, &token, other, other),
    );
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    let mut sorted = statuses;
    sorted.sort_unstable();
    assert_eq!(sorted, [303, 404], "one succeeds, one finds the link used");
    let winner = if statuses[0] == 303 { NEW } else { other };
    let loser = if statuses[0] == 303 { other } else { NEW };
    assert!(signs_in(&app, &alice, winner).await);
    assert!(!signs_in(&app, &alice, loser).await);
    let notices: i64 =
        sqlx::query_scalar("select count(*) from outbox where topic = 'notice.password_changed'")
            .fetch_one(&app.db.pool().await)
            .await
            .unwrap();
    assert_eq!(notices, 1, "one password set, one notice");
}

#[tokio::test]
async fn mail_reset_oversized_names_and_tokens_are_refused_and_change_nothing() {
    let (app, mailbox) = with_mail().await;
    let alice = app.user("alice", false).await;
    let person = browser();
    let csrf = session_csrf(&app, &person).await;
    for name in ["a".repeat(255), "a".repeat(20_000)] {
        let response = person
            .post(app.url("/password/forgot"))
            .form(&[("csrf", csrf.as_str()), ("username", name.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let text = response.text().await.unwrap();
        assert!(text.contains("username"), "the field is named: {text}");
        assert!(text.len() < 10_000, "the value is not echoed");
    }
    // A token longer than ours is not looked up (129 characters), or not even read (20 KB).
    let token = link_token(&app, &mailbox, &alice).await;
    for long in [
        format!("{token}{}", "a".repeat(129 - token.len())),
        "a".repeat(20_000),
    ] {
        // Past our shape, the link's page; past the field's bound, the edge's refusal.
        let expected = if long.len() > 8192 { 400 } else { 404 };
        let (status, text) = open(&app, &person, &long).await;
        assert_eq!(status, expected, "{text:.300}");
        assert!(text.len() < 10_000);
        let posted = choose(&app, &person, &long, NEW, NEW).await;
        assert_eq!(posted.status(), expected);
    }
    // Nothing changed: one link queued, the password as it was, the link still good.
    assert_eq!(queued(&app).await, 1);
    assert!(signs_in(&app, &alice, &alice.password).await);
    assert_eq!(open(&app, &person, &token).await.0, 200);
    // No token, or one not of our shape, is a dead link too.
    for query in ["", "?token=", "?token=a%2Fb", "?token=%00"] {
        let response = person
            .get(app.url(&format!("/password/reset{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{query}");
    }
}

#[tokio::test]
async fn mail_reset_a_disabled_account_or_one_without_an_address_gets_no_mail() {
    let (app, mailbox) = with_mail().await;
    let bob = app.user("bob", false).await;
    let carol = app.user("carol", false).await;
    let alice = app.user("alice", false).await;
    let pool = app.db.pool().await;
    sqlx::query("update users set disabled = true where id = $1")
        .bind(bob.id)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("update users set email = null, email_verified_at = null where id = $1")
        .bind(carol.id)
        .execute(&pool)
        .await
        .unwrap();
    let unknown = ask(&app, &browser(), "nobody").await;
    let expected = (unknown.status(), location(&unknown));
    for name in ["bob", "bob@example.com", "carol"] {
        let answer = ask(&app, &browser(), name).await;
        assert_eq!((answer.status(), location(&answer)), expected, "{name}");
    }
    // Alice, asked for last, gets hers; nobody else got one.
    assert_eq!(ask(&app, &browser(), "alice").await.status(), 303);
    reset_mail(&mailbox, &address(&alice)).await;
    assert_eq!(queued(&app).await, 1);
    let to: Vec<Vec<String>> = resets(&mailbox).into_iter().map(|m| m.rcpt_tos).collect();
    assert_eq!(to, [["alice@example.com"]]);
}
