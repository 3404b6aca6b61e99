//! One claimed entry, from its recipients as submitted to its end: expansion, delivery,
//! relaying, and the finish (deletion, report, Dead Message queue), or its release.

use chrono::Utc;

use super::{backoff, deliver, expand, report, Ctx, RoundReport};
use crate::store::delivery::{self as repo, Entry, MessageInfo};
use crate::store::StoreError;

/// Why the work on an entry stops before its end.
#[derive(Debug)]
pub(super) enum Abort {
    /// Our claim is gone: another instance took the entry over.
    Lost,
    /// A stop was requested; the entry is given back as it stands.
    Stopped,
    /// A recipient was finished already (rolls the transaction back).
    AlreadyDone,
    /// The delivery with server-side rules must be rolled back and done again in this mode
    /// (handled where the delivery is made; see [`crate::rules::Mode`]).
    Redo(crate::rules::Mode, String),
    Store(StoreError),
}

impl From<StoreError> for Abort {
    fn from(e: StoreError) -> Abort {
        Abort::Store(e)
    }
}

/// What happened to an entry's recipients in this round, for the log line and the report.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub delivered: Vec<String>,
    pub failed: Vec<String>,
    pub relayed: Vec<String>,
    pub deferred: Vec<String>,
}

/// Processes one claimed entry; never fails: whatever goes wrong is logged and the entry is
/// given back (with a later attempt, or to the Dead Message queue).
pub(super) fn process(ctx: &mut Ctx<'_>, entry_id: i64, report: &mut RoundReport) {
    let worker = ctx.worker;
    let loaded = ctx.store.read(|c| {
        let Some(e) = repo::entry(c, entry_id, worker)? else {
            return Ok::<_, StoreError>(None);
        };
        let msg = match e.message_id {
            Some(m) => repo::message(c, m)?,
            None => None,
        };
        Ok(Some((e, msg)))
    });
    let (entry, msg) = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => {
            report.lost += 1;
            log::warn!("entry {entry_id}: no longer claimed by {worker}; left to its new holder");
            return;
        }
        Err(e) => {
            // the claim expires by itself
            log::error!("entry {entry_id}: cannot read it: {e}");
            return;
        }
    };
    let Some(msg) = msg else {
        give_up(ctx, &entry, "the entry refers to no stored message", report);
        return;
    };
    let mut tally = Tally::default();
    let result = run(ctx, &entry, &msg, &mut tally);
    report.delivered += tally.delivered.len() as u64;
    report.failed += tally.failed.len() as u64;
    report.relayed += tally.relayed.len() as u64;
    report.deferred += tally.deferred.len() as u64;
    let head = format!(
        "entry {} ({}), message {}",
        entry.entry_id, entry.guid, msg.guid
    );
    let counts = format!(
        "delivered {}, failed {}, relayed {}, deferred {}",
        tally.delivered.len(),
        tally.failed.len(),
        tally.relayed.len(),
        tally.deferred.len()
    );
    let who = format!(
        "{}{}",
        listed("delivered to", &tally.delivered),
        listed("failed", &tally.failed)
    );
    match result {
        Ok(report::Finished::Deleted { reported }) => {
            report.finished += 1;
            report.reports += reported as u64;
            log::info!(
                "{head}: {counts}{who}; finished{}",
                if reported {
                    "; non-delivery report queued to the sender"
                } else {
                    ""
                }
            );
        }
        Ok(report::Finished::Dead(why)) => {
            report.dead += 1;
            log::warn!("{head}: {counts}{who}; moved to the Dead Message queue: {why}");
        }
        Ok(report::Finished::Released) => {
            report.released += 1;
            log::info!("{head}: {counts}{who}; left for an instance with RemoteFlag 1");
        }
        Ok(report::Finished::Pending) => {
            log::warn!("{head}: {counts}{who}; recipients still pending");
            retry(ctx, &entry, "recipients left pending", report);
        }
        Err(Abort::Lost) | Err(Abort::AlreadyDone) => {
            report.lost += 1;
            log::warn!(
                "{head}: {counts}; the claim was taken over by another instance; left to it"
            );
        }
        Err(Abort::Stopped) => {
            log::info!("{head}: {counts}; stopping: given back unfinished");
            match ctx
                .store
                .write(|c| repo::release(c, entry.entry_id, worker))
            {
                Ok(_) => report.released += 1,
                Err(e) => log::warn!("{head}: cannot give it back ({e}); its lease will expire"),
            }
        }
        Err(Abort::Store(e)) => {
            log::error!("{head}: {counts}; store error: {e}");
            retry(ctx, &entry, &e.to_string(), report);
        }
        Err(Abort::Redo(_, why)) => {
            log::error!("{head}: {counts}; {why}");
            retry(ctx, &entry, &why, report);
        }
    }
}

/// ` (what: a, b, c)`, at most ten addresses; nothing for an empty list.
fn listed(what: &str, addresses: &[String]) -> String {
    match addresses.len() {
        0 => String::new(),
        n if n <= 10 => format!(" ({what}: {})", addresses.join(", ")),
        n => format!(
            " ({what}: {} and {} more)",
            addresses[..10].join(", "),
            n - 10
        ),
    }
}

fn run(
    ctx: &mut Ctx<'_>,
    entry: &Entry,
    msg: &MessageInfo,
    tally: &mut Tally,
) -> Result<report::Finished, Abort> {
    let targets = expand::plan(ctx, entry, tally)?;
    deliver::dispatch(ctx, entry, msg, targets, tally)?;
    report::finish(ctx, entry, msg)
}

/// Gives an entry back after an error: a later attempt, or after `max_attempts` the Dead
/// Message queue.
fn retry(ctx: &Ctx<'_>, entry: &Entry, error: &str, report: &mut RoundReport) {
    let attempts = entry.attempts + 1;
    if attempts >= ctx.params.max_attempts.min(i64::MAX as u64) as i64 {
        let why = format!("{error} (gave up after {attempts} attempts)");
        give_up(ctx, entry, &why, report);
        return;
    }
    let at = Utc::now() + backoff(entry.attempts);
    match ctx
        .store
        .write(|c| repo::retry_later(c, entry.entry_id, ctx.worker, at, error))
    {
        Ok(true) => {
            report.retried += 1;
            log::info!(
                "entry {} ({}): attempt {attempts} failed; next attempt at {}",
                entry.entry_id,
                entry.guid,
                at.format("%Y-%m-%d %H:%M:%S UTC")
            );
        }
        Ok(false) => report.lost += 1,
        Err(e) => log::error!(
            "entry {}: cannot give it back ({e}); its lease will expire",
            entry.entry_id
        ),
    }
}

/// An entry nothing can be done with goes to the Dead Message queue at once.
fn give_up(ctx: &Ctx<'_>, entry: &Entry, why: &str, report: &mut RoundReport) {
    match ctx
        .store
        .write(|c| repo::to_dead(c, entry.entry_id, ctx.worker, entry.attempts + 1, why))
    {
        Ok(true) => {
            report.dead += 1;
            log::warn!(
                "entry {} ({}): moved to the Dead Message queue: {why}",
                entry.entry_id,
                entry.guid
            );
        }
        Ok(false) => report.lost += 1,
        Err(e) => log::error!(
            "entry {}: cannot move it to the Dead Message queue ({e}); its lease will expire",
            entry.entry_id
        ),
    }
}
