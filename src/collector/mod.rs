//! The Collector (`esmail collector --instance N`): every `interval` seconds one round deletes
//! what nothing needs any more — message contents no pointer or queue entry refers to, the
//! COLLECTOR queue, and rows older than their retention (billing, directory changes, expunge
//! tombstones, mailbox changes, sessions, authentication failures, statistics, the rules'
//! auto-reply and forward memories, finished requests from PL/SQL).
//!
//! Each kind of work deletes in batches of `batch_size` rows, one transaction per batch, and
//! stops when a batch deletes fewer rows than that; a stop request is honoured between batches.
//! Several instances may run at once (e.g. with different `work`): a row two of them select is
//! deleted by one, and the other's delete finds nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cli::StoreArgs;
use crate::process::runtime::Runtime;
use crate::store::collector::{self as repo, Batch, Target};
use crate::store::{Store, StoreError};

/// A kind of work, as named in the `work` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Entries of the COLLECTOR queue and their recipients. Runs before `Content`, so that a
    /// message freed by its COLLECTOR entry goes in the same round.
    Queue,
    /// Message contents with no folder pointer and no queue entry.
    Content,
    /// Billing records older than `gc_billinfo_kept` days.
    Billing,
    /// Directory changes acknowledged by every subscriber (no subscriber: older than
    /// `changelog_kept_days` days).
    Changelog,
    /// Expunge tombstones older than `tombstone_kept_days` days.
    Tombstones,
    /// Mailbox change feed rows older than `tombstone_kept_days` days.
    MailChanges,
    /// Sessions inactive for more than a day.
    Sessions,
    /// Authentication failure records not bumped for more than a day.
    AuthFailures,
    /// Statistics samples and monitor reports older than `stats_kept_days` days.
    Statistics,
    /// Auto-reply memory rows that can no longer stop a reply: older than `autoreply_kept_days`
    /// days and than the longest reply period of any rule.
    AutoReplies,
    /// Forward memory rows of the rules older than `forward_kept_days` days whose message no
    /// queue entry refers to any more.
    Forwards,
    /// Mailbox and directory requests finished (DONE or FAILED) more than
    /// `requests_kept_days` days ago. Pending requests stay, however old.
    Requests,
}

impl Kind {
    /// Every kind, in the order a round does them.
    pub const ALL: [Kind; 12] = [
        Kind::Queue,
        Kind::Content,
        Kind::Billing,
        Kind::Changelog,
        Kind::Tombstones,
        Kind::MailChanges,
        Kind::Sessions,
        Kind::AuthFailures,
        Kind::Statistics,
        Kind::AutoReplies,
        Kind::Forwards,
        Kind::Requests,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Queue => "queue",
            Kind::Content => "content",
            Kind::Billing => "billing",
            Kind::Changelog => "changelog",
            Kind::Tombstones => "tombstones",
            Kind::MailChanges => "mailchanges",
            Kind::Sessions => "sessions",
            Kind::AuthFailures => "authfailures",
            Kind::Statistics => "statistics",
            Kind::AutoReplies => "autoreplies",
            Kind::Forwards => "forwards",
            Kind::Requests => "requests",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim();
        Kind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
    }

    fn targets(self) -> &'static [Target] {
        match self {
            Kind::Queue => &[Target::CollectorQueue],
            Kind::Content => &[Target::Messages],
            Kind::Billing => &[Target::Billing],
            Kind::Changelog => &[Target::DirChanges],
            Kind::Tombstones => &[Target::Expunged],
            Kind::MailChanges => &[Target::MailChanges],
            Kind::Sessions => &[Target::Sessions],
            Kind::AuthFailures => &[Target::AuthFailures],
            Kind::Statistics => &[Target::StatSamples, Target::MonitorReports],
            Kind::AutoReplies => &[Target::AutoReplies],
            Kind::Forwards => &[Target::RuleForwards],
            Kind::Requests => &[Target::MailboxRequests, Target::AdminRequests],
        }
    }
}

/// Sessions and authentication failure records are kept this many days.
pub const SESSION_KEPT_DAYS: u64 = 1;

