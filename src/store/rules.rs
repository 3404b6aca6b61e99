//! Server-side rules as the store keeps them (`es_rule`, `es_rule_clause`, `es_rule_action`,
//! schema step 6), the memory of auto-replies (`es_autoreply_memory`) and of forwards
//! (`es_rule_forward`), a message's recorded parts, and the call of an ACTION_RUN_PROC
//! procedure (Oracle only). Rows are returned as stored; `crate::rules` gives them meaning and
//! checks them.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{q, Conn, Dialect, Row, StoreError};
use crate::binds;

/// Whose a rule is, as stored: `owner_kind` with its account or domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerKey {
    /// `ACCOUNT`, `DOMAIN` or `SYSTEM`.
    pub kind: &'static str,
    pub account_id: Option<i64>,
    pub domain_id: Option<i64>,
}

impl OwnerKey {
    fn binds(&self, event: &str) -> Vec<(&'static str, super::Value)> {
        binds![
            "owner_kind" => self.kind,
            "account_key" => self.account_id.unwrap_or(0),
            "domain_key" => self.domain_id.unwrap_or(0),
            "event_name" => event.to_string(),
        ]
    }
}

/// A rule's own row, with the names of its owner for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    pub rule_id: i64,
    pub owner_kind: String,
    pub account_id: Option<i64>,
    pub domain_id: Option<i64>,
    pub event: String,
    pub name: String,
    pub position: i64,
    pub active: bool,
    pub description: Option<String>,
    pub group: Option<String>,
    /// `AND`, `OR`, or `None` when the rule has no condition.
    pub cond_join: Option<String>,
    /// The account's name (account rules).
    pub account_name: Option<String>,
    /// The domain of the rule (domain rules) or of its account (account rules).
    pub domain_name: Option<String>,
}

/// A clause as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseRow {
    pub clause_no: i64,
    pub subject_kind: String,
    pub header_name: Option<String>,
    pub operator: String,
    pub negated: bool,
    pub operand: String,
}

/// An action as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRow {
    pub action_no: i64,
    pub kind: String,
    pub param1: Option<String>,
    pub param2: Option<String>,
    pub param3: Option<String>,
}

/// A rule to insert.
#[derive(Debug, Clone)]
pub struct NewRule<'a> {
    pub owner: OwnerKey,
    pub event: &'a str,
    pub name: &'a str,
    pub position: i64,
    pub active: bool,
    pub description: Option<&'a str>,
    pub group: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// A rule found by its owner and name: its id and the attributes a statement may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub rule_id: i64,
    pub position: i64,
    pub active: bool,
    pub cond_join: Option<String>,
    pub description: Option<String>,
    pub group: Option<String>,
}

pub fn insert_rule(c: &mut Conn, r: &NewRule<'_>) -> Result<i64, StoreError> {
    c.insert_returning(
        &q::RULE_INSERT,
        &binds![
            "owner_kind" => r.owner.kind, "account_id" => r.owner.account_id,
            "domain_id" => r.owner.domain_id, "event_name" => r.event, "rule_name" => r.name,
            "position" => r.position, "active" => r.active, "description" => r.description,
            "group_name" => r.group, "created_at" => r.now,
        ],
        "rule_id",
    )
}

/// The rule of an owner with this (stored, lower-case) name for an event.
pub fn find_rule(
    c: &mut Conn,
    owner: &OwnerKey,
    event: &str,
    name: &str,
) -> Result<Option<Found>, StoreError> {
    let mut b = owner.binds(event);
    b.push(("rule_name", name.into()));
    c.query_opt(&q::RULE_FIND, &b)?
        .map(|r| {
            Ok(Found {
                rule_id: r.i64(0)?,
                position: r.i64(1)?,
                active: r.i64(2)? != 0,
                cond_join: r.opt_str(3)?,
                description: r.opt_str(4)?,
                group: r.opt_str(5)?,
            })
        })
        .transpose()
}

/// The highest position among an owner's rules for an event (0 when it has none).
pub fn max_position(c: &mut Conn, owner: &OwnerKey, event: &str) -> Result<i64, StoreError> {
    max_of(c, &q::RULE_MAX_POS, &owner.binds(event))
}

