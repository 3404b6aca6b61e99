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
