//! The Guardian: the parent of every other process of its node. It reads the node's
//! registered instances from the store, starts each one that should run (desired state
//! RUNNING and inside its schedule) as a child `esmail <type> --instance N`, restarts a child
//! that dies (with backoff, recording why), stops children at the end of their slice or on
//! request, writes the actual state back to the store, and on SIGTERM or Ctrl-C stops every
//! child gracefully before it exits.

mod child;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::cli::StoreArgs;
use crate::process::runtime::{self, STALE_AFTER};
use crate::process::schedule::Schedule;
use crate::process::{self, logging, Instance, PROVIDED};
use crate::store::processes::{self as repo, Key, Process};
use crate::store::{system, Store, TxMode};

use child::{describe_exit, Child};

/// How often the Guardian reads the desired state from the store.
const POLL: Duration = Duration::from_millis(1000);
/// How often it checks its children.
const TICK: Duration = Duration::from_millis(100);
/// A child that ran this long before dying starts over with the shortest backoff.
const STABLE_AFTER: Duration = Duration::from_secs(30);

type Id = (String, i64);

/// What the Guardian wants of one instance at the latest poll.
#[derive(Debug, Clone)]
struct Want {
    run: bool,
    /// Why it should not run (for the log), when it should not.
    reason: &'static str,
    exec_arguments: Vec<String>,
}

struct Backoff {
    failures: u32,
    next_start: Instant,
}

pub struct Guardian {
    store: Store,
    args: StoreArgs,
    url: String,
    node_id: i64,
    host: String,
    children: HashMap<Id, Child>,
    backoff: HashMap<Id, Backoff>,
    wants: HashMap<Id, Want>,
    shutdown_timeout: Duration,
    backoff_max: Duration,
    refresh_seq: i64,
}

fn e(x: impl std::fmt::Display) -> String {
    x.to_string()
}

/// Runs the Guardian in the foreground until SIGTERM, SIGINT or SIGHUP.
pub fn run(args: &StoreArgs) -> Result<(), String> {
    let stop = runtime::stop_flag()?;
    let (store, cfg) = args.open(false)?;
    let mut c = store.conn().map_err(e)?;
    crate::store::schema::require_current(&mut c).map_err(e)?;
    let node_id = system::local_node_id(&mut c)
        .map_err(e)?
        .ok_or("the store has no node yet: run `esmail init --domain NAME` first")?;
    let node_name = system::nodes(&mut c, node_id)
        .map_err(e)?
        .into_iter()
        .next()
        .map(|n| n.name)
        .unwrap_or_else(|| "node".into());
    let host = runtime::host();
    let me = Key {
        node_id,
        type_name: "guardian",
        instance: 1,
    };
    let rows = repo::processes(&mut c, node_id, Some("guardian"), 1).map_err(e)?;
    let Some(row) = rows.into_iter().next() else {
        return Err(
            "the guardian is not registered on this node (esmail upgrade registers it)".into(),
        );
    };
    if let Some(other) = live_elsewhere(&row, &host) {
        return Err(other);
    }
    let params: HashMap<String, Option<String>> =
        process::effective(&mut c, node_id, "guardian", Instance::Number(1))
            .map_err(e)?
            .into_iter()
            .map(|p| (p.name, p.value))
            .collect();
    let get = |n: &str| params.get(n).cloned().flatten();
    let dir = runtime::log_dir(&cfg, get("logdir").as_deref());
    let level = logging::parse_level(&get("loglevel").unwrap_or_else(|| "info".into()));
    let log_path = logging::install(
        "guardian01",
        &dir,
        &logging::file_name(&node_name, &host, "guardian", 1),
        level,
    )?;
    let num = |n: &str, d: u64| {
        get(n)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(d)
            .max(1)
    };
    let pid = std::process::id() as i64;
    c.transaction(TxMode::Write, |c| {
        repo::set_desired(c, &me, "RUNNING")?;
        repo::record_started(c, &me, "RUNNING", pid, &host, Utc::now())
    })
    .map_err(e)?;
    drop(c);
    log::info!(
        "guardian of node {node_name} started on host {host} (pid {pid}), store {}, log {}",
        cfg.url,
        log_path.display()
    );
    let mut g = Guardian {
        store,
        args: args.clone(),
        url: cfg.url.to_string(),
        node_id,
        host,
        children: HashMap::new(),
        backoff: HashMap::new(),
        wants: HashMap::new(),
        shutdown_timeout: Duration::from_secs(num("shutdown_timeout", 20)),
        backoff_max: Duration::from_secs(num("restart_backoff_max", 60)),
        refresh_seq: row.refresh_seq,
    };
    g.reconcile()?;
    g.startup_all()?;
    let mut last_poll = Instant::now() - POLL;
    let mut last_beat = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if last_poll.elapsed() >= POLL {
            last_poll = Instant::now();
            if let Err(err) = g.poll() {
                log::warn!("cannot read the store: {err}");
            }
        }
        g.reap();
        g.act();
        if last_beat.elapsed() >= runtime::HEARTBEAT {
            last_beat = Instant::now();
            let r = g.store.conn().map_err(e).and_then(|mut c| {
                c.transaction(TxMode::Write, |c| repo::heartbeat(c, &me, pid, Utc::now()))
                    .map_err(e)
            });
            if let Err(err) = r {
                log::warn!("heartbeat: {err}");
            }
        }
        std::thread::sleep(TICK);
    }
    log::info!("stop requested: stopping {} children", g.children.len());
    g.stop_all();
    let r = g.store.conn().map_err(e).and_then(|mut c| {
        c.transaction(TxMode::Write, |c| {
            repo::set_desired(c, &me, "STOPPED")?;
            repo::record_exit(c, &me, "STOPPED", "stopped by signal", false, Utc::now())
        })
        .map_err(e)
    });
    if let Err(err) = r {
        log::warn!("cannot record the Guardian's stop: {err}");
    }
    log::info!("guardian stopped");
    log::logger().flush();
    Ok(())
}

