//! Rules at delivery: run by the Postman inside the transaction that delivers one message to
//! one account, so that the rules' effects (forwards, copies, replies, flags...) commit with
//! the delivery or not at all, and a redo after a crash repeats nothing.
//!
//! For the account: the active DELIVERY rules of the system, of the account's domain, then the
//! account's own, each by position. Each rule whose condition holds runs its actions in order,
//! under a savepoint. What a rule decides about the message itself (`moveto`, `discard`,
//! `reject`) is kept from the first rule that decides it; later decisions are ignored. `pass`
//! ends the evaluation after the rule that holds it.
//!
//! **A rule can never lose mail.** A rule that fails (a stored row that is not a valid rule, an
//! action that cannot be carried out) is undone to its savepoint and logged, no rule after it
//! runs, and the message goes to the INBOX whatever the rules before it decided (what they
//! did besides stays: their forwards, replies, copies and flags). The main delivery comes
//! first, then the copies and the procedures: a copy that cannot be made, or a procedure that
//! fails, is undone and logged and the message stays delivered.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::compose;
use super::error::{DeliveryError, Mode, Result, RuleError};
use super::eval::{condition_holds, Attachment, MessageView};
use super::guard::forward_refusal;
use super::model::{Action, Flag, Rule, EVENT_DELIVERY};
use crate::mail::{auto, folder_name, intake};
use crate::store::delivery::{self as repo, Append, MessageInfo, Refusal};
use crate::store::mailbox::{self, NewPointer};
use crate::store::queue::{self, NewEntry, Queue};
use crate::store::rules as store;
use crate::store::{system, Conn, Dialect, StoreError};

/// One message for one account, as the Postman delivers it.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub node_id: i64,
    /// This host's name, for the Message-IDs of what the rules send.
    pub host: &'a str,
    pub account_id: i64,
    /// The account's address (the envelope recipient).
    pub address: &'a str,
    /// The envelope sender; `None` for the null sender.
    pub sender: Option<&'a str>,
    pub message: &'a MessageInfo,
    pub now: DateTime<Utc>,
    /// Time limit of one ACTION_RUN_PROC call.
    pub proc_limit: Duration,
    pub mode: Mode,
}

/// The content and attachments of the message being delivered, read once per message, when
/// the first account with rules needs them.
#[derive(Debug, Default)]
pub struct MessageCache {
    message_id: i64,
    content: Option<Vec<u8>>,
    attachments: Option<Vec<Attachment>>,
}

impl MessageCache {
    pub fn new(message_id: i64) -> MessageCache {
        MessageCache {
            message_id,
            ..Default::default()
        }
    }

    fn load(&mut self, c: &mut Conn) -> Result<(), StoreError> {
        if self.content.is_none() {
            self.content = Some(repo::message_content(c, self.message_id)?.unwrap_or_default());
        }
        if self.attachments.is_none() {
            let parts = store::message_parts(c, self.message_id)?;
            self.attachments = Some(Attachment::from_parts(&parts));
        }
        Ok(())
    }
}

/// Where the message went for this account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// A pointer in this folder, with this UID; `note` says what the rules did.
    Stored {
        folder: String,
        uid: i64,
        note: Option<String>,
    },
    /// Accepted and not delivered (`discard`).
    Discarded { note: String },
    /// Refused by a rule (`reject`): the recipient fails with this reason, and the sender gets
    /// a failure report.
    Rejected { reason: String },
}

/// What a rule decided about the message itself.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dest {
    Folder {
        folder_id: i64,
        name: String,
        rule: String,
    },
    Discard {
        rule: String,
    },
    Reject {
        rule: String,
        reason: String,
    },
}

/// A procedure to call once the message is delivered.
#[derive(Debug, Clone)]
struct Proc {
    rule: String,
    procedure: String,
    param1: Option<String>,
    param2: Option<String>,
}

/// What the rules run so far did (or what one rule did, merged when it succeeds).
#[derive(Debug, Default)]
struct State {
    dest: Option<Dest>,
    flags: BTreeMap<&'static str, bool>,
    copies: Vec<(i64, String)>,
    procs: Vec<Proc>,
    forwarded: bool,
    pass: bool,
    notes: Vec<String>,
}

impl State {
    fn merge(&mut self, o: State) {
        if self.dest.is_none() {
            self.dest = o.dest;
        }
        self.flags.extend(o.flags);
        self.copies.extend(o.copies);
        self.procs.extend(o.procs);
        self.forwarded |= o.forwarded;
        self.pass |= o.pass;
        self.notes.extend(o.notes);
    }

