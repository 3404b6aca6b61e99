//! What a rule is: its owner and event, at most one condition (clauses joined by AND or OR),
//! and ordered actions; how each is written in IOFCMGR (`on=subject op=contains ...`,
//! `do=forward to=...`) and how it is stored (`es_rule_clause`, `es_rule_action` with
//! `param1..3`). Every value is checked when it is built, from a statement or from a row.

use super::error::{invalid, Result, RuleError};
use super::validate as v;
use crate::store::rules::{ActionRow, ClauseRow, StoredRule};

/// The only event rules attach to in this version.
pub const EVENT_DELIVERY: &str = "DELIVERY";

/// Whose a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    /// A user rule: one account's.
    Account,
    /// An administrator rule for every account of a domain.
    Domain,
    /// An administrator rule for every account of the store.
    System,
}

impl OwnerKind {
    pub fn stored(self) -> &'static str {
        match self {
            OwnerKind::Account => "ACCOUNT",
            OwnerKind::Domain => "DOMAIN",
            OwnerKind::System => "SYSTEM",
        }
    }

    pub fn from_stored(s: &str) -> Result<OwnerKind> {
        Ok(match s {
            "ACCOUNT" => OwnerKind::Account,
            "DOMAIN" => OwnerKind::Domain,
            "SYSTEM" => OwnerKind::System,
            other => return invalid(format!("unknown rule owner kind {other:?}")),
        })
    }
}

/// How the clauses of a condition combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    And,
    Or,
}

impl Join {
    pub fn parse(s: &str) -> Result<Join> {
        match s.trim().to_ascii_lowercase().as_str() {
            "and" => Ok(Join::And),
            "or" => Ok(Join::Or),
            _ => invalid(format!("join={s:?}: expected and or or")),
        }
    }

    pub fn stored(self) -> &'static str {
        match self {
            Join::And => "AND",
            Join::Or => "OR",
        }
    }

    pub fn keyword(self) -> &'static str {
        match self {
            Join::And => "and",
            Join::Or => "or",
        }
    }
}

/// What a clause looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Every value of a header field (decoded).
    Header(String),
    /// The envelope sender, the `From:` field and its addresses.
    Sender,
    /// The envelope recipient (the account), the `To:` and `Cc:` fields and their addresses.
    Recipient,
    /// The `Subject:` field (decoded).
    Subject,
    /// The message's size in bytes.
    Size,
    /// The decoded text of every text part of the body.
    Body,
    /// Each attachment's type (`IMAGE`), MIME type (`image/png`) and file name.
    Attachment,
}

/// The subject keywords of `on=`.
pub const SUBJECTS: &[&str] = &[
    "header",
    "sender",
    "recipient",
    "subject",
    "size",
    "body",
    "attachment",
];

impl Subject {
    /// `on=KIND` with its `header=NAME` (only for, and required by, `on=header`).
    pub fn parse(kind: &str, header: Option<&str>) -> Result<Subject> {
        let k = kind.trim().to_ascii_lowercase();
        let s = match k.as_str() {
            "header" => {
                let Some(h) = header.filter(|h| !h.trim().is_empty()) else {
                    return invalid("on=header needs header=NAME (the header field to test)");
                };
                return Ok(Subject::Header(v::header_name(h)?));
            }
            "sender" => Subject::Sender,
            "recipient" => Subject::Recipient,
            "subject" => Subject::Subject,
            "size" => Subject::Size,
            "body" => Subject::Body,
            "attachment" => Subject::Attachment,
            _ => {
                return invalid(format!(
                    "on={kind:?}: expected one of {}",
                    SUBJECTS.join(", ")
                ))
            }
        };
        if header.is_some_and(|h| !h.trim().is_empty()) {
            return invalid(format!("header= goes only with on=header, not on={k}"));
        }
        Ok(s)
    }

