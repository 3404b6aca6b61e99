//! IOODSSYNC (`esmail ioodssync --instance 1`): pushes the directory to an LDAP server and
//! keeps it there.
//!
//! The first time (no subscriber of its name in `es_dir_subscriber`), it writes every exported
//! object from one consistent snapshot and registers itself as having every change up to that
//! snapshot. From then on it reads the directory change log after what it acknowledged, in
//! sequence order, applies each change (an add, a modify of the attributes that changed, a
//! delete; a rename as a delete and an add), and acknowledges what it applied. Every step is
//! idempotent (an entry that exists is modified, one that is gone is not an error), so a crash
//! between applying and acknowledging repeats work and loses none. An LDAP server that cannot
//! be reached or refuses a change stops the round: nothing after the failed change is applied
//! or acknowledged, and the round is tried again after `retry_seconds`.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use ldap3::{LdapConn, LdapConnSettings, LdapResult, Mod, Scope, SearchEntry};

use super::entry::{self, Entry};
use crate::cli::StoreArgs;
use crate::process::runtime::Runtime;
use crate::store::subscribers::{self as repo, Change, Subscriber};
use crate::store::{system, Store};

/// LDAP result codes this code tells apart (RFC 4511, appendix A).
const NO_SUCH_OBJECT: u32 = 32;
const ALREADY_EXISTS: u32 = 68;

/// How old a change must be before it is read (see `subscribers::changes_after`).
const SETTLE: Duration = Duration::from_secs(2);

/// Where and how to reach the LDAP server (process parameters).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: String,
    pub base_dn: String,
    /// Empty: an anonymous bind.
    pub bind_dn: String,
    /// A file holding the bind password (first line).
    pub bind_password_file: Option<String>,
    pub starttls: bool,
}

impl Settings {
    /// The settings of the running instance; without `ldap_url` and `base_dn` it says so once
    /// (`warned`) and waits `interval` (or until a refresh or a stop), then `None`.
    pub fn or_wait(rt: &mut Runtime, warned: &mut bool, interval: Duration) -> Option<Settings> {
        if let Some(s) = Settings::of(rt) {
            return Some(s);
        }
        if !*warned {
            log::warn!(
                "ldap_url and base_dn are not set: nothing to do (register paramvalue server={} \
                 instance={} parameter=ldap_url value=...; the same for base_dn; then refresh)",
                rt.type_name,
                rt.instance
            );
            *warned = true;
        }
        rt.wait(interval);
        None
    }

    /// From the process parameters; `None` when `ldap_url` or `base_dn` is not set.
    pub fn of(rt: &Runtime) -> Option<Settings> {
        let text = |n: &str| {
            rt.param(n)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Some(Settings {
            url: text("ldap_url")?,
            base_dn: text("base_dn")?,
            bind_dn: text("bind_dn").unwrap_or_default(),
            bind_password_file: text("bind_password_file"),
            starttls: matches!(
                text("starttls").map(|v| v.to_ascii_lowercase()).as_deref(),
                Some("1" | "true" | "yes" | "on")
            ),
        })
    }
}

/// A bound connection to the LDAP server.
pub struct Directory {
    conn: LdapConn,
    base_dn: String,
    /// Domain containers known to exist.
    domains: HashSet<String>,
}

fn failed(what: &str, dn: &str, e: impl std::fmt::Display) -> String {
    format!("{what} {dn}: {e}")
}

impl Directory {
    /// Connects and binds.
    pub fn connect(s: &Settings) -> Result<Directory, String> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(Duration::from_secs(15))
            .set_starttls(s.starttls);
        let mut conn = LdapConn::with_settings(settings, &s.url)
            .map_err(|e| format!("cannot reach the LDAP server {}: {e}", s.url))?;
        conn.with_timeout(Duration::from_secs(30));
        if !s.bind_dn.is_empty() {
            if let Some(f) = &s.bind_password_file {
                use std::os::unix::fs::MetadataExt;
                if std::fs::metadata(f).is_ok_and(|m| m.mode() & 0o077 != 0) {
                    log::warn!("bind_password_file {f} can be read by other users: chmod 600 it");
                }
            }
            let pw = match &s.bind_password_file {
                Some(f) => std::fs::read_to_string(f)
                    .map_err(|e| format!("cannot read bind_password_file {f}: {e}"))?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
                None => String::new(),
            };
            conn.simple_bind(&s.bind_dn, &pw)
                .and_then(LdapResult::success)
                .map_err(|e| format!("cannot bind to {} as {}: {e}", s.url, s.bind_dn))?;
        }
        Ok(Directory {
            conn,
            base_dn: s.base_dn.clone(),
            domains: HashSet::new(),
        })
    }

