//! The outbox as a person waiting for a mail sees it: a mail queued while the SMTP server is down
//! arrives once it is back, exactly once; two replicas send each mail once; a mail undeliverable
//! for longer than `PORTCULLIS_MAIL_GIVE_UP_AFTER` is given up with a `mail.failed` audit event;
//! without an SMTP server mails go to the log and the flows go on.

use std::time::Duration;

use portcullis::audit::{Actor, By};
use portcullis::users::Email;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{Settings, TestApp, eventually};
use crate::mailbox::Mailbox;

const WAIT: Duration = Duration::from_secs(30);

/// Gives `user` the address `email` (test users start with `NAME@example.com`): the verification
/// mail is queued in that transaction.
pub async fn set_address(pool: &PgPool, user: Uuid, email: &str) {
    let email = Email::parse(email).unwrap();
    portcullis::users::email::set(pool, user, Some(&email), &By::new(Actor::Cli, None))
        .await
        .unwrap();
}

/// The outbox row's (attempts, sent, given up) for the mail to `to`.
async fn state_of(pool: &PgPool, to: &str) -> (i32, bool, bool) {
    sqlx::query_as(
        "select attempts, sent_at is not null, failed_at is not null from outbox \
         where recipient = $1",
    )
    .bind(to)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// How many messages the outbox marked sent.
async fn sent_rows(pool: &PgPool) -> f64 {
    let sent: i64 = sqlx::query_scalar("select count(*) from outbox where sent_at is not null")
        .fetch_one(pool)
        .await
        .unwrap();
    sent as f64
}

async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_mail_queued_while_smtp_is_down_arrives_once_when_it_is_back() {
    let mut mailbox = Mailbox::start().await;
    let app = Settings::new().await.with_mail(&mailbox).spawn().await;
    let alice = app.user("alice", false).await;
    let pool = app.db.pool().await;
    mailbox.stop().await;
    set_address(&pool, alice.id, "alice@mail.example").await;
    eventually(WAIT, "the first attempt fails and is kept", || async {
        let (attempts, sent, failed) = state_of(&pool, "alice@mail.example").await;
        (attempts >= 1 && !sent && !failed).then_some(())
    })
    .await;
    let error: Option<String> =
        sqlx::query_scalar("select last_error from outbox where recipient = 'alice@mail.example'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(error.is_some(), "the failure is recorded for the admin");
    assert!(metric(&app, "portcullis_outbox_retried_total").await >= 1.0);
    assert_eq!(mailbox.count_to("alice@mail.example"), 0);

    mailbox.restart().await;
    let mail = mailbox.wait_for_to("alice@mail.example", WAIT).await;
    assert!(
        mail.subject.starts_with("Confirm your email address"),
        "{}",
        mail.subject
    );
    assert!(mail.link("/email/verify").is_some(), "{}", mail.text);
    // Later rounds do not send it again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(mailbox.count_to("alice@mail.example"), 1);
    let (_, sent, failed) = state_of(&pool, "alice@mail.example").await;
    assert!(sent && !failed);
    assert_eq!(
        metric(&app, "portcullis_outbox_sent_total").await,
        sent_rows(&pool).await
    );
}

#[tokio::test]
async fn two_replicas_send_each_mail_once() {
    let mailbox = Mailbox::start().await;
    let settings = Settings::new().await;
    let (db, kek) = (settings.db.clone(), settings.kek.clone());
    let first = settings.with_mail(&mailbox).spawn().await;
    let second = Settings::replica(&db, &kek)
        .with_mail(&mailbox)
        .spawn()
        .await;
    let pool = first.db.pool().await;
    let mut addresses = Vec::new();
    for n in 0..24 {
        let user = first.user(&format!("person{n}"), false).await;
        addresses.push(format!("person{n}@mail.example"));
        set_address(&pool, user.id, &addresses[n]).await;
    }
    for address in &addresses {
        mailbox.wait_for_to(address, WAIT).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for address in &addresses {
        assert_eq!(mailbox.count_to(address), 1, "{address}");
    }
    // The mail for the address each person was created with was sent once, or dropped when the
    // address had changed before its turn came: never twice.
    for n in 0..24 {
        assert!(mailbox.count_to(&format!("person{n}@example.com")) <= 1);
    }
    let sent = sent_rows(&pool).await;
    assert!(sent >= 24.0);
    assert_eq!(mailbox.messages().len() as f64, sent);
    let counted = metric(&first, "portcullis_outbox_sent_total").await
        + metric(&second, "portcullis_outbox_sent_total").await;
    assert_eq!(
        counted, sent,
        "each mail counted by the one replica that sent it"
    );
}

#[tokio::test]
async fn a_mail_undeliverable_too_long_is_given_up_and_audited() {
    let mut mailbox = Mailbox::start().await;
    let app = Settings::new()
        .await
        .with_mail(&mailbox)
        .set("PORTCULLIS_MAIL_GIVE_UP_AFTER", "1s")
        .spawn()
        .await;
    let bob = app.user("bob", false).await;
    let pool = app.db.pool().await;
    mailbox.stop().await;
    set_address(&pool, bob.id, "bob@mail.example").await;
    eventually(WAIT, "the mail is given up", || async {
        let (_, sent, failed) = state_of(&pool, "bob@mail.example").await;
        (failed && !sent).then_some(())
    })
    .await;
    let (event, details): (String, serde_json::Value) =
        sqlx::query_as("select event, details from audit_events where event = 'mail.failed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(event, "mail.failed");
    assert_eq!(details["recipient"], "bob@mail.example");
    assert_eq!(details["topic"], "verify");
    assert!(metric(&app, "portcullis_outbox_failed_total").await >= 1.0);
    mailbox.restart().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        mailbox.count_to("bob@mail.example"),
        0,
        "given up means not sent"
    );
}

#[tokio::test]
async fn without_smtp_mails_are_written_to_the_log_and_the_outbox_moves_on() {
    let app = TestApp::spawn().await;
    let carol = app.user("carol", false).await;
    let pool = app.db.pool().await;
    set_address(&pool, carol.id, "carol@mail.example").await;
    eventually(WAIT, "the mail is done", || async {
        let (_, sent, _) = state_of(&pool, "carol@mail.example").await;
        sent.then_some(())
    })
    .await;
    // Its link exists (made when it was "sent"), stored only as a hash.
    let links: i64 = sqlx::query_scalar("select count(*) from mail_links where purpose = 'verify'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(links, 1);
}

#[tokio::test]
async fn the_outbox_holds_no_secret_and_mail_links_only_hashes() {
    let mailbox = Mailbox::start().await;
    let app = Settings::new().await.with_mail(&mailbox).spawn().await;
    let dave = app.user("dave", false).await;
    let pool = app.db.pool().await;
    set_address(&pool, dave.id, "dave@mail.example").await;
    let mail = mailbox.wait_for_to("dave@mail.example", WAIT).await;
    let link = mail.link("/email/verify").unwrap();
    let token = crate::helpers::query_param(&link, "token").unwrap();
    assert_eq!(token.len(), 43);
    let outbox: String =
        sqlx::query_scalar("select payload::text || recipient || topic from outbox")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!outbox.contains(&token));
    let hashed: Vec<u8> = sqlx::query_scalar("select token_hash from mail_links")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_ne!(hashed, token.as_bytes());
    assert_eq!(hashed.len(), 32);
    // The link is under the issuer.
    assert!(link.starts_with(&app.address), "{link}");
}
