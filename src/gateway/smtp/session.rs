//! The SMTP protocol state machine (RFC 5321 with PIPELINING, SIZE, 8BITMIME,
//! ENHANCEDSTATUSCODES, SMTPUTF8, STARTTLS and AUTH PLAIN/LOGIN): command lines in, replies
//! and requests for work out. No I/O and no store: what needs the store (checking a sender, a
//! recipient, a login) or the connection (TLS, reading the message) is asked for with a
//! [`Next`], and its result comes back through the matching method
//! ([`Session::sender_checked`], [`Session::recipient_checked`], [`Session::auth_checked`],
//! [`Session::tls_started`], [`Session::data_finished`]).
//!
//! Commands are parsed with smtp-proto (`Request::parse`); replies carry enhanced status codes
//! (RFC 3463) except the greeting, EHLO, `334` and `354`.

use std::borrow::Cow;

use smtp_proto::{
    Error as ProtoError, Request, AUTH_LOGIN, AUTH_PLAIN, MAIL_BODY_8BITMIME, MAIL_BODY_BINARYMIME,
    MAIL_SMTPUTF8,
};

use crate::mail::intake::{AuthOutcome, RcptContext, RcptVerdict, SenderVerdict};
use crate::mail::Mailbox;

// ------------------------------------------------------------------ replies

/// One SMTP reply, maybe of several lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The enhanced status code (`2.1.0`), or empty where none is sent.
    pub status: &'static str,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn new(code: u16, status: &'static str, text: impl Into<String>) -> Reply {
        Reply {
            code,
            status,
            lines: vec![text.into()],
        }
    }

    /// The reply as sent: every line but the last with `-` after the code, each ending in CRLF.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let n = self.lines.len().max(1);
        for i in 0..n {
            let text = self.lines.get(i).map(String::as_str).unwrap_or("");
            out.extend_from_slice(self.code.to_string().as_bytes());
            out.push(if i + 1 < n { b'-' } else { b' ' });
            if !self.status.is_empty() {
                out.extend_from_slice(self.status.as_bytes());
                if !text.is_empty() {
                    out.push(b' ');
                }
            }
            // a reply line never holds a line break, whatever was put in it
            out.extend(
                text.bytes()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            out.extend_from_slice(b"\r\n");
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v
    }

    /// A reply that counts as a client's error (4xx and 5xx, except those that say the
    /// server itself failed or is closing).
    fn is_client_error(&self) -> bool {
        self.code >= 400 && !matches!(self.code, 421 | 451 | 454)
    }
}

/// `421 4.3.2`: the server has as many connections as it takes.
pub fn too_many_connections(hostname: &str) -> Reply {
    Reply::new(
        421,
        "4.3.2",
        format!("{hostname} too many connections, try again later"),
    )
}

// ------------------------------------------------------------------ parsing

/// Why a command line was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    Unknown,
    Syntax(&'static str),
    BadSender,
    BadRecipient,
    BadParameter(String),
}

/// A parsed command. `Rcpt` of `<postmaster>` (no domain) is told apart from `<>`.
pub type Command<'a> = Request<Cow<'a, str>>;

/// Parses one command line (ending in LF or CRLF) with smtp-proto.
pub fn parse(line: &[u8]) -> Result<(Command<'_>, bool), ParseError> {
    let mut it = line.iter();
    match Request::parse(&mut it) {
        Ok(r) => {
            let postmaster = matches!(&r, Request::Rcpt { to } if to.address.is_empty())
                && line
                    .to_ascii_lowercase()
                    .windows(12)
                    .any(|w| w == b"<postmaster>");
            Ok((r, postmaster))
        }
        Err(ProtoError::UnknownCommand) => Err(ParseError::Unknown),
        Err(ProtoError::InvalidSenderAddress) => Err(ParseError::BadSender),
        Err(ProtoError::InvalidRecipientAddress) => Err(ParseError::BadRecipient),
        Err(ProtoError::SyntaxError { syntax }) => Err(ParseError::Syntax(syntax)),
        Err(ProtoError::InvalidParameter { param }) => {
            Err(ParseError::BadParameter(param.to_string()))
        }
        Err(ProtoError::UnsupportedParameter { param }) => Err(ParseError::BadParameter(param)),
        Err(_) => Err(ParseError::Syntax("a command line")),
    }
}

// ------------------------------------------------------------------ base64 (AUTH)

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Decodes standard base64; padding may be left out. `None` on anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let t = text.trim().trim_end_matches('=');
    if t.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(t.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in t.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

// ------------------------------------------------------------------ the session

/// What a session knows of its server and its client.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// This server's name (greeting, EHLO, Received headers).
    pub hostname: String,
    pub max_message_bytes: u64,
    pub max_recipients: usize,
    /// Errors before the session is closed with `421 4.7.0` (at least 1).
    pub max_errors: u32,
    /// STARTTLS can be offered (a certificate is loaded).
    pub tls_available: bool,
    /// AUTH is offered without TLS (a loopback client).
    pub auth_without_tls: bool,
}

/// One line of input, or a line longer than the limit (already discarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// With its line ending.
    Line(&'a [u8]),
    TooLong,
}

/// A recipient to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rcpt {
    Address(Mailbox),
    /// `<postmaster>` without a domain: the postmaster of the default domain.
    Postmaster,
}