fn max_of(c: &mut Conn, stmt: &super::Stmt, b: &super::Binds) -> Result<i64, StoreError> {
    Ok(c.query_opt(stmt, b)?
        .map(|r| r.opt_i64(0))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

pub fn set_join(c: &mut Conn, rule_id: i64, join: &str) -> Result<(), StoreError> {
    c.execute(
        &q::RULE_SET_JOIN,
        &binds!["cond_join" => join, "rule_id" => rule_id],
    )?;
    Ok(())
}

pub fn set_active(c: &mut Conn, rule_id: i64, active: bool) -> Result<(), StoreError> {
    c.execute(
        &q::RULE_SET_ACTIVE,
        &binds!["active" => active, "rule_id" => rule_id],
    )?;
    Ok(())
}

/// Sets a rule's position, description and group (`None`: none).
pub fn update_rule(
    c: &mut Conn,
    rule_id: i64,
    position: i64,
    description: Option<&str>,
    group: Option<&str>,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        &q::RULE_UPDATE,
        &binds![
            "position" => position, "description" => description, "group_name" => group,
            "rule_id" => rule_id,
        ],
    )? == 1)
}

/// Deletes a rule with its clauses and actions.
pub fn delete_rule(c: &mut Conn, rule_id: i64) -> Result<bool, StoreError> {
    c.execute(&q::RULE_CLAUSE_DELETE, &binds!["rule_id" => rule_id])?;
    c.execute(&q::RULE_ACTION_DELETE, &binds!["rule_id" => rule_id])?;
    Ok(c.execute(&q::RULE_DELETE, &binds!["rule_id" => rule_id])? == 1)
}

/// Appends a clause to a rule's condition; returns its number.
pub fn add_clause(c: &mut Conn, rule_id: i64, cl: &ClauseRow) -> Result<i64, StoreError> {
    let no = max_of(c, &q::RULE_CLAUSE_MAX, &binds!["rule_id" => rule_id])? + 1;
    c.execute(
        &q::RULE_CLAUSE_INSERT,
        &binds![
            "rule_id" => rule_id, "clause_no" => no, "subject_kind" => &cl.subject_kind,
            "header_name" => cl.header_name.as_deref(), "operator" => &cl.operator,
            "negated" => cl.negated, "operand" => &cl.operand,
        ],
    )?;
    Ok(no)
}

/// Appends an action to a rule; returns its number.
pub fn add_action(c: &mut Conn, rule_id: i64, a: &ActionRow) -> Result<i64, StoreError> {
    let no = max_of(c, &q::RULE_ACTION_MAX, &binds!["rule_id" => rule_id])? + 1;
    c.execute(
        &q::RULE_ACTION_INSERT,
        &binds![
            "rule_id" => rule_id, "action_no" => no, "action_kind" => &a.kind,
            "param1" => a.param1.as_deref(), "param2" => a.param2.as_deref(),
            "param3" => a.param3.as_deref(),
        ],
    )?;
    Ok(no)
}

/// Deletes the clause numbered `clause_no` (as stored) from a rule's condition, then numbers
/// the clauses left 1, 2 ... in their order, as `fetch rule` shows them (so that the numbers
/// `add clause` and the Postman's messages give stay the ones `fetch rule` prints). Whether a
/// clause was deleted.
pub fn delete_clause(c: &mut Conn, rule_id: i64, clause_no: i64) -> Result<bool, StoreError> {
    let b = binds!["rule_id" => rule_id, "clause_no" => clause_no];
    if c.execute(&q::RULE_CLAUSE_DELETE_ONE, &b)? != 1 {
        return Ok(false);
    }
    let left: Vec<i64> = clauses(c, rule_id)?.iter().map(|r| r.clause_no).collect();
    renumber(c, &q::RULE_CLAUSE_RENUMBER, "clause_no", rule_id, &left)?;
    Ok(true)
}

