//! What every supervised process shares: finding its store and its registration, its
//! parameters (reread on `refresh`), its log file, its heartbeat, and a graceful stop on
//! SIGTERM or SIGINT.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{effective, logging, Instance};
use crate::cli::StoreArgs;
use crate::config::Config;
use crate::store::processes::{self as repo, Key};
use crate::store::{schema, system, Conn, Store, TxMode};

/// How often a running process says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// How often it looks for a refresh request.
pub const POLL: Duration = Duration::from_millis(500);
/// A RUNNING record whose heartbeat is older than this is stale.
pub const STALE_AFTER: Duration = Duration::from_secs(10);

pub struct Runtime {
    pub store: Store,
    pub cfg: Config,
    pub node_id: i64,
    pub node_name: String,
    pub host: String,
    pub type_name: String,
    pub instance: i64,
    pub log_path: PathBuf,
    params: BTreeMap<String, Option<String>>,
    refresh_seq: i64,
    refreshed: bool,
    stop: Arc<AtomicBool>,
    last_beat: Instant,
    last_poll: Instant,
}

/// The short host name of this machine.
pub fn host() -> String {
    crate::config::host_name()
}

fn params_of(
    c: &mut Conn,
    node_id: i64,
    type_name: &str,
    instance: i64,
) -> Result<BTreeMap<String, Option<String>>, String> {
    Ok(effective(c, node_id, type_name, Instance::Number(instance))
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|p| (p.name, p.value))
        .collect())
}

/// Makes the C allocator give large blocks back to the system when they are freed. Each
/// password check (argon2) takes a 19 MiB block; by default glibc keeps such blocks in its
/// heaps, and a protocol server that verified many logins would stay about 1 MiB bigger per
/// session (docs/benchmarks.md). Blocks of 128 KiB and more are mapped and unmapped instead.
fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a tuning value of the allocator; called before the
    // process starts its threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Raises the soft limit of open files to the hard limit (a protocol server holds a socket
/// per session); returns the limit now in force.
pub fn raise_open_file_limit() -> u64 {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 {
            return 0;
        }
        if l.rlim_cur < l.rlim_max {
            let want = libc::rlimit {
                rlim_cur: l.rlim_max,
                rlim_max: l.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                l = want;
            }
        }
    }
    l.rlim_cur as u64
}

/// Stop requested by SIGTERM, SIGINT or SIGHUP.
pub fn stop_flag() -> Result<Arc<AtomicBool>, String> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, stop.clone())
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    Ok(stop)
}

impl Runtime {
    /// Opens the store, checks the instance is registered, reads its parameters, opens its
    /// log and records it as running.
    pub fn start(type_name: &str, instance: i64, args: &StoreArgs) -> Result<Runtime, String> {
        return_large_allocations();
        let stop = stop_flag()?;
        let (store, cfg) = args.open(false)?;
        let mut c = store.conn().map_err(|e| e.to_string())?;
        schema::require_current(&mut c).map_err(|e| e.to_string())?;
        let node_id = system::local_node_id(&mut c)
            .map_err(|e| e.to_string())?
            .ok_or("the store has no node yet: run `esmail init --domain NAME` first")?;
        let node_name = system::nodes(&mut c, node_id)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .map(|n| n.name)
            .unwrap_or_else(|| "node".into());
        let key = Key {
            node_id,
            type_name,
            instance,
        };
        let Some((refresh_seq, _, _)) = repo::runtime(&mut c, &key).map_err(|e| e.to_string())?
        else {
            return Err(format!(
                "{type_name} instance {instance} is not registered (iofcmgr: register process server={type_name} instance={instance};)"
            ));
        };
        let params = params_of(&mut c, node_id, type_name, instance)?;
        let host = host();
        let dir = log_dir(&cfg, params.get("logdir").cloned().flatten().as_deref());
        let level = logging::parse_level(
            params
                .get("loglevel")
                .cloned()
                .flatten()
                .as_deref()
                .unwrap_or("info"),
        );
        let name = format!("{type_name}{instance:02}");
        let log_path = logging::install(
            &name,
            &dir,
            &logging::file_name(&node_name, &host, type_name, instance),
            level,
        )?;
        let pid = std::process::id() as i64;
        c.transaction(TxMode::Write, |c| {
            repo::record_started(c, &key, "RUNNING", pid, &host, Utc::now())
        })
        .map_err(|e| e.to_string())?;
        drop(c);
        log::info!(
            "{name} started on node {node_name}, host {host}, store {}",
            cfg.url
        );
        Ok(Runtime {
            store,
            cfg,
            node_id,
            node_name,
            host,
            type_name: type_name.to_string(),
            instance,
            log_path,
            params,
            refresh_seq,
            refreshed: false,
            stop,
            last_beat: Instant::now(),
            last_poll: Instant::now(),
        })
    }

