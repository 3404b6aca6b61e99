//! The Postman (`esmail postman --instance N`): moves messages from the Submission queue of its
//! node into the recipients' INBOXes, hands what is for elsewhere to the Gateway (outside
//! addresses) and Remote (accounts of other nodes) queues, and returns non-delivery reports.
//!
//! A round claims up to `batch_size` due entries (lease `lease_seconds`, `claimed_by` =
//! `postman<N>@<host>:<pid>`; see [`crate::store::delivery`]), then processes each entry in short
//! transactions, every one of which first renews the claim and fails if another instance took
//! it over (a claim whose lease expired, after a crash, is taken over by the next claimer):
//!
//! 1. **Expansion** ([`expand`]): the rewriting rules, then aliases, lists, locations,
//!    organizations and roles ([`crate::directory::resolve`]), each account once per message.
//!    The entry's recipients are rewritten in one transaction as the expanded list (the
//!    submitted recipients stay below position [`EXPANDED_POS`], expanded ones from there on;
//!    a recipient that is already its own single target is kept as it is).
//! 2. **Delivery** ([`deliver`]): one transaction per (message, account) runs the account's
//!    server-side rules ([`crate::rules`]), appends a pointer to the account's INBOX (or the
//!    folder its rules chose; the content is never copied) and marks that recipient DONE, so a
//!    redo after a crash never delivers a DONE recipient again. A disabled or full account, an
//!    unknown address, an expansion that reaches nobody: that recipient is FAILED with a
//!    reason. Outside addresses and accounts homed on other nodes go to the GATEWAY (`smtp`)
//!    and REMOTE queues, as new entries for the same message, in one transaction.
//! 3. **Finish** ([`report`]): when every recipient is DONE or FAILED the entry is deleted (the
//!    content stays until the Collector finds nothing refers to it), after a non-delivery
//!    report (RFC 3464) for the FAILED ones has been queued to the sender in the same
//!    transaction; a message whose sender is invalid goes to the Dead Message queue instead.
//!
//! Between two rounds the Postman also performs the requests the PL/SQL packages left in the
//! store after their writer committed ([`requests`]: mailbox changes from IM_API, directory
//! changes from DAPLS).
//!
//! A store error releases the entry with `attempts + 1` and a growing delay ([`backoff`]); after
//! `max_attempts` attempts it goes to the Dead Message queue.
//!
//! **RemoteFlag 0**: such an instance delivers local accounts only. The recipients of an entry
//! that are for elsewhere are marked DEFERRED ("left for a Postman with RemoteFlag 1") and the
//! entry is released without counting an attempt; from then on instances with RemoteFlag 0
//! skip entries that have no PENDING recipient, and an instance with RemoteFlag 1 claims it,
//! relays the DEFERRED recipients and finishes the entry. Without any RemoteFlag 1 instance on
//! the node such entries wait in the Submission queue.

mod deliver;
mod entry;
mod expand;
pub(crate) mod report;
pub mod requests;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cli::StoreArgs;
use crate::directory::resolve::{Resolver, Rewriter};
use crate::process::runtime::Runtime;
use crate::store::{delivery, system, Store};

pub use crate::store::delivery::EXPANDED_POS;
pub use report::{
    automatic, build as build_report, conclude, finish_gateway_entry, BuiltNdr, Concluded, Ndr,
};

/// What a round does, from the instance's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostmanParams {
    /// Entries claimed at a time (at least 1).
    pub batch_size: u64,
    /// How long a claim lasts without being renewed (at least 1 s).
    pub lease_seconds: u64,
    /// Milliseconds between two looks at an empty queue.
    pub poll_ms: u64,
    /// Attempts before an entry goes to the Dead Message queue (at least 1).
    pub max_attempts: u64,
    /// Most targets one recipient may expand to (at least 1).
    pub max_expansion: u64,
    /// `RemoteFlag`: also relay to the Gateway and Remote queues.
    pub remote: bool,
    pub send_billing: bool,
    pub recv_billing: bool,
    /// Record each finished message's time in the queue as a statistics sample.
    pub delivery_stats: bool,
    /// Time limit of one ACTION_RUN_PROC call of a server-side rule, in seconds (Oracle).
    pub rule_proc_seconds: u64,
}

impl Default for PostmanParams {
    /// The defaults of the schema's reference data.
    fn default() -> Self {
        PostmanParams {
            batch_size: 50,
            lease_seconds: 60,
            poll_ms: 500,
            max_attempts: 10,
            max_expansion: 10_000,
            remote: true,
            send_billing: false,
            recv_billing: false,
            delivery_stats: false,
            rule_proc_seconds: 10,
        }
    }
}

