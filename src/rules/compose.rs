//! The messages rules send: a forward (a new message with the original attached), an
//! auto-reply and a notice. Subjects and templates may name the delivered message's
//! `{subject}`, `{sender}`, `{recipient}` and `{date}`.

use chrono::{DateTime, Utc};
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;

use super::eval::{header_addresses, MessageView};
use super::guard::{chain, LOOP_HEADER};
use crate::mail::structure::header_values;

/// What templates may name of the delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// The decoded subject, `(no subject)` when it has none.
    pub subject: String,
    /// The first address of `From:`, else the envelope sender, else `<>`.
    pub sender: String,
    /// The account the message was delivered to.
    pub recipient: String,
    /// The `Date:` field as written, else empty.
    pub date: String,
    /// The `Message-ID:` without angle brackets, if any.
    pub message_id: Option<String>,
}

impl Fields {
    pub fn of(m: &MessageView<'_>) -> Fields {
        let first = |name: &str| {
            header_values(m.raw, name)
                .into_iter()
                .map(|v| v.trim().to_string())
                .find(|v| !v.is_empty())
        };
        let from_address = header_addresses(m.raw, &["From"]).into_iter().next();
        Fields {
            subject: first("Subject").unwrap_or_else(|| "(no subject)".into()),
            sender: from_address
                .or_else(|| m.sender.map(str::to_string))
                .unwrap_or_else(|| "<>".into()),
            recipient: m.recipient.to_string(),
            date: first("Date").unwrap_or_default(),
            message_id: first("Message-ID")
                .map(|v| v.trim_matches(['<', '>', ' ']).to_string())
                .filter(|v| !v.is_empty()),
        }
    }
}

/// A template with `{subject}`, `{sender}`, `{recipient}` and `{date}` filled in; line breaks
/// made CRLF.
pub fn expand(template: &str, f: &Fields) -> String {
    template
        .replace("{subject}", &f.subject)
        .replace("{sender}", &f.sender)
        .replace("{recipient}", &f.recipient)
        .replace("{date}", &f.date)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
}

/// One line for a header: line breaks and other control characters become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn message_id(host: &str) -> String {
    format!("{}@{}", uuid::Uuid::new_v4(), host)
}

fn write(b: MessageBuilder<'_>) -> Vec<u8> {
    // writing into memory cannot fail; an empty message would be refused by intake anyway
    b.write_to_vec().unwrap_or_default()
}

/// What a forward says.
#[derive(Debug, Clone)]
pub struct Forward<'a> {
    /// The account whose rule forwards (From:, and the envelope sender).
    pub from: &'a str,
    pub to: &'a str,
    pub host: &'a str,
    /// Put before the original subject; default `Fwd: `.
    pub prefix: Option<&'a str>,
    pub template: Option<&'a str>,
    pub now: DateTime<Utc>,
}

pub const DEFAULT_FORWARD_TEXT: &str =
    "{recipient} forwards you this message from {sender} (a server-side rule).\nThe message is attached.";

/// A forward: the template as text, the original attached (`message/rfc822`), and the
/// forwarding chain with this account added.
pub fn forward(f: &Forward<'_>, m: &MessageView<'_>) -> Vec<u8> {
    let fields = Fields::of(m);
    let subject = format!(
        "{}{}",
        expand(f.prefix.unwrap_or("Fwd: "), &fields),
        fields.subject
    );
    let text = expand(f.template.unwrap_or(DEFAULT_FORWARD_TEXT), &fields) + "\r\n";
    let mut hops = chain(m.raw);
    hops.push(f.from.to_ascii_lowercase());
    let encoding = if m.raw.is_ascii() { "7bit" } else { "8bit" };
    let body = MimePart::new(
        ContentType::new("multipart/mixed"),
        vec![
            MimePart::new(
                ContentType::new("text/plain").attribute("charset", "utf-8"),
                text,
            ),
            MimePart::new(
                ContentType::new("message/rfc822"),
                BodyPart::Binary(m.raw.to_vec().into()),
            )
            .transfer_encoding(encoding)
            .inline(),
        ],
    );
    let mut b = MessageBuilder::new()
        .from(f.from.to_string())
        .to(f.to.to_string())
        .subject(one_line(&subject))
        .message_id(message_id(f.host))
        .date(f.now.timestamp());
    for hop in hops {
        b = b.header(LOOP_HEADER, Raw::new(hop));
    }
    if let Some(id) = &fields.message_id {
        b = b.references(id.clone());
    }
    write(b.body(body))
}

/// What an auto-reply or a notice says.
#[derive(Debug, Clone)]
pub struct Auto<'a> {
    /// The account (From:).
    pub from: &'a str,
    pub to: &'a str,
    pub host: &'a str,
    pub subject: Option<&'a str>,
    pub template: Option<&'a str>,
    pub now: DateTime<Utc>,
}

pub const DEFAULT_REPLY_SUBJECT: &str = "Auto: {subject}";
pub const DEFAULT_REPLY_TEXT: &str =
    "This is an automatic reply from {recipient}: your message \"{subject}\" has been received.";

