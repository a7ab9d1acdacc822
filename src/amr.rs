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
}

impl Amr {
    /// The RFC 8176 value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Amr::Pwd => "pwd",
            Amr::Otp => "otp",
        }
    }

    /// The method named by `value`, if Portcullis uses it.
    pub fn parse(value: &str) -> Option<Amr> {
        [Amr::Pwd, Amr::Otp]
            .into_iter()
            .find(|m| m.as_str() == value)
    }

    /// Whether `methods` include a second factor beyond the password.
    pub fn second_factor(methods: &[Amr]) -> bool {
        methods.contains(&Amr::Otp)
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
        assert!(serde_json::from_str::<Amr>("\"hwk\"").is_err());
    }

    #[test]
    fn parses_what_it_writes_and_nothing_else() {
        for m in [Amr::Pwd, Amr::Otp] {
            assert_eq!(Amr::parse(m.as_str()), Some(m));
            assert_eq!(m.to_string(), m.as_str());
        }
        assert_eq!(Amr::parse("PWD"), None);
        assert_eq!(Amr::parse("mfa"), None);
    }

    #[test]
    fn a_second_factor_is_an_otp() {
        assert!(!Amr::second_factor(&[Amr::Pwd]));
        assert!(Amr::second_factor(&[Amr::Pwd, Amr::Otp]));
        assert!(!Amr::second_factor(&[]));
    }
}
