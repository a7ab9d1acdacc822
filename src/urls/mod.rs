//! Every URL the server writes (redirects, form actions, links in pages) is made here, from typed
//! pieces: [`Href`] joins path segments, percent-encoding each one (RFC 3986 §3.3: only the
//! unreserved characters of §2.3 stay as they are), so a value with `/`, `?`, `#` or `%` stays
//! one segment and can never climb into another route. Absolute URLs take their origin from the
//! configured issuer ([`Href::absolute`]), never from the request. The typed constructors below
//! name each page and action; templates call them and never join path pieces themselves.
//!
//! A segment that is only dots (`.`, `..`) cannot be addressed at all: browsers treat `%2E%2E`
//! like `..` (WHATWG URL, "double-dot URL path segment"). The builder still encodes it, and no
//! identifier that reaches a URL can be one: ids are UUIDs or generated, role names start with a
//! letter or digit.

use std::fmt::{self, Display};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::oidc::discovery::paths as endpoints;
use crate::sessions::pending::RequestId;

pub mod admin;
mod client;

pub use client::client_redirect;

/// Everything but RFC 3986 §2.3 unreserved characters (`ALPHA DIGIT - . _ ~`) is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path on this server (always starting with `/`), with an optional query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Href(String);

impl Href {
    /// `/`, to which segments are added.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// A path of fixed segments (written by us, never from input), like `["admin", "users"]`.
    pub fn of(segments: &[&str]) -> Self {
        segments.iter().fold(Self::root(), |href, s| href.seg(s))
    }

    /// Adds one segment, percent-encoded so it stays one segment whatever it holds.
    pub fn seg(mut self, segment: impl Display) -> Self {
        let raw = segment.to_string();
        self.0.push('/');
        if !raw.is_empty() && raw.bytes().all(|b| b == b'.') {
            // `.` is unreserved and would be left as is; encode it so nothing here writes a dot
            // segment literally (see the module note: such ids never reach a URL).
            self.0.push_str(&"%2E".repeat(raw.len()));
        } else {
            self.0.extend(utf8_percent_encode(&raw, SEGMENT));
        }
        self
    }

    /// Adds a query string (`application/x-www-form-urlencoded`, WHATWG URL §5).
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        if self.0.is_empty() {
            self.0.push('/');
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if !query.is_empty() {
            self.0.push('?');
            self.0.push_str(&query);
        }
        self
    }

    pub fn as_str(&self) -> &str {
        if self.0.is_empty() { "/" } else { &self.0 }
    }

    /// The absolute URL under `issuer` (the configured origin, without a trailing slash).
    pub fn absolute(&self, issuer: &str) -> String {
        format!("{}{}", issuer.trim_end_matches('/'), self.as_str())
    }

    /// A route of the router, as the constant it is registered under ([`paths`]): one place
    /// names each route, so a link and the route it points to cannot drift apart.
    pub fn route(path: &'static str) -> Self {
        Self(path.trim_end_matches('/').to_owned())
    }

    /// `?request=<id>`: the pending sign-in request a page continues, if any.
    pub fn continuing(self, request: Option<&RequestId>) -> Self {
        match request {
            Some(id) => self.query(&[("request", id.as_str())]),
            None => self,
        }
    }
}

