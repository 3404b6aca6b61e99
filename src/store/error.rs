use thiserror::Error;

/// What went wrong in the store. Each variant's text is one line, fit for an administrator.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store cannot be reached (no client library, no database, bad credentials...).
    #[error("{0}")]
    Unavailable(String),
    /// A unique key would be duplicated.
    #[error("duplicate value ({0})")]
    Unique(String),
    /// A row refers to a missing row, or a row still referenced would be deleted.
    #[error("reference violated ({0})")]
    ForeignKey(String),
    /// A check constraint or NOT NULL rejected a value.
    #[error("value rejected ({0})")]
    Check(String),
    /// The table does not exist (a store without the schema).
    #[error("no such table ({0})")]
    NoSuchTable(String),
    /// The store stayed locked longer than the wait allows.
    #[error("store busy: {0}")]
    Busy(String),
    /// Any other database error, with the statement's name.
    #[error("{stmt}: {message}")]
    Sql { stmt: String, message: String },
    /// The schema is missing, too old or too new.
    #[error("{0}")]
    Schema(String),
    /// A column did not hold what the code expected.
    #[error("unexpected column value: {0}")]
    Decode(String),
    /// The binds do not match the statement's placeholders.
    #[error("bind mismatch: {0}")]
    Bind(String),
}
