//! What the app sends by mail, received by a real SMTP server ([`crate::mailbox`]).

mod address;
