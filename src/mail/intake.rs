//! Mail intake: the checks a message goes through before it is accepted (sender block lists,
//! recipients against the directory, quotas and relaying, logins), and the submission itself:
//! the content stored once and a Submission queue entry with every accepted recipient, in one
//! transaction. Used by the SMTP gateway; protocol-neutral, so that other submitters can use
//! it too. Everything here blocks: call it from a blocking thread.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::{HeaderForm, MessageParser};
use sha2::{Digest, Sha256};

use super::Mailbox;
use crate::directory::password;
use crate::store::intake::{self as repo, RecipientRow};
use crate::store::queue::{self, NewEntry, NewMessage, Queue};
use crate::store::{system, Conn, Store, StoreError};

// ------------------------------------------------------------------ sender

/// What the block lists say of a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderVerdict {
    Accepted,
    /// Blocked by a SENDER or DOMAIN entry.
    Blocked {
        kind: String,
        pattern: String,
        reason: Option<String>,
    },
}

/// Checks an envelope sender against the block lists (`None`, the null sender, is never
/// blocked).
pub fn check_sender(c: &mut Conn, sender: Option<&Mailbox>) -> Result<SenderVerdict, StoreError> {
    let Some(s) = sender else {
        return Ok(SenderVerdict::Accepted);
    };
    Ok(
        match repo::sender_blocks(c, &s.key(), &s.domain)?
            .into_iter()
            .next()
        {
            Some(b) => SenderVerdict::Blocked {
                kind: b.kind,
                pattern: b.pattern,
                reason: b.reason,
            },
            None => SenderVerdict::Accepted,
        },
    )
}

// ------------------------------------------------------------------ recipients

/// What the submitter knows when a recipient is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RcptContext {
    /// The submitter logged in: recipients outside the local domains are allowed.
    pub authenticated: bool,
    /// The size the sender announced (SMTP `SIZE=`), if any.
    pub declared_size: Option<u64>,
}

/// What a recipient check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptVerdict {
    /// A local directory object (a person, a list, an alias ...).
    Local { object_id: i64, class: String },
    /// An address outside the local domains, for an authenticated submitter.
    Remote,
    /// A local domain has no such name.
    Unknown,
    /// The account is disabled.
    Disabled,
    /// The account's mailbox is full.
    OverQuota,
    /// The announced size alone exceeds the account's quota.
    TooBigForQuota,
    /// Outside the local domains, and the submitter did not log in.
    RelayDenied,
}

impl RcptVerdict {
    pub fn accepted(&self) -> bool {
        matches!(self, RcptVerdict::Local { .. } | RcptVerdict::Remote)
    }
}

/// Checks one recipient against the directory as it is now (no cache): a local domain's public
/// namespace, the account's status and quota, and relaying.
pub fn check_recipient(
    c: &mut Conn,
    rcpt: &Mailbox,
    ctx: RcptContext,
) -> Result<RcptVerdict, StoreError> {
    Ok(match repo::recipient(c, &rcpt.domain, &rcpt.name_key())? {
        RecipientRow::NotLocal if ctx.authenticated => RcptVerdict::Remote,
        RecipientRow::NotLocal => RcptVerdict::RelayDenied,
        RecipientRow::Unknown => RcptVerdict::Unknown,
        RecipientRow::Object {
            object_id,
            class,
            account,
        } => match account {
            Some(a) if a.status != "ENABLED" => RcptVerdict::Disabled,
            Some(a)
                if a.quota_bytes > 0
                    && ctx
                        .declared_size
                        .is_some_and(|s| s > a.quota_bytes.max(0) as u64) =>
            {
                RcptVerdict::TooBigForQuota
            }
            Some(a) if a.quota_bytes > 0 && a.used_bytes >= a.quota_bytes => RcptVerdict::OverQuota,
            _ => RcptVerdict::Local { object_id, class },
        },
    })
}

/// `postmaster` without a domain (RFC 5321, 4.1.1.3) means the postmaster of the default
/// domain; `None` when the store has no default domain.
pub fn postmaster(c: &mut Conn) -> Result<Option<Mailbox>, StoreError> {
    Ok(
        system::setting(c, system::DEFAULT_DOMAIN)?.map(|d| Mailbox {
            local: "postmaster".into(),
            domain: d.to_lowercase(),
        }),
    )
}

// ------------------------------------------------------------------ logins

/// The result of a login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// `login` is the address in lower case.
    Success { account_id: i64, login: String },
    /// Wrong address, password or disabled account; answer after `delay`.
    Failure { delay: Duration },
}

