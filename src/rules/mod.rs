//! Server-side rules: automatic actions on the messages an account receives, as the original
//! Server Side Rules package had them. A rule belongs to an account (a user rule), a domain or
//! the system (administrator rules), is attached to an event (delivery), has at most one
//! condition made of clauses joined by AND or OR, and ordered actions. The Postman runs them
//! for each recipient account inside its delivery transaction ([`apply`]); IOFCMGR manages them
//! (`crate::admin::rules`). See docs/rules.md.
//!
//! - [`model`]: rules, conditions, clauses, actions; their IOFCMGR and stored forms.
//! - [`validate`]: the checks of each value, for statements and for stored rows alike.
//! - [`pattern`]: the globs of `op=matches`.
//! - [`eval`]: whether a condition holds for a message (pure).
//! - [`compose`]: the forwards, auto-replies and notices rules send.
//! - [`guard`]: loop protection.
//! - [`apply`]: the rules at delivery, in the store.
//! - [`error`]: what can go wrong.

pub mod apply;
pub mod compose;
pub mod error;
pub mod eval;
pub mod guard;
pub mod model;
pub mod pattern;
pub mod validate;

pub use apply::{deliver, Delivered, Delivery, MessageCache};
pub use error::{DeliveryError, Mode, RuleError};
pub use model::{Action, ActionKind, Clause, Condition, Join, Operator, OwnerKind, Rule, Subject};
