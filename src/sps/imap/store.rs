//! What the IMAP sessions ask of the store, each request in one transaction on a pooled
//! connection (see [`crate::sps::db`]), composed from [`crate::store::mailbox`]. Results are
//! plain data; every call carries the account, and folders are always looked up through it.
//!
//! Changes made by other sessions since the session's snapshot are taken into account by
//! overlaying the rows changed since the snapshot's MODSEQ (and the tombstones) on the
//! snapshot's flags, in the same transaction as the change: no per-message reads.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use imap_codec::imap_types::flag::StoreType;

use super::flags::{self, Flags};
use super::mime;
use super::names;
use super::selected::Delta;
use crate::mail::intake;
use crate::sps::{Db, Unavailable};
use crate::store::delivery::Refusal;
use crate::store::mailbox::{self, Account, Folder, MessageRow, NewPointer};
use crate::store::queue::{self, NewMessage};
use crate::store::{Conn, StoreError};

pub type R<T> = Result<T, Unavailable>;

// ------------------------------------------------------------------ the account

/// Creates the special-use folders the account lacks (at login). Failures are logged only.
pub async fn prepare_account(db: &Db, account_id: i64) {
    let missing = db
        .read("imap login", move |c| {
            let have = mailbox::folders(c, account_id)?;
            Ok(mailbox::SPECIAL_FOLDERS.iter().any(|(path, use_)| {
                !have
                    .iter()
                    .any(|f| f.path == *path || f.special_use.as_deref() == Some(use_))
            }))
        })
        .await;
    if missing != Ok(true) {
        return;
    }
    let _ = db
        .write("imap special folders", move |c| {
            if let Some(a) = mailbox::account(c, account_id)? {
                mailbox::create_special_folders(c, &a, Utc::now())?;
            }
            Ok(())
        })
        .await;
}

pub async fn account(db: &Db, account_id: i64) -> R<Option<Account>> {
    db.read("imap account", move |c| mailbox::account(c, account_id))
        .await
}

// ------------------------------------------------------------------ folders

/// The account's folders and subscriptions.
pub async fn folders(db: &Db, account_id: i64) -> R<(Vec<Folder>, Vec<String>)> {
    db.read("imap list", move |c| {
        Ok((
            mailbox::folders(c, account_id)?,
            mailbox::subscriptions(c, account_id)?,
        ))
    })
    .await
}

pub async fn folder(db: &Db, account_id: i64, name: String) -> R<Option<Folder>> {
    db.read("imap folder", move |c| {
        mailbox::folder(c, account_id, &name)
    })
    .await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Done,
    Exists,
    NoAccount,
}

/// Creates a folder and the levels above it that are missing.
pub async fn create(db: &Db, account_id: i64, name: String) -> R<Created> {
    db.write("imap create", move |c| {
        let Some(a) = mailbox::account(c, account_id)? else {
            return Ok(Created::NoAccount);
        };
        let have: HashSet<String> = mailbox::folders(c, account_id)?
            .into_iter()
            .map(|f| f.path)
            .collect();
        if have.contains(&name) {
            return Ok(Created::Exists);
        }
        let now = Utc::now();
        for parent in names::ancestors(&name) {
            if !have.contains(parent) {
                mailbox::create_folder(c, &a, parent, None, now)?;
            }
        }
        match mailbox::create_folder(c, &a, &name, None, now) {
            Ok(_) => Ok(Created::Done),
            Err(StoreError::Unique(_)) => Ok(Created::Exists),
            Err(e) => Err(e),
        }
    })
    .await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    Done,
    NoSuch,
    HasChildren,
}

