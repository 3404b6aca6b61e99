//! What the Postman reads and writes: claims on Submission queue entries (lease columns
//! `claimed_by` / `lease_until`, the same idiom on both dialects), the recipients of an entry,
//! the append of one message pointer to an account's INBOX, billing records, and the directory
//! lookups of address expansion.
//!
//! Claims: a batch is claimed in one write transaction by selecting candidate entries (due, not
//! held back by `not_before`, lease null or expired) and updating each of them with a statement
//! that checks the lease condition again. On the embedded store the write transaction
//! (`BEGIN IMMEDIATE`) serializes claimers; on Oracle the UPDATE re-evaluates its WHERE clause
//! on the locked row, so two instances never both win the same entry. No `FOR UPDATE` is used.
//!
//! Every later transaction on a claimed entry starts with [`renew`], which both checks that the
//! claim is still ours (a claim whose lease expired may have been taken over) and extends it.

use chrono::{DateTime, Utc};

use super::{q, Conn, Row, StoreError};
use crate::binds;

/// Recipient positions from here on hold the expanded recipients of an entry (accounts and
/// outside addresses); positions below hold the recipients as submitted.
pub const EXPANDED_POS: i64 = 1_000_000;

// ------------------------------------------------------------------ claims

/// Whether a node has due SUBMISSION entries an instance could claim (a look without the
/// write lock, so that an idle Postman does not take it every time it polls).
pub fn has_claimable(
    c: &mut Conn,
    node_id: i64,
    now: DateTime<Utc>,
    remote: bool,
) -> Result<bool, StoreError> {
    Ok(!c
        .query(
            &q::POSTMAN_CLAIM_CANDIDATES,
            &binds!["node_id" => node_id, "now" => now, "remote_flag" => remote, "batch_size" => 1i64],
        )?
        .is_empty())
}

/// Claims up to `batch_size` due SUBMISSION entries of a node for `worker` until
/// `lease_until`; returns the ids claimed. With `remote` false, entries with no PENDING
/// recipient (only recipients left for an instance that handles remote mail) are not taken.
#[allow(clippy::too_many_arguments)]
pub fn claim_batch(
    c: &mut Conn,
    node_id: i64,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    batch_size: u64,
    remote: bool,
) -> Result<Vec<i64>, StoreError> {
    let candidates: Vec<i64> = c
        .query(
            &q::POSTMAN_CLAIM_CANDIDATES,
            &binds![
                "node_id" => node_id, "now" => now, "remote_flag" => remote,
                "batch_size" => batch_size.min(i64::MAX as u64) as i64,
            ],
        )?
        .iter()
        .map(|r| r.i64(0))
        .collect::<Result<_, _>>()?;
    claim_each(c, &q::POSTMAN_CLAIM, &candidates, worker, now, lease_until)
}

/// Claims each candidate entry with `claim` (an UPDATE that re-checks the lease, so that of
/// two workers only one gets an entry); returns those claimed.
pub(super) fn claim_each(
    c: &mut Conn,
    claim: &super::Stmt,
    candidates: &[i64],
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let mut claimed = Vec::with_capacity(candidates.len());
    for &id in candidates {
        let n = c.execute(
            claim,
            &binds![
                "claimed_by" => worker, "lease_until" => lease_until, "entry_id" => id, "now" => now,
            ],
        )?;
        if n == 1 {
            claimed.push(id);
        }
    }
    Ok(claimed)
}

/// Extends our claim on an entry; false when the claim is no longer ours (or the entry left
/// the Submission queue).
pub fn renew(
    c: &mut Conn,
    entry_id: i64,
    worker: &str,
    lease_until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        &q::POSTMAN_RENEW,
        &binds!["lease_until" => lease_until, "entry_id" => entry_id, "claimed_by" => worker],
    )? == 1)
}

/// Gives an entry back without counting an attempt.
pub fn release(c: &mut Conn, entry_id: i64, worker: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        &q::POSTMAN_RELEASE,
        &binds!["entry_id" => entry_id, "claimed_by" => worker],
    )? == 1)
}

