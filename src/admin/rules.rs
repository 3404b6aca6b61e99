//! The IOFCMGR statements of server-side rules (docs/iofcmgr.md, section 10; docs/rules.md):
//!
//! ```text
//! create rule  name=N OWNER [event=delivery] [position=P] [description=T] [group=G] [active=yes|no];
//! add cond     rule=N OWNER join=and|or;
//! add clause   rule=N OWNER on=KIND [header=NAME] op=OP [not=yes] value=V;
//! add action   rule=N OWNER do=KIND [attributes of the kind];
//! modify rule  name=N OWNER [position=P] [description=T] [group=G];
//! delete clause rule=N OWNER number=K;
//! delete action rule=N OWNER number=K;
//! delete rule  name=N OWNER;
//! enable rule  name=N OWNER;
//! disable rule name=N OWNER;
//! fetch rule   [filters];
//! OWNER: username=U [domain=D] | domain=D | system=yes
//! ```
//!
//! Each statement checks everything first and changes nothing when it fails; the rows are
//! written through the session's connection, in its transaction.

use super::error::AdminError;
use super::script::Tokens;
use super::session::Output;
use crate::directory::{self, address, Args, Ctx, Entry};
use crate::rules::error::RuleError;
use crate::rules::model::{Action, ActionKind, Clause, Join, Operator, Subject, EVENT_DELIVERY};
use crate::rules::validate as v;
use crate::store::rules::{self as repo, Found, NewRule, OwnerKey, RuleRow};
use crate::store::{mailbox, system, Conn, Dialect};

type R<T> = Result<T, RuleError>;

/// Runs the statement when it is one of the rules' (`create rule`, `add cond`, `delete clause`
/// ...); `None` when it is not.
pub fn dispatch(c: &mut Conn, ctx: &Ctx, t: &Tokens) -> Option<Result<Output, AdminError>> {
    let verb = t.words.first().map(String::as_str)?;
    let what = t.words.get(1).map(String::as_str).unwrap_or("");
    let run = match (verb, what) {
        ("create", "rule") => create,
        ("modify", "rule") => modify,
        ("delete", "rule") => delete,
        ("delete", "clause") => delete_clause,
        ("delete", "action") => delete_action,
        ("enable", "rule") => enable,
        ("disable", "rule") => disable,
        ("fetch", "rule") => fetch,
        ("add", "cond" | "condition") => add_cond,
        ("add", "clause") => add_clause,
        ("add", "action") => add_action,
        ("add" | "enable" | "disable", _) => {
            let hint = if verb == "add" {
                "add cond ...; add clause ...; or add action ..."
            } else {
                "enable rule ...; or disable rule ..."
            };
            return Some(Err(format!("{verb} what? ({hint})").into()));
        }
        _ => return None,
    };
    if let Some(w) = t.words.get(2) {
        return Some(Err(format!("{verb} {what}: unexpected word {w}").into()));
    }
    let args = match Args::new(
        t.args
            .iter()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect(),
    ) {
        Ok(a) => a,
        Err(e) => return Some(Err(e.into())),
    };
    Some(run(c, ctx, args).map_err(|e| AdminError(e.to_string())))
}

// ------------------------------------------------------------------ owners

const OWNER_ATTRS: &[&str] = &["username", "domain", "system"];

/// A rule's owner, found.
struct Owner {
    key: OwnerKey,
    /// `jdoe@acme.com`, `domain acme.com`, `the system`.
    label: String,
}

fn dir(e: directory::DirError) -> RuleError {
    match e {
        directory::DirError::NotFound(m) => RuleError::NotFound(m),
        directory::DirError::Store(s) => RuleError::Store(s),
        other => RuleError::Invalid(other.to_string()),
    }
}

