//! What the protocol servers record for `probe;`: their sessions (`es_session`) and the load
//! of each instance (sessions, connection pool use) on its `es_process` row.

use chrono::{DateTime, Utc};

use super::{q, Conn, StoreError};
use crate::binds;

/// Which instance.
#[derive(Debug, Clone, Copy)]
pub struct InstanceKey<'a> {
    pub node_id: i64,
    pub type_name: &'a str,
    pub instance: i64,
}

/// One client session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub type_name: String,
    pub instance: i64,
    pub session_id: String,
    pub protocol: String,
    pub remote_addr: Option<String>,
    pub login: Option<String>,
    pub state: String,
    pub started_at: Option<DateTime<Utc>>,
    pub last_active_at: Option<DateTime<Utc>>,
}

/// What a session looks like now.
#[derive(Debug, Clone)]
pub struct SessionState<'a> {
    pub session_id: &'a str,
    pub protocol: &'a str,
    pub remote_addr: &'a str,
    pub login: Option<&'a str>,
    pub account_id: Option<i64>,
    pub state: &'a str,
    pub started_at: DateTime<Utc>,
}

pub fn insert_session(
    c: &mut Conn,
    k: &InstanceKey<'_>,
    s: &SessionState<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::SPS_SESSION_INSERT,
        &binds![
            "session_id" => s.session_id, "node_id" => k.node_id, "type_name" => k.type_name,
            "instance_no" => k.instance, "protocol" => s.protocol, "remote_addr" => s.remote_addr,
            "login_name" => s.login, "account_id" => s.account_id, "session_state" => s.state,
            "started_at" => s.started_at, "last_active_at" => now,
        ],
    )?;
    Ok(())
}

/// Updates a session; false when it has no row (the caller then inserts it).
pub fn update_session(
    c: &mut Conn,
    s: &SessionState<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        &q::SPS_SESSION_UPDATE,
        &binds![
            "login_name" => s.login, "account_id" => s.account_id, "session_state" => s.state,
            "last_active_at" => now, "session_id" => s.session_id,
        ],
    )? == 1)
}

pub fn delete_session(c: &mut Conn, session_id: &str) -> Result<(), StoreError> {
    c.execute(&q::SPS_SESSION_DELETE, &binds!["session_id" => session_id])?;
    Ok(())
}

/// Forgets every session of an instance (at its start: what a killed process left).
pub fn clear_sessions(c: &mut Conn, k: &InstanceKey<'_>) -> Result<u64, StoreError> {
    c.execute(
        &q::SPS_SESSION_CLEAR,
        &binds!["node_id" => k.node_id, "type_name" => k.type_name, "instance_no" => k.instance],
    )
}

/// Marks every session of an instance as alive (so that the Collector keeps them).
pub fn touch_sessions(
    c: &mut Conn,
    k: &InstanceKey<'_>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    c.execute(
        &q::SPS_SESSION_TOUCH,
        &binds![
            "last_active_at" => now, "node_id" => k.node_id, "type_name" => k.type_name,
            "instance_no" => k.instance,
        ],
    )
}

pub fn sessions(c: &mut Conn, node_id: i64) -> Result<Vec<SessionRow>, StoreError> {
    c.query(&q::SPS_SESSION_LIST, &binds!["node_id" => node_id])?
        .iter()
        .map(|r| {
            Ok(SessionRow {
                type_name: r.str(0)?,
                instance: r.i64(1)?,
                session_id: r.str(2)?,
                protocol: r.str(3)?,
                remote_addr: r.opt_str(4)?,
                login: r.opt_str(5)?,
                state: r.str(6)?,
                started_at: r.opt_time(7)?,
                last_active_at: r.opt_time(8)?,
            })
        })
        .collect()
}

/// An instance's load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    pub sessions: i64,
    pub pool_size: i64,
    pub in_use: i64,
    pub idle: i64,
    pub waiting: i64,
}

pub fn put_load(
    c: &mut Conn,
    k: &InstanceKey<'_>,
    l: &Load,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::SPS_LOAD_PUT,
        &binds![
            "session_count" => l.sessions, "pool_size" => l.pool_size, "pool_in_use" => l.in_use,
            "pool_idle" => l.idle, "pool_waiting" => l.waiting, "load_at" => now,
            "node_id" => k.node_id, "type_name" => k.type_name, "instance_no" => k.instance,
        ],
    )?;
    Ok(())
}

/// A protocol server instance as `probe;` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRow {
    pub type_name: String,
    pub instance: i64,
    pub state: String,
    pub pid: Option<i64>,
    pub host: Option<String>,
    pub load: Option<Load>,
    pub load_at: Option<DateTime<Utc>>,
}

pub fn instances(c: &mut Conn, node_id: i64) -> Result<Vec<InstanceRow>, StoreError> {
    c.query(&q::SPS_LOAD_LIST, &binds!["node_id" => node_id])?
        .iter()
        .map(|r| {
            let load = match r.opt_i64(5)? {
                Some(sessions) => Some(Load {
                    sessions,
                    pool_size: r.opt_i64(6)?.unwrap_or(0),
                    in_use: r.opt_i64(7)?.unwrap_or(0),
                    idle: r.opt_i64(8)?.unwrap_or(0),
                    waiting: r.opt_i64(9)?.unwrap_or(0),
                }),
                None => None,
            };
            Ok(InstanceRow {
                type_name: r.str(0)?,
                instance: r.i64(1)?,
                state: r.str(2)?,
                pid: r.opt_i64(3)?,
                host: r.opt_str(4)?,
                load,
                load_at: r.opt_time(10)?,
            })
        })
        .collect()
}
