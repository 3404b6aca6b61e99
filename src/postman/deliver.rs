//! Delivery of an entry's targets: one transaction per (message, account) for local accounts,
//! one transaction that hands every target for elsewhere to the Gateway and Remote queues (or,
//! with RemoteFlag 0, marks them DEFERRED for another instance).

use std::collections::BTreeMap;

use chrono::Utc;

use super::entry::{Abort, Tally};
use super::expand::TargetRow;
use super::Ctx;
use crate::directory::resolve::{Failure, Target};
use crate::store::delivery::{
    self as repo, Append, Billing, Entry, MessageInfo, RcptStatus, Refusal,
};
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
                match to_account(ctx, entry, msg, t.pos, *object_id, address)? {
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

/// One message to one account, in one transaction: the pointer in its INBOX and its recipient
/// DONE, or its recipient FAILED. `None` when the recipient was finished already.
fn to_account(
    ctx: &Ctx<'_>,
    entry: &Entry,
    msg: &MessageInfo,
    pos: i64,
    account_id: i64,
    address: &str,
) -> Result<Option<Result<(), Failure>>, Abort> {
    let now = Utc::now();
    let lease_until = ctx.lease_until();
    let r = ctx.store.write(|c| {
        if !repo::renew(c, entry.entry_id, ctx.worker, lease_until)? {
            return Err(Abort::Lost);
        }
        let appended = repo::append_to_inbox(
            c,
            &Append {
                account_id,
                message_id: msg.message_id,
                size: msg.size,
                internal_date: msg.received_at,
                now,
            },
        )?;
        match appended {
            Ok(_) => {
                if !repo::set_recipient_status(c, entry.entry_id, pos, RcptStatus::Done, None)? {
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
    });
    match r {
        Ok(x) => Ok(Some(x)),
        Err(Abort::AlreadyDone) => Ok(None),
        Err(e) => Err(e),
    }
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
