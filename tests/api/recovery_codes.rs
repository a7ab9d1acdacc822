//! Recovery codes carry at least 112 bits (ASVS 5.0 V6.5.2): 24 characters of Crockford's
//! base32, shown in six groups of four; one works once, typed in any case with or without
//! dashes; a wrong one is refused.

use crate::helpers::{TestApp, location, totp_now};
use crate::signin::{browser, page, password_step, sign_in, submit};

const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn secret_on_page(html: &str) -> String {
    let start = html.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    html[start..].split('<').next().unwrap().replace(' ', "")
}

fn codes_on_page(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|part| part.split('<').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn recovery_codes_have_120_bits_and_each_works_once() {
    let app = TestApp::spawn().await;
    let mut user = app.user("ursula", false).await;
    let b = browser();
    sign_in(&app, &b, &user).await;
    let secret = secret_on_page(&page(&app, &b, "/account/totp").await);
    let response = submit(&app, &b, "/account/totp", &[("code", &totp_now(&secret))]).await;
    assert_eq!(location(&response), "/account/recovery-codes");
    user.totp = Some(secret);
    let codes = codes_on_page(&page(&app, &b, "/account/recovery-codes").await);
    assert_eq!(codes.len(), 10);
    for code in &codes {
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 6, "{code}");
        assert!(groups.iter().all(|g| g.len() == 4), "{code}");
        let symbols: String = groups.concat();
        assert!(symbols.chars().all(|c| ALPHABET.contains(c)), "{code}");
        // 24 symbols of a 32-symbol alphabet: 120 bits.
        assert!(symbols.len() * 5 >= 112);
    }

    // A wrong code of the right shape is refused.
    let wrong = browser();
    password_step(&app, &wrong, &user).await;
    let response = submit(
        &app,
        &wrong,
        "/login/mfa",
        &[("code", "0000-0000-0000-0000-0000-0000")],
    )
    .await;
    assert_eq!(location(&response), "/login/mfa");

    // One works once, in lower case and without dashes.
    let typed = codes[3].replace('-', "").to_lowercase();
    let first = browser();
    password_step(&app, &first, &user).await;
    let response = submit(&app, &first, "/login/mfa", &[("code", &typed)]).await;
    assert_ne!(location(&response), "/login/mfa", "the code is accepted");
    let again = browser();
    password_step(&app, &again, &user).await;
    let response = submit(&app, &again, "/login/mfa", &[("code", &codes[3])]).await;
    assert_eq!(location(&response), "/login/mfa", "a used code is refused");
}
