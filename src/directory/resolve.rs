//! Address resolution for delivery: rewriting rules, then the expansion of an address into the
//! accounts and outside addresses it reaches.
//!
//! A local address (its domain is a domain of the directory) resolves in its domain's public
//! namespace: an account (person, room, equipment) is itself; an alias is its target; a
//! distribution list is each of its members; a location, organization or role is every person
//! whose attribute of that name holds it; a template is not an address. An address in no
//! local domain is an outside address. Expansion is loop-safe: each object is expanded once
//! per recipient (a set of visited objects), an object met again on its own path is a loop and
//! is not followed, and nesting stops at [`MAX_DEPTH`]. Every target is kept once.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::address::Address;
use crate::store::delivery::{self as repo, DirEntry};
use crate::store::system;
use crate::store::{Conn, StoreError};

/// Deepest nesting of aliases and lists followed.
pub const MAX_DEPTH: usize = 32;

/// Where a message goes in the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A mailbox: `address` is the account's own address (`name@domain`).
    Account {
        object_id: i64,
        address: String,
        home_node_id: i64,
    },
    /// An address in no local domain.
    Outside { address: String },
}

impl Target {
    pub fn address(&self) -> &str {
        match self {
            Target::Account { address, .. } | Target::Outside { address } => address,
        }
    }

    /// How targets are compared: the address in lower case.
    pub fn key(&self) -> String {
        self.address().to_lowercase()
    }
}

/// Why an address reaches nobody: an enhanced status code (RFC 3463) and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: String,
    pub reason: String,
}

/// `x.y.z` with x in 2, 4, 5 and y, z of one to three digits.
fn is_status(code: &str) -> bool {
    let parts: Vec<&str> = code.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

impl Failure {
    pub fn new(status: &str, reason: impl Into<String>) -> Failure {
        Failure {
            status: status.to_string(),
            reason: reason.into(),
        }
    }

    /// `"5.1.1 reason"`: how a failure is recorded on a queue recipient.
    pub fn text(&self) -> String {
        format!("{} {}", self.status, self.reason)
    }

    /// Reads back a recorded failure. A recorded failure is permanent: a 4.x.x code reads as
    /// 5.x.x. Text without a leading code is 5.0.0; a 5.0.0 whose reason is an SMTP reply
    /// with an enhanced code (`550 5.1.1 ...`) takes that code.
    pub fn parse(text: &str) -> Failure {
        let text = text.trim();
        let (mut status, reason) = match text.split_once(' ') {
            Some((code, rest)) if is_status(code) => (code.to_string(), rest.trim().to_string()),
            _ if is_status(text) => (text.to_string(), String::new()),
            _ => ("5.0.0".to_string(), text.to_string()),
        };
        if status == "5.0.0" {
            let mut words = reason.split_whitespace();
            if let (Some(reply), Some(code)) = (words.next(), words.next()) {
                if reply.len() == 3 && reply.bytes().all(|b| b.is_ascii_digit()) && is_status(code)
                {
                    status = code.to_string();
                }
            }
        }
        if let Some(rest) = status.strip_prefix("4.") {
            status = format!("5.{rest}");
        }
        Failure { status, reason }
    }

    /// The reason is an SMTP reply (`550 ...`) from another server.
    pub fn is_smtp_reply(&self) -> bool {
        let code = self.reason.split_whitespace().next().unwrap_or("");
        code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit())
    }
}

/// The result of expanding one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// Each target once, in the order met.
    pub targets: Vec<Target>,
    /// What was skipped on the way (loops, dangling members ...), for the log.
    pub notes: Vec<Failure>,
}

// ------------------------------------------------------------------ rewriting rules

/// The enabled rewriting rules, in position order.
#[derive(Debug, Clone, Default)]
pub struct Rewriter {
    rules: Vec<(String, Regex, String)>,
}

impl Rewriter {
    /// Reads the rules; a rule whose pattern does not compile is skipped with a warning.
    pub fn load(c: &mut Conn) -> Result<Rewriter, StoreError> {
        let mut rules = Vec::new();
        for r in system::rewriting_rules(c)?
            .into_iter()
            .filter(|r| r.enabled)
        {
            match regex::RegexBuilder::new(&r.pattern)
                .size_limit(1 << 20)
                .build()
            {
                Ok(re) => rules.push((r.name, re, r.replacement)),
                Err(e) => log::warn!("rewriting rule {}: pattern ignored: {e}", r.name),
            }
        }
        Ok(Rewriter { rules })
    }

