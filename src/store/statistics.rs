//! The figures the Statistics process samples, and the samples it writes.

use chrono::{DateTime, Utc};

use super::{q, Conn, StoreError};
use crate::binds;

/// Queue entries of a node per queue name (queues with no entry are absent).
pub fn queue_lengths(c: &mut Conn, node_id: i64) -> Result<Vec<(String, i64)>, StoreError> {
    c.query(&q::STAT_QUEUE_LENGTHS, &binds!["node_id" => node_id])?
        .iter()
        .map(|r| Ok((r.str(0)?, r.i64(1)?)))
        .collect()
}

/// Stored message contents: (count, total bytes).
pub fn message_totals(c: &mut Conn) -> Result<(i64, i64), StoreError> {
    Ok(match c.query_opt(&q::STAT_MESSAGE_TOTALS, &[])? {
        Some(r) => (r.opt_i64(0)?.unwrap_or(0), r.opt_i64(1)?.unwrap_or(0)),
        None => (0, 0),
    })
}

fn count(c: &mut Conn, stmt: &super::Stmt, binds: &super::Binds) -> Result<i64, StoreError> {
    Ok(match c.query_opt(stmt, binds)? {
        Some(r) => r.opt_i64(0)?.unwrap_or(0),
        None => 0,
    })
}

/// Folder pointers (messages in folders).
pub fn pointer_count(c: &mut Conn) -> Result<i64, StoreError> {
    count(c, &q::STAT_POINTER_COUNT, &[])
}

/// Accounts homed on the node.
pub fn account_count(c: &mut Conn, node_id: i64) -> Result<i64, StoreError> {
    count(c, &q::STAT_ACCOUNT_COUNT, &binds!["node_id" => node_id])
}

pub fn folder_count(c: &mut Conn) -> Result<i64, StoreError> {
    count(c, &q::STAT_FOLDER_COUNT, &[])
}

/// Space used by the store: per tablespace on Oracle (the schema's segments), one `store`
/// entry (the database file's pages) on the embedded store.
pub fn space(c: &mut Conn) -> Result<Vec<(String, i64)>, StoreError> {
    c.query(&q::STAT_SPACE, &[])?
        .iter()
        .map(|r| Ok((r.str(0)?, r.opt_i64(1)?.unwrap_or(0))))
        .collect()
}

pub fn insert_sample(
    c: &mut Conn,
    node_id: i64,
    metric: &str,
    value: f64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::STAT_SAMPLE_INSERT,
        &binds!["node_id" => node_id, "metric" => metric, "metric_value" => value, "sampled_at" => at],
    )?;
    Ok(())
}
