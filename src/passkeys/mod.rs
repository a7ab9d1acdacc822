//! Passkeys (WebAuthn Level 3 credentials, user verification required) through `webauthn-rs`:
//! the relying party ([`RelyingParty`], its id and origin from the issuer), the sign-in policy
//! ([`Policy`], `PORTCULLIS_PASSKEYS`), the stored credentials ([`store`]) and the ceremonies in
//! progress ([`ceremony`], kept in Redis so a ceremony started on one replica finishes on any
//! other). A user-verified passkey is multi-factor by itself and bound to the origin, the top of the
//! authentication ladder ([`crate::acr::Level::PhishingResistant`]).

pub mod assertion;
pub mod ceremony;
pub mod registration;
pub mod store;

use std::time::Duration;

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::acr::Level;

/// How long a ceremony may take, from the options to the answer (WebAuthn §5.4 `timeout`); its
/// state expires in Redis after this.
pub const CEREMONY_TTL: Duration = Duration::from_secs(300);

/// The most passkeys one account may hold.
pub const MAX_PER_USER: i64 = 20;

/// Which sign-in methods are allowed and required (`PORTCULLIS_PASSKEYS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// No passkeys: the pages do not offer them and their endpoints answer 404.
    Off,
    /// People may add passkeys and sign in with them; nothing requires them.
    Optional,
    /// As `optional`, and the admin console requires phishing-resistant sign-in.
    RequiredForAdmins,
    /// Every sign-in for an application, and the admin console, must be phishing-resistant;
    /// a password still reaches the account page, to add a passkey.
    Required,
}

impl Policy {
    pub const ALL: [Policy; 4] = [
        Policy::Off,
        Policy::Optional,
        Policy::RequiredForAdmins,
        Policy::Required,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Policy::Off => "off",
            Policy::Optional => "optional",
            Policy::RequiredForAdmins => "required-for-admins",
            Policy::Required => "required",
        }
    }

    pub fn parse(raw: &str) -> Result<Policy, String> {
        Policy::ALL
            .into_iter()
            .find(|p| p.as_str() == raw)
            .ok_or_else(|| {
                format!(
                    "`{raw}` is not allowed; use off, optional, required-for-admins or required"
                )
            })
    }

    pub fn enabled(self) -> bool {
        self != Policy::Off
    }

    /// The lowest level an application may be signed in to under this policy.
    pub fn application_floor(self) -> Level {
        match self {
            Policy::Required => Level::PhishingResistant,
            _ => Level::Password,
        }
    }

    /// The lowest level the admin console accepts under this policy (it asks for a second factor
    /// anyway, [`crate::http::admin`]).
    pub fn admin_floor(self) -> Level {
        match self {
            Policy::RequiredForAdmins | Policy::Required => Level::PhishingResistant,
            _ => Level::TwoFactor,
        }
    }
}

/// The relying party: Portcullis as WebAuthn sees it.
pub struct RelyingParty {
    webauthn: Webauthn,
    pub rp_id: String,
}

impl RelyingParty {
    /// The relying party for `issuer` with id `rp_id` (the issuer's host, or a parent domain of
    /// it, WebAuthn §5.1.4.1 step 8 / §13.4.9), whose only origin is the issuer's.
    pub fn new(issuer: &str, rp_id: &str) -> Result<RelyingParty, String> {
        let issuer_url = Url::parse(issuer).map_err(|e| format!("issuer: {e}"))?;
        let origin = Url::parse(&issuer_url.origin().ascii_serialization())
            .map_err(|e| format!("issuer origin: {e}"))?;
        let webauthn = WebauthnBuilder::new(rp_id, &origin)
            .map_err(|e| format!("relying party `{rp_id}` for {origin}: {e}"))?
            .rp_name(rp_id)
            .timeout(CEREMONY_TTL)
            .build()
            .map_err(|e| format!("relying party `{rp_id}`: {e}"))?;
        Ok(RelyingParty {
            webauthn,
            rp_id: rp_id.to_owned(),
        })
    }

    pub fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}

/// The relying party id for `issuer`: `configured` when set (it must be the issuer's host or a
/// parent domain of it), else the issuer's host. `Err` says why there can be none: browsers refuse
/// an IP address as the id (WebAuthn §5.1.4.1: a valid domain).
pub fn rp_id_for(issuer: &str, configured: Option<&str>) -> Result<String, String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("issuer: {e}"))?;
    let host = match url.host() {
        Some(url::Host::Domain(host)) => host.to_ascii_lowercase(),
        Some(_) => {
            return Err(format!(
                "the issuer's host is an IP address, which browsers refuse as a passkey relying \
                 party id; use a host name (`localhost` for trials) or set PORTCULLIS_PASSKEY_RP_ID \
                 ({issuer})"
            ));
        }
        None => return Err(format!("the issuer has no host ({issuer})")),
    };
    let Some(rp_id) = configured.map(|c| c.trim().to_ascii_lowercase()) else {
        return Ok(host);
    };
    let suffix = host == rp_id || host.ends_with(&format!(".{rp_id}"));
    if rp_id.is_empty() || !rp_id.contains(|c: char| c.is_ascii_alphabetic()) || !suffix {
        return Err(format!(
            "`{rp_id}` is neither the issuer's host `{host}` nor a parent domain of it"
        ));
    }
    Ok(rp_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rp_id_is_the_issuers_host_or_a_parent_domain() {
        let issuer = "https://id.example.com";
        assert_eq!(rp_id_for(issuer, None).unwrap(), "id.example.com");
        assert_eq!(
            rp_id_for(issuer, Some("example.com")).unwrap(),
            "example.com"
        );
        assert_eq!(
            rp_id_for("http://localhost:8080", None).unwrap(),
            "localhost"
        );
        assert!(rp_id_for(issuer, Some("ample.com")).is_err());
        assert!(rp_id_for(issuer, Some("other.org")).is_err());
        assert!(rp_id_for("http://127.0.0.1:8080", None).is_err());
        assert!(rp_id_for("http://[::1]:8080", None).is_err());
    }

    #[test]
    fn a_relying_party_is_built_for_its_issuer() {
        let rp = RelyingParty::new("https://id.example.com/base", "example.com").unwrap();
        assert_eq!(rp.rp_id, "example.com");
        assert!(RelyingParty::new("https://id.example.com", "other.org").is_err());
    }

    #[test]
    fn policies_parse_and_set_floors() {
        for policy in Policy::ALL {
            assert_eq!(Policy::parse(policy.as_str()), Ok(policy));
        }
        assert!(Policy::parse("on").is_err());
        assert_eq!(
            Policy::Required.application_floor(),
            Level::PhishingResistant
        );
        assert_eq!(
            Policy::RequiredForAdmins.application_floor(),
            Level::Password
        );
        assert_eq!(
            Policy::RequiredForAdmins.admin_floor(),
            Level::PhishingResistant
        );
        assert_eq!(Policy::Optional.admin_floor(), Level::TwoFactor);
    }
}
