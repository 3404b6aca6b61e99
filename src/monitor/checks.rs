//! The Monitor's tests, as pure functions: each takes what was read from the store (and the
//! file system) and returns one [`Finding`]. Nothing here does I/O, so every threshold is unit
//! tested.

use chrono::{DateTime, Duration, Utc};

use super::chart::{format_value, Unit};
use crate::store::monitor::{QueueAge, SubscriberLag};
use crate::store::processes::Process;

/// How bad a finding is; reports are mailed from `report_level` up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Ok,
    Info,
    Warning,
    Error,
}

impl Severity {
    /// As stored in `es_monitor_report.severity`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Ok => "OK",
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_uppercase().as_str() {
            "OK" => Some(Severity::Ok),
            "INFO" => Some(Severity::Info),
            "WARNING" | "WARN" => Some(Severity::Warning),
            "ERROR" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// The result of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub test: &'static str,
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// What was seen, and what to do about it: one item per line.
    pub details: Vec<String>,
}

impl Finding {
    fn new(test: &'static str) -> Finding {
        Finding {
            test,
            severity: Severity::Ok,
            summary: String::new(),
            details: Vec::new(),
        }
    }

    /// Raises the severity to at least `s`, with a line saying why.
    fn raise(&mut self, s: Severity, detail: String) {
        self.severity = self.severity.max(s);
        self.details.push(detail);
    }
}

/// The thresholds of the tests (process parameters).
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// The oldest entry of the Submission, Rerouting or Collector queue: a warning past this,
    /// an error past four times this.
    pub flow_warning: Duration,
    /// The same for the Remote and Gateway queues (they wait for other hosts).
    pub remote_warning: Duration,
    /// A warning when the store fills up in fewer days than this; an error under 7.
    pub space_warning_days: f64,
    /// A warning when the TLS certificate expires in fewer days than this.
    pub cert_warning_days: i64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            flow_warning: Duration::minutes(15),
            remote_warning: Duration::hours(4),
            space_warning_days: 30.0,
            cert_warning_days: 30,
        }
    }
}

/// A duration in words: "45 s", "12 min", "3.5 h", "2.1 days".
pub fn words(d: Duration) -> String {
    let s = d.num_seconds().max(0) as f64;
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
    }
}

/// Message flow: how long the oldest entry of each queue has waited, and the Dead Message
/// queue; and the flow of directory changes to their subscribers (an LDAP server), which
/// should not lag either.
pub fn flow(
    queues: &[QueueAge],
    subscribers: &[SubscriberLag],
    now: DateTime<Utc>,
    t: &Thresholds,
) -> Finding {
    let mut f = Finding::new("flow");
    let mut parts = Vec::new();
    for s in subscribers {
        let age = s.oldest.map(|o| now - o).unwrap_or_else(Duration::zero);
        if s.pending > 0 && age > t.flow_warning {
            f.raise(
                if age > t.flow_warning * 4 {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                format!(
                    "{} directory change(s) wait for subscriber {} (the oldest for {}): is it \
                     running, and can it reach its server? See its log",
                    s.pending,
                    s.name,
                    words(age)
                ),
            );
        }
    }
    for q in queues {
        let age = q.oldest.map(|o| now - o).unwrap_or_else(Duration::zero);
        let name = q.queue.to_ascii_lowercase();
        parts.push(if q.entries > 0 {
            format!("{name} {} (oldest {})", q.entries, words(age))
        } else {
            format!("{name} 0")
        });
        let limit = match q.queue.as_str() {
            "REMOTE" | "GATEWAY" => t.remote_warning,
            "DEAD" => {
                if q.entries > 0 {
                    f.raise(
                        Severity::Warning,
                        format!(
                            "{} message(s) in the Dead Message queue (the oldest {} ago): \
                             read them with `show queues;` and the Postman's log, then requeue \
                             or delete them",
                            q.entries,
                            words(age)
                        ),
                    );
                }
                continue;
            }
            _ => t.flow_warning,
        };
        if q.entries > 0 && age > limit {
            let s = if age > limit * 4 {
                Severity::Error
            } else {
                Severity::Warning
            };
            let what = match q.queue.as_str() {
                "REMOTE" | "GATEWAY" => {
                    "the remote hosts may be unreachable: see the SMTP gateway's log"
                }
                _ => "is a Postman running on this node? (`show processes;`)",
            };
            f.raise(
                s,
                format!(
                    "the {name} queue's oldest entry has waited {} (more than {}): {what}",
                    words(age),
                    words(limit)
                ),
            );
        }
    }
    f.summary = if parts.is_empty() {
        "every queue is empty".into()
    } else {
        format!("queues: {}", parts.join(", "))
    };
    for s in subscribers {
        f.summary += &format!("; {} behind by {} change(s)", s.name, s.pending);
    }
    f
}

/// The space one store area (a tablespace, or the embedded store's file) uses now, and how
/// fast it grows.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceUse {
    pub name: String,
    /// Bytes used, by time (the Statistics process's samples), oldest first.
    pub samples: Vec<(DateTime<Utc>, f64)>,
    /// Bytes still free where it grows, when known.
    pub free: Option<f64>,
}