    pub fn keyword(&self) -> &'static str {
        match self {
            Subject::Header(_) => "header",
            Subject::Sender => "sender",
            Subject::Recipient => "recipient",
            Subject::Subject => "subject",
            Subject::Size => "size",
            Subject::Body => "body",
            Subject::Attachment => "attachment",
        }
    }

    pub fn stored(&self) -> &'static str {
        match self {
            Subject::Header(_) => "HEADER",
            Subject::Sender => "SENDER",
            Subject::Recipient => "RECIPIENT",
            Subject::Subject => "SUBJECT",
            Subject::Size => "SIZE",
            Subject::Body => "BODY",
            Subject::Attachment => "ATTACHMENT",
        }
    }
}

/// How a clause compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// The value contains the operand (without regard to case).
    Contains,
    /// The value is the operand (without regard to case, surrounding spaces ignored).
    Equals,
    /// The value matches the operand, a glob (`*`, `?`; see [`super::pattern`]).
    Matches,
    /// Size only: larger than the operand.
    Greater,
    /// Size only: smaller than the operand.
    Less,
}

pub const OPERATORS: &[&str] = &["contains", "equals", "matches", "greater", "less"];

impl Operator {
    pub fn parse(s: &str) -> Result<Operator> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "contains" => Operator::Contains,
            "equals" => Operator::Equals,
            "matches" => Operator::Matches,
            "greater" => Operator::Greater,
            "less" => Operator::Less,
            _ => {
                return invalid(format!(
                    "op={s:?}: expected one of {}",
                    OPERATORS.join(", ")
                ))
            }
        })
    }

    pub fn keyword(self) -> &'static str {
        match self {
            Operator::Contains => "contains",
            Operator::Equals => "equals",
            Operator::Matches => "matches",
            Operator::Greater => "greater",
            Operator::Less => "less",
        }
    }

    pub fn stored(self) -> &'static str {
        match self {
            Operator::Contains => "CONTAINS",
            Operator::Equals => "EQUALS",
            Operator::Matches => "MATCHES",
            Operator::Greater => "GREATER",
            Operator::Less => "LESS",
        }
    }
}

/// What a clause compares with: text, or a size in bytes (`on=size`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Text(String),
    Bytes(i64),
}

/// One test of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub subject: Subject,
    pub op: Operator,
    /// `not=yes`: the clause holds when the test fails.
    pub negated: bool,
    pub operand: Operand,
}

impl Clause {
    /// Checks that the operator suits the subject (`greater` and `less` for `size` only, and
    /// `size` only with them) and reads the operand (a size for `size`, else non-empty text).
    pub fn new(subject: Subject, op: Operator, negated: bool, value: &str) -> Result<Clause> {
        let sized = matches!(op, Operator::Greater | Operator::Less);
        let operand = match (&subject, sized) {
            (Subject::Size, true) => Operand::Bytes(v::size(value)?),
            (Subject::Size, false) => {
                return invalid(format!(
                    "on=size takes op=greater or op=less, not op={}",
                    op.keyword()
                ))
            }
            (s, true) => {
                return invalid(format!(
                    "op={} compares sizes: it goes only with on=size, not on={}",
                    op.keyword(),
                    s.keyword()
                ))
            }
            (_, false) => {
                if value.is_empty() {
                    return invalid("value= is empty: give the text to compare with");
                }
                Operand::Text(v::line("value", value, v::MAX_OPERAND)?)
            }
        };
        Ok(Clause {
            subject,
            op,
            negated,
            operand,
        })
    }

    pub fn from_row(r: &ClauseRow) -> Result<Clause> {
        let subject = match r.subject_kind.as_str() {
            "HEADER" => Subject::Header(v::header_name(r.header_name.as_deref().unwrap_or(""))?),
            other => Subject::parse(other, None)?,
        };
        Clause::new(
            subject,
            Operator::parse(&r.operator)?,
            r.negated,
            &r.operand,
        )
        .map_err(|e| RuleError::Invalid(format!("clause {}: {e}", r.clause_no)))
    }

