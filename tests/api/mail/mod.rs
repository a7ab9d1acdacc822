//! What the app sends by mail, read from a real SMTP server (`crate::mailbox`).

mod reset;
mod reset_abuse;
mod reset_browser;
