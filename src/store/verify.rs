//! The consistency checks of `verify store;`: each is one query that returns the rows breaking
//! one invariant the store's writers keep, so that on Oracle too every check reads one
//! consistent state (the caller runs them in a read transaction: a snapshot on both stores).
//! Nothing here writes.
//!
//! The invariants, as the code that writes them keeps them:
//! - `es_message.pointer_count` is the number of `es_folder_message` rows pointing at the
//!   message: the Postman (`delivery::append_to_inbox`) and APPEND/COPY/MOVE
//!   (`mailbox::add_pointers`) add one per pointer, an expunge (`mailbox::expunge`) and the
//!   deletion of a folder or an account take theirs back. Queue entries are **not** counted:
//!   a message is new with `pointer_count` 0 while it waits in a queue, and the Collector
//!   (`gc_message_*`) deletes a content only when neither a pointer nor a queue entry refers
//!   to it. A content that nothing refers to is waiting for the Collector, not a problem.
//! - A folder's `message_count` is the number of its pointers, its `next_uid` is above every
//!   UID it gave (pointers and expunge tombstones alike), its `highest_modseq` at least every
//!   MODSEQ of its pointers and tombstones.
//! - A pointer's `account_id` is the owner of its folder; an account's `used_bytes` is the
//!   sum of the sizes of the contents its pointers point at (each pointer charges the size,
//!   each expunge or folder deletion refunds it; a move charges and refunds nothing).
//! - Every account has an INBOX; an alias's or a list member's local object exists; every
//!   queue entry's message exists (an entry without one belongs only in the Dead Message
//!   queue, where the Postman puts it); every recipient belongs to an entry.
//! - With the content check, each content's size and SHA-256 are those recorded at arrival.

use super::{q, Conn, StoreError};
use crate::binds;

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of problem (`pointer_count`, `quota`, `folder_message_count` ...).
    pub problem: &'static str,
    pub table: &'static str,
    /// The row: `column=value`, comma-separated for a composite key.
    pub key: String,
    /// The value the invariant asks for.
    pub expected: String,
    /// The value stored.
    pub found: String,
    /// The row in words (an account's address, a folder's path).
    pub detail: String,
}

impl Problem {
    /// A row naming something that does not exist.
    fn missing(
        problem: &'static str,
        table: &'static str,
        key: String,
        expected: String,
        detail: String,
    ) -> Problem {
        Problem {
            problem,
            table,
            key,
            expected,
            found: "none".into(),
            detail,
        }
    }
}

/// How much the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub messages: i64,
    pub pointers: i64,
    pub folders: i64,
    pub accounts: i64,
    pub aliases: i64,
    pub list_members: i64,
    pub queue_entries: i64,
    pub queue_recipients: i64,
}

pub fn totals(c: &mut Conn) -> Result<Totals, StoreError> {
    let mut t = Totals::default();
    for r in c.query(&q::VERIFY_TOTALS, &[])? {
        let n = r.i64(1)?;
        // (Oracle may pad a literal of a UNION to the longest one)
        match r.str(0)?.trim() {
            "messages" => t.messages = n,
            "pointers" => t.pointers = n,
            "folders" => t.folders = n,
            "accounts" => t.accounts = n,
            "aliases" => t.aliases = n,
            "list_members" => t.list_members = n,
            "queue_entries" => t.queue_entries = n,
            "queue_recipients" => t.queue_recipients = n,
            _ => {}
        }
    }
    Ok(t)
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn address(name: Option<String>, domain: Option<String>) -> String {
    match (name, domain) {
        (Some(n), Some(d)) => format!("{n}@{d}"),
        (Some(n), None) => n,
        (None, _) => "(no owner)".to_string(),
    }
}

fn folder_words(path: &str, owner: Option<String>, domain: Option<String>) -> String {
    match owner {
        Some(_) => format!("folder {path} of {}", address(owner, domain)),
        None => format!(
            "public folder {path} of domain {}",
            domain.unwrap_or_default()
        ),
    }
}

/// The checks of pointers against contents: pointers to a missing content, pointers whose
/// account is not their folder's owner, contents whose pointer count is wrong.
pub fn pointers(c: &mut Conn) -> Result<Vec<Problem>, StoreError> {
    let mut out = Vec::new();
    for r in c.query(&q::VERIFY_POINTER_MESSAGE, &[])? {
        let (folder, uid, message) = (r.i64(0)?, r.i64(1)?, r.i64(2)?);
        out.push(Problem::missing(
            "pointer_without_message",
            "es_folder_message",
            format!("folder_id={folder},msg_uid={uid}"),
            format!("es_message {message}"),
            format!(
                "UID {uid} of folder {folder} points at message {message}, which does not exist"
            ),
        ));
    }
    for r in c.query(&q::VERIFY_POINTER_OWNER, &[])? {
        let (folder, uid) = (r.i64(0)?, r.i64(1)?);
        let show = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "NULL".into());
        out.push(Problem {
            problem: "pointer_account",
            table: "es_folder_message",
            key: format!("folder_id={folder},msg_uid={uid}"),
            expected: show(r.opt_i64(3)?),
            found: show(r.opt_i64(2)?),
            detail: format!("the pointer's account_id is not the owner of folder {folder}"),
        });
    }
    for r in c.query(&q::VERIFY_MESSAGE_POINTERS, &[])? {
        let (message, stored, counted) = (r.i64(0)?, r.i64(1)?, r.i64(2)?);
        out.push(Problem {
            problem: "pointer_count",
            table: "es_message",
            key: format!("message_id={message}"),
            expected: counted.to_string(),
            found: stored.to_string(),
            detail: format!(
                "message {message} has {}, its pointer_count says {stored}",
                plural(counted, "folder pointer", "folder pointers")
            ),
        });
    }
    Ok(out)
}

