//! Registered server processes and their parameters: a default per process type, and per
//! instance a value of its own once one is set (it then stops following the default).

pub mod control;
pub mod logging;
pub mod runtime;
pub mod schedule;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::store::processes::{self as repo, ParamDefault};
use crate::store::{Conn, StoreError};

/// The kinds of work a Collector instance can be given in its `work` parameter.
pub const COLLECTOR_WORK: &[&str] = &[
    "content",
    "queue",
    "billing",
    "changelog",
    "tombstones",
    "mailchanges",
    "sessions",
    "authfailures",
    "statistics",
    "autoreplies",
    "forwards",
    "requests",
];

/// The process types this build of esmail can run. `esmail init` registers one instance of
/// each; `esmail upgrade` registers the ones a newer build adds.
pub const PROVIDED: &[&str] = &[
    "guardian",
    "collector",
    "statistics",
    "monitor",
    "postman",
    "smtpgw",
    "iolistener",
    "pop3srv",
    "imap4srv",
    "ioodssync",
    "odsiosync",
];

#[derive(Debug, Error)]
pub enum ProcessError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T> = std::result::Result<T, ProcessError>;

/// Which instance a parameter statement names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    Default,
    Number(i64),
}

impl Instance {
    pub fn parse(v: &str) -> Result<Instance> {
        if v.eq_ignore_ascii_case("default") {
            return Ok(Instance::Default);
        }
        match v.trim().parse::<i64>() {
            Ok(n) if (1..=999).contains(&n) => Ok(Instance::Number(n)),
            _ => Err(ProcessError::Invalid(format!(
                "instance={v:?}: expected a number from 1 to 999 or default"
            ))),
        }
    }
}

