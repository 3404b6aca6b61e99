//! The directory: domains, nodes and the rest of the topology, and the directory objects
//! (persons, rooms, equipment, aliases, lists, locations, organizations, roles, templates).
//! Validation and references live here; SQL lives in the store.

pub mod address;
mod args;
mod blocklist;
mod error;
mod objects;
pub mod password;
pub mod resolve;
mod topology;

use chrono::{DateTime, Utc};

pub use args::Args;
pub use error::{DirError, Result};
pub(crate) use objects::default_domain;
pub use objects::{create_inbox_for, ObjectClass, DEFAULT_QUOTA_BYTES};

use crate::store::Conn;

/// What every directory operation needs to know about where and when it runs.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// The node this store belongs to.
    pub node_id: i64,
    pub now: DateTime<Utc>,
}

/// A class of the administration language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Domain,
    Node,
    Community,
    Route,
    RewritingRule,
    BlockedSender,
    BlockedDomain,
    Object(ObjectClass),
}

impl Class {
    pub const NAMES: &'static [&'static str] = &[
        "domain",
        "node",
        "community",
        "route",
        "rewritingrule",
        "blockedsender",
        "blockeddomain",
        "person",
        "room",
        "equipment",
        "publicalias",
        "privatealias",
        "publicdl",
        "privatedl",
        "location",
        "organization",
        "role",
        "publictemplate",
        "privatetemplate",
    ];

    pub fn parse(word: &str) -> Option<Class> {
        Some(match word.to_ascii_lowercase().as_str() {
            "domain" => Class::Domain,
            "node" => Class::Node,
            "community" => Class::Community,
            "route" => Class::Route,
            "rewritingrule" => Class::RewritingRule,
            "blockedsender" => Class::BlockedSender,
            "blockeddomain" => Class::BlockedDomain,
            other => Class::Object(ObjectClass::parse(other)?),
        })
    }

    pub fn keyword(&self) -> &'static str {
        match self {
            Class::Domain => "domain",
            Class::Node => "node",
            Class::Community => "community",
            Class::Route => "route",
            Class::RewritingRule => "rewritingrule",
            Class::BlockedSender => "blockedsender",
            Class::BlockedDomain => "blockeddomain",
            Class::Object(o) => o.keyword(),
        }
    }
}

/// One object as `fetch` shows it: attribute lines in a fixed order.
pub type Entry = Vec<(String, String)>;

/// What a change did, for the administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub message: String,
}

fn block_kind(class: Class) -> Option<blocklist::Kind> {
    match class {
        Class::BlockedSender => Some(blocklist::Kind::Sender),
        Class::BlockedDomain => Some(blocklist::Kind::Domain),
        _ => None,
    }
}

pub fn create(c: &mut Conn, ctx: &Ctx, class: Class, args: Args) -> Result<Outcome> {
    if let Some(k) = block_kind(class) {
        return blocklist::create(c, ctx, k, args);
    }
    match class {
        Class::Object(o) => objects::create(c, ctx, o, args),
        t => topology::create(c, ctx, t, args),
    }
}

pub fn modify(c: &mut Conn, ctx: &Ctx, class: Class, args: Args) -> Result<Outcome> {
    if let Some(k) = block_kind(class) {
        return blocklist::modify(c, ctx, k, args);
    }
    match class {
        Class::Object(o) => objects::modify(c, ctx, o, args),
        t => topology::modify(c, ctx, t, args),
    }
}

pub fn delete(c: &mut Conn, ctx: &Ctx, class: Class, args: Args) -> Result<Outcome> {
    if let Some(k) = block_kind(class) {
        return blocklist::delete(c, k, args);
    }
    match class {
        Class::Object(o) => objects::delete(c, ctx, o, args),
        t => topology::delete(c, ctx, t, args),
    }
}

pub fn fetch(c: &mut Conn, ctx: &Ctx, class: Class, args: Args) -> Result<Vec<Entry>> {
    if let Some(k) = block_kind(class) {
        return blocklist::fetch(c, k, args);
    }
    match class {
        Class::Object(o) => objects::fetch(c, ctx, o, args),
        t => topology::fetch(c, ctx, t, args),
    }
}

/// Does `value` match a fetch filter (case-insensitive, `*` matches any run of characters)?
pub fn matches(filter: &str, value: &str) -> bool {
    let f = filter.to_lowercase();
    let v = value.to_lowercase();
    if !f.contains('*') {
        return f == v;
    }
    let parts: Vec<&str> = f.split('*').collect();
    let mut pos = 0;
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() {
            continue;
        }
        if i == 0 {
            if !v.starts_with(p) {
                return false;
            }
            pos = p.len();
        } else if i == parts.len() - 1 {
            return v.len() >= pos + p.len() && v[pos..].ends_with(p);
        } else {
            match v[pos..].find(p) {
                Some(at) => pos += at + p.len(),
                None => return false,
            }
        }
    }
    true
}

/// Keeps the entries whose attributes match every filter.
pub(crate) fn filter_entries(entries: Vec<Entry>, filters: &[(String, String)]) -> Vec<Entry> {
    entries
        .into_iter()
        .filter(|e| {
            filters.iter().all(|(name, want)| {
                e.iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| matches(want, v))
                    .unwrap_or(want.is_empty())
            })
        })
        .collect()
}

/// `yes`/`no` style values.
pub(crate) fn parse_bool(name: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "on" | "enabled" => Ok(true),
        "no" | "n" | "false" | "0" | "off" | "disabled" => Ok(false),
        _ => error::invalid(format!("{name}={v:?}: expected yes or no")),
    }
}

pub(crate) fn parse_int(name: &str, v: &str, min: i64) -> Result<i64> {
    match v.trim().parse::<i64>() {
        Ok(n) if n >= min => Ok(n),
        _ => error::invalid(format!(
            "{name}={v:?}: expected a whole number of at least {min}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_filters() {
        assert!(matches("doe", "Doe"));
        assert!(matches("d*", "Doe"));
        assert!(matches("*oe", "Doe"));
        assert!(matches("d*e", "Doe"));
        assert!(matches("*", "anything"));
        assert!(!matches("x*", "Doe"));
        assert!(!matches("d*x", "Doe"));
        assert!(!matches("doe", "Doex"));
    }
}