    fn decided(&self, other: &State) -> bool {
        self.dest.is_some() || other.dest.is_some()
    }

    /// The flags as stored on a pointer (`\Seen \Flagged`), in a fixed order.
    fn flag_text(&self) -> Option<String> {
        let on: Vec<&str> = [
            Flag::Seen,
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Draft,
        ]
        .iter()
        .map(|f| f.imap())
        .filter(|f| self.flags.get(f) == Some(&true))
        .collect();
        (!on.is_empty()).then(|| on.join(" "))
    }
}

/// What the rules need to know while they run.
struct Run<'a, 'b> {
    d: &'a Delivery<'b>,
    account: &'a mailbox::Account,
    view: MessageView<'a>,
    /// The store says this account's rules forwarded the message already.
    forwarded_before: bool,
}

/// Delivers a message to an account with its rules: `Ok(Err(refusal))` when the account cannot
/// take it (nothing was done), `Err(Redo)` when this transaction must be rolled back and the
/// delivery done again in another mode, `Err(Store)` when the store failed.
pub fn deliver(
    c: &mut Conn,
    d: &Delivery<'_>,
    cache: &mut MessageCache,
) -> Result<Result<Delivered, Refusal>, DeliveryError> {
    if d.mode == Mode::WithoutRules {
        return plain(c, d);
    }
    let Some(account) = mailbox::account(c, d.account_id)? else {
        return Ok(Err(Refusal::NoAccount));
    };
    let rules = store::for_account(c, EVENT_DELIVERY, d.account_id, account.domain_id)?;
    if rules.is_empty() {
        return plain(c, d);
    }
    // the rules run only for a message the account can take
    if let Err(r) = repo::inbox(c, d.account_id)? {
        return Ok(Err(r));
    }
    if let Err(r) = repo::room_for(c, d.account_id, d.message.size)? {
        return Ok(Err(r));
    }
    cache.load(c)?;
    let raw = cache.content.as_deref().unwrap_or_default();
    let attachments = cache.attachments.as_deref().unwrap_or_default();
    let run = Run {
        d,
        account: &account,
        view: MessageView {
            raw,
            size: d.message.size,
            sender: d.sender,
            recipient: d.address,
            attachments,
        },
        forwarded_before: store::forwarded(c, d.message.message_id, d.account_id)?,
    };
    let mut st = State::default();
    let mut failed: Option<String> = None;
    for s in &rules {
        let label = format!("rule {} ({})", s.name, s.owner_kind.to_ascii_lowercase());
        let rule = match Rule::from_stored(s) {
            Ok(r) => r,
            Err(e) => {
                failed = Some(format!("{label} is not valid: {e}"));
                break;
            }
        };
        if !condition_holds(rule.condition.as_ref(), &run.view) {
            continue;
        }
        c.savepoint()?;
        let mut out = State::default();
        match actions(c, &run, &rule, &st, &mut out) {
            Ok(()) => {
                c.release_savepoint()?;
                st.merge(out);
                if st.pass {
                    break;
                }
            }
            Err(e) if e.is_store_failure() => return Err(store_error(e)),
            Err(e) => {
                c.rollback_to_savepoint()?;
                failed = Some(format!("{label} failed: {e}"));
                break;
            }
        }
    }
    if let Some(why) = &failed {
        log::warn!(
            "message {} for {}: {why}; its actions were undone, no later rule ran, and the message goes to the INBOX",
            d.message.guid,
            d.address
        );
        st.dest = None;
    }
    finish(c, &run, st, failed.is_some(), rules.len())
}

fn store_error(e: RuleError) -> DeliveryError {
    match e {
        RuleError::Store(s) => DeliveryError::Store(s),
        other => DeliveryError::Store(StoreError::Decode(other.to_string())),
    }
}

/// Delivery to the INBOX without rules.
fn plain(c: &mut Conn, d: &Delivery<'_>) -> Result<Result<Delivered, Refusal>, DeliveryError> {
    Ok(
        repo::append_to_inbox(c, &append(d))?.map(|a| Delivered::Stored {
            folder: folder_name::INBOX.into(),
            uid: a.uid,
            note: None,
        }),
    )
}

fn append(d: &Delivery<'_>) -> Append {
    Append {
        account_id: d.account_id,
        message_id: d.message.message_id,
        size: d.message.size,
        internal_date: d.message.received_at,
        now: d.now,
    }
}

