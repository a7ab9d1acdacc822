//! Black-box tests: the real app on a random port, a fresh PostgreSQL database per test, real
//! Redis with a key prefix per app. One test binary; one file per area.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
pub mod admin;
mod authorize_rules;
mod cli;
mod cluster;
mod device;
mod helpers;
mod keys;
mod login_rules;
pub mod machines;
mod ops;
mod password_policy;
mod proxy;
mod real_browser;
mod recovery_codes;
mod signin;
mod token_rules;
mod webdriver;
mod well_known;