/// The type named by `server=`, checked against the store's process types.
pub fn process_type(c: &mut Conn, name: &str) -> Result<repo::ProcessType> {
    let n = name.trim().to_ascii_lowercase();
    let types = repo::process_types(c)?;
    types.iter().find(|t| t.name == n).cloned().ok_or_else(|| {
        ProcessError::NotFound(format!(
            "server={name}: no such process type (known: {})",
            types
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Registers an instance (without starting it).
pub fn register(
    c: &mut Conn,
    node_id: i64,
    type_name: &str,
    instance: i64,
    now: DateTime<Utc>,
) -> Result<String> {
    let t = process_type(c, type_name)?;
    if !PROVIDED.contains(&t.name.as_str()) {
        return Err(ProcessError::Invalid(format!(
            "{} is not provided by this build of esmail (it provides: {})",
            t.name,
            if PROVIDED.is_empty() {
                "none yet".to_string()
            } else {
                PROVIDED.join(", ")
            }
        )));
    }
    if instance < 1 || instance > t.max_instances {
        return Err(ProcessError::Invalid(format!(
            "{}: instance must be 1 to {}",
            t.name, t.max_instances
        )));
    }
    if !repo::processes(c, node_id, Some(&t.name), instance)?.is_empty() {
        return Err(ProcessError::Conflict(format!(
            "{} instance {instance} is already registered",
            t.name
        )));
    }
    repo::insert_process(c, node_id, &t.name, instance, now)?;
    Ok(format!("registered {} instance {instance}", t.name))
}

/// Checks a value against a parameter's kind and returns it as stored.
pub fn check_value(p: &ParamDefault, value: &str) -> Result<Option<String>> {
    let bad = |what: &str| {
        Err(ProcessError::Invalid(format!(
            "parameter {} of {}: {value:?} is not {what}",
            p.name, p.type_name
        )))
    };
    let v = value.trim();
    Ok(Some(match p.kind.as_str() {
        "INTEGER" => match v.parse::<i64>() {
            Ok(n) if n >= 0 => n.to_string(),
            _ => return bad("a whole number"),
        },
        "BOOLEAN" => match v.to_ascii_lowercase().as_str() {
            "1" | "yes" | "true" | "on" => "1".into(),
            "0" | "no" | "false" | "off" => "0".into(),
            _ => return bad("0 or 1"),
        },
        "LEVEL" => match v.to_ascii_lowercase().as_str() {
            l @ ("error" | "warn" | "info" | "debug" | "trace") => l.to_string(),
            _ => return bad("one of error, warn, info, debug, trace"),
        },
        "ENABLED" => match v.to_ascii_lowercase().as_str() {
            "enabled" => "ENABLED".into(),
            "disabled" => "DISABLED".into(),
            _ => return bad("enabled or disabled"),
        },
        _ => {
            if v.is_empty() {
                return Ok(None);
            }
            if p.type_name == "collector" && p.name == "work" {
                for w in v.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                    if !COLLECTOR_WORK.contains(&w.to_ascii_lowercase().as_str()) {
                        return Err(ProcessError::Invalid(format!(
                            "parameter work of collector: {w:?} is not a kind of work (known: {})",
                            COLLECTOR_WORK.join(", ")
                        )));
                    }
                }
            }
            if p.name == "schedule" {
                schedule::Schedule::parse(v).map_err(|e| {
                    ProcessError::Invalid(format!("parameter schedule of {}: {e}", p.type_name))
                })?;
            }
            if v.len() > 4000 {
                return bad("at most 4000 characters");
            }
            value.to_string()
        }
    }))
}

fn param(c: &mut Conn, type_name: &str, name: &str) -> Result<ParamDefault> {
    let defaults = repo::param_defaults(c, type_name)?;
    defaults
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| {
            ProcessError::NotFound(format!(
                "{type_name} has no parameter {name} (known: {})",
                defaults
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// `register paramvalue`: sets a type's default or an instance's own value.
pub fn set_param(
    c: &mut Conn,
    node_id: i64,
    type_name: &str,
    instance: Instance,
    name: &str,
    value: &str,
) -> Result<String> {
    let t = process_type(c, type_name)?;
    let p = param(c, &t.name, name)?;
    let v = check_value(&p, value)?;
    match instance {
        Instance::Default => {
            repo::set_param_default(c, &t.name, &p.name, v.as_deref())?;
            Ok(format!(
                "default {} of {} set to {}",
                p.name,
                t.name,
                v.unwrap_or_default()
            ))
        }
        Instance::Number(n) => {
            if repo::processes(c, node_id, Some(&t.name), n)?.is_empty() {
                return Err(ProcessError::NotFound(format!(
                    "{} instance {n} is not registered (register process server={} instance={n}; first)",
                    t.name, t.name
                )));
            }
            repo::set_param_value(c, node_id, &t.name, n, &p.name, v.as_deref())?;
            Ok(format!(
                "{} of {} instance {n} set to {}",
                p.name,
                t.name,
                v.unwrap_or_default()
            ))
        }
    }
}

/// One parameter as an instance sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub name: String,
    pub value: Option<String>,
    /// True when the instance has a value of its own.
    pub own: bool,
    pub description: Option<String>,
}

/// The parameters of an instance (or, with `Instance::Default`, the type's defaults).
pub fn effective(
    c: &mut Conn,
    node_id: i64,
    type_name: &str,
    instance: Instance,
) -> Result<Vec<Effective>> {
    let t = process_type(c, type_name)?;
    let defaults = repo::param_defaults(c, &t.name)?;
    let own: BTreeMap<String, Option<String>> = match instance {
        Instance::Default => BTreeMap::new(),
        Instance::Number(n) => {
            if repo::processes(c, node_id, Some(&t.name), n)?.is_empty() {
                return Err(ProcessError::NotFound(format!(
                    "{} instance {n} is not registered",
                    t.name
                )));
            }
            repo::param_values(c, node_id, &t.name, n)?
                .into_iter()
                .collect()
        }
    };
    Ok(defaults
        .into_iter()
        .map(|d| match own.get(&d.name) {
            Some(v) => Effective {
                name: d.name,
                value: v.clone(),
                own: true,
                description: d.description,
            },
            None => Effective {
                name: d.name,
                value: d.value,
                own: false,
                description: d.description,
            },
        })
        .collect())
}

/// Registers instance 1 of every provided type that has no instance yet; returns their names.
pub fn register_provided(c: &mut Conn, node_id: i64, now: DateTime<Utc>) -> Result<Vec<String>> {
    let mut added = Vec::new();
    for t in PROVIDED {
        if repo::processes(c, node_id, Some(t), 0)?.is_empty() {
            repo::insert_process(c, node_id, t, 1, now)?;
            added.push(format!("{t}1"));
        }
    }
    Ok(added)
}