    pub fn to_row(&self) -> ClauseRow {
        ClauseRow {
            clause_no: 0,
            subject_kind: self.subject.stored().to_string(),
            header_name: match &self.subject {
                Subject::Header(h) => Some(h.clone()),
                _ => None,
            },
            operator: self.op.stored().to_string(),
            negated: self.negated,
            operand: self.operand_text(),
        }
    }

    /// The operand as written back (`value=`).
    pub fn operand_text(&self) -> String {
        match &self.operand {
            Operand::Text(t) => t.clone(),
            Operand::Bytes(n) => n.to_string(),
        }
    }

    /// The clause as IOFCMGR attributes, in the order of `add clause`.
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("on", self.subject.keyword().to_string())];
        if let Subject::Header(h) = &self.subject {
            out.push(("header", h.clone()));
        }
        out.push(("op", self.op.keyword().to_string()));
        if self.negated {
            out.push(("not", "yes".into()));
        }
        out.push(("value", self.operand_text()));
        out
    }
}

/// A rule's condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub join: Join,
    /// None yet: the condition never holds (a rule being built does nothing).
    pub clauses: Vec<Clause>,
}

/// A message flag that `setprop` sets or clears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Seen,
    Deleted,
    Flagged,
    Answered,
    Draft,
}

pub const FLAGS: &[&str] = &["seen", "deleted", "flagged", "answered", "draft"];

impl Flag {
    pub fn parse(s: &str) -> Result<Flag> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "seen" => Flag::Seen,
            "deleted" => Flag::Deleted,
            "flagged" => Flag::Flagged,
            "answered" => Flag::Answered,
            "draft" => Flag::Draft,
            _ => return invalid(format!("flag={s:?}: expected one of {}", FLAGS.join(", "))),
        })
    }

    pub fn keyword(self) -> &'static str {
        match self {
            Flag::Seen => "seen",
            Flag::Deleted => "deleted",
            Flag::Flagged => "flagged",
            Flag::Answered => "answered",
            Flag::Draft => "draft",
        }
    }

    /// The IMAP system flag.
    pub fn imap(self) -> &'static str {
        match self {
            Flag::Seen => "\\Seen",
            Flag::Deleted => "\\Deleted",
            Flag::Flagged => "\\Flagged",
            Flag::Answered => "\\Answered",
            Flag::Draft => "\\Draft",
        }
    }
}

/// The kinds of action (`do=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Pass,
    Forward,
    Bcc,
    CopyTo,
    MoveTo,
    Discard,
    Reject,
    Reply,
    Notify,
    SetProp,
    RunProc,
}

pub const ACTION_KINDS: &[&str] = &[
    "pass", "forward", "bcc", "copyto", "moveto", "discard", "reject", "reply", "notify",
    "setprop", "runproc",
];

impl ActionKind {
    pub fn parse(s: &str) -> Result<ActionKind> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "pass" => ActionKind::Pass,
            "forward" => ActionKind::Forward,
            "bcc" => ActionKind::Bcc,
            "copyto" => ActionKind::CopyTo,
            "moveto" => ActionKind::MoveTo,
            "discard" => ActionKind::Discard,
            "reject" => ActionKind::Reject,
            "reply" => ActionKind::Reply,
            "notify" => ActionKind::Notify,
            "setprop" => ActionKind::SetProp,
            "runproc" => ActionKind::RunProc,
            _ => {
                return invalid(format!(
                    "do={s:?}: expected one of {}",
                    ACTION_KINDS.join(", ")
                ))
            }
        })
    }

    pub fn keyword(self) -> &'static str {
        match self {
            ActionKind::Pass => "pass",
            ActionKind::Forward => "forward",
            ActionKind::Bcc => "bcc",
            ActionKind::CopyTo => "copyto",
            ActionKind::MoveTo => "moveto",
            ActionKind::Discard => "discard",
            ActionKind::Reject => "reject",
            ActionKind::Reply => "reply",
            ActionKind::Notify => "notify",
            ActionKind::SetProp => "setprop",
            ActionKind::RunProc => "runproc",
        }
    }

    pub fn stored(self) -> String {
        self.keyword().to_ascii_uppercase()
    }

    /// The attributes `add action do=KIND` takes besides `do=`.
    pub fn attributes(self) -> &'static [&'static str] {
        match self {
            ActionKind::Pass | ActionKind::Discard => &[],
            ActionKind::Forward | ActionKind::Notify => &["to", "subject", "template"],
            ActionKind::Bcc => &["to"],
            ActionKind::CopyTo | ActionKind::MoveTo => &["folder"],
            ActionKind::Reject => &["reason"],
            ActionKind::Reply => &["days", "subject", "template"],
            ActionKind::SetProp => &["flag", "value"],
            ActionKind::RunProc => &["procedure", "param1", "param2"],
        }
    }
}

