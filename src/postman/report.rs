//! The end of an entry: its deletion, after a non-delivery report (RFC 3464
//! `multipart/report; report-type=delivery-status`) to the sender for the recipients that
//! failed, queued in the same transaction; or the Dead Message queue when the sender is
//! invalid too. Never a report about a report: no report when the envelope sender is null, or
//! the failed message is automatic (`Auto-Submitted` other than `no`) or a report itself.

use chrono::{DateTime, Utc};
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;
use mail_parser::MessageParser;
use sha2::{Digest, Sha256};

use super::entry::Abort;
use super::Ctx;
use crate::directory::resolve::{Failure, Resolver, Sender};
use crate::store::delivery::{self as repo, Billing, Entry, MessageInfo, RcptStatus, Recipient};
use crate::store::queue::{self, NewEntry, NewMessage, Queue};
use crate::store::{statistics, system, Conn, StoreError};

/// How an entry ended.
#[derive(Debug)]
pub(super) enum Finished {
    /// Deleted; `reported`: a non-delivery report was queued.
    Deleted { reported: bool },
    /// Moved to the Dead Message queue, and why.
    Dead(String),
    /// Given back with recipients DEFERRED for an instance with RemoteFlag 1.
    Released,
    /// Recipients are still PENDING (an earlier step stopped short).
    Pending,
}

/// How an entry whose every recipient is DONE or FAILED ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concluded {
    /// Deleted; `reported`: a non-delivery report was queued to the sender.
    Deleted { reported: bool },
    /// Moved to the Dead Message queue, and why.
    Dead(String),
    /// The claim was not ours any more: nothing was done.
    Lost,
}

/// Ends an entry whose every recipient is DONE or FAILED, in the caller's transaction: a
/// non-delivery report to the sender for the FAILED ones (none for a null sender or an
/// automatic message), then the entry's deletion; or, when the sender is invalid, the Dead
/// Message queue. `host` is the Reporting-MTA.
#[allow(clippy::too_many_arguments)]
pub fn conclude(
    c: &mut Conn,
    resolver: &mut Resolver,
    node_id: i64,
    worker: &str,
    host: &str,
    entry: &Entry,
    rows: &[Recipient],
    now: DateTime<Utc>,
) -> Result<Concluded, StoreError> {
    let failed: Vec<(String, Failure)> = rows
        .iter()
        .filter(|r| r.status == RcptStatus::Failed)
        .map(|r| {
            (
                r.address.clone(),
                Failure::parse(r.last_error.as_deref().unwrap_or("")),
            )
        })
        .collect();
    let mut reported = false;
    if !failed.is_empty() {
        let msg = match entry.message_id {
            Some(m) => repo::message(c, m)?,
            None => None,
        };
        let decision = match &msg {
            Some(msg) => decide(c, resolver, entry, msg, failed.len())?,
            None if entry.sender.is_none() => Decision::Skip("the envelope sender is null".into()),
            None => Decision::Dead("the entry refers to no stored message".into()),
        };
        match decision {
            Decision::Skip(why) => {
                log::info!("entry {}: no non-delivery report: {why}", entry.entry_id)
            }
            Decision::Dead(why) => {
                return Ok(
                    if repo::to_dead(c, entry.entry_id, worker, entry.attempts, &why)? {
                        Concluded::Dead(why)
                    } else {
                        Concluded::Lost
                    },
                );
            }
            Decision::Send { to, original } => {
                let from_domain = mailer_domain(c, resolver, &failed)?;
                let ndr = build(&Ndr {
                    from_domain: &from_domain,
                    to: &to,
                    host,
                    queue_id: &entry.guid,
                    received_at: msg.as_ref().map(|m| m.received_at).unwrap_or(now),
                    failed: &failed,
                    original: &original,
                    now,
                });
                submit(c, node_id, entry.priority, &to, &ndr, now)?;
                reported = true;
            }
        }
    }
    Ok(if repo::delete_entry(c, entry.entry_id, worker)? {
        Concluded::Deleted { reported }
    } else {
        Concluded::Lost
    })
}