/// What the connection does after sending the step's replies.
#[derive(Clone, PartialEq, Eq)]
pub enum Next {
    /// Read the next command line.
    Read,
    /// Close the connection.
    Close,
    /// Start TLS, then call [`Session::tls_started`] (or close if it fails).
    StartTls,
    /// Read the message up to the final dot, then call [`Session::data_finished`].
    ReadData,
    /// Check the sender (`None`: the null sender), then call [`Session::sender_checked`].
    CheckSender(Option<Mailbox>),
    /// Check a recipient, then call [`Session::recipient_checked`].
    CheckRecipient { rcpt: Rcpt, ctx: RcptContext },
    /// Verify a login, then call [`Session::auth_checked`].
    Authenticate { login: String, secret: String },
}

impl std::fmt::Debug for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Next::Read => write!(f, "Read"),
            Next::Close => write!(f, "Close"),
            Next::StartTls => write!(f, "StartTls"),
            Next::ReadData => write!(f, "ReadData"),
            Next::CheckSender(s) => write!(f, "CheckSender({s:?})"),
            Next::CheckRecipient { rcpt, ctx } => write!(f, "CheckRecipient({rcpt:?}, {ctx:?})"),
            // never the secret
            Next::Authenticate { login, .. } => write!(f, "Authenticate({login:?})"),
        }
    }
}

/// The replies to send, then what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub replies: Vec<Reply>,
    pub next: Next,
}

/// A check the store could not answer (it is unavailable or failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

/// How the message of a DATA command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataResult {
    /// Committed to the Submission queue under this id.
    Queued { id: String },
    /// Larger than `max_message_bytes` (read and discarded).
    TooBig,
    /// A line longer than the limit (read and discarded).
    LineTooLong,
    /// Refused as it is (not a message).
    Refused(String),
    /// Could not be stored now.
    Unavailable,
}

/// The mail transaction under way (after MAIL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// `None`: the null sender `<>`.
    pub sender: Option<Mailbox>,
    /// The size announced with `SIZE=`.
    pub declared_size: Option<u64>,
    pub eight_bit: bool,
    pub smtputf8: bool,
    /// Accepted recipients, without duplicates, in order.
    pub recipients: Vec<Mailbox>,
}

/// A client that logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub account_id: i64,
    /// The address, in lower case.
    pub login: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Command,
    AuthPlain,
    AuthLoginUser,
    AuthLoginPassword {
        login: String,
    },
    /// Waiting for the result of a check (`Next::Check*`, `Authenticate`, `StartTls`).
    Waiting(Pending),
    Data,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Sender(Transaction),
    Recipient(Rcpt),
    Auth,
    Tls,
}

/// One SMTP session.
#[derive(Debug, Clone)]
pub struct Session {
    cfg: SessionConfig,
    helo: Option<String>,
    esmtp: bool,
    tls: bool,
    auth: Option<Authenticated>,
    tx: Option<Transaction>,
    phase: Phase,
    errors: u32,
}

const LOGIN_USER_PROMPT: &str = "VXNlcm5hbWU6"; // "Username:"
const LOGIN_PASSWORD_PROMPT: &str = "UGFzc3dvcmQ6"; // "Password:"

fn reply(code: u16, status: &'static str, text: impl Into<String>) -> Reply {
    Reply::new(code, status, text)
}