/// Reads `username=U [domain=D]`, `domain=D` or `system=yes` and finds the owner.
fn owner(c: &mut Conn, args: &mut Args) -> R<Owner> {
    let username = args.take(&["username"]).filter(|s| !s.trim().is_empty());
    let domain = args.take(&["domain"]).filter(|s| !s.trim().is_empty());
    let system = match args.take(&["system"]) {
        Some(s) => v::yes_no("system", &s)?,
        None => false,
    };
    if system {
        if username.is_some() || domain.is_some() {
            return Err(RuleError::Invalid(
                "system=yes names the system's rules: give neither username= nor domain=".into(),
            ));
        }
        return Ok(Owner {
            key: OwnerKey {
                kind: "SYSTEM",
                account_id: None,
                domain_id: None,
            },
            label: "the system".into(),
        });
    }
    let d = match &domain {
        Some(d) => {
            let name = address::check_domain(d).map_err(dir)?;
            system::domain_by_name(c, &name)?
                .ok_or_else(|| RuleError::NotFound(format!("no domain {name}")))?
        }
        None if username.is_some() => directory::default_domain(c).map_err(dir)?,
        None => {
            return Err(RuleError::Invalid(
                "name the rule's owner: username=NAME [domain=DOMAIN] (an account's rule), domain=DOMAIN (a domain's) or system=yes (the system's)".into(),
            ))
        }
    };
    let Some(user) = username else {
        return Ok(Owner {
            key: OwnerKey {
                kind: "DOMAIN",
                account_id: None,
                domain_id: Some(d.domain_id),
            },
            label: format!("domain {}", d.name),
        });
    };
    let addr = format!("{}@{}", user.trim(), d.name);
    let obj = crate::store::directory::find_object(c, d.domain_id, 0, &user.trim().to_lowercase())?
        .ok_or_else(|| RuleError::NotFound(format!("no account {addr}")))?;
    if mailbox::account(c, obj.object_id)?.is_none() {
        return Err(RuleError::Invalid(format!(
            "{addr} is a {}, not an account: only persons, rooms and equipment have rules",
            obj.class.to_lowercase()
        )));
    }
    Ok(Owner {
        key: OwnerKey {
            kind: "ACCOUNT",
            account_id: Some(obj.object_id),
            domain_id: None,
        },
        label: format!("{}@{}", obj.name, obj.domain),
    })
}

/// The event of `event=` (only `delivery` in this version).
fn event(args: &mut Args) -> R<&'static str> {
    match args.take(&["event"]) {
        None => Ok(EVENT_DELIVERY),
        Some(e) if e.trim().eq_ignore_ascii_case("delivery") => Ok(EVENT_DELIVERY),
        Some(e) => Err(RuleError::Invalid(format!(
            "event={e:?}: rules attach to event=delivery (the only event of this version)"
        ))),
    }
}

/// The rule named by `name=` (or `rule=`) of an owner.
fn find(c: &mut Conn, args: &mut Args, what: &str) -> R<(Owner, String, Found)> {
    let name = match args.take(&["rule", "name"]) {
        Some(n) if !n.trim().is_empty() => v::rule_name(&n)?,
        _ => {
            return Err(RuleError::Invalid(format!(
                "{what} needs rule= (the rule's name)"
            )))
        }
    };
    let owner = owner(c, args)?;
    let ev = event(args)?;
    let found = repo::find_rule(c, &owner.key, ev, &name)?
        .ok_or_else(|| RuleError::NotFound(format!("no rule {name} for {}", owner.label)))?;
    Ok((owner, name, found))
}

fn finish(args: Args, what: &str, extra: &[&str]) -> R<()> {
    let mut known: Vec<&str> = vec!["rule", "name"];
    known.extend_from_slice(OWNER_ATTRS);
    known.push("event");
    known.extend_from_slice(extra);
    args.finish(what, &known).map_err(dir)
}

// ------------------------------------------------------------------ statements

fn create(c: &mut Conn, ctx: &Ctx, mut args: Args) -> R<Output> {
    let name = match args.take(&["name", "rule"]) {
        Some(n) if !n.trim().is_empty() => v::rule_name(&n)?,
        _ => return Err(RuleError::Invalid("create rule needs name=".into())),
    };
    let owner = owner(c, &mut args)?;
    let ev = event(&mut args)?;
    let position = match args.take(&["position"]) {
        Some(p) => Some(directory_int("position", &p)?),
        None => None,
    };
    let description = description(args.take(&["description"]).as_deref())?;
    let group = group(args.take(&["group"]).as_deref())?;
    let active = match args.take(&["active"]) {
        Some(a) => v::yes_no("active", &a)?,
        None => true,
    };
    finish(
        args,
        "create rule",
        &["position", "description", "group", "active"],
    )?;
    if repo::find_rule(c, &owner.key, ev, &name)?.is_some() {
        return Err(RuleError::Conflict(format!(
            "rule {name} already exists for {}",
            owner.label
        )));
    }
    let position = match position {
        Some(p) => p,
        None => repo::max_position(c, &owner.key, ev)?.saturating_add(10),
    };
    repo::insert_rule(
        c,
        &NewRule {
            owner: owner.key,
            event: ev,
            name: &name,
            position,
            active,
            description: description.as_deref(),
            group: group.as_deref(),
            now: ctx.now,
        },
    )?;
    Ok(Output::Done(format!(
        "created rule {name} for {} (position {position}{})",
        owner.label,
        if active { "" } else { ", disabled" }
    )))
}

