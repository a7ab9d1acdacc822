//! The domain's error type. Callers branch on the first three variants (they are the caller's
//! mistake and carry a message meant for them); everything else is unexpected, logged in full and
//! shown only as an opaque failure. The HTTP mapping lives in `http::error`, the CLI's in `cli`.

/// An error from a domain operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The input conflicts with what exists (a duplicate name).
    #[error("{0}")]
    Conflict(String),
    /// What the input names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The input is malformed or breaks a rule.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl StoreError {
    /// Maps a unique-constraint violation named in `constraints` to a [`StoreError::Conflict`]
    /// with its message; any other error stays a database error.
    pub fn from_unique(error: sqlx::Error, constraints: &[(&str, String)]) -> Self {
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
            && let Some((_, message)) = constraints
                .iter()
                .find(|(name, _)| db.constraint() == Some(*name))
        {
            return StoreError::Conflict(message.clone());
        }
        StoreError::Db(error)
    }

    /// Whether the caller caused this error (and should see its message).
    pub fn is_caller_error(&self) -> bool {
        matches!(
            self,
            StoreError::Conflict(_) | StoreError::NotFound(_) | StoreError::Invalid(_)
        )
    }
}