    fn key(&self) -> Key<'_> {
        Key {
            node_id: self.node_id,
            type_name: &self.type_name,
            instance: self.instance,
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(|v| v.as_deref())
    }

    /// A snapshot of some parameters, as a lookup function (for configurations built from
    /// parameter values).
    pub fn lookup(&self, names: &[&str]) -> impl Fn(&str) -> Option<String> + use<> {
        let values: Vec<(String, String)> = names
            .iter()
            .filter_map(|n| self.param(n).map(|v| (n.to_string(), v.to_string())))
            .collect();
        move |name: &str| {
            values
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        }
    }

    /// An integer parameter, at least `min`; `default` when unset or unreadable.
    pub fn param_u64(&self, name: &str, default: u64, min: u64) -> u64 {
        self.param(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default)
            .max(min)
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// True once after the parameters were reread.
    pub fn take_refreshed(&mut self) -> bool {
        std::mem::take(&mut self.refreshed)
    }

    /// Waits up to `d` while keeping the heartbeat and watching for a refresh; returns false
    /// as soon as the process is asked to stop.
    pub fn wait(&mut self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            if self.stopping() {
                return false;
            }
            if self.last_poll.elapsed() >= POLL {
                self.last_poll = Instant::now();
                if let Err(e) = self.poll() {
                    log::warn!("cannot reach the store: {e}");
                }
            }
            if self.refreshed {
                // let the caller apply new parameters (an interval, say) at once
                return !self.stopping();
            }
            let now = Instant::now();
            if now >= until {
                return !self.stopping();
            }
            std::thread::sleep((until - now).min(Duration::from_millis(100)));
        }
    }

    fn poll(&mut self) -> Result<(), String> {
        let mut c = self.store.conn().map_err(|e| e.to_string())?;
        let key = Key {
            node_id: self.node_id,
            type_name: &self.type_name,
            instance: self.instance,
        };
        let Some((seq, _, _)) = repo::runtime(&mut c, &key).map_err(|e| e.to_string())? else {
            log::error!("the registration of this instance is gone; stopping");
            self.stop.store(true, Ordering::Relaxed);
            return Ok(());
        };
        if self.last_beat.elapsed() >= HEARTBEAT {
            self.last_beat = Instant::now();
            let pid = std::process::id() as i64;
            c.transaction(TxMode::Write, |c| repo::heartbeat(c, &key, pid, Utc::now()))
                .map_err(|e| e.to_string())?;
        }
        if seq != self.refresh_seq {
            self.refresh_seq = seq;
            let params = params_of(&mut c, self.node_id, &self.type_name, self.instance)?;
            let level = params
                .get("loglevel")
                .cloned()
                .flatten()
                .unwrap_or_else(|| "info".into());
            logging::set_level(logging::parse_level(&level));
            self.params = params;
            self.refreshed = true;
            log::info!("parameters reread (refresh {seq}); loglevel {level}");
        }
        Ok(())
    }

    /// Ends the process: with `failed`, records that reason and returns it as the error;
    /// otherwise records a stop by signal.
    pub fn conclude(self, failed: Option<String>) -> Result<(), String> {
        match failed {
            Some(e) => {
                self.finish(&e);
                Err(e)
            }
            None => {
                self.finish("stopped by signal");
                Ok(())
            }
        }
    }

    /// Records the end of the process (called on a graceful stop). Under a Guardian that is
    /// still there, the Guardian records it (it knows why it asked); alone, or orphaned, the
    /// process records it itself.
    pub fn finish(self, why: &str) {
        log::info!("{}{:02} stopping: {why}", self.type_name, self.instance);
        if supervised() {
            log::logger().flush();
            return;
        }
        let key = self.key();
        if let Ok(mut c) = self.store.conn() {
            let r = c.transaction(TxMode::Write, |c| {
                repo::record_exit(c, &key, "STOPPED", why, false, Utc::now())
            });
            if let Err(e) = r {
                log::warn!("cannot record the stop: {e}");
            }
        }
        log::logger().flush();
    }
}

/// The environment variable through which the Guardian tells a child its pid.
pub const GUARDIAN_PID_ENV: &str = "ESMAIL_GUARDIAN_PID";

/// Is this process the child of a Guardian that is still its parent?
fn supervised() -> bool {
    let Some(g) = std::env::var(GUARDIAN_PID_ENV)
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return false;
    };
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() == g }
}

/// Where a node's logs go: `logdir` when absolute, else relative to the node's data directory
/// (the embedded store's directory, or `./esmail-data` for Oracle).
pub fn log_dir(cfg: &Config, logdir: Option<&str>) -> PathBuf {
    let base = cfg.data_dir();
    match logdir {
        Some(d) if std::path::Path::new(d).is_absolute() => PathBuf::from(d),
        Some(d) if !d.is_empty() => base.join(d),
        _ => base.join("log"),
    }
}