pub async fn delete(db: &Db, account_id: i64, name: String) -> R<Deleted> {
    db.write("imap delete", move |c| {
        let all = mailbox::folders(c, account_id)?;
        let Some(f) = all.iter().find(|f| f.path == name) else {
            return Ok(Deleted::NoSuch);
        };
        if all.iter().any(|o| names::is_below(&o.path, &name)) {
            return Ok(Deleted::HasChildren);
        }
        Ok(
            if mailbox::delete_folder(c, account_id, f.folder_id, Utc::now())? {
                Deleted::Done
            } else {
                Deleted::NoSuch
            },
        )
    })
    .await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renamed {
    Done,
    NoSuch,
    Exists,
    NoAccount,
}

/// Renames a folder with everything below it; renaming INBOX moves its messages to a new
/// folder and leaves INBOX empty (RFC 3501, 6.3.5).
pub async fn rename(db: &Db, account_id: i64, from: String, to: String) -> R<Renamed> {
    db.write("imap rename", move |c| {
        let Some(a) = mailbox::account(c, account_id)? else {
            return Ok(Renamed::NoAccount);
        };
        let all = mailbox::folders(c, account_id)?;
        let Some(src) = all.iter().find(|f| f.path == from).cloned() else {
            return Ok(Renamed::NoSuch);
        };
        let inbox = from == names::INBOX;
        let moving: Vec<&Folder> = all
            .iter()
            .filter(|f| f.path == from || (!inbox && names::is_below(&f.path, &from)))
            .collect();
        let new_path = |p: &str| format!("{to}{}", &p[from.len()..]);
        let taken: HashSet<&str> = all.iter().map(|f| f.path.as_str()).collect();
        if moving
            .iter()
            .any(|f| taken.contains(new_path(&f.path).as_str()))
        {
            return Ok(Renamed::Exists);
        }
        let now = Utc::now();
        for parent in names::ancestors(&to) {
            if !taken.contains(parent) {
                mailbox::create_folder(c, &a, parent, None, now)?;
            }
        }
        if inbox {
            let dest = mailbox::create_folder(c, &a, &to, None, now)?;
            let rows = mailbox::messages(c, src.folder_id)?;
            let ptrs: Vec<NewPointer<'_>> = rows
                .iter()
                .map(|r| NewPointer {
                    message_id: r.message_id,
                    size: r.size,
                    flags: &r.flags,
                    internal_date: r.internal_date,
                })
                .collect();
            if !ptrs.is_empty() {
                if let Err(r) = mailbox::add_pointers(c, account_id, dest, &ptrs, false, now)? {
                    return Err(StoreError::Decode(format!("rename INBOX: {r:?}")));
                }
                let uids: Vec<i64> = rows.iter().map(|r| r.uid).collect();
                mailbox::expunge(c, account_id, src.folder_id, &uids, false, now)?;
            }
            return Ok(Renamed::Done);
        }
        for f in moving {
            mailbox::rename_folder(c, account_id, f.folder_id, &new_path(&f.path), now)?;
        }
        Ok(Renamed::Done)
    })
    .await
}

pub async fn subscribe(db: &Db, account_id: i64, name: String, on: bool) -> R<()> {
    db.write("imap subscribe", move |c| {
        if on {
            mailbox::subscribe(c, account_id, &name)
        } else {
            mailbox::unsubscribe(c, account_id, &name).map(|_| ())
        }
    })
    .await
}

/// What STATUS reports.
#[derive(Debug, Clone)]
pub struct Status {
    pub folder: Folder,
    pub unseen: u32,
    pub recent: u32,
    pub deleted: u32,
}

/// A folder's state; with `counts`, the unseen, recent and deleted messages are counted (by
/// the store, without reading the messages).
pub async fn status(db: &Db, account_id: i64, name: String, counts: bool) -> R<Option<Status>> {
    db.read("imap status", move |c| {
        let Some(folder) = mailbox::folder(c, account_id, &name)? else {
            return Ok(None);
        };
        let (mut unseen, mut recent, mut deleted) = (0, 0, 0);
        if counts {
            let n = mailbox::counts(c, &folder)?;
            let clamp = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
            unseen = clamp(n.unseen);
            recent = clamp(n.recent);
            deleted = clamp(n.deleted);
        }
        Ok(Some(Status {
            folder,
            unseen,
            recent,
            deleted,
        }))
    })
    .await
}

// ------------------------------------------------------------------ selection

/// A folder just selected.
#[derive(Debug, Clone)]
pub struct Opened {
    pub folder: Folder,
    pub first_recent: i64,
    pub rows: Vec<MessageRow>,
    /// With QRESYNC: the messages expunged after the client's MODSEQ.
    pub vanished: Option<Vanished>,
}

/// The UIDs expunged from a folder after a MODSEQ, from its tombstones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vanished {
    pub uids: Vec<i64>,
    /// Whether every such expunge still has its tombstone (the Collector purges old ones);
    /// when not, the caller falls back on the UIDs the client knows that are missing.
    pub complete: bool,
}

