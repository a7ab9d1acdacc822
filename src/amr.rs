//! How a person proved who they are: Authentication Method Reference values (RFC 8176 §2),
//! recorded in the session at sign-in and carried into codes, refresh tokens (a `text[]`
//! column), the `amr` claim of ID and access tokens (OIDC Core §2), and audit details. Only the
//! values Portcullis produces are variants, so a stored value it never wrote fails to decode
//! rather than passing through unseen. Each serializes as its RFC 8176 string (`"pwd"`).

use serde::{Deserialize, Serialize};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

/// One authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Amr {
    /// Password-based authentication (RFC 8176 §2 `pwd`).
    Pwd,
    /// A one-time password (RFC 8176 §2 `otp`): a TOTP code or a recovery code.
    Otp,
    /// Proof of possession of a hardware-secured key (RFC 8176 §2 `hwk`): a passkey that cannot
    /// leave its authenticator (not backup eligible, WebAuthn §6.1.3 `BE`).
    Hwk,
    /// Proof of possession of a software-secured key (RFC 8176 §2 `swk`): a synced passkey.
    Swk,
    /// A user presence test (RFC 8176 §2 `user`); passkeys here also require user verification.
    User,
    /// Multiple-factor authentication (RFC 8176 §2 `mfa`): a user-verified passkey is something
    /// the person has and something they know or are.
    Mfa,
}

impl Amr {
    /// The RFC 8176 value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Amr::Pwd => "pwd",
            Amr::Otp => "otp",
            Amr::Hwk => "hwk",
            Amr::Swk => "swk",
            Amr::User => "user",
            Amr::Mfa => "mfa",
        }
    }

    /// Every method Portcullis records.
    pub const ALL: [Amr; 6] = [Amr::Pwd, Amr::Otp, Amr::Hwk, Amr::Swk, Amr::User, Amr::Mfa];

    /// The method named by `value`, if Portcullis uses it.
    pub fn parse(value: &str) -> Option<Amr> {
        Amr::ALL.into_iter().find(|m| m.as_str() == value)
    }

    /// What a user-verified passkey adds: the key (`hwk` when it cannot leave its authenticator,
    /// `swk` when it may be synced), `user`, and `mfa`.
    pub fn passkey(backup_eligible: bool) -> [Amr; 3] {
        let key = if backup_eligible { Amr::Swk } else { Amr::Hwk };
        [key, Amr::User, Amr::Mfa]
    }

    /// Whether `methods` include a second factor beyond the password: a one-time code or a
    /// passkey.
    pub fn second_factor(methods: &[Amr]) -> bool {
        methods
            .iter()
            .any(|m| matches!(m, Amr::Otp | Amr::Hwk | Amr::Swk))
    }

    /// Whether `methods` include a passkey (a key bound to the origin: phishing-resistant).
    pub fn passkey_used(methods: &[Amr]) -> bool {
        methods.iter().any(|m| matches!(m, Amr::Hwk | Amr::Swk))
    }
}

impl std::fmt::Display for Amr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// Stored as `text` (and `text[]`), the way the column held the strings before.
impl Type<Postgres> for Amr {
    fn type_info() -> PgTypeInfo {
        <&str as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as Type<Postgres>>::compatible(ty)
    }
}

impl PgHasArrayType for Amr {
    fn array_type_info() -> PgTypeInfo {
        <&str as PgHasArrayType>::array_type_info()
    }

    fn array_compatible(ty: &PgTypeInfo) -> bool {
        <&str as PgHasArrayType>::array_compatible(ty)
    }
}

impl Encode<'_, Postgres> for Amr {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&str as Encode<Postgres>>::encode(self.as_str(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for Amr {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let raw = <&str as Decode<Postgres>>::decode(value)?;
        Amr::parse(raw).ok_or_else(|| format!("unknown amr value `{raw}`").into())
    }
}

#[cfg(test)]
mod tests {
    use super::Amr;

    #[test]
    fn serializes_as_the_rfc_8176_value() {
        let json = serde_json::to_value([Amr::Pwd, Amr::Otp]).unwrap();
        assert_eq!(json, serde_json::json!(["pwd", "otp"]));
        let back: Vec<Amr> = serde_json::from_value(json).unwrap();
        assert_eq!(back, [Amr::Pwd, Amr::Otp]);
        assert!(serde_json::from_str::<Amr>("\"sms\"").is_err());
    }

    #[test]
    fn parses_what_it_writes_and_nothing_else() {
        for m in Amr::ALL {
            assert_eq!(Amr::parse(m.as_str()), Some(m));
            assert_eq!(m.to_string(), m.as_str());
        }
        assert_eq!(Amr::parse("PWD"), None);
        assert_eq!(Amr::parse("sms"), None);
    }

    #[test]
    fn a_second_factor_is_an_otp() {
        assert!(!Amr::second_factor(&[Amr::Pwd]));
        assert!(Amr::second_factor(&[Amr::Pwd, Amr::Otp]));
        assert!(!Amr::second_factor(&[]));
        assert!(Amr::second_factor(&Amr::passkey(false)));
        assert!(Amr::passkey_used(&Amr::passkey(true)));
        assert!(!Amr::passkey_used(&[Amr::Pwd, Amr::Otp]));
    }
}
