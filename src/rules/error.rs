//! What can go wrong with server-side rules: a statement or a stored row that does not make a
//! valid rule, a rule or owner that does not exist, a clash, a RUNPROC rule on the embedded
//! store, an action that fails at delivery, and the store itself. Each text is one line that
//! names what is wrong; `admin` and the Postman turn it into theirs at their edge.

use thiserror::Error;

use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum RuleError {
    /// The request or a stored row is not a valid rule, condition, clause or action.
    #[error("{0}")]
    Invalid(String),
    /// The rule, or the account or domain that owns it, does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with what is stored (a duplicate name, a second condition).
    #[error("{0}")]
    Conflict(String),
    /// ACTION_RUN_PROC on a store that is not Oracle.
    #[error("{0}")]
    NeedsOracle(String),
    /// An action could not be carried out at delivery.
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RuleError {
    /// Whether the error is the store's failing (unreachable, locked too long) rather than the
    /// rule's: those end the delivery transaction (the Postman tries again later); every other
    /// error only undoes the rule that met it.
    pub fn is_store_failure(&self) -> bool {
        matches!(
            self,
            RuleError::Store(StoreError::Unavailable(_) | StoreError::Busy(_))
        )
    }
}

pub type Result<T, E = RuleError> = std::result::Result<T, E>;

pub(crate) fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(RuleError::Invalid(msg.into()))
}

/// How a delivery with rules must be done again, in a new transaction, when the one that ran
/// the rules cannot be committed as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Evaluate the rules and carry out their actions (the first attempt).
    Full,
    /// As `Full`, but without ACTION_RUN_PROC (a procedure broke the transaction).
    WithoutProcedures,
    /// Plain delivery to the INBOX (the account refused the message after the rules ran).
    WithoutRules,
}

/// Why a delivery with rules stopped.
#[derive(Debug, Error)]
pub enum DeliveryError {
    /// The store failed: the delivery transaction is rolled back and tried again later.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Roll this transaction back and deliver again in `mode`.
    #[error("{why}")]
    Redo { mode: Mode, why: String },
}