fn vanished_since(c: &mut Conn, folder: &Folder, since: i64) -> Result<Vanished, StoreError> {
    if since >= folder.highest_modseq {
        return Ok(Vanished {
            uids: Vec::new(),
            complete: true,
        });
    }
    let uids = mailbox::expunged_since(c, folder.folder_id, since)?;
    let complete = mailbox::oldest_tombstone(c, folder.folder_id)?.is_some_and(|m| m <= since);
    Ok(Vanished { uids, complete })
}

/// SELECT (takes `\Recent`) or EXAMINE (read-only); with `qresync_since`, the expunges after
/// that MODSEQ too.
pub async fn open(
    db: &Db,
    account_id: i64,
    name: String,
    read_only: bool,
    qresync_since: Option<i64>,
) -> R<Option<Opened>> {
    let f = move |c: &mut Conn| {
        let Some(folder) = mailbox::folder(c, account_id, &name)? else {
            return Ok(None);
        };
        let Some((folder, first_recent)) =
            mailbox::select(c, account_id, folder.folder_id, !read_only)?
        else {
            return Ok(None);
        };
        let vanished = match qresync_since {
            Some(since) => Some(vanished_since(c, &folder, since)?),
            None => None,
        };
        let rows = mailbox::messages(c, folder.folder_id)?;
        Ok(Some(Opened {
            folder,
            first_recent,
            rows,
            vanished,
        }))
    };
    if read_only {
        db.read("imap examine", f).await
    } else {
        db.write("imap select", f).await
    }
}

enum Poll {
    Unchanged,
    Changed(Delta),
    /// New messages to take `\Recent` for: done again in a write transaction.
    TakeRecent,
}

fn delta(c: &mut Conn, folder: &Folder, since: i64, recent_from: i64) -> Result<Delta, StoreError> {
    Ok(Delta {
        highest_modseq: folder.highest_modseq,
        next_uid: folder.next_uid,
        changed: mailbox::changed_since(c, folder.folder_id, since)?,
        expunged: mailbox::tombstones_since(c, folder.folder_id, since)?,
        recent_from,
        gone: false,
    })
}

/// What changed in a selected folder since `modseq`; `None` when nothing did. With
/// `take_recent`, new messages become `\Recent` for this session only.
pub async fn poll(
    db: &Db,
    account_id: i64,
    folder_id: i64,
    modseq: i64,
    next_uid: i64,
    take_recent: bool,
) -> R<Option<Delta>> {
    let first = db
        .read("imap poll", move |c| {
            let Some(f) = mailbox::folder_by_id(c, account_id, folder_id)? else {
                return Ok(Poll::Changed(Delta {
                    gone: true,
                    ..Default::default()
                }));
            };
            if f.highest_modseq == modseq && f.next_uid == next_uid {
                return Ok(Poll::Unchanged);
            }
            if take_recent && f.next_uid > next_uid && f.recent_uid < f.next_uid {
                return Ok(Poll::TakeRecent);
            }
            Ok(Poll::Changed(delta(c, &f, modseq, f.recent_uid)?))
        })
        .await?;
    match first {
        Poll::Unchanged => Ok(None),
        Poll::Changed(d) => Ok(Some(d)),
        Poll::TakeRecent => {
            db.write("imap poll", move |c| {
                let Some((f, first_recent)) = mailbox::select(c, account_id, folder_id, true)?
                else {
                    return Ok(Some(Delta {
                        gone: true,
                        ..Default::default()
                    }));
                };
                Ok(Some(delta(c, &f, modseq, first_recent)?))
            })
            .await
        }
    }
}

