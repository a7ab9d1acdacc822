//! `portcullis kek status | rotate`: rotating the key-encryption key while servers keep serving,
//! then removing the previous key; rotations running at once; values that cannot be opened; and a
//! server that refuses to start with a key that does not open its live signing keys.

use base64::Engine as _;
use portcullis::crypto::Kek;
use serde_json::Value;
use uuid::Uuid;

use super::Cli;
use crate::account::secret_on_page;
use crate::helpers::location;
use crate::helpers::{Settings, TestApp, TestClient, TestDb, TestUser, random_kek};
use crate::signin::{authorize, browser, page, payload, redeem, sign_in, submit, token};
use crate::token_access::userinfo;

/// The key a base64 setting holds.
pub fn kek_of(base64: &str) -> Kek {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .unwrap();
    Kek::new(bytes.try_into().unwrap())
}

/// Settings for a server on `db` with `current` and, if given, `previous`.
fn keys(db: &TestDb, current: &str, previous: Option<&str>) -> Settings {
    let settings = Settings::replica(db, current);
    match previous {
        Some(previous) => settings.set("PORTCULLIS_KEY_ENCRYPTION_KEY_PREVIOUS", previous),
        None => settings,
    }
}

/// The command line on `db` with these keys.
fn cli(db: &TestDb, current: &str, previous: Option<&str>) -> Cli {
    Cli {
        env: keys(db, current, previous).env(8080),
        db: db.clone(),
        kek: current.to_owned(),
    }
}

/// The user signs in with password and TOTP code to `client`, which redeems the code; returns
/// the tokens (with `amr` showing the second factor).
pub async fn two_step_tokens(app: &TestApp, client: &TestClient, user: &TestUser) -> Value {
    // A code is accepted once per 30-second step; each sign-in here stands for a later step.
    sqlx::query("update users set totp_last_step = null where id = $1")
        .bind(user.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    let back = authorize(app, &browser(), client, user, "openid offline_access").await;
    let code = crate::helpers::query_param(&back, "code").unwrap();
    let response = redeem(app, client, &code).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    let amr = payload(tokens["id_token"].as_str().unwrap())["amr"].clone();
    assert!(amr.as_array().unwrap().contains(&"otp".into()), "{amr}");
    tokens
}

#[tokio::test]
async fn kek_rotation_keeps_serving_and_then_the_previous_key_can_be_removed() {
    let db = TestDb::new().await;
    let (old, new) = (random_kek(), random_kek());
    let before = keys(&db, &old, None).spawn().await;
    let alice = before.user("alice", true).await;
    let client = before.client("App", false, true).await;
    let first = two_step_tokens(&before, &client, &alice).await;
    // Bob begins turning on TOTP: the secret waits, sealed, in his session (in Redis).
    let bob = before.user("bob", false).await;
    let bobs = browser();
    sign_in(&before, &bobs, &bob).await;
    let pending = secret_on_page(&page(&before, &bobs, "/account/totp").await);
    let jwks = before.get_json("/jwks.json").await;
    // Every server here answers on the same port, so under the same issuer, like a restart.
    let port = before.port();
    before.stop().await;

    // New and previous key: the same keys are published, TOTP secrets sealed before still open.
    let during = keys(&db, &new, Some(&old))
        .try_spawn_at(port)
        .await
        .unwrap();
    assert_eq!(during.get_json("/jwks.json").await, jwks);
    two_step_tokens(&during, &client, &alice).await;
    let shown = secret_on_page(&page(&during, &bobs, "/account/totp").await);
    assert_eq!(shown, pending);
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&during, access).await.0, 200);

    // Removing the previous key before the rotation is refused at start, naming the keys.
    let early = keys(&db, &new, None).try_spawn().await.err().unwrap();
    let early = format!("{early:#}");
    let old_id = kek_of(&old).id().to_owned();
    assert!(
        early.contains(&format!(
            "sealed under key-encryption key {old_id}, which is neither the current nor the previous key"
        )) && early.contains("signing key "),
        "{early}"
    );

    let cli = cli(&db, &new, Some(&old));
    let status = cli.run(&["kek", "status", "--json"], None).await.json();
    assert_eq!(status["previous"], old_id.as_str());
    assert_eq!(status["previous_removable"], false);
    let previous = &status["sealed"][1];
    assert_eq!(
        (previous["role"].as_str(), previous["signing_keys"].as_i64()),
        (Some("previous"), Some(4))
    );
    assert_eq!(previous["totp_secrets"], 1);

    let rotated = cli.run(&["kek", "rotate", "--json"], None).await.json();
    assert_eq!(rotated["resealed"]["signing_keys"], 4);
    assert_eq!(rotated["resealed"]["totp_secrets"], 1);
    let again = cli.run(&["kek", "rotate"], None).await;
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert!(
        again
            .stdout
            .contains("Re-sealed 0 private signing keys and 0 TOTP secrets"),
        "{}",
        again.stdout
    );
    let status = cli.run(&["kek", "status"], None).await;
    assert!(
        status.stdout.contains("it can be removed"),
        "{}",
        status.stdout
    );
    let (actor, target, details): (String, String, Value) = sqlx::query_as(
        "select actor, target, details from audit_events where event = 'kek.rotated'",
    )
    .fetch_one(&during.state.db)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), target.as_str()),
        ("cli", kek_of(&new).id())
    );
    assert_eq!(
        details,
        serde_json::json!({ "previous": old_id, "signing_keys": 4, "totp_secrets": 1 })
    );
    // The running server picks up the re-sealed keys and keeps signing and checking codes.
    let during_tokens = two_step_tokens(&during, &client, &alice).await;
    during.stop().await;

    // Only the new key: the same JWKS, sign-in with TOTP, earlier tokens still good.
    let after = keys(&db, &new, None).try_spawn_at(port).await.unwrap();
    assert_eq!(after.get_json("/jwks.json").await, jwks);
    two_step_tokens(&after, &client, &alice).await;
    // Bob's enrollment was sealed under the removed key: it starts again, with a new secret.
    let fresh = secret_on_page(&page(&after, &bobs, "/account/totp").await);
    assert_ne!(fresh, pending);
    let code = crate::helpers::totp_now(&fresh);
    let confirmed = submit(&after, &bobs, "/account/totp", &[("code", &code)]).await;
    assert_eq!(location(&confirmed), "/account/recovery-codes");
    for tokens in [&first, &during_tokens] {
        let access = tokens["access_token"].as_str().unwrap();
        assert_eq!(userinfo(&after, access).await.0, 200);
    }
    let refresh = first["refresh_token"].as_str().unwrap();
    let refreshed = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let (status, body) = token(&after, &client, &refreshed).await;
    assert_eq!(status, 200, "{body}");
    after.stop().await;

    // A wrong key is a clear error, for the server and for the commands that act like one.
    let wrong = random_kek();
    let refused = keys(&db, &wrong, None).try_spawn().await.err().unwrap();
    let refused = format!("{refused:#}");
    let new_id = kek_of(&new).id().to_owned();
    assert!(
        refused.contains(&format!("sealed under key-encryption key {new_id}"))
            && refused.contains(kek_of(&wrong).id()),
        "{refused}"
    );
    let listed = super::Cli {
        env: keys(&db, &wrong, None).env(8080),
        db: db.clone(),
        kek: wrong.clone(),
    }
    .run(&["keys", "list"], None)
    .await;
    assert_eq!(listed.status, 1);
    assert!(
        listed
            .stderr
            .contains("neither the current nor the previous key")
    );
    assert!(!listed.stderr.contains(&wrong) && !listed.stderr.contains(&new));
}

