//! What Portcullis sends by mail, read from a real SMTP server ([`crate::mailbox`]): the outbox,
//! invitations, and (in their files) resets, addresses and sign-up.

mod address;
mod invitation;
mod invitation_browser;
mod outbox;
mod reset;
mod reset_abuse;
mod reset_browser;
mod signup;
mod signup_browser;
mod signup_other;
