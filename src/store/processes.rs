//! Registered server processes, their parameters (defaults per type, values per instance).

use chrono::{DateTime, Utc};

use super::{q, Conn, StoreError};
use crate::binds;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessType {
    pub name: String,
    pub description: String,
    pub max_instances: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDefault {
    pub type_name: String,
    pub name: String,
    pub kind: String,
    pub value: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub node_id: i64,
    pub type_name: String,
    pub instance: i64,
    pub desired_state: String,
    pub actual_state: String,
    pub pid: Option<i64>,
    pub host: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub restarts: i64,
    pub last_exit: Option<String>,
    pub last_exit_at: Option<DateTime<Utc>>,
    pub refresh_seq: i64,
    pub registered_at: Option<DateTime<Utc>>,
    pub heartbeat_at: Option<DateTime<Utc>>,
}

pub fn process_types(c: &mut Conn) -> Result<Vec<ProcessType>, StoreError> {
    c.query(&q::PROCESS_TYPE_LIST, &[])?
        .iter()
        .map(|r| {
            Ok(ProcessType {
                name: r.str(0)?,
                description: r.str(1)?,
                max_instances: r.i64(2)?,
            })
        })
        .collect()
}

pub fn param_defaults(c: &mut Conn, type_name: &str) -> Result<Vec<ParamDefault>, StoreError> {
    c.query(&q::PARAM_DEFAULT_LIST, &binds!["type_name" => type_name])?
        .iter()
        .map(|r| {
            Ok(ParamDefault {
                type_name: r.str(0)?,
                name: r.str(1)?,
                kind: r.str(2)?,
                value: r.opt_str(3)?,
                description: r.opt_str(4)?,
            })
        })
        .collect()
}

pub fn set_param_default(
    c: &mut Conn,
    type_name: &str,
    param: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    c.execute(
        &q::PARAM_DEFAULT_UPDATE,
        &binds!["param_value" => value, "type_name" => type_name, "param_name" => param],
    )?;
    Ok(())
}

pub fn insert_process(
    c: &mut Conn,
    node_id: i64,
    type_name: &str,
    instance: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::PROCESS_INSERT,
        &binds!["node_id" => node_id, "type_name" => type_name, "instance_no" => instance, "registered_at" => now],
    )?;
    Ok(())
}

/// The node's registered processes, optionally of one type and instance (0: all instances).
pub fn processes(
    c: &mut Conn,
    node_id: i64,
    type_name: Option<&str>,
    instance: i64,
) -> Result<Vec<Process>, StoreError> {
    c.query(
        &q::PROCESS_LIST,
        &binds!["node_id" => node_id, "type_name" => type_name, "instance_no" => instance],
    )?
    .iter()
    .map(|r| {
        Ok(Process {
            node_id: r.i64(0)?,
            type_name: r.str(1)?,
            instance: r.i64(2)?,
            desired_state: r.str(3)?,
            actual_state: r.str(4)?,
            pid: r.opt_i64(5)?,
            host: r.opt_str(6)?,
            started_at: r.opt_time(7)?,
            restarts: r.i64(8)?,
            last_exit: r.opt_str(9)?,
            last_exit_at: r.opt_time(10)?,
            refresh_seq: r.i64(11)?,
            registered_at: r.opt_time(12)?,
            heartbeat_at: r.opt_time(13)?,
        })
    })
    .collect()
}

pub fn set_param_value(
    c: &mut Conn,
    node_id: i64,
    type_name: &str,
    instance: i64,
    param: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    c.execute(
        &q::PARAM_VALUE_PUT,
        &binds![
            "node_id" => node_id, "type_name" => type_name, "instance_no" => instance,
            "param_name" => param, "param_value" => value,
        ],
    )?;
    Ok(())
}

/// An instance's own values (those that no longer follow the default).
pub fn param_values(
    c: &mut Conn,
    node_id: i64,
    type_name: &str,
    instance: i64,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    c.query(
        &q::PARAM_VALUE_LIST,
        &binds!["node_id" => node_id, "type_name" => type_name, "instance_no" => instance],
    )?
    .iter()
    .map(|r| Ok((r.str(0)?, r.opt_str(1)?)))
    .collect()
}

/// Which registered instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key<'a> {
    pub node_id: i64,
    pub type_name: &'a str,
    pub instance: i64,
}

impl Key<'_> {
    fn binds(&self) -> Vec<(&'static str, super::Value)> {
        binds!["node_id" => self.node_id, "type_name" => self.type_name, "instance_no" => self.instance]
    }
}

fn with(
    k: &Key<'_>,
    mut extra: Vec<(&'static str, super::Value)>,
) -> Vec<(&'static str, super::Value)> {
    extra.extend(k.binds());
    extra
}

/// Sets what the Guardian should make of an instance: RUNNING or STOPPED.
pub fn set_desired(c: &mut Conn, k: &Key<'_>, state: &str) -> Result<u64, StoreError> {
    c.execute(
        &q::PROCESS_SET_DESIRED,
        &with(k, binds!["desired_state" => state]),
    )
}

/// Asks a running instance to reread its parameters.
pub fn request_refresh(c: &mut Conn, k: &Key<'_>) -> Result<u64, StoreError> {
    c.execute(&q::PROCESS_REFRESH, &k.binds())
}

/// Records that an instance runs (or is starting) as `pid` on `host`.
pub fn record_started(
    c: &mut Conn,
    k: &Key<'_>,
    state: &str,
    pid: i64,
    host: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::PROCESS_STARTED,
        &with(
            k,
            binds!["actual_state" => state, "pid" => pid, "host_name" => host, "started_at" => now, "heartbeat_at" => now],
        ),
    )?;
    Ok(())
}

/// The Guardian records a child it has just started, unless the child was quicker and has
/// already recorded itself as RUNNING.
pub fn record_starting(
    c: &mut Conn,
    k: &Key<'_>,
    pid: i64,
    host: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::PROCESS_STARTING,
        &with(
            k,
            binds!["pid" => pid, "host_name" => host, "started_at" => now, "heartbeat_at" => now],
        ),
    )?;
    Ok(())
}

/// The running process says it is alive (only while the record is still its own).
pub fn heartbeat(
    c: &mut Conn,
    k: &Key<'_>,
    pid: i64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    c.execute(
        &q::PROCESS_HEARTBEAT,
        &with(k, binds!["heartbeat_at" => now, "pid" => pid]),
    )
}

pub fn set_actual(c: &mut Conn, k: &Key<'_>, state: &str) -> Result<(), StoreError> {
    c.execute(&q::PROCESS_STATE, &with(k, binds!["actual_state" => state]))?;
    Ok(())
}

/// Records how a process ended; `restarted` counts it as a restart.
pub fn record_exit(
    c: &mut Conn,
    k: &Key<'_>,
    state: &str,
    why: &str,
    restarted: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let why: String = why.chars().take(1000).collect();
    c.execute(
        &q::PROCESS_EXITED,
        &with(
            k,
            binds![
                "actual_state" => state, "restart_increment" => i64::from(restarted),
                "last_exit" => why, "last_exit_at" => now,
            ],
        ),
    )?;
    Ok(())
}

/// What a running process polls: (refresh sequence, desired state, recorded pid).
pub fn runtime(
    c: &mut Conn,
    k: &Key<'_>,
) -> Result<Option<(i64, String, Option<i64>)>, StoreError> {
    c.query_opt(&q::PROCESS_RUNTIME, &k.binds())?
        .map(|r| Ok((r.i64(0)?, r.str(1)?, r.opt_i64(2)?)))
        .transpose()
}
