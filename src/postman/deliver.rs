//! Delivery of an entry's targets: one transaction per (message, account) for local accounts,
//! with the account's server-side rules ([`crate::rules`]) inside it, and one transaction that
//! hands every target for elsewhere to the Gateway and Remote queues (or,
//! with RemoteFlag 0, marks them DEFERRED for another instance).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;

use super::entry::{Abort, Tally};
use super::expand::TargetRow;
use super::Ctx;
use crate::directory::resolve::{Failure, Target};
use crate::rules::{self, Delivered, Delivery, DeliveryError, MessageCache, Mode};
use crate::store::delivery::{self as repo, Billing, Entry, MessageInfo, RcptStatus, Refusal};
use crate::store::queue::{self, NewEntry, Queue};
use crate::store::system;

/// The gateway outside addresses are handed to.
pub const GATEWAY: &str = "smtp";

/// Delivers or relays every target; stops at the first store error, a lost claim or a stop
/// request.
pub(super) fn dispatch(
    ctx: &mut Ctx<'_>,
    entry: &Entry,
    msg: &MessageInfo,
    targets: Vec<TargetRow>,
    tally: &mut Tally,
) -> Result<(), Abort> {
    let mut elsewhere = Vec::new();
    // the content and parts, read once for all the accounts whose rules need them
    let mut cache = MessageCache::new(msg.message_id);
    for t in targets {
        match &t.target {
            Target::Account {
                object_id,
                address,
                home_node_id,
            } if *home_node_id == ctx.node_id => {
                if (ctx.stop)() {
                    return Err(Abort::Stopped);
                }
                match to_account(ctx, entry, msg, t.pos, *object_id, address, &mut cache)? {
                    Some(Ok(())) => {
                        log::debug!("{address}: delivered");
                        tally.delivered.push(address.clone());
                    }
                    Some(Err(f)) => {
                        log::debug!("{address}: failed: {}", f.text());
                        tally.failed.push(address.clone());
                    }
                    None => log::debug!("{address}: delivered already"),
                }
            }
            _ => elsewhere.push(t),
        }
    }
    if elsewhere.is_empty() {
        return Ok(());
    }
    if ctx.params.remote {
        relay(ctx, entry, &elsewhere, tally)
    } else {
        defer(ctx, entry, &elsewhere, tally)
    }
}

fn refusal_failure(r: &Refusal, size: i64) -> Failure {
    match r {
        Refusal::NoAccount => Failure::new("5.1.1", "no such account"),
        Refusal::Disabled => Failure::new("5.2.1", "the account is disabled"),
        Refusal::Full { quota, used } => Failure::new(
            "5.2.2",
            format!("mailbox full (quota {quota} bytes, {used} used, message {size} bytes)"),
        ),
        Refusal::NoInbox => Failure::new("5.2.1", "the account has no INBOX"),
    }
}