    /// A rewriter from `(pattern, replacement)` pairs (tests, tools).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Rewriter, regex::Error> {
        let mut rules = Vec::new();
        for (i, (p, r)) in pairs.iter().enumerate() {
            rules.push((format!("rule{i}"), Regex::new(p)?, r.to_string()));
        }
        Ok(Rewriter { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Applies every rule in turn: where a rule's pattern matches, the address becomes the
    /// replacement (`$1`, `${name}` ... refer to the pattern's groups).
    pub fn apply(&self, address: &str) -> String {
        let mut a = address.to_string();
        for (name, re, replacement) in &self.rules {
            if re.is_match(&a) {
                let next = re.replace(&a, replacement.as_str()).into_owned();
                if next != a {
                    log::debug!("rewriting rule {name}: {a} -> {next}");
                    a = next;
                }
            }
        }
        a
    }
}

// ------------------------------------------------------------------ expansion

/// What a sender address is, for non-delivery reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// An address in no local domain.
    Outside(String),
    /// A local address that names an object (`account_id` when it is an account).
    Local {
        address: String,
        account_id: Option<i64>,
    },
    /// Not an address, or a local address that names nothing (or a template).
    Invalid(String),
}

/// Resolves addresses against the directory, remembering which domains are local.
#[derive(Debug)]
pub struct Resolver {
    max_expansion: usize,
    domains: HashMap<String, Option<i64>>,
}

struct Walk {
    targets: Vec<Target>,
    keys: HashSet<String>,
    visited: HashSet<i64>,
    path: Vec<(i64, String)>,
    notes: Vec<Failure>,
    loops: Option<String>,
    too_many: bool,
}

impl Walk {
    fn add(&mut self, t: Target, max: usize) {
        if self.keys.insert(t.key()) {
            self.targets.push(t);
            if self.targets.len() > max {
                self.too_many = true;
            }
        }
    }
}

fn display(o: &DirEntry) -> String {
    format!("{}@{}", o.name, o.domain)
}

/// Strips what an envelope address may carry around it (`<a@b>`).
fn bare(address: &str) -> &str {
    let a = address.trim();
    a.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(a)
        .trim()
}

impl Resolver {
    /// `max_expansion`: the most targets one address may reach (at least 1).
    pub fn new(max_expansion: usize) -> Resolver {
        Resolver {
            max_expansion: max_expansion.max(1),
            domains: HashMap::new(),
        }
    }

    /// The id of a local domain, `None` for a domain the directory does not hold.
    pub fn domain(&mut self, c: &mut Conn, name: &str) -> Result<Option<i64>, StoreError> {
        if let Some(d) = self.domains.get(name) {
            return Ok(*d);
        }
        let d = repo::domain_id(c, name)?;
        self.domains.insert(name.to_string(), d);
        Ok(d)
    }

    /// Expands an address into its targets, or says why it reaches nobody.
    pub fn expand(
        &mut self,
        c: &mut Conn,
        address: &str,
    ) -> Result<Result<Expansion, Failure>, StoreError> {
        let mut w = Walk {
            targets: Vec::new(),
            keys: HashSet::new(),
            visited: HashSet::new(),
            path: Vec::new(),
            notes: Vec::new(),
            loops: None,
            too_many: false,
        };
        let shown = bare(address).to_string();
        self.walk_address(c, &mut w, &shown, None, 0)?;
        if w.too_many {
            return Ok(Err(Failure::new(
                "5.2.4",
                format!(
                    "{shown} expands to more than {} recipients (max_expansion)",
                    self.max_expansion
                ),
            )));
        }
        if !w.targets.is_empty() {
            return Ok(Ok(Expansion {
                targets: w.targets,
                notes: w.notes,
            }));
        }
        if let Some(path) = w.loops {
            return Ok(Err(Failure::new(
                "5.4.6",
                format!("{shown}: the expansion loops ({path})"),
            )));
        }
        // an unknown or invalid address itself: that failure as it is
        if w.visited.is_empty() {
            if let Some(f) = w.notes.into_iter().next() {
                return Ok(Err(f));
            }
        } else if let Some(f) = w.notes.into_iter().next() {
            return Ok(Err(Failure::new(
                &f.status,
                format!("{shown} expands to no recipient: {}", f.reason),
            )));
        }
        Ok(Err(Failure::new(
            "5.2.4",
            format!("{shown} expands to no recipient"),
        )))
    }

