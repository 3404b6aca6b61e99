//! The expansion of an entry's recipients into targets, written back to the entry.
//!
//! Recipients below [`EXPANDED_POS`] that are PENDING are as submitted: each goes through the
//! rewriting rules and is expanded. One that reaches exactly itself (an account's own address,
//! an outside address) stays where it is; one that fails becomes FAILED with its reason; the
//! others are replaced, in one transaction, by their targets at positions from
//! [`EXPANDED_POS`] on, each target once per entry. Recipients that are targets already (from
//! an earlier, interrupted attempt) are looked up again but never expanded again.

use std::collections::HashSet;

use super::entry::{Abort, Tally};
use super::Ctx;
use crate::directory::resolve::{Failure, Target};
use crate::store::delivery::{self as repo, Entry, RcptStatus, Recipient, EXPANDED_POS};
use crate::store::StoreError;

/// A recipient row to deliver to, and where it goes.
#[derive(Debug, Clone)]
pub(super) struct TargetRow {
    pub pos: i64,
    pub target: Target,
    /// The row is DEFERRED already.
    pub deferred: bool,
}

fn is_submitted(r: &Recipient) -> bool {
    r.pos < EXPANDED_POS && matches!(r.status, RcptStatus::Pending | RcptStatus::Failed)
}

/// What the expansion changes in the entry.
#[derive(Default)]
struct Rewrite {
    failed: Vec<(i64, String, Failure)>,
    removed: Vec<i64>,
    added: Vec<Target>,
}

/// The targets of an entry still to deliver, after writing its expansion back.
pub(super) fn plan(
    ctx: &mut Ctx<'_>,
    entry: &Entry,
    tally: &mut Tally,
) -> Result<Vec<TargetRow>, Abort> {
    let remote = ctx.params.remote;
    let (mut targets, rewrite) = {
        let Ctx {
            store,
            rewriter,
            resolver,
            ..
        } = ctx;
        store.read(|c| {
            let rows = repo::recipients(c, entry.entry_id)?;
            // every target the entry holds already, whatever its state: each goes once
            let mut keys: HashSet<String> = rows
                .iter()
                .filter(|r| !is_submitted(r))
                .map(|r| r.address.trim().to_lowercase())
                .collect();
            let mut targets = Vec::new();
            let mut rw = Rewrite::default();
            for r in &rows {
                let todo = match r.status {
                    RcptStatus::Pending => r.pos >= EXPANDED_POS,
                    RcptStatus::Deferred => remote,
                    _ => false,
                };
                if !todo {
                    continue;
                }
                match resolver.target(c, &r.address)? {
                    Ok(target) => targets.push(TargetRow {
                        pos: r.pos,
                        target,
                        deferred: r.status == RcptStatus::Deferred,
                    }),
                    Err(f) => rw.failed.push((r.pos, r.address.clone(), f)),
                }
            }
            for r in rows
                .iter()
                .filter(|r| r.pos < EXPANDED_POS && r.status == RcptStatus::Pending)
            {
                let address = rewriter.apply(&r.address);
                let exp = match resolver.expand(c, &address)? {
                    Ok(exp) => exp,
                    Err(f) => {
                        log::debug!("recipient {}: {}", r.address, f.text());
                        rw.failed.push((r.pos, r.address.clone(), f));
                        continue;
                    }
                };
                for n in &exp.notes {
                    log::debug!("recipient {}: skipped: {}", r.address, n.text());
                }
                if let [only] = exp.targets.as_slice() {
                    if only.address().eq_ignore_ascii_case(r.address.trim())
                        && keys.insert(only.key())
                    {
                        targets.push(TargetRow {
                            pos: r.pos,
                            target: only.clone(),
                            deferred: false,
                        });
                        continue;
                    }
                }
                log::debug!(
                    "recipient {} expands to {}",
                    r.address,
                    exp.targets
                        .iter()
                        .map(|t| t.address())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                rw.removed.push(r.pos);
                for t in exp.targets {
                    if keys.insert(t.key()) {
                        rw.added.push(t);
                    }
                }
            }
            Ok::<_, StoreError>((targets, rw))
        })?
    };
    if !rewrite.failed.is_empty() || !rewrite.removed.is_empty() || !rewrite.added.is_empty() {
        let added = write_back(ctx, entry, &rewrite)?;
        for (_, address, f) in &rewrite.failed {
            tally.failed.push(address.clone());
            log::debug!("recipient {address}: failed: {}", f.text());
        }
        targets.extend(added);
    }
    targets.sort_by_key(|t| t.pos);
    Ok(targets)
}

/// Writes the expansion into the entry in one transaction; returns the added rows.
fn write_back(ctx: &Ctx<'_>, entry: &Entry, rw: &Rewrite) -> Result<Vec<TargetRow>, Abort> {
    let lease_until = ctx.lease_until();
    ctx.store.write(|c| {
        if !repo::renew(c, entry.entry_id, ctx.worker, lease_until)? {
            return Err(Abort::Lost);
        }
        for (pos, _, f) in &rw.failed {
            if !repo::set_recipient_status(
                c,
                entry.entry_id,
                *pos,
                RcptStatus::Failed,
                Some(&f.text()),
            )? {
                return Err(Abort::Lost);
            }
        }
        for pos in &rw.removed {
            if !repo::delete_recipient(c, entry.entry_id, *pos)? {
                return Err(Abort::Lost);
            }
        }
        let first = (repo::max_recipient_pos(c, entry.entry_id)? + 1).max(EXPANDED_POS);
        let mut added = Vec::with_capacity(rw.added.len());
        for (pos, t) in (first..).zip(&rw.added) {
            repo::add_recipient(c, entry.entry_id, pos, t.address())?;
            added.push(TargetRow {
                pos,
                target: t.clone(),
                deferred: false,
            });
        }
        Ok(added)
    })
}
