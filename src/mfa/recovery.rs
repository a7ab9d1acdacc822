//! Recovery codes: ten single-use codes for when the authenticator is lost, shown once and
//! stored as SHA-256. Each code is 120 random bits, written as 24 characters of Crockford's
//! base32 in six groups (`7KDM-2QX9-TA4R-...`), and entered without regard to case, spaces or
//! dashes (`o`, `i` and `l` read as `0`, `1` and `1`).
//!
//! ASVS 5.0 V6.5.2 asks for a salted password hash only for lookup secrets of fewer than 112 bits;
//! with 120 bits a single unsalted SHA-256 is an approved way to store them (no table or guessing
//! can cover 2^120 codes), and it keeps `redeem` to one indexed update.
//! Codes made before codes had 120 bits (10 characters, 50 bits) still work until they are used
//! or replaced: the stored format did not change, and nobody is locked out by the change.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::crypto::{random_bytes, sha256};
use crate::error::Result;
use crate::secret::Secret;

/// Crockford's base32 alphabet in lower case (no i, l, o, u: fewer look-alikes).
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
pub const COUNT: usize = 10;
/// Random bytes in a code: 15 bytes = 120 bits = 24 base32 characters.
const BYTES: usize = 15;
/// Characters in a code, and in a code made before codes had 120 bits.
pub const LENGTH: usize = BYTES * 8 / 5;
const LEGACY_LENGTH: usize = 10;
// 24 characters of a 32-letter alphabet: 24 × 5 = 120 bits (ASVS 5.0 V6.5.2: at least 112).
const _: () = assert!(LENGTH * 5 >= 112);
/// Characters per group as shown.
const GROUP: usize = 4;

/// What a person typed, as stored (lower-case base32 without separators), or `None` if it
/// cannot be a recovery code. Separators are anything but letters and digits.
pub fn normalize(typed: &str) -> Option<String> {
    let mut code = String::with_capacity(LENGTH);
    for c in typed.chars().filter(char::is_ascii_alphanumeric) {
        if code.len() == LENGTH {
            return None;
        }
        let c = match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        };
        if !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        code.push(c);
    }
    matches!(code.len(), LENGTH | LEGACY_LENGTH).then_some(code)
}

/// `bytes` in base32, five bits per character (the length is a multiple of five bytes).
fn base32(bytes: &[u8; BYTES]) -> String {
    let mut out = String::with_capacity(LENGTH);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    out
}

/// A code as shown: upper case, in dash-separated groups, like `7KDM-2QX9-TA4R-0BCN-HE3W-ZZ1P`.
fn shown(code: &str) -> String {
    let upper = code.to_ascii_uppercase();
    let groups: Vec<&str> = (0..upper.len())
        .step_by(GROUP)
        .filter_map(|at| upper.get(at..(at + GROUP).min(upper.len())))
        .collect();
    groups.join("-")
}

fn generate() -> Secret<String> {
    Secret::new(shown(&base32(&random_bytes::<BYTES>())))
}

/// Replaces the user's recovery codes with ten new ones, returned to be shown once.
pub async fn regenerate(pool: &PgPool, user_id: Uuid) -> Result<Vec<Secret<String>>> {
    let codes: Vec<Secret<String>> = (0..COUNT).map(|_| generate()).collect();
    let mut tx = pool.begin().await?;
    delete_all(&mut tx, user_id).await?;
    for code in &codes {
        let stored = normalize(code.expose()).unwrap_or_default();
        sqlx::query("insert into recovery_codes (user_id, code_hash) values ($1, $2) on conflict do nothing")
            .bind(user_id)
            .bind(sha256(stored.as_bytes()).to_vec())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(codes)
}

/// Deletes every recovery code of the user, in the caller's transaction: the second factor
/// they stand in for was removed (or new codes replace them).
pub async fn delete_all(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from recovery_codes where user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Uses a recovery code: true if it was the user's and unused (it is now used).
pub async fn redeem(pool: &PgPool, user_id: Uuid, code: &str) -> Result<bool> {
    let Some(code) = normalize(code) else {
        return Ok(false);
    };
    let used = sqlx::query(
        "update recovery_codes set used_at = now() where user_id = $1 and code_hash = $2 and used_at is null",
    )
    .bind(user_id)
    .bind(sha256(code.as_bytes()).to_vec())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(used == 1)
}

/// How many unused recovery codes the user has left.
pub async fn remaining(pool: &PgPool, user_id: Uuid) -> Result<i64> {
    sqlx::query_scalar("select count(*) from recovery_codes where user_id = $1 and used_at is null")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn codes_carry_120_bits_in_six_groups() {
        let code = generate();
        let code = code.expose();
        assert_eq!(code.len(), 29, "{code}");
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 6);
        assert!(groups.iter().all(|g| g.len() == 4));
        assert!(
            code.bytes()
                .all(|b| b == b'-' || ALPHABET.contains(&b.to_ascii_lowercase()))
        );
        assert_ne!(generate().expose(), code);
    }

    #[test]
    fn base32_uses_every_bit() {
        assert_eq!(base32(&[0; BYTES]), "0".repeat(LENGTH));
        assert_eq!(base32(&[0xff; BYTES]), "z".repeat(LENGTH));
        let mut one = [0; BYTES];
        one[BYTES - 1] = 1;
        assert_eq!(base32(&one), format!("{}1", "0".repeat(LENGTH - 1)));
    }

    #[test]
    fn typing_is_forgiving_but_not_loose() {
        let stored = "7kdm2qx9ta4r0bcnhe3wzz1p";
        for typed in [
            "7KDM-2QX9-TA4R-0BCN-HE3W-ZZ1P",
            "7kdm 2qx9 ta4r 0bcn he3w zz1p",
            "7KDM2QX9TA4ROBCNHE3WZZIP",
            " 7kdm-2qx9-ta4r-0bcn-he3w-zzlp ",
        ] {
            assert_eq!(normalize(typed).as_deref(), Some(stored), "{typed}");
        }
        // A code of the old shape still reads; other lengths and letters do not.
        assert_eq!(normalize("K7DM2-QX9TA").as_deref(), Some("k7dm2qx9ta"));
        for bad in [
            "",
            "7kdm-2qx9",
            "7KDM-2QX9-TA4R-0BCN-HE3W-ZZ1PX",
            "uuuu-uuuu-uu",
            "ümlaut",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn normalizing_is_stable(typed in "\\PC{0,40}") {
            if let Some(code) = normalize(&typed) {
                for again in [code.clone(), shown(&code), code.to_uppercase()] {
                    prop_assert_eq!(normalize(&again), Some(code.clone()));
                }
            }
        }

        #[test]
        fn every_code_reads_back(bytes in proptest::array::uniform15(any::<u8>())) {
            let code = base32(&bytes);
            prop_assert_eq!(normalize(&shown(&code)), Some(code));
        }
    }
}