/// For the outbound gateway: ends a GATEWAY entry whose every recipient is DONE or FAILED, in
/// the caller's transaction, as [`conclude`] does (`host`: the Reporting-MTA, the gateway's
/// HELO name). Returns `Concluded::Lost` and changes nothing when `worker` no longer holds it.
pub fn finish_gateway_entry(
    c: &mut Conn,
    node_id: i64,
    worker: &str,
    entry: &Entry,
    host: &str,
) -> Result<Concluded, StoreError> {
    let rows = repo::recipients(c, entry.entry_id)?;
    let mut resolver = Resolver::new(1);
    conclude(
        c,
        &mut resolver,
        node_id,
        worker,
        host,
        entry,
        &rows,
        Utc::now(),
    )
}

/// Finishes a Submission entry whose targets were all dealt with, in one transaction.
pub(super) fn finish(
    ctx: &mut Ctx<'_>,
    entry: &Entry,
    msg: &MessageInfo,
) -> Result<Finished, Abort> {
    let now = Utc::now();
    let lease_until = ctx.lease_until();
    let Ctx {
        store,
        params,
        worker,
        node_id,
        host,
        resolver,
        ..
    } = ctx;
    let (worker, node_id, params) = (*worker, *node_id, *params);
    store.write(|c| {
        if !repo::renew(c, entry.entry_id, worker, lease_until)? {
            return Err(Abort::Lost);
        }
        let rows = repo::recipients(c, entry.entry_id)?;
        if rows.iter().any(|r| r.status == RcptStatus::Pending) {
            return Ok(Finished::Pending);
        }
        if rows.iter().any(|r| r.status == RcptStatus::Deferred) {
            repo::release(c, entry.entry_id, worker)?;
            return Ok(Finished::Released);
        }
        let outcome = match conclude(c, resolver, node_id, worker, host, entry, &rows, now)? {
            Concluded::Deleted { reported } => Finished::Deleted { reported },
            Concluded::Dead(why) => Finished::Dead(why),
            Concluded::Lost => return Err(Abort::Lost),
        };
        let done = rows.iter().filter(|r| r.status == RcptStatus::Done).count() as i64;
        if params.send_billing && done > 0 {
            if let Some(sender) = entry.sender.as_deref() {
                if let Sender::Local {
                    address,
                    account_id: Some(account_id),
                } = resolver.sender(c, sender)?
                {
                    repo::insert_billing(
                        c,
                        &Billing {
                            node_id,
                            kind: "SEND",
                            account_id: Some(account_id),
                            address: &address,
                            message_guid: &msg.guid,
                            size: msg.size,
                            recipients: done,
                            now,
                        },
                    )?;
                }
            }
        }
        if params.delivery_stats {
            let seconds = (now - msg.received_at).num_milliseconds().max(0) as f64 / 1000.0;
            statistics::insert_sample(c, node_id, "postman.delivery_seconds", seconds, now)?;
        }
        Ok(outcome)
    })
}

enum Decision {
    Skip(String),
    Dead(String),
    Send { to: String, original: Vec<u8> },
}

/// Whether (and to whom) a report goes.
fn decide(
    c: &mut Conn,
    resolver: &mut Resolver,
    entry: &Entry,
    msg: &MessageInfo,
    failures: usize,
) -> Result<Decision, StoreError> {
    let Some(sender) = entry
        .sender
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "<>")
    else {
        return Ok(Decision::Skip("the envelope sender is null".into()));
    };
    let original = repo::message_content(c, msg.message_id)?.unwrap_or_default();
    if let Some(why) = automatic(&original) {
        return Ok(Decision::Skip(why));
    }
    Ok(match resolver.sender(c, sender)? {
        Sender::Invalid(why) => Decision::Dead(format!(
            "{failures} recipient(s) failed and the sender {sender} is invalid ({why})"
        )),
        Sender::Outside(to) | Sender::Local { address: to, .. } => Decision::Send { to, original },
    })
}

