//! OAuth 2.0 protocol logic that does not depend on HTTP. For now the error codes every OAuth
//! endpoint answers with; grants join as they are built.

pub mod error;