/// `description=`: one line of at most 1,000 characters; empty means none.
fn description(v: Option<&str>) -> R<Option<String>> {
    v::opt_line("description", v, v::MAX_DESCRIPTION)
}

/// `group=`: one line of at most 128 characters; empty means none.
fn group(v: Option<&str>) -> R<Option<String>> {
    v::opt_line("group", v, v::MAX_GROUP)
}

/// Changes a rule's position, description or group; an empty description or group clears it.
fn modify(c: &mut Conn, _ctx: &Ctx, mut args: Args) -> R<Output> {
    let (owner, name, found) = find(c, &mut args, "modify rule")?;
    let position = match args.take(&["position"]) {
        Some(p) => Some(directory_int("position", &p)?),
        None => None,
    };
    let new_description = match args.take(&["description"]) {
        Some(d) => Some(description(Some(&d))?),
        None => None,
    };
    let new_group = match args.take(&["group"]) {
        Some(g) => Some(group(Some(&g))?),
        None => None,
    };
    finish(args, "modify rule", &["position", "description", "group"])?;
    if position.is_none() && new_description.is_none() && new_group.is_none() {
        return Err(RuleError::Invalid(
            "modify rule names nothing to change (position, description, group)".into(),
        ));
    }
    let position = position.unwrap_or(found.position);
    let description = new_description.unwrap_or(found.description);
    let group = new_group.unwrap_or(found.group);
    repo::update_rule(
        c,
        found.rule_id,
        position,
        description.as_deref(),
        group.as_deref(),
    )?;
    Ok(Output::Done(format!(
        "modified rule {name} of {} (position {position})",
        owner.label
    )))
}

/// `number=`: which clause or action, counted from 1 as `fetch rule` shows them.
fn number(args: &mut Args, what: &str) -> R<usize> {
    let Some(n) = args.take(&["number"]) else {
        return Err(RuleError::Invalid(format!(
            "{what} needs number=N (the number fetch rule shows, from 1)"
        )));
    };
    match n.trim().parse::<usize>() {
        Ok(k) if k >= 1 => Ok(k),
        _ => Err(RuleError::Invalid(format!(
            "number={n:?}: expected a whole number of at least 1"
        ))),
    }
}

/// "has no clause 4 (it has 3 clauses)", "has no clause 1 (it has none)".
fn out_of_range(what: &str, n: usize, count: usize) -> String {
    let has = match count {
        0 => "none".to_string(),
        1 => format!("1 {what}"),
        k => format!("{k} {what}s"),
    };
    format!("has no {what} {n} (it has {has})")
}

/// Deletes the Nth clause of a rule's condition; the clauses after it move up one.
fn delete_clause(c: &mut Conn, _ctx: &Ctx, mut args: Args) -> R<Output> {
    let (owner, name, found) = find(c, &mut args, "delete clause")?;
    let n = number(&mut args, "delete clause")?;
    finish(args, "delete clause", &["number"])?;
    let rows = repo::clauses(c, found.rule_id)?;
    let Some(row) = rows.get(n - 1) else {
        return Err(RuleError::NotFound(format!(
            "rule {name} of {} {}",
            owner.label,
            out_of_range("clause", n, rows.len())
        )));
    };
    if !repo::delete_clause(c, found.rule_id, row.clause_no)? {
        return Err(RuleError::NotFound(format!(
            "rule {name} of {}: clause {n} is gone (deleted meanwhile)",
            owner.label
        )));
    }
    Ok(Output::Done(format!(
        "deleted clause {n} of rule {name} of {} ({} left)",
        owner.label,
        rows.len() - 1
    )))
}

