//! Whether a rule's condition holds for a message: each clause looks at one thing of the
//! message (the values listed in [`values`]), compares without regard to case, and holds when
//! any of those values passes the test (a negated clause: when none does). A condition holds
//! when all (AND) or any (OR) of its clauses hold; a rule without a condition always applies,
//! and a condition without clauses never holds. Pure functions: no store, no I/O, no panic on
//! any input.

use mail_parser::MessageParser;

use super::model::{Clause, Condition, Join, Operand, Operator, Subject};
use super::pattern::glob_matches;
use crate::mail::structure::{body_contains, header_values, text_bodies};
use crate::store::rules::PartRow;

/// One attachment of a message: a leaf part with a file name, or one that is not text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub attachment_type: String,
    pub mime_type: String,
    pub file_name: Option<String>,
}

impl Attachment {
    /// The attachments among a message's recorded parts: a text part without a file name is
    /// the body, not an attachment.
    pub fn from_parts(parts: &[PartRow]) -> Vec<Attachment> {
        parts
            .iter()
            .filter(|p| p.file_name.is_some() || !p.attachment_type.eq_ignore_ascii_case("TEXT"))
            .map(|p| Attachment {
                attachment_type: p.attachment_type.clone(),
                mime_type: p.mime_type.clone(),
                file_name: p.file_name.clone(),
            })
            .collect()
    }
}

/// What a rule sees of a message delivered to one account.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'a> {
    /// The stored content, byte-exact.
    pub raw: &'a [u8],
    pub size: i64,
    /// The envelope sender; `None` for the null sender.
    pub sender: Option<&'a str>,
    /// The envelope recipient: the account's address.
    pub recipient: &'a str,
    pub attachments: &'a [Attachment],
}

/// The addresses of the header fields `names` (`From`, `To`, `Cc`).
pub(crate) fn header_addresses(raw: &[u8], names: &[&str]) -> Vec<String> {
    let Some(m) = MessageParser::default().parse_headers(raw) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in names {
        let list = match name.to_ascii_lowercase().as_str() {
            "from" => m.from(),
            "to" => m.to(),
            "cc" => m.cc(),
            _ => None,
        };
        if let Some(list) = list {
            out.extend(
                list.iter()
                    .filter_map(|a| a.address())
                    .map(|a| a.trim().to_string()),
            );
        }
    }
    out
}

/// The values a clause's subject gives for a message (not for `size` or `body`, compared
/// otherwise).
pub fn values(subject: &Subject, m: &MessageView<'_>) -> Vec<String> {
    let with_fields = |envelope: Option<&str>, fields: &[&str]| {
        let mut out: Vec<String> = envelope.map(str::to_string).into_iter().collect();
        for f in fields {
            out.extend(header_values(m.raw, f));
        }
        out.extend(header_addresses(m.raw, fields));
        out
    };
    match subject {
        Subject::Header(name) => header_values(m.raw, name),
        Subject::Sender => with_fields(m.sender, &["From"]),
        Subject::Recipient => with_fields(Some(m.recipient), &["To", "Cc"]),
        Subject::Subject => header_values(m.raw, "Subject"),
        Subject::Attachment => m
            .attachments
            .iter()
            .flat_map(|a| {
                [
                    Some(a.attachment_type.clone()),
                    Some(a.mime_type.clone()),
                    a.file_name.clone(),
                ]
                .into_iter()
                .flatten()
            })
            .collect(),
        Subject::Size => vec![m.size.to_string()],
        Subject::Body => text_bodies(m.raw),
    }
}

fn text_test(op: Operator, operand: &str, value: &str) -> bool {
    match op {
        Operator::Contains => value.to_lowercase().contains(&operand.to_lowercase()),
        Operator::Equals => value.trim().to_lowercase() == operand.trim().to_lowercase(),
        Operator::Matches => glob_matches(operand, value.trim()),
        // sizes only: a text is never greater or less
        Operator::Greater | Operator::Less => false,
    }
}