pub use crate::mail::auto::automatic;

/// The domain of the report's `MAILER-DAEMON`: the first failed recipient's domain when it is
/// local, else the default domain.
fn mailer_domain(
    c: &mut Conn,
    resolver: &mut Resolver,
    failed: &[(String, Failure)],
) -> Result<String, StoreError> {
    for (address, _) in failed {
        if let Some((_, d)) = address.trim().rsplit_once('@') {
            let d = d.trim_end_matches('>').to_ascii_lowercase();
            if resolver.domain(c, &d)?.is_some() {
                return Ok(d);
            }
        }
    }
    if let Some(d) = system::setting(c, system::DEFAULT_DOMAIN)? {
        return Ok(d);
    }
    Ok(system::domains(c)?
        .into_iter()
        .next()
        .map(|d| d.name)
        .unwrap_or_else(|| "localhost".into()))
}

/// What a non-delivery report says.
pub struct Ndr<'a> {
    /// `MAILER-DAEMON@` this domain.
    pub from_domain: &'a str,
    /// The sender of the failed message.
    pub to: &'a str,
    /// The Reporting-MTA.
    pub host: &'a str,
    pub queue_id: &'a str,
    pub received_at: DateTime<Utc>,
    /// (address, why) of each failed recipient.
    pub failed: &'a [(String, Failure)],
    /// The failed message, whose header goes back.
    pub original: &'a [u8],
    pub now: DateTime<Utc>,
}

/// A built report: its content and its Message-ID (without angle brackets).
pub struct BuiltNdr {
    pub content: Vec<u8>,
    pub message_id: String,
    pub guid: String,
}