/// Default period of `do=reply`, in days.
pub const DEFAULT_REPLY_DAYS: i64 = 7;

/// One action of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Stop: no later rule runs for this message and account.
    Pass,
    /// A new message to `to` with the original attached; `subject` is put before the
    /// original's subject (default `Fwd: `); `template` is its text.
    Forward {
        to: String,
        subject: Option<String>,
        template: Option<String>,
    },
    /// The same stored message, queued to `to` as well.
    Bcc { to: String },
    /// A pointer in this folder of the account as well (created when missing).
    CopyTo { folder: String },
    /// Delivered into this folder of the account instead of the INBOX (created when missing).
    MoveTo { folder: String },
    /// Accepted and not delivered.
    Discard,
    /// Refused: a failure report (RFC 3464) to the sender with the reason.
    Reject { reason: Option<String> },
    /// An automatic reply to the sender, at most once per sender every `days` days.
    Reply {
        days: i64,
        subject: Option<String>,
        template: Option<String>,
    },
    /// A short notice to `to` naming the message's sender and subject.
    Notify {
        to: String,
        subject: Option<String>,
        template: Option<String>,
    },
    /// A flag set or cleared on the delivered message.
    SetProp { flag: Flag, on: bool },
    /// A PL/SQL procedure called in the delivery transaction (Oracle only).
    RunProc {
        procedure: String,
        param1: Option<String>,
        param2: Option<String>,
    },
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Pass => ActionKind::Pass,
            Action::Forward { .. } => ActionKind::Forward,
            Action::Bcc { .. } => ActionKind::Bcc,
            Action::CopyTo { .. } => ActionKind::CopyTo,
            Action::MoveTo { .. } => ActionKind::MoveTo,
            Action::Discard => ActionKind::Discard,
            Action::Reject { .. } => ActionKind::Reject,
            Action::Reply { .. } => ActionKind::Reply,
            Action::Notify { .. } => ActionKind::Notify,
            Action::SetProp { .. } => ActionKind::SetProp,
            Action::RunProc { .. } => ActionKind::RunProc,
        }
    }

    /// Builds an action from its attributes (`get(name)` gives an attribute's value; only the
    /// names of [`ActionKind::attributes`] are asked for).
    pub fn build(kind: ActionKind, mut get: impl FnMut(&str) -> Option<String>) -> Result<Action> {
        let what = kind.keyword();
        let required = |get: &mut dyn FnMut(&str) -> Option<String>, name: &str| match get(name) {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => invalid(format!("do={what} needs {name}=")),
        };
        Ok(match kind {
            ActionKind::Pass => Action::Pass,
            ActionKind::Discard => Action::Discard,
            ActionKind::Forward | ActionKind::Notify => {
                let to = v::address("to", &required(&mut get, "to")?)?;
                let subject = v::opt_line("subject", get("subject").as_deref(), v::MAX_PARAM)?;
                let template =
                    v::opt_text("template", get("template").as_deref(), v::MAX_TEMPLATE)?;
                if kind == ActionKind::Forward {
                    Action::Forward {
                        to,
                        subject,
                        template,
                    }
                } else {
                    Action::Notify {
                        to,
                        subject,
                        template,
                    }
                }
            }
            ActionKind::Bcc => Action::Bcc {
                to: v::address("to", &required(&mut get, "to")?)?,
            },
            ActionKind::CopyTo => Action::CopyTo {
                folder: v::folder(&required(&mut get, "folder")?)?,
            },
            ActionKind::MoveTo => Action::MoveTo {
                folder: v::folder(&required(&mut get, "folder")?)?,
            },
            ActionKind::Reject => Action::Reject {
                reason: v::opt_line("reason", get("reason").as_deref(), v::MAX_PARAM)?,
            },
            ActionKind::Reply => Action::Reply {
                days: match get("days") {
                    Some(d) if !d.trim().is_empty() => v::days(&d)?,
                    _ => DEFAULT_REPLY_DAYS,
                },
                subject: v::opt_line("subject", get("subject").as_deref(), v::MAX_PARAM)?,
                template: v::opt_text("template", get("template").as_deref(), v::MAX_TEMPLATE)?,
            },
            ActionKind::SetProp => Action::SetProp {
                flag: Flag::parse(&required(&mut get, "flag")?)?,
                on: match get("value") {
                    Some(x) if !x.trim().is_empty() => v::yes_no("value", &x)?,
                    _ => true,
                },
            },
            ActionKind::RunProc => Action::RunProc {
                procedure: v::procedure(&required(&mut get, "procedure")?)?,
                param1: v::opt_line("param1", get("param1").as_deref(), v::MAX_PARAM)?,
                param2: v::opt_line("param2", get("param2").as_deref(), v::MAX_PARAM)?,
            },
        })
    }

    /// The action as IOFCMGR attributes (`do=` first), as `add action` takes them.
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("do", self.kind().keyword().to_string())];
        let mut opt = |name: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                out.push((name, v.clone()));
            }
        };
        match self {
            Action::Pass | Action::Discard => {}
            Action::Forward {
                to,
                subject,
                template,
            }
            | Action::Notify {
                to,
                subject,
                template,
            } => {
                opt("to", &Some(to.clone()));
                opt("subject", subject);
                opt("template", template);
            }
            Action::Bcc { to } => opt("to", &Some(to.clone())),
            Action::CopyTo { folder } | Action::MoveTo { folder } => {
                opt("folder", &Some(folder.clone()))
            }
            Action::Reject { reason } => opt("reason", reason),
            Action::Reply {
                days,
                subject,
                template,
            } => {
                opt("days", &Some(days.to_string()));
                opt("subject", subject);
                opt("template", template);
            }
            Action::SetProp { flag, on } => {
                opt("flag", &Some(flag.keyword().to_string()));
                opt("value", &Some(if *on { "on" } else { "off" }.to_string()));
            }
            Action::RunProc {
                procedure,
                param1,
                param2,
            } => {
                opt("procedure", &Some(procedure.clone()));
                opt("param1", param1);
                opt("param2", param2);
            }
        }
        out
    }

    /// The stored `(param1, param2, param3)` of each kind: FORWARD and NOTIFY (to, subject,
    /// template), BCC (to), COPYTO and MOVETO (folder), REJECT (reason), REPLY (days, subject,
    /// template), SETPROP (flag, ON/OFF), RUNPROC (procedure, param1, param2).
    pub fn to_row(&self) -> ActionRow {
        let a = self.attributes();
        let get = |n: &str| a.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
        let (p1, p2, p3) = match self.kind() {
            ActionKind::Pass | ActionKind::Discard => (None, None, None),
            ActionKind::Forward | ActionKind::Notify => {
                (get("to"), get("subject"), get("template"))
            }
            ActionKind::Bcc => (get("to"), None, None),
            ActionKind::CopyTo | ActionKind::MoveTo => (get("folder"), None, None),
            ActionKind::Reject => (get("reason"), None, None),
            ActionKind::Reply => (get("days"), get("subject"), get("template")),
            ActionKind::SetProp => (
                get("flag").map(|f| f.to_ascii_uppercase()),
                get("value").map(|f| f.to_ascii_uppercase()),
                None,
            ),
            ActionKind::RunProc => (get("procedure"), get("param1"), get("param2")),
        };
        ActionRow {
            action_no: 0,
            kind: self.kind().stored(),
            param1: p1,
            param2: p2,
            param3: p3,
        }
    }

    /// An action from its row, checked as a statement's would be.
    pub fn from_row(r: &ActionRow) -> Result<Action> {
        let kind = ActionKind::parse(&r.kind)?;
        let names: [Option<&str>; 3] = match kind {
            ActionKind::Pass | ActionKind::Discard => [None, None, None],
            ActionKind::Forward | ActionKind::Notify => {
                [Some("to"), Some("subject"), Some("template")]
            }
            ActionKind::Bcc => [Some("to"), None, None],
            ActionKind::CopyTo | ActionKind::MoveTo => [Some("folder"), None, None],
            ActionKind::Reject => [Some("reason"), None, None],
            ActionKind::Reply => [Some("days"), Some("subject"), Some("template")],
            ActionKind::SetProp => [Some("flag"), Some("value"), None],
            ActionKind::RunProc => [Some("procedure"), Some("param1"), Some("param2")],
        };
        let params = [&r.param1, &r.param2, &r.param3];
        Action::build(kind, |name| {
            names
                .iter()
                .position(|n| *n == Some(name))
                .and_then(|i| params[i].clone())
        })
        .map_err(|e| {
            RuleError::Invalid(format!("action {} ({}): {e}", r.action_no, kind.keyword()))
        })
    }
}