/// What still runs on a node's store, if anything (for `esmail restore`, which must not put
/// another file under running processes): its Guardian (judged as at a Guardian's start), or
/// any other registered process whose record says RUNNING and that is, on this host, a live
/// esmail process of its type, or, on another host, has a fresh heartbeat.
pub fn node_running(c: &mut crate::store::Conn, node_id: i64) -> Result<Option<String>, String> {
    let host = runtime::host();
    let rows = repo::processes(c, node_id, None, 0).map_err(e)?;
    for row in rows.iter().filter(|r| r.type_name == "guardian") {
        if let Some(why) = live_elsewhere(row, &host) {
            return Ok(Some(why));
        }
    }
    for row in rows.iter().filter(|r| r.type_name != "guardian") {
        let Some(pid) = row.pid else { continue };
        if row.actual_state != "RUNNING" {
            continue;
        }
        let live = if row.host.as_deref() == Some(host.as_str()) {
            child::alive(pid) && child::is_esmail(pid, &row.type_name)
        } else {
            row.heartbeat_at
                .map(|t| (Utc::now() - t).to_std().unwrap_or_default() < STALE_AFTER)
                .unwrap_or(false)
        };
        if live {
            return Ok(Some(format!(
                "{}{} still runs for this node (pid {pid} on {})",
                row.type_name,
                row.instance,
                row.host.clone().unwrap_or_default()
            )));
        }
    }
    Ok(None)
}

/// Another Guardian that still runs for this node, if any: on this host, a live esmail
/// process with the recorded pid; on another host, a fresh heartbeat.
fn live_elsewhere(row: &Process, host: &str) -> Option<String> {
    let pid = row.pid?;
    if row.actual_state != "RUNNING" || pid == std::process::id() as i64 {
        return None;
    }
    if row.host.as_deref() == Some(host) {
        let ours = child::alive(pid)
            && (child::is_esmail(pid, "guardian") || child::is_esmail(pid, "start"));
        return ours
            .then(|| format!("a Guardian already runs for this node (pid {pid} on {host})"));
    }
    let fresh = row
        .heartbeat_at
        .map(|t| (Utc::now() - t).to_std().unwrap_or_default() < STALE_AFTER)
        .unwrap_or(false);
    fresh.then(|| {
        format!(
            "a Guardian already runs for this node on host {} (pid {pid})",
            row.host.clone().unwrap_or_default()
        )
    })
}