/// Gives an entry back for a later attempt: attempts + 1, due again at `next_attempt_at`.
pub fn retry_later(
    c: &mut Conn,
    entry_id: i64,
    worker: &str,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        &q::POSTMAN_RETRY,
        &binds![
            "next_attempt_at" => next_attempt_at, "last_error" => clip(error, 4000),
            "entry_id" => entry_id, "claimed_by" => worker,
        ],
    )? == 1)
}

/// Moves a claimed entry (with its recipients) to the Dead Message queue.
pub fn to_dead(
    c: &mut Conn,
    entry_id: i64,
    worker: &str,
    attempts: i64,
    error: &str,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        &q::POSTMAN_TO_DEAD,
        &binds![
            "attempts" => attempts, "last_error" => clip(error, 4000),
            "entry_id" => entry_id, "claimed_by" => worker,
        ],
    )? == 1)
}

/// Deletes a claimed entry and its recipients (the message content stays for the Collector).
pub fn delete_entry(c: &mut Conn, entry_id: i64, worker: &str) -> Result<bool, StoreError> {
    c.execute(
        &q::POSTMAN_ENTRY_RECIPIENTS_DELETE,
        &binds!["entry_id" => entry_id, "claimed_by" => worker],
    )?;
    Ok(c.execute(
        &q::POSTMAN_ENTRY_DELETE,
        &binds!["entry_id" => entry_id, "claimed_by" => worker],
    )? == 1)
}

// ------------------------------------------------------------------ entries and recipients

/// A claimed queue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub entry_id: i64,
    pub guid: String,
    pub message_id: Option<i64>,
    /// The envelope sender; `None` for the null sender.
    pub sender: Option<String>,
    pub submitted_by: Option<i64>,
    pub priority: i64,
    pub attempts: i64,
    pub created_at: Option<DateTime<Utc>>,
}

/// An entry, when `worker` holds its claim.
pub fn entry(c: &mut Conn, entry_id: i64, worker: &str) -> Result<Option<Entry>, StoreError> {
    c.query_opt(
        &q::POSTMAN_ENTRY,
        &binds!["entry_id" => entry_id, "claimed_by" => worker],
    )?
    .map(|r| {
        Ok(Entry {
            entry_id: r.i64(0)?,
            guid: r.str(1)?,
            message_id: r.opt_i64(2)?,
            sender: r.opt_str(3)?,
            submitted_by: r.opt_i64(4)?,
            priority: r.i64(5)?,
            attempts: r.i64(6)?,
            created_at: r.opt_time(7)?,
        })
    })
    .transpose()
}

/// Where a recipient of an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RcptStatus {
    Pending,
    Done,
    Failed,
    Deferred,
}

impl RcptStatus {
    pub fn stored(self) -> &'static str {
        match self {
            RcptStatus::Pending => "PENDING",
            RcptStatus::Done => "DONE",
            RcptStatus::Failed => "FAILED",
            RcptStatus::Deferred => "DEFERRED",
        }
    }

    fn from_stored(s: &str) -> Result<RcptStatus, StoreError> {
        Ok(match s {
            "PENDING" => RcptStatus::Pending,
            "DONE" => RcptStatus::Done,
            "FAILED" => RcptStatus::Failed,
            "DEFERRED" => RcptStatus::Deferred,
            other => {
                return Err(StoreError::Decode(format!(
                    "es_queue_recipient.rcpt_status {other:?}"
                )))
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub pos: i64,
    pub address: String,
    pub status: RcptStatus,
    pub last_error: Option<String>,
}

fn recipient_row(r: &Row) -> Result<Recipient, StoreError> {
    Ok(Recipient {
        pos: r.i64(0)?,
        address: r.str(1)?,
        status: RcptStatus::from_stored(&r.str(2)?)?,
        last_error: r.opt_str(3)?,
    })
}

/// The recipients of an entry, by position.
pub fn recipients(c: &mut Conn, entry_id: i64) -> Result<Vec<Recipient>, StoreError> {
    c.query(&q::POSTMAN_RECIPIENTS, &binds!["entry_id" => entry_id])?
        .iter()
        .map(recipient_row)
        .collect()
}

/// Sets the status of a recipient that is PENDING or DEFERRED; false when it is neither (it
/// was finished already).
pub fn set_recipient_status(
    c: &mut Conn,
    entry_id: i64,
    pos: i64,
    status: RcptStatus,
    error: Option<&str>,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        &q::POSTMAN_RECIPIENT_STATUS,
        &binds![
            "rcpt_status" => status.stored(), "last_error" => error.map(|e| clip(e, 4000)),
            "entry_id" => entry_id, "rcpt_pos" => pos,
        ],
    )? == 1)
}

/// Removes a PENDING recipient (replaced by its expansion); false when it is not PENDING.
pub fn delete_recipient(c: &mut Conn, entry_id: i64, pos: i64) -> Result<bool, StoreError> {
    Ok(c.execute(
        &q::POSTMAN_RECIPIENT_DELETE,
        &binds!["entry_id" => entry_id, "rcpt_pos" => pos],
    )? == 1)
}

/// The highest recipient position of an entry (0 when it has none).
pub fn max_recipient_pos(c: &mut Conn, entry_id: i64) -> Result<i64, StoreError> {
    Ok(c.query_opt(
        &q::POSTMAN_RECIPIENT_MAX_POS,
        &binds!["entry_id" => entry_id],
    )?
    .map(|r| r.i64(0))
    .transpose()?
    .unwrap_or(0))
}

/// Adds a PENDING recipient at a position.
pub fn add_recipient(
    c: &mut Conn,
    entry_id: i64,
    pos: i64,
    address: &str,
) -> Result<(), StoreError> {
    c.execute(
        &q::QUEUE_RECIPIENT_INSERT,
        &binds!["entry_id" => entry_id, "rcpt_pos" => pos, "address" => clip(address, 320)],
    )?;
    Ok(())
}

// ------------------------------------------------------------------ messages

/// What the Postman needs to know of a stored message (not its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    pub message_id: i64,
    pub guid: String,
    pub size: i64,
    pub received_at: DateTime<Utc>,
    pub rfc822_msgid: Option<String>,
}

