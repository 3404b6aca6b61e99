//! Readers of the directory change log (`es_dir_change`): each subscriber (`es_dir_subscriber`:
//! an LDAP directory esmail pushes to, later the other nodes) reads the changes after the last
//! one it acknowledged, in sequence order, and acknowledges as it goes. The Collector deletes
//! a change once every subscriber has acknowledged it. And the other way: what an ODSIOSYNC
//! reader found in LDAP at its last read (`es_ldap_seen`).

use chrono::{DateTime, Utc};

use super::{q, Conn, StoreError};
use crate::binds;

/// A subscriber and how far it has read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscriber {
    pub id: i64,
    pub acked_seq: i64,
}

/// One change of the directory, as logged in the transaction that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    /// `CREATE`, `MODIFY` or `DELETE`.
    pub operation: String,
    /// The stored class (`PERSON` ...).
    pub class: String,
    pub object_guid: String,
    /// The object's values before and after, as JSON objects of strings.
    pub before: Option<String>,
    pub after: Option<String>,
}

pub fn subscriber(c: &mut Conn, name: &str) -> Result<Option<Subscriber>, StoreError> {
    c.query_opt(&q::DIR_SUBSCRIBER_GET, &binds!["subscriber_name" => name])?
        .map(|r| {
            Ok(Subscriber {
                id: r.i64(0)?,
                acked_seq: r.i64(1)?,
            })
        })
        .transpose()
}

/// Registers a subscriber that has everything up to `acked_seq`.
pub fn add_subscriber(
    c: &mut Conn,
    kind: &str,
    name: &str,
    node_id: i64,
    acked_seq: i64,
    now: DateTime<Utc>,
) -> Result<Subscriber, StoreError> {
    c.execute(
        &q::DIR_SUBSCRIBER_INSERT,
        &binds![
            "subscriber_kind" => kind, "subscriber_name" => name, "node_id" => node_id,
            "acked_seq" => acked_seq, "acked_at" => now,
        ],
    )?;
    subscriber(c, name)?.ok_or_else(|| StoreError::Decode(format!("subscriber {name} vanished")))
}

/// Records that a subscriber has every change up to `seq` (never moves back).
pub fn ack(c: &mut Conn, id: i64, seq: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    c.execute(
        &q::DIR_SUBSCRIBER_ACK,
        &binds!["subscriber_id" => id, "acked_seq" => seq, "acked_at" => now],
    )?;
    Ok(())
}

/// At most `max` changes after `after`, logged no later than `settled_before` (on Oracle an
/// identity value is taken before its transaction commits: a change logged in the last
/// seconds may still be followed by one with a lower sequence that commits later).
pub fn changes_after(
    c: &mut Conn,
    after: i64,
    settled_before: DateTime<Utc>,
    max: i64,
) -> Result<Vec<Change>, StoreError> {
    c.query(
        &q::DIR_CHANGE_AFTER,
        &binds!["after_seq" => after, "settled_before" => settled_before, "max_rows" => max],
    )?
    .iter()
    .map(|r| {
        Ok(Change {
            seq: r.i64(0)?,
            operation: r.str(1)?,
            class: r.str(2)?,
            object_guid: r.str(3)?,
            before: r.opt_str(4)?,
            after: r.opt_str(5)?,
        })
    })
    .collect()
}

/// The LDAP entries an ODSIOSYNC reader found at its last read: `(dn_key, dn)`.
pub fn ldap_seen(c: &mut Conn, reader: &str) -> Result<Vec<(String, String)>, StoreError> {
    c.query(&q::LDAP_SEEN_LIST, &binds!["reader_name" => reader])?
        .iter()
        .map(|r| Ok((r.str(0)?, r.str(1)?)))
        .collect()
}

pub fn ldap_seen_add(
    c: &mut Conn,
    reader: &str,
    dn_key: &str,
    dn: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::LDAP_SEEN_INSERT,
        &binds!["reader_name" => reader, "dn_key" => dn_key, "dn" => dn, "seen_at" => now],
    )?;
    Ok(())
}

pub fn ldap_seen_remove(c: &mut Conn, reader: &str, dn_key: &str) -> Result<(), StoreError> {
    c.execute(
        &q::LDAP_SEEN_DELETE,
        &binds!["reader_name" => reader, "dn_key" => dn_key],
    )?;
    Ok(())
}