/// The message's own delivery as the rules decided, then the copies and the procedures.
fn finish(
    c: &mut Conn,
    run: &Run<'_, '_>,
    st: State,
    failed: bool,
    rule_count: usize,
) -> Result<Result<Delivered, Refusal>, DeliveryError> {
    let d = run.d;
    let flags = st.flag_text();
    let mut notes = st.notes.clone();
    if failed {
        notes.push("a rule failed: delivered to the INBOX".into());
    }
    let (delivered, at) = match &st.dest {
        Some(Dest::Reject { rule, reason }) => {
            notes.push(format!("rejected by rule {rule}"));
            (
                Delivered::Rejected {
                    reason: reason.clone(),
                },
                None,
            )
        }
        Some(Dest::Discard { rule }) => {
            notes.push(format!("discarded by rule {rule}"));
            (
                Delivered::Discarded {
                    note: notes.join("; "),
                },
                None,
            )
        }
        dest => {
            let (folder_id, name) = match dest {
                Some(Dest::Folder {
                    folder_id,
                    name,
                    rule,
                }) => {
                    notes.push(format!("moved to {name} by rule {rule}"));
                    (Some(*folder_id), name.clone())
                }
                _ => (None, folder_name::INBOX.to_string()),
            };
            match repo::append_to(c, &append(d), folder_id, flags.as_deref())? {
                Ok(a) => (
                    Delivered::Stored {
                        folder: name,
                        uid: a.uid,
                        note: None,
                    },
                    Some((a.folder_id, a.uid)),
                ),
                Err(r) => {
                    return Err(DeliveryError::Redo {
                        mode: Mode::WithoutRules,
                        why: format!(
                            "{} refused the message after its rules ran ({r:?}): delivered again without rules",
                            d.address
                        ),
                    })
                }
            }
        }
    };
    if !matches!(delivered, Delivered::Rejected { .. }) {
        copies(c, run, &st, flags.as_deref(), &mut notes)?;
    }
    procedures(c, d, &st, at, &mut notes)?;
    log::info!(
        "message {} for {}: {} rule(s) looked at{}",
        d.message.guid,
        d.address,
        rule_count,
        if notes.is_empty() {
            String::new()
        } else {
            format!(": {}", notes.join("; "))
        }
    );
    Ok(Ok(match delivered {
        Delivered::Stored { folder, uid, .. } => Delivered::Stored {
            folder,
            uid,
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        },
        other => other,
    }))
}

