//! The Monitor (`esmail monitor --instance 1`): every `interval` seconds (the first time one
//! interval after it starts; at once after `refresh process server=monitor ...;`) it runs its
//! tests on its node, records one report
//! per test in `es_monitor_report`, and mails a report to ORAPOST when a test finds something
//! at or above `report_level`:
//!
//! - `flow`: how long the oldest entry of each queue has waited; the Dead Message queue;
//! - `space`: the space the store uses (the Statistics process's samples), how fast it grows
//!   and when it will be full;
//! - `configuration`: processes that should run and do not, the Statistics process, the TLS
//!   certificate's expiry, the account reports go to;
//! - `references`: missing objects and references (the checks of `verify store;`).
//!
//! The same findings are not mailed twice within `report_repeat_hours`: a report goes out when
//! they change or the period is over. Reading and evaluating take one read transaction; the
//! reports and the mail (queued in the Submission queue, delivered by the Postman) one write
//! transaction.
//!
//! - [`checks`]: the tests, as pure functions;
//! - [`mail`]: the report message (text with sparklines, HTML with charts);
//! - [`chart`]: the charts.

pub mod chart;
pub mod checks;
pub mod mail;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cli::StoreArgs;
use crate::process::runtime::Runtime;
use crate::store::monitor::{self as repo, Report};
use crate::store::{processes, system, verify, Conn, Store, StoreError, StoreUrl};
use chart::Series;
use checks::{Finding, Severity, Thresholds};

/// The tests, in the order a round runs them.
pub const TESTS: [&str; 4] = ["flow", "space", "configuration", "references"];

/// The pseudo-test under which a mailed report is recorded.
pub const MAILED: &str = "mail";

/// What a round runs with (the process parameters).
#[derive(Debug, Clone)]
pub struct Settings {
    pub tests: Vec<&'static str>,
    /// Where reports go; `None`: the `orapost_address` setting.
    pub report_to: Option<String>,
    pub report_level: Severity,
    pub report_repeat: chrono::Duration,
    pub thresholds: Thresholds,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            tests: TESTS.to_vec(),
            report_to: None,
            report_level: Severity::Warning,
            report_repeat: chrono::Duration::hours(24),
            thresholds: Thresholds::default(),
        }
    }
}

impl Settings {
    /// From the parameters of the running instance; unknown test names and levels are logged
    /// and left out.
    pub fn of(rt: &Runtime) -> Settings {
        let mut s = Settings::default();
        if let Some(list) = rt.param("tests") {
            s.tests = Vec::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                match TESTS.iter().find(|t| t.eq_ignore_ascii_case(name)) {
                    Some(t) => s.tests.push(t),
                    None => log::warn!(
                        "tests: no test {name:?} (known: {}): left out",
                        TESTS.join(", ")
                    ),
                }
            }
        }
        s.report_to = rt
            .param("report_to")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if let Some(level) = rt.param("report_level") {
            match Severity::parse(level) {
                Some(l) => s.report_level = l,
                None => log::warn!("report_level={level:?} is not OK, INFO, WARNING or ERROR"),
            }
        }
        let hours = |name, default| chrono::Duration::hours(rt.param_u64(name, default, 0) as i64);
        let minutes =
            |name, default| chrono::Duration::minutes(rt.param_u64(name, default, 1) as i64);
        s.report_repeat = hours("report_repeat_hours", 24);
        s.thresholds = Thresholds {
            flow_warning: minutes("flow_warning_minutes", 15),
            remote_warning: minutes("remote_warning_minutes", 240),
            space_warning_days: rt.param_u64("space_warning_days", 30, 1) as f64,
            cert_warning_days: rt.param_u64("cert_warning_days", 30, 1) as i64,
        };
        s
    }
}

