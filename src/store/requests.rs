//! Requests written by the PL/SQL packages (schema step 7): mailbox changes
//! (`es_mailbox_request`, from IM_API and IOSEND's FOLDER_CARBON_COPY) and directory changes
//! (`es_admin_request`, from DAPLS). PL/SQL inserts them in its caller's transaction; the
//! Postman performs each one after the commit, in one transaction of its own that first claims
//! the row (`attempts + 1` on a PENDING row: a second performer waits for the first one's
//! commit and then finds nothing left to do), and writes the outcome back (DONE with the new
//! UID, or FAILED with the reason).

use chrono::{DateTime, Utc};

use super::{q, Conn, Stmt, StoreError};
use crate::binds;

/// One row of `es_mailbox_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxRequest {
    pub request_id: i64,
    pub account_id: i64,
    /// `CREATE_FOLDER`, `DELETE_FOLDER`, `APPEND`, `COPY`, `MOVE`, `DELETE_MESSAGE`, `SET_FLAGS`.
    pub kind: String,
    pub folder_path: Option<String>,
    pub folder_id: Option<i64>,
    pub uid: Option<i64>,
    pub message_id: Option<i64>,
    pub target_path: Option<String>,
    pub params: Option<String>,
    /// Attempts so far, this one included once claimed.
    pub attempts: i64,
}

/// One row of `es_admin_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRequest {
    pub request_id: i64,
    /// One IOFCMGR statement.
    pub statement: String,
    pub attempts: i64,
    /// The Oracle user that asked (for the log).
    pub requested_by: Option<String>,
}

/// The two request tables: what PL/SQL asks of a mailbox (`es_mailbox_request`, IM_API) and
/// of the directory (`es_admin_request`, DAPLS). They share their life cycle: PENDING, claimed
/// by one Postman in its transaction, then DONE, FAILED, or retried after a store error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Mailbox,
    Admin,
}

impl Table {
    fn pick(self, mailbox: &'static Stmt, admin: &'static Stmt) -> &'static Stmt {
        match self {
            Table::Mailbox => mailbox,
            Table::Admin => admin,
        }
    }
}

/// The oldest PENDING requests of a table, at most `max`.
pub fn pending(c: &mut Conn, t: Table, max: u64) -> Result<Vec<i64>, StoreError> {
    c.query(
        t.pick(&q::REQUEST_MAILBOX_PENDING, &q::REQUEST_ADMIN_PENDING),
        &binds!["batch_size" => max.min(i64::MAX as u64) as i64],
    )?
    .iter()
    .map(|r| r.i64(0))
    .collect()
}

/// Claims a PENDING request for the current transaction; false when it is not (or no longer)
/// pending.
pub fn claim(c: &mut Conn, t: Table, request_id: i64) -> Result<bool, StoreError> {
    Ok(c.execute(
        t.pick(&q::REQUEST_MAILBOX_CLAIM, &q::REQUEST_ADMIN_CLAIM),
        &binds!["request_id" => request_id],
    )? == 1)
}

/// Marks a request FAILED, with the reason.
pub fn failed(
    c: &mut Conn,
    t: Table,
    request_id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        t.pick(&q::REQUEST_MAILBOX_FAIL, &q::REQUEST_ADMIN_FAIL),
        &binds!["done_at" => now, "error_text" => clip(error), "request_id" => request_id],
    )?;
    Ok(())
}

/// Counts a failed attempt of a request that stays PENDING (a store error).
pub fn retry(c: &mut Conn, t: Table, request_id: i64, error: &str) -> Result<(), StoreError> {
    c.execute(
        t.pick(&q::REQUEST_MAILBOX_RETRY, &q::REQUEST_ADMIN_RETRY),
        &binds!["error_text" => clip(error), "request_id" => request_id],
    )?;
    Ok(())
}

/// The attempts a request has had; `None` when it does not exist.
pub fn attempts(c: &mut Conn, t: Table, request_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(match t {
        Table::Mailbox => mailbox_request(c, request_id)?.map(|r| r.attempts),
        Table::Admin => admin_request(c, request_id)?.map(|r| r.attempts),
    })
}

pub fn mailbox_request(
    c: &mut Conn,
    request_id: i64,
) -> Result<Option<MailboxRequest>, StoreError> {
    c.query_opt(&q::REQUEST_MAILBOX_GET, &binds!["request_id" => request_id])?
        .map(|r| {
            Ok(MailboxRequest {
                request_id: r.i64(0)?,
                account_id: r.i64(1)?,
                kind: r.str(2)?,
                folder_path: r.opt_str(3)?,
                folder_id: r.opt_i64(4)?,
                uid: r.opt_i64(5)?,
                message_id: r.opt_i64(6)?,
                target_path: r.opt_str(7)?,
                params: r.opt_str(8)?,
                attempts: r.i64(9)?,
            })
        })
        .transpose()
}

/// Marks a mailbox request DONE (with the UID it produced, if any).
pub fn mailbox_done(
    c: &mut Conn,
    request_id: i64,
    result_uid: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::REQUEST_MAILBOX_DONE,
        &binds!["done_at" => now, "result_uid" => result_uid, "request_id" => request_id],
    )?;
    Ok(())
}

pub fn admin_request(c: &mut Conn, request_id: i64) -> Result<Option<AdminRequest>, StoreError> {
    c.query_opt(&q::REQUEST_ADMIN_GET, &binds!["request_id" => request_id])?
        .map(|r| {
            Ok(AdminRequest {
                request_id: r.i64(0)?,
                statement: r.str(1)?,
                attempts: r.i64(2)?,
                requested_by: r.opt_str(3)?,
            })
        })
        .transpose()
}

/// Marks a directory request DONE, with what the statement said.
pub fn admin_done(
    c: &mut Conn,
    request_id: i64,
    result: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::REQUEST_ADMIN_DONE,
        &binds!["done_at" => now, "result_text" => clip(result), "request_id" => request_id],
    )?;
    Ok(())
}

/// A stored message's size and arrival time, for a pointer to it.
pub fn message_size(
    c: &mut Conn,
    message_id: i64,
) -> Result<Option<(i64, DateTime<Utc>)>, StoreError> {
    c.query_opt(&q::POSTMAN_MESSAGE, &binds!["message_id" => message_id])?
        .map(|r| {
            Ok((
                r.i64(2)?,
                r.opt_time(3)?
                    .ok_or_else(|| StoreError::Decode("es_message.received_at is NULL".into()))?,
            ))
        })
        .transpose()
}

/// The error columns hold 4000 characters.
fn clip(s: &str) -> String {
    s.chars().take(4000).collect()
}