/// The copies the rules asked for, each in a savepoint: one that cannot be made is skipped.
fn copies(
    c: &mut Conn,
    run: &Run<'_, '_>,
    st: &State,
    flags: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<(), DeliveryError> {
    let d = run.d;
    for (folder_id, name) in &st.copies {
        c.savepoint()?;
        let p = NewPointer {
            message_id: d.message.message_id,
            size: d.message.size,
            flags: flags.unwrap_or(""),
            internal_date: d.message.received_at,
        };
        match mailbox::add_pointers(c, d.account_id, *folder_id, &[p], true, d.now) {
            Ok(Ok(_)) => {
                c.release_savepoint()?;
                notes.push(format!("copied to {name}"));
            }
            Ok(Err(r)) => {
                c.rollback_to_savepoint()?;
                log::warn!(
                    "message {} for {}: no copy in {name}: {r:?}",
                    d.message.guid,
                    d.address
                );
                notes.push(format!("no copy in {name} ({r:?})"));
            }
            Err(e @ (StoreError::Unavailable(_) | StoreError::Busy(_))) => return Err(e.into()),
            Err(e) => {
                c.rollback_to_savepoint()?;
                log::warn!(
                    "message {} for {}: no copy in {name}: {e}",
                    d.message.guid,
                    d.address
                );
                notes.push(format!("no copy in {name} ({e})"));
            }
        }
    }
    Ok(())
}

/// The procedures the rules asked for (Oracle), each in a savepoint with a time limit.
fn procedures(
    c: &mut Conn,
    d: &Delivery<'_>,
    st: &State,
    at: Option<(i64, i64)>,
    notes: &mut Vec<String>,
) -> Result<(), DeliveryError> {
    for p in &st.procs {
        if d.mode == Mode::WithoutProcedures {
            notes.push(format!(
                "procedure {} of rule {} not called (it broke an earlier attempt)",
                p.procedure, p.rule
            ));
            continue;
        }
        c.savepoint()?;
        let r = store::run_procedure(
            c,
            &p.procedure,
            at.map(|a| a.0),
            at.map(|a| a.1),
            p.param1.as_deref(),
            p.param2.as_deref(),
            d.proc_limit,
        );
        match r {
            Ok(()) => {
                c.release_savepoint()?;
                notes.push(format!("procedure {} called", p.procedure));
            }
            Err(e) => {
                if let Err(e2) = c.rollback_to_savepoint() {
                    return Err(DeliveryError::Redo {
                        mode: Mode::WithoutProcedures,
                        why: format!(
                            "procedure {} of rule {} failed ({e}) and broke the transaction ({e2}): delivered again without procedures",
                            p.procedure, p.rule
                        ),
                    });
                }
                log::warn!(
                    "message {} for {}: procedure {} of rule {} failed: {e}; undone",
                    d.message.guid,
                    d.address,
                    p.procedure,
                    p.rule
                );
                notes.push(format!("procedure {} failed", p.procedure));
            }
        }
    }
    Ok(())
}

/// Carries out one rule's actions, into `out`; `st` is what the rules before it did.
fn actions(
    c: &mut Conn,
    run: &Run<'_, '_>,
    rule: &Rule,
    st: &State,
    out: &mut State,
) -> Result<()> {
    let d = run.d;
    let name = rule.name.as_str();
    for a in &rule.actions {
        match a {
            Action::Pass => {
                out.pass = true;
                out.notes.push(format!("rule {name}: pass"));
            }
            Action::Forward {
                to,
                subject,
                template,
            } => {
                if let Some(why) = may_forward(run, st, out) {
                    out.notes
                        .push(format!("rule {name}: no forward to {to}: {why}"));
                    continue;
                }
                let content = compose::forward(
                    &compose::Forward {
                        from: d.address,
                        to,
                        host: d.host,
                        prefix: subject.as_deref(),
                        template: template.as_deref(),
                        now: d.now,
                    },
                    &run.view,
                );
                send(c, d, &content, Some(d.address), to)?;
                remember_forward(c, run, out)?;
                out.notes.push(format!("rule {name}: forwarded to {to}"));
            }
            Action::Bcc { to } => {
                if let Some(why) = may_forward(run, st, out) {
                    out.notes
                        .push(format!("rule {name}: no copy to {to}: {why}"));
                    continue;
                }
                let recipients = [to.clone()];
                queue::insert_entry(
                    c,
                    d.message.message_id,
                    &NewEntry {
                        guid: &system::new_guid(),
                        queue: Queue::Submission,
                        node_id: d.node_id,
                        target_node_id: None,
                        gateway_name: None,
                        sender: Some(d.address),
                        submitted_by: Some(d.account_id),
                        priority: 5,
                        not_before: None,
                        recipients: &recipients,
                    },
                    d.now,
                )?;
                remember_forward(c, run, out)?;
                out.notes.push(format!("rule {name}: blind copy to {to}"));
            }
            Action::CopyTo { folder } => {
                let id = folder_of(c, run, folder)?;
                // room for the message itself and every copy so far, this one included
                let copies = (st.copies.len() + out.copies.len() + 2) as i64;
                if let Err(r) =
                    repo::room_for(c, d.account_id, d.message.size.saturating_mul(copies))?
                {
                    return Err(RuleError::Failed(format!(
                        "no room for a copy in {folder} ({r:?})"
                    )));
                }
                out.copies.push((id, folder.clone()));
            }
            Action::MoveTo { folder } => {
                if st.decided(out) {
                    out.notes.push(format!(
                        "rule {name}: moveto {folder} ignored (decided already)"
                    ));
                    continue;
                }
                let folder_id = folder_of(c, run, folder)?;
                out.dest = Some(Dest::Folder {
                    folder_id,
                    name: folder.clone(),
                    rule: name.to_string(),
                });
            }
            Action::Discard => {
                if st.decided(out) {
                    out.notes
                        .push(format!("rule {name}: discard ignored (decided already)"));
                    continue;
                }
                out.dest = Some(Dest::Discard {
                    rule: name.to_string(),
                });
            }
            Action::Reject { reason } => {
                if st.decided(out) {
                    out.notes
                        .push(format!("rule {name}: reject ignored (decided already)"));
                    continue;
                }
                out.dest = Some(Dest::Reject {
                    rule: name.to_string(),
                    reason: reason
                        .clone()
                        .unwrap_or_else(|| "refused by the recipient's rules".into()),
                });
            }
            Action::Reply {
                days,
                subject,
                template,
            } => reply(c, run, name, *days, subject, template, out)?,
            Action::Notify {
                to,
                subject,
                template,
            } => {
                if let Some(why) = auto::automatic(run.view.raw) {
                    out.notes.push(format!("rule {name}: no notice: {why}"));
                    continue;
                }
                let content = compose::notice(
                    &compose::Auto {
                        from: d.address,
                        to,
                        host: d.host,
                        subject: subject.as_deref(),
                        template: template.as_deref(),
                        now: d.now,
                    },
                    &run.view,
                );
                send(c, d, &content, None, to)?;
                out.notes.push(format!("rule {name}: notice to {to}"));
            }
            Action::SetProp { flag, on } => {
                out.flags.insert(flag.imap(), *on);
            }
            Action::RunProc {
                procedure,
                param1,
                param2,
            } => {
                if c.dialect() != Dialect::Oracle {
                    return Err(RuleError::NeedsOracle(format!(
                        "do=runproc ({procedure}) needs the Oracle store"
                    )));
                }
                out.procs.push(Proc {
                    rule: name.to_string(),
                    procedure: procedure.clone(),
                    param1: param1.clone(),
                    param2: param2.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Why this account may not forward (or blind-copy) the message; `None`: it may.
fn may_forward(run: &Run<'_, '_>, st: &State, out: &State) -> Option<String> {
    if st.forwarded || out.forwarded {
        // a second forward action of the same delivery
        return None;
    }
    forward_refusal(run.view.raw, run.d.address, run.forwarded_before)
}

fn remember_forward(c: &mut Conn, run: &Run<'_, '_>, out: &mut State) -> Result<()> {
    if !run.forwarded_before && !out.forwarded {
        store::remember_forward(c, run.d.message.message_id, run.d.account_id, run.d.now)?;
    }
    out.forwarded = true;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn reply(
    c: &mut Conn,
    run: &Run<'_, '_>,
    name: &str,
    days: i64,
    subject: &Option<String>,
    template: &Option<String>,
    out: &mut State,
) -> Result<()> {
    let d = run.d;
    let Some(to) = d
        .sender
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "<>")
    else {
        out.notes.push(format!(
            "rule {name}: no reply: the envelope sender is null"
        ));
        return Ok(());
    };
    if to.eq_ignore_ascii_case(d.address) {
        out.notes.push(format!(
            "rule {name}: no reply: the sender is the recipient"
        ));
        return Ok(());
    }
    if let Some(why) = auto::no_reply(run.view.raw, to) {
        out.notes.push(format!("rule {name}: no reply: {why}"));
        return Ok(());
    }
    let key = to.to_ascii_lowercase();
    if let Some(last) = store::last_autoreply(c, d.account_id, &key)? {
        if d.now - last < chrono::Duration::days(days) {
            out.notes.push(format!(
                "rule {name}: no reply: {to} got one on {} (at most one every {days} days)",
                last.format("%Y-%m-%d %H:%M UTC")
            ));
            return Ok(());
        }
    }
    let content = compose::reply(
        &compose::Auto {
            from: d.address,
            to,
            host: d.host,
            subject: subject.as_deref(),
            template: template.as_deref(),
            now: d.now,
        },
        &run.view,
    );
    send(c, d, &content, None, to)?;
    store::remember_autoreply(c, d.account_id, &key, d.now)?;
    out.notes.push(format!("rule {name}: replied to {to}"));
    Ok(())
}

/// The account's folder of that name, created (with the levels above it, subscribed) when
/// missing.
fn folder_of(c: &mut Conn, run: &Run<'_, '_>, name: &str) -> Result<i64> {
    let name = super::validate::folder(name)?;
    let account_id = run.d.account_id;
    if let Some(f) = mailbox::folder(c, account_id, &name)? {
        return Ok(f.folder_id);
    }
    let mut levels: Vec<&str> = folder_name::ancestors(&name);
    levels.push(&name);
    let mut id = 0;
    for level in levels {
        id = match mailbox::folder(c, account_id, level)? {
            Some(f) => f.folder_id,
            None => {
                let id = mailbox::create_folder(c, run.account, level, None, run.d.now)?;
                mailbox::subscribe(c, account_id, level)?;
                id
            }
        };
    }
    Ok(id)
}

/// Queues a message the rules made, as a new message to `to`, in this transaction.
fn send(
    c: &mut Conn,
    d: &Delivery<'_>,
    content: &[u8],
    sender: Option<&str>,
    to: &str,
) -> Result<()> {
    let inspected = intake::inspect(content)
        .map_err(|e| RuleError::Failed(format!("the message for {to} cannot be built: {e}")))?;
    let recipients = [to.to_string()];
    let entry_guid = system::new_guid();
    intake::queue_in(
        c,
        &intake::Submission {
            node_id: d.node_id,
            entry_guid: &entry_guid,
            sender,
            recipients: &recipients,
            submitted_by: Some(d.account_id),
            content,
            inspected: &inspected,
            received_at: d.now,
        },
        &intake::Prepared::of(content),
    )?;
    Ok(())
}