/// What a round does, from the instance's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorParams {
    /// The kinds of work, without duplicates, in the order of [`Kind::ALL`].
    pub work: Vec<Kind>,
    /// Rows deleted per transaction (at least 1).
    pub batch_size: u64,
    /// `gc_billinfo_kept`
    pub billing_kept_days: u64,
    /// `changelog_kept_days`
    pub changelog_kept_days: u64,
    /// `tombstone_kept_days` (tombstones and mailbox changes)
    pub tombstone_kept_days: u64,
    /// `stats_kept_days` (statistics samples and monitor reports)
    pub stats_kept_days: u64,
    /// `autoreply_kept_days`: the least age of an auto-reply memory row the Collector deletes
    /// (the longest reply period of the rules may make it older)
    pub autoreply_kept_days: u64,
    /// `forward_kept_days`: the least age of a forward memory row the Collector deletes
    pub forward_kept_days: u64,
    /// `requests_kept_days` (finished mailbox and directory requests)
    pub requests_kept_days: u64,
}

impl Default for CollectorParams {
    /// The defaults of schema steps 2 and 8: every kind, 500 rows a batch, 45/30/30/90 days,
    /// 30 days of auto-reply memory, 7 of forward memory and of finished requests.
    fn default() -> Self {
        CollectorParams {
            work: Kind::ALL.to_vec(),
            batch_size: 500,
            billing_kept_days: 45,
            changelog_kept_days: 30,
            tombstone_kept_days: 30,
            stats_kept_days: 90,
            autoreply_kept_days: 30,
            forward_kept_days: 7,
            requests_kept_days: 7,
        }
    }
}

impl CollectorParams {
    /// Reads the `work` list: the known kinds (deduplicated, in round order) and the words that
    /// name no kind.
    pub fn parse_work(text: &str) -> (Vec<Kind>, Vec<String>) {
        let mut kinds = Vec::new();
        let mut unknown = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match Kind::parse(word) {
                Some(k) => kinds.push(k),
                None => unknown.push(word.to_string()),
            }
        }
        kinds.sort();
        kinds.dedup();
        (kinds, unknown)
    }

    /// The parameters from a lookup of parameter values (the instance's effective values);
    /// unknown kinds of work are logged as warnings. An integer that is unset or unreadable
    /// takes its default; retentions are at least one day.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> CollectorParams {
        let d = CollectorParams::default();
        let int = |name: &str, default: u64, min: u64| {
            get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(default)
                .max(min)
        };
        let work = match get("work") {
            Some(text) => {
                let (kinds, unknown) = CollectorParams::parse_work(&text);
                for w in &unknown {
                    log::warn!(
                        "work: unknown kind of work {w:?} ignored (known: {})",
                        Kind::ALL.map(Kind::name).join(", ")
                    );
                }
                kinds
            }
            None => Vec::new(),
        };
        if work.is_empty() {
            log::warn!("work is empty: this instance collects nothing");
        }
        CollectorParams {
            work,
            batch_size: int("batch_size", d.batch_size, 1),
            billing_kept_days: int("gc_billinfo_kept", d.billing_kept_days, 1),
            changelog_kept_days: int("changelog_kept_days", d.changelog_kept_days, 1),
            tombstone_kept_days: int("tombstone_kept_days", d.tombstone_kept_days, 1),
            stats_kept_days: int("stats_kept_days", d.stats_kept_days, 1),
            autoreply_kept_days: int("autoreply_kept_days", d.autoreply_kept_days, 1),
            forward_kept_days: int("forward_kept_days", d.forward_kept_days, 1),
            requests_kept_days: int("requests_kept_days", d.requests_kept_days, 1),
        }
    }

    /// The parameters of a running instance.
    pub fn from_runtime(rt: &Runtime) -> CollectorParams {
        CollectorParams::from_lookup(|name| rt.param(name).map(str::to_string))
    }

    fn kept_days(&self, t: Target) -> Option<u64> {
        match t {
            Target::Messages | Target::CollectorQueue => None,
            Target::Billing => Some(self.billing_kept_days),
            Target::DirChanges => Some(self.changelog_kept_days),
            Target::Expunged | Target::MailChanges => Some(self.tombstone_kept_days),
            Target::Sessions | Target::AuthFailures => Some(SESSION_KEPT_DAYS),
            Target::StatSamples | Target::MonitorReports => Some(self.stats_kept_days),
            Target::AutoReplies => Some(self.autoreply_kept_days),
            Target::RuleForwards => Some(self.forward_kept_days),
            Target::MailboxRequests | Target::AdminRequests => Some(self.requests_kept_days),
        }
    }
}