/// `n` TOTP secrets sealed under `kek`, inserted as users named `<prefix><i>`; with `record`
/// false, without their key id (as the release before migration 0007 wrote them). Returns each
/// user's id and secret.
async fn sealed_users(
    pool: &sqlx::PgPool,
    kek: &Kek,
    prefix: &str,
    n: usize,
    record: bool,
) -> Vec<(Uuid, Vec<u8>)> {
    let users: Vec<(Uuid, Vec<u8>)> = (0..n)
        .map(|_| (Uuid::new_v4(), Uuid::new_v4().as_bytes().to_vec()))
        .collect();
    let ids: Vec<Uuid> = users.iter().map(|u| u.0).collect();
    let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    let sealed: Vec<String> = users.iter().map(|u| kek.seal(&u.1).unwrap()).collect();
    sqlx::query(
        "insert into users (id, username, password_hash, totp_secret_sealed, totp_kek_id) \
         select id, name, 'not-a-hash', sealed, $4 from unnest($1::uuid[], $2::text[], $3::text[]) \
         as t(id, name, sealed)",
    )
    .bind(&ids)
    .bind(&names)
    .bind(&sealed)
    .bind(record.then(|| kek.id()))
    .execute(pool)
    .await
    .unwrap();
    users
}

#[tokio::test]
async fn kek_rotations_run_at_once_reseal_every_value_exactly_once_in_batches() {
    let db = TestDb::new().await;
    let (old, new) = (random_kek(), random_kek());
    let app = keys(&db, &old, None).spawn().await;
    let pool = app.db.pool().await;
    // More than two batches, and some secrets written without their key id.
    let mut users = sealed_users(&pool, &kek_of(&old), "u", 250, true).await;
    users.extend(sealed_users(&pool, &kek_of(&old), "legacy", 10, false).await);
    app.stop().await;

    let cli = cli(&db, &new, Some(&old));
    let rotate = || cli.run(&["kek", "rotate", "--json"], None);
    let (a, b, c, d) = tokio::join!(rotate(), rotate(), rotate(), rotate());
    let runs = [a, b, c, d];
    let (mut signing_keys, mut totp_secrets) = (0, 0);
    for run in &runs {
        let done = run.json();
        signing_keys += done["resealed"]["signing_keys"].as_u64().unwrap();
        totp_secrets += done["resealed"]["totp_secrets"].as_u64().unwrap();
        assert_eq!(done["problems"], serde_json::json!([]));
    }
    assert_eq!((signing_keys, totp_secrets), (4, 260));
    let last = cli.run(&["kek", "rotate", "--json"], None).await.json();
    assert_eq!(last["resealed"]["totp_secrets"], 0);
    assert_eq!(last["resealed"]["signing_keys"], 0);

    // Every secret is the same, under the new key alone, and recorded as such.
    let only_new = kek_of(&new);
    for (id, secret) in &users {
        let (sealed, kek_id): (String, String) =
            sqlx::query_as("select totp_secret_sealed, totp_kek_id from users where id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(kek_id, only_new.id());
        assert_eq!(only_new.open(&sealed).unwrap().expose(), secret);
    }
    let status = cli.run(&["kek", "status", "--json"], None).await.json();
    assert_eq!(status["previous_removable"], true);
    assert_eq!(status["sealed"][0]["role"], "current");
    assert_eq!(status["sealed"][0]["totp_secrets"], 260);
    assert_eq!(status["sealed"][0]["signing_keys"], 4);
    let events: i64 =
        sqlx::query_scalar("select count(*) from audit_events where event = 'kek.rotated'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!((1..=4).contains(&events), "{events}");
}

#[tokio::test]
async fn kek_rotate_names_each_value_it_cannot_open_and_leaves_it_as_it_was() {
    let db = TestDb::new().await;
    let (old, new, lost) = (random_kek(), random_kek(), random_kek());
    let app = keys(&db, &old, None).spawn().await;
    let pool = app.db.pool().await;
    let good = sealed_users(&pool, &kek_of(&old), "good", 1, true).await;
    let orphan = sealed_users(&pool, &kek_of(&lost), "orphan", 1, true).await;
    let altered = sealed_users(&pool, &kek_of(&old), "altered", 1, true).await;
    let (altered_id, _) = altered[0];
    // The last characters of a compact JWE are its authentication tag.
    sqlx::query(
        "update users set totp_secret_sealed = left(totp_secret_sealed, -4) || 'AAAA' where id = $1",
    )
    .bind(altered_id)
    .execute(&pool)
    .await
    .unwrap();
    let stored = || async {
        let rows: Vec<(Uuid, String)> =
            sqlx::query_as("select id, totp_secret_sealed from users where id = any($1)")
                .bind(vec![orphan[0].0, altered_id])
                .fetch_all(&pool)
                .await
                .unwrap();
        rows
    };
    let untouched = stored().await;
    app.stop().await;

    let cli = cli(&db, &new, Some(&old));
    let out = cli.run(&["kek", "rotate", "--json"], None).await;
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains(&format!(
            "TOTP secret of user {altered_id}: does not open under key-encryption key {}",
            kek_of(&old).id()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "0 signing keys and 1 TOTP secrets: sealed under key-encryption key {}, which is \
             neither the current nor the previous key",
            kek_of(&lost).id()
        )),
        "{}",
        out.stderr
    );
    let done: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(done["resealed"]["totp_secrets"], 1);
    assert_eq!(stored().await, untouched);
    let resealed: String = sqlx::query_scalar("select totp_kek_id from users where id = $1")
        .bind(good[0].0)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(resealed, kek_of(&new).id());

    let status = cli.run(&["kek", "status", "--json"], None).await.json();
    let roles: Vec<(String, i64)> = status["sealed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let role = s["role"].as_str().unwrap().to_owned();
            (role, s["totp_secrets"].as_i64().unwrap())
        })
        .collect();
    assert!(roles.contains(&("unknown".into(), 1)), "{roles:?}");
    assert!(roles.contains(&("previous".into(), 1)), "{roles:?}");
    assert_eq!(status["previous_removable"], false);
}