    fn walk_address(
        &mut self,
        c: &mut Conn,
        w: &mut Walk,
        text: &str,
        default_domain: Option<&str>,
        depth: usize,
    ) -> Result<(), StoreError> {
        if w.too_many {
            return Ok(());
        }
        let text = bare(text);
        let a = match Address::parse(text, default_domain) {
            Ok(a) => a,
            Err(e) => {
                w.notes.push(Failure::new(
                    "5.1.3",
                    format!("{text:?} is not a valid address: {e}"),
                ));
                return Ok(());
            }
        };
        let Some(domain_id) = self.domain(c, &a.domain)? else {
            w.add(
                Target::Outside {
                    address: a.to_string(),
                },
                self.max_expansion,
            );
            return Ok(());
        };
        match repo::find_public(c, domain_id, &a.local.to_lowercase())? {
            Some(o) => self.walk_object(c, w, o, depth),
            None => {
                w.notes
                    .push(Failure::new("5.1.1", format!("no such address {a}")));
                Ok(())
            }
        }
    }

    fn walk_object(
        &mut self,
        c: &mut Conn,
        w: &mut Walk,
        o: DirEntry,
        depth: usize,
    ) -> Result<(), StoreError> {
        if w.too_many {
            return Ok(());
        }
        if let Some(i) = w.path.iter().position(|(id, _)| *id == o.object_id) {
            let cycle: Vec<&str> = w.path[i..].iter().map(|(_, n)| n.as_str()).collect();
            let text = format!("{} -> {}", cycle.join(" -> "), display(&o));
            w.notes
                .push(Failure::new("5.4.6", format!("a loop: {text}")));
            w.loops.get_or_insert(text);
            return Ok(());
        }
        if !w.visited.insert(o.object_id) {
            return Ok(()); // reached again by another way: expanded already
        }
        if depth > MAX_DEPTH {
            let text = format!(
                "{} is nested more than {MAX_DEPTH} levels deep",
                display(&o)
            );
            w.notes.push(Failure::new("5.4.6", text.clone()));
            w.loops.get_or_insert(text);
            return Ok(());
        }
        match o.class.as_str() {
            "PERSON" | "ROOM" | "EQUIPMENT" => match o.home_node_id {
                Some(home_node_id) => w.add(
                    Target::Account {
                        object_id: o.object_id,
                        address: display(&o),
                        home_node_id,
                    },
                    self.max_expansion,
                ),
                None => w.notes.push(Failure::new(
                    "5.1.1",
                    format!("{} has no mailbox", display(&o)),
                )),
            },
            "PUBLICALIAS" | "PRIVATEALIAS" => {
                w.path.push((o.object_id, display(&o)));
                match repo::alias_target(c, o.object_id)? {
                    Some((_, Some(target))) => match repo::object(c, target)? {
                        Some(t) => self.walk_object(c, w, t, depth + 1)?,
                        None => w.notes.push(Failure::new(
                            "5.1.1",
                            format!("the target of {} is gone", display(&o)),
                        )),
                    },
                    Some((address, None)) => {
                        self.walk_address(c, w, &address, Some(&o.domain), depth + 1)?
                    }
                    None => w.notes.push(Failure::new(
                        "5.1.1",
                        format!("{} has no target", display(&o)),
                    )),
                }
                w.path.pop();
            }
            "PUBLICDL" | "PRIVATEDL" => {
                w.path.push((o.object_id, display(&o)));
                for (address, member) in repo::list_members(c, o.object_id)? {
                    if w.too_many {
                        break;
                    }
                    match member {
                        Some(id) => match repo::object(c, id)? {
                            Some(m) => self.walk_object(c, w, m, depth + 1)?,
                            None => w.notes.push(Failure::new(
                                "5.1.1",
                                format!("member {address} of {} is gone", display(&o)),
                            )),
                        },
                        None => self.walk_address(c, w, &address, Some(&o.domain), depth + 1)?,
                    }
                }
                w.path.pop();
            }
            "LOCATION" | "ORGANIZATION" | "ROLE" => {
                let attr = o.class.to_ascii_lowercase();
                let key = format!("{}@{}", o.name.to_lowercase(), o.domain);
                w.path.push((o.object_id, display(&o)));
                for p in repo::persons_with(c, &attr, &key)? {
                    if w.too_many {
                        break;
                    }
                    self.walk_object(c, w, p, depth + 1)?;
                }
                w.path.pop();
            }
            "PUBLICTEMPLATE" | "PRIVATETEMPLATE" => w.notes.push(Failure::new(
                "5.1.1",
                format!("{} is a template, not an address", display(&o)),
            )),
            other => w.notes.push(Failure::new(
                "5.1.1",
                format!(
                    "{} is a {}, not an address",
                    display(&o),
                    other.to_lowercase()
                ),
            )),
        }
        Ok(())
    }

