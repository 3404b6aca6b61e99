use std::fmt;

use crate::directory::DirError;
use crate::process::ProcessError;
use crate::store::StoreError;

/// An administration command failed; the text is one line for the administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError(pub String);

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminError {}

impl From<String> for AdminError {
    fn from(s: String) -> Self {
        AdminError(s)
    }
}
impl From<&str> for AdminError {
    fn from(s: &str) -> Self {
        AdminError(s.to_string())
    }
}
impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError(e.to_string())
    }
}
impl From<DirError> for AdminError {
    fn from(e: DirError) -> Self {
        AdminError(e.to_string())
    }
}
impl From<ProcessError> for AdminError {
    fn from(e: ProcessError) -> Self {
        AdminError(e.to_string())
    }
}
