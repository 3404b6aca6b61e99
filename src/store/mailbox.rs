//! Mailboxes as the protocol servers see them: an account's folders and subscriptions, the
//! message pointers in a folder (UID, flags, MODSEQ, INTERNALDATE), flag changes, expunges
//! (with tombstones), appends, copies and moves (with the account's quota), the cached IMAP
//! structure of a message, and the mailbox change feed that IDLE sessions follow.
//!
//! Every function runs in the caller's transaction: a protocol request opens one (read or
//! write), calls what it needs, and gives the connection back. Each change bumps the folder's
//! MODSEQ once and writes one row of the change feed, so that any instance on any host learns
//! of it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::delivery::Refusal;
use super::{q, Conn, StoreError};
use crate::binds;

/// One folder of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub folder_id: i64,
    /// The full path, `/`-separated (`INBOX`, `Archive/2026`).
    pub path: String,
    /// `\Sent`, `\Drafts`, `\Trash`, `\Junk`...
    pub special_use: Option<String>,
    pub uidvalidity: i64,
    pub next_uid: i64,
    pub highest_modseq: i64,
    pub message_count: i64,
    /// First UID no selecting session has seen yet.
    pub recent_uid: i64,
}

/// One message pointer in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub uid: i64,
    /// The shared content (`es_message`).
    pub message_id: i64,
    /// Space-separated flags (`\Seen \Flagged $Label1`), empty when none.
    pub flags: String,
    pub modseq: i64,
    pub internal_date: DateTime<Utc>,
    pub size: i64,
}

/// The account a session logged in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_id: i64,
    pub domain_id: i64,
    /// 0: no limit.
    pub quota_bytes: i64,
    pub used_bytes: i64,
    pub enabled: bool,
}

/// One row of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub account_id: i64,
    pub folder_id: i64,
    /// `APPEND`, `FLAGS`, `EXPUNGE` or `FOLDER`.
    pub kind: String,
    pub modseq: i64,
}

/// Special-use folders every new account gets, besides its INBOX (RFC 6154).
pub const SPECIAL_FOLDERS: &[(&str, &str)] = &[
    ("Sent", "\\Sent"),
    ("Drafts", "\\Drafts"),
    ("Trash", "\\Trash"),
    ("Junk", "\\Junk"),
];

fn folder_row(r: &super::Row) -> Result<Folder, StoreError> {
    Ok(Folder {
        folder_id: r.i64(0)?,
        path: r.str(1)?,
        special_use: r.opt_str(2)?,
        uidvalidity: r.i64(3)?,
        next_uid: r.i64(4)?,
        highest_modseq: r.i64(5)?,
        message_count: r.i64(6)?,
        recent_uid: r.i64(7)?,
    })
}

fn message_row(r: &super::Row) -> Result<MessageRow, StoreError> {
    Ok(MessageRow {
        uid: r.i64(0)?,
        message_id: r.i64(1)?,
        flags: r.opt_str(2)?.unwrap_or_default(),
        modseq: r.i64(3)?,
        internal_date: r
            .opt_time(4)?
            .ok_or_else(|| StoreError::Decode("es_folder_message.internal_date is NULL".into()))?,
        size: r.i64(5)?,
    })
}

// ------------------------------------------------------------------ accounts and folders

pub fn account(c: &mut Conn, account_id: i64) -> Result<Option<Account>, StoreError> {
    c.query_opt(&q::MBOX_ACCOUNT, &binds!["account_id" => account_id])?
        .map(|r| {
            Ok(Account {
                account_id: r.i64(0)?,
                domain_id: r.i64(1)?,
                quota_bytes: r.i64(2)?,
                used_bytes: r.i64(3)?,
                enabled: r.str(4)? == "ENABLED",
            })
        })
        .transpose()
}

/// The account's folders, by path.
pub fn folders(c: &mut Conn, account_id: i64) -> Result<Vec<Folder>, StoreError> {
    c.query(&q::MBOX_FOLDER_LIST, &binds!["account_id" => account_id])?
        .iter()
        .map(folder_row)
        .collect()
}