/// The header of a message, up to (not including) the blank line, with CRLF line ends.
fn header_block(original: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in original.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Builds the report (RFC 3464): a human-readable part, a `message/delivery-status` part and
/// the failed message's header (`text/rfc822-headers`).
pub fn build(n: &Ndr<'_>) -> BuiltNdr {
    let guid = system::new_guid();
    let message_id = format!("{guid}@{}", n.host);
    let parsed = MessageParser::default().parse_headers(n.original);
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .map(|s| s.to_string());
    let original_id = parsed
        .as_ref()
        .and_then(|m| m.message_id())
        .map(|s| s.to_string());

    let mut human = format!(
        "This is the mail system at {}.\r\n\r\nYour message could not be delivered to {} of its recipients:\r\n\r\n",
        n.host,
        if n.failed.len() == 1 { "one".to_string() } else { n.failed.len().to_string() }
    );
    for (address, f) in n.failed {
        human.push_str(&format!("  <{address}>: {}\r\n", f.reason));
    }
    if let Some(s) = &subject {
        human.push_str(&format!("\r\nThe subject of your message was: {s}\r\n"));
    }
    human.push_str("\r\nThe header of your message is attached.\r\n");

    let mut status = format!(
        "Reporting-MTA: dns; {}\r\nX-Esmail-Queue-ID: {}\r\nArrival-Date: {}\r\n",
        n.host,
        n.queue_id,
        n.received_at.to_rfc2822()
    );
    for (address, f) in n.failed {
        status.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: {}\r\nDiagnostic-Code: {}; {}\r\nLast-Attempt-Date: {}\r\n",
            f.status,
            if f.is_smtp_reply() { "smtp" } else { "X-Esmail" },
            one_line(&f.reason),
            n.now.to_rfc2822()
        ));
    }
    let headers = header_block(n.original);
    let headers_cte = if headers.is_ascii() { "7bit" } else { "8bit" };

    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new("text/plain", human),
            MimePart::new(
                ContentType::new("message/delivery-status"),
                BodyPart::Binary(status.into_bytes().into()),
            )
            .transfer_encoding("7bit"),
            MimePart::new(
                ContentType::new("text/rfc822-headers"),
                BodyPart::Binary(headers.into()),
            )
            .transfer_encoding(headers_cte),
        ],
    );
    let mut b = MessageBuilder::new()
        .from((
            "Mail Delivery System".to_string(),
            format!("MAILER-DAEMON@{}", n.from_domain),
        ))
        .to(n.to)
        .subject("Undelivered Mail Returned to Sender")
        .message_id(message_id.clone())
        .date(n.now.timestamp())
        .header("Auto-Submitted", Raw::new("auto-replied"));
    if let Some(id) = original_id {
        b = b.in_reply_to(id.clone()).references(id);
    }
    let content = b
        .body(report)
        .write_to_vec()
        .expect("writing to memory does not fail");
    BuiltNdr {
        content,
        message_id,
        guid,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Queues a report: its content stored once, an entry to the sender with the null sender.
pub(crate) fn submit(
    c: &mut Conn,
    node_id: i64,
    priority: i64,
    to: &str,
    ndr: &BuiltNdr,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let sha = Sha256::digest(&ndr.content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let message_id = queue::insert_message(
        c,
        &NewMessage {
            guid: &ndr.guid,
            origin_node_id: node_id,
            content: &ndr.content,
            sha256: &sha,
            rfc822_msgid: Some(&ndr.message_id),
            received_at: now,
            structure: Some(&crate::mail::structure::Structure::of(&ndr.content).to_json()),
        },
    )?;
    let recipients = [to.to_string()];
    queue::insert_entry(
        c,
        message_id,
        &NewEntry {
            guid: &system::new_guid(),
            queue: Queue::Submission,
            node_id,
            target_node_id: None,
            gateway_name: None,
            sender: None,
            submitted_by: None,
            priority,
            not_before: None,
            recipients: &recipients,
        },
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &[u8] = b"From: a@acme.com\r\nTo: b@acme.com\r\nSubject: hello\r\nMessage-ID: <m1@acme.com>\r\n\r\nbody\r\n";

    #[test]
    fn a_report_names_each_failed_recipient_and_is_itself_automatic() {
        let failed = vec![(
            "full@acme.com".to_string(),
            Failure::new("5.2.2", "full@acme.com: mailbox full"),
        )];
        let now = Utc::now();
        let ndr = build(&Ndr {
            from_domain: "acme.com",
            to: "a@acme.com",
            host: "mail1",
            queue_id: "q1",
            received_at: now,
            failed: &failed,
            original: ORIGINAL,
            now,
        });
        let text = String::from_utf8(ndr.content.clone()).unwrap();
        assert!(
            text.contains("From: \"Mail Delivery System\" <MAILER-DAEMON@acme.com>"),
            "{text}"
        );
        assert!(text.contains("multipart/report"), "{text}");
        assert!(
            text.contains("report-type=delivery-status")
                || text.contains("report-type=\"delivery-status\""),
            "{text}"
        );
        assert!(
            text.contains("Final-Recipient: rfc822; full@acme.com"),
            "{text}"
        );
        assert!(text.contains("Status: 5.2.2"), "{text}");
        assert!(text.contains("Content-Type: text/rfc822-headers"), "{text}");
        assert!(text.contains("Subject: hello"), "{text}");
        assert!(automatic(&ndr.content).is_some(), "a report is automatic");
        let parsed = MessageParser::default().parse(&ndr.content).unwrap();
        assert_eq!(
            parsed.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-replied")
        );
        assert!(parsed.parts.len() >= 4, "{} parts", parsed.parts.len());
    }

    #[test]
    fn the_header_block_ends_before_the_body() {
        assert_eq!(
            header_block(b"A: 1\nB: 2\n\nbody\n"),
            b"A: 1\r\nB: 2\r\n".to_vec()
        );
    }
}