pub fn message(c: &mut Conn, message_id: i64) -> Result<Option<MessageInfo>, StoreError> {
    c.query_opt(&q::POSTMAN_MESSAGE, &binds!["message_id" => message_id])?
        .map(|r| {
            Ok(MessageInfo {
                message_id: r.i64(0)?,
                guid: r.str(1)?,
                size: r.i64(2)?,
                received_at: r
                    .opt_time(3)?
                    .ok_or_else(|| StoreError::Decode("es_message.received_at is NULL".into()))?,
                rfc822_msgid: r.opt_str(4)?,
            })
        })
        .transpose()
}

/// A message's content, byte-exact.
pub fn message_content(c: &mut Conn, message_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    c.query_opt(
        &q::POSTMAN_MESSAGE_CONTENT,
        &binds!["message_id" => message_id],
    )?
    .map(|r| r.blob(0))
    .transpose()
}

// ------------------------------------------------------------------ delivery to an INBOX

/// One message for one account.
#[derive(Debug, Clone, Copy)]
pub struct Append {
    pub account_id: i64,
    pub message_id: i64,
    pub size: i64,
    /// The IMAP INTERNALDATE: the message's arrival time.
    pub internal_date: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// Where an appended message landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub folder_id: i64,
    pub uid: i64,
    pub modseq: i64,
}

/// Why an account cannot take a message. Nothing was changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoAccount,
    Disabled,
    Full { quota: i64, used: i64 },
    NoInbox,
}

/// Appends a message to an account's INBOX: checks that the account is enabled and has room
/// (quota 0: no limit), charges its size, takes the next UID, bumps the folder's MODSEQ and
/// message count, inserts the pointer (the content is never copied), counts the pointer on
/// the message and writes the APPEND row of the change feed. Runs in the caller's transaction.
pub fn append_to_inbox(c: &mut Conn, a: &Append) -> Result<Result<Appended, Refusal>, StoreError> {
    append_to(c, a, None, None)
}

/// The account's INBOX, or why it cannot take mail when it has none.
pub fn inbox(c: &mut Conn, account_id: i64) -> Result<Result<i64, Refusal>, StoreError> {
    if let Some(id) = c
        .query_opt(&q::POSTMAN_INBOX_FIND, &binds!["account_id" => account_id])?
        .map(|r| r.i64(0))
        .transpose()?
    {
        return Ok(Ok(id));
    }
    Ok(Err(
        match c.query_opt(
            &q::POSTMAN_ACCOUNT_STATE,
            &binds!["account_id" => account_id],
        )? {
            None => Refusal::NoAccount,
            Some(_) => Refusal::NoInbox,
        },
    ))
}

