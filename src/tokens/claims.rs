//! The names of the claims that the tokens carry (RFC 7519 §4.1, RFC 9068 §2.2, OIDC Core §2,
//! §5.1), spelled once: the builders in [`super`] write them, [`super::access`] and the sign-out
//! check read them, and discovery advertises [`SUPPORTED`] (`claims_supported`, OIDC Discovery
//! §3), so a claim cannot be advertised that no token carries, nor carried under another name.

/// Issuer (RFC 7519 §4.1.1).
pub const ISS: &str = "iss";
/// Subject (RFC 7519 §4.1.2): see [`super::subject`].
pub const SUB: &str = "sub";
/// Audience (RFC 7519 §4.1.3).
pub const AUD: &str = "aud";
/// Expiry, whole seconds (RFC 7519 §4.1.4).
pub const EXP: &str = "exp";
/// Issued at, whole seconds (RFC 7519 §4.1.6).
pub const IAT: &str = "iat";
/// Token id (RFC 7519 §4.1.7), the key of the access-token denylist.
pub const JTI: &str = "jti";
/// When the person signed in (OIDC Core §2); only a person's tokens carry it.
pub const AUTH_TIME: &str = "auth_time";
/// The client's `nonce`, echoed in the ID token (OIDC Core §3.1.2.1).
pub const NONCE: &str = "nonce";
/// Authentication context class (OIDC Core §2): a rung of [`crate::acr::Level`].
pub const ACR: &str = "acr";
/// Authentication methods (RFC 8176).
pub const AMR: &str = "amr";
/// The session id, for sign-out (OIDC Front-Channel Logout §3).
pub const SID: &str = "sid";
/// The client an access token was issued to (RFC 9068 §2.2).
pub const CLIENT_ID: &str = "client_id";
/// The granted scopes, space-separated (RFC 9068 §2.2.3).
pub const SCOPE: &str = "scope";
/// Hash of the access token issued with an ID token (OIDC Core §3.1.3.6).
pub const AT_HASH: &str = "at_hash";
/// Authorized party: the client an ID token is for (OIDC Core §2).
pub const AZP: &str = "azp";
/// The grant (refresh-token family) an access token belongs to (see
/// [`super::access::GRANT_CLAIM`]).
pub const GRANT_ID: &str = "grant_id";
/// The `profile` scope's claims (OIDC Core §5.1).
pub const NAME: &str = "name";
pub const PREFERRED_USERNAME: &str = "preferred_username";
/// The `email` scope's claims (OIDC Core §5.1).
pub const EMAIL: &str = "email";
pub const EMAIL_VERIFIED: &str = "email_verified";
/// The `roles` and `groups` scopes' claims (RFC 9068 §2.2.3.1 names both).
pub const ROLES: &str = "roles";
pub const GROUPS: &str = "groups";

/// The claims advertised (OIDC Discovery §3 `claims_supported`): those an ID token or userinfo
/// may carry about the person and how they signed in. Access-token bookkeeping (`jti`,
/// `client_id`, `scope`, `grant_id`) and the ID token's own checks (`at_hash`, `azp`) are not
/// claims a relying party asks for, so they are left out.
pub const SUPPORTED: [&str; 16] = [
    ISS,
    SUB,
    AUD,
    EXP,
    IAT,
    AUTH_TIME,
    NONCE,
    ACR,
    AMR,
    SID,
    NAME,
    PREFERRED_USERNAME,
    EMAIL,
    EMAIL_VERIFIED,
    ROLES,
    GROUPS,
];