/// First delay after a failed login; it doubles with each recent failure.
pub const AUTH_DELAY_BASE: Duration = Duration::from_millis(500);
/// Longest delay after a failed login.
pub const AUTH_DELAY_MAX: Duration = Duration::from_secs(30);
/// Failures older than this are forgotten.
pub const AUTH_FAILURE_MEMORY: chrono::Duration = chrono::Duration::hours(24);

/// How long to wait before answering a failed login, given the recent failures of that client
/// address for that login and for every login: doubles with each failure for the login (and
/// with each five for the address), from [`AUTH_DELAY_BASE`] up to [`AUTH_DELAY_MAX`].
pub fn failure_delay(for_login: i64, for_address: i64) -> Duration {
    let steps = for_login.max(0) + for_address.max(0) / 5;
    let factor = 1u32 << steps.clamp(0, 10) as u32;
    (AUTH_DELAY_BASE * factor).min(AUTH_DELAY_MAX)
}

/// A hash to verify against when the login names no account, so that an unknown login costs
/// the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| password::hash("not a password").unwrap_or_default())
}

/// Checks a login (an address) and its password; records a failure, or clears the failures of
/// that client address and login after a success. Each step borrows a pooled connection only
/// for itself (the argon2 verification holds none).
pub fn authenticate(
    store: &Store,
    remote_addr: &str,
    login: &str,
    secret: &str,
) -> Result<AuthOutcome, StoreError> {
    let now = Utc::now();
    let mailbox = Mailbox::parse(login.trim());
    let login_key = match &mailbox {
        Some(m) => m.key(),
        None => login.trim().to_lowercase().chars().take(254).collect(),
    };
    let row = match &mailbox {
        Some(m) => {
            let mut c = store.conn()?;
            repo::login(&mut c, &m.domain, &m.name_key())?
        }
        // a bare user name names the account when it is unique across domains
        None if !login_key.is_empty() && !login_key.contains('@') => {
            let mut c = store.conn()?;
            let mut rows = repo::login_bare(&mut c, &login_key)?;
            if rows.len() == 1 {
                rows.pop()
            } else {
                None
            }
        }
        None => None,
    };
    let ok = match &row {
        Some(r) if secret.len() <= password::MAX_PASSWORD_BYTES => {
            let good = match &r.password_hash {
                Some(h) => password::verify(secret, h),
                None => {
                    password::verify(secret, dummy_hash());
                    false
                }
            };
            good && r.status == "ENABLED"
        }
        _ => {
            password::verify(secret, dummy_hash());
            false
        }
    };
    match row {
        Some(r) if ok => {
            // forget earlier failures of this address and login, if there are any (most
            // logins have none: no write transaction for them)
            let epoch = DateTime::<Utc>::UNIX_EPOCH;
            let (earlier, _) = {
                let mut c = store.conn()?;
                repo::auth_failures(&mut c, remote_addr, &login_key, epoch)?
            };
            if earlier > 0 {
                store.write(|c| repo::clear_auth_failures(c, remote_addr, &login_key))?;
            }
            Ok(AuthOutcome::Success {
                account_id: r.object_id,
                login: login_key,
            })
        }
        _ => {
            let since = now - AUTH_FAILURE_MEMORY;
            let (for_login, for_address) = store.write(|c| {
                let counts = repo::auth_failures(c, remote_addr, &login_key, since)?;
                repo::record_auth_failure(c, remote_addr, &login_key, now, since)?;
                Ok::<_, StoreError>(counts)
            })?;
            Ok(AuthOutcome::Failure {
                delay: failure_delay(for_login, for_address),
            })
        }
    }
}

// ------------------------------------------------------------------ the message

/// What intake reads in a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inspected {
    /// The Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// Delayed delivery asked for by a `Deferred-Delivery:` or `X-Deferred-Until:` header.
    pub not_before: Option<DateTime<Utc>>,
    /// The leaf MIME parts, mapped to attachment types when the message is stored.
    pub parts: Vec<super::mime::LeafPart>,
}

/// Why a message is refused as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No header section could be found.
    NoHeaders,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoHeaders => write!(f, "the message has no header section"),
        }
    }
}

/// The headers that ask for delayed delivery, in order of preference.
pub const DEFERRAL_HEADERS: [&str; 2] = ["Deferred-Delivery", "X-Deferred-Until"];