/// Whether an account can take `bytes` more now (enabled, and its quota has room), without
/// changing anything.
pub fn room_for(
    c: &mut Conn,
    account_id: i64,
    bytes: i64,
) -> Result<Result<(), Refusal>, StoreError> {
    let Some(r) = c.query_opt(
        &q::POSTMAN_ACCOUNT_STATE,
        &binds!["account_id" => account_id],
    )?
    else {
        return Ok(Err(Refusal::NoAccount));
    };
    if r.str(0)? != "ENABLED" {
        return Ok(Err(Refusal::Disabled));
    }
    let (quota, used) = (r.i64(1)?, r.i64(2)?);
    if quota > 0 && used.saturating_add(bytes) > quota {
        return Ok(Err(Refusal::Full { quota, used }));
    }
    Ok(Ok(()))
}

/// As [`append_to_inbox`], into `folder_id` (a folder of the account; `None`: its INBOX), the
/// pointer carrying `flags` (space-separated, `\Seen \Flagged`; `None`: no flags).
pub fn append_to(
    c: &mut Conn,
    a: &Append,
    folder_id: Option<i64>,
    flags: Option<&str>,
) -> Result<Result<Appended, Refusal>, StoreError> {
    let folder_id = match folder_id {
        Some(f) => f,
        None => match inbox(c, a.account_id)? {
            Ok(f) => f,
            Err(refusal) => return Ok(Err(refusal)),
        },
    };
    let charged = c.execute(
        &q::POSTMAN_ACCOUNT_CHARGE,
        &binds!["size_bytes" => a.size, "account_id" => a.account_id],
    )?;
    if charged != 1 {
        let Some(r) = c.query_opt(
            &q::POSTMAN_ACCOUNT_STATE,
            &binds!["account_id" => a.account_id],
        )?
        else {
            return Ok(Err(Refusal::NoAccount));
        };
        if r.str(0)? != "ENABLED" {
            return Ok(Err(Refusal::Disabled));
        }
        return Ok(Err(Refusal::Full {
            quota: r.i64(1)?,
            used: r.i64(2)?,
        }));
    }
    let bumped = c.execute(&q::POSTMAN_FOLDER_BUMP, &binds!["folder_id" => folder_id])?;
    let state = c.query_opt(&q::POSTMAN_FOLDER_STATE, &binds!["folder_id" => folder_id])?;
    let (Some(state), 1) = (state, bumped) else {
        return Err(StoreError::Decode(format!(
            "folder {folder_id} of account {} vanished during delivery",
            a.account_id
        )));
    };
    let (uid, modseq) = (state.i64(0)?, state.i64(1)?);
    c.execute(
        &q::POSTMAN_POINTER_INSERT,
        &binds![
            "folder_id" => folder_id, "msg_uid" => uid, "message_id" => a.message_id,
            "account_id" => a.account_id, "flags" => flags, "modseq" => modseq,
            "internal_date" => a.internal_date,
        ],
    )?;
    c.execute(
        &q::POSTMAN_MESSAGE_POINTER_BUMP,
        &binds!["message_id" => a.message_id],
    )?;
    c.execute(
        &q::POSTMAN_MAIL_CHANGE_INSERT,
        &binds![
            "account_id" => a.account_id, "folder_id" => folder_id, "msg_uid" => uid,
            "modseq" => modseq, "changed_at" => a.now,
        ],
    )?;
    Ok(Ok(Appended {
        folder_id,
        uid,
        modseq,
    }))
}

/// A billing record (`SEND` or `RECV`).
#[derive(Debug, Clone)]
pub struct Billing<'a> {
    pub node_id: i64,
    pub kind: &'a str,
    pub account_id: Option<i64>,
    pub address: &'a str,
    pub message_guid: &'a str,
    pub size: i64,
    pub recipients: i64,
    pub now: DateTime<Utc>,
}

pub fn insert_billing(c: &mut Conn, b: &Billing<'_>) -> Result<(), StoreError> {
    c.execute(
        &q::POSTMAN_BILLING_INSERT,
        &binds![
            "node_id" => b.node_id, "billing_kind" => b.kind, "account_id" => b.account_id,
            "address" => clip(b.address, 320), "message_guid" => b.message_guid,
            "size_bytes" => b.size, "recipients" => b.recipients, "created_at" => b.now,
        ],
    )?;
    Ok(())
}