    fn add(&mut self, e: &Entry) -> Result<LdapResult, String> {
        let attrs: Vec<(&str, HashSet<&str>)> = e
            .attrs
            .iter()
            .map(|(n, vs)| (n.as_str(), vs.iter().map(String::as_str).collect()))
            .collect();
        self.conn
            .add(&e.dn, attrs)
            .map_err(|err| failed("cannot add", &e.dn, err))
    }

    /// Creates the container of a domain when it is not there.
    fn domain(&mut self, domain: &str) -> Result<(), String> {
        let key = domain.to_ascii_lowercase();
        if self.domains.contains(&key) {
            return Ok(());
        }
        let e = entry::domain_entry(domain, &self.base_dn);
        let r = self.add(&e)?;
        if r.rc != 0 && r.rc != ALREADY_EXISTS {
            return Err(failed("cannot add", &e.dn, r));
        }
        self.domains.insert(key);
        Ok(())
    }

    /// The managed attributes the entry has in LDAP now; `None` when there is no entry.
    fn present(&mut self, dn: &str) -> Result<Option<HashSet<String>>, String> {
        let r = self
            .conn
            .search(dn, Scope::Base, "(objectClass=*)", entry::MANAGED.to_vec())
            .map_err(|e| failed("cannot read", dn, e))?;
        if r.1.rc == NO_SUCH_OBJECT {
            return Ok(None);
        }
        let (entries, _) = r.success().map_err(|e| failed("cannot read", dn, e))?;
        Ok(entries.into_iter().next().map(|e| {
            SearchEntry::construct(e)
                .attrs
                .keys()
                .map(|k| k.to_ascii_lowercase())
                .collect()
        }))
    }

    /// Makes the entry in LDAP what `e` says: added when missing (with its domain's container),
    /// else its managed attributes replaced, and those `e` lacks deleted.
    pub fn upsert(&mut self, e: &Entry, domain: &str) -> Result<(), String> {
        let Some(present) = self.present(&e.dn)? else {
            self.domain(domain)?;
            let r = self.add(e)?;
            if r.rc == 0 || r.rc == ALREADY_EXISTS {
                return Ok(());
            }
            return Err(failed("cannot add", &e.dn, r));
        };
        let mut mods: Vec<Mod<&str>> = Vec::new();
        for (name, values) in &e.attrs {
            if name.eq_ignore_ascii_case("objectClass") {
                continue;
            }
            mods.push(Mod::Replace(
                name.as_str(),
                values.iter().map(String::as_str).collect(),
            ));
        }
        for m in entry::MANAGED {
            if present.contains(&m.to_ascii_lowercase()) && e.get(m).is_empty() {
                mods.push(Mod::Delete(m, HashSet::new()));
            }
        }
        self.conn
            .modify(&e.dn, mods)
            .and_then(LdapResult::success)
            .map_err(|err| failed("cannot modify", &e.dn, err))?;
        Ok(())
    }

    /// Every `inetOrgPerson` entry below the base DN: its DN and its attributes (names in lower
    /// case). A search the server cuts short (a size or time limit) is an error: a partial list
    /// would look like deletions.
    pub fn persons(&mut self) -> Result<Vec<(String, BTreeMap<String, Vec<String>>)>, String> {
        let base = self.base_dn.clone();
        let r = self
            .conn
            .search(
                &base,
                Scope::Subtree,
                "(objectClass=inetOrgPerson)",
                vec!["*"],
            )
            .map_err(|e| failed("cannot search", &base, e))?;
        let (entries, _) = r.success().map_err(|e| failed("cannot search", &base, e))?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let e = SearchEntry::construct(e);
                let attrs = e
                    .attrs
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect();
                (e.dn, attrs)
            })
            .collect())
    }

    /// Deletes an entry; one that is not there is no error.
    pub fn remove(&mut self, dn: &str) -> Result<(), String> {
        let r = self
            .conn
            .delete(dn)
            .map_err(|e| failed("cannot delete", dn, e))?;
        if r.rc == 0 || r.rc == NO_SUCH_OBJECT {
            Ok(())
        } else {
            Err(failed("cannot delete", dn, r))
        }
    }

    /// Applies one change of the directory.
    pub fn apply(&mut self, ch: &Change) -> Result<(), String> {
        let before = ch.before.as_deref().and_then(super::values_of);
        let after = ch.after.as_deref().and_then(super::values_of);
        let old_dn = before
            .as_ref()
            .and_then(|b| entry::dn_of(&ch.class, b, &self.base_dn));
        let new = after
            .as_ref()
            .and_then(|a| entry::map(&ch.class, a, &self.base_dn).map(|e| (e, domain_of(a))));
        match (old_dn, new) {
            (Some(old), Some((e, domain))) if !old.eq_ignore_ascii_case(&e.dn) => {
                self.remove(&old)?;
                self.upsert(&e, &domain)
            }
            (_, Some((e, domain))) => self.upsert(&e, &domain),
            (Some(old), None) => self.remove(&old),
            (None, None) => Ok(()),
        }
    }
}