impl Guardian {
    fn key<'a>(&self, id: &'a Id) -> Key<'a> {
        Key {
            node_id: self.node_id,
            type_name: &id.0,
            instance: id.1,
        }
    }

    fn record(
        &self,
        f: impl FnOnce(&mut crate::store::Conn) -> Result<(), crate::store::StoreError>,
    ) {
        let r = self
            .store
            .conn()
            .map_err(e)
            .and_then(|mut c| c.transaction(TxMode::Write, f).map_err(e));
        if let Err(err) = r {
            log::warn!("cannot record a process state: {err}");
        }
    }

    /// After a crash, or on a store restored from a backup, the recorded pids are stale: stop
    /// what is left of an earlier Guardian's children on this host, and clear the records.
    fn reconcile(&mut self) -> Result<(), String> {
        let mut c = self.store.conn().map_err(e)?;
        let rows = repo::processes(&mut c, self.node_id, None, 0).map_err(e)?;
        drop(c);
        for p in rows.iter().filter(|p| p.type_name != "guardian") {
            if p.actual_state == "STOPPED" && p.pid.is_none() {
                continue;
            }
            let id: Id = (p.type_name.clone(), p.instance);
            let why = match p.pid {
                Some(pid)
                    if p.host.as_deref() == Some(self.host.as_str())
                        && child::alive(pid)
                        && child::is_esmail(pid, &p.type_name) =>
                {
                    log::warn!(
                        "{}{}: pid {pid} is left over from an earlier Guardian; stopping it",
                        p.type_name,
                        p.instance
                    );
                    child::terminate(pid, Duration::from_secs(5));
                    format!(
                        "stopped at Guardian start: left over from an earlier Guardian (pid {pid})"
                    )
                }
                Some(pid) => format!(
                    "stale record at Guardian start (pid {pid} on host {} was not running)",
                    p.host.clone().unwrap_or_default()
                ),
                None => "stale record at Guardian start".to_string(),
            };
            log::info!("{}{}: {why}", p.type_name, p.instance);
            let now = Utc::now();
            self.record(|c| repo::record_exit(c, &self.key(&id), "STOPPED", &why, false, now));
        }
        Ok(())
    }

    /// At start, every instance whose defaultStartUp is enabled is wanted running.
    fn startup_all(&mut self) -> Result<(), String> {
        let mut c = self.store.conn().map_err(e)?;
        let started = c
            .transaction(TxMode::Write, |c| {
                process::control::startup_all(c, self.node_id)
            })
            .map_err(e)?;
        log::info!("startup all: {started}");
        Ok(())
    }

    /// Reads the desired state and parameters of every instance.
    fn poll(&mut self) -> Result<(), String> {
        let mut c = self.store.conn().map_err(e)?;
        let rows = repo::processes(&mut c, self.node_id, None, 0).map_err(e)?;
        let now = chrono::Local::now();
        let mut wants = HashMap::new();
        for p in &rows {
            if p.type_name == "guardian" {
                if p.refresh_seq != self.refresh_seq {
                    self.refresh_seq = p.refresh_seq;
                    let level =
                        process::effective(&mut c, self.node_id, "guardian", Instance::Number(1))
                            .map_err(e)?
                            .into_iter()
                            .find(|x| x.name == "loglevel")
                            .and_then(|x| x.value)
                            .unwrap_or_else(|| "info".into());
                    logging::set_level(logging::parse_level(&level));
                    log::info!(
                        "parameters reread (refresh {}); loglevel {level}",
                        p.refresh_seq
                    );
                }
                continue;
            }
            let id: Id = (p.type_name.clone(), p.instance);
            let params: HashMap<String, Option<String>> = process::effective(
                &mut c,
                self.node_id,
                &p.type_name,
                Instance::Number(p.instance),
            )
            .map_err(e)?
            .into_iter()
            .map(|x| (x.name, x.value))
            .collect();
            let sched = params
                .get("schedule")
                .cloned()
                .flatten()
                .unwrap_or_default();
            let exec_arguments = params
                .get("execArguments")
                .cloned()
                .flatten()
                .map(|a| a.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            let (run, reason) = if p.desired_state != "RUNNING" {
                (false, "shutdown requested")
            } else if !PROVIDED.contains(&p.type_name.as_str()) {
                (false, "not provided by this build")
            } else {
                match Schedule::parse(&sched) {
                    Ok(s) if s.active(&now) => (true, ""),
                    Ok(_) => (false, "outside its schedule"),
                    Err(err) => {
                        log::error!("{}{}: schedule {sched:?}: {err}", p.type_name, p.instance);
                        (false, "its schedule is invalid")
                    }
                }
            };
            wants.insert(
                id,
                Want {
                    run,
                    reason,
                    exec_arguments,
                },
            );
        }
        self.wants = wants;
        Ok(())
    }

    /// Starts what should run and stops what should not.
    fn act(&mut self) {
        let wants: Vec<(Id, Want)> = self
            .wants
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (id, want) in wants {
            let running = self.children.contains_key(&id);
            if want.run && !running {
                if let Some(b) = self.backoff.get(&id) {
                    if Instant::now() < b.next_start {
                        continue;
                    }
                }
                self.spawn(&id, &want);
            } else if !want.run && running {
                if let Some(ch) = self.children.get_mut(&id) {
                    if ch.stop_deadline.is_none() {
                        log::info!("{}{}: stopping ({})", id.0, id.1, want.reason);
                        ch.request_stop(self.shutdown_timeout, want.reason);
                    }
                }
            } else if !want.run {
                self.backoff.remove(&id);
            }
        }
        // an instance no longer registered
        let gone: Vec<Id> = self
            .children
            .keys()
            .filter(|k| !self.wants.contains_key(*k))
            .cloned()
            .collect();
        for id in gone {
            if let Some(ch) = self.children.get_mut(&id) {
                if ch.stop_deadline.is_none() {
                    ch.request_stop(self.shutdown_timeout, "no longer registered");
                }
            }
        }
        for ch in self.children.values_mut() {
            ch.enforce_deadline();
        }
    }

    fn spawn(&mut self, id: &Id, want: &Want) {
        match Child::spawn(&id.0, id.1, &self.args, &self.url, &want.exec_arguments) {
            Ok(ch) => {
                let pid = ch.pid;
                log::info!("{}{}: started, pid {pid}", id.0, id.1);
                let now = Utc::now();
                let host = self.host.clone();
                self.record(|c| repo::record_starting(c, &self.key(id), pid, &host, now));
                self.children.insert(id.clone(), ch);
            }
            Err(err) => {
                log::error!("{}{}: cannot start: {err}", id.0, id.1);
                self.failed(id, &format!("cannot start: {err}"), Duration::ZERO);
            }
        }
    }

    /// A child died unexpectedly (or could not start): restart it later, with backoff.
    fn failed(&mut self, id: &Id, why: &str, ran: Duration) {
        let b = self.backoff.entry(id.clone()).or_insert(Backoff {
            failures: 0,
            next_start: Instant::now(),
        });
        if ran >= STABLE_AFTER {
            b.failures = 0;
        }
        b.failures += 1;
        let delay = Duration::from_secs(1u64 << (b.failures - 1).min(16)).min(self.backoff_max);
        b.next_start = Instant::now() + delay;
        let now = Utc::now();
        log::warn!(
            "{}{}: {why}; restarting in {} s",
            id.0,
            id.1,
            delay.as_secs()
        );
        self.record(|c| repo::record_exit(c, &self.key(id), "RESTARTING", why, true, now));
    }

    /// Collects children that ended.
    fn reap(&mut self) {
        let mut ended = Vec::new();
        for (id, ch) in self.children.iter_mut() {
            match ch.try_wait() {
                Ok(Some(status)) => ended.push((id.clone(), status)),
                Ok(None) => {}
                Err(err) => log::warn!("{}{}: cannot wait: {err}", id.0, id.1),
            }
        }
        for (id, status) in ended {
            let Some(ch) = self.children.remove(&id) else {
                continue;
            };
            let how = describe_exit(&status);
            if let Some(reason) = ch.stop_reason {
                log::info!("{}{}: stopped ({reason}); {how}", id.0, id.1);
                let why = format!("stopped by the Guardian ({reason}); {how}");
                let now = Utc::now();
                self.record(|c| repo::record_exit(c, &self.key(&id), "STOPPED", &why, false, now));
            } else {
                self.failed(&id, &how, ch.started.elapsed());
            }
        }
    }

    /// Stops every child: SIGTERM, then SIGKILL after the shutdown timeout.
    fn stop_all(&mut self) {
        for ch in self.children.values_mut() {
            ch.request_stop(self.shutdown_timeout, "the Guardian is stopping");
        }
        while !self.children.is_empty() {
            self.reap();
            for ch in self.children.values_mut() {
                ch.enforce_deadline();
            }
            std::thread::sleep(TICK);
        }
    }
}
