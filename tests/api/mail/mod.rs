//! What Portcullis sends by mail, read from a real SMTP server ([`crate::mailbox`]): the outbox,
//! invitations, and (in their files) resets, addresses and sign-up.

mod invitation;
mod outbox;
mod signup;
mod signup_browser;
mod signup_other;