/// UID FETCH (VANISHED): the expunges from a selected folder after `since`.
pub async fn vanished(db: &Db, account_id: i64, folder_id: i64, since: i64) -> R<Vanished> {
    db.read("imap vanished", move |c| {
        match mailbox::folder_by_id(c, account_id, folder_id)? {
            Some(f) => vanished_since(c, &f, since),
            None => Ok(Vanished::default()),
        }
    })
    .await
}

// ------------------------------------------------------------------ messages

/// A message of the snapshot a command works on.
#[derive(Debug, Clone)]
pub struct Target {
    pub uid: i64,
    pub message_id: i64,
    pub flags: String,
    pub modseq: i64,
    pub internal_date: DateTime<Utc>,
    pub size: i64,
}

/// The current flags and MODSEQ of the targets (`None`: expunged meanwhile): the snapshot's,
/// unless a row changed since `modseq`.
fn current(
    c: &mut Conn,
    folder_id: i64,
    modseq: i64,
    targets: &[Target],
) -> Result<Vec<Option<(String, i64)>>, StoreError> {
    let changed: HashMap<i64, (String, i64)> = mailbox::changed_since(c, folder_id, modseq)?
        .into_iter()
        .map(|r| (r.uid, (r.flags, r.modseq)))
        .collect();
    let gone: HashSet<i64> = mailbox::expunged_since(c, folder_id, modseq)?
        .into_iter()
        .collect();
    Ok(targets
        .iter()
        .map(|t| {
            if gone.contains(&t.uid) {
                None
            } else {
                Some(
                    changed
                        .get(&t.uid)
                        .cloned()
                        .unwrap_or_else(|| (t.flags.clone(), t.modseq)),
                )
            }
        })
        .collect())
}

/// The flags and MODSEQ of the targets as the store has them (`None`: expunged), read
/// from the rows themselves.
fn read_current(
    c: &mut Conn,
    folder_id: i64,
    targets: &[Target],
) -> Result<Vec<Option<(String, i64)>>, StoreError> {
    let (Some(from), Some(to)) = (
        targets.iter().map(|t| t.uid).min(),
        targets.iter().map(|t| t.uid).max(),
    ) else {
        return Ok(Vec::new());
    };
    let rows: HashMap<i64, (String, i64)> = mailbox::messages_in_range(c, folder_id, from, to)?
        .into_iter()
        .map(|r| (r.uid, (r.flags, r.modseq)))
        .collect();
    Ok(targets.iter().map(|t| rows.get(&t.uid).cloned()).collect())
}

/// A message a STORE reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub uid: i64,
    pub flags: Flags,
    pub modseq: i64,
    /// Its flags changed (and so did its MODSEQ).
    pub changed: bool,
}

/// What a STORE did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreResult {
    /// The targets still there and not refused by UNCHANGEDSINCE, in order.
    pub stored: Vec<Stored>,
    /// The UIDs UNCHANGEDSINCE refused: changed after its MODSEQ.
    pub modified: Vec<i64>,
}

/// STORE (and the `\Seen` of a FETCH): the new flags of each target still there. With
/// `unchanged_since` (CONDSTORE), a target whose MODSEQ in the store is above it is left
/// alone and reported; the check and the change are one transaction, with the folder locked.
#[allow(clippy::too_many_arguments)]
pub async fn store_flags(
    db: &Db,
    account_id: i64,
    folder_id: i64,
    modseq: i64,
    targets: Vec<Target>,
    kind: StoreType,
    given: Flags,
    unchanged_since: Option<u64>,
) -> R<Result<StoreResult, flags::FlagError>> {
    db.write("imap store", move |c| {
        if !mailbox::lock_folder(c, folder_id)? {
            return Ok(Ok(StoreResult::default()));
        }
        let now = match unchanged_since {
            Some(_) => read_current(c, folder_id, &targets)?,
            None => current(c, folder_id, modseq, &targets)?,
        };
        let mut result = StoreResult::default();
        let mut changes = Vec::new();
        for (t, cur) in targets.iter().zip(now) {
            let Some((cur, cur_modseq)) = cur else {
                continue;
            };
            if unchanged_since.is_some_and(|u| u64::try_from(cur_modseq).unwrap_or(0) > u) {
                result.modified.push(t.uid);
                continue;
            }
            let cur = Flags::parse(&cur);
            let new = cur.apply(kind, &given);
            if let Err(e) = new.check() {
                return Ok(Err(e));
            }
            let changed = new != cur;
            if changed {
                changes.push((t.uid, new.stored()));
            }
            result.stored.push(Stored {
                uid: t.uid,
                flags: new,
                modseq: cur_modseq,
                changed,
            });
        }
        if !changes.is_empty() {
            let m = mailbox::set_flags(c, account_id, folder_id, &changes, Utc::now())?;
            for s in result.stored.iter_mut().filter(|s| s.changed) {
                s.modseq = m;
            }
        }
        Ok(Ok(result))
    })
    .await
}