/// The account's folder with exactly this path.
pub fn folder(c: &mut Conn, account_id: i64, path: &str) -> Result<Option<Folder>, StoreError> {
    c.query_opt(
        &q::MBOX_FOLDER_GET,
        &binds!["account_id" => account_id, "folder_path" => path],
    )?
    .as_ref()
    .map(folder_row)
    .transpose()
}

/// The account's folder with this id (`None` for a folder of another account).
pub fn folder_by_id(
    c: &mut Conn,
    account_id: i64,
    folder_id: i64,
) -> Result<Option<Folder>, StoreError> {
    c.query_opt(
        &q::MBOX_FOLDER_BY_ID,
        &binds!["account_id" => account_id, "folder_id" => folder_id],
    )?
    .as_ref()
    .map(folder_row)
    .transpose()
}

/// A UIDVALIDITY for a new folder: the time in seconds, strictly increasing within this
/// process, so that a folder deleted and created again under the same name gets a new one.
fn new_uidvalidity(now: DateTime<Utc>) -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let t = now.timestamp().clamp(1, u32::MAX as i64 - 1);
    let mut prev = LAST.load(Ordering::SeqCst);
    loop {
        let next = t.max(prev + 1).min(u32::MAX as i64);
        match LAST.compare_exchange(prev, next, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return next,
            Err(p) => prev = p,
        }
    }
}

/// Creates a folder of the account; `Err(StoreError::Unique)` when the path exists. (A new
/// folder concerns no selected mailbox: it is not in the change feed.)
pub fn create_folder(
    c: &mut Conn,
    account: &Account,
    path: &str,
    special_use: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let guid = uuid::Uuid::new_v4().to_string();
    let id = c.insert_returning(
        &q::FOLDER_INSERT,
        &binds![
            "guid" => guid, "owner_account_id" => account.account_id,
            "domain_id" => account.domain_id, "parent_folder_id" => None::<i64>,
            "folder_path" => path, "folder_kind" => "PRIVATE",
            "special_use" => special_use, "uidvalidity" => new_uidvalidity(now),
            "created_at" => now,
        ],
        "folder_id",
    )?;
    Ok(id)
}

/// The folders of a new account besides its INBOX: the special-use ones, subscribed.
pub fn create_new_account_folders(
    c: &mut Conn,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (path, use_) in SPECIAL_FOLDERS {
        create_folder(c, account, path, Some(use_), now)?;
        c.execute(
            &q::SUBSCRIPTION_INSERT,
            &binds!["account_id" => account.account_id, "folder_path" => *path],
        )?;
    }
    Ok(())
}

/// Creates the special-use folders an account lacks, and subscribes them.
pub fn create_special_folders(
    c: &mut Conn,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let have = folders(c, account.account_id)?;
    let subscribed = subscriptions(c, account.account_id)?;
    for (path, use_) in SPECIAL_FOLDERS {
        if have
            .iter()
            .any(|f| f.path == *path || f.special_use.as_deref() == Some(use_))
        {
            continue;
        }
        create_folder(c, account, path, Some(use_), now)?;
        if !subscribed.iter().any(|s| s == path) {
            subscribe(c, account.account_id, path)?;
        }
    }
    Ok(())
}

/// Deletes a folder and the pointers in it: the content loses a pointer, the account gets
/// its quota back.
pub fn delete_folder(
    c: &mut Conn,
    account_id: i64,
    folder_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    c.execute(
        &q::MBOX_FOLDER_REFUND,
        &binds!["folder_id" => folder_id, "account_id" => account_id],
    )?;
    c.execute(
        &q::MBOX_FOLDER_RELEASE_MESSAGES,
        &binds!["folder_id" => folder_id],
    )?;
    let n = c.execute(
        &q::MBOX_FOLDER_DELETE,
        &binds!["folder_id" => folder_id, "account_id" => account_id],
    )?;
    if n == 1 {
        change(c, account_id, folder_id, None, "FOLDER", 0, now)?;
    }
    Ok(n == 1)
}

