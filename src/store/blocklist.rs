//! Sender and domain block lists (the seed's anti-spam support).

use chrono::{DateTime, Utc};

use super::{q, Conn, StoreError};
use crate::binds;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// `SENDER` or `DOMAIN`.
    pub kind: String,
    /// A lower-case address (SENDER) or domain name (DOMAIN).
    pub pattern: String,
    pub reason: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

pub fn insert(
    c: &mut Conn,
    kind: &str,
    pattern: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::BLOCK_INSERT,
        &binds!["block_kind" => kind, "pattern_key" => pattern, "reason" => reason, "created_at" => now],
    )?;
    Ok(())
}

pub fn delete(c: &mut Conn, kind: &str, pattern: &str) -> Result<u64, StoreError> {
    c.execute(
        &q::BLOCK_DELETE,
        &binds!["block_kind" => kind, "pattern_key" => pattern],
    )
}

pub fn list(c: &mut Conn, kind: &str) -> Result<Vec<Block>, StoreError> {
    c.query(&q::BLOCK_LIST, &binds!["block_kind" => kind])?
        .iter()
        .map(|r| {
            Ok(Block {
                kind: r.str(0)?,
                pattern: r.str(1)?,
                reason: r.opt_str(2)?,
                created_at: r.opt_time(3)?,
            })
        })
        .collect()
}