/// Reads the MIME structure (mail-parser) for what intake needs; the bytes themselves are
/// stored as they are.
pub fn inspect(message: &[u8]) -> Result<Inspected, Refusal> {
    let parsed = MessageParser::default()
        .parse(message)
        .ok_or(Refusal::NoHeaders)?;
    if parsed.headers().is_empty() {
        return Err(Refusal::NoHeaders);
    }
    let message_id = parsed
        .message_id()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let not_before = DEFERRAL_HEADERS.iter().find_map(|name| {
        parsed
            .header_as(*name, HeaderForm::Date)
            .into_iter()
            .find_map(|v| {
                v.as_datetime()
                    .filter(|d| d.is_valid())
                    .and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single())
            })
    });
    Ok(Inspected {
        message_id,
        not_before,
        parts: super::mime::leaf_parts(&parsed),
    })
}

/// Lower-case hexadecimal SHA-256 of the content, as `es_message.sha256` holds it.
pub fn sha256_hex(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// What a `Received:` header says (RFC 5321, 4.4).
#[derive(Debug, Clone)]
pub struct Trace<'a> {
    /// The name the client gave (HELO/EHLO).
    pub helo: &'a str,
    /// The client's address.
    pub remote_ip: &'a str,
    /// This server's name.
    pub by: &'a str,
    /// `SMTP`, `ESMTP`, `ESMTPS`, `ESMTPA`, `ESMTPSA` (RFC 3848).
    pub with: &'a str,
    /// The queue id (the entry's guid).
    pub id: &'a str,
    /// The recipient, when the message has one.
    pub for_rcpt: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Keeps what may appear in a header comment or word: printable ASCII without parentheses,
/// backslashes, angle brackets or semicolons (anything else becomes `?`), at most 255 bytes.
fn clean(s: &str) -> String {
    s.chars()
        .take(255)
        .map(|c| {
            if c.is_ascii_graphic() && !"()\\<>;\"".contains(c) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The `Received:` header, folded, ending in CRLF.
pub fn received_header(t: &Trace<'_>) -> String {
    let helo = if t.helo.is_empty() {
        "unknown".to_string()
    } else {
        clean(t.helo)
    };
    let mut h = format!(
        "Received: from {helo} ([{}])\r\n\tby {} (esmail) with {} id {}",
        clean(t.remote_ip),
        clean(t.by),
        clean(t.with),
        clean(t.id)
    );
    if let Some(r) = t.for_rcpt {
        h.push_str(&format!("\r\n\tfor <{}>", clean(r)));
    }
    h.push_str(&format!(";\r\n\t{}\r\n", t.at.to_rfc2822()));
    h
}

/// A message ready to be queued.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub node_id: i64,
    /// The guid of the Submission queue entry (named in the Received header before).
    pub entry_guid: &'a str,
    /// The envelope sender; `None` for the null sender.
    pub sender: Option<&'a str>,
    pub recipients: &'a [String],
    /// The account that logged in, if any.
    pub submitted_by: Option<i64>,
    /// The content as stored: trace header(s) then the message, byte-exact.
    pub content: &'a [u8],
    pub inspected: &'a Inspected,
    pub received_at: DateTime<Utc>,
}

/// What a submission left in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub message_id: i64,
    pub message_guid: String,
    pub entry_id: i64,
    pub entry_guid: String,
}

/// What a message's storage needs besides its bytes, computed before the transaction so that
/// the write lock is held only for the writes.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub message_guid: String,
    pub sha256: String,
    /// The IMAP structure as JSON.
    pub structure: String,
}

impl Prepared {
    pub fn of(content: &[u8]) -> Prepared {
        Prepared {
            message_guid: system::new_guid(),
            sha256: sha256_hex(content),
            structure: crate::mail::structure::Structure::of(content).to_json(),
        }
    }
}

/// Stores the content once and queues it for every recipient in the Submission queue, in one
/// write transaction: when this returns `Ok` the message is committed; on `Err` nothing is left.
pub fn submit(store: &Store, s: &Submission<'_>) -> Result<Queued, StoreError> {
    let prepared = Prepared::of(s.content);
    store.write(|c| queue_in(c, s, &prepared))
}

/// Stores the content once (with its MIME parts) and queues it for every recipient in the
/// Submission queue, in the caller's transaction (the Postman's server-side rules queue their
/// forwards, replies and notices this way, in the delivery transaction).
pub fn queue_in(c: &mut Conn, s: &Submission<'_>, p: &Prepared) -> Result<Queued, StoreError> {
    let message_id = queue::insert_message(
        c,
        &NewMessage {
            guid: &p.message_guid,
            origin_node_id: s.node_id,
            content: s.content,
            sha256: &p.sha256,
            rfc822_msgid: s.inspected.message_id.as_deref(),
            received_at: s.received_at,
            structure: Some(&p.structure),
        },
    )?;
    let map = queue::mime_map(c)?;
    let parts: Vec<queue::Part> = s
        .inspected
        .parts
        .iter()
        .map(|part| queue::Part {
            part_no: part.part_no,
            mime_type: part.mime_type.clone(),
            attachment_type: super::mime::attachment_type(&part.mime_type, &map),
            file_name: part.file_name.clone(),
            size: part.size,
        })
        .collect();
    queue::insert_parts(c, message_id, &parts)?;
    queue::set_part_bodies(c, message_id, &super::mime::part_bodies(s.content))?;
    let entry_id = queue::insert_entry(
        c,
        message_id,
        &NewEntry {
            guid: s.entry_guid,
            queue: Queue::Submission,
            node_id: s.node_id,
            target_node_id: None,
            gateway_name: None,
            sender: s.sender,
            submitted_by: s.submitted_by,
            priority: 5,
            not_before: s.inspected.not_before,
            recipients: s.recipients,
        },
        s.received_at,
    )?;
    Ok(Queued {
        message_id,
        message_guid: p.message_guid.clone(),
        entry_id,
        entry_guid: s.entry_guid.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stop() {
        assert_eq!(failure_delay(0, 0), AUTH_DELAY_BASE);
        assert_eq!(failure_delay(1, 1), AUTH_DELAY_BASE * 2);
        assert_eq!(failure_delay(2, 2), AUTH_DELAY_BASE * 4);
        assert_eq!(failure_delay(0, 10), AUTH_DELAY_BASE * 4);
        assert_eq!(failure_delay(50, 1000), AUTH_DELAY_MAX);
        assert_eq!(failure_delay(-3, -1), AUTH_DELAY_BASE);
    }

    #[test]
    fn inspects_message_id_and_deferral() {
        let m = b"From: a@b.c\r\nMessage-ID: <x1@b.c>\r\nDeferred-Delivery: Tue, 1 Jul 2031 10:52:37 +0200\r\n\r\nbody\r\n";
        let i = inspect(m).unwrap();
        assert_eq!(i.message_id.as_deref(), Some("x1@b.c"));
        assert_eq!(
            i.not_before,
            Some(Utc.with_ymd_and_hms(2031, 7, 1, 8, 52, 37).unwrap())
        );
        let m = b"Subject: x\r\nX-Deferred-Until: Wed, 2 Jul 2031 00:00:00 +0000\r\n\r\n";
        assert_eq!(
            inspect(m).unwrap().not_before,
            Some(Utc.with_ymd_and_hms(2031, 7, 2, 0, 0, 0).unwrap())
        );
        let m = b"Subject: x\r\nX-Deferred-Until: soon\r\n\r\n";
        assert_eq!(inspect(m).unwrap().not_before, None);
    }

    #[test]
    fn refuses_messages_without_headers() {
        assert_eq!(inspect(b""), Err(Refusal::NoHeaders));
        assert_eq!(inspect(b"\r\nbody only\r\n"), Err(Refusal::NoHeaders));
        assert_eq!(
            inspect(b"hello world\r\nsecond line\r\n"),
            Err(Refusal::NoHeaders)
        );
        assert_eq!(inspect(&[0u8, 1, 2, 255, 13, 10]), Err(Refusal::NoHeaders));
        assert!(inspect(b"Subject: x\r\n\r\n").is_ok());
    }

    #[test]
    fn received_header_is_folded_and_clean() {
        let at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap();
        let h = received_header(&Trace {
            helo: "client(evil)\r\nX: y",
            remote_ip: "127.0.0.1",
            by: "mx.acme.com",
            with: "ESMTPSA",
            id: "abc",
            for_rcpt: Some("jdoe@acme.com"),
            at,
        });
        assert_eq!(
            h,
            "Received: from client?evil???X:?y ([127.0.0.1])\r\n\tby mx.acme.com (esmail) with ESMTPSA id abc\r\n\tfor <jdoe@acme.com>;\r\n\tWed, 2 Jan 2030 03:04:05 +0000\r\n"
        );
        assert!(!received_header(&Trace {
            for_rcpt: None,
            helo: "",
            remote_ip: "::1",
            by: "h",
            with: "SMTP",
            id: "i",
            at,
        })
        .contains("for <"));
    }

    #[test]
    fn sha256_is_lower_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