/// Expunges the targets flagged `\Deleted` now; returns the UIDs removed.
pub async fn expunge(
    db: &Db,
    account_id: i64,
    folder_id: i64,
    modseq: i64,
    targets: Vec<Target>,
) -> R<Vec<i64>> {
    db.write("imap expunge", move |c| {
        let now_flags = current(c, folder_id, modseq, &targets)?;
        let uids: Vec<i64> = targets
            .iter()
            .zip(now_flags)
            .filter(|(_, f)| {
                f.as_ref()
                    .is_some_and(|(f, _)| Flags::parse(f).has(flags::DELETED))
            })
            .map(|(t, _)| t.uid)
            .collect();
        mailbox::expunge(c, account_id, folder_id, &uids, true, Utc::now())
    })
    .await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    /// The destination's UIDVALIDITY and (source UID, new UID) pairs.
    Done {
        uidvalidity: i64,
        pairs: Vec<(i64, i64)>,
    },
    NoFolder,
    OverQuota,
    Refused(String),
}

/// COPY (charged to the quota) or MOVE (not charged; the sources are expunged).
pub async fn copy(
    db: &Db,
    account_id: i64,
    folder_id: i64,
    modseq: i64,
    targets: Vec<Target>,
    dest: String,
    is_move: bool,
) -> R<Copied> {
    db.write(if is_move { "imap move" } else { "imap copy" }, move |c| {
        let Some(d) = mailbox::folder(c, account_id, &dest)? else {
            return Ok(Copied::NoFolder);
        };
        let now_flags = current(c, folder_id, modseq, &targets)?;
        let present: Vec<(&Target, String)> = targets
            .iter()
            .zip(now_flags)
            .filter_map(|(t, f)| f.map(|(f, _)| (t, f)))
            .collect();
        if present.is_empty() {
            return Ok(Copied::Done {
                uidvalidity: d.uidvalidity,
                pairs: Vec::new(),
            });
        }
        let ptrs: Vec<NewPointer<'_>> = present
            .iter()
            .map(|(t, f)| NewPointer {
                message_id: t.message_id,
                size: t.size,
                flags: f,
                internal_date: t.internal_date,
            })
            .collect();
        let now = Utc::now();
        let uids = match mailbox::add_pointers(c, account_id, d.folder_id, &ptrs, !is_move, now)? {
            Ok((uids, _)) => uids,
            Err(Refusal::Full { .. }) => return Ok(Copied::OverQuota),
            Err(r) => return Ok(Copied::Refused(format!("{r:?}"))),
        };
        let src: Vec<i64> = present.iter().map(|(t, _)| t.uid).collect();
        if is_move {
            mailbox::expunge(c, account_id, folder_id, &src, false, now)?;
        }
        Ok(Copied::Done {
            uidvalidity: d.uidvalidity,
            pairs: src.into_iter().zip(uids).collect(),
        })
    })
    .await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    Done { uidvalidity: i64, uid: i64 },
    NoFolder,
    OverQuota,
    Refused(String),
}