/// An auto-reply (RFC 3834): `Auto-Submitted: auto-replied`, `In-Reply-To` and `References`
/// naming the message.
pub fn reply(a: &Auto<'_>, m: &MessageView<'_>) -> Vec<u8> {
    let fields = Fields::of(m);
    let subject = expand(a.subject.unwrap_or(DEFAULT_REPLY_SUBJECT), &fields);
    let text = expand(a.template.unwrap_or(DEFAULT_REPLY_TEXT), &fields) + "\r\n";
    let mut b = MessageBuilder::new()
        .from(a.from.to_string())
        .to(a.to.to_string())
        .subject(one_line(&subject))
        .message_id(message_id(a.host))
        .date(a.now.timestamp())
        .header("Auto-Submitted", Raw::new("auto-replied"));
    if let Some(id) = &fields.message_id {
        b = b.in_reply_to(id.clone()).references(id.clone());
    }
    write(b.text_body(text))
}

pub const DEFAULT_NOTICE_SUBJECT: &str = "New message from {sender}: {subject}";
pub const DEFAULT_NOTICE_TEXT: &str = "A message has arrived for {recipient}.";

/// A notice: the template, then the message's sender, subject and date;
/// `Auto-Submitted: auto-generated`.
pub fn notice(a: &Auto<'_>, m: &MessageView<'_>) -> Vec<u8> {
    let fields = Fields::of(m);
    let subject = expand(a.subject.unwrap_or(DEFAULT_NOTICE_SUBJECT), &fields);
    let text = format!(
        "{}\r\n\r\nFrom: {}\r\nSubject: {}\r\nDate: {}\r\n",
        expand(a.template.unwrap_or(DEFAULT_NOTICE_TEXT), &fields),
        fields.sender,
        fields.subject,
        fields.date
    );
    let b = MessageBuilder::new()
        .from(a.from.to_string())
        .to(a.to.to_string())
        .subject(one_line(&subject))
        .message_id(message_id(a.host))
        .date(a.now.timestamp())
        .header("Auto-Submitted", Raw::new("auto-generated"));
    write(b.text_body(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    const MSG: &[u8] = b"From: Ann <ann@example.org>\r\nTo: jdoe@acme.com\r\nSubject: Lunch?\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\nX-esmail-Loop: bob@acme.com\r\n\r\nAt noon.\r\n";

    fn view() -> MessageView<'static> {
        MessageView {
            raw: MSG,
            size: MSG.len() as i64,
            sender: Some("bounces@example.org"),
            recipient: "jdoe@acme.com",
            attachments: &[],
        }
    }

    #[test]
    fn fields_and_templates() {
        let f = Fields::of(&view());
        assert_eq!(f.subject, "Lunch?");
        assert_eq!(f.sender, "ann@example.org");
        assert_eq!(f.message_id.as_deref(), Some("m1@example.org"));
        assert_eq!(
            expand("{sender} wrote {subject}\nto {recipient}", &f),
            "ann@example.org wrote Lunch?\r\nto jdoe@acme.com"
        );
    }

    #[test]
    fn a_forward_attaches_the_original_and_extends_the_chain() {
        let now = Utc::now();
        let raw = forward(
            &Forward {
                from: "jdoe@acme.com",
                to: "asmith@acme.com",
                host: "mx",
                prefix: Some("[rule] "),
                template: Some("See {subject}"),
                now,
            },
            &view(),
        );
        let m = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(m.subject(), Some("[rule] Lunch?"));
        assert_eq!(
            chain(&raw),
            vec!["bob@acme.com".to_string(), "jdoe@acme.com".to_string()]
        );
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("message/rfc822"), "{text}");
        assert!(text.contains("See Lunch?"), "{text}");
        assert!(text.contains("Message-ID: <m1@example.org>"), "{text}");
        assert!(crate::mail::auto::automatic(&raw).is_none());
    }

    #[test]
    fn replies_and_notices_are_automatic() {
        let a = Auto {
            from: "jdoe@acme.com",
            to: "ann@example.org",
            host: "mx",
            subject: None,
            template: Some("Away until {date}"),
            now: Utc::now(),
        };
        let r = reply(&a, &view());
        let m = MessageParser::default().parse(&r).unwrap();
        assert_eq!(m.subject(), Some("Auto: Lunch?"));
        assert_eq!(m.in_reply_to().as_text(), Some("m1@example.org"));
        assert!(crate::mail::auto::automatic(&r).is_some());
        assert!(String::from_utf8_lossy(&r).contains("Away until Mon, 1 Jan 2024"));
        let n = notice(&a, &view());
        let m = MessageParser::default().parse(&n).unwrap();
        assert_eq!(
            m.subject(),
            Some("New message from ann@example.org: Lunch?")
        );
        assert!(crate::mail::auto::automatic(&n).is_some());
        let text = String::from_utf8_lossy(&n);
        assert!(text.contains("Subject: Lunch?"), "{text}");
    }
}
