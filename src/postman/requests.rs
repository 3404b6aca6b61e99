//! The requests the PL/SQL packages leave in the store (schema step 7), performed by the
//! Postman after their writer committed:
//!
//! - **Mailbox requests** (`es_mailbox_request`, from IM_API and IOSEND's
//!   `FOLDER_CARBON_COPY`): create or delete a folder, append a stored message to a folder, copy,
//!   move or delete a message, set or clear flags. Each is done with the store's own mailbox
//!   functions ([`crate::store::mailbox`]) as the IMAP server does it: UIDs, MODSEQs, quota,
//!   pointer counts and the change feed are never written by PL/SQL.
//! - **Directory requests** (`es_admin_request`, from DAPLS): one IOFCMGR statement each, of the
//!   subset DAPLS offers (create, modify, delete of persons, rooms, equipment and public
//!   distribution lists), run through the directory code as `iofcmgr` runs it (references, loop
//!   checks, INBOX and special-use folders, change log).
//!
//! Each request is one transaction: claim the row, do it, write DONE (or, when it is refused,
//! undo it to a savepoint and write FAILED with the reason). A store error rolls everything
//! back and counts an attempt; after [`MAX_ATTEMPTS`] the request is FAILED.

use chrono::{DateTime, Utc};

use crate::admin::script::{tokenize, Splitter};
use crate::directory::{self, Args, Class, Ctx, DirError, ObjectClass};
use crate::mail::folder_name as names;
use crate::sps::imap::flags::{self, Flags};
use crate::store::delivery::Refusal;
use crate::store::mailbox::{self, NewPointer};
use crate::store::requests::{self as repo, AdminRequest, MailboxRequest, Table};
use crate::store::{Conn, Store, StoreError};

/// Attempts before a request that keeps meeting store errors is given up (FAILED).
pub const MAX_ATTEMPTS: i64 = 5;

/// The classes DAPLS may create, modify and delete.
pub const DAPLS_CLASSES: &[&str] = &["person", "room", "equipment", "publicdl"];

/// What a round of requests did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestReport {
    pub done: u64,
    pub failed: u64,
    /// Attempts that met a store error (the request stays PENDING until [`MAX_ATTEMPTS`]).
    pub retried: u64,
}

impl RequestReport {
    pub fn any(&self) -> bool {
        self.done + self.failed + self.retried > 0
    }
}

/// What performing one request decided: `Ok` with the UID it produced (APPEND, COPY, MOVE) or
/// `Err` with why it is refused.
type Outcome<T> = Result<T, String>;

/// Performs up to `batch` pending mailbox requests and up to `batch` pending directory
/// requests, oldest first. `node_id` is the local node (directory changes name it).
pub fn round(store: &Store, node_id: i64, batch: u64) -> Result<RequestReport, StoreError> {
    let mut report = RequestReport::default();
    let ids = store.read(|c| repo::pending(c, Table::Mailbox, batch))?;
    for id in ids {
        one(store, Table::Mailbox, id, &mut report, |c, now| {
            if !repo::claim(c, Table::Mailbox, id)? {
                return Ok(None);
            }
            let Some(r) = repo::mailbox_request(c, id)? else {
                return Ok(None);
            };
            c.savepoint()?;
            let outcome = perform_mailbox(c, &r, now)?;
            match &outcome {
                Ok(uid) => {
                    c.release_savepoint()?;
                    repo::mailbox_done(c, id, *uid, now)?;
                    log::info!(
                        "mailbox request {id} ({} of account {}) done",
                        r.kind,
                        r.account_id
                    );
                }
                Err(why) => {
                    c.rollback_to_savepoint()?;
                    repo::failed(c, Table::Mailbox, id, why, now)?;
                    log::warn!(
                        "mailbox request {id} ({} of account {}) refused: {why}",
                        r.kind,
                        r.account_id
                    );
                }
            }
            Ok(Some(outcome.map(|_| ())))
        });
    }
    let ids = store.read(|c| repo::pending(c, Table::Admin, batch))?;
    for id in ids {
        one(store, Table::Admin, id, &mut report, |c, now| {
            if !repo::claim(c, Table::Admin, id)? {
                return Ok(None);
            }
            let Some(r) = repo::admin_request(c, id)? else {
                return Ok(None);
            };
            c.savepoint()?;
            let outcome = perform_admin(c, node_id, &r, now)?;
            match &outcome {
                Ok(message) => {
                    c.release_savepoint()?;
                    repo::admin_done(c, id, message, now)?;
                    log::info!(
                        "directory request {id} from {}: {message}",
                        r.requested_by.as_deref().unwrap_or("?")
                    );
                }
                Err(why) => {
                    c.rollback_to_savepoint()?;
                    repo::failed(c, Table::Admin, id, why, now)?;
                    log::warn!(
                        "directory request {id} from {} refused: {why}",
                        r.requested_by.as_deref().unwrap_or("?")
                    );
                }
            }
            Ok(Some(outcome.map(|_| ())))
        });
    }
    Ok(report)
}