/// Deletes the action numbered `action_no` (as stored) from a rule, then numbers the actions
/// left 1, 2 ... in their order (see [`delete_clause`]). Whether an action was deleted.
pub fn delete_action(c: &mut Conn, rule_id: i64, action_no: i64) -> Result<bool, StoreError> {
    let b = binds!["rule_id" => rule_id, "action_no" => action_no];
    if c.execute(&q::RULE_ACTION_DELETE_ONE, &b)? != 1 {
        return Ok(false);
    }
    let left: Vec<i64> = actions(c, rule_id)?.iter().map(|r| r.action_no).collect();
    renumber(c, &q::RULE_ACTION_RENUMBER, "action_no", rule_id, &left)?;
    Ok(true)
}

/// Gives the rows numbered `stored` (ascending) the numbers 1, 2 ..., one row at a time from
/// the first: each row moves down to a number no other row holds (those before it hold the
/// lower ones, those after it higher ones than its own), so the key is never violated on
/// either store, whatever order a multi-row update would take.
fn renumber(
    c: &mut Conn,
    stmt: &super::Stmt,
    column: &'static str,
    rule_id: i64,
    stored: &[i64],
) -> Result<(), StoreError> {
    for (new_no, old_no) in (1..).zip(stored.iter().copied()) {
        if new_no != old_no {
            c.execute(
                stmt,
                &binds!["new_no" => new_no, "rule_id" => rule_id, column => old_no],
            )?;
        }
    }
    Ok(())
}

fn rule_row(r: &Row) -> Result<RuleRow, StoreError> {
    Ok(RuleRow {
        rule_id: r.i64(0)?,
        owner_kind: r.str(1)?,
        account_id: r.opt_i64(2)?,
        domain_id: r.opt_i64(3)?,
        event: r.str(4)?,
        name: r.str(5)?,
        position: r.i64(6)?,
        active: r.i64(7)? != 0,
        description: r.opt_str(8)?,
        group: r.opt_str(9)?,
        cond_join: r.opt_str(10)?,
        account_name: r.opt_str(11)?,
        domain_name: r.opt_str(12)?,
    })
}

/// Every rule of the store: system rules, then domain rules, then account rules (by domain and
/// account), each by event and position.
pub fn list_rules(c: &mut Conn) -> Result<Vec<RuleRow>, StoreError> {
    c.query(&q::RULE_LIST, &[])?.iter().map(rule_row).collect()
}

/// A rule's clauses, in order.
pub fn clauses(c: &mut Conn, rule_id: i64) -> Result<Vec<ClauseRow>, StoreError> {
    c.query(&q::RULE_CLAUSE_LIST, &binds!["rule_id" => rule_id])?
        .iter()
        .map(|r| {
            Ok(ClauseRow {
                clause_no: r.i64(0)?,
                subject_kind: r.str(1)?,
                header_name: r.opt_str(2)?,
                operator: r.str(3)?,
                negated: r.i64(4)? != 0,
                operand: r.str(5)?,
            })
        })
        .collect()
}

/// A rule's actions, in order.
pub fn actions(c: &mut Conn, rule_id: i64) -> Result<Vec<ActionRow>, StoreError> {
    c.query(&q::RULE_ACTION_LIST, &binds!["rule_id" => rule_id])?
        .iter()
        .map(|r| {
            Ok(ActionRow {
                action_no: r.i64(0)?,
                kind: r.str(1)?,
                param1: r.opt_str(2)?,
                param2: r.opt_str(3)?,
                param3: r.opt_str(4)?,
            })
        })
        .collect()
}

/// An active rule that applies at an event for an account, with its clauses and actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRule {
    pub rule_id: i64,
    pub owner_kind: String,
    pub name: String,
    pub position: i64,
    pub cond_join: Option<String>,
    pub clauses: Vec<ClauseRow>,
    pub actions: Vec<ActionRow>,
}

