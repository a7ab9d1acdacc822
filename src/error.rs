//! The domain's one error type, returned by every store and domain operation. Callers branch on
//! the first three variants (they are the caller's mistake and carry a message meant for them);
//! everything else is unexpected: it keeps its source, so the one place that logs it (the HTTP
//! layer's failure log, or the CLI) shows the whole chain, and the caller sees only an opaque
//! failure. The HTTP mapping lives in `http::error`, the CLI's in `cli`.

/// A result of a domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from a domain operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input conflicts with what exists (a duplicate name).
    #[error("{0}")]
    Conflict(String),
    /// What the input names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The input is malformed or breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// PostgreSQL failed (or is unreachable).
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Redis failed (or is unreachable): what depends on it is unavailable for a while.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A value kept in a store (a code's grant in Redis) that does not (de)serialize: our bug.
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Other(e.into())
    }
}

impl Error {
    /// Maps a unique-constraint violation named in `constraints` to a [`Error::Conflict`]
    /// with its message; any other error stays a database error.
    pub fn from_unique(error: sqlx::Error, constraints: &[(&str, String)]) -> Self {
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
            && let Some((_, message)) = constraints
                .iter()
                .find(|(name, _)| db.constraint() == Some(*name))
        {
            return Error::Conflict(message.clone());
        }
        Error::Db(error)
    }

    /// Whether the caller caused this error (and should see its message).
    pub fn is_caller_error(&self) -> bool {
        matches!(
            self,
            Error::Conflict(_) | Error::NotFound(_) | Error::Invalid(_)
        )
    }

    /// Whether Redis failed: what needs it (sign-in, codes) is unavailable, not broken.
    pub fn is_redis(&self) -> bool {
        match self {
            Error::Redis(_) => true,
            Error::Other(e) => e.downcast_ref::<redis::RedisError>().is_some(),
            _ => false,
        }
    }
}

/// A failure kept behind an error shown to a caller (an OAuth `server_error`, a 503 page), for the
/// log. Shared, so the errors that carry it stay `Clone`.
pub type Source = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// `cause` as a [`Source`], its chain of sources intact.
pub fn source(cause: impl Into<anyhow::Error>) -> Source {
    let boxed: Box<dyn std::error::Error + Send + Sync> = cause.into().into();
    Source::from(boxed)
}

/// `error` and each of its sources, joined by `": "`: what a log line shows, so the cause that
/// explains a failure (a refused connection under "database error") is never cut off.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // `#[error(transparent)]` and anyhow's wrappers can repeat a message; show it once.
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn the_chain_reaches_the_root_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let error = Error::Db(sqlx::Error::Io(io));
        assert_eq!(
            chain(&error),
            "error communicating with database: connection refused"
        );
        let wrapped: anyhow::Error = Err::<(), _>(error)
            .context("cannot load the clients")
            .unwrap_err();
        let error = Error::from(wrapped);
        assert!(
            chain(&error)
                .starts_with("cannot load the clients: error communicating with database: "),
            "{}",
            chain(&error)
        );
        assert!(chain(&error).ends_with("connection refused"));
    }

    #[test]
    fn callers_mistakes_are_told_apart_from_failures() {
        assert!(Error::NotFound("no such user".into()).is_caller_error());
        assert!(!Error::Other(anyhow::anyhow!("broken")).is_caller_error());
        let redis = redis::RedisError::from(std::io::Error::other("down"));
        assert!(Error::from(redis).is_redis());
        let redis = redis::RedisError::from(std::io::Error::other("down"));
        assert!(Error::Other(anyhow::Error::from(redis).context("cannot redeem")).is_redis());
    }
}