/// The longest reply period, in days, of the REPLY actions stored (`periods`, as
/// [`repo::reply_periods`] reads them); 0 when there is none. An empty value is the default
/// period; a value that is no number of days counts as the longest period a rule may have
/// (such a rule fails until it is fixed, and may then take any period).
pub fn longest_reply_days(periods: &[Option<String>]) -> u64 {
    let default = u64::try_from(crate::rules::model::DEFAULT_REPLY_DAYS).unwrap_or(7);
    let max = u64::try_from(crate::rules::validate::MAX_DAYS).unwrap_or(365);
    periods
        .iter()
        .map(|p| match p.as_deref().map(str::trim) {
            None | Some("") => default,
            Some(text) => text.parse::<u64>().unwrap_or(max),
        })
        .max()
        .unwrap_or(0)
}

/// What a round removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Message contents (`es_message` rows).
    pub messages: u64,
    pub queue_entries: u64,
    pub queue_recipients: u64,
    pub billing: u64,
    pub dir_changes: u64,
    pub tombstones: u64,
    pub mail_changes: u64,
    pub sessions: u64,
    pub auth_failures: u64,
    pub stat_samples: u64,
    pub monitor_reports: u64,
    /// Auto-reply memory rows (`es_autoreply_memory`).
    pub autoreplies: u64,
    /// Forward memory rows of the rules (`es_rule_forward`).
    pub rule_forwards: u64,
    /// Finished `es_mailbox_request` rows.
    pub mailbox_requests: u64,
    /// Finished `es_admin_request` rows.
    pub admin_requests: u64,
    /// Transactions (batches) the round ran.
    pub batches: u64,
    /// True when a stop request cut the round short.
    pub interrupted: bool,
}

impl RoundReport {
    fn add(&mut self, t: Target, b: &Batch) {
        self.batches += 1;
        let n = b.deleted;
        match t {
            Target::Messages => self.messages += n,
            Target::CollectorQueue => {
                self.queue_entries += n;
                self.queue_recipients += b.dependents;
            }
            Target::Billing => self.billing += n,
            Target::DirChanges => self.dir_changes += n,
            Target::Expunged => self.tombstones += n,
            Target::MailChanges => self.mail_changes += n,
            Target::Sessions => self.sessions += n,
            Target::AuthFailures => self.auth_failures += n,
            Target::StatSamples => self.stat_samples += n,
            Target::MonitorReports => self.monitor_reports += n,
            Target::AutoReplies => self.autoreplies += n,
            Target::RuleForwards => self.rule_forwards += n,
            Target::MailboxRequests => self.mailbox_requests += n,
            Target::AdminRequests => self.admin_requests += n,
        }
    }

    /// Rows removed, all tables together (queue recipients included).
    pub fn total(&self) -> u64 {
        self.messages
            + self.queue_entries
            + self.queue_recipients
            + self.billing
            + self.dir_changes
            + self.tombstones
            + self.mail_changes
            + self.sessions
            + self.auth_failures
            + self.stat_samples
            + self.monitor_reports
            + self.autoreplies
            + self.rule_forwards
            + self.mailbox_requests
            + self.admin_requests
    }