/// Gives a folder a new path (its children are the caller's to rename).
pub fn rename_folder(
    c: &mut Conn,
    account_id: i64,
    folder_id: i64,
    new_path: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = c.execute(
        &q::MBOX_FOLDER_RENAME,
        &binds!["new_path" => new_path, "folder_id" => folder_id, "account_id" => account_id],
    )?;
    if n == 1 {
        change(c, account_id, folder_id, None, "FOLDER", 0, now)?;
    }
    Ok(n == 1)
}

pub fn subscriptions(c: &mut Conn, account_id: i64) -> Result<Vec<String>, StoreError> {
    c.query(
        &q::MBOX_SUBSCRIPTION_LIST,
        &binds!["account_id" => account_id],
    )?
    .iter()
    .map(|r| r.str(0))
    .collect()
}

/// Subscribes a path (already subscribed: nothing to do).
pub fn subscribe(c: &mut Conn, account_id: i64, path: &str) -> Result<(), StoreError> {
    if subscriptions(c, account_id)?.iter().any(|s| s == path) {
        return Ok(());
    }
    c.execute(
        &q::SUBSCRIPTION_INSERT,
        &binds!["account_id" => account_id, "folder_path" => path],
    )?;
    Ok(())
}

pub fn unsubscribe(c: &mut Conn, account_id: i64, path: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        &q::MBOX_SUBSCRIPTION_DELETE,
        &binds!["account_id" => account_id, "folder_path" => path],
    )? > 0)
}

/// Selects a folder: its state, and the first UID that is `\Recent` for this session. With
/// `take_recent` (SELECT, not EXAMINE) the messages from there on stop being recent for any
/// later session.
pub fn select(
    c: &mut Conn,
    account_id: i64,
    folder_id: i64,
    take_recent: bool,
) -> Result<Option<(Folder, i64)>, StoreError> {
    let Some(f) = folder_by_id(c, account_id, folder_id)? else {
        return Ok(None);
    };
    let first_recent = f.recent_uid;
    if take_recent && f.recent_uid < f.next_uid {
        c.execute(
            &q::MBOX_FOLDER_TAKE_RECENT,
            &binds!["folder_id" => folder_id],
        )?;
    }
    Ok(Some((f, first_recent)))
}

// ------------------------------------------------------------------ messages

/// Every message of a folder, by UID.
pub fn messages(c: &mut Conn, folder_id: i64) -> Result<Vec<MessageRow>, StoreError> {
    c.query(&q::MBOX_MESSAGES, &binds!["folder_id" => folder_id])?
        .iter()
        .map(message_row)
        .collect()
}

/// What STATUS counts in a folder, without reading its messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub messages: i64,
    pub unseen: i64,
    pub deleted: i64,
    /// Messages from the folder's `recent_uid` on.
    pub recent: i64,
}

pub fn counts(c: &mut Conn, folder: &Folder) -> Result<Counts, StoreError> {
    let r = c
        .query_opt(
            &q::MBOX_FOLDER_COUNTS,
            &binds!["recent_uid" => folder.recent_uid, "folder_id" => folder.folder_id],
        )?
        .ok_or_else(|| StoreError::Decode("no counts".into()))?;
    Ok(Counts {
        messages: r.i64(0)?,
        unseen: r.i64(1)?,
        deleted: r.i64(2)?,
        recent: r.i64(3)?,
    })
}

/// The messages of a folder whose MODSEQ is above `modseq` (new ones and changed flags).
pub fn changed_since(
    c: &mut Conn,
    folder_id: i64,
    modseq: i64,
) -> Result<Vec<MessageRow>, StoreError> {
    c.query(
        &q::MBOX_MESSAGES_CHANGED,
        &binds!["folder_id" => folder_id, "modseq" => modseq],
    )?
    .iter()
    .map(message_row)
    .collect()
}