/// Deletes the Nth action of a rule; the actions after it move up one, in their order.
fn delete_action(c: &mut Conn, _ctx: &Ctx, mut args: Args) -> R<Output> {
    let (owner, name, found) = find(c, &mut args, "delete action")?;
    let n = number(&mut args, "delete action")?;
    finish(args, "delete action", &["number"])?;
    let rows = repo::actions(c, found.rule_id)?;
    let Some(row) = rows.get(n - 1) else {
        return Err(RuleError::NotFound(format!(
            "rule {name} of {} {}",
            owner.label,
            out_of_range("action", n, rows.len())
        )));
    };
    if !repo::delete_action(c, found.rule_id, row.action_no)? {
        return Err(RuleError::NotFound(format!(
            "rule {name} of {}: action {n} is gone (deleted meanwhile)",
            owner.label
        )));
    }
    Ok(Output::Done(format!(
        "deleted action {n} ({}) of rule {name} of {} ({} left)",
        row.kind.to_ascii_lowercase(),
        owner.label,
        rows.len() - 1
    )))
}

fn directory_int(name: &str, v: &str) -> R<i64> {
    match v.trim().parse::<i64>() {
        Ok(n) if (1..=i32::MAX as i64).contains(&n) => Ok(n),
        _ => Err(RuleError::Invalid(format!(
            "{name}={v:?}: expected a whole number of at least 1"
        ))),
    }
}

fn delete(c: &mut Conn, _ctx: &Ctx, mut args: Args) -> R<Output> {
    let (owner, name, found) = find(c, &mut args, "delete rule")?;
    finish(args, "delete rule", &[])?;
    repo::delete_rule(c, found.rule_id)?;
    Ok(Output::Done(format!(
        "deleted rule {name} of {}",
        owner.label
    )))
}

fn enable(c: &mut Conn, _ctx: &Ctx, args: Args) -> R<Output> {
    set_active(c, args, true)
}

fn disable(c: &mut Conn, _ctx: &Ctx, args: Args) -> R<Output> {
    set_active(c, args, false)
}

fn set_active(c: &mut Conn, mut args: Args, on: bool) -> R<Output> {
    let what = if on { "enable rule" } else { "disable rule" };
    let (owner, name, found) = find(c, &mut args, what)?;
    finish(args, what, &[])?;
    repo::set_active(c, found.rule_id, on)?;
    Ok(Output::Done(format!(
        "{} rule {name} of {}",
        if on { "enabled" } else { "disabled" },
        owner.label
    )))
}

fn add_cond(c: &mut Conn, _ctx: &Ctx, mut args: Args) -> R<Output> {
    let (owner, name, found) = find(c, &mut args, "add cond")?;
    let join = match args.take(&["join"]) {
        Some(j) => Join::parse(&j)?,
        None => {
            return Err(RuleError::Invalid(
                "add cond needs join=and or join=or".into(),
            ))
        }
    };
    finish(args, "add cond", &["join"])?;
    if found.cond_join.is_some() {
        return Err(RuleError::Conflict(format!(
            "rule {name} of {} has a condition already (a rule has at most one)",
            owner.label
        )));
    }
    repo::set_join(c, found.rule_id, join.stored())?;
    Ok(Output::Done(format!(
        "added a condition (join={}) to rule {name} of {}",
        join.keyword(),
        owner.label
    )))
}

fn add_clause(c: &mut Conn, _ctx: &Ctx, mut args: Args) -> R<Output> {
    let (owner, name, found) = find(c, &mut args, "add clause")?;
    let on = args.take(&["on"]);
    let header = args.take(&["header"]);
    let op = args.take(&["op"]);
    let not = args.take(&["not"]);
    let value = args.take(&["value"]);
    finish(args, "add clause", &["on", "header", "op", "not", "value"])?;
    let (Some(on), Some(op)) = (on, op) else {
        return Err(RuleError::Invalid(
            "add clause needs on=KIND and op=OPERATOR (and value=)".into(),
        ));
    };
    let Some(value) = value else {
        return Err(RuleError::Invalid(
            "add clause needs value= (the text or size to compare with)".into(),
        ));
    };
    let negated = match not {
        Some(n) => v::yes_no("not", &n)?,
        None => false,
    };
    let clause = Clause::new(
        Subject::parse(&on, header.as_deref())?,
        Operator::parse(&op)?,
        negated,
        &value,
    )?;
    if found.cond_join.is_none() {
        return Err(RuleError::Conflict(format!(
            "rule {name} of {} has no condition yet: add cond rule={name} ... join=and|or; first",
            owner.label
        )));
    }
    let no = repo::add_clause(c, found.rule_id, &clause.to_row())?;
    Ok(Output::Done(format!(
        "added clause {no} to rule {name} of {}",
        owner.label
    )))
}