/// APPEND: stores the content once and adds it to the folder, within the quota.
pub async fn append(
    db: &Db,
    account_id: i64,
    node_id: i64,
    name: String,
    content: Vec<u8>,
    flags: String,
    date: DateTime<Utc>,
) -> R<Appended> {
    db.write("imap append", move |c| {
        let Some(f) = mailbox::folder(c, account_id, &name)? else {
            return Ok(Appended::NoFolder);
        };
        let Some(a) = mailbox::account(c, account_id)? else {
            return Ok(Appended::Refused("no such account".into()));
        };
        let size = content.len() as i64;
        if a.quota_bytes > 0 && a.used_bytes.saturating_add(size) > a.quota_bytes {
            return Ok(Appended::OverQuota);
        }
        let guid = uuid::Uuid::new_v4().to_string();
        let sha = intake::sha256_hex(&content);
        let msgid = intake::inspect(&content).ok().and_then(|i| i.message_id);
        let now = Utc::now();
        let message_id = queue::insert_message(
            c,
            &NewMessage {
                guid: &guid,
                origin_node_id: node_id,
                content: &content,
                sha256: &sha,
                rfc822_msgid: msgid.as_deref(),
                received_at: now,
                structure: None,
            },
        )?;
        let ptr = NewPointer {
            message_id,
            size,
            flags: &flags,
            internal_date: date,
        };
        match mailbox::add_pointers(c, account_id, f.folder_id, &[ptr], true, now)? {
            Ok((uids, _)) => Ok(Appended::Done {
                uidvalidity: f.uidvalidity,
                uid: uids.first().copied().unwrap_or(0),
            }),
            // the content stays without a pointer: the Collector removes it
            Err(Refusal::Full { .. }) => Ok(Appended::OverQuota),
            Err(r) => Ok(Appended::Refused(format!("{r:?}"))),
        }
    })
    .await
}

/// What of its messages' content a FETCH or a SEARCH needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    Nothing,
    /// The message's header (up to its empty line): header sections, header keys.
    Header,
    Whole,
}

/// A message's cached structure and/or content.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub structure: Option<String>,
    /// The content: the whole message, or with [`Need::Header`] possibly its header only
    /// (with the empty line that ends it), which the header functions answer alike on.
    pub content: Option<Vec<u8>>,
}

/// Reads messages for FETCH or SEARCH, in one transaction: the cached structure (with
/// `structure`; the whole content too when it is not cached yet) and the content `need`s.
/// For the header, the first bytes of the messages are read ([`mailbox::heads`]), and the
/// whole content only of those whose header goes on past them.
pub async fn load(db: &Db, message_ids: Vec<i64>, structure: bool, need: Need) -> R<Vec<Loaded>> {
    db.read("imap load", move |c| {
        let mut out = Vec::with_capacity(message_ids.len());
        for &id in &message_ids {
            let s = if structure {
                mailbox::structure(c, id)?
            } else {
                None
            };
            let whole = need == Need::Whole || (structure && s.is_none());
            let body = if whole {
                mailbox::content(c, id)?
            } else {
                None
            };
            out.push(Loaded {
                structure: s,
                content: body,
            });
        }
        if need == Need::Header {
            let (at, ids): (Vec<usize>, Vec<i64>) = out
                .iter()
                .zip(&message_ids)
                .enumerate()
                .filter(|(_, (l, _))| l.content.is_none())
                .map(|(i, (_, &id))| (i, id))
                .unzip();
            for (i, head) in at.into_iter().zip(mailbox::heads(c, &ids)?) {
                let Some(head) = head else {
                    continue; // gone
                };
                out[i].content = match mime::header_of(&head, mailbox::HEAD_BYTES) {
                    Some(h) => Some(h.to_vec()),
                    None => mailbox::content(c, message_ids[i])?,
                };
            }
        }
        Ok(out)
    })
    .await
}

/// Caches computed structures.
pub async fn save_structures(db: &Db, items: Vec<(i64, String)>) -> R<()> {
    db.write("imap structure", move |c| {
        for (id, s) in &items {
            mailbox::set_structure(c, *id, s)?;
        }
        Ok(())
    })
    .await
}