/// Growth in bytes per day by least squares over the samples; `None` with fewer than two
/// samples or less than an hour between the first and the last.
pub fn growth_per_day(samples: &[(DateTime<Utc>, f64)]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = samples
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(t, v)| (t.timestamp() as f64 / 86_400.0, *v))
        .collect();
    let (first, last) = (pts.first()?, pts.last()?);
    if pts.len() < 2 || (last.0 - first.0) < 1.0 / 24.0 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Database space: for each area, its size, its growth and the days until it is full.
pub fn space(areas: &[SpaceUse], t: &Thresholds) -> Finding {
    let mut f = Finding::new("space");
    let mut parts = Vec::new();
    for a in areas {
        let Some(&(_, used)) = a.samples.last() else {
            continue;
        };
        let mut part = format!("{} {}", a.name, format_value(used, Unit::Bytes));
        let growth = growth_per_day(&a.samples);
        if let Some(g) = growth {
            part += &format!(
                ", {}{}/day",
                if g < 0.0 { "-" } else { "+" },
                format_value(g.abs(), Unit::Bytes)
            );
        }
        if let Some(free) = a.free {
            part += &format!(", {} free", format_value(free, Unit::Bytes));
            if let Some(g) = growth.filter(|g| *g > 0.0) {
                let days = free / g;
                part += &format!(" (full in about {days:.0} days)");
                if days < t.space_warning_days {
                    let s = if days < 7.0 {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    f.raise(
                        s,
                        format!(
                            "{} grows {}/day and has {} free: full in about {days:.1} days. \
                             Add space (a data file, a larger disk) or have the Collector keep \
                             less (its *_kept_days parameters)",
                            a.name,
                            format_value(g, Unit::Bytes),
                            format_value(free, Unit::Bytes)
                        ),
                    );
                }
            }
        }
        parts.push(part);
    }
    if parts.is_empty() {
        f.severity = Severity::Info;
        f.summary = "no space samples yet: the Statistics process records them".into();
        f.details.push(
            "start the Statistics process (`startup process server=statistics instance=1;`)".into(),
        );
    } else {
        f.summary = parts.join("; ");
    }
    f
}

/// What the configuration test reads.
#[derive(Debug, Clone)]
pub struct Configuration<'a> {
    pub processes: &'a [Process],
    /// When the stored TLS certificate expires (`None`: there is none).
    pub certificate_expires: Option<DateTime<Utc>>,
    /// Where reports go, when an account is set for it.
    pub report_to: Option<&'a str>,
}

/// Configuration problems: processes that should run and do not, the Statistics process the
/// Monitor needs, the TLS certificate, the report account.
pub fn configuration(cfg: &Configuration<'_>, now: DateTime<Utc>, t: &Thresholds) -> Finding {
    let mut f = Finding::new("configuration");
    let mut down = Vec::new();
    for p in cfg.processes {
        let name = format!("{}{}", p.type_name, p.instance);
        if p.desired_state.eq_ignore_ascii_case("RUNNING")
            && !p.actual_state.eq_ignore_ascii_case("RUNNING")
        {
            let why = p
                .last_exit
                .as_deref()
                .filter(|w| !w.is_empty())
                .unwrap_or("no exit recorded");
            down.push(name.clone());
            f.raise(
                Severity::Warning,
                format!(
                    "{name} should run but is {} (last exit: {why}; restarts: {}): see its log",
                    p.actual_state.to_ascii_lowercase(),
                    p.restarts
                ),
            );
        }
    }
    let statistics = cfg
        .processes
        .iter()
        .any(|p| p.type_name == "statistics" && p.desired_state.eq_ignore_ascii_case("RUNNING"));
    if !statistics {
        f.raise(
            Severity::Warning,
            "no Statistics process is meant to run on this node: the space and flow charts \
             need its samples (`startup process server=statistics instance=1;`)"
                .into(),
        );
    }
    let cert = match cfg.certificate_expires {
        None => {
            f.raise(
                Severity::Warning,
                "no TLS certificate is stored: STARTTLS and the TLS ports are off".into(),
            );
            "no TLS certificate".to_string()
        }
        Some(at) if at <= now => {
            f.raise(
                Severity::Error,
                format!(
                    "the TLS certificate expired on {}: clients refuse TLS",
                    at.format("%Y-%m-%d")
                ),
            );
            "TLS certificate expired".to_string()
        }
        Some(at) => {
            let days = (at - now).num_days();
            if days < t.cert_warning_days {
                f.raise(
                    Severity::Warning,
                    format!(
                        "the TLS certificate expires in {days} days ({}): store a new one",
                        at.format("%Y-%m-%d")
                    ),
                );
            }
            format!("TLS certificate valid {days} more days")
        }
    };
    if cfg.report_to.is_none() {
        f.raise(
            Severity::Warning,
            "no account receives the Monitor's reports (setting orapost_address, or the \
             Monitor's report_to parameter)"
                .into(),
        );
    }
    let running = cfg
        .processes
        .iter()
        .filter(|p| p.actual_state.eq_ignore_ascii_case("RUNNING"))
        .count();
    f.summary = format!(
        "{running} of {} processes running{}; {cert}",
        cfg.processes.len(),
        if down.is_empty() {
            String::new()
        } else {
            format!(" ({} not)", down.join(", "))
        }
    );
    f
}

