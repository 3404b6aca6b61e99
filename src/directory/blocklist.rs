//! The block lists: senders (`blockedsender address=...`) and sender domains
//! (`blockeddomain name=...`) whose mail the SMTP gateway refuses at MAIL FROM.

use super::address::{check_domain, Address};
use super::error::{invalid, DirError, Result};
use super::{filter_entries, Args, Ctx, Entry, Outcome};
use crate::store::{blocklist, Conn, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sender,
    Domain,
}

impl Kind {
    fn stored(self) -> &'static str {
        match self {
            Kind::Sender => "SENDER",
            Kind::Domain => "DOMAIN",
        }
    }
    fn class(self) -> &'static str {
        match self {
            Kind::Sender => "blockedsender",
            Kind::Domain => "blockeddomain",
        }
    }
    fn key_attr(self) -> &'static str {
        match self {
            Kind::Sender => "address",
            Kind::Domain => "name",
        }
    }
    fn known(self) -> [&'static str; 2] {
        [self.key_attr(), "reason"]
    }
}

/// The stored form of a pattern: a lower-case address, or a lower-case domain name.
fn key(kind: Kind, v: &str) -> Result<String> {
    match kind {
        Kind::Sender => Ok(Address::parse(v, None)?.to_string().to_lowercase()),
        Kind::Domain => check_domain(v),
    }
}

fn entry(b: &blocklist::Block, kind: Kind) -> Entry {
    let mut e = vec![(kind.key_attr().to_string(), b.pattern.clone())];
    if let Some(r) = &b.reason {
        e.push(("reason".into(), r.clone()));
    }
    e
}

pub fn create(c: &mut Conn, ctx: &Ctx, kind: Kind, mut args: Args) -> Result<Outcome> {
    let k = key(kind, &args.require(&[kind.key_attr()], kind.class())?)?;
    let reason = args.take(&["reason"]).filter(|r| !r.is_empty());
    args.finish(kind.class(), &kind.known())?;
    if let Some(r) = &reason {
        if r.chars().count() > 1000 {
            return invalid("reason: at most 1000 characters");
        }
    }
    blocklist::insert(c, kind.stored(), &k, reason.as_deref(), ctx.now).map_err(|e| match e {
        StoreError::Unique(_) => {
            DirError::Conflict(format!("{} {k} is already blocked", kind.class()))
        }
        e => DirError::Store(e),
    })?;
    Ok(Outcome {
        message: format!("created {} {k}", kind.class()),
    })
}

pub fn delete(c: &mut Conn, kind: Kind, mut args: Args) -> Result<Outcome> {
    let k = key(kind, &args.require(&[kind.key_attr()], kind.class())?)?;
    args.finish(kind.class(), &[kind.key_attr()])?;
    if blocklist::delete(c, kind.stored(), &k)? == 0 {
        return Err(DirError::NotFound(format!("no {} {k}", kind.class())));
    }
    Ok(Outcome {
        message: format!("deleted {} {k}", kind.class()),
    })
}

pub fn modify(c: &mut Conn, ctx: &Ctx, kind: Kind, mut args: Args) -> Result<Outcome> {
    let k = key(kind, &args.require(&[kind.key_attr()], kind.class())?)?;
    let Some(reason) = args.take(&["reason"]) else {
        args.finish(kind.class(), &kind.known())?;
        return invalid(format!(
            "modify {} names nothing to change (reason)",
            kind.class()
        ));
    };
    args.finish(kind.class(), &kind.known())?;
    if blocklist::delete(c, kind.stored(), &k)? == 0 {
        return Err(DirError::NotFound(format!("no {} {k}", kind.class())));
    }
    let reason = Some(reason).filter(|r| !r.is_empty());
    blocklist::insert(c, kind.stored(), &k, reason.as_deref(), ctx.now)?;
    Ok(Outcome {
        message: format!("modified {} {k}", kind.class()),
    })
}

pub fn fetch(c: &mut Conn, kind: Kind, args: Args) -> Result<Vec<Entry>> {
    let filters = args.into_items();
    for (n, _) in &filters {
        if !kind.known().contains(&n.as_str()) {
            return invalid(format!(
                "unknown attribute {n} for fetch {} (known: {})",
                kind.class(),
                kind.known().join(", ")
            ));
        }
    }
    let entries = blocklist::list(c, kind.stored())?
        .iter()
        .map(|b| entry(b, kind))
        .collect();
    Ok(filter_entries(entries, &filters))
}
