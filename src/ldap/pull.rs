//! ODSIOSYNC (`esmail odsiosync --instance 1`): brings into esmail's directory the persons
//! added to the LDAP directory, and deletes from it the persons deleted there. Updates made in
//! LDAP are not carried back (as in the original: the directory of record is esmail's).
//!
//! Every `interval` seconds it reads every `inetOrgPerson` below the base DN and compares the
//! DNs with those it found the last time (`es_ldap_seen`):
//! - a DN it never saw, `uid=<username>,ou=<domain>,<base_dn>`, is a person added in LDAP: when
//!   esmail has no person of that name in that domain, it is created (with the names, title and
//!   numbers LDAP has; no password: one is set in esmail);
//! - a DN it saw and that is gone is a person deleted in LDAP: the person is deleted from
//!   esmail, with the mailbox, as `delete person` does;
//! - entries esmail itself pushed (IOODSSYNC) are found in esmail and only remembered.
//!
//! One round is one transaction: the persons created and deleted, their change-log rows and
//! what was seen commit together. A read the server cuts short is an error, never a list of
//! deletions; and a round that would delete more than `max_deletions` persons deletes nothing
//! and says so (an emptied or mistaken base DN must not empty the directory).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::sync::{Directory, Settings};
use crate::cli::StoreArgs;
use crate::directory::{self, Args, Class, Ctx, DirError, ObjectClass};
use crate::process::runtime::Runtime;
use crate::store::subscribers as repo;
use crate::store::{Conn, Store, StoreError};

/// What a round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub created: Vec<String>,
    pub deleted: Vec<String>,
    /// Entries that could not become persons, and why.
    pub refused: Vec<String>,
}

/// Why a round did nothing.
#[derive(Debug)]
pub enum PullError {
    Store(StoreError),
    /// A round that would do harm (see `max_deletions`).
    Refused(String),
}

impl From<StoreError> for PullError {
    fn from(e: StoreError) -> PullError {
        PullError::Store(e)
    }
}

impl std::fmt::Display for PullError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PullError::Store(e) => e.fmt(f),
            PullError::Refused(why) => f.write_str(why),
        }
    }
}

/// The key of a DN in `es_ldap_seen`.
pub fn dn_key(dn: &str) -> String {
    Sha256::digest(dn.trim().to_lowercase().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Splits a DN at its first unescaped comma: (first RDN, the rest).
fn first_rdn(dn: &str) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, ch) in dn.char_indices() {
        match ch {
            '\\' if !escaped => escaped = true,
            ',' if !escaped => return Some((&dn[..i], &dn[i + 1..])),
            _ => escaped = false,
        }
    }
    None
}