/// Missing objects and references: the problems `verify store;` finds, counted by kind.
pub fn references(problems: &[(String, String)], checked: &str) -> Finding {
    let mut f = Finding::new("references");
    if problems.is_empty() {
        f.summary = format!("no missing object or reference; checked {checked}");
        return f;
    }
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for (kind, _) in problems {
        match kinds.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind, 1)),
        }
    }
    f.severity = Severity::Error;
    f.summary = format!(
        "{} problem(s): {}; `iofcmgr` `verify store;` lists them",
        problems.len(),
        kinds
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    f.details = problems.iter().take(20).map(|(_, d)| d.clone()).collect();
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed "now", so that ages are exact.
    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn queue(name: &str, n: i64, mins: i64) -> QueueAge {
        QueueAge {
            queue: name.into(),
            entries: n,
            oldest: Some(now() - Duration::minutes(mins)),
        }
    }

    #[test]
    fn flow_warns_on_old_entries_by_queue_and_on_dead_letters() {
        let t = Thresholds::default();
        let now = now();
        let f = flow(
            &[queue("SUBMISSION", 3, 1), queue("REMOTE", 1, 60)],
            &[],
            now,
            &t,
        );
        assert_eq!(f.severity, Severity::Ok, "{f:?}");
        assert!(
            f.summary.contains("submission 3 (oldest 60 s)"),
            "{}",
            f.summary
        );
        let f = flow(&[queue("SUBMISSION", 3, 20)], &[], now, &t);
        assert_eq!(f.severity, Severity::Warning);
        let f = flow(&[queue("SUBMISSION", 3, 61)], &[], now, &t);
        assert_eq!(f.severity, Severity::Error);
        let f = flow(&[queue("REMOTE", 3, 200)], &[], now, &t);
        assert_eq!(f.severity, Severity::Ok, "remote hosts get 4 hours");
        let f = flow(&[queue("REMOTE", 3, 300)], &[], now, &t);
        assert_eq!(f.severity, Severity::Warning);
        let f = flow(&[queue("DEAD", 2, 1)], &[], now, &t);
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.details[0].contains("2 message(s) in the Dead Message queue"));
        assert_eq!(flow(&[], &[], now, &t).summary, "every queue is empty");
        let lag = |n, mins| SubscriberLag {
            name: "ldap:n1:ioodssync1".into(),
            pending: n,
            oldest: Some(now - Duration::minutes(mins)),
        };
        let f = flow(&[], &[lag(0, 0)], now, &t);
        assert_eq!(f.severity, Severity::Ok);
        assert!(
            f.summary
                .ends_with("ldap:n1:ioodssync1 behind by 0 change(s)"),
            "{}",
            f.summary
        );
        assert_eq!(
            flow(&[], &[lag(5, 2)], now, &t).severity,
            Severity::Ok,
            "a few minutes late"
        );
        let f = flow(&[], &[lag(5, 20)], now, &t);
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.details[0].starts_with("5 directory change(s) wait for subscriber"),
            "{f:?}"
        );
        assert_eq!(flow(&[], &[lag(5, 90)], now, &t).severity, Severity::Error);
    }

    #[test]
    fn growth_is_a_least_squares_slope_per_day() {
        let t0 = Utc::now() - Duration::days(2);
        let s: Vec<_> = (0..49)
            .map(|h| (t0 + Duration::hours(h), 1000.0 + 50.0 * h as f64))
            .collect();
        let g = growth_per_day(&s).unwrap();
        assert!((g - 1200.0).abs() < 1e-6, "{g}");
        assert_eq!(growth_per_day(&s[..1]), None);
        assert_eq!(
            growth_per_day(&[(t0, 1.0), (t0 + Duration::minutes(5), 2.0)]),
            None
        );
        assert_eq!(growth_per_day(&[]), None);
    }

    #[test]
    fn space_warns_when_the_store_fills_within_the_limit() {
        let t = Thresholds::default();
        let t0 = Utc::now() - Duration::days(1);
        let grow = |per_day: f64| -> Vec<(DateTime<Utc>, f64)> {
            (0..=24)
                .map(|h| (t0 + Duration::hours(h), 1e6 + per_day * h as f64 / 24.0))
                .collect()
        };
        let area = |per_day, free| SpaceUse {
            name: "store".into(),
            samples: grow(per_day),
            free: Some(free),
        };
        assert_eq!(space(&[area(1e6, 1e9)], &t).severity, Severity::Ok);
        assert_eq!(space(&[area(1e6, 2e7)], &t).severity, Severity::Warning);
        let e = space(&[area(1e6, 5e6)], &t);
        assert_eq!(e.severity, Severity::Error);
        assert!(e.details[0].contains("full in about 5.0 days"), "{e:?}");
        assert_eq!(
            space(&[area(-1e6, 10.0)], &t).severity,
            Severity::Ok,
            "shrinking"
        );
        assert_eq!(space(&[], &t).severity, Severity::Info);
    }

    fn process(name: &str, desired: &str, actual: &str) -> Process {
        Process {
            node_id: 1,
            type_name: name.into(),
            instance: 1,
            desired_state: desired.into(),
            actual_state: actual.into(),
            pid: None,
            host: None,
            started_at: None,
            restarts: 2,
            last_exit: Some("killed by signal 9 (SIGKILL)".into()),
            last_exit_at: None,
            refresh_seq: 0,
            registered_at: None,
            heartbeat_at: None,
        }
    }

    #[test]
    fn configuration_finds_stopped_processes_certificates_and_the_report_account() {
        let t = Thresholds::default();
        let now = Utc::now();
        let ps = [
            process("postman", "RUNNING", "RUNNING"),
            process("statistics", "RUNNING", "RUNNING"),
        ];
        let ok = Configuration {
            processes: &ps,
            certificate_expires: Some(now + Duration::days(300)),
            report_to: Some("orapost@acme.com"),
        };
        let f = configuration(&ok, now, &t);
        assert_eq!(f.severity, Severity::Ok, "{f:?}");
        assert!(
            f.summary.starts_with("2 of 2 processes running"),
            "{}",
            f.summary
        );
        let ps2 = [
            process("postman", "RUNNING", "RESTARTING"),
            process("statistics", "RUNNING", "RUNNING"),
        ];
        let f = configuration(
            &Configuration {
                processes: &ps2,
                ..ok.clone()
            },
            now,
            &t,
        );
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.details[0].contains("postman1 should run but is restarting"),
            "{f:?}"
        );
        let soon = Configuration {
            certificate_expires: Some(now + Duration::days(10)),
            ..ok.clone()
        };
        assert_eq!(configuration(&soon, now, &t).severity, Severity::Warning);
        let gone = Configuration {
            certificate_expires: Some(now - Duration::days(1)),
            ..ok.clone()
        };
        assert_eq!(configuration(&gone, now, &t).severity, Severity::Error);
        let nobody = Configuration {
            report_to: None,
            ..ok.clone()
        };
        assert_eq!(configuration(&nobody, now, &t).severity, Severity::Warning);
        let no_stats = [process("postman", "RUNNING", "RUNNING")];
        let f = configuration(
            &Configuration {
                processes: &no_stats,
                ..ok
            },
            now,
            &t,
        );
        assert_eq!(f.severity, Severity::Warning);
    }

    #[test]
    fn references_count_the_problems_by_kind() {
        let f = references(&[], "3 accounts");
        assert_eq!(f.severity, Severity::Ok);
        let p = vec![
            ("alias_target".to_string(), "alias a -> missing".to_string()),
            ("quota".to_string(), "q".to_string()),
            ("alias_target".to_string(), "alias b -> missing".to_string()),
        ];
        let f = references(&p, "3 accounts");
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.summary
                .starts_with("3 problem(s): alias_target 2, quota 1"),
            "{}",
            f.summary
        );
        assert_eq!(f.details.len(), 3);
    }
}