fn domain_of(values: &BTreeMap<String, String>) -> String {
    values.get("domain").cloned().unwrap_or_default()
}

/// The subscriber name of an instance: unique across the nodes sharing the store.
pub fn subscriber_name(node_name: &str, instance: i64) -> String {
    format!("ldap:{node_name}:ioodssync{instance}")
}

/// The first push: every exported object, from one snapshot; then the subscriber, with every
/// change up to that snapshot acknowledged. Returns the entries written.
pub fn initial(
    store: &Store,
    dir: &mut Directory,
    node_id: i64,
    name: &str,
) -> Result<(Subscriber, usize), String> {
    let (objects, seq) = store
        .read(|c| -> Result<_, crate::store::StoreError> {
            let seq = system::dir_change_stats(c)?.1;
            Ok((super::snapshot(c, node_id)?, seq))
        })
        .map_err(|e| e.to_string())?;
    let mut n = 0;
    for o in &objects {
        if let Some(e) = entry::map(&o.class, &o.values, &dir.base_dn.clone()) {
            dir.upsert(&e, &domain_of(&o.values))?;
            n += 1;
        }
    }
    let sub = store
        .write(|c| repo::add_subscriber(c, "LDAP", name, node_id, seq, Utc::now()))
        .map_err(|e| e.to_string())?;
    Ok((sub, n))
}

/// One round: the changes after what was acknowledged, applied and acknowledged in batches of
/// `batch`. Returns the changes applied.
pub fn round(
    store: &Store,
    dir: &mut Directory,
    sub: &mut Subscriber,
    batch: i64,
) -> Result<usize, String> {
    let mut applied = 0;
    loop {
        let settled = Utc::now() - chrono::Duration::from_std(SETTLE).unwrap_or_default();
        let changes = store
            .read(|c| repo::changes_after(c, sub.acked_seq, settled, batch))
            .map_err(|e| e.to_string())?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(applied);
        };
        let mut done = sub.acked_seq;
        let mut failure = None;
        for ch in &changes {
            match dir.apply(ch) {
                Ok(()) => {
                    done = ch.seq;
                    applied += 1;
                }
                Err(e) => {
                    failure = Some(format!(
                        "change {} ({} {}): {e}",
                        ch.seq, ch.operation, ch.class
                    ));
                    break;
                }
            }
        }
        if done > sub.acked_seq {
            let id = sub.id;
            store
                .write(|c| repo::ack(c, id, done, Utc::now()))
                .map_err(|e| e.to_string())?;
            sub.acked_seq = done;
        }
        if let Some(f) = failure {
            return Err(f);
        }
        if done < last || (changes.len() as i64) < batch {
            return Ok(applied);
        }
    }
}

/// The process: connects, pushes everything the first time, then every change, until SIGTERM
/// or SIGINT. Without `ldap_url` and `base_dn` it waits for them (a refresh rereads them).
pub fn run(args: &StoreArgs, instance: i64) -> Result<(), String> {
    let mut rt = Runtime::start("ioodssync", instance, args)?;
    let name = subscriber_name(&rt.node_name, instance);
    let mut dir: Option<Directory> = None;
    let mut warned = false;
    loop {
        if rt.take_refreshed() {
            dir = None;
            warned = false;
        }
        let interval = Duration::from_secs(rt.param_u64("interval", 5, 1));
        let retry = Duration::from_secs(rt.param_u64("retry_seconds", 30, 1));
        let Some(settings) = Settings::or_wait(&mut rt, &mut warned, interval) else {
            if rt.stopping() {
                break;
            }
            continue;
        };
        let outcome = (|| -> Result<usize, String> {
            if dir.is_none() {
                dir = Some(Directory::connect(&settings)?);
                log::info!("connected to {} (base {})", settings.url, settings.base_dn);
            }
            let Some(d) = dir.as_mut() else {
                return Ok(0);
            };
            let existing = rt
                .store
                .read(|c| repo::subscriber(c, &name))
                .map_err(|e| e.to_string())?;
            let mut sub = match existing {
                Some(s) => s,
                None => {
                    let (s, n) = initial(&rt.store, d, rt.node_id, &name)?;
                    log::info!(
                        "first push: {n} entries written; following the change log from change {}",
                        s.acked_seq
                    );
                    s
                }
            };
            round(
                &rt.store,
                d,
                &mut sub,
                rt.param_u64("batch_size", 200, 1) as i64,
            )
        })();
        let wait = match outcome {
            Ok(0) => interval,
            Ok(n) => {
                log::info!("{n} change(s) pushed to {}", settings.url);
                Duration::ZERO
            }
            Err(e) => {
                log::error!("{e}; trying again in {} s", retry.as_secs());
                dir = None;
                retry
            }
        };
        if !rt.wait(wait) {
            break;
        }
    }
    rt.finish("stopped by signal");
    Ok(())
}