fn add_action(c: &mut Conn, _ctx: &Ctx, mut args: Args) -> R<Output> {
    let (owner, name, found) = find(c, &mut args, "add action")?;
    let kind = match args.take(&["do"]) {
        Some(k) => ActionKind::parse(&k)?,
        None => {
            return Err(RuleError::Invalid(
                "add action needs do=KIND (pass, forward, bcc, copyto, moveto, discard, reject, reply, notify, setprop, runproc)".into(),
            ))
        }
    };
    let mut given: Vec<(&str, String)> = Vec::new();
    for a in kind.attributes() {
        if let Some(v) = args.take(&[a]) {
            given.push((a, v));
        }
    }
    let mut known = vec!["do"];
    known.extend_from_slice(kind.attributes());
    finish(args, &format!("add action do={}", kind.keyword()), &known)?;
    if kind == ActionKind::RunProc && c.dialect() != Dialect::Oracle {
        return Err(RuleError::NeedsOracle(
            "do=runproc needs the Oracle store: ACTION_RUN_PROC calls a PL/SQL procedure in the delivery transaction, and this is the embedded store".into(),
        ));
    }
    let action = Action::build(kind, |n| {
        given.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone())
    })?;
    let no = repo::add_action(c, found.rule_id, &action.to_row())?;
    Ok(Output::Done(format!(
        "added action {no} ({}) to rule {name} of {}",
        kind.keyword(),
        owner.label
    )))
}

// ------------------------------------------------------------------ fetch

const FETCH_ATTRS: &[&str] = &[
    "name",
    "username",
    "domain",
    "system",
    "event",
    "position",
    "active",
    "description",
    "group",
    "join",
];

/// Whether a filter names an attribute `fetch rule` prints.
fn known_filter(name: &str) -> bool {
    if FETCH_ATTRS.contains(&name) {
        return true;
    }
    let Some((head, _)) = name.split_once('.') else {
        return false;
    };
    ["clause", "action"].iter().any(|p| {
        head.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

fn fetch(c: &mut Conn, _ctx: &Ctx, args: Args) -> R<Output> {
    let filters = args.into_items();
    if let Some((n, _)) = filters.iter().find(|(n, _)| !known_filter(n)) {
        return Err(RuleError::Invalid(format!(
            "unknown attribute {n} for rule (known: {}, clauseN.on/header/op/not/value, actionN.do/...)",
            FETCH_ATTRS.join(", ")
        )));
    }
    let mut entries = Vec::new();
    for r in repo::list_rules(c)? {
        entries.push(entry(c, &r)?);
    }
    Ok(Output::Entries(directory::filter_entries(
        entries, &filters,
    )))
}

fn entry(c: &mut Conn, r: &RuleRow) -> R<Entry> {
    let mut e: Entry = vec![("name".into(), r.name.clone())];
    match r.owner_kind.as_str() {
        "ACCOUNT" => {
            e.push((
                "username".into(),
                r.account_name.clone().unwrap_or_default(),
            ));
            e.push(("domain".into(), r.domain_name.clone().unwrap_or_default()));
        }
        "DOMAIN" => e.push(("domain".into(), r.domain_name.clone().unwrap_or_default())),
        _ => e.push(("system".into(), "yes".into())),
    }
    e.push(("event".into(), r.event.to_ascii_lowercase()));
    e.push(("position".into(), r.position.to_string()));
    e.push(("active".into(), if r.active { "yes" } else { "no" }.into()));
    if let Some(d) = &r.description {
        e.push(("description".into(), d.clone()));
    }
    if let Some(g) = &r.group {
        e.push(("group".into(), g.clone()));
    }
    if let Some(j) = &r.cond_join {
        e.push(("join".into(), j.to_ascii_lowercase()));
    }
    for (i, row) in repo::clauses(c, r.rule_id)?.iter().enumerate() {
        let key = |a: &str| format!("clause{}.{a}", i + 1);
        match Clause::from_row(row) {
            Ok(cl) => {
                for (a, val) in cl.attributes() {
                    e.push((key(a), val));
                }
            }
            Err(err) => e.push((key("invalid"), err.to_string())),
        }
    }
    for (i, row) in repo::actions(c, r.rule_id)?.iter().enumerate() {
        let key = |a: &str| format!("action{}.{a}", i + 1);
        match Action::from_row(row) {
            Ok(a) => {
                for (n, val) in a.attributes() {
                    e.push((key(n), val));
                }
            }
            Err(err) => e.push((key("invalid"), err.to_string())),
        }
    }
    Ok(e)
}