/// After a store error: the request stays PENDING for another try, or fails once it has had
/// [`MAX_ATTEMPTS`].
fn retry_or_give_up(c: &mut Conn, t: Table, id: i64, e: &StoreError) -> Result<(), StoreError> {
    if repo::attempts(c, t, id)?.is_some_and(|a| a + 1 >= MAX_ATTEMPTS) {
        repo::failed(
            c,
            t,
            id,
            &format!("gave up after {MAX_ATTEMPTS} attempts: {e}"),
            Utc::now(),
        )
    } else {
        repo::retry(c, t, id, &e.to_string())
    }
}

/// A round on the local node, as the Postman's loop runs it between two delivery rounds:
/// errors are logged; returns whether any request was handled.
pub fn round_logged(store: &Store, batch: u64) -> bool {
    let node = match store.read(crate::store::system::local_node_id) {
        Ok(Some(n)) => n,
        Ok(None) => return false,
        Err(e) => {
            log::error!("requests: {e}");
            return false;
        }
    };
    match round(store, node, batch) {
        Ok(r) => r.any(),
        Err(e) => {
            log::error!("requests: {e}");
            false
        }
    }
}

/// One request in one write transaction; on a store error, `retry` counts the attempt in a
/// transaction of its own.
fn one(
    store: &Store,
    table: Table,
    id: i64,
    report: &mut RequestReport,
    work: impl FnOnce(&mut Conn, DateTime<Utc>) -> Result<Option<Outcome<()>>, StoreError>,
) {
    let now = Utc::now();
    match store.write(|c| work(c, now)) {
        Ok(None) => {}
        Ok(Some(Ok(()))) => report.done += 1,
        Ok(Some(Err(_))) => report.failed += 1,
        Err(e) => {
            log::error!("request {id}: {e}");
            report.retried += 1;
            if let Err(e2) = store.write(|c| retry_or_give_up(c, table, id, &e)) {
                log::error!("request {id}: cannot count the attempt: {e2}");
            }
        }
    }
}

// ------------------------------------------------------------------ mailbox requests

fn need<T: Clone>(v: &Option<T>, what: &str, kind: &str) -> Outcome<T> {
    v.clone().ok_or_else(|| format!("{kind} needs {what}"))
}

/// A folder path as IMAP would take it: INBOX in any case is INBOX; the name must be valid.
fn folder_name(path: &str) -> Outcome<String> {
    let p = names::normalize(path.trim());
    names::validate(&p).map_err(|e| format!("{path:?}: {e}"))?;
    Ok(p)
}

/// The flags of a SET_FLAGS or APPEND request: `+\Seen -\Flagged $Label` (no sign: set).
fn parse_flag_changes(params: &str) -> Outcome<Vec<(bool, String)>> {
    let mut out = Vec::new();
    for w in params.split_ascii_whitespace() {
        let (set, name) = match w.as_bytes()[0] {
            b'+' => (true, &w[1..]),
            b'-' => (false, &w[1..]),
            _ => (true, w),
        };
        if name.is_empty() {
            return Err(format!("flag {w:?}: no name"));
        }
        if let Some(sys) = name.strip_prefix('\\') {
            let known = flags::SYSTEM
                .iter()
                .find(|s| s[1..].eq_ignore_ascii_case(sys))
                .ok_or_else(|| format!("flag {name} cannot be set"))?;
            out.push((set, known.to_string()));
        } else {
            let atom = name.chars().all(|c| {
                c.is_ascii_graphic() && !matches!(c, '(' | ')' | '{' | '%' | '*' | '"' | '\\' | ']')
            });
            if !atom {
                return Err(format!("keyword {name:?} is not an IMAP atom"));
            }
            out.push((set, name.to_string()));
        }
    }
    Ok(out)
}

