//! What the Monitor reads (queue ages, the Statistics process's samples) and the reports it
//! writes (`es_monitor_report`), which `show monitor;` reads back.

use chrono::{DateTime, Utc};

use super::{q, Conn, StoreError};
use crate::binds;

/// The longest summary and details a report row keeps (characters).
pub const MAX_SUMMARY: usize = 1000;
pub const MAX_DETAILS: usize = 3000;

/// One stored report: the result of one test in one round.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub test: String,
    pub severity: String,
    pub summary: String,
    pub details: String,
    pub at: DateTime<Utc>,
}

/// The entries of one queue of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAge {
    pub queue: String,
    pub entries: i64,
    /// When the oldest entry was queued.
    pub oldest: Option<DateTime<Utc>>,
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

pub fn insert_report(c: &mut Conn, node_id: i64, r: &Report) -> Result<(), StoreError> {
    c.execute(
        &q::MONITOR_REPORT_INSERT,
        &binds![
            "node_id" => node_id,
            "test_name" => r.test.as_str(),
            "severity" => r.severity.as_str(),
            "summary" => cut(&r.summary, MAX_SUMMARY),
            "details" => cut(&r.details, MAX_DETAILS),
            "created_at" => r.at,
        ],
    )?;
    Ok(())
}

fn report(r: &super::Row) -> Result<Report, StoreError> {
    Ok(Report {
        test: r.str(0)?,
        severity: r.str(1)?,
        summary: r.str(2)?,
        details: r.str(3)?,
        at: r
            .opt_time(4)?
            .ok_or_else(|| StoreError::Decode("a monitor report without a time".into()))?,
    })
}

/// The newest report of each test of a node, by test name.
pub fn latest(c: &mut Conn, node_id: i64) -> Result<Vec<Report>, StoreError> {
    c.query(&q::MONITOR_REPORT_LATEST, &binds!["node_id" => node_id])?
        .iter()
        .map(report)
        .collect()
}

/// The newest `max` reports of one test of a node, newest first.
pub fn history(
    c: &mut Conn,
    node_id: i64,
    test: &str,
    max: i64,
) -> Result<Vec<Report>, StoreError> {
    c.query(
        &q::MONITOR_REPORT_HISTORY,
        &binds!["node_id" => node_id, "test_name" => test, "max_rows" => max],
    )?
    .iter()
    .map(report)
    .collect()
}

/// The queues of a node that have entries.
pub fn queue_ages(c: &mut Conn, node_id: i64) -> Result<Vec<QueueAge>, StoreError> {
    c.query(&q::MONITOR_QUEUE_AGES, &binds!["node_id" => node_id])?
        .iter()
        .map(|r| {
            Ok(QueueAge {
                queue: r.str(0)?,
                entries: r.i64(1)?,
                oldest: r.opt_time(2)?,
            })
        })
        .collect()
}

/// The samples of a node since `since` whose metric starts with `prefix`, oldest first:
/// `(metric, time, value)`.
pub fn samples(
    c: &mut Conn,
    node_id: i64,
    prefix: &str,
    since: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>, f64)>, StoreError> {
    let like = format!("{}%", prefix.replace(['%', '_'], ""));
    c.query(
        &q::MONITOR_SAMPLES,
        &binds!["node_id" => node_id, "since" => since, "metric_prefix" => like],
    )?
    .iter()
    .map(|r| {
        Ok((
            r.str(0)?,
            r.opt_time(1)?
                .ok_or_else(|| StoreError::Decode("a sample without a time".into()))?,
            r.opt_f64(2)?.unwrap_or(0.0),
        ))
    })
    .collect()
}

/// Free bytes per area: per tablespace on Oracle (free extents of the tablespaces the schema
/// may use), the free pages inside the file on the embedded store (the file system's free
/// space is the caller's to add).
pub fn free_space(c: &mut Conn) -> Result<Vec<(String, i64)>, StoreError> {
    c.query(&q::MONITOR_FREE_SPACE, &[])?
        .iter()
        .map(|r| Ok((r.str(0)?, r.opt_i64(1)?.unwrap_or(0))))
        .collect()
}

/// How far behind one reader of the directory change log is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberLag {
    pub name: String,
    /// Changes it has not acknowledged.
    pub pending: i64,
    /// When the oldest of them was made.
    pub oldest: Option<DateTime<Utc>>,
}

/// Every subscriber of the directory change log and what it has not acknowledged yet.
pub fn subscriber_lag(c: &mut Conn) -> Result<Vec<SubscriberLag>, StoreError> {
    c.query(&q::MONITOR_SUBSCRIBER_LAG, &[])?
        .iter()
        .map(|r| {
            Ok(SubscriberLag {
                name: r.str(0)?,
                pending: r.i64(1)?,
                oldest: r.opt_time(2)?,
            })
        })
        .collect()
}
