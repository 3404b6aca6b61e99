use thiserror::Error;

use crate::store::StoreError;

/// Why a directory operation was refused. The text names the object and what to do.
#[derive(Debug, Error)]
pub enum DirError {
    /// The request itself is wrong (unknown attribute, bad value, missing key).
    #[error("{0}")]
    Invalid(String),
    /// The object named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with what is stored (duplicate, still referenced, loop).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type Result<T, E = DirError> = std::result::Result<T, E>;

pub(crate) fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(DirError::Invalid(msg.into()))
}
