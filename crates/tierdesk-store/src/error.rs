//! Storage errors.

/// What went wrong talking to the database.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; carries the constraint or column text.
    #[error("already exists: {0}")]
    Unique(String),
    /// A foreign key or check constraint refused the write.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// The database is busy, full or unreachable; retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row did not decode into the expected shape.
    #[error("decode: {0}")]
    Decode(String),
    /// The database URL is not understood.
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// A migration failed.
    #[error("migration {version} failed: {message}")]
    Migration {
        /// Migration version.
        version: i64,
        /// Why.
        message: String,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Other(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &e {
            rusqlite::Error::SqliteFailure(f, msg) => {
                let text = msg.clone().unwrap_or_else(|| e.to_string());
                match f.code {
                    ErrorCode::ConstraintViolation
                        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
                    {
                        StoreError::Unique(text)
                    }
                    ErrorCode::ConstraintViolation => StoreError::Constraint(text),
                    ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::CannotOpen => StoreError::Unavailable(text),
                    _ => StoreError::Other(text),
                }
            }
            _ => StoreError::Other(e.to_string()),
        }
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        if let Some(db) = e.as_db_error() {
            let text = match db.constraint() {
                Some(c) => format!("{} ({c})", db.message()),
                None => db.message().to_owned(),
            };
            let code = db.code();
            if *code == SqlState::UNIQUE_VIOLATION {
                return StoreError::Unique(text);
            }
            if *code == SqlState::FOREIGN_KEY_VIOLATION
                || *code == SqlState::CHECK_VIOLATION
                || *code == SqlState::NOT_NULL_VIOLATION
            {
                return StoreError::Constraint(text);
            }
            if *code == SqlState::RAISE_EXCEPTION {
                return StoreError::Constraint(text);
            }
            return StoreError::Other(text);
        }
        if e.is_closed() {
            return StoreError::Unavailable(e.to_string());
        }
        StoreError::Unavailable(e.to_string())
    }
}
