//! Desired state of the registered processes, as IOFCMGR changes it (`startup`, `shutdown`,
//! `refresh`, `show processes`). The Guardian follows the store within two seconds.

use chrono::Utc;

use super::runtime::STALE_AFTER;
use super::{effective, process_type, Instance, ProcessError};
use crate::store::processes::{self as repo, Key, Process};
use crate::store::{Conn, StoreError};

type Result<T> = std::result::Result<T, ProcessError>;

fn registered(c: &mut Conn, node_id: i64, type_name: &str, instance: i64) -> Result<Process> {
    let t = process_type(c, type_name)?;
    repo::processes(c, node_id, Some(&t.name), instance)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ProcessError::NotFound(format!(
                "{} instance {instance} is not registered (register process server={} instance={instance};)",
                t.name, t.name
            ))
        })
}

/// Is the node's Guardian alive (a fresh heartbeat)?
pub fn guardian_alive(c: &mut Conn, node_id: i64) -> std::result::Result<bool, StoreError> {
    Ok(repo::processes(c, node_id, Some("guardian"), 1)?
        .into_iter()
        .next()
        .map(|g| g.actual_state == "RUNNING" && fresh(&g))
        .unwrap_or(false))
}

fn fresh(p: &Process) -> bool {
    p.heartbeat_at
        .map(|t| (Utc::now() - t).to_std().unwrap_or_default() < STALE_AFTER)
        .unwrap_or(false)
}

fn note(c: &mut Conn, node_id: i64) -> Result<&'static str> {
    Ok(if guardian_alive(c, node_id)? {
        ""
    } else {
        " (no Guardian runs on this node now: `esmail start` starts one)"
    })
}

pub fn startup(c: &mut Conn, node_id: i64, type_name: &str, instance: i64) -> Result<String> {
    let p = registered(c, node_id, type_name, instance)?;
    if p.type_name == "guardian" {
        return Err(ProcessError::Invalid(
            "the Guardian is started with `esmail start` (or `esmail guardian`), not by itself"
                .into(),
        ));
    }
    let name = format!("{}{}", p.type_name, p.instance);
    if p.desired_state == "RUNNING" && p.actual_state == "RUNNING" && fresh(&p) {
        return Ok(format!(
            "{name} is already running (pid {})",
            p.pid.unwrap_or(0)
        ));
    }
    let key = Key {
        node_id,
        type_name: &p.type_name,
        instance,
    };
    repo::set_desired(c, &key, "RUNNING")?;
    Ok(format!("{name}: start requested{}", note(c, node_id)?))
}

pub fn shutdown(c: &mut Conn, node_id: i64, type_name: &str, instance: i64) -> Result<String> {
    let p = registered(c, node_id, type_name, instance)?;
    if p.type_name == "guardian" {
        return Err(ProcessError::Invalid(
            "the Guardian stops on SIGTERM or Ctrl-C, stopping every process of its node".into(),
        ));
    }
    let name = format!("{}{}", p.type_name, p.instance);
    if p.desired_state == "STOPPED" && p.actual_state == "STOPPED" {
        return Ok(format!("{name} is already stopped"));
    }
    let key = Key {
        node_id,
        type_name: &p.type_name,
        instance,
    };
    repo::set_desired(c, &key, "STOPPED")?;
    Ok(format!("{name}: stop requested{}", note(c, node_id)?))
}

/// Every instance whose `defaultStartUp` is enabled is wanted running.
pub fn startup_all(c: &mut Conn, node_id: i64) -> Result<String> {
    let mut started = Vec::new();
    for p in repo::processes(c, node_id, None, 0)? {
        if p.type_name == "guardian" {
            continue;
        }
        let enabled = effective(c, node_id, &p.type_name, Instance::Number(p.instance))?
            .into_iter()
            .find(|x| x.name == "defaultStartUp")
            .and_then(|x| x.value)
            .map(|v| v.eq_ignore_ascii_case("ENABLED"))
            .unwrap_or(true);
        if enabled {
            let key = Key {
                node_id,
                type_name: &p.type_name,
                instance: p.instance,
            };
            repo::set_desired(c, &key, "RUNNING")?;
            started.push(format!("{}{}", p.type_name, p.instance));
        }
    }
    Ok(if started.is_empty() {
        "no instance has defaultStartUp enabled".to_string()
    } else {
        format!("start requested for {}", started.join(", "))
    })
}

pub fn shutdown_all(c: &mut Conn, node_id: i64) -> Result<String> {
    let mut stopped = Vec::new();
    for p in repo::processes(c, node_id, None, 0)? {
        if p.type_name == "guardian" {
            continue;
        }
        let key = Key {
            node_id,
            type_name: &p.type_name,
            instance: p.instance,
        };
        repo::set_desired(c, &key, "STOPPED")?;
        stopped.push(format!("{}{}", p.type_name, p.instance));
    }
    Ok(format!(
        "stop requested for {}",
        if stopped.is_empty() {
            "nothing".into()
        } else {
            stopped.join(", ")
        }
    ))
}

pub fn refresh(c: &mut Conn, node_id: i64, type_name: &str, instance: i64) -> Result<String> {
    let p = registered(c, node_id, type_name, instance)?;
    let key = Key {
        node_id,
        type_name: &p.type_name,
        instance,
    };
    repo::request_refresh(c, &key)?;
    let name = format!("{}{}", p.type_name, p.instance);
    if p.actual_state == "RUNNING" && fresh(&p) {
        Ok(format!(
            "{name}: refresh requested; it rereads its parameters within a second"
        ))
    } else {
        Ok(format!(
            "{name} is not running; it reads its parameters when it starts"
        ))
    }
}

/// `show processes`: one entry per registered instance.
pub fn show(c: &mut Conn, node_id: i64) -> Result<Vec<Vec<(String, String)>>> {
    let mut out = Vec::new();
    for p in repo::processes(c, node_id, None, 0)? {
        let mut state = p.actual_state.to_lowercase();
        if p.actual_state == "RUNNING" && !fresh(&p) {
            state = "stale".into();
        }
        let t = |x: Option<chrono::DateTime<Utc>>| {
            x.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default()
        };
        out.push(vec![
            ("server".into(), p.type_name.clone()),
            ("instance".into(), p.instance.to_string()),
            ("state".into(), state),
            ("desired".into(), p.desired_state.to_lowercase()),
            (
                "pid".into(),
                p.pid.map(|x| x.to_string()).unwrap_or_default(),
            ),
            ("host".into(), p.host.clone().unwrap_or_default()),
            ("since".into(), t(p.started_at)),
            ("restarts".into(), p.restarts.to_string()),
            ("lastexit".into(), p.last_exit.clone().unwrap_or_default()),
            ("lastexitat".into(), t(p.last_exit_at)),
        ]);
    }
    Ok(out)
}
