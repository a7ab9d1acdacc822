//! TOTP enrollment and checking (RFC 6238) on top of totp-rs. The secret is 160 random bits
//! (RFC 4226 §4 recommends at least that), shown once as base32 and as an `otpauth://` URL for
//! authenticator apps, and stored sealed under the key-encryption key.

use totp_rs::{Builder, Secret as TotpSecret, Totp};

use crate::crypto::Kek;
use crate::secret::Secret;

/// The name authenticator apps show next to the account.
pub const TOTP_ISSUER: &str = "Portcullis";

/// A new TOTP secret, with what to show the user once and what to store.
pub struct Enrollment {
    pub secret_base32: Secret<String>,
    pub otpauth_url: Secret<String>,
    /// The secret sealed under the key-encryption key, for `users.totp_secret_sealed`.
    pub sealed: String,
}

fn totp(secret: TotpSecret, account: &str) -> anyhow::Result<Totp> {
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(TOTP_ISSUER))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot set up TOTP: {e}"))
}

/// Generates a secret for `account` (the username) and seals it.
pub fn enroll(account: &str, kek: &Kek) -> anyhow::Result<Enrollment> {
    let secret = TotpSecret::generate();
    let sealed = kek.seal(secret.as_bytes())?;
    let secret_base32 = Secret::new(secret.to_base32());
    let totp = totp(secret, account)?;
    let otpauth_url = Secret::new(
        totp.to_url()
            .map_err(|e| anyhow::anyhow!("cannot build the otpauth URL: {e}"))?,
    );
    Ok(Enrollment {
        secret_base32,
        otpauth_url,
        sealed,
    })
}

/// What to show again for a sealed secret that is still being enrolled.
pub fn reveal(sealed: &str, account: &str, kek: &Kek) -> anyhow::Result<Enrollment> {
    let bytes = open(sealed, kek)?;
    let secret = TotpSecret::from(bytes.expose().as_slice());
    let secret_base32 = Secret::new(secret.to_base32());
    let url = totp(secret, account)?
        .to_url()
        .map_err(|e| anyhow::anyhow!("cannot build the otpauth URL: {e}"))?;
    Ok(Enrollment {
        secret_base32,
        otpauth_url: Secret::new(url),
        sealed: sealed.to_owned(),
    })
}

/// The secret in `sealed`; an error names what failed to open.
fn open(sealed: &str, kek: &Kek) -> anyhow::Result<Secret<Vec<u8>>> {
    kek.open(sealed)
        .map_err(|e| anyhow::anyhow!("TOTP secret: {e}"))
}

/// A QR code of `text` as an SVG `data:` URI, rendered on the server (no script needed).
pub fn qr_data_uri(text: &str) -> anyhow::Result<String> {
    use base64::Engine as _;
    let code = qrcode::QrCode::new(text.as_bytes())?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// Checks `code` against a sealed secret at the current time, allowing one step of skew. Returns
/// the matched time step, which the caller stores to refuse a replay (RFC 6238 §5.2).
pub fn check(sealed: &str, code: &str, kek: &Kek) -> anyhow::Result<Option<u64>> {
    let bytes = open(sealed, kek)?;
    let totp = totp(TotpSecret::from(bytes.expose().as_slice()), "")?;
    Ok(totp.check_current(code.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random_bytes;

    #[test]
    fn an_enrolled_secret_checks_the_current_code_only() {
        let kek = Kek::new(random_bytes());
        let enrollment = enroll("alice", &kek).unwrap();
        assert!(
            enrollment
                .otpauth_url
                .expose()
                .starts_with("otpauth://totp/Portcullis:alice?")
        );
        assert!(
            enrollment
                .otpauth_url
                .expose()
                .contains(enrollment.secret_base32.expose().as_str())
        );
        let secret = TotpSecret::try_from_base32(enrollment.secret_base32.expose()).unwrap();
        let code = totp(secret, "alice")
            .unwrap()
            .generate_current()
            .to_string();
        assert!(check(&enrollment.sealed, &code, &kek).unwrap().is_some());
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert_eq!(check(&enrollment.sealed, wrong, &kek).unwrap(), None);
    }
}