/// The checks of folders' counters against their pointers and expunge tombstones.
pub fn folders(c: &mut Conn) -> Result<Vec<Problem>, StoreError> {
    let mut out = Vec::new();
    for r in c.query(&q::VERIFY_FOLDER_COUNTERS, &[])? {
        let folder = r.i64(0)?;
        let words = folder_words(&r.str(1)?, r.opt_str(2)?, r.opt_str(3)?);
        let (count, next_uid, modseq) = (r.i64(4)?, r.i64(5)?, r.i64(6)?);
        let (pointers, max_uid, max_modseq) = (r.i64(7)?, r.i64(8)?, r.i64(9)?);
        let key = format!("folder_id={folder}");
        if count != pointers {
            out.push(Problem {
                problem: "folder_message_count",
                table: "es_folder",
                key: key.clone(),
                expected: pointers.to_string(),
                found: count.to_string(),
                detail: format!(
                    "{words} holds {}, its message_count says {count}",
                    plural(pointers, "message", "messages")
                ),
            });
        }
        if next_uid <= max_uid {
            out.push(Problem {
                problem: "folder_next_uid",
                table: "es_folder",
                key: key.clone(),
                expected: format!("> {max_uid}"),
                found: next_uid.to_string(),
                detail: format!(
                    "{words} has a message with UID {max_uid}, its next_uid is {next_uid}"
                ),
            });
        }
        if modseq < max_modseq {
            out.push(Problem {
                problem: "folder_highest_modseq",
                table: "es_folder",
                key,
                expected: format!(">= {max_modseq}"),
                found: modseq.to_string(),
                detail: format!(
                    "{words} has a message with MODSEQ {max_modseq}, its highest_modseq is {modseq}"
                ),
            });
        }
    }
    for r in c.query(&q::VERIFY_FOLDER_TOMBSTONES, &[])? {
        let folder = r.i64(0)?;
        let words = folder_words(&r.str(1)?, r.opt_str(2)?, r.opt_str(3)?);
        let (next_uid, modseq, max_uid, max_modseq) = (r.i64(4)?, r.i64(5)?, r.i64(6)?, r.i64(7)?);
        let key = format!("folder_id={folder}");
        if next_uid <= max_uid {
            out.push(Problem {
                problem: "folder_next_uid",
                table: "es_folder",
                key: key.clone(),
                expected: format!("> {max_uid}"),
                found: next_uid.to_string(),
                detail: format!("{words} expunged UID {max_uid}, its next_uid is {next_uid}"),
            });
        }
        if modseq < max_modseq {
            out.push(Problem {
                problem: "folder_highest_modseq",
                table: "es_folder",
                key,
                expected: format!(">= {max_modseq}"),
                found: modseq.to_string(),
                detail: format!(
                    "{words} has an expunge with MODSEQ {max_modseq}, its highest_modseq is {modseq}"
                ),
            });
        }
    }
    Ok(out)
}