    /// One line: what was removed (only what is not zero).
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (self.messages, "message contents"),
            (self.queue_entries, "collector queue entries"),
            (self.queue_recipients, "queue recipients"),
            (self.billing, "billing records"),
            (self.dir_changes, "directory changes"),
            (self.tombstones, "expunge tombstones"),
            (self.mail_changes, "mailbox changes"),
            (self.sessions, "sessions"),
            (self.auth_failures, "authentication failure records"),
            (self.stat_samples, "statistics samples"),
            (self.monitor_reports, "monitor reports"),
            (self.autoreplies, "auto-reply memories"),
            (self.rule_forwards, "forward memories"),
            (self.mailbox_requests, "finished mailbox requests"),
            (self.admin_requests, "finished directory requests"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// One round of every kind of work in `params`, to the end.
pub fn collect_round(store: &Store, params: &CollectorParams) -> Result<RoundReport, String> {
    collect_round_until(store, params, &|| false)
}

/// One round that ends early, between two batches, once `stop` returns true. A kind that
/// fails is logged and the round goes on with the others; the round then returns the errors.
pub fn collect_round_until(
    store: &Store,
    params: &CollectorParams,
    stop: &dyn Fn() -> bool,
) -> Result<RoundReport, String> {
    let mut report = RoundReport::default();
    let mut errors = Vec::new();
    'kinds: for kind in &params.work {
        for &target in kind.targets() {
            if stop() {
                report.interrupted = true;
                break 'kinds;
            }
            let cutoff = params
                .kept_days(target)
                .map(|days| cutoff_days(Utc::now(), days));
            if let Err(e) = drain(store, target, cutoff, params, stop, &mut report) {
                log::error!("{}: cannot delete {}: {e}", kind.name(), target.label());
                errors.push(format!("{}: {e}", kind.name()));
            }
        }
    }
    if report.total() > 0 {
        log::info!(
            "collected {} in {} transaction(s){}",
            report.summary(),
            report.batches,
            if report.interrupted {
                " (interrupted by a stop request)"
            } else {
                ""
            }
        );
    } else {
        log::debug!("nothing to collect");
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(errors.join("; "))
    }
}

fn cutoff_days(now: DateTime<Utc>, days: u64) -> DateTime<Utc> {
    let days = i64::try_from(days).unwrap_or(i64::MAX).min(1_000_000);
    now - chrono::Duration::days(days)
}

/// Deletes batches of one target until a batch deletes fewer rows than the batch size.
fn drain(
    store: &Store,
    target: Target,
    cutoff: Option<DateTime<Utc>>,
    params: &CollectorParams,
    stop: &dyn Fn() -> bool,
    report: &mut RoundReport,
) -> Result<(), StoreError> {
    let size = params.batch_size.max(1);
    loop {
        let b = store.write(|c| {
            // an auto-reply memory row stops a reply for as long as the longest reply period
            // of any rule: the periods are read in the batch's own transaction
            let cutoff = match (target, cutoff) {
                (Target::AutoReplies, Some(kept)) => {
                    let longest = longest_reply_days(&repo::reply_periods(c)?);
                    Some(kept.min(cutoff_days(Utc::now(), longest)))
                }
                _ => cutoff,
            };
            repo::delete_batch(c, target, cutoff, size)
        })?;
        log::debug!(
            "{}: batch of {} selected, {} deleted{}",
            target.label(),
            b.selected,
            b.deleted,
            if b.dependents > 0 {
                format!(" (and {} dependent rows)", b.dependents)
            } else {
                String::new()
            }
        );
        report.add(target, &b);
        if b.deleted < size {
            return Ok(());
        }
        if stop() {
            report.interrupted = true;
            return Ok(());
        }
    }
}

/// The Collector process: rounds every `interval` seconds until SIGTERM or SIGINT.
pub fn run(args: &StoreArgs, instance: i64) -> Result<(), String> {
    let mut rt = Runtime::start("collector", instance, args)?;
    let mut params = CollectorParams::from_runtime(&rt);
    log::info!(
        "work: {}; batch size {}; every {}s",
        params
            .work
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(","),
        params.batch_size,
        rt.param_u64("interval", 60, 1)
    );
    loop {
        if rt.take_refreshed() {
            params = CollectorParams::from_runtime(&rt);
        }
        if let Err(e) = collect_round_until(&rt.store, &params, &|| rt.stopping()) {
            log::error!("collection round failed: {e}");
        }
        if !rt.wait(Duration::from_secs(rt.param_u64("interval", 60, 1))) {
            break;
        }
    }
    rt.finish("stopped by signal");
    Ok(())
}

#[cfg(test)]
mod kinds_tests {
    use super::Kind;

    #[test]
    fn the_work_parameter_accepts_exactly_the_kinds_there_are() {
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        let mut known = crate::process::COLLECTOR_WORK.to_vec();
        names.sort();
        known.sort();
        assert_eq!(names, known);
    }

    #[test]
    fn the_longest_reply_period_reads_the_stored_days_as_the_rules_do() {
        use super::longest_reply_days;
        let p = |v: &[Option<&str>]| -> Vec<Option<String>> {
            v.iter().map(|x| x.map(str::to_string)).collect()
        };
        assert_eq!(longest_reply_days(&[]), 0, "no reply rule");
        assert_eq!(longest_reply_days(&p(&[Some("3"), Some(" 60 ")])), 60);
        assert_eq!(
            longest_reply_days(&p(&[Some("3"), None])),
            7,
            "empty: the default period"
        );
        assert_eq!(longest_reply_days(&p(&[Some(" ")])), 7);
        assert_eq!(
            longest_reply_days(&p(&[Some("3"), Some("soon")])),
            365,
            "unreadable: the longest period a rule may have"
        );
    }
}
