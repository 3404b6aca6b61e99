//! What the Collector deletes, one batch at a time: each batch selects up to `batch_size` keys
//! (oldest first), then deletes those rows one by one with a statement that checks again the
//! condition that selected them, so that a row that changed in between (a message that got a
//! pointer, a session that became active) stays. The caller runs each batch in one transaction.

use chrono::{DateTime, Utc};

use super::{q, Conn, Row, Stmt, StoreError, Value};
use crate::binds;

/// A table (or a part of one) the Collector empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Message contents (`es_message`) that no folder pointer and no queue entry refers to.
    Messages,
    /// Entries of the COLLECTOR queue, with their recipients.
    CollectorQueue,
    /// Billing records created before the cutoff.
    Billing,
    /// Directory changes every subscriber has acknowledged; with no subscriber, those made
    /// before the cutoff.
    DirChanges,
    /// Tombstones of expunged messages (`es_expunged`) older than the cutoff.
    Expunged,
    /// Mailbox change feed rows older than the cutoff.
    MailChanges,
    /// Sessions last active before the cutoff.
    Sessions,
    /// Authentication failure counters last bumped before the cutoff.
    AuthFailures,
    /// Statistics samples taken before the cutoff.
    StatSamples,
    /// Monitor reports written before the cutoff.
    MonitorReports,
    /// Auto-reply memory rows (`es_autoreply_memory`) whose last reply is older than the
    /// cutoff. The caller makes the cutoff old enough for every reply period of the rules
    /// ([`reply_periods`]).
    AutoReplies,
    /// Forward memory rows of the rules (`es_rule_forward`) older than the cutoff whose message
    /// no queue entry refers to any more (no copy of it can come back).
    RuleForwards,
    /// Mailbox requests (`es_mailbox_request`) DONE or FAILED before the cutoff.
    MailboxRequests,
    /// Directory requests (`es_admin_request`) DONE or FAILED before the cutoff.
    AdminRequests,
}

/// How a key column is read back and bound again.
#[derive(Clone, Copy)]
enum KeyKind {
    Int,
    Text,
}

struct Plan {
    select: Stmt,
    delete: Stmt,
    /// Bind names of the key columns, in select-list order.
    keys: &'static [(&'static str, KeyKind)],
    /// Whether both statements take `:cutoff`.
    cutoff: bool,
}

impl Target {
    /// What the target is called in logs.
    pub fn label(self) -> &'static str {
        match self {
            Target::Messages => "message contents",
            Target::CollectorQueue => "collector queue entries",
            Target::Billing => "billing records",
            Target::DirChanges => "directory changes",
            Target::Expunged => "expunge tombstones",
            Target::MailChanges => "mailbox changes",
            Target::Sessions => "sessions",
            Target::AuthFailures => "authentication failure records",
            Target::StatSamples => "statistics samples",
            Target::MonitorReports => "monitor reports",
            Target::AutoReplies => "auto-reply memories",
            Target::RuleForwards => "forward memories",
            Target::MailboxRequests => "finished mailbox requests",
            Target::AdminRequests => "finished directory requests",
        }
    }

    /// Whether the target's condition involves a cutoff time (`DirChanges` uses it only when
    /// there is no subscriber, but always takes it).
    pub fn needs_cutoff(self) -> bool {
        self.plan().cutoff
    }

    fn plan(self) -> Plan {
        use KeyKind::*;
        let (select, delete, keys, cutoff): (Stmt, Stmt, &'static [(&'static str, KeyKind)], bool) =
            match self {
                Target::Messages => (
                    q::GC_MESSAGE_BATCH,
                    q::GC_MESSAGE_DELETE,
                    &[("message_id", Int)],
                    false,
                ),
                Target::CollectorQueue => (
                    q::GC_QUEUE_BATCH,
                    q::GC_QUEUE_ENTRY_DELETE,
                    &[("entry_id", Int)],
                    false,
                ),
                Target::Billing => (
                    q::GC_BILLING_BATCH,
                    q::GC_BILLING_DELETE,
                    &[("billing_id", Int)],
                    true,
                ),
                Target::DirChanges => (
                    q::GC_DIR_CHANGE_BATCH,
                    q::GC_DIR_CHANGE_DELETE,
                    &[("change_seq", Int)],
                    true,
                ),
                Target::Expunged => (
                    q::GC_EXPUNGED_BATCH,
                    q::GC_EXPUNGED_DELETE,
                    &[("folder_id", Int), ("msg_uid", Int)],
                    true,
                ),
                Target::MailChanges => (
                    q::GC_MAIL_CHANGE_BATCH,
                    q::GC_MAIL_CHANGE_DELETE,
                    &[("change_seq", Int)],
                    true,
                ),
                Target::Sessions => (
                    q::GC_SESSION_BATCH,
                    q::GC_SESSION_DELETE,
                    &[("session_id", Text)],
                    true,
                ),
                Target::AuthFailures => (
                    q::GC_AUTH_FAILURE_BATCH,
                    q::GC_AUTH_FAILURE_DELETE,
                    &[("remote_addr", Text), ("login_name", Text)],
                    true,
                ),
                Target::StatSamples => (
                    q::GC_STAT_SAMPLE_BATCH,
                    q::GC_STAT_SAMPLE_DELETE,
                    &[("sample_id", Int)],
                    true,
                ),
                Target::MonitorReports => (
                    q::GC_MONITOR_REPORT_BATCH,
                    q::GC_MONITOR_REPORT_DELETE,
                    &[("report_id", Int)],
                    true,
                ),
                Target::AutoReplies => (
                    q::GC_AUTOREPLY_BATCH,
                    q::GC_AUTOREPLY_DELETE,
                    &[("account_id", Int), ("sender_key", Text)],
                    true,
                ),
                Target::RuleForwards => (
                    q::GC_RULE_FORWARD_BATCH,
                    q::GC_RULE_FORWARD_DELETE,
                    &[("message_id", Int), ("account_id", Int)],
                    true,
                ),
                Target::MailboxRequests => (
                    q::GC_MAILBOX_REQUEST_BATCH,
                    q::GC_MAILBOX_REQUEST_DELETE,
                    &[("request_id", Int)],
                    true,
                ),
                Target::AdminRequests => (
                    q::GC_ADMIN_REQUEST_BATCH,
                    q::GC_ADMIN_REQUEST_DELETE,
                    &[("request_id", Int)],
                    true,
                ),
            };
        Plan {
            select,
            delete,
            keys,
            cutoff,
        }
    }
}