/// The UIDs expunged from a folder after `modseq`, from the tombstones.
pub fn expunged_since(c: &mut Conn, folder_id: i64, modseq: i64) -> Result<Vec<i64>, StoreError> {
    c.query(
        &q::MBOX_EXPUNGED_SINCE,
        &binds!["folder_id" => folder_id, "modseq" => modseq],
    )?
    .iter()
    .map(|r| r.i64(0))
    .collect()
}

/// The tombstones of a folder after `modseq`: (UID, MODSEQ of its expunge), by UID.
pub fn tombstones_since(
    c: &mut Conn,
    folder_id: i64,
    modseq: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    c.query(
        &q::MBOX_EXPUNGED_SINCE,
        &binds!["folder_id" => folder_id, "modseq" => modseq],
    )?
    .iter()
    .map(|r| Ok((r.i64(0)?, r.i64(1)?)))
    .collect()
}

/// The MODSEQ of the oldest tombstone a folder still has (`None`: it has none). The
/// Collector purges tombstones oldest first, so a folder's tombstones after a MODSEQ are all
/// there when one at or before that MODSEQ remains.
pub fn oldest_tombstone(c: &mut Conn, folder_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(
        c.query_opt(&q::MBOX_TOMBSTONE_OLDEST, &binds!["folder_id" => folder_id])?
            .map(|r| r.opt_i64(0))
            .transpose()?
            .flatten(),
    )
}

/// Locks a folder's row until the commit, so that its messages, which every change reaches
/// through that row (MODSEQ and UID bumps), stay as read until then (SQLite's write
/// transactions are exclusive anyway). `false`: no such folder.
pub fn lock_folder(c: &mut Conn, folder_id: i64) -> Result<bool, StoreError> {
    Ok(c.execute(&q::MBOX_FOLDER_LOCK, &binds!["folder_id" => folder_id])? == 1)
}

/// The messages of a folder with UIDs from `from` to `to`, by UID.
pub fn messages_in_range(
    c: &mut Conn,
    folder_id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<MessageRow>, StoreError> {
    c.query(
        &q::MBOX_MESSAGES_RANGE,
        &binds!["folder_id" => folder_id, "uid_from" => from, "uid_to" => to],
    )?
    .iter()
    .map(message_row)
    .collect()
}

pub fn message(c: &mut Conn, folder_id: i64, uid: i64) -> Result<Option<MessageRow>, StoreError> {
    c.query_opt(
        &q::MBOX_MESSAGE_GET,
        &binds!["folder_id" => folder_id, "msg_uid" => uid],
    )?
    .as_ref()
    .map(message_row)
    .transpose()
}

/// The content of a message, byte-exact.
pub fn content(c: &mut Conn, message_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    super::delivery::message_content(c, message_id)
}

/// How many bytes of each message [`heads`] reads: four chunks of 2,000 bytes, the longest RAW
/// that Oracle's `DBMS_LOB.SUBSTR` may return in SQL (with `MAX_STRING_SIZE = STANDARD`).
pub const HEAD_BYTES: usize = 8000;

/// Messages per statement of [`heads`] (the binds of its IN-list).
const HEADS_PER_STATEMENT: usize = 32;

const HEAD_BINDS: [&str; HEADS_PER_STATEMENT] = [
    "id01", "id02", "id03", "id04", "id05", "id06", "id07", "id08", "id09", "id10", "id11", "id12",
    "id13", "id14", "id15", "id16", "id17", "id18", "id19", "id20", "id21", "id22", "id23", "id24",
    "id25", "id26", "id27", "id28", "id29", "id30", "id31", "id32",
];

/// The first bytes of the content of each message, in the order of `message_ids` (`None` for
/// a message that does not exist): the whole content when it is shorter than [`HEAD_BYTES`];
/// else at least up to the first empty line (the end of the message's header) when that
/// comes within [`HEAD_BYTES`] bytes; else [`HEAD_BYTES`] bytes. In the caller's
/// transaction: what IMAP needs to answer header searches and header fetches without reading
/// attachments. On Oracle one statement per 32 messages (`DBMS_LOB.SUBSTR` in chunks); on the
/// embedded store incremental BLOB reads, which touch only the first pages of each content
/// (a SELECT of `substr(content, ...)` would read all of it).
pub fn heads(c: &mut Conn, message_ids: &[i64]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
    match c {
        Conn::Sqlite(db) => sqlite_heads(db, message_ids),
        Conn::Oracle(_) => statement_heads(c, message_ids),
    }
}

/// [`heads`] by the `mbox_heads` statement: [`HEAD_BYTES`] bytes of each message (the whole
/// content when shorter). What Oracle runs; the embedded store has the statement too (for the
/// tests).
pub(crate) fn statement_heads(
    c: &mut Conn,
    message_ids: &[i64],
) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
    let mut found: HashMap<i64, Vec<u8>> = HashMap::with_capacity(message_ids.len());
    for chunk in message_ids.chunks(HEADS_PER_STATEMENT) {
        // unused binds repeat the first id: the IN-list always has the same length
        let binds: Vec<(&str, super::Value)> = HEAD_BINDS
            .iter()
            .enumerate()
            .map(|(i, name)| (*name, chunk.get(i).copied().unwrap_or(chunk[0]).into()))
            .collect();
        for r in c.query(&q::MBOX_HEADS, &binds)?.iter() {
            let mut head = Vec::with_capacity(HEAD_BYTES);
            for col in 1..=4 {
                head.extend_from_slice(&r.blob(col)?);
            }
            head.truncate(HEAD_BYTES);
            found.insert(r.i64(0)?, head);
        }
    }
    Ok(message_ids
        .iter()
        .map(|id| found.get(id).cloned())
        .collect())
}