/// A name from the client, fit to be echoed.
fn clean(s: &str) -> String {
    s.chars()
        .take(255)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

impl Session {
    pub fn new(cfg: SessionConfig) -> Session {
        Session {
            cfg,
            helo: None,
            esmtp: false,
            tls: false,
            auth: None,
            tx: None,
            phase: Phase::Command,
            errors: 0,
        }
    }

    /// The `220` greeting.
    pub fn greeting(&self) -> Reply {
        reply(220, "", format!("{} ESMTP esmail ready", self.cfg.hostname))
    }

    /// `421 4.4.2`: the client took too long.
    pub fn timeout(&mut self) -> Reply {
        self.phase = Phase::Closed;
        reply(
            421,
            "4.4.2",
            format!("{} timeout exceeded, closing connection", self.cfg.hostname),
        )
    }

    /// `421 4.3.2`: the server is stopping.
    pub fn shutting_down(&mut self) -> Reply {
        self.phase = Phase::Closed;
        reply(
            421,
            "4.3.2",
            format!(
                "{} service shutting down, try again later",
                self.cfg.hostname
            ),
        )
    }

    pub fn helo_name(&self) -> &str {
        self.helo.as_deref().unwrap_or("")
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    pub fn authenticated(&self) -> Option<&Authenticated> {
        self.auth.as_ref()
    }

    /// The transaction under way, if any.
    pub fn transaction(&self) -> Option<&Transaction> {
        self.tx.as_ref()
    }

    /// Errors so far.
    pub fn errors(&self) -> u32 {
        self.errors
    }

    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The `with` of the Received header (RFC 3848).
    pub fn protocol_name(&self) -> &'static str {
        match (self.esmtp, self.tls, self.auth.is_some()) {
            (false, _, _) => "SMTP",
            (true, false, false) => "ESMTP",
            (true, true, false) => "ESMTPS",
            (true, false, true) => "ESMTPA",
            (true, true, true) => "ESMTPSA",
        }
    }

    fn auth_offered(&self) -> bool {
        self.tls || self.cfg.auth_without_tls
    }

    /// Sends the replies, counting the client's errors: once there are `max_errors`, the
    /// session ends with `421 4.7.0`.
    fn step(&mut self, replies: Vec<Reply>, next: Next) -> Step {
        let mut replies = replies;
        let mut next = next;
        self.errors += replies.iter().filter(|r| r.is_client_error()).count() as u32;
        if self.errors >= self.cfg.max_errors.max(1) && next != Next::Close {
            replies.push(reply(
                421,
                "4.7.0",
                format!("{} too many errors, closing connection", self.cfg.hostname),
            ));
            next = Next::Close;
        }
        if next == Next::Close {
            self.phase = Phase::Closed;
        }
        Step { replies, next }
    }

    fn one(&mut self, r: Reply) -> Step {
        self.step(vec![r], Next::Read)
    }

    fn wait(&mut self, p: Pending, next: Next) -> Step {
        self.phase = Phase::Waiting(p);
        Step {
            replies: Vec::new(),
            next,
        }
    }

    fn internal(&mut self) -> Step {
        // the connection asked for something out of turn: a bug, not the client's fault
        self.phase = Phase::Command;
        self.one(reply(451, "4.3.0", "internal error, try again"))
    }

    /// Feeds one line of input.
    pub fn command(&mut self, input: Input<'_>) -> Step {
        match std::mem::replace(&mut self.phase, Phase::Command) {
            Phase::Command => {}
            Phase::AuthPlain => return self.auth_plain_response(input),
            Phase::AuthLoginUser => return self.auth_login_user(input),
            Phase::AuthLoginPassword { login } => return self.auth_login_password(input, login),
            Phase::Closed => {
                self.phase = Phase::Closed;
                return Step {
                    replies: Vec::new(),
                    next: Next::Close,
                };
            }
            Phase::Waiting(_) | Phase::Data => return self.internal(),
        }
        let line = match input {
            Input::TooLong => return self.one(reply(500, "5.5.2", "line too long")),
            Input::Line(l) => l,
        };
        let (req, postmaster) = match parse(line) {
            Ok(r) => r,
            Err(e) => return self.parse_error(e),
        };
        match req {
            Request::Ehlo { host } => self.hello(&host, true),
            Request::Helo { host } => self.hello(&host, false),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to, postmaster),
            Request::Data => self.data(),
            Request::Rset => {
                self.tx = None;
                self.one(reply(250, "2.0.0", "OK"))
            }
            Request::Noop { .. } => self.one(reply(250, "2.0.0", "OK")),
            Request::Quit => {
                let r = reply(
                    221,
                    "2.0.0",
                    format!("{} closing connection", self.cfg.hostname),
                );
                self.step(vec![r], Next::Close)
            }
            Request::Vrfy { .. } => self.one(reply(
                252,
                "2.5.0",
                "cannot VRFY user, but will accept message and attempt delivery",
            )),
            Request::Help { .. } => self.one(Reply {
                code: 214,
                status: "2.0.0",
                lines: vec![
                    "esmail SMTP gateway; commands:".into(),
                    "EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH".into(),
                ],
            }),
            Request::StartTls => self.starttls(),
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, &initial_response),
            Request::Expn { .. }
            | Request::Lhlo { .. }
            | Request::Bdat { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.one(reply(502, "5.5.1", "command not implemented")),
        }
    }

    fn parse_error(&mut self, e: ParseError) -> Step {
        self.one(match e {
            ParseError::Unknown => reply(500, "5.5.1", "command unrecognized"),
            ParseError::Syntax(s) => reply(501, "5.5.4", format!("syntax: {s}")),
            ParseError::BadSender => reply(501, "5.1.7", "bad sender address syntax"),
            ParseError::BadRecipient => reply(501, "5.1.3", "bad recipient address syntax"),
            ParseError::BadParameter(p) => reply(
                555,
                "5.5.4",
                format!("parameter {} not recognized or not supported", clean(&p)),
            ),
        })
    }

    fn hello(&mut self, host: &str, esmtp: bool) -> Step {
        self.tx = None;
        self.helo = Some(clean(host));
        self.esmtp = esmtp;
        let host = &self.cfg.hostname;
        if !esmtp {
            return self.one(reply(250, "", host.clone()));
        }
        let mut lines = vec![
            format!("{host} greets {}", self.helo_name()),
            "PIPELINING".to_string(),
            format!("SIZE {}", self.cfg.max_message_bytes),
            "8BITMIME".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
            "SMTPUTF8".to_string(),
        ];
        if self.cfg.tls_available && !self.tls {
            lines.push("STARTTLS".to_string());
        }
        if self.auth_offered() {
            lines.push("AUTH PLAIN LOGIN".to_string());
        }
        lines.push("HELP".to_string());
        self.one(Reply {
            code: 250,
            status: "",
            lines,
        })
    }

    fn mail(&mut self, from: smtp_proto::MailFrom<Cow<'_, str>>) -> Step {
        if self.helo.is_none() {
            return self.one(reply(503, "5.5.1", "send HELO or EHLO first"));
        }
        if self.tx.is_some() {
            return self.one(reply(503, "5.5.1", "nested MAIL command"));
        }
        if from.flags & MAIL_BODY_BINARYMIME != 0 {
            return self.one(reply(555, "5.5.4", "BODY=BINARYMIME is not supported"));
        }
        let declared_size = (from.size > 0).then_some(from.size as u64);
        if declared_size.is_some_and(|s| s > self.cfg.max_message_bytes) {
            return self.one(reply(
                552,
                "5.3.4",
                format!(
                    "message size exceeds the limit of {} bytes",
                    self.cfg.max_message_bytes
                ),
            ));
        }
        let smtputf8 = from.flags & MAIL_SMTPUTF8 != 0;
        let sender = if from.address.is_empty() {
            None
        } else {
            match Mailbox::parse(&from.address) {
                Some(m) => Some(m),
                None => return self.one(reply(501, "5.1.7", "bad sender address syntax")),
            }
        };
        if !smtputf8 && !from.address.is_ascii() {
            return self.one(reply(
                553,
                "5.6.7",
                "a non-ASCII address needs the SMTPUTF8 parameter",
            ));
        }
        let tx = Transaction {
            sender: sender.clone(),
            declared_size,
            eight_bit: from.flags & MAIL_BODY_8BITMIME != 0,
            smtputf8,
            recipients: Vec::new(),
        };
        self.wait(Pending::Sender(tx), Next::CheckSender(sender))
    }

    /// The answer to `Next::CheckSender`.
    pub fn sender_checked(&mut self, verdict: Result<SenderVerdict, Unavailable>) -> Step {
        let Phase::Waiting(Pending::Sender(tx)) =
            std::mem::replace(&mut self.phase, Phase::Command)
        else {
            return self.internal();
        };
        match verdict {
            Ok(SenderVerdict::Accepted) => {
                let who = tx
                    .sender
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                self.tx = Some(tx);
                self.one(reply(250, "2.1.0", format!("sender <{who}> OK")))
            }
            Ok(SenderVerdict::Blocked { .. }) => {
                self.one(reply(550, "5.7.1", "sender blocked by local policy"))
            }
            Err(Unavailable) => self.one(reply(
                451,
                "4.3.0",
                "temporary failure checking the sender, try again later",
            )),
        }
    }

    fn rcpt(&mut self, to: smtp_proto::RcptTo<Cow<'_, str>>, postmaster: bool) -> Step {
        if self.helo.is_none() {
            return self.one(reply(503, "5.5.1", "send HELO or EHLO first"));
        }
        let Some(tx) = &self.tx else {
            return self.one(reply(503, "5.5.1", "need MAIL command first"));
        };
        let rcpt = if postmaster {
            Rcpt::Postmaster
        } else {
            match Mailbox::parse(&to.address) {
                Some(m) => Rcpt::Address(m),
                None => return self.one(reply(501, "5.1.3", "bad recipient address syntax")),
            }
        };
        if !tx.smtputf8 && !to.address.is_ascii() {
            return self.one(reply(
                553,
                "5.6.7",
                "a non-ASCII address needs the SMTPUTF8 parameter",
            ));
        }
        if tx.recipients.len() >= self.cfg.max_recipients.max(1) {
            return self.one(reply(452, "4.5.3", "too many recipients"));
        }
        let ctx = RcptContext {
            authenticated: self.auth.is_some(),
            declared_size: tx.declared_size,
        };
        self.wait(
            Pending::Recipient(rcpt.clone()),
            Next::CheckRecipient { rcpt, ctx },
        )
    }

    /// The answer to `Next::CheckRecipient`; `resolved` is the address that was checked when
    /// it differs from the one asked (the postmaster's).
    pub fn recipient_checked(
        &mut self,
        resolved: Option<Mailbox>,
        verdict: Result<RcptVerdict, Unavailable>,
    ) -> Step {
        let Phase::Waiting(Pending::Recipient(rcpt)) =
            std::mem::replace(&mut self.phase, Phase::Command)
        else {
            return self.internal();
        };
        let address = match (resolved, rcpt) {
            (Some(m), _) | (None, Rcpt::Address(m)) => Some(m),
            (None, Rcpt::Postmaster) => None,
        };
        let shown = address
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_else(|| "postmaster".into());
        let r = match verdict {
            Err(Unavailable) => reply(
                451,
                "4.3.0",
                "temporary failure checking the recipient, try again later",
            ),
            Ok(v) => match (&v, address) {
                (RcptVerdict::Local { .. } | RcptVerdict::Remote, Some(m)) => {
                    if let Some(tx) = &mut self.tx {
                        if !tx.recipients.iter().any(|r| r.key() == m.key()) {
                            tx.recipients.push(m);
                        }
                    }
                    reply(250, "2.1.5", format!("recipient <{shown}> OK"))
                }
                (RcptVerdict::Local { .. } | RcptVerdict::Remote, None)
                | (RcptVerdict::Unknown, _) => {
                    reply(550, "5.1.1", format!("<{shown}>: no such user here"))
                }
                (RcptVerdict::Disabled, _) => {
                    reply(550, "5.2.1", format!("<{shown}>: mailbox disabled"))
                }
                (RcptVerdict::OverQuota, _) => reply(
                    452,
                    "4.2.2",
                    format!("<{shown}>: mailbox full, try again later"),
                ),
                (RcptVerdict::TooBigForQuota, _) => reply(
                    552,
                    "5.2.2",
                    format!("<{shown}>: message exceeds the mailbox quota"),
                ),
                (RcptVerdict::RelayDenied, _) => reply(550, "5.7.1", "relaying denied"),
            },
        };
        self.one(r)
    }

    fn data(&mut self) -> Step {
        if self.helo.is_none() {
            return self.one(reply(503, "5.5.1", "send HELO or EHLO first"));
        }
        match &self.tx {
            None => self.one(reply(503, "5.5.1", "need MAIL command first")),
            Some(tx) if tx.recipients.is_empty() => {
                self.one(reply(554, "5.5.1", "no valid recipients"))
            }
            Some(_) => {
                self.phase = Phase::Data;
                Step {
                    replies: vec![reply(354, "", "end data with <CR><LF>.<CR><LF>")],
                    next: Next::ReadData,
                }
            }
        }
    }

    /// The answer to `Next::ReadData`. The transaction ends whatever the result.
    pub fn data_finished(&mut self, result: DataResult) -> Step {
        if self.phase != Phase::Data {
            return self.internal();
        }
        self.phase = Phase::Command;
        self.tx = None;
        self.one(match result {
            DataResult::Queued { id } => reply(250, "2.0.0", format!("OK queued as {id}")),
            DataResult::TooBig => reply(
                552,
                "5.3.4",
                format!(
                    "message size exceeds the limit of {} bytes",
                    self.cfg.max_message_bytes
                ),
            ),
            DataResult::LineTooLong => reply(500, "5.5.2", "line too long"),
            DataResult::Refused(why) => reply(554, "5.6.0", format!("message refused: {why}")),
            DataResult::Unavailable => reply(
                451,
                "4.3.0",
                "temporary failure storing the message, try again later",
            ),
        })
    }

    fn starttls(&mut self) -> Step {
        if self.tls {
            return self.one(reply(503, "5.5.1", "TLS already active"));
        }
        if !self.cfg.tls_available {
            return self.one(reply(502, "5.5.1", "STARTTLS not available"));
        }
        self.phase = Phase::Waiting(Pending::Tls);
        Step {
            replies: vec![reply(220, "2.0.0", "ready to start TLS")],
            next: Next::StartTls,
        }
    }

    /// TLS is up: everything known before is forgotten (RFC 3207, 4.2); the client says
    /// EHLO again.
    pub fn tls_started(&mut self) {
        self.tls = true;
        self.helo = None;
        self.esmtp = false;
        self.tx = None;
        self.auth = None;
        self.phase = Phase::Command;
    }

    fn auth(&mut self, mechanism: u64, initial: &str) -> Step {
        if self.helo.is_none() {
            return self.one(reply(503, "5.5.1", "send EHLO first"));
        }
        if !self.auth_offered() {
            return self.one(reply(
                538,
                "5.7.11",
                "encryption required for authentication",
            ));
        }
        if self.auth.is_some() {
            return self.one(reply(503, "5.5.1", "already authenticated"));
        }
        if self.tx.is_some() {
            return self.one(reply(
                503,
                "5.5.1",
                "AUTH not permitted during a mail transaction",
            ));
        }
        match mechanism {
            AUTH_PLAIN if initial.is_empty() => {
                self.phase = Phase::AuthPlain;
                Step {
                    replies: vec![reply(334, "", "")],
                    next: Next::Read,
                }
            }
            AUTH_PLAIN => self.plain(initial),
            AUTH_LOGIN if initial.is_empty() => {
                self.phase = Phase::AuthLoginUser;
                Step {
                    replies: vec![reply(334, "", LOGIN_USER_PROMPT)],
                    next: Next::Read,
                }
            }
            AUTH_LOGIN => match decode_text(initial) {
                Some(login) => self.ask_password(login),
                None => self.bad_auth_data(),
            },
            _ => self.one(reply(504, "5.5.4", "unrecognized authentication mechanism")),
        }
    }

    fn bad_auth_data(&mut self) -> Step {
        self.one(reply(501, "5.5.2", "cannot decode the AUTH response"))
    }

    /// The client's answer to a `334`: `None` when it cancelled or sent too much.
    fn auth_answer<'a>(&mut self, input: Input<'a>) -> Result<&'a str, Step> {
        let line = match input {
            Input::TooLong => return Err(self.one(reply(500, "5.5.2", "line too long"))),
            Input::Line(l) => l,
        };
        let text = match std::str::from_utf8(line) {
            Ok(t) => t.trim_end_matches(['\r', '\n']),
            Err(_) => return Err(self.bad_auth_data()),
        };
        if text.trim() == "*" {
            return Err(self.one(reply(501, "5.0.0", "authentication cancelled")));
        }
        Ok(text)
    }

    fn auth_plain_response(&mut self, input: Input<'_>) -> Step {
        match self.auth_answer(input) {
            Ok(t) => self.plain(t),
            Err(s) => s,
        }
    }

    fn plain(&mut self, b64: &str) -> Step {
        let Some(raw) = base64_decode(b64) else {
            return self.bad_auth_data();
        };
        let mut parts = raw.split(|b| *b == 0);
        let (Some(authz), Some(authc), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return self.bad_auth_data();
        };
        let (Ok(authz), Ok(authc), Ok(secret)) = (
            std::str::from_utf8(authz),
            std::str::from_utf8(authc),
            std::str::from_utf8(secret),
        ) else {
            return self.bad_auth_data();
        };
        if authc.is_empty() {
            return self.bad_auth_data();
        }
        if !authz.is_empty() && !authz.eq_ignore_ascii_case(authc) {
            // acting for someone else is not supported
            return self.one(reply(535, "5.7.8", "authentication credentials invalid"));
        }
        self.wait(
            Pending::Auth,
            Next::Authenticate {
                login: authc.to_string(),
                secret: secret.to_string(),
            },
        )
    }

    fn auth_login_user(&mut self, input: Input<'_>) -> Step {
        match self.auth_answer(input) {
            Ok(t) => match decode_text(t) {
                Some(login) => self.ask_password(login),
                None => self.bad_auth_data(),
            },
            Err(s) => s,
        }
    }

    fn ask_password(&mut self, login: String) -> Step {
        if login.is_empty() {
            return self.bad_auth_data();
        }
        self.phase = Phase::AuthLoginPassword { login };
        Step {
            replies: vec![reply(334, "", LOGIN_PASSWORD_PROMPT)],
            next: Next::Read,
        }
    }

    fn auth_login_password(&mut self, input: Input<'_>, login: String) -> Step {
        match self.auth_answer(input) {
            Ok(t) => match decode_text(t) {
                Some(secret) => self.wait(Pending::Auth, Next::Authenticate { login, secret }),
                None => self.bad_auth_data(),
            },
            Err(s) => s,
        }
    }

    /// The answer to `Next::Authenticate` (after the failure delay, if any).
    pub fn auth_checked(&mut self, outcome: Result<AuthOutcome, Unavailable>) -> Step {
        if self.phase != Phase::Waiting(Pending::Auth) {
            return self.internal();
        }
        self.phase = Phase::Command;
        match outcome {
            Ok(AuthOutcome::Success { account_id, login }) => {
                self.auth = Some(Authenticated { account_id, login });
                self.one(reply(235, "2.7.0", "authentication successful"))
            }
            Ok(AuthOutcome::Failure { .. }) => {
                self.one(reply(535, "5.7.8", "authentication credentials invalid"))
            }
            Err(Unavailable) => self.one(reply(
                454,
                "4.7.0",
                "temporary authentication failure, try again later",
            )),
        }
    }
}