/// The value of an RDN `name=value` (RFC 4514 escapes undone).
fn rdn_value<'a>(rdn: &'a str, name: &str) -> Option<String> {
    let (n, v) = rdn.split_once('=')?;
    if !n.trim().eq_ignore_ascii_case(name) {
        return None;
    }
    let mut out = Vec::new();
    let bytes = v.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => {
                    out.push(b);
                    i += 3;
                }
                None => {
                    out.push(bytes[i + 1]);
                    i += 2;
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The person a DN names: `uid=<username>,ou=<domain>,<base_dn>` gives (username, domain).
pub fn person_of_dn(dn: &str, base_dn: &str) -> Option<(String, String)> {
    let (rdn, parent) = first_rdn(dn.trim())?;
    let uid = rdn_value(rdn, "uid")?;
    let (ou, rest) = first_rdn(parent)?;
    let domain = rdn_value(ou, "ou")?;
    let norm = |s: &str| s.replace(' ', "").to_ascii_lowercase();
    (norm(rest) == norm(base_dn)).then_some((uid, domain))
}

fn first(attrs: &BTreeMap<String, Vec<String>>, name: &str) -> Option<String> {
    attrs
        .get(name)
        .and_then(|v| v.first())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The `create person` arguments of an LDAP entry (no password).
fn person_args(username: &str, domain: &str, attrs: &BTreeMap<String, Vec<String>>) -> Args {
    let mut pairs: Vec<(String, String)> = vec![
        ("username".into(), username.to_string()),
        ("domain".into(), domain.to_string()),
    ];
    for (ldap, esmail) in [
        ("givenname", "firstname"),
        ("sn", "lastname"),
        ("initials", "initials"),
        ("displayname", "displayname"),
        ("title", "title"),
        ("departmentnumber", "department"),
        ("employeenumber", "employeenumber"),
        ("telephonenumber", "telephonenumber"),
        ("mobile", "mobile"),
        ("facsimiletelephonenumber", "fax"),
        ("description", "description"),
    ] {
        if let Some(v) = first(attrs, ldap) {
            pairs.push((esmail.into(), v));
        }
    }
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    Args::from_pairs(&refs)
}

fn person_exists(c: &mut Conn, ctx: &Ctx, username: &str, domain: &str) -> Result<bool, DirError> {
    Ok(!directory::fetch(
        c,
        ctx,
        Class::Object(ObjectClass::Person),
        Args::from_pairs(&[("username", username), ("domain", domain)]),
    )?
    .is_empty())
}

/// One round, in the caller's transaction: `found` is every person entry LDAP has now.
pub fn apply(
    c: &mut Conn,
    node_id: i64,
    reader: &str,
    base_dn: &str,
    found: &[(String, BTreeMap<String, Vec<String>>)],
    max_deletions: usize,
) -> Result<Pulled, PullError> {
    let ctx = Ctx {
        node_id,
        now: Utc::now(),
    };
    let seen: HashMap<String, String> = repo::ldap_seen(c, reader)?.into_iter().collect();
    let now_keys: HashMap<String, &(String, BTreeMap<String, Vec<String>>)> =
        found.iter().map(|e| (dn_key(&e.0), e)).collect();
    let gone: Vec<(&String, &String)> = seen
        .iter()
        .filter(|(k, _)| !now_keys.contains_key(*k))
        .collect();
    let doomed: Vec<(String, String)> = gone
        .iter()
        .filter_map(|(_, dn)| person_of_dn(dn, base_dn))
        .collect();
    if doomed.len() > max_deletions {
        return Err(PullError::Refused(format!(
            "{} persons are gone from LDAP, more than max_deletions ({max_deletions}): nothing \
             deleted (raise max_deletions if this is meant)",
            doomed.len()
        )));
    }
    let mut out = Pulled::default();
    let dir = |e: DirError| -> Result<String, PullError> {
        match e {
            DirError::Store(s) => Err(PullError::Store(s)),
            other => Ok(other.to_string()),
        }
    };
    for (username, domain) in doomed {
        let args =
            Args::from_pairs(&[("username", username.as_str()), ("domain", domain.as_str())]);
        let exists = match person_exists(c, &ctx, &username, &domain) {
            Ok(b) => b,
            Err(e) => {
                out.refused.push(dir(e)?);
                false
            }
        };
        if exists {
            match directory::delete(c, &ctx, Class::Object(ObjectClass::Person), args) {
                Ok(_) => out.deleted.push(format!("{username}@{domain}")),
                Err(e) => out
                    .refused
                    .push(format!("{username}@{domain}: {}", dir(e)?)),
            }
        }
    }
    for (key, _) in gone {
        repo::ldap_seen_remove(c, reader, key)?;
    }
    for (key, (dn, attrs)) in &now_keys {
        if seen.contains_key(key) {
            continue;
        }
        if let Some((username, domain)) = person_of_dn(dn, base_dn) {
            let kind = first(attrs, "employeetype").unwrap_or_default();
            let pushed = matches!(kind.as_str(), "room" | "equipment" | "alias" | "list");
            match person_exists(c, &ctx, &username, &domain) {
                Ok(true) => {}
                Ok(false) if pushed => {}
                Ok(false) => {
                    let args = person_args(&username, &domain, attrs);
                    match directory::create(c, &ctx, Class::Object(ObjectClass::Person), args) {
                        Ok(_) => out.created.push(format!("{username}@{domain}")),
                        Err(e) => out.refused.push(format!("{dn}: {}", dir(e)?)),
                    }
                }
                Err(e) => out.refused.push(format!("{dn}: {}", dir(e)?)),
            }
        }
        repo::ldap_seen_add(c, reader, key, dn, ctx.now)?;
    }
    Ok(out)
}

/// The reader name of an instance: unique across the nodes sharing the store.
pub fn reader_name(node_name: &str, instance: i64) -> String {
    format!("ldap:{node_name}:odsiosync{instance}")
}

/// One round against the server: read LDAP, then apply in one write transaction.
pub fn round(
    store: &Store,
    dir: &mut Directory,
    node_id: i64,
    reader: &str,
    base_dn: &str,
    max_deletions: usize,
) -> Result<Pulled, String> {
    let found = dir.persons()?;
    store
        .write(|c| apply(c, node_id, reader, base_dn, &found, max_deletions))
        .map_err(|e| e.to_string())
}

/// The process: a round every `interval` seconds until SIGTERM or SIGINT. Without `ldap_url`
/// and `base_dn` it waits for them (a refresh rereads them).
pub fn run(args: &StoreArgs, instance: i64) -> Result<(), String> {
    let mut rt = Runtime::start("odsiosync", instance, args)?;
    let reader = reader_name(&rt.node_name, instance);
    let mut dir: Option<Directory> = None;
    let mut warned = false;
    loop {
        if rt.take_refreshed() {
            dir = None;
            warned = false;
        }
        let interval = Duration::from_secs(rt.param_u64("interval", 60, 1));
        let Some(s) = Settings::or_wait(&mut rt, &mut warned, interval) else {
            if rt.stopping() {
                break;
            }
            continue;
        };
        let max = rt.param_u64("max_deletions", 10, 0) as usize;
        let outcome = (|| -> Result<Pulled, String> {
            if dir.is_none() {
                dir = Some(Directory::connect(&s)?);
                log::info!("connected to {} (base {})", s.url, s.base_dn);
            }
            match dir.as_mut() {
                Some(d) => round(&rt.store, d, rt.node_id, &reader, &s.base_dn, max),
                None => Ok(Pulled::default()),
            }
        })();
        match outcome {
            Ok(p) => {
                for a in &p.created {
                    log::info!("added in LDAP, created: {a}");
                }
                for d in &p.deleted {
                    log::info!("deleted in LDAP, deleted: {d}");
                }
                for r in &p.refused {
                    log::warn!("not taken from LDAP: {r}");
                }
            }
            Err(e) => {
                log::error!("{e}; trying again in {} s", interval.as_secs());
                dir = None;
            }
        }
        if !rt.wait(interval) {
            break;
        }
    }
    rt.finish("stopped by signal");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_dn_gives_its_username_and_domain() {
        assert_eq!(
            person_of_dn("uid=jdoe,ou=acme.com,o=esmail", "o=esmail"),
            Some(("jdoe".into(), "acme.com".into()))
        );
        assert_eq!(
            person_of_dn("UID=a\\,b,OU=acme.com,dc=acme, dc=com", "dc=acme,dc=com"),
            Some(("a,b".into(), "acme.com".into()))
        );
        assert_eq!(
            person_of_dn("uid=x\\2Cy,ou=d.org,o=e", "o=e"),
            Some(("x,y".into(), "d.org".into()))
        );
        assert_eq!(
            person_of_dn("cn=board,ou=acme.com,o=esmail", "o=esmail"),
            None
        );
        assert_eq!(
            person_of_dn("uid=jdoe,ou=people,ou=acme.com,o=esmail", "o=esmail"),
            None
        );
        assert_eq!(
            person_of_dn("uid=jdoe,ou=acme.com,o=other", "o=esmail"),
            None
        );
        assert_eq!(person_of_dn("uid=jdoe", "o=esmail"), None);
        assert_eq!(person_of_dn("", "o=esmail"), None);
        assert_eq!(dn_key("UID=a,o=b"), dn_key("uid=a,o=b"));
    }
}