/// Whether a clause holds for a message.
pub fn clause_holds(c: &Clause, m: &MessageView<'_>) -> bool {
    let passed = match (&c.subject, &c.operand) {
        (Subject::Size, Operand::Bytes(n)) => match c.op {
            Operator::Greater => m.size > *n,
            Operator::Less => m.size < *n,
            _ => false,
        },
        (Subject::Body, Operand::Text(t)) if c.op == Operator::Contains => body_contains(m.raw, t),
        (s, Operand::Text(t)) => values(s, m).iter().any(|v| text_test(c.op, t, v)),
        // a size operand for another subject cannot be built; it never passes
        (_, Operand::Bytes(_)) => false,
    };
    passed != c.negated
}

/// Whether a condition holds (`None`, no condition: always).
pub fn condition_holds(cond: Option<&Condition>, m: &MessageView<'_>) -> bool {
    let Some(cond) = cond else {
        return true;
    };
    if cond.clauses.is_empty() {
        return false;
    }
    match cond.join {
        Join::And => cond.clauses.iter().all(|c| clause_holds(c, m)),
        Join::Or => cond.clauses.iter().any(|c| clause_holds(c, m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::Subject as S;
    use proptest::prelude::*;

    const MSG: &[u8] = b"Received: from x by y; Mon, 1 Jan 2024 10:00:00 +0000\r\n\
From: \"Ann Smith\" <ann@example.org>\r\n\
To: Team <team@acme.com>, bob@acme.com\r\n\
Cc: carol@acme.com\r\n\
Subject: =?utf-8?q?Quarterly_r=C3=A9sum=C3=A9?= report\r\n\
X-Priority: 1 (Highest)\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=B\r\n\
\r\n\
--B\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Please find the numbers attached. Caf=C3=A9 at noon.\r\n\
--B\r\n\
Content-Type: image/png; name=chart.png\r\n\
Content-Disposition: attachment; filename=chart.png\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
iVBORw0KGgo=\r\n\
--B--\r\n";

    fn attachments() -> Vec<Attachment> {
        Attachment::from_parts(&[
            PartRow {
                mime_type: "text/plain".into(),
                attachment_type: "TEXT".into(),
                file_name: None,
            },
            PartRow {
                mime_type: "image/png".into(),
                attachment_type: "IMAGE".into(),
                file_name: Some("chart.png".into()),
            },
        ])
    }

    fn holds(subject: S, op: &str, negated: bool, value: &str) -> bool {
        let atts = attachments();
        let m = MessageView {
            raw: MSG,
            size: MSG.len() as i64,
            sender: Some("bounce@example.org"),
            recipient: "jdoe@acme.com",
            attachments: &atts,
        };
        let c = Clause::new(subject, Operator::parse(op).unwrap(), negated, value).unwrap();
        clause_holds(&c, &m)
    }

    #[test]
    fn every_subject_and_operator() {
        assert!(holds(S::Subject, "contains", false, "RÉSUMÉ"));
        assert!(holds(S::Subject, "matches", false, "quarterly*report"));
        assert!(!holds(S::Subject, "equals", false, "quarterly"));
        assert!(holds(
            S::Subject,
            "equals",
            false,
            "quarterly résumé report"
        ));
        assert!(holds(
            S::Header("x-priority".into()),
            "matches",
            false,
            "1 *"
        ));
        assert!(!holds(
            S::Header("X-Missing".into()),
            "contains",
            false,
            "x"
        ));
        assert!(holds(S::Header("X-Missing".into()), "contains", true, "x"));
        assert!(holds(S::Sender, "equals", false, "ann@example.org"));
        assert!(holds(S::Sender, "equals", false, "bounce@example.org"));
        assert!(holds(S::Sender, "contains", false, "Ann Smith"));
        assert!(!holds(S::Sender, "contains", false, "acme.com"));
        assert!(holds(S::Recipient, "equals", false, "jdoe@acme.com"));
        assert!(holds(S::Recipient, "equals", false, "team@acme.com"));
        assert!(holds(S::Recipient, "equals", false, "carol@acme.com"));
        assert!(holds(S::Recipient, "matches", false, "*@acme.com"));
        assert!(!holds(S::Recipient, "contains", false, "example.org"));
        assert!(holds(S::Body, "contains", false, "café AT NOON"));
        assert!(holds(S::Body, "matches", false, "please*noon."));
        assert!(!holds(S::Body, "contains", false, "iVBORw0KGgo"));
        assert!(holds(S::Attachment, "equals", false, "image"));
        assert!(holds(S::Attachment, "equals", false, "image/png"));
        assert!(holds(S::Attachment, "matches", false, "*.PNG"));
        assert!(!holds(S::Attachment, "equals", false, "TEXT"));
        assert!(holds(S::Attachment, "equals", true, "APPLICATION"));
        let size = MSG.len();
        assert!(holds(S::Size, "greater", false, &(size - 1).to_string()));
        assert!(!holds(S::Size, "greater", false, &size.to_string()));
        assert!(holds(S::Size, "less", false, "1K"));
        assert!(!holds(S::Size, "less", true, "1K"));
    }

    #[test]
    fn joins() {
        let atts = attachments();
        let m = MessageView {
            raw: MSG,
            size: MSG.len() as i64,
            sender: None,
            recipient: "jdoe@acme.com",
            attachments: &atts,
        };
        let yes = Clause::new(S::Subject, Operator::Contains, false, "report").unwrap();
        let no = Clause::new(S::Subject, Operator::Contains, false, "invoice").unwrap();
        let cond = |join, clauses: Vec<Clause>| Condition { join, clauses };
        assert!(condition_holds(None, &m));
        assert!(!condition_holds(Some(&cond(Join::And, vec![])), &m));
        assert!(!condition_holds(Some(&cond(Join::Or, vec![])), &m));
        assert!(condition_holds(
            Some(&cond(Join::And, vec![yes.clone()])),
            &m
        ));
        assert!(!condition_holds(
            Some(&cond(Join::And, vec![yes.clone(), no.clone()])),
            &m
        ));
        assert!(condition_holds(
            Some(&cond(Join::Or, vec![no.clone(), yes.clone()])),
            &m
        ));
        assert!(!condition_holds(Some(&cond(Join::Or, vec![no])), &m));
    }

    fn subject_strategy() -> impl Strategy<Value = S> {
        prop_oneof![
            "[A-Za-z-]{1,20}".prop_map(S::Header),
            Just(S::Sender),
            Just(S::Recipient),
            Just(S::Subject),
            Just(S::Size),
            Just(S::Body),
            Just(S::Attachment),
        ]
    }

    proptest! {
        /// Any clause that can be built, over any bytes as a message, gives an answer.
        #[test]
        fn evaluation_never_panics(
            subject in subject_strategy(),
            op in prop::sample::select(vec!["contains", "equals", "matches", "greater", "less"]),
            negated in any::<bool>(),
            value in "(?s).{0,30}",
            raw in prop::collection::vec(any::<u8>(), 0..600),
            header in "(?s)[ -~\r\n\t]{0,200}",
            body in "(?s).{0,200}",
            sender in proptest::option::of("[a-z@.]{0,20}"),
            size in any::<i64>(),
        ) {
            let mut built = header.into_bytes();
            built.extend_from_slice(b"\r\n\r\n");
            built.extend_from_slice(body.as_bytes());
            let atts = vec![Attachment {
                attachment_type: "IMAGE".into(),
                mime_type: value.clone(),
                file_name: None,
            }];
            if let Ok(c) = Clause::new(subject, Operator::parse(op).unwrap(), negated, &value) {
                for bytes in [&raw[..], &built[..]] {
                    let m = MessageView {
                        raw: bytes,
                        size,
                        sender: sender.as_deref(),
                        recipient: "a@b.c",
                        attachments: &atts,
                    };
                    let _ = clause_holds(&c, &m);
                    let cond = Condition { join: Join::Or, clauses: vec![c.clone()] };
                    let _ = condition_holds(Some(&cond), &m);
                }
            }
        }
    }
}