/// The checks of accounts: the quota used against the sizes of the pointers, the INBOX.
pub fn accounts(c: &mut Conn) -> Result<Vec<Problem>, StoreError> {
    let mut out = Vec::new();
    for r in c.query(&q::VERIFY_ACCOUNT_QUOTA, &[])? {
        let id = r.i64(0)?;
        let who = address(r.opt_str(1)?, r.opt_str(2)?);
        let (used, pointed) = (r.i64(3)?, r.i64(4)?);
        out.push(Problem {
            problem: "quota_used",
            table: "es_account",
            key: format!("object_id={id}"),
            expected: pointed.to_string(),
            found: used.to_string(),
            detail: format!(
                "the messages of {who} add up to {pointed} bytes, its used_bytes says {used}"
            ),
        });
    }
    for r in c.query(&q::VERIFY_ACCOUNT_INBOX, &binds!["folder_path" => "INBOX"])? {
        let id = r.i64(0)?;
        let who = address(r.opt_str(1)?, r.opt_str(2)?);
        out.push(Problem::missing(
            "account_without_inbox",
            "es_folder",
            format!("owner_account_id={id}"),
            "INBOX".into(),
            format!("the account {who} has no INBOX"),
        ));
    }
    Ok(out)
}

/// The checks of aliases and distribution lists against the local objects they name.
pub fn directory(c: &mut Conn) -> Result<Vec<Problem>, StoreError> {
    let mut out = Vec::new();
    for r in c.query(&q::VERIFY_ALIAS_TARGET, &[])? {
        let id = r.i64(0)?;
        let name = r.opt_str(1)?.unwrap_or_default();
        let target = r.str(2)?;
        let object = r.i64(3)?;
        out.push(Problem::missing(
            "alias_target",
            "es_alias",
            format!("object_id={id}"),
            format!("es_dir_object {object}"),
            format!("the alias {name} stands for {target}, whose object {object} does not exist"),
        ));
    }
    for r in c.query(&q::VERIFY_DL_MEMBER_TARGET, &[])? {
        let (list, pos) = (r.i64(0)?, r.i64(1)?);
        let name = r.opt_str(2)?.unwrap_or_default();
        let member = r.str(3)?;
        let object = r.i64(4)?;
        out.push(Problem::missing(
            "list_member_target",
            "es_dl_member",
            format!("dl_object_id={list},member_pos={pos}"),
            format!("es_dir_object {object}"),
            format!(
                "member {pos} of the list {name} is {member}, whose object {object} does not exist"
            ),
        ));
    }
    Ok(out)
}

/// The checks of the queues against the messages, and of recipients against their entries.
pub fn queues(c: &mut Conn) -> Result<Vec<Problem>, StoreError> {
    let mut out = Vec::new();
    for r in c.query(&q::VERIFY_QUEUE_MESSAGE, &binds!["dead_queue" => "DEAD"])? {
        let (entry, queue, message) = (r.i64(0)?, r.str(1)?, r.opt_i64(2)?);
        out.push(Problem::missing(
            "queue_entry_message",
            "es_queue_entry",
            format!("entry_id={entry}"),
            match message {
                Some(m) => format!("es_message {m}"),
                None => "a message".into(),
            },
            match message {
                Some(m) => format!(
                    "entry {entry} of the {queue} queue carries message {m}, which does not exist"
                ),
                None => format!("entry {entry} of the {queue} queue has no message"),
            },
        ));
    }
    for r in c.query(&q::VERIFY_QUEUE_RECIPIENT_ENTRY, &[])? {
        let (entry, pos, address) = (r.i64(0)?, r.i64(1)?, r.str(2)?);
        out.push(Problem::missing(
            "recipient_without_entry",
            "es_queue_recipient",
            format!("entry_id={entry},rcpt_pos={pos}"),
            format!("es_queue_entry {entry}"),
            format!("recipient {address} belongs to entry {entry}, which does not exist"),
        ));
    }
    Ok(out)
}

/// One message's content as the content check reads it.
#[derive(Debug, Clone)]
pub struct Content {
    pub message_id: i64,
    pub size_bytes: i64,
    pub sha256: String,
    pub content: Vec<u8>,
}

/// Up to `batch_size` contents after `after_id`, by id (the content check reads every BLOB,
/// a batch at a time).
pub fn contents_after(
    c: &mut Conn,
    after_id: i64,
    batch_size: i64,
) -> Result<Vec<Content>, StoreError> {
    c.query(
        &q::VERIFY_MESSAGE_BATCH,
        &binds!["after_id" => after_id, "batch_size" => batch_size],
    )?
    .iter()
    .map(|r| {
        Ok(Content {
            message_id: r.i64(0)?,
            size_bytes: r.i64(1)?,
            sha256: r.str(2)?,
            content: r.blob(3)?,
        })
    })
    .collect()
}