/// The active rules for an event that apply to an account of a domain, in the order they run:
/// the system's, the domain's, the account's own, each by position.
pub fn for_account(
    c: &mut Conn,
    event: &str,
    account_id: i64,
    domain_id: i64,
) -> Result<Vec<StoredRule>, StoreError> {
    let heads = c.query(
        &q::RULE_FOR_DELIVERY,
        &binds!["event_name" => event, "domain_id" => domain_id, "account_id" => account_id],
    )?;
    let mut out = Vec::with_capacity(heads.len());
    for r in &heads {
        let rule_id = r.i64(0)?;
        out.push(StoredRule {
            rule_id,
            owner_kind: r.str(1)?,
            name: r.str(2)?,
            position: r.i64(3)?,
            cond_join: r.opt_str(4)?,
            clauses: clauses(c, rule_id)?,
            actions: actions(c, rule_id)?,
        });
    }
    Ok(out)
}

// ------------------------------------------------------------------ memories

/// When an account last auto-replied to a sender (lower-case address).
pub fn last_autoreply(
    c: &mut Conn,
    account_id: i64,
    sender_key: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(c.query_opt(
        &q::RULE_AUTOREPLY_GET,
        &binds!["account_id" => account_id, "sender_key" => sender_key],
    )?
    .map(|r| r.opt_time(0))
    .transpose()?
    .flatten())
}

/// Records an auto-reply to a sender (replacing an older record).
pub fn remember_autoreply(
    c: &mut Conn,
    account_id: i64,
    sender_key: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let b = binds!["replied_at" => now, "account_id" => account_id, "sender_key" => sender_key];
    if c.execute(&q::RULE_AUTOREPLY_UPDATE, &b)? == 0 {
        c.execute(&q::RULE_AUTOREPLY_INSERT, &b)?;
    }
    Ok(())
}

/// Whether an account's rules forwarded or blind-copied a message already.
pub fn forwarded(c: &mut Conn, message_id: i64, account_id: i64) -> Result<bool, StoreError> {
    Ok(c.query_opt(
        &q::RULE_FORWARD_GET,
        &binds!["message_id" => message_id, "account_id" => account_id],
    )?
    .is_some())
}

/// Records that an account's rules forwarded or blind-copied a message.
pub fn remember_forward(
    c: &mut Conn,
    message_id: i64,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        &q::RULE_FORWARD_INSERT,
        &binds!["message_id" => message_id, "account_id" => account_id, "forwarded_at" => now],
    )?;
    Ok(())
}

/// One leaf part of a stored message, as recorded at arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    pub mime_type: String,
    pub attachment_type: String,
    pub file_name: Option<String>,
}

/// The recorded leaf parts of a message, in order.
pub fn message_parts(c: &mut Conn, message_id: i64) -> Result<Vec<PartRow>, StoreError> {
    c.query(&q::RULE_MESSAGE_PARTS, &binds!["message_id" => message_id])?
        .iter()
        .map(|r| {
            Ok(PartRow {
                mime_type: r.str(0)?,
                attachment_type: r.str(1)?,
                file_name: r.opt_str(2)?,
            })
        })
        .collect()
}

// ------------------------------------------------------------------ ACTION_RUN_PROC

/// Calls the site's procedure `name` (checked again by `DBMS_ASSERT`) with (folder id, message
/// uid, param1, param2), in the caller's transaction, with a time limit per round trip. Oracle
/// only: on the embedded store this is an error and nothing is run.
#[allow(clippy::too_many_arguments)]
pub fn run_procedure(
    c: &mut Conn,
    name: &str,
    folder_id: Option<i64>,
    msg_uid: Option<i64>,
    param1: Option<&str>,
    param2: Option<&str>,
    limit: Duration,
) -> Result<(), StoreError> {
    if c.dialect() != Dialect::Oracle {
        return Err(StoreError::Sql {
            stmt: q::RULE_RUN_PROC.name.to_string(),
            message: "ACTION_RUN_PROC needs the Oracle store".into(),
        });
    }
    c.set_call_timeout(Some(limit))?;
    let r = c.execute(
        &q::RULE_RUN_PROC,
        &binds![
            "proc_name" => name, "folder_id" => folder_id, "msg_uid" => msg_uid,
            "param1" => param1, "param2" => param2,
        ],
    );
    let reset = c.set_call_timeout(None);
    r?;
    reset
}