// ------------------------------------------------------------------ directory lookups

/// A public directory object as address expansion sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub object_id: i64,
    /// The stored class name (`PERSON`, `PUBLICDL` ...).
    pub class: String,
    pub name: String,
    pub domain_id: i64,
    pub domain: String,
    /// For accounts, the node that holds their mailbox.
    pub home_node_id: Option<i64>,
}

fn dir_entry(r: &Row) -> Result<DirEntry, StoreError> {
    Ok(DirEntry {
        object_id: r.i64(0)?,
        class: r.str(1)?,
        name: r.str(2)?,
        domain_id: r.i64(3)?,
        domain: r.str(4)?,
        home_node_id: r.opt_i64(5)?,
    })
}

/// The id of a domain of the directory, by its (lower-case) name.
pub fn domain_id(c: &mut Conn, name: &str) -> Result<Option<i64>, StoreError> {
    c.query_opt(&q::RESOLVE_DOMAIN, &binds!["qualified_name" => name])?
        .map(|r| r.i64(0))
        .transpose()
}

/// The public object named `name_key` (lower case) in a domain.
pub fn find_public(
    c: &mut Conn,
    domain_id: i64,
    name_key: &str,
) -> Result<Option<DirEntry>, StoreError> {
    c.query_opt(
        &q::RESOLVE_OBJECT_FIND,
        &binds!["domain_id" => domain_id, "name_key" => name_key],
    )?
    .as_ref()
    .map(dir_entry)
    .transpose()
}

pub fn object(c: &mut Conn, object_id: i64) -> Result<Option<DirEntry>, StoreError> {
    c.query_opt(&q::RESOLVE_OBJECT_BY_ID, &binds!["object_id" => object_id])?
        .as_ref()
        .map(dir_entry)
        .transpose()
}

/// The persons whose attribute `attr` (location, organization, role) holds `value_key`
/// (`name@domain`, lower case).
pub fn persons_with(
    c: &mut Conn,
    attr: &str,
    value_key: &str,
) -> Result<Vec<DirEntry>, StoreError> {
    c.query(
        &q::RESOLVE_ATTR_PERSONS,
        &binds!["attr_name" => attr, "value_key" => value_key],
    )?
    .iter()
    .map(dir_entry)
    .collect()
}

/// An alias's target: (address, object when the address is local).
pub fn alias_target(
    c: &mut Conn,
    object_id: i64,
) -> Result<Option<(String, Option<i64>)>, StoreError> {
    c.query_opt(&q::ALIAS_OF, &binds!["object_id" => object_id])?
        .map(|r| Ok((r.str(1)?, r.opt_i64(2)?)))
        .transpose()
}

/// A list's members, in order: (address, object when the address is local).
pub fn list_members(
    c: &mut Conn,
    object_id: i64,
) -> Result<Vec<(String, Option<i64>)>, StoreError> {
    c.query(&q::DL_MEMBER_OF, &binds!["object_id" => object_id])?
        .iter()
        .map(|r| Ok((r.str(2)?, r.opt_i64(3)?)))
        .collect()
}

/// At most `max` characters (Oracle's column limits).
fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// How many entries wait in the node's Rerouting queue (a read: an idle Postman polls this
/// without the write lock).
pub fn rerouting_waiting(c: &mut Conn, node_id: i64) -> Result<i64, StoreError> {
    Ok(
        c.query_opt(&q::REROUTING_COUNT, &binds!["node_id" => node_id])?
            .map(|r| r.i64(0))
            .transpose()?
            .unwrap_or(0),
    )
}

/// Messages that came from other nodes wait in the Rerouting queue: those for this node move
/// to its Submission queue, those for another node to the Remote queue. Returns how many moved.
pub fn reroute(c: &mut Conn, node_id: i64) -> Result<u64, StoreError> {
    let here = c.execute(&q::REROUTING_TO_SUBMISSION, &binds!["node_id" => node_id])?;
    let there = c.execute(&q::REROUTING_TO_REMOTE, &binds!["node_id" => node_id])?;
    Ok(here + there)
}