#[tokio::test]
async fn migration_0007_records_the_key_id_of_totp_secrets_sealed_before_it() {
    // The schema and a TOTP secret as the release before 0007 left them.
    let settings = Settings::new().await;
    let kek = settings.kek.clone();
    let db = settings.db.clone();
    db.create().await;
    let pool = db.pool().await;
    let mut before = sqlx::migrate::Migrator::new(std::path::Path::new("migrations"))
        .await
        .unwrap();
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 7)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&pool).await.unwrap();
    let (id, secret) = (Uuid::new_v4(), b"twenty bytes secret!".to_vec());
    sqlx::query(
        "insert into users (id, username, password_hash, totp_secret_sealed) \
         values ($1, 'early', 'not-a-hash', $2)",
    )
    .bind(id)
    .bind(kek_of(&kek).seal(&secret).unwrap())
    .execute(&pool)
    .await
    .unwrap();

    let app = settings.spawn().await;
    let kek_id: Option<String> = sqlx::query_scalar("select totp_kek_id from users where id = $1")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(kek_id.as_deref(), Some(kek_of(&kek).id()));
    let status = cli(&db, &kek, None)
        .run(&["kek", "status", "--json"], None)
        .await
        .json();
    assert_eq!(status["sealed"][0]["totp_secrets"], 1);
    assert_eq!(status["sealed"].as_array().unwrap().len(), 1);
}