/// One message to one account, in one transaction: its server-side rules, the pointer in its
/// INBOX (or where the rules put it) and its recipient DONE, or its recipient FAILED. `None`
/// when the recipient was finished already. Everything the rules do happens in the same
/// transaction, so a crash at any moment repeats nothing: the recipient is DONE with all of
/// it, or PENDING with none of it. When the transaction cannot be committed as the rules left
/// it (the account refused the message afterwards, a procedure broke the transaction), it is
/// rolled back and the delivery is made again without them.
fn to_account(
    ctx: &Ctx<'_>,
    entry: &Entry,
    msg: &MessageInfo,
    pos: i64,
    account_id: i64,
    address: &str,
    cache: &mut MessageCache,
) -> Result<Option<Result<(), Failure>>, Abort> {
    let mut mode = Mode::Full;
    loop {
        match to_account_in(ctx, entry, msg, pos, account_id, address, cache, mode) {
            Err(Abort::Redo(next, why)) if next != mode && mode != Mode::WithoutRules => {
                log::warn!("{address}: {why}");
                mode = next;
            }
            Ok(x) => return Ok(Some(x)),
            Err(Abort::AlreadyDone) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn to_account_in(
    ctx: &Ctx<'_>,
    entry: &Entry,
    msg: &MessageInfo,
    pos: i64,
    account_id: i64,
    address: &str,
    cache: &mut MessageCache,
    mode: Mode,
) -> Result<Result<(), Failure>, Abort> {
    let now = Utc::now();
    let lease_until = ctx.lease_until();
    ctx.store.write(|c| {
        if !repo::renew(c, entry.entry_id, ctx.worker, lease_until)? {
            return Err(Abort::Lost);
        }
        let delivery = Delivery {
            node_id: ctx.node_id,
            host: &ctx.host,
            account_id,
            address,
            sender: entry.sender.as_deref(),
            message: msg,
            now,
            proc_limit: Duration::from_secs(ctx.params.rule_proc_seconds.clamp(1, 3600)),
            mode,
        };
        let delivered = match rules::deliver(c, &delivery, cache) {
            Ok(d) => d,
            Err(DeliveryError::Store(e)) => return Err(Abort::Store(e)),
            Err(DeliveryError::Redo { mode, why }) => return Err(Abort::Redo(mode, why)),
        };
        match delivered {
            Ok(Delivered::Stored { note, .. }) => {
                if !repo::set_recipient_status(
                    c,
                    entry.entry_id,
                    pos,
                    RcptStatus::Done,
                    note.as_deref(),
                )? {
                    return Err(Abort::AlreadyDone);
                }
                if ctx.params.recv_billing {
                    repo::insert_billing(
                        c,
                        &Billing {
                            node_id: ctx.node_id,
                            kind: "RECV",
                            account_id: Some(account_id),
                            address,
                            message_guid: &msg.guid,
                            size: msg.size,
                            recipients: 1,
                            now,
                        },
                    )?;
                }
                Ok(Ok(()))
            }
            Ok(Delivered::Discarded { note }) => {
                if !repo::set_recipient_status(
                    c,
                    entry.entry_id,
                    pos,
                    RcptStatus::Done,
                    Some(&note),
                )? {
                    return Err(Abort::AlreadyDone);
                }
                Ok(Ok(()))
            }
            Ok(Delivered::Rejected { reason }) => {
                let f = Failure::new(
                    "5.7.1",
                    format!("refused by the recipient's rules: {reason}"),
                );
                if !repo::set_recipient_status(
                    c,
                    entry.entry_id,
                    pos,
                    RcptStatus::Failed,
                    Some(&f.text()),
                )? {
                    return Err(Abort::AlreadyDone);
                }
                Ok(Err(f))
            }
            Err(refusal) => {
                let f = refusal_failure(&refusal, msg.size);
                if !repo::set_recipient_status(
                    c,
                    entry.entry_id,
                    pos,
                    RcptStatus::Failed,
                    Some(&f.text()),
                )? {
                    return Err(Abort::AlreadyDone);
                }
                Ok(Err(f))
            }
        }
    })
}

/// Hands the targets for elsewhere to the queues, in one transaction: outside addresses to a
/// GATEWAY entry (`smtp`), accounts of other nodes to a REMOTE entry per node, all for the same
/// stored message; their recipients become DONE.
fn relay(
    ctx: &Ctx<'_>,
    entry: &Entry,
    targets: &[TargetRow],
    tally: &mut Tally,
) -> Result<(), Abort> {
    let Some(message_id) = entry.message_id else {
        return Ok(());
    };
    // (target node, gateway) -> rows
    let mut groups: BTreeMap<Option<i64>, Vec<&TargetRow>> = BTreeMap::new();
    for t in targets {
        let node = match &t.target {
            Target::Account { home_node_id, .. } => Some(*home_node_id),
            Target::Outside { .. } => None,
        };
        groups.entry(node).or_default().push(t);
    }
    let now = Utc::now();
    let lease_until = ctx.lease_until();
    let done = ctx.store.write(|c| {
        if !repo::renew(c, entry.entry_id, ctx.worker, lease_until)? {
            return Err(Abort::Lost);
        }
        let mut done = Vec::new();
        for (node, rows) in &groups {
            let recipients: Vec<String> = rows
                .iter()
                .map(|t| t.target.address().to_string())
                .collect();
            let guid = system::new_guid();
            let (q, gateway) = match node {
                None => (Queue::Gateway, Some(GATEWAY)),
                Some(_) => (Queue::Remote, None),
            };
            let id = queue::insert_entry(
                c,
                message_id,
                &NewEntry {
                    guid: &guid,
                    queue: q,
                    node_id: ctx.node_id,
                    target_node_id: *node,
                    gateway_name: gateway,
                    sender: entry.sender.as_deref(),
                    submitted_by: entry.submitted_by,
                    priority: entry.priority,
                    not_before: None,
                    recipients: &recipients,
                },
                now,
            )?;
            let note = match node {
                None => format!("relayed to the {GATEWAY} gateway (queue entry {guid})"),
                Some(n) => format!("relayed to node {n} (queue entry {guid})"),
            };
            for t in rows {
                if !repo::set_recipient_status(
                    c,
                    entry.entry_id,
                    t.pos,
                    RcptStatus::Done,
                    Some(&note),
                )? {
                    return Err(Abort::Lost);
                }
            }
            log::debug!("{}: {note} (entry {id})", recipients.join(", "));
            done.extend(recipients);
        }
        Ok(done)
    })?;
    tally.relayed.extend(done);
    Ok(())
}

/// RemoteFlag 0: marks the targets for elsewhere DEFERRED, for an instance with RemoteFlag 1.
fn defer(
    ctx: &Ctx<'_>,
    entry: &Entry,
    targets: &[TargetRow],
    tally: &mut Tally,
) -> Result<(), Abort> {
    let todo: Vec<&TargetRow> = targets.iter().filter(|t| !t.deferred).collect();
    if !todo.is_empty() {
        let lease_until = ctx.lease_until();
        ctx.store.write(|c| {
            if !repo::renew(c, entry.entry_id, ctx.worker, lease_until)? {
                return Err(Abort::Lost);
            }
            for t in &todo {
                if !repo::set_recipient_status(
                    c,
                    entry.entry_id,
                    t.pos,
                    RcptStatus::Deferred,
                    Some("not local: left for a Postman instance with RemoteFlag 1"),
                )? {
                    return Err(Abort::Lost);
                }
            }
            Ok(())
        })?;
    }
    for t in targets {
        log::debug!("{}: deferred (RemoteFlag 0)", t.target.address());
        tally.deferred.push(t.target.address().to_string());
    }
    Ok(())
}