fn decode_text(b64: &str) -> Option<String> {
    base64_decode(b64).and_then(|v| String::from_utf8(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> SessionConfig {
        SessionConfig {
            hostname: "mx.acme.com".into(),
            max_message_bytes: 1000,
            max_recipients: 2,
            max_errors: 5,
            tls_available: true,
            auth_without_tls: false,
        }
    }

    fn line(s: &mut Session, text: &str) -> Step {
        s.command(Input::Line(format!("{text}\r\n").as_bytes()))
    }

    fn text(step: &Step) -> String {
        let mut v = Vec::new();
        for r in &step.replies {
            r.write_to(&mut v);
        }
        String::from_utf8(v).unwrap()
    }

    fn code(step: &Step) -> String {
        step.replies
            .iter()
            .map(|r| {
                if r.status.is_empty() {
                    r.code.to_string()
                } else {
                    format!("{} {}", r.code, r.status)
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    fn mb(s: &str) -> Mailbox {
        Mailbox::parse(s).unwrap()
    }

    fn local() -> Result<RcptVerdict, Unavailable> {
        Ok(RcptVerdict::Local {
            object_id: 1,
            class: "PERSON".into(),
        })
    }

    #[test]
    fn replies_are_formatted_with_enhanced_codes() {
        assert_eq!(
            Reply::new(250, "2.1.0", "OK").to_bytes(),
            b"250 2.1.0 OK\r\n"
        );
        let r = Reply {
            code: 250,
            status: "",
            lines: vec!["a".into(), "b\r\nX".into()],
        };
        assert_eq!(r.to_bytes(), b"250-a\r\n250 b  X\r\n");
        assert_eq!(Reply::new(334, "", "").to_bytes(), b"334 \r\n");
    }

    #[test]
    fn a_whole_transaction() {
        let mut s = Session::new(cfg());
        assert!(text(&Step {
            replies: vec![s.greeting()],
            next: Next::Read
        })
        .starts_with("220 mx.acme.com ESMTP"));
        let st = line(&mut s, "EHLO client.example");
        let t = text(&st);
        for ext in [
            "PIPELINING",
            "SIZE 1000",
            "8BITMIME",
            "ENHANCEDSTATUSCODES",
            "SMTPUTF8",
            "STARTTLS",
        ] {
            assert!(t.contains(ext), "{t}");
        }
        assert!(!t.contains("AUTH"), "no AUTH without TLS from afar: {t}");
        let st = line(&mut s, "MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME");
        assert_eq!(st.next, Next::CheckSender(Some(mb("a@b.example"))));
        assert_eq!(
            code(&s.sender_checked(Ok(SenderVerdict::Accepted))),
            "250 2.1.0"
        );
        let tx = s.transaction().unwrap();
        assert_eq!(tx.declared_size, Some(100));
        assert!(tx.eight_bit);
        let st = line(&mut s, "RCPT TO:<JDoe@Acme.com>");
        assert_eq!(
            st.next,
            Next::CheckRecipient {
                rcpt: Rcpt::Address(mb("JDoe@acme.com")),
                ctx: RcptContext {
                    authenticated: false,
                    declared_size: Some(100)
                }
            }
        );
        assert_eq!(code(&s.recipient_checked(None, local())), "250 2.1.5");
        let st = line(&mut s, "DATA");
        assert_eq!(code(&st), "354");
        assert_eq!(st.next, Next::ReadData);
        let st = s.data_finished(DataResult::Queued { id: "q1".into() });
        assert_eq!(text(&st), "250 2.0.0 OK queued as q1\r\n");
        assert!(s.transaction().is_none());
        assert_eq!(s.protocol_name(), "ESMTP");
        let st = line(&mut s, "QUIT");
        assert_eq!(code(&st), "221 2.0.0");
        assert_eq!(st.next, Next::Close);
        assert!(s.is_closed());
    }

    #[test]
    fn sequence_and_syntax_errors() {
        let mut s = Session::new(cfg());
        assert_eq!(code(&line(&mut s, "MAIL FROM:<a@b.c>")), "503 5.5.1");
        assert_eq!(code(&line(&mut s, "HELO x")), "250");
        assert_eq!(code(&line(&mut s, "RCPT TO:<a@b.c>")), "503 5.5.1");
        assert_eq!(code(&line(&mut s, "DATA")), "503 5.5.1");
        assert_eq!(code(&line(&mut s, "FROB")), "500 5.5.1");
        s = Session::new(cfg());
        line(&mut s, "EHLO x");
        assert_eq!(code(&line(&mut s, "MAIL FROM:a@b.c")), "501 5.5.4");
        assert_eq!(code(&line(&mut s, "MAIL FROM:<a b@c>")), "501 5.1.7");
        assert_eq!(code(&s.command(Input::TooLong)), "500 5.5.2");
        assert_eq!(code(&line(&mut s, "MAIL FROM:<a@b.c> FOO=1")), "555 5.5.4");
        assert_eq!(s.errors(), 4);
        // the fifth error closes the session
        let st = line(&mut s, "FROB");
        assert_eq!(code(&st), "500 5.5.1,421 4.7.0");
        assert_eq!(st.next, Next::Close);
    }

    #[test]
    fn size_limits_and_recipient_limits() {
        let mut s = Session::new(cfg());
        line(&mut s, "EHLO x");
        assert_eq!(
            code(&line(&mut s, "MAIL FROM:<a@b.c> SIZE=1001")),
            "552 5.3.4"
        );
        line(&mut s, "MAIL FROM:<> SIZE=10");
        assert_eq!(
            code(&s.sender_checked(Ok(SenderVerdict::Accepted))),
            "250 2.1.0"
        );
        assert_eq!(s.transaction().unwrap().sender, None);
        assert_eq!(code(&line(&mut s, "DATA")), "554 5.5.1");
        for who in ["a@acme.com", "b@acme.com"] {
            line(&mut s, &format!("RCPT TO:<{who}>"));
            assert_eq!(code(&s.recipient_checked(None, local())), "250 2.1.5");
        }
        assert_eq!(code(&line(&mut s, "RCPT TO:<c@acme.com>")), "452 4.5.3");
        assert_eq!(s.transaction().unwrap().recipients.len(), 2);
        assert_eq!(code(&line(&mut s, "DATA")), "354");
        assert_eq!(code(&s.data_finished(DataResult::TooBig)), "552 5.3.4");
        // the session goes on
        assert_eq!(code(&line(&mut s, "NOOP")), "250 2.0.0");
    }

    #[test]
    fn recipient_verdicts() {
        let mut c = cfg();
        c.max_errors = 20;
        let mut s = Session::new(c);
        line(&mut s, "EHLO x");
        line(&mut s, "MAIL FROM:<a@b.c>");
        s.sender_checked(Ok(SenderVerdict::Accepted));
        for (v, want) in [
            (RcptVerdict::Unknown, "550 5.1.1"),
            (RcptVerdict::Disabled, "550 5.2.1"),
            (RcptVerdict::OverQuota, "452 4.2.2"),
            (RcptVerdict::TooBigForQuota, "552 5.2.2"),
            (RcptVerdict::RelayDenied, "550 5.7.1"),
        ] {
            line(&mut s, "RCPT TO:<x@y.z>");
            let st = s.recipient_checked(None, Ok(v));
            assert_eq!(code(&st), want);
            if want == "550 5.7.1" {
                assert!(text(&st).contains("relaying denied"));
            }
        }
        assert!(s.transaction().unwrap().recipients.is_empty());
        line(&mut s, "RCPT TO:<x@y.z>");
        assert_eq!(
            code(&s.recipient_checked(None, Err(Unavailable))),
            "451 4.3.0"
        );
        // the same recipient twice is kept once
        line(&mut s, "RCPT TO:<a@acme.com>");
        s.recipient_checked(None, local());
        line(&mut s, "RCPT TO:<A@ACME.com>");
        s.recipient_checked(None, local());
        assert_eq!(s.transaction().unwrap().recipients.len(), 1);
    }

    #[test]
    fn postmaster_without_domain() {
        let mut s = Session::new(cfg());
        line(&mut s, "EHLO x");
        line(&mut s, "MAIL FROM:<>");
        s.sender_checked(Ok(SenderVerdict::Accepted));
        let st = line(&mut s, "RCPT TO:<Postmaster>");
        assert!(matches!(
            st.next,
            Next::CheckRecipient {
                rcpt: Rcpt::Postmaster,
                ..
            }
        ));
        let st = s.recipient_checked(Some(mb("postmaster@acme.com")), local());
        assert_eq!(code(&st), "250 2.1.5");
        assert_eq!(
            s.transaction().unwrap().recipients,
            vec![mb("postmaster@acme.com")]
        );
        assert_eq!(code(&line(&mut s, "RCPT TO:<>")), "501 5.1.3");
    }

    #[test]
    fn blocked_sender() {
        let mut s = Session::new(cfg());
        line(&mut s, "EHLO x");
        line(&mut s, "MAIL FROM:<spam@bad.example>");
        let st = s.sender_checked(Ok(SenderVerdict::Blocked {
            kind: "SENDER".into(),
            pattern: "spam@bad.example".into(),
            reason: None,
        }));
        assert_eq!(code(&st), "550 5.7.1");
        assert!(s.transaction().is_none());
    }

    #[test]
    fn starttls_then_auth_plain() {
        let mut s = Session::new(cfg());
        line(&mut s, "EHLO x");
        assert_eq!(code(&line(&mut s, "AUTH PLAIN AGFAYg==")), "538 5.7.11");
        let st = line(&mut s, "STARTTLS");
        assert_eq!(code(&st), "220 2.0.0");
        assert_eq!(st.next, Next::StartTls);
        s.tls_started();
        assert!(s.is_tls());
        assert_eq!(code(&line(&mut s, "MAIL FROM:<a@b.c>")), "503 5.5.1");
        let t = text(&line(&mut s, "EHLO x"));
        assert!(
            t.contains("AUTH PLAIN LOGIN") && !t.contains("STARTTLS"),
            "{t}"
        );
        let b64 = base64_encode(b"\0jdoe@acme.com\0secret");
        let st = line(&mut s, &format!("AUTH PLAIN {b64}"));
        assert_eq!(
            st.next,
            Next::Authenticate {
                login: "jdoe@acme.com".into(),
                secret: "secret".into()
            }
        );
        assert!(!format!("{:?}", st.next).contains("secret"));
        let st = s.auth_checked(Ok(AuthOutcome::Success {
            account_id: 7,
            login: "jdoe@acme.com".into(),
        }));
        assert_eq!(code(&st), "235 2.7.0");
        assert_eq!(s.protocol_name(), "ESMTPSA");
        assert_eq!(code(&line(&mut s, "AUTH PLAIN")), "503 5.5.1");
        line(&mut s, "MAIL FROM:<a@b.c>");
        s.sender_checked(Ok(SenderVerdict::Accepted));
        match line(&mut s, "RCPT TO:<x@elsewhere.org>").next {
            Next::CheckRecipient { ctx, .. } => assert!(ctx.authenticated),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn auth_login_with_prompts_and_failure() {
        let mut c = cfg();
        c.auth_without_tls = true;
        let mut s = Session::new(c);
        line(&mut s, "EHLO x");
        let st = line(&mut s, "AUTH LOGIN");
        assert_eq!(text(&st), "334 VXNlcm5hbWU6\r\n");
        let st = line(&mut s, &base64_encode(b"jdoe@acme.com"));
        assert_eq!(text(&st), "334 UGFzc3dvcmQ6\r\n");
        let st = line(&mut s, &base64_encode(b"wrong"));
        assert_eq!(
            st.next,
            Next::Authenticate {
                login: "jdoe@acme.com".into(),
                secret: "wrong".into()
            }
        );
        let st = s.auth_checked(Ok(AuthOutcome::Failure {
            delay: std::time::Duration::from_millis(1),
        }));
        assert_eq!(code(&st), "535 5.7.8");
        // cancel, and garbage
        line(&mut s, "AUTH PLAIN");
        assert_eq!(code(&line(&mut s, "*")), "501 5.0.0");
        line(&mut s, "AUTH PLAIN");
        assert_eq!(code(&line(&mut s, "!!!")), "501 5.5.2");
        assert_eq!(code(&line(&mut s, "AUTH CRAM-MD5")), "504 5.5.4");
        assert_eq!(code(&line(&mut s, "NOOP")), "250 2.0.0");
    }

    #[test]
    fn non_ascii_needs_smtputf8() {
        let mut s = Session::new(cfg());
        line(&mut s, "EHLO x");
        assert_eq!(code(&line(&mut s, "MAIL FROM:<jörg@b.c>")), "553 5.6.7");
        let st = line(&mut s, "MAIL FROM:<jörg@b.c> SMTPUTF8");
        assert!(matches!(st.next, Next::CheckSender(Some(_))));
    }

    #[test]
    fn base64_known_values() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_decode("Zm8").unwrap(), b"fo");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert!(base64_decode("Z").is_none());
        assert!(base64_decode("Zm9v!").is_none());
    }

    proptest! {
        #[test]
        fn base64_round_trips(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }

        #[test]
        fn parsing_any_line_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut line = bytes;
            line.extend_from_slice(b"\r\n");
            let _ = parse(&line);
        }

        #[test]
        fn a_session_survives_any_input(lines in proptest::collection::vec(
            prop_oneof![
                "(?s).{0,80}",
                "(EHLO|HELO|MAIL FROM:|RCPT TO:|DATA|RSET|NOOP|QUIT|VRFY|HELP|STARTTLS|AUTH PLAIN|AUTH LOGIN|EXPN)[ <>@a-z.=0-9]{0,40}",
            ],
            0..30,
        ), answers in proptest::collection::vec(0u8..6, 30)) {
            let mut s = Session::new(cfg());
            for (i, l) in lines.iter().enumerate() {
                let st = s.command(Input::Line(format!("{l}\r\n").as_bytes()));
                for r in &st.replies {
                    let out = r.to_bytes();
                    prop_assert!(out.ends_with(b"\r\n"));
                    prop_assert!((200..600).contains(&r.code));
                }
                let a = answers[i % answers.len()];
                let st = match st.next {
                    Next::CheckSender(_) => s.sender_checked(if a == 0 { Err(Unavailable) } else { Ok(SenderVerdict::Accepted) }),
                    Next::CheckRecipient { .. } => s.recipient_checked(None, if a == 1 { Ok(RcptVerdict::Unknown) } else { local() }),
                    Next::Authenticate { .. } => s.auth_checked(Ok(AuthOutcome::Failure { delay: std::time::Duration::ZERO })),
                    Next::StartTls => { s.tls_started(); Step { replies: vec![], next: Next::Read } }
                    Next::ReadData => s.data_finished(if a == 2 { DataResult::TooBig } else { DataResult::Queued { id: "x".into() } }),
                    n => Step { replies: vec![], next: n },
                };
                if st.next == Next::Close || s.is_closed() {
                    break;
                }
                prop_assert!(s.errors() < 5);
            }
        }
    }
}