/// Everything a round reads, in one transaction.
struct Gathered {
    queues: Vec<repo::QueueAge>,
    subscribers: Vec<repo::SubscriberLag>,
    queue_samples: Vec<(String, DateTime<Utc>, f64)>,
    space_samples: Vec<(String, DateTime<Utc>, f64)>,
    free: Vec<(String, i64)>,
    processes: Vec<processes::Process>,
    certificate_expires: Option<DateTime<Utc>>,
    report_to: Option<String>,
    problems: Vec<(String, String)>,
    checked: String,
    last_mail: Option<Report>,
}

fn gather(
    c: &mut Conn,
    node_id: i64,
    s: &Settings,
    now: DateTime<Utc>,
) -> Result<Gathered, StoreError> {
    let wants = |t: &str| s.tests.contains(&t);
    let mut problems = Vec::new();
    let mut checked = String::new();
    if wants("references") {
        let t = verify::totals(c)?;
        for p in verify::pointers(c)?
            .into_iter()
            .chain(verify::folders(c)?)
            .chain(verify::accounts(c)?)
            .chain(verify::directory(c)?)
            .chain(verify::queues(c)?)
        {
            problems.push((p.problem.to_string(), p.detail));
        }
        checked = format!(
            "{} accounts, {} folders, {} messages, {} pointers, {} aliases, {} list members, {} queue entries",
            t.accounts, t.folders, t.messages, t.pointers, t.aliases, t.list_members, t.queue_entries
        );
    }
    Ok(Gathered {
        queues: repo::queue_ages(c, node_id)?,
        subscribers: repo::subscriber_lag(c)?,
        queue_samples: repo::samples(c, node_id, "queue.", now - chrono::Duration::hours(24))?,
        space_samples: repo::samples(c, node_id, "space.", now - chrono::Duration::days(7))?,
        free: repo::free_space(c)?,
        processes: processes::processes(c, node_id, None, 0)?,
        certificate_expires: system::tls_identity(c, crate::sps::instance::TLS_IDENTITY)?
            .and_then(|t| t.not_after),
        report_to: match &s.report_to {
            Some(r) => Some(r.clone()),
            None => system::setting(c, system::ORAPOST)?.filter(|a| !a.is_empty()),
        },
        problems,
        checked,
        last_mail: repo::history(c, node_id, MAILED, 1)?.into_iter().next(),
    })
}

/// Free bytes of the file system holding `path`.
fn file_system_free(path: &Path) -> Option<f64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a properly sized out-parameter
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as f64 * st.f_frsize as f64)
}

/// `space.<area>.bytes` samples by area, and the series of a metric family by name.
fn series(samples: &[(String, DateTime<Utc>, f64)], prefix: &str, suffix: &str) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for (metric, at, v) in samples {
        let Some(name) = metric
            .strip_prefix(prefix)
            .and_then(|m| m.strip_suffix(suffix))
        else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        match out.iter_mut().find(|s| s.name == name) {
            Some(s) => s.points.push((*at, *v)),
            None => out.push(Series {
                name,
                points: vec![(*at, *v)],
            }),
        }
    }
    out
}

fn evaluate(g: &Gathered, s: &Settings, url: &StoreUrl, now: DateTime<Utc>) -> Vec<Finding> {
    let t = &s.thresholds;
    let mut out = Vec::new();
    for test in &s.tests {
        out.push(match *test {
            "flow" => checks::flow(&g.queues, &g.subscribers, now, t),
            "space" => {
                let areas: Vec<checks::SpaceUse> = series(&g.space_samples, "space.", ".bytes")
                    .into_iter()
                    .map(|sr| {
                        let inside = g
                            .free
                            .iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case(&sr.name))
                            .map(|(_, b)| *b as f64);
                        let outside = match url {
                            StoreUrl::Sqlite(path) => file_system_free(path),
                            StoreUrl::Oracle { .. } => None,
                        };
                        let free = match (inside, outside) {
                            (None, None) => None,
                            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
                        };
                        checks::SpaceUse {
                            name: sr.name,
                            samples: sr.points,
                            free,
                        }
                    })
                    .collect();
                checks::space(&areas, t)
            }
            "configuration" => checks::configuration(
                &checks::Configuration {
                    processes: &g.processes,
                    certificate_expires: g.certificate_expires,
                    report_to: g.report_to.as_deref(),
                },
                now,
                t,
            ),
            _ => checks::references(&g.problems, &g.checked),
        });
    }
    out
}