/// The reply periods of the rules' REPLY actions as stored (`es_rule_action.param1`: days, or
/// `None` when the row leaves it empty), each distinct value once, inactive rules included.
/// Their reading (the default period, a value no rule accepts) is the rules' business.
pub fn reply_periods(c: &mut Conn) -> Result<Vec<Option<String>>, StoreError> {
    c.query(&q::GC_AUTOREPLY_PERIODS, &[])?
        .iter()
        .map(|r| r.opt_str(0))
        .collect()
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Batch {
    /// Rows the batch selected.
    pub selected: u64,
    /// Rows of the target it deleted.
    pub deleted: u64,
    /// Dependent rows deleted with them (the recipients of COLLECTOR queue entries).
    pub dependents: u64,
}

fn key_values(
    r: &Row,
    keys: &[(&'static str, KeyKind)],
) -> Result<Vec<(&'static str, Value)>, StoreError> {
    keys.iter()
        .enumerate()
        .map(|(i, (name, kind))| {
            Ok((
                *name,
                match kind {
                    KeyKind::Int => Value::Int(r.i64(i)?),
                    KeyKind::Text => Value::Text(r.str(i)?),
                },
            ))
        })
        .collect()
}

/// Deletes one batch of `target` (call it inside a write transaction). `cutoff` is required by
/// the targets whose condition is an age ([`Target::needs_cutoff`]) and ignored by the others.
pub fn delete_batch(
    c: &mut Conn,
    target: Target,
    cutoff: Option<DateTime<Utc>>,
    batch_size: u64,
) -> Result<Batch, StoreError> {
    let plan = target.plan();
    let limit = i64::try_from(batch_size.max(1)).unwrap_or(i64::MAX);
    let cutoff_bind = if plan.cutoff {
        let t = cutoff.ok_or_else(|| {
            StoreError::Bind(format!("{}: a cutoff time is required", plan.select.name))
        })?;
        Some(("cutoff", Value::Time(t)))
    } else {
        None
    };
    let mut select = binds!["batch_size" => limit];
    select.extend(cutoff_bind.clone());
    let rows = c.query(&plan.select, &select)?;
    let mut batch = Batch {
        selected: rows.len() as u64,
        ..Batch::default()
    };
    for r in &rows {
        let mut keys = key_values(r, plan.keys)?;
        if target == Target::CollectorQueue {
            batch.dependents += c.execute(&q::GC_QUEUE_RECIPIENT_DELETE, &keys)?;
        }
        keys.extend(cutoff_bind.clone());
        batch.deleted += c.execute(&plan.delete, &keys)?;
    }
    Ok(batch)
}