impl Display for Href {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The paths of the pages a person sees, shared by the router (`crate::http::router`) and the
/// constructors below. The protocol endpoints are in [`crate::oidc::discovery::paths`].
pub mod paths {
    pub const AUTHORIZE_RESUME: &str = "/authorize/resume";
    pub const LOGIN: &str = "/login";
    pub const LOGIN_MFA: &str = "/login/mfa";
    pub const LOGIN_PASSKEY: &str = "/login/passkey";
    pub const LOGIN_PASSKEY_OPTIONS: &str = "/login/passkey/options";
    pub const LOGIN_CONFIRM_ADDRESS: &str = "/login/confirm-address";
    pub const CONSENT: &str = "/consent";
    pub const DEVICE: &str = "/device";
    pub const DEVICE_APPROVE: &str = "/device/approve";
    pub const DEVICE_DONE: &str = "/device/done";
    pub const ACCOUNT: &str = "/account";
    pub const ACCOUNT_TOTP: &str = "/account/totp";
    pub const ACCOUNT_TOTP_REMOVE: &str = "/account/totp/remove";
    pub const ACCOUNT_RECOVERY_CODES: &str = "/account/recovery-codes";
    pub const ACCOUNT_PASSWORD: &str = "/account/password";
    pub const ACCOUNT_PASSKEYS: &str = "/account/passkeys";
    pub const ACCOUNT_PASSKEYS_OPTIONS: &str = "/account/passkeys/options";
    pub const ACCOUNT_PASSKEYS_CONFIRM: &str = "/account/passkeys/confirm";
    pub const ACCOUNT_PASSWORDLESS: &str = "/account/passkeys/passwordless";
    pub const ACCOUNT_REVOKE_APPLICATION: &str = "/account/applications/revoke";
    pub const ACCOUNT_SIGN_OUT_EVERYWHERE: &str = "/account/sign-out-everywhere";
    pub const ACCOUNT_EMAIL: &str = "/account/email";
    pub const ACCOUNT_EMAIL_RESEND: &str = "/account/email/resend";
    pub const ACCOUNT_EMAIL_CONFIRM: &str = "/account/email/confirm";
    pub const ACCOUNT_INVITE: &str = "/account/invite";
    pub const LOGOUT_DONE: &str = "/logout/done";
    pub const PASSWORD_FORGOT: &str = "/password/forgot";
    pub const PASSWORD_RESET: &str = "/password/reset";
    pub const EMAIL_VERIFY: &str = "/email/verify";
    pub const INVITATION: &str = "/invitation";
    pub const INVITATION_PASSKEY: &str = "/invitation/passkey";
    pub const INVITATION_PASSKEY_OPTIONS: &str = "/invitation/passkey/options";
    pub const SIGNUP: &str = "/signup";
    pub const STYLESHEET: &str = "/static/portcullis.css";
    pub const PASSKEY_SCRIPT: &str = "/static/passkeys.js";
}

/// The stylesheet every page links to.
pub fn stylesheet() -> Href {
    Href::route(paths::STYLESHEET)
}

/// The one script, on the pages that offer passkeys (WebAuthn needs JavaScript).
pub fn passkey_script() -> Href {
    Href::route(paths::PASSKEY_SCRIPT)
}

/// The sign-in steps and the authorization request they continue (with
/// [`Href::continuing`]).
pub mod login {
    use super::{Href, endpoints, paths};

    pub fn password() -> Href {
        Href::route(paths::LOGIN)
    }

    pub fn second_factor() -> Href {
        Href::route(paths::LOGIN_MFA)
    }

    pub fn consent() -> Href {
        Href::route(paths::CONSENT)
    }

    /// Confirming with a passkey: the page that asks (a step-up to phishing-resistant sign-in),
    /// and where every passkey answer at sign-in is posted.
    pub fn passkey() -> Href {
        Href::route(paths::LOGIN_PASSKEY)
    }

    /// The options of a passkey ceremony at sign-in (JSON, for the script).
    pub fn passkey_options() -> Href {
        Href::route(paths::LOGIN_PASSKEY_OPTIONS)
    }

    /// An account made on the sign-up page whose address is not verified yet: what to do, and
    /// where the link is asked for again.
    pub fn confirm_address() -> Href {
        Href::route(paths::LOGIN_CONFIRM_ADDRESS)
    }

    /// Back to the authorization endpoint once sign-in or consent is done.
    pub fn resume() -> Href {
        Href::route(paths::AUTHORIZE_RESUME)
    }

    /// The sign-out page (OpenID Connect RP-Initiated Logout 1.0 §2) and its form.
    pub fn logout() -> Href {
        Href::route(endpoints::END_SESSION)
    }

    pub fn logged_out() -> Href {
        Href::route(paths::LOGOUT_DONE)
    }
}

/// The device flow's pages (RFC 8628 §3.3).
pub mod device {
    use super::{Href, paths};

    /// Where a person types the user code: the `verification_uri` (RFC 8628 §3.2), absolute
    /// under the issuer.
    pub fn enter() -> Href {
        Href::route(paths::DEVICE)
    }

    /// `verification_uri_complete` (RFC 8628 §3.3.1): the same page with the code filled in.
    pub fn enter_code(user_code: &str) -> Href {
        enter().query(&[("user_code", user_code)])
    }

    pub fn approve() -> Href {
        Href::route(paths::DEVICE_APPROVE)
    }

    pub fn done(approved: bool) -> Href {
        let done = Href::route(paths::DEVICE_DONE);
        if approved {
            done.query(&[("approved", "1")])
        } else {
            done
        }
    }
}

/// A person's own account pages and the actions they post to.
pub mod account {
    use super::{Href, paths};