/// A rule as the Postman runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub rule_id: i64,
    pub name: String,
    pub owner: OwnerKind,
    pub condition: Option<Condition>,
    pub actions: Vec<Action>,
}

impl Rule {
    /// A stored rule, every part of it checked again.
    pub fn from_stored(s: &StoredRule) -> Result<Rule> {
        let condition = match s.cond_join.as_deref() {
            None => {
                if !s.clauses.is_empty() {
                    return invalid("it has clauses but no condition (no join)");
                }
                None
            }
            Some(j) => Some(Condition {
                join: Join::parse(j)?,
                clauses: s
                    .clauses
                    .iter()
                    .map(Clause::from_row)
                    .collect::<Result<_>>()?,
            }),
        };
        Ok(Rule {
            rule_id: s.rule_id,
            name: s.name.clone(),
            owner: OwnerKind::from_stored(&s.owner_kind)?,
            condition,
            actions: s
                .actions
                .iter()
                .map(Action::from_row)
                .collect::<Result<_>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(kind: &str, attrs: &[(&str, &str)]) -> Result<Action> {
        Action::build(ActionKind::parse(kind)?, |n| {
            attrs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn clauses_are_checked() {
        assert!(Clause::new(Subject::Size, Operator::Greater, false, "10K").is_ok());
        let e = Clause::new(Subject::Size, Operator::Contains, false, "10").unwrap_err();
        assert!(
            e.to_string()
                .contains("on=size takes op=greater or op=less"),
            "{e}"
        );
        let e = Clause::new(Subject::Subject, Operator::Less, false, "10").unwrap_err();
        assert!(e.to_string().contains("only with on=size"), "{e}");
        assert!(Clause::new(Subject::Subject, Operator::Equals, false, "").is_err());
        assert!(Subject::parse("header", None).is_err());
        assert!(Subject::parse("subject", Some("X-A")).is_err());
        assert_eq!(
            Subject::parse("HEADER", Some("X-Spam")).unwrap(),
            Subject::Header("X-Spam".into())
        );
        assert!(Subject::parse("colour", None).is_err());
        assert!(Operator::parse("like").is_err());
    }

    #[test]
    fn clauses_round_trip_through_rows() {
        for c in [
            Clause::new(
                Subject::Header("X-Prio".into()),
                Operator::Equals,
                true,
                "1",
            )
            .unwrap(),
            Clause::new(Subject::Size, Operator::Less, false, "2M").unwrap(),
            Clause::new(Subject::Attachment, Operator::Matches, false, "*.pdf").unwrap(),
        ] {
            let mut row = c.to_row();
            row.clause_no = 3;
            assert_eq!(Clause::from_row(&row).unwrap(), c);
        }
    }

    #[test]
    fn actions_are_checked_and_round_trip() {
        let cases = [
            build("forward", &[("to", "b@acme.com"), ("subject", "[fwd] ")]).unwrap(),
            build("bcc", &[("to", "b@acme.com")]).unwrap(),
            build("copyto", &[("folder", "Archive/Rules")]).unwrap(),
            build("moveto", &[("folder", "inbox")]).unwrap(),
            build("discard", &[]).unwrap(),
            build("reject", &[("reason", "no thanks")]).unwrap(),
            build("reply", &[("days", "3"), ("template", "Away\nback Monday")]).unwrap(),
            build("notify", &[("to", "n@acme.com")]).unwrap(),
            build("setprop", &[("flag", "Flagged"), ("value", "off")]).unwrap(),
            build("runproc", &[("procedure", "app.on_mail"), ("param1", "x")]).unwrap(),
            build("pass", &[]).unwrap(),
        ];
        for a in cases {
            let mut row = a.to_row();
            row.action_no = 1;
            assert_eq!(Action::from_row(&row).unwrap(), a, "{row:?}");
        }
        assert_eq!(
            build("moveto", &[("folder", "inbox")]).unwrap(),
            Action::MoveTo {
                folder: "INBOX".into()
            }
        );
        assert_eq!(
            build("reply", &[]).unwrap(),
            Action::Reply {
                days: DEFAULT_REPLY_DAYS,
                subject: None,
                template: None
            }
        );
        for (kind, attrs, want) in [
            ("forward", vec![], "do=forward needs to="),
            ("forward", vec![("to", "nobody")], "expected an address"),
            ("copyto", vec![("folder", "a//b")], "empty level"),
            ("setprop", vec![("flag", "sticky")], "expected one of seen"),
            (
                "setprop",
                vec![("flag", "seen"), ("value", "maybe")],
                "yes or no",
            ),
            ("reply", vec![("days", "0")], "from 1 to 365"),
            (
                "runproc",
                vec![("procedure", "x;y")],
                "PL/SQL procedure name",
            ),
            ("jump", vec![], "expected one of pass"),
        ] {
            let e = build(kind, &attrs).unwrap_err().to_string();
            assert!(e.contains(want), "{kind}: {e}");
        }
    }

    #[test]
    fn stored_rows_with_bad_data_are_refused() {
        let bad = ActionRow {
            action_no: 2,
            kind: "MOVETO".into(),
            param1: Some("bad//name".into()),
            param2: None,
            param3: None,
        };
        let e = Action::from_row(&bad).unwrap_err().to_string();
        assert!(e.starts_with("action 2 (moveto)"), "{e}");
        let rule = StoredRule {
            rule_id: 1,
            owner_kind: "ACCOUNT".into(),
            name: "r".into(),
            position: 10,
            cond_join: None,
            clauses: vec![ClauseRow {
                clause_no: 1,
                subject_kind: "SUBJECT".into(),
                header_name: None,
                operator: "CONTAINS".into(),
                negated: false,
                operand: "x".into(),
            }],
            actions: vec![],
        };
        assert!(Rule::from_stored(&rule).is_err());
    }
}