    /// Resolves an address that was a target already (an account's own address or an outside
    /// address): one lookup, no expansion.
    pub fn target(
        &mut self,
        c: &mut Conn,
        address: &str,
    ) -> Result<Result<Target, Failure>, StoreError> {
        let text = bare(address);
        let a = match Address::parse(text, None) {
            Ok(a) => a,
            Err(e) => {
                return Ok(Err(Failure::new(
                    "5.1.3",
                    format!("{text:?} is not a valid address: {e}"),
                )))
            }
        };
        let Some(domain_id) = self.domain(c, &a.domain)? else {
            return Ok(Ok(Target::Outside {
                address: a.to_string(),
            }));
        };
        Ok(
            match repo::find_public(c, domain_id, &a.local.to_lowercase())? {
                Some(
                    o @ DirEntry {
                        home_node_id: Some(home_node_id),
                        ..
                    },
                ) if matches!(o.class.as_str(), "PERSON" | "ROOM" | "EQUIPMENT") => {
                    Ok(Target::Account {
                        object_id: o.object_id,
                        address: display(&o),
                        home_node_id,
                    })
                }
                Some(o) => Err(Failure::new(
                    "5.1.1",
                    format!("{} is no longer an account", display(&o)),
                )),
                None => Err(Failure::new("5.1.1", format!("no such address {a}"))),
            },
        )
    }

    /// What an envelope sender is: outside, a local object, or invalid.
    pub fn sender(&mut self, c: &mut Conn, address: &str) -> Result<Sender, StoreError> {
        let text = bare(address);
        let a = match Address::parse(text, None) {
            Ok(a) => a,
            Err(e) => return Ok(Sender::Invalid(format!("{text:?}: {e}"))),
        };
        let Some(domain_id) = self.domain(c, &a.domain)? else {
            return Ok(Sender::Outside(a.to_string()));
        };
        Ok(
            match repo::find_public(c, domain_id, &a.local.to_lowercase())? {
                None => Sender::Invalid(format!("no such address {a}")),
                Some(o) if o.class.ends_with("TEMPLATE") => {
                    Sender::Invalid(format!("{} is a template", display(&o)))
                }
                Some(o) => Sender::Local {
                    address: a.to_string(),
                    account_id: o.home_node_id.map(|_| o.object_id),
                },
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewriting_rules_apply_in_turn() {
        let r = Rewriter::from_pairs(&[
            (r"^(.*)@old\.example$", "$1@acme.com"),
            (r"^postmaster@(.*)$", "orapost@$1"),
        ])
        .unwrap();
        assert_eq!(r.apply("jdoe@old.example"), "jdoe@acme.com");
        assert_eq!(r.apply("postmaster@old.example"), "orapost@acme.com");
        assert_eq!(r.apply("x@elsewhere.org"), "x@elsewhere.org");
    }

    #[test]
    fn recorded_failures_read_back() {
        let f = Failure::new("5.2.2", "mailbox full");
        assert_eq!(Failure::parse(&f.text()), f);
        assert_eq!(Failure::parse("4.2.2 mailbox full").status, "5.2.2");
        assert_eq!(Failure::parse("something odd").status, "5.0.0");
        let smtp = Failure::parse("5.0.0 550 5.1.1 <x@example.org>: no such user");
        assert_eq!(smtp.status, "5.1.1");
        assert!(smtp.is_smtp_reply());
        assert_eq!(
            Failure::parse("5.4.7 delivery time expired").status,
            "5.4.7"
        );
        assert_eq!(bare(" <a@b.c> "), "a@b.c");
    }
}