    pub fn overview() -> Href {
        Href::route(paths::ACCOUNT)
    }

    pub fn totp() -> Href {
        Href::route(paths::ACCOUNT_TOTP)
    }

    pub fn remove_totp() -> Href {
        Href::route(paths::ACCOUNT_TOTP_REMOVE)
    }

    pub fn recovery_codes() -> Href {
        Href::route(paths::ACCOUNT_RECOVERY_CODES)
    }

    pub fn password() -> Href {
        Href::route(paths::ACCOUNT_PASSWORD)
    }

    /// The person's passkeys, and where a new one's answer is posted.
    pub fn passkeys() -> Href {
        Href::route(paths::ACCOUNT_PASSKEYS)
    }

    /// The options of a registration ceremony (JSON, for the script).
    pub fn passkey_options() -> Href {
        Href::route(paths::ACCOUNT_PASSKEYS_OPTIONS)
    }

    /// Entering a second factor again before adding or removing a passkey.
    pub fn confirm_passkeys() -> Href {
        Href::route(paths::ACCOUNT_PASSKEYS_CONFIRM)
    }

    /// Stopping to use the password (passkeys only).
    pub fn passwordless() -> Href {
        Href::route(paths::ACCOUNT_PASSWORDLESS)
    }

    pub fn rename_passkey(id: uuid::Uuid) -> Href {
        passkeys().seg(id).seg("rename")
    }

    pub fn remove_passkey(id: uuid::Uuid) -> Href {
        passkeys().seg(id).seg("remove")
    }

    pub fn revoke_application() -> Href {
        Href::route(paths::ACCOUNT_REVOKE_APPLICATION)
    }

    pub fn sign_out_everywhere() -> Href {
        Href::route(paths::ACCOUNT_SIGN_OUT_EVERYWHERE)
    }

    /// Changing or removing the account's address.
    pub fn email() -> Href {
        Href::route(paths::ACCOUNT_EMAIL)
    }

    /// Sending the verification link again.
    pub fn resend_email() -> Href {
        Href::route(paths::ACCOUNT_EMAIL_RESEND)
    }

    /// Entering a second factor again before changing the address.
    pub fn confirm_email() -> Href {
        Href::route(paths::ACCOUNT_EMAIL_CONFIRM)
    }

    /// Inviting someone by address (`PORTCULLIS_SIGNUP=invite`).
    pub fn invite() -> Href {
        Href::route(paths::ACCOUNT_INVITE)
    }
}

/// The pages links in mails lead to, and the pages that send such mails. A link carries its
/// token in the query (`?token=`): the access log writes paths only, and the pages set
/// `Referrer-Policy: no-referrer`, so the token goes nowhere else.
pub mod mail {
    use super::{Href, paths};
    use crate::mail::links::Purpose;

    /// Where a link of `purpose` leads.
    pub fn link_page(purpose: Purpose) -> Href {
        Href::route(match purpose {
            Purpose::Verify => paths::EMAIL_VERIFY,
            Purpose::Reset => paths::PASSWORD_RESET,
            Purpose::Invite => paths::INVITATION,
        })
    }

    /// The absolute URL of a link of `purpose` with `token`, under the issuer.
    pub fn link(issuer: &str, purpose: Purpose, token: &str) -> String {
        link_page(purpose)
            .query(&[("token", token)])
            .absolute(issuer)
    }

    /// The page a verification link leads to, and where its form posts.
    pub fn verify_email() -> Href {
        link_page(Purpose::Verify)
    }

    /// The invitation page's passkey ceremony: its options, and where the answer goes.
    pub fn invitation_passkey_options() -> Href {
        Href::route(paths::INVITATION_PASSKEY_OPTIONS)
    }

    pub fn invitation_passkey() -> Href {
        Href::route(paths::INVITATION_PASSKEY)
    }

    pub fn invitation() -> Href {
        Href::route(paths::INVITATION)
    }

    pub fn forgot_password() -> Href {
        Href::route(paths::PASSWORD_FORGOT)
    }

    /// What `/password/forgot` answers every request with: a link was sent if an account matched.
    pub fn forgot_password_sent() -> Href {
        forgot_password().query(&[("sent", "1")])
    }

    pub fn signup() -> Href {
        Href::route(paths::SIGNUP)
    }
}

#[cfg(test)]
mod tests;