/// What the embedded store reads of a message first: most headers end within it.
const FIRST_READ: usize = 2048;

/// Whether the bytes hold an empty line (the end of a message's header).
fn holds_empty_line(b: &[u8]) -> bool {
    b.starts_with(b"\n")
        || b.starts_with(b"\r\n")
        || b.windows(2).any(|w| w == b"\n\n")
        || b.windows(3).any(|w| w == b"\n\r\n")
}

fn sqlite_heads(
    db: &rusqlite::Connection,
    message_ids: &[i64],
) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
    let fail = |e: rusqlite::Error| StoreError::Sql {
        stmt: "mbox_heads".into(),
        message: e.to_string(),
    };
    let missing = |e: &rusqlite::Error| match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.starts_with("no such rowid"),
        _ => false,
    };
    let mut out = Vec::with_capacity(message_ids.len());
    // one handle moved from row to row; a new one after a missing row (which aborts it)
    let mut blob: Option<rusqlite::blob::Blob<'_>> = None;
    for &id in message_ids {
        let at = match blob.as_mut() {
            Some(b) => b.reopen(id),
            None => db
                .blob_open(rusqlite::MAIN_DB, "es_message", "content", id, true)
                .map(|b| {
                    blob = Some(b);
                }),
        };
        match at {
            Ok(()) => {}
            Err(e) if missing(&e) => {
                blob = None;
                out.push(None);
                continue;
            }
            Err(e) => return Err(fail(e)),
        }
        let b = blob.as_ref().expect("opened");
        let want = b.len().min(HEAD_BYTES);
        let first = want.min(FIRST_READ);
        let mut head = vec![0; first];
        b.read_at_exact(&mut head, 0).map_err(fail)?;
        if first < want && !holds_empty_line(&head) {
            head.resize(want, 0);
            b.read_at_exact(&mut head[first..], first).map_err(fail)?;
        }
        out.push(Some(head));
    }
    Ok(out)
}

/// The cached structure of a message (see [`crate::mail::structure`]).
pub fn structure(c: &mut Conn, message_id: i64) -> Result<Option<String>, StoreError> {
    Ok(
        c.query_opt(&q::MBOX_STRUCTURE_GET, &binds!["message_id" => message_id])?
            .map(|r| r.opt_str(0))
            .transpose()?
            .flatten(),
    )
}

