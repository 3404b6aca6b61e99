//! The sessions of an instance, as `probe;` shows them: kept in memory and written to the
//! store in the background (new, changed and ended sessions once a second, in one
//! transaction; nothing at all while nothing changes), with the instance's load.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::Db;
use crate::store::sps::{self as repo, InstanceKey, SessionState};

/// How often changes reach the store.
const FLUSH: Duration = Duration::from_secs(1);
/// How often live sessions are marked alive (the Collector drops rows older than a day).
const TOUCH: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
struct Entry {
    protocol: &'static str,
    ip: IpAddr,
    remote_addr: String,
    login: Option<String>,
    account_id: Option<i64>,
    state: String,
    started_at: DateTime<Utc>,
    /// Not yet in the store.
    new: bool,
    dirty: bool,
}

#[derive(Default)]
struct Inner {
    live: HashMap<String, Entry>,
    ended: Vec<String>,
    /// Sessions not logged in yet, per client address.
    unauthenticated: HashMap<IpAddr, usize>,
}

impl Inner {
    /// One session from `ip` logged in or ended before logging in.
    fn authenticated(&mut self, ip: IpAddr) {
        if let Some(n) = self.unauthenticated.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.unauthenticated.remove(&ip);
            }
        }
    }
}

/// The live sessions of one instance.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Mutex<Inner>>,
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

/// One session in the registry; it leaves it when dropped.
pub struct SessionHandle {
    reg: Registry,
    id: String,
    peer: SocketAddr,
}

impl Registry {
    /// `prefix` makes session ids unique across instances and restarts.
    pub fn new(prefix: &str) -> Registry {
        Registry {
            inner: Arc::default(),
            prefix: prefix.into(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn open(&self, protocol: &'static str, peer: SocketAddr) -> SessionHandle {
        let id = format!(
            "{}-{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        let ip = peer.ip().to_canonical();
        let mut g = self.lock();
        *g.unauthenticated.entry(ip).or_insert(0) += 1;
        g.live.insert(
            id.clone(),
            Entry {
                protocol,
                ip,
                remote_addr: peer.to_string(),
                login: None,
                account_id: None,
                state: "CONNECTED".into(),
                started_at: Utc::now(),
                new: true,
                dirty: true,
            },
        );
        drop(g);
        SessionHandle {
            reg: self.clone(),
            id,
            peer,
        }
    }

    /// Sessions from `ip` that have not logged in yet.
    pub fn unauthenticated_from(&self, ip: IpAddr) -> usize {
        self.lock()
            .unauthenticated
            .get(&ip.to_canonical())
            .copied()
            .unwrap_or(0)
    }

    /// Sessions now.
    pub fn len(&self) -> usize {
        self.lock().live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes what changed; returns false when the store could not be reached (the changes
    /// are kept for the next time).
    async fn flush(&self, db: &Db, key: (i64, &'static str, i64)) -> bool {
        let (ended, changed): (Vec<String>, Vec<(String, Entry)>) = {
            let mut g = self.lock();
            let ended = std::mem::take(&mut g.ended);
            let changed = g
                .live
                .iter_mut()
                .filter(|(_, e)| e.dirty)
                .map(|(id, e)| {
                    e.dirty = false;
                    let out = (id.clone(), e.clone());
                    e.new = false;
                    out
                })
                .collect();
            (ended, changed)
        };
        if ended.is_empty() && changed.is_empty() {
            return true;
        }
        let (e2, c2) = (ended.clone(), changed.clone());
        let r = db
            .write("sessions", move |c| {
                let k = InstanceKey {
                    node_id: key.0,
                    type_name: key.1,
                    instance: key.2,
                };
                let now = Utc::now();
                for id in &e2 {
                    repo::delete_session(c, id)?;
                }
                for (id, e) in &c2 {
                    let s = SessionState {
                        session_id: id,
                        protocol: e.protocol,
                        remote_addr: &e.remote_addr,
                        login: e.login.as_deref(),
                        account_id: e.account_id,
                        state: &e.state,
                        started_at: e.started_at,
                    };
                    if e.new || !repo::update_session(c, &s, now)? {
                        repo::insert_session(c, &k, &s, now)?;
                    }
                }
                Ok(())
            })
            .await;
        if r.is_err() {
            let mut g = self.lock();
            g.ended.extend(ended);
            for (id, e) in changed {
                if let Some(l) = g.live.get_mut(&id) {
                    l.dirty = true;
                    l.new |= e.new;
                }
            }
            return false;
        }
        true
    }

    /// Keeps the store's view of the instance current until `stop`: sessions, and every two
    /// seconds the load (sessions and pool use). At the start the instance's old sessions
    /// (left by a killed process) are cleared.
    pub async fn run(
        self,
        db: Db,
        node_id: i64,
        type_name: &'static str,
        instance: i64,
        mut stop: watch::Receiver<bool>,
    ) {
        let key = (node_id, type_name, instance);
        let k = InstanceKey {
            node_id,
            type_name,
            instance,
        };
        let _ = db
            .write("sessions", move |c| repo::clear_sessions(c, &k).map(|_| ()))
            .await;
        let mut tick = tokio::time::interval(FLUSH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n = 0u64;
        let mut last_load = None;
        let mut last_written = 0u64;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
            n += 1;
            self.flush(&db, key).await;
            let mut load = db.load();
            load.sessions = self.len() as i64;
            // when it changed, and at least every 10 s (so that `load_age` says it is current)
            if n % 2 == 0 && (last_load != Some(load) || n - last_written >= 10) {
                let l = load;
                let ok = db
                    .write("load", move |c| {
                        let k = InstanceKey {
                            node_id,
                            type_name,
                            instance,
                        };
                        repo::put_load(c, &k, &l, Utc::now())
                    })
                    .await
                    .is_ok();
                if ok {
                    last_load = Some(load);
                    last_written = n;
                }
            }
            if n % TOUCH.as_secs() == 0 && !self.is_empty() {
                let _ = db
                    .write("sessions", move |c| {
                        let k = InstanceKey {
                            node_id,
                            type_name,
                            instance,
                        };
                        repo::touch_sessions(c, &k, Utc::now()).map(|_| ())
                    })
                    .await;
            }
        }
        let _ = db
            .write("sessions", move |c| {
                repo::clear_sessions(c, &k)?;
                repo::put_load(c, &k, &Default::default(), Utc::now())
            })
            .await;
    }
}

impl SessionHandle {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Records who is logged in.
    pub fn set_login(&self, login: &str, account_id: i64) {
        let mut g = self.reg.lock();
        let Some(e) = g.live.get_mut(&self.id) else {
            return;
        };
        let first = e.login.is_none();
        e.login = Some(login.to_string());
        e.account_id = Some(account_id);
        e.dirty = true;
        let ip = e.ip;
        if first {
            g.authenticated(ip);
        }
    }

    /// Records the session's state (`AUTHENTICATED`, `SELECTED INBOX`, `IDLE`...).
    pub fn set_state(&self, state: &str) {
        let mut g = self.reg.lock();
        if let Some(e) = g.live.get_mut(&self.id) {
            if e.state != state {
                e.state = state.chars().take(32).collect();
                e.dirty = true;
            }
        }
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        let mut g = self.reg.lock();
        if let Some(e) = g.live.remove(&self.id) {
            if e.login.is_none() {
                g.authenticated(e.ip);
            }
            if !e.new {
                g.ended.push(self.id.clone());
            }
        }
    }
}