fn apply_flags(current: &str, changes: &[(bool, String)]) -> Outcome<Flags> {
    let mut f = Flags::parse(current);
    for (set, name) in changes {
        if *set {
            f.insert(name);
        } else {
            f.remove(name);
        }
    }
    f.check().map_err(|e| e.to_string())?;
    Ok(f)
}

fn refusal(r: Refusal) -> String {
    match r {
        Refusal::Full { quota, used } => {
            format!("the mailbox is full ({used} of {quota} bytes used)")
        }
        Refusal::Disabled => "the account is disabled".into(),
        Refusal::NoAccount => "no such account".into(),
        Refusal::NoInbox => "the folder is gone".into(),
    }
}

/// Does one mailbox request in the caller's transaction; `Err(StoreError)` only for store
/// failures (the request is then attempted again).
pub fn perform_mailbox(
    c: &mut Conn,
    r: &MailboxRequest,
    now: DateTime<Utc>,
) -> Result<Outcome<Option<i64>>, StoreError> {
    Ok(match perform(c, r, now) {
        Ok(v) => v,
        Err(Fail::Store(e)) => return Err(e),
        Err(Fail::Refused(why)) => Err(why),
    })
}

enum Fail {
    Store(StoreError),
    Refused(String),
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

impl From<String> for Fail {
    fn from(s: String) -> Fail {
        Fail::Refused(s)
    }
}

fn perform(
    c: &mut Conn,
    r: &MailboxRequest,
    now: DateTime<Utc>,
) -> Result<Outcome<Option<i64>>, Fail> {
    let kind = r.kind.as_str();
    let Some(account) = mailbox::account(c, r.account_id)? else {
        return Ok(Err(format!("no account {}", r.account_id)));
    };
    let refuse = |s: String| -> Result<Outcome<Option<i64>>, Fail> { Ok(Err(s)) };
    match kind {
        "CREATE_FOLDER" => {
            let path = folder_name(&need(&r.folder_path, "a folder path", kind)?)?;
            let have: Vec<String> = mailbox::folders(c, account.account_id)?
                .into_iter()
                .map(|f| f.path)
                .collect();
            if have.contains(&path) {
                return refuse(format!("folder {path} exists already"));
            }
            for parent in names::ancestors(&path) {
                if !have.iter().any(|h| h == parent) {
                    mailbox::create_folder(c, &account, parent, None, now)?;
                }
            }
            match mailbox::create_folder(c, &account, &path, None, now) {
                Ok(_) => Ok(Ok(None)),
                Err(StoreError::Unique(_)) => refuse(format!("folder {path} exists already")),
                Err(e) => Err(e.into()),
            }
        }
        "DELETE_FOLDER" => {
            let all = mailbox::folders(c, account.account_id)?;
            let f = match (&r.folder_id, &r.folder_path) {
                (Some(id), _) => all.iter().find(|f| f.folder_id == *id),
                (None, Some(p)) => {
                    let p = names::normalize(p.trim());
                    all.iter().find(|f| f.path == p)
                }
                (None, None) => return refuse("DELETE_FOLDER needs a folder".into()),
            };
            let Some(f) = f else {
                return refuse("no such folder".into());
            };
            if f.path == names::INBOX {
                return refuse("INBOX cannot be deleted".into());
            }
            if all.iter().any(|o| names::is_below(&o.path, &f.path)) {
                return refuse(format!("folder {} has folders below it", f.path));
            }
            mailbox::delete_folder(c, account.account_id, f.folder_id, now)?;
            Ok(Ok(None))
        }
        "APPEND" => {
            let message_id = need(&r.message_id, "a message", kind)?;
            let path = folder_name(&need(&r.folder_path, "a folder path", kind)?)?;
            let Some(folder) = mailbox::folder(c, account.account_id, &path)? else {
                return refuse(format!("no folder {path}"));
            };
            let Some((size, received_at)) = repo::message_size(c, message_id)? else {
                return refuse(format!("message {message_id} is gone"));
            };
            let changes = parse_flag_changes(r.params.as_deref().unwrap_or(""))?;
            let flags = apply_flags("", &changes)?.stored();
            let ptr = NewPointer {
                message_id,
                size,
                flags: &flags,
                internal_date: received_at,
            };
            match mailbox::add_pointers(c, account.account_id, folder.folder_id, &[ptr], true, now)?
            {
                Ok((uids, _)) => Ok(Ok(uids.first().copied())),
                Err(x) => refuse(refusal(x)),
            }
        }
        "COPY" | "MOVE" => {
            let folder_id = need(&r.folder_id, "a folder", kind)?;
            let uid = need(&r.uid, "a message UID", kind)?;
            let target = folder_name(&need(&r.target_path, "a target folder", kind)?)?;
            if mailbox::folder_by_id(c, account.account_id, folder_id)?.is_none() {
                return refuse(format!("no folder {folder_id} in this mailbox"));
            }
            let Some(m) = mailbox::message(c, folder_id, uid)? else {
                return refuse(format!("no message {uid} in folder {folder_id}"));
            };
            let Some(dest) = mailbox::folder(c, account.account_id, &target)? else {
                return refuse(format!("no folder {target}"));
            };
            if kind == "MOVE" && dest.folder_id == folder_id {
                return refuse("the message is in that folder already".into());
            }
            let ptr = NewPointer {
                message_id: m.message_id,
                size: m.size,
                flags: &m.flags,
                internal_date: m.internal_date,
            };
            let is_move = kind == "MOVE";
            let new_uid = match mailbox::add_pointers(
                c,
                account.account_id,
                dest.folder_id,
                &[ptr],
                !is_move,
                now,
            )? {
                Ok((uids, _)) => uids.first().copied(),
                Err(x) => return refuse(refusal(x)),
            };
            if is_move {
                mailbox::expunge(c, account.account_id, folder_id, &[uid], false, now)?;
            }
            Ok(Ok(new_uid))
        }
        "DELETE_MESSAGE" => {
            let folder_id = need(&r.folder_id, "a folder", kind)?;
            let uid = need(&r.uid, "a message UID", kind)?;
            if mailbox::folder_by_id(c, account.account_id, folder_id)?.is_none() {
                return refuse(format!("no folder {folder_id} in this mailbox"));
            }
            let removed = mailbox::expunge(c, account.account_id, folder_id, &[uid], true, now)?;
            if removed.is_empty() {
                return refuse(format!("no message {uid} in folder {folder_id}"));
            }
            Ok(Ok(None))
        }
        "SET_FLAGS" => {
            let folder_id = need(&r.folder_id, "a folder", kind)?;
            let uid = need(&r.uid, "a message UID", kind)?;
            let changes = parse_flag_changes(&need(&r.params, "the flags", kind)?)?;
            if mailbox::folder_by_id(c, account.account_id, folder_id)?.is_none() {
                return refuse(format!("no folder {folder_id} in this mailbox"));
            }
            let Some(m) = mailbox::message(c, folder_id, uid)? else {
                return refuse(format!("no message {uid} in folder {folder_id}"));
            };
            let new = apply_flags(&m.flags, &changes)?.stored();
            if new != Flags::parse(&m.flags).stored() {
                mailbox::set_flags(c, account.account_id, folder_id, &[(uid, new)], now)?;
            }
            Ok(Ok(None))
        }
        other => refuse(format!("unknown request kind {other}")),
    }
}

// ------------------------------------------------------------------ directory requests

/// Runs one DAPLS statement in the caller's transaction: `Ok(Ok(message))` as iofcmgr would
/// print it, `Ok(Err(why))` when it is refused.
pub fn perform_admin(
    c: &mut Conn,
    node_id: i64,
    r: &AdminRequest,
    now: DateTime<Utc>,
) -> Result<Outcome<String>, StoreError> {
    let (verb, class, args) = match admin_statement(&r.statement) {
        Ok(v) => v,
        Err(why) => return Ok(Err(why)),
    };
    let ctx = Ctx { node_id, now };
    let done = match verb.as_str() {
        "create" => directory::create(c, &ctx, class, args),
        "modify" => directory::modify(c, &ctx, class, args),
        _ => directory::delete(c, &ctx, class, args),
    };
    match done {
        Ok(o) => Ok(Ok(o.message)),
        Err(DirError::Store(e)) => Err(e),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// Reads a DAPLS statement: exactly one IOFCMGR statement (the `;` may be left out), `create`,
/// `modify` or `delete` of one of [`DAPLS_CLASSES`], without a clear-text `password=` (DAPLS
/// passes argon2 hashes only: a clear password would sit in the request table).
pub fn admin_statement(text: &str) -> Outcome<(String, Class, Args)> {
    let mut text = text.trim().to_string();
    if !text.ends_with(';') {
        text.push(';');
    }
    let mut sp = Splitter::new();
    let mut stmts = Vec::new();
    for line in text.lines() {
        stmts.extend(sp.feed_line(line).map_err(|e| e.to_string())?);
    }
    sp.finish().map_err(|e| e.to_string())?;
    let [raw] = stmts.as_slice() else {
        return Err(format!("expected one statement, found {}", stmts.len()));
    };
    let t = tokenize(raw).map_err(|e| e.message)?;
    let verb = t.words[0].clone();
    if !matches!(verb.as_str(), "create" | "modify" | "delete") {
        return Err(format!("DAPLS does not run {verb} statements"));
    }
    let word = t.words.get(1).map(String::as_str).unwrap_or("");
    if t.words.len() != 2 || !DAPLS_CLASSES.contains(&word) {
        return Err(format!(
            "DAPLS manages {} only, not {:?}",
            DAPLS_CLASSES.join(", "),
            t.words[1..].join(" ")
        ));
    }
    let oc = ObjectClass::parse(word).ok_or_else(|| format!("unknown class {word}"))?;
    if t.args.iter().any(|a| a.name == "password") {
        return Err("DAPLS passes passwordhash= (an argon2 PHC string), never password=".into());
    }
    let args = Args::new(
        t.args
            .iter()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect(),
    )
    .map_err(|e| e.to_string())?;
    Ok((verb, Class::Object(oc), args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_changes_are_read_and_checked() {
        let c = parse_flag_changes("+\\seen -\\Flagged $Label1 \\DRAFT").unwrap();
        assert_eq!(
            c,
            vec![
                (true, "\\Seen".to_string()),
                (false, "\\Flagged".to_string()),
                (true, "$Label1".to_string()),
                (true, "\\Draft".to_string()),
            ]
        );
        assert!(parse_flag_changes("+\\Recent").is_err());
        assert!(parse_flag_changes("+\\Bogus").is_err());
        assert!(parse_flag_changes("+a(b").is_err());
        assert!(parse_flag_changes("+").is_err());
        let f = apply_flags("\\Flagged Junk", &c).unwrap();
        assert_eq!(f.stored(), "\\Seen \\Draft Junk $Label1");
    }

    #[test]
    fn dapls_statements_are_a_subset() {
        let (verb, class, _) =
            admin_statement("create person username=jdoe domain=acme.com lastname=\"Doe\"")
                .unwrap();
        assert_eq!(verb, "create");
        assert!(matches!(class, Class::Object(ObjectClass::Person)));
        assert!(admin_statement("delete publicdl name=sales;").is_ok());
        assert!(admin_statement("create domain qualifiedName=x.com").is_err());
        assert!(admin_statement("fetch person username=jdoe").is_err());
        assert!(admin_statement("create person username=a password=secret").is_err());
        assert!(admin_statement("create person username=a; delete person username=b;").is_err());
        assert!(admin_statement("create person username=\"a").is_err());
    }
}