impl PostmanParams {
    /// The parameters from a lookup of parameter values; an unset or unreadable value takes
    /// its default.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> PostmanParams {
        let d = PostmanParams::default();
        let int = |name: &str, default: u64, min: u64| {
            get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(default)
                .max(min)
        };
        let flag = |name: &str, default: bool| match get(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("1" | "yes" | "true" | "on" | "enabled") => true,
            Some("0" | "no" | "false" | "off" | "disabled") => false,
            _ => default,
        };
        PostmanParams {
            batch_size: int("batch_size", d.batch_size, 1),
            lease_seconds: int("lease_seconds", d.lease_seconds, 1),
            poll_ms: int("poll_ms", d.poll_ms, 10),
            max_attempts: int("max_attempts", d.max_attempts, 1),
            max_expansion: int("max_expansion", d.max_expansion, 1),
            remote: flag("RemoteFlag", d.remote),
            send_billing: flag("send_billing", d.send_billing),
            recv_billing: flag("recv_billing", d.recv_billing),
            delivery_stats: flag("delivery_stats", d.delivery_stats),
            rule_proc_seconds: int("rule_proc_seconds", d.rule_proc_seconds, 1),
        }
    }

    /// The parameters of a running instance.
    pub fn from_runtime(rt: &Runtime) -> PostmanParams {
        PostmanParams::from_lookup(|name| rt.param(name).map(str::to_string))
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.lease_seconds.clamp(1, 86_400 * 365) as i64)
    }
}

/// How long an entry waits after its `attempts`-th failed attempt (0 for the first): one
/// minute, doubling, at most an hour.
pub fn backoff(attempts: i64) -> chrono::Duration {
    let shift = attempts.clamp(0, 6) as u32;
    chrono::Duration::seconds((60i64 << shift).min(3600))
}

/// The `claimed_by` of an instance: `postman<N>@<host>:<pid>`.
pub fn worker_name(instance: i64, host: &str) -> String {
    format!("postman{instance}@{host}:{}", std::process::id())
}

/// What a round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Entries claimed.
    pub claimed: u64,
    /// Entries finished and deleted.
    pub finished: u64,
    /// Pointers appended to INBOXes.
    pub delivered: u64,
    /// Recipients that failed.
    pub failed: u64,
    /// Recipients handed to the Gateway or Remote queues.
    pub relayed: u64,
    /// Recipients left for an instance with RemoteFlag 1.
    pub deferred: u64,
    /// Non-delivery reports queued.
    pub reports: u64,
    /// Entries moved to the Dead Message queue.
    pub dead: u64,
    /// Entries given back for a later attempt after an error.
    pub retried: u64,
    /// Entries given back unfinished (a stop request, or recipients left for another instance).
    pub released: u64,
    /// Entries whose claim another instance took over while this one worked on them.
    pub lost: u64,
}

impl RoundReport {
    /// One line: what was done (only what is not zero).
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (self.claimed, "claimed"),
            (self.delivered, "delivered"),
            (self.failed, "failed"),
            (self.relayed, "relayed"),
            (self.deferred, "deferred"),
            (self.reports, "reports"),
            (self.finished, "finished"),
            (self.dead, "dead"),
            (self.retried, "retried"),
            (self.released, "released"),
            (self.lost, "lost"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{what} {n}"))
        .collect();
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

/// What processing an entry needs, for one round.
pub(crate) struct Ctx<'a> {
    pub store: &'a Store,
    pub params: &'a PostmanParams,
    pub worker: &'a str,
    pub node_id: i64,
    pub host: String,
    pub rewriter: Rewriter,
    pub resolver: Resolver,
    pub stop: &'a dyn Fn() -> bool,
}

impl Ctx<'_> {
    fn lease_until(&self) -> DateTime<Utc> {
        Utc::now() + self.params.lease()
    }
}

/// Claims one batch and processes it to the end.
pub fn deliver_round(
    store: &Store,
    params: &PostmanParams,
    worker: &str,
) -> Result<RoundReport, String> {
    deliver_round_until(store, params, worker, &|| false)
}