/// What is mailed, in a few words: the tests at or above the report level and their
/// severities. The same fingerprint is not mailed twice within the repeat period.
fn fingerprint(findings: &[Finding], level: Severity) -> String {
    findings
        .iter()
        .filter(|f| f.severity >= level)
        .map(|f| format!("{} {}", f.test, f.severity.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a round did.
#[derive(Debug)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// The address a report was queued for.
    pub mailed: Option<String>,
}

/// One round: the tests, their reports, and the mail when it is due.
pub fn round(
    store: &Store,
    node_id: i64,
    node_name: &str,
    host: &str,
    s: &Settings,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let g = store.read(|c| gather(c, node_id, s, now))?;
    let findings = evaluate(&g, s, store.url(), now);
    let print = fingerprint(&findings, s.report_level);
    let due = !print.is_empty()
        && match &g.last_mail {
            None => true,
            Some(last) => {
                !last.details.ends_with(&format!("[{print}]")) || now - last.at >= s.report_repeat
            }
        };
    let to = g.report_to.clone().filter(|_| due);
    store.write(|c| -> Result<(), StoreError> {
        for f in &findings {
            repo::insert_report(
                c,
                node_id,
                &Report {
                    test: f.test.to_string(),
                    severity: f.severity.name().to_string(),
                    summary: f.summary.clone(),
                    details: f.details.join("\n"),
                    at: now,
                },
            )?;
        }
        let Some(to) = &to else {
            return Ok(());
        };
        let charts = mail::Charts {
            queues: series(&g.queue_samples, "queue.", ".length"),
            space: series(&g.space_samples, "space.", ".bytes"),
            now,
        };
        let from_domain = to.rsplit_once('@').map(|(_, d)| d).unwrap_or(host);
        let built = mail::build(&mail::Report {
            node: node_name,
            host,
            from_domain,
            to,
            findings: &findings,
            charts: &charts,
        });
        crate::postman::report::submit(c, node_id, 5, to, &built, now)?;
        repo::insert_report(
            c,
            node_id,
            &Report {
                test: MAILED.to_string(),
                severity: mail::worst(&findings).name().to_string(),
                summary: format!(
                    "report mailed to {to}: {}",
                    mail::subject(node_name, &findings)
                ),
                details: format!("[{print}]"),
                at: now,
            },
        )
    })?;
    Ok(Outcome {
        findings,
        mailed: to,
    })
}

/// The Monitor process: a round every `interval` seconds (the first one interval after the
/// start, when the node has settled) and one at once after a refresh, until SIGTERM or SIGINT.
pub fn run(args: &StoreArgs, instance: i64) -> Result<(), String> {
    let mut rt = Runtime::start("monitor", instance, args)?;
    log::info!(
        "testing every {}s: {}",
        rt.param_u64("interval", 900, 10),
        Settings::of(&rt).tests.join(", ")
    );
    while rt.wait(Duration::from_secs(rt.param_u64("interval", 900, 10))) {
        rt.take_refreshed();
        let s = Settings::of(&rt);
        match round(
            &rt.store,
            rt.node_id,
            &rt.node_name,
            &rt.host,
            &s,
            Utc::now(),
        ) {
            Ok(o) => {
                for f in &o.findings {
                    let line = format!("{} {}: {}", f.severity.name(), f.test, f.summary);
                    match f.severity {
                        Severity::Ok | Severity::Info => log::info!("{line}"),
                        Severity::Warning => log::warn!("{line}"),
                        Severity::Error => log::error!("{line}"),
                    }
                }
                if let Some(to) = o.mailed {
                    log::info!("report mailed to {to}");
                }
            }
            Err(e) => log::error!("cannot run the tests: {e}"),
        }
    }
    rt.finish("stopped by signal");
    Ok(())
}