/// Records the structure of a message (computed once: when another session recorded it
/// first, that one stays).
pub fn set_structure(c: &mut Conn, message_id: i64, structure: &str) -> Result<(), StoreError> {
    match c.execute(
        &q::MBOX_STRUCTURE_PUT,
        &binds!["message_id" => message_id, "structure" => structure],
    ) {
        Ok(_) | Err(StoreError::Unique(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

fn change(
    c: &mut Conn,
    account_id: i64,
    folder_id: i64,
    uid: Option<i64>,
    kind: &str,
    modseq: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::MBOX_CHANGE_INSERT,
        &binds![
            "account_id" => account_id, "folder_id" => folder_id, "msg_uid" => uid,
            "change_kind" => kind, "modseq" => modseq, "changed_at" => now,
        ],
    )?;
    Ok(())
}

/// Takes the folder's next MODSEQ (and locks the folder row until the commit).
fn next_modseq(c: &mut Conn, folder_id: i64) -> Result<i64, StoreError> {
    if c.execute(
        &q::MBOX_FOLDER_MODSEQ_BUMP,
        &binds!["folder_id" => folder_id],
    )? != 1
    {
        return Err(StoreError::Decode(format!("folder {folder_id} vanished")));
    }
    c.query_opt(&q::MBOX_FOLDER_MODSEQ, &binds!["folder_id" => folder_id])?
        .ok_or_else(|| StoreError::Decode(format!("folder {folder_id} vanished")))?
        .i64(0)
}

/// Sets the flags of messages: `(uid, new flags)`, the caller having computed them from the
/// current ones in the same transaction. All get one new MODSEQ, which is returned.
pub fn set_flags(
    c: &mut Conn,
    account_id: i64,
    folder_id: i64,
    changes: &[(i64, String)],
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    if changes.is_empty() {
        return c
            .query_opt(&q::MBOX_FOLDER_MODSEQ, &binds!["folder_id" => folder_id])?
            .map(|r| r.i64(0))
            .transpose()
            .map(|m| m.unwrap_or(0));
    }
    let modseq = next_modseq(c, folder_id)?;
    for (uid, flags) in changes {
        c.execute(
            &q::MBOX_FLAGS_PUT,
            &binds![
                "flags" => flags.as_str(), "modseq" => modseq,
                "folder_id" => folder_id, "msg_uid" => *uid,
            ],
        )?;
    }
    let uid = (changes.len() == 1).then(|| changes[0].0);
    change(c, account_id, folder_id, uid, "FLAGS", modseq, now)?;
    Ok(modseq)
}

/// Removes messages from a folder (the caller chose them, e.g. those flagged `\Deleted`):
/// a tombstone each, one pointer less on the content, the quota given back unless `refund`
/// is false (a move). Returns the UIDs removed, in order.
pub fn expunge(
    c: &mut Conn,
    account_id: i64,
    folder_id: i64,
    uids: &[i64],
    refund: bool,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let mut uids = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    if uids.is_empty() {
        return Ok(uids);
    }
    let modseq = next_modseq(c, folder_id)?;
    let mut removed = Vec::with_capacity(uids.len());
    for uid in uids {
        let Some(m) = message(c, folder_id, uid)? else {
            continue;
        };
        c.execute(
            &q::MBOX_POINTER_DELETE,
            &binds!["folder_id" => folder_id, "msg_uid" => uid],
        )?;
        c.execute(
            &q::MBOX_TOMBSTONE_INSERT,
            &binds![
                "folder_id" => folder_id, "msg_uid" => uid, "modseq" => modseq,
                "expunged_at" => now,
            ],
        )?;
        c.execute(
            &q::MBOX_MESSAGE_POINTER_DROP,
            &binds!["message_id" => m.message_id],
        )?;
        if refund {
            c.execute(
                &q::MBOX_ACCOUNT_REFUND,
                &binds!["size_bytes" => m.size, "account_id" => account_id],
            )?;
        }
        removed.push(uid);
    }
    c.execute(
        &q::MBOX_FOLDER_COUNT_SUB,
        &binds!["removed" => removed.len() as i64, "folder_id" => folder_id],
    )?;
    change(c, account_id, folder_id, None, "EXPUNGE", modseq, now)?;
    Ok(removed)
}

/// A pointer to add to a folder.
#[derive(Debug, Clone)]
pub struct NewPointer<'a> {
    pub message_id: i64,
    pub size: i64,
    pub flags: &'a str,
    pub internal_date: DateTime<Utc>,
}

/// Adds pointers to a folder of the account (APPEND, COPY, MOVE): each takes the next UID,
/// all share one new MODSEQ. With `charge`, the account's quota must have room for them all
/// (nothing is changed otherwise). Returns the new UIDs, in order, and the MODSEQ.
pub fn add_pointers(
    c: &mut Conn,
    account_id: i64,
    folder_id: i64,
    pointers: &[NewPointer<'_>],
    charge: bool,
    now: DateTime<Utc>,
) -> Result<Result<(Vec<i64>, i64), Refusal>, StoreError> {
    if charge {
        let total: i64 = pointers.iter().map(|p| p.size).sum();
        let charged = c.execute(
            &q::POSTMAN_ACCOUNT_CHARGE,
            &binds!["size_bytes" => total, "account_id" => account_id],
        )?;
        if charged != 1 {
            let Some(a) = account(c, account_id)? else {
                return Ok(Err(Refusal::NoAccount));
            };
            if !a.enabled {
                return Ok(Err(Refusal::Disabled));
            }
            return Ok(Err(Refusal::Full {
                quota: a.quota_bytes,
                used: a.used_bytes,
            }));
        }
    }
    let mut uids = Vec::with_capacity(pointers.len());
    let mut modseq = 0;
    for p in pointers {
        if c.execute(&q::POSTMAN_FOLDER_BUMP, &binds!["folder_id" => folder_id])? != 1 {
            return Ok(Err(Refusal::NoInbox));
        }
        let state = c
            .query_opt(&q::POSTMAN_FOLDER_STATE, &binds!["folder_id" => folder_id])?
            .ok_or_else(|| StoreError::Decode(format!("folder {folder_id} vanished")))?;
        let uid = state.i64(0)?;
        modseq = state.i64(1)?;
        c.execute(
            &q::MBOX_POINTER_INSERT,
            &binds![
                "folder_id" => folder_id, "msg_uid" => uid, "message_id" => p.message_id,
                "account_id" => account_id, "flags" => p.flags, "modseq" => modseq,
                "internal_date" => p.internal_date,
            ],
        )?;
        c.execute(
            &q::POSTMAN_MESSAGE_POINTER_BUMP,
            &binds!["message_id" => p.message_id],
        )?;
        uids.push(uid);
    }
    if let Some(&last) = uids.last() {
        change(c, account_id, folder_id, Some(last), "APPEND", modseq, now)?;
    }
    Ok(Ok((uids, modseq)))
}

// ------------------------------------------------------------------ the change feed

/// Changes after `after_seq`, oldest first, at most `max_rows`.
pub fn changes_after(
    c: &mut Conn,
    after_seq: i64,
    max_rows: i64,
) -> Result<Vec<Change>, StoreError> {
    c.query(
        &q::MBOX_CHANGES_AFTER,
        &binds!["after_seq" => after_seq, "max_rows" => max_rows],
    )?
    .iter()
    .map(|r| {
        Ok(Change {
            seq: r.i64(0)?,
            account_id: r.i64(1)?,
            folder_id: r.i64(2)?,
            kind: r.str(3)?,
            modseq: r.i64(4)?,
        })
    })
    .collect()
}

/// The newest change's sequence number (0 when none).
pub fn last_change(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(c.query_opt(&q::MBOX_CHANGE_LAST, &binds![])?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0))
}