/// Claims one batch and processes it; once `stop` returns true the entries not started yet
/// (and the one under way, between two of its transactions) are given back.
pub fn deliver_round_until(
    store: &Store,
    params: &PostmanParams,
    worker: &str,
    stop: &dyn Fn() -> bool,
) -> Result<RoundReport, String> {
    let mut report = RoundReport::default();
    let now = Utc::now();
    // look first without the write lock: an idle instance polls without taking it
    let (node_id, rewriter) = store
        .read(|c| {
            let Some(node) = system::local_node_id(c)? else {
                return Ok::<_, crate::store::StoreError>((None, None));
            };
            if !delivery::has_claimable(c, node, now, params.remote)? {
                return Ok((Some(node), None));
            }
            Ok((Some(node), Some(Rewriter::load(c)?)))
        })
        .map_err(|e| e.to_string())?;
    let node_id =
        node_id.ok_or("the store has no node yet: run `esmail init --domain NAME` first")?;
    let waiting = store
        .read(|c| delivery::rerouting_waiting(c, node_id))
        .map_err(|e| e.to_string())?;
    if params.remote && waiting > 0 {
        // the Rerouting queue: messages from other nodes, to this node's Submission queue
        let moved = store
            .write(|c| delivery::reroute(c, node_id))
            .map_err(|e| format!("cannot reroute: {e}"))?;
        log::info!("rerouted {moved} entries from the Rerouting queue");
    }
    let rewriter = match rewriter {
        Some(r) => r,
        None if waiting > 0 && params.remote => {
            store.read(Rewriter::load).map_err(|e| e.to_string())?
        }
        None => return Ok(report),
    };
    let now = Utc::now();
    let ids = store
        .write(|c| {
            delivery::claim_batch(
                c,
                node_id,
                worker,
                now,
                now + params.lease(),
                params.batch_size,
                params.remote,
            )
        })
        .map_err(|e| format!("cannot claim entries: {e}"))?;
    report.claimed = ids.len() as u64;
    if ids.is_empty() {
        return Ok(report);
    }
    log::debug!("claimed {} entries as {worker}", ids.len());
    let mut ctx = Ctx {
        store,
        params,
        worker,
        node_id,
        host: crate::config::host_name(),
        rewriter,
        resolver: Resolver::new(params.max_expansion.min(usize::MAX as u64) as usize),
        stop,
    };
    for (i, &id) in ids.iter().enumerate() {
        if stop() {
            let rest = &ids[i..];
            let released = store.write(|c| {
                let mut n = 0;
                for &id in rest {
                    n += delivery::release(c, id, worker)? as u64;
                }
                Ok::<_, crate::store::StoreError>(n)
            });
            match released {
                Ok(n) => report.released += n,
                Err(e) => log::warn!("cannot give back {} claimed entries: {e}", rest.len()),
            }
            break;
        }
        entry::process(&mut ctx, id, &mut report);
    }
    log::debug!("round: {}", report.summary());
    Ok(report)
}

/// The Postman process: rounds until SIGTERM or SIGINT; a round that claimed something is
/// followed at once by the next, an empty queue is looked at every `poll_ms` milliseconds.
pub fn run(args: &StoreArgs, instance: i64) -> Result<(), String> {
    let mut rt = Runtime::start("postman", instance, args)?;
    let worker = worker_name(instance, &rt.host);
    let mut params = PostmanParams::from_runtime(&rt);
    log_params(&worker, &params);
    loop {
        if rt.take_refreshed() {
            params = PostmanParams::from_runtime(&rt);
            log_params(&worker, &params);
        }
        // the mailbox and directory requests of the PL/SQL packages (requests.rs)
        let requested = requests::round_logged(&rt.store, params.batch_size);
        let pause = match deliver_round_until(&rt.store, &params, &worker, &|| rt.stopping()) {
            Ok(r) if r.claimed > 0 || requested => Duration::ZERO,
            Ok(_) => Duration::from_millis(params.poll_ms),
            Err(e) => {
                log::error!("round failed: {e}");
                Duration::from_millis(params.poll_ms.max(1000))
            }
        };
        if !rt.wait(pause) {
            break;
        }
    }
    rt.finish("stopped by signal");
    Ok(())
}

fn log_params(worker: &str, p: &PostmanParams) {
    log::info!(
        "{worker}: batch {} entries, lease {}s, poll {}ms, max {} attempts, max expansion {}, RemoteFlag {}, billing send {} recv {}, delivery stats {}",
        p.batch_size,
        p.lease_seconds,
        p.poll_ms,
        p.max_attempts,
        p.max_expansion,
        p.remote as u8,
        p.send_billing as u8,
        p.recv_billing as u8,
        p.delivery_stats as u8,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_read_their_kinds() {
        let p = PostmanParams::from_lookup(|n| match n {
            "batch_size" => Some("7".into()),
            "lease_seconds" => Some("0".into()),
            "RemoteFlag" => Some("0".into()),
            "recv_billing" => Some("1".into()),
            "max_attempts" => Some("x".into()),
            _ => None,
        });
        assert_eq!(p.batch_size, 7);
        assert_eq!(p.lease_seconds, 1);
        assert!(!p.remote);
        assert!(p.recv_billing);
        assert!(!p.send_billing);
        assert_eq!(p.max_attempts, 10);
    }

    #[test]
    fn backoff_grows_to_an_hour() {
        assert_eq!(backoff(0).num_seconds(), 60);
        assert_eq!(backoff(1).num_seconds(), 120);
        assert_eq!(backoff(5).num_seconds(), 1920);
        assert_eq!(backoff(6).num_seconds(), 3600);
        assert_eq!(backoff(60).num_seconds(), 3600);
    }
}
