//! Black-box tests: the real app on a random port, a fresh PostgreSQL database per test, real
//! Redis with a key prefix per app. One test binary; one file per area.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod account_confirm;
pub mod acr_levels;
pub mod admin;
mod authorize_prompts;
mod authorize_rules;
mod cleanup;
mod cli;
mod cluster;
mod cors;
mod device;
mod device_polling;
mod edges;
mod helpers;
mod keys;
mod limits;
mod lockout;
mod login_rules;
mod logout_hints;
pub mod machines;
mod mail;
mod mailbox;
mod ops;
mod oversized;
mod passkeys;
mod password_policy;
mod pending_requests;
mod proxy;
pub mod real_browser;
mod recovery_codes;
mod redirect_values;
mod signin;
mod signin_steps;
mod token_access;
mod token_rules;
mod traces;
mod webdriver;
mod well_known;
