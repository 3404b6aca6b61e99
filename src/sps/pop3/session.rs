//! The POP3 session as a state machine (RFC 1939, 3): AUTHORIZATION → TRANSACTION → UPDATE.
//! Command lines in, response bytes and requests for work out; no I/O and no store. What
//! needs the store or the connection is asked for with a [`Next`], and its result comes back
//! through the matching method ([`Session::login_done`], [`Session::fetched`],
//! [`Session::tls_started`], [`Session::updated`]).
//!
//! The maildrop is a snapshot of the account's INBOX taken at login: messages are numbered
//! 1..n in UID order for the whole session, DELE only marks, and the marked messages are
//! expunged in one transaction at QUIT (with the retrieved ones marked `\Seen`).

use super::command::{self, Command, ParseError, SaslResponse, Secret};
use crate::sps::auth;
use crate::sps::Unavailable;
use crate::store::mailbox::MessageRow;

/// Client errors after which the session is closed.
pub const MAX_ERRORS: u32 = 20;

/// What a session needs to know of its server and connection.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The name in the greeting.
    pub hostname: String,
    /// STLS can be offered (a certificate is configured).
    pub tls_available: bool,
    /// TLS is on already (implicit TLS).
    pub tls_on: bool,
    /// The client is on the loopback interface.
    pub loopback: bool,
    /// Refuse plain-text logins until TLS is on (loopback clients excepted).
    pub login_disabled_without_tls: bool,
}

/// One message of the maildrop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub uid: i64,
    pub message_id: i64,
    /// Octets as stored.
    pub size: u64,
    /// The flags at login (space-separated).
    pub flags: String,
    /// Marked by DELE.
    pub deleted: bool,
    /// Sent whole by RETR in this session.
    pub retrieved: bool,
}

/// The account's INBOX as seen at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maildrop {
    pub account_id: i64,
    /// 0 when the account has no INBOX (then the maildrop is empty).
    pub folder_id: i64,
    pub uidvalidity: i64,
    /// In UID order: message `n` is `messages[n - 1]`.
    pub messages: Vec<Message>,
}

impl Maildrop {
    pub fn new(
        account_id: i64,
        folder_id: i64,
        uidvalidity: i64,
        rows: Vec<MessageRow>,
    ) -> Maildrop {
        let mut messages: Vec<Message> = rows
            .into_iter()
            .map(|r| Message {
                uid: r.uid,
                message_id: r.message_id,
                size: r.size.max(0) as u64,
                flags: r.flags,
                deleted: false,
                retrieved: false,
            })
            .collect();
        messages.sort_by_key(|m| m.uid);
        messages.dedup_by_key(|m| m.uid);
        Maildrop {
            account_id,
            folder_id,
            uidvalidity,
            messages,
        }
    }

    /// An account without an INBOX: nothing to show.
    pub fn empty(account_id: i64) -> Maildrop {
        Maildrop {
            account_id,
            folder_id: 0,
            uidvalidity: 0,
            messages: Vec::new(),
        }
    }

    /// Messages not marked deleted, and their octets.
    pub fn totals(&self) -> (usize, u64) {
        self.live()
            .fold((0, 0), |(n, s), (_, m)| (n + 1, s + m.size))
    }

    /// The messages not marked deleted, with their numbers.
    fn live(&self) -> impl Iterator<Item = (usize, &Message)> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.deleted)
            .map(|(i, m)| (i + 1, m))
    }

    /// The unique id of a message, stable across sessions while the INBOX lives.
    pub fn unique_id(&self, m: &Message) -> String {
        format!("{}.{}", self.uidvalidity, m.uid)
    }

    /// The message with number `n`, if it exists and is not marked deleted.
    fn get(&self, n: u32) -> Result<usize, MessageError> {
        let i = (n as usize).wrapping_sub(1);
        match self.messages.get(i) {
            None => Err(MessageError::NoSuchMessage(n)),
            Some(m) if m.deleted => Err(MessageError::Deleted(n)),
            Some(_) => Ok(i),
        }
    }

    /// What QUIT has to do.
    pub fn update(&self) -> Update {
        Update {
            account_id: self.account_id,
            folder_id: self.folder_id,
            delete: self
                .messages
                .iter()
                .filter(|m| m.deleted)
                .map(|m| m.uid)
                .collect(),
            seen: self
                .messages
                .iter()
                .filter(|m| m.retrieved && !m.deleted && !has_flag(&m.flags, SEEN))
                .map(|m| m.uid)
                .collect(),
        }
    }
}

/// Why a message number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageError {
    NoSuchMessage(u32),
    Deleted(u32),
}

impl std::fmt::Display for MessageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageError::NoSuchMessage(n) => write!(f, "no such message: {n}"),
            MessageError::Deleted(n) => write!(f, "message {n} already deleted"),
        }
    }
}

pub const SEEN: &str = "\\Seen";

/// Whether a space-separated flag list holds `flag` (system flags are case-insensitive).
pub fn has_flag(flags: &str, flag: &str) -> bool {
    flags
        .split_ascii_whitespace()
        .any(|f| f.eq_ignore_ascii_case(flag))
}

/// The flags with `\Seen` added; `None` when it is there already.
pub fn with_seen(flags: &str) -> Option<String> {
    if has_flag(flags, SEEN) {
        return None;
    }
    let flags = flags.trim();
    Some(if flags.is_empty() {
        SEEN.to_string()
    } else {
        format!("{flags} {SEEN}")
    })
}

/// The work of the UPDATE state: one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub account_id: i64,
    pub folder_id: i64,
    /// UIDs to expunge.
    pub delete: Vec<i64>,
    /// UIDs retrieved and not yet `\Seen`.
    pub seen: Vec<i64>,
}

impl Update {
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.seen.is_empty()
    }
}

/// What the connection has to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Read the next command.
    Read,
    /// Check a login, load the maildrop, then call [`Session::login_done`].
    Login { user: String, pass: Secret },
    /// Load a message's content, then call [`Session::fetched`].
    Fetch { message_id: i64 },
    /// Send what is queued, start TLS, then call [`Session::tls_started`] (or close).
    StartTls,
    /// Apply the UPDATE state, then call [`Session::updated`].
    Update(Update),
    /// Send what is queued and close the connection.
    Close,
}

/// The response to one event and the work that follows.
#[derive(Debug)]
pub struct Step {
    pub out: Vec<u8>,
    pub next: Next,
}

impl Step {
    fn read(out: Vec<u8>) -> Step {
        Step {
            out,
            next: Next::Read,
        }
    }
}

#[derive(Debug)]
enum State {
    /// Before a login; `user` after USER.
    Authorization {
        user: Option<String>,
    },
    /// AUTH PLAIN was answered with `+ `: the next line is the client's response.
    SaslResponse,
    /// Waiting for [`Session::login_done`].
    LoggingIn,
    Transaction(Maildrop),
    /// Waiting for [`Session::fetched`].
    Fetching {
        maildrop: Maildrop,
        index: usize,
        top: Option<u32>,
    },
    /// Waiting for [`Session::updated`].
    Update,
    /// Waiting for [`Session::tls_started`].
    StartingTls,
    Closed,
}

/// One POP3 session.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    state: State,
    errors: u32,
}

fn ok(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"+OK");
    if !text.is_empty() {
        out.push(b' ');
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

fn err_line(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"-ERR ");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn line(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn end_multiline(out: &mut Vec<u8>) {
    out.extend_from_slice(b".\r\n");
}

/// `-ERR` for a store that cannot be reached.
const SYS_TEMP: &str = "[SYS/TEMP] the mail store is not available, try again later";

impl Session {
    pub fn new(cfg: SessionConfig) -> Session {
        Session {
            cfg,
            state: State::Authorization { user: None },
            errors: 0,
        }
    }

    /// The state's name, as `probe;` shows it.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            State::Authorization { .. } | State::SaslResponse | State::LoggingIn => "AUTHORIZATION",
            State::StartingTls => "AUTHORIZATION",
            State::Transaction(_) | State::Fetching { .. } => "TRANSACTION",
            State::Update => "UPDATE",
            State::Closed => "CLOSED",
        }
    }

    /// Whether the client has not logged in yet.
    pub fn logging_in(&self) -> bool {
        matches!(
            self.state,
            State::Authorization { .. }
                | State::SaslResponse
                | State::LoggingIn
                | State::StartingTls
        )
    }

    /// The next line answers a SASL challenge (it must not be logged).
    pub fn awaiting_sasl_response(&self) -> bool {
        matches!(self.state, State::SaslResponse)
    }

    pub fn tls_on(&self) -> bool {
        self.cfg.tls_on
    }

    /// The maildrop, once logged in.
    pub fn maildrop(&self) -> Option<&Maildrop> {
        match &self.state {
            State::Transaction(m) | State::Fetching { maildrop: m, .. } => Some(m),
            _ => None,
        }
    }

    /// Plain-text logins (USER/PASS, AUTH PLAIN) may be used now.
    pub fn plain_login_allowed(&self) -> bool {
        !self.cfg.login_disabled_without_tls || self.cfg.tls_on || self.cfg.loopback
    }

    pub fn greeting(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ok(
            &mut out,
            &format!("{} POP3 server ready", self.cfg.hostname),
        );
        out
    }

    /// A timeout struck (`why`: "idle for too long", ...): the last words before closing.
    pub fn timeout(&mut self, why: &str) -> Vec<u8> {
        self.state = State::Closed;
        let mut out = Vec::new();
        err_line(&mut out, &format!("[SYS/TEMP] autologout; {why}"));
        out
    }

    /// The server stops: the last words before closing (nothing is deleted).
    pub fn shutting_down(&mut self) -> Vec<u8> {
        self.state = State::Closed;
        let mut out = Vec::new();
        err_line(&mut out, "[SYS/TEMP] server shutting down");
        out
    }

    /// A client error: counted; past [`MAX_ERRORS`] the session ends.
    fn client_error(&mut self, mut out: Vec<u8>, text: &str) -> Step {
        err_line(&mut out, text);
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            err_line(&mut out, "too many errors");
            self.state = State::Closed;
            return Step {
                out,
                next: Next::Close,
            };
        }
        Step::read(out)
    }

    fn parse_error(&mut self, e: &ParseError) -> Step {
        self.client_error(Vec::new(), &e.to_string())
    }

    /// A line over the length limit (already read and dropped).
    pub fn too_long(&mut self) -> Step {
        if matches!(self.state, State::SaslResponse) {
            self.state = State::Authorization { user: None };
        }
        self.client_error(Vec::new(), "line too long")
    }

    /// One command line (with its ending).
    pub fn command(&mut self, line: &[u8]) -> Step {
        if matches!(self.state, State::SaslResponse) {
            self.state = State::Authorization { user: None };
            return match command::parse_sasl_response(line) {
                Ok(SaslResponse::Cancel) => {
                    self.client_error(Vec::new(), "[AUTH] authentication cancelled")
                }
                Ok(SaslResponse::Data(b64)) => self.sasl_plain(&b64),
                Err(e) => self.parse_error(&e),
            };
        }
        let cmd = match command::parse(line) {
            Ok(c) => c,
            Err(e) => return self.parse_error(&e),
        };
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Authorization { user } => self.authorization(user, cmd),
            State::Transaction(m) => self.transaction(m, cmd),
            other => {
                // commands come only when the session reads
                self.state = other;
                self.client_error(Vec::new(), "command not expected now")
            }
        }
    }

    fn capabilities(&self, out: &mut Vec<u8>) {
        let authorization = matches!(self.state, State::Authorization { .. });
        ok(out, "Capability list follows");
        line(out, "TOP");
        line(out, "UIDL");
        if authorization && self.plain_login_allowed() {
            line(out, "USER");
        }
        line(out, "RESP-CODES");
        line(out, "AUTH-RESP-CODE");
        line(out, "PIPELINING");
        if authorization && self.plain_login_allowed() {
            line(out, "SASL PLAIN");
        }
        if authorization && self.cfg.tls_available && !self.cfg.tls_on {
            line(out, "STLS");
        }
        line(out, "IMPLEMENTATION esmail");
        line(out, "EXPIRE NEVER");
        line(out, "LOGIN-DELAY 0");
        end_multiline(out);
    }

    fn login_refused(&self) -> String {
        if self.cfg.tls_available && !self.cfg.tls_on {
            "[AUTH] plain-text logins are disabled; use STLS first".into()
        } else {
            "[AUTH] plain-text logins are disabled; use a TLS connection".into()
        }
    }

    fn authorization(&mut self, user: Option<String>, cmd: Command) -> Step {
        let mut out = Vec::new();
        self.state = State::Authorization { user: None };
        match cmd {
            Command::Capa => {
                self.capabilities(&mut out);
                self.state = State::Authorization { user };
                Step::read(out)
            }
            Command::Noop => {
                ok(&mut out, "");
                self.state = State::Authorization { user };
                Step::read(out)
            }
            Command::Quit => {
                ok(
                    &mut out,
                    &format!("{} POP3 server signing off", self.cfg.hostname),
                );
                self.state = State::Closed;
                Step {
                    out,
                    next: Next::Close,
                }
            }
            Command::Stls => {
                if self.cfg.tls_on {
                    self.client_error(out, "TLS is already on")
                } else if !self.cfg.tls_available {
                    self.client_error(out, "STLS is not available")
                } else {
                    ok(&mut out, "Begin TLS negotiation");
                    self.state = State::StartingTls;
                    Step {
                        out,
                        next: Next::StartTls,
                    }
                }
            }
            Command::User(name) => {
                if !self.plain_login_allowed() {
                    let t = self.login_refused();
                    return self.client_error(out, &t);
                }
                ok(&mut out, "send PASS");
                self.state = State::Authorization { user: Some(name) };
                Step::read(out)
            }
            Command::Pass(pass) => {
                if !self.plain_login_allowed() {
                    let t = self.login_refused();
                    return self.client_error(out, &t);
                }
                let Some(user) = user else {
                    return self.client_error(out, "USER first");
                };
                self.state = State::LoggingIn;
                Step {
                    out,
                    next: Next::Login { user, pass },
                }
            }
            Command::Apop => self.client_error(out, "APOP is not supported"),
            Command::Auth(auth) => {
                if !self.plain_login_allowed() {
                    let t = self.login_refused();
                    return self.client_error(out, &t);
                }
                match auth {
                    None => {
                        ok(&mut out, "SASL mechanisms follow");
                        line(&mut out, "PLAIN");
                        end_multiline(&mut out);
                        Step::read(out)
                    }
                    Some(a) if a.mechanism != "PLAIN" => {
                        self.client_error(out, "unsupported authentication mechanism")
                    }
                    Some(a) => match a.initial {
                        Some(b64) => self.sasl_plain(&b64),
                        None => {
                            out.extend_from_slice(b"+ \r\n");
                            self.state = State::SaslResponse;
                            Step::read(out)
                        }
                    },
                }
            }
            Command::Stat
            | Command::List(_)
            | Command::Retr(_)
            | Command::Dele(_)
            | Command::Rset
            | Command::Top(..)
            | Command::Uidl(_) => {
                self.state = State::Authorization { user };
                self.client_error(out, "not logged in")
            }
        }
    }

    /// A SASL PLAIN message, in base64.
    fn sasl_plain(&mut self, b64: &Secret) -> Step {
        let Some(msg) = auth::base64_decode(b64.expose()) else {
            return self.client_error(Vec::new(), "invalid base64");
        };
        let Some(plain) = auth::sasl_plain(&msg) else {
            return self.client_error(Vec::new(), "[AUTH] malformed SASL PLAIN message");
        };
        if !auth::authzid_allowed(&plain) {
            return self.client_error(Vec::new(), "[AUTH] authorization identity not allowed");
        }
        self.state = State::LoggingIn;
        Step {
            out: Vec::new(),
            next: Next::Login {
                user: plain.user,
                pass: Secret::new(plain.pass),
            },
        }
    }

    /// The result of [`Next::Login`]: the maildrop on success, `None` for a wrong login.
    pub fn login_done(&mut self, r: Result<Option<Maildrop>, Unavailable>) -> Step {
        let mut out = Vec::new();
        match r {
            Ok(Some(m)) => {
                let (n, size) = m.totals();
                ok(
                    &mut out,
                    &format!("maildrop has {n} messages ({size} octets)"),
                );
                self.state = State::Transaction(m);
                Step::read(out)
            }
            Ok(None) => {
                self.state = State::Authorization { user: None };
                self.client_error(out, "[AUTH] invalid user name or password")
            }
            Err(Unavailable) => {
                self.state = State::Authorization { user: None };
                err_line(&mut out, SYS_TEMP);
                Step::read(out)
            }
        }
    }

    /// TLS is on (after [`Next::StartTls`]): the session starts over (RFC 2595, 4).
    pub fn tls_started(&mut self) {
        self.cfg.tls_on = true;
        self.state = State::Authorization { user: None };
    }

    fn transaction(&mut self, mut m: Maildrop, cmd: Command) -> Step {
        let mut out = Vec::new();
        macro_rules! number {
            ($n:expr) => {
                match m.get($n) {
                    Ok(i) => i,
                    Err(e) => {
                        self.state = State::Transaction(m);
                        return self.client_error(out, &e.to_string());
                    }
                }
            };
        }
        let next = match cmd {
            Command::Stat => {
                let (n, size) = m.totals();
                ok(&mut out, &format!("{n} {size}"));
                Next::Read
            }
            Command::List(None) => {
                let (n, size) = m.totals();
                ok(&mut out, &format!("{n} messages ({size} octets)"));
                for (i, msg) in m.live() {
                    line(&mut out, &format!("{i} {}", msg.size));
                }
                end_multiline(&mut out);
                Next::Read
            }
            Command::List(Some(n)) => {
                let i = number!(n);
                ok(&mut out, &format!("{n} {}", m.messages[i].size));
                Next::Read
            }
            Command::Uidl(None) => {
                ok(&mut out, "unique-id listing follows");
                for (i, msg) in m.live() {
                    line(&mut out, &format!("{i} {}", m.unique_id(msg)));
                }
                end_multiline(&mut out);
                Next::Read
            }
            Command::Uidl(Some(n)) => {
                let i = number!(n);
                ok(&mut out, &format!("{n} {}", m.unique_id(&m.messages[i])));
                Next::Read
            }
            Command::Retr(n) | Command::Top(n, _) => {
                let index = number!(n);
                let top = match cmd {
                    Command::Top(_, lines) => Some(lines),
                    _ => None,
                };
                let message_id = m.messages[index].message_id;
                self.state = State::Fetching {
                    maildrop: m,
                    index,
                    top,
                };
                return Step {
                    out,
                    next: Next::Fetch { message_id },
                };
            }
            Command::Dele(n) => {
                let i = number!(n);
                m.messages[i].deleted = true;
                ok(&mut out, &format!("message {n} deleted"));
                Next::Read
            }
            Command::Rset => {
                for msg in &mut m.messages {
                    msg.deleted = false;
                }
                let (n, size) = m.totals();
                ok(
                    &mut out,
                    &format!("maildrop has {n} messages ({size} octets)"),
                );
                Next::Read
            }
            Command::Noop => {
                ok(&mut out, "");
                Next::Read
            }
            Command::Capa => {
                self.state = State::Transaction(m);
                self.capabilities(&mut out);
                return Step::read(out);
            }
            Command::Quit => {
                let u = m.update();
                if u.is_empty() {
                    ok(
                        &mut out,
                        &format!(
                            "{} POP3 server signing off (0 messages deleted)",
                            self.cfg.hostname
                        ),
                    );
                    self.state = State::Closed;
                    return Step {
                        out,
                        next: Next::Close,
                    };
                }
                self.state = State::Update;
                return Step {
                    out,
                    next: Next::Update(u),
                };
            }
            Command::Stls => {
                self.state = State::Transaction(m);
                return self.client_error(out, "STLS only before login");
            }
            Command::User(_) | Command::Pass(_) | Command::Auth(_) => {
                self.state = State::Transaction(m);
                return self.client_error(out, "already logged in");
            }
            Command::Apop => {
                self.state = State::Transaction(m);
                return self.client_error(out, "APOP is not supported");
            }
        };
        self.state = State::Transaction(m);
        Step { out, next }
    }

    /// The content asked for with [`Next::Fetch`] (`None`: the message is gone).
    pub fn fetched(&mut self, r: Result<Option<Vec<u8>>, Unavailable>) -> Step {
        let State::Fetching {
            mut maildrop,
            index,
            top,
        } = std::mem::replace(&mut self.state, State::Closed)
        else {
            return self.client_error(Vec::new(), "no message was asked for");
        };
        let mut out = Vec::new();
        match r {
            Ok(Some(content)) => {
                let msg = &mut maildrop.messages[index];
                match top {
                    None => {
                        ok(&mut out, &format!("{} octets", msg.size));
                        msg.retrieved = true;
                    }
                    Some(_) => ok(&mut out, "top of message follows"),
                }
                write_message(&mut out, &content, top);
            }
            Ok(None) => err_line(&mut out, "[SYS/TEMP] message no longer exists"),
            Err(Unavailable) => err_line(&mut out, SYS_TEMP),
        }
        self.state = State::Transaction(maildrop);
        Step::read(out)
    }

    /// The result of [`Next::Update`]: the number of messages removed.
    pub fn updated(&mut self, r: Result<usize, Unavailable>) -> Step {
        let mut out = Vec::new();
        match r {
            Ok(n) => ok(
                &mut out,
                &format!(
                    "{} POP3 server signing off ({n} messages deleted)",
                    self.cfg.hostname
                ),
            ),
            Err(Unavailable) => err_line(
                &mut out,
                "[SYS/TEMP] the mail store is not available; no message was deleted",
            ),
        }
        self.state = State::Closed;
        Step {
            out,
            next: Next::Close,
        }
    }
}

/// The lines of a message, without their endings (LF, and a CR before it).
fn lines(content: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = content.strip_suffix(b"\n").unwrap_or(content);
    let empty = content.is_empty();
    body.split(|b| *b == b'\n')
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Writes a message as a multi-line response body: CRLF line endings, dot-stuffed, ending
/// with `.`. With `top`, only the header, the blank line and that many body lines.
pub fn write_message(out: &mut Vec<u8>, content: &[u8], top: Option<u32>) {
    out.reserve(content.len() + content.len() / 32 + 8);
    let mut in_header = true;
    let mut body_lines = 0u32;
    for l in lines(content) {
        if let Some(max) = top {
            if in_header {
                in_header = !l.is_empty();
            } else {
                if body_lines >= max {
                    break;
                }
                body_lines += 1;
            }
        }
        if l.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(l);
        out.extend_from_slice(b"\r\n");
    }
    if top.is_some() && in_header {
        // a message without a body: its header still ends with a blank line
        out.extend_from_slice(b"\r\n");
    }
    end_multiline(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn cfg() -> SessionConfig {
        SessionConfig {
            hostname: "mail.acme.com".into(),
            tls_available: true,
            tls_on: false,
            loopback: false,
            login_disabled_without_tls: false,
        }
    }

    fn row(uid: i64, size: i64, flags: &str) -> MessageRow {
        MessageRow {
            uid,
            message_id: uid * 100,
            flags: flags.into(),
            modseq: 1,
            internal_date: Utc::now(),
            size,
        }
    }

    fn drop3() -> Maildrop {
        // given out of order: numbering follows the UIDs
        Maildrop::new(
            7,
            70,
            1234,
            vec![row(12, 300, ""), row(5, 100, "\\Seen"), row(9, 200, "$x")],
        )
    }

    fn s(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    fn cmd(sess: &mut Session, line: &str) -> Step {
        sess.command(format!("{line}\r\n").as_bytes())
    }

    fn text(sess: &mut Session, line: &str) -> String {
        let st = cmd(sess, line);
        assert_eq!(st.next, Next::Read, "{line}");
        s(&st.out)
    }

    fn logged_in() -> Session {
        let mut sess = Session::new(cfg());
        assert_eq!(text(&mut sess, "USER jdoe"), "+OK send PASS\r\n");
        let st = cmd(&mut sess, "PASS secret");
        assert_eq!(
            st.next,
            Next::Login {
                user: "jdoe".into(),
                pass: Secret::new("secret")
            }
        );
        assert!(st.out.is_empty());
        let st = sess.login_done(Ok(Some(drop3())));
        assert_eq!(s(&st.out), "+OK maildrop has 3 messages (600 octets)\r\n");
        assert_eq!(sess.state_name(), "TRANSACTION");
        sess
    }

    #[test]
    fn greeting_and_capabilities() {
        let mut sess = Session::new(cfg());
        assert_eq!(
            s(&sess.greeting()),
            "+OK mail.acme.com POP3 server ready\r\n"
        );
        let capa = text(&mut sess, "CAPA");
        assert_eq!(
            capa,
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nRESP-CODES\r\n\
             AUTH-RESP-CODE\r\nPIPELINING\r\nSASL PLAIN\r\nSTLS\r\n\
             IMPLEMENTATION esmail\r\nEXPIRE NEVER\r\nLOGIN-DELAY 0\r\n.\r\n"
        );
        // STLS, then no STLS any more
        let st = cmd(&mut sess, "STLS");
        assert_eq!(s(&st.out), "+OK Begin TLS negotiation\r\n");
        assert_eq!(st.next, Next::StartTls);
        sess.tls_started();
        let capa = text(&mut sess, "CAPA");
        assert!(!capa.contains("STLS"));
        assert!(capa.contains("USER\r\n"));
        assert!(text(&mut sess, "STLS").starts_with("-ERR "));
        // no TLS configured
        let mut sess = Session::new(SessionConfig {
            tls_available: false,
            ..cfg()
        });
        assert!(!text(&mut sess, "CAPA").contains("STLS"));
        assert_eq!(text(&mut sess, "STLS"), "-ERR STLS is not available\r\n");
    }

    #[test]
    fn login_gate_without_tls() {
        let gated = SessionConfig {
            login_disabled_without_tls: true,
            ..cfg()
        };
        let mut sess = Session::new(gated.clone());
        let capa = text(&mut sess, "CAPA");
        assert!(!capa.contains("USER"));
        assert!(!capa.contains("SASL"));
        assert!(capa.contains("STLS"));
        for c in ["USER jdoe", "PASS x", "AUTH PLAIN AGpkb2UAeA==", "AUTH"] {
            assert_eq!(
                text(&mut sess, c),
                "-ERR [AUTH] plain-text logins are disabled; use STLS first\r\n"
            );
        }
        // after STLS it works
        assert_eq!(cmd(&mut sess, "STLS").next, Next::StartTls);
        sess.tls_started();
        assert!(text(&mut sess, "CAPA").contains("USER"));
        assert_eq!(text(&mut sess, "USER jdoe"), "+OK send PASS\r\n");
        // implicit TLS, and loopback clients
        for c in [
            SessionConfig {
                tls_on: true,
                ..gated.clone()
            },
            SessionConfig {
                loopback: true,
                ..gated.clone()
            },
        ] {
            let mut sess = Session::new(c);
            assert_eq!(text(&mut sess, "USER jdoe"), "+OK send PASS\r\n");
        }
    }

    #[test]
    fn authorization_state() {
        let mut sess = Session::new(cfg());
        assert_eq!(text(&mut sess, "PASS x"), "-ERR USER first\r\n");
        assert_eq!(text(&mut sess, "STAT"), "-ERR not logged in\r\n");
        assert_eq!(text(&mut sess, "RETR 1"), "-ERR not logged in\r\n");
        assert_eq!(
            text(&mut sess, "APOP a b"),
            "-ERR APOP is not supported\r\n"
        );
        assert_eq!(text(&mut sess, "NOOP"), "+OK\r\n");
        assert_eq!(text(&mut sess, "XYZ"), "-ERR unknown command\r\n");
        assert_eq!(text(&mut sess, "RETR x"), "-ERR invalid message number\r\n");
        // a failed login, then the store down
        cmd(&mut sess, "USER jdoe");
        assert!(matches!(
            cmd(&mut sess, "PASS bad").next,
            Next::Login { .. }
        ));
        assert_eq!(
            s(&sess.login_done(Ok(None)).out),
            "-ERR [AUTH] invalid user name or password\r\n"
        );
        // USER is needed again
        assert_eq!(text(&mut sess, "PASS x"), "-ERR USER first\r\n");
        cmd(&mut sess, "USER jdoe");
        cmd(&mut sess, "PASS x");
        let st = sess.login_done(Err(Unavailable));
        assert!(s(&st.out).starts_with("-ERR [SYS/TEMP] "));
        assert_eq!(sess.state_name(), "AUTHORIZATION");
        let st = cmd(&mut sess, "QUIT");
        assert_eq!(s(&st.out), "+OK mail.acme.com POP3 server signing off\r\n");
        assert_eq!(st.next, Next::Close);
    }

    #[test]
    fn sasl_plain() {
        let b64 = auth::base64_encode(b"\0jdoe\0secret");
        // initial response
        let mut sess = Session::new(cfg());
        let st = cmd(&mut sess, &format!("AUTH PLAIN {b64}"));
        assert_eq!(
            st.next,
            Next::Login {
                user: "jdoe".into(),
                pass: Secret::new("secret")
            }
        );
        // continuation
        let mut sess = Session::new(cfg());
        assert_eq!(text(&mut sess, "auth plain"), "+ \r\n");
        assert!(sess.awaiting_sasl_response());
        let st = cmd(&mut sess, &b64);
        assert!(matches!(st.next, Next::Login { ref user, .. } if user == "jdoe"));
        assert!(sess.login_done(Ok(Some(drop3()))).out.starts_with(b"+OK"));
        // cancel
        let mut sess = Session::new(cfg());
        text(&mut sess, "AUTH PLAIN");
        assert_eq!(
            text(&mut sess, "*"),
            "-ERR [AUTH] authentication cancelled\r\n"
        );
        assert_eq!(text(&mut sess, "NOOP"), "+OK\r\n");
        // bad data
        text(&mut sess, "AUTH PLAIN");
        assert_eq!(
            text(&mut sess, "!!"),
            "-ERR invalid characters in SASL response\r\n"
        );
        assert_eq!(text(&mut sess, "AUTH PLAIN ab"), "-ERR invalid base64\r\n");
        let no_pass = auth::base64_encode(b"jdoe\0secret");
        assert_eq!(
            text(&mut sess, &format!("AUTH PLAIN {no_pass}")),
            "-ERR [AUTH] malformed SASL PLAIN message\r\n"
        );
        let other = auth::base64_encode(b"admin\0jdoe\0secret");
        assert_eq!(
            text(&mut sess, &format!("AUTH PLAIN {other}")),
            "-ERR [AUTH] authorization identity not allowed\r\n"
        );
        assert_eq!(
            text(&mut sess, "AUTH LOGIN"),
            "-ERR unsupported authentication mechanism\r\n"
        );
        assert_eq!(
            text(&mut sess, "AUTH"),
            "+OK SASL mechanisms follow\r\nPLAIN\r\n.\r\n"
        );
        // a line too long while waiting for the response ends the exchange
        text(&mut sess, "AUTH PLAIN");
        assert_eq!(s(&sess.too_long().out), "-ERR line too long\r\n");
        assert!(!sess.awaiting_sasl_response());
    }

    #[test]
    fn numbering_stat_list_uidl() {
        let mut sess = logged_in();
        assert_eq!(text(&mut sess, "STAT"), "+OK 3 600\r\n");
        assert_eq!(
            text(&mut sess, "LIST"),
            "+OK 3 messages (600 octets)\r\n1 100\r\n2 200\r\n3 300\r\n.\r\n"
        );
        assert_eq!(text(&mut sess, "LIST 2"), "+OK 2 200\r\n");
        assert_eq!(text(&mut sess, "LIST 4"), "-ERR no such message: 4\r\n");
        assert_eq!(
            text(&mut sess, "UIDL"),
            "+OK unique-id listing follows\r\n1 1234.5\r\n2 1234.9\r\n3 1234.12\r\n.\r\n"
        );
        assert_eq!(text(&mut sess, "UIDL 3"), "+OK 3 1234.12\r\n");
        assert_eq!(text(&mut sess, "USER x"), "-ERR already logged in\r\n");
        assert_eq!(text(&mut sess, "STLS"), "-ERR STLS only before login\r\n");
        let capa = text(&mut sess, "CAPA");
        assert!(!capa.contains("USER") && !capa.contains("STLS") && capa.contains("UIDL"));
    }

    #[test]
    fn dele_and_rset() {
        let mut sess = logged_in();
        assert_eq!(text(&mut sess, "DELE 2"), "+OK message 2 deleted\r\n");
        assert_eq!(
            text(&mut sess, "DELE 2"),
            "-ERR message 2 already deleted\r\n"
        );
        assert_eq!(
            text(&mut sess, "RETR 2"),
            "-ERR message 2 already deleted\r\n"
        );
        assert_eq!(
            text(&mut sess, "LIST 2"),
            "-ERR message 2 already deleted\r\n"
        );
        assert_eq!(text(&mut sess, "STAT"), "+OK 2 400\r\n");
        // numbers do not shift
        assert_eq!(
            text(&mut sess, "LIST"),
            "+OK 2 messages (400 octets)\r\n1 100\r\n3 300\r\n.\r\n"
        );
        assert_eq!(
            text(&mut sess, "UIDL"),
            "+OK unique-id listing follows\r\n1 1234.5\r\n3 1234.12\r\n.\r\n"
        );
        assert_eq!(
            text(&mut sess, "RSET"),
            "+OK maildrop has 3 messages (600 octets)\r\n"
        );
        assert_eq!(text(&mut sess, "STAT"), "+OK 3 600\r\n");
        text(&mut sess, "DELE 3");
        text(&mut sess, "DELE 1");
        let st = cmd(&mut sess, "QUIT");
        assert!(st.out.is_empty());
        assert_eq!(
            st.next,
            Next::Update(Update {
                account_id: 7,
                folder_id: 70,
                delete: vec![5, 12],
                seen: vec![],
            })
        );
        let st = sess.updated(Ok(2));
        assert_eq!(
            s(&st.out),
            "+OK mail.acme.com POP3 server signing off (2 messages deleted)\r\n"
        );
        assert_eq!(st.next, Next::Close);
    }

    #[test]
    fn quit_failure_and_plain_quit() {
        let mut sess = logged_in();
        text(&mut sess, "DELE 1");
        assert!(matches!(cmd(&mut sess, "QUIT").next, Next::Update(_)));
        let st = sess.updated(Err(Unavailable));
        assert!(s(&st.out).starts_with("-ERR [SYS/TEMP] "));
        assert_eq!(st.next, Next::Close);
        // nothing to do: no store work
        let mut sess = logged_in();
        let st = cmd(&mut sess, "QUIT");
        assert_eq!(st.next, Next::Close);
        assert_eq!(
            s(&st.out),
            "+OK mail.acme.com POP3 server signing off (0 messages deleted)\r\n"
        );
    }

    #[test]
    fn retr_top_and_seen() {
        let mut sess = logged_in();
        let st = cmd(&mut sess, "RETR 2");
        assert_eq!(st.next, Next::Fetch { message_id: 900 });
        let st = sess.fetched(Ok(Some(b"Subject: x\n\n.hidden\n..two\nlast".to_vec())));
        assert_eq!(
            s(&st.out),
            "+OK 200 octets\r\nSubject: x\r\n\r\n..hidden\r\n...two\r\nlast\r\n.\r\n"
        );
        // TOP does not count as read
        assert_eq!(
            cmd(&mut sess, "TOP 3 1").next,
            Next::Fetch { message_id: 1200 }
        );
        let st = sess.fetched(Ok(Some(b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n".to_vec())));
        assert_eq!(
            s(&st.out),
            "+OK top of message follows\r\nA: 1\r\nB: 2\r\n\r\nl1\r\n.\r\n"
        );
        // already seen: no change needed
        cmd(&mut sess, "RETR 1");
        sess.fetched(Ok(Some(b"x\r\n".to_vec())));
        // vanished, store down
        cmd(&mut sess, "RETR 3");
        assert_eq!(
            s(&sess.fetched(Ok(None)).out),
            "-ERR [SYS/TEMP] message no longer exists\r\n"
        );
        cmd(&mut sess, "RETR 3");
        assert!(s(&sess.fetched(Err(Unavailable)).out).starts_with("-ERR [SYS/TEMP] "));
        assert_eq!(text(&mut sess, "RETR 4"), "-ERR no such message: 4\r\n");
        assert_eq!(
            cmd(&mut sess, "QUIT").next,
            Next::Update(Update {
                account_id: 7,
                folder_id: 70,
                delete: vec![],
                seen: vec![9],
            })
        );
        // retrieved then deleted: only deleted
        let mut sess = logged_in();
        cmd(&mut sess, "RETR 3");
        sess.fetched(Ok(Some(b"x\r\n".to_vec())));
        text(&mut sess, "DELE 3");
        assert_eq!(
            cmd(&mut sess, "QUIT").next,
            Next::Update(Update {
                account_id: 7,
                folder_id: 70,
                delete: vec![12],
                seen: vec![],
            })
        );
    }

    fn top(content: &[u8], n: Option<u32>) -> String {
        let mut out = Vec::new();
        write_message(&mut out, content, n);
        s(&out)
    }

    #[test]
    fn message_bodies() {
        // line endings normalised, dot-stuffing
        assert_eq!(top(b"a\nb\r\n.\r\n", None), "a\r\nb\r\n..\r\n.\r\n");
        assert_eq!(top(b".\n", None), "..\r\n.\r\n");
        assert_eq!(top(b"", None), ".\r\n");
        assert_eq!(top(b"\r\n", None), "\r\n.\r\n");
        assert_eq!(top(b"no ending", None), "no ending\r\n.\r\n");
        assert_eq!(top(b"x\r\r\n", None), "x\r\r\n.\r\n");
        // TOP line counting
        let m = b"H: 1\r\nH2: 2\r\n\r\nb1\r\n\r\nb3\r\nb4";
        assert_eq!(top(m, Some(0)), "H: 1\r\nH2: 2\r\n\r\n.\r\n");
        assert_eq!(top(m, Some(1)), "H: 1\r\nH2: 2\r\n\r\nb1\r\n.\r\n");
        assert_eq!(top(m, Some(2)), "H: 1\r\nH2: 2\r\n\r\nb1\r\n\r\n.\r\n");
        assert_eq!(
            top(m, Some(100)),
            "H: 1\r\nH2: 2\r\n\r\nb1\r\n\r\nb3\r\nb4\r\n.\r\n"
        );
        assert_eq!(top(b"H: 1\n\n.x\n", Some(5)), "H: 1\r\n\r\n..x\r\n.\r\n");
        // no body at all: the header still ends with a blank line
        assert_eq!(top(b"H: 1\r\n", Some(3)), "H: 1\r\n\r\n.\r\n");
        assert_eq!(top(b"", Some(3)), "\r\n.\r\n");
    }

    #[test]
    fn seen_flags() {
        assert_eq!(with_seen(""), Some("\\Seen".into()));
        assert_eq!(
            with_seen("$x \\Flagged"),
            Some("$x \\Flagged \\Seen".into())
        );
        assert_eq!(with_seen("\\seen"), None);
        assert!(has_flag("a \\Seen b", SEEN));
        assert!(!has_flag("\\Seenx", SEEN));
    }

    #[test]
    fn too_many_errors_close() {
        let mut sess = Session::new(cfg());
        for _ in 1..MAX_ERRORS {
            assert_eq!(cmd(&mut sess, "BAD").next, Next::Read);
        }
        let st = cmd(&mut sess, "BAD");
        assert_eq!(
            s(&st.out),
            "-ERR unknown command\r\n-ERR too many errors\r\n"
        );
        assert_eq!(st.next, Next::Close);
    }

    #[test]
    fn too_long_goes_on() {
        let mut sess = logged_in();
        let st = sess.too_long();
        assert_eq!(s(&st.out), "-ERR line too long\r\n");
        assert_eq!(st.next, Next::Read);
        assert_eq!(text(&mut sess, "STAT"), "+OK 3 600\r\n");
    }

    #[test]
    fn last_words() {
        let mut sess = logged_in();
        assert_eq!(
            s(&sess.shutting_down()),
            "-ERR [SYS/TEMP] server shutting down\r\n"
        );
        let mut sess = logged_in();
        assert!(s(&sess.timeout("idle for too long")).starts_with("-ERR [SYS/TEMP] autologout"));
    }

    #[test]
    fn empty_maildrop() {
        let mut sess = Session::new(cfg());
        cmd(&mut sess, "USER jdoe");
        cmd(&mut sess, "PASS x");
        sess.login_done(Ok(Some(Maildrop::empty(7))));
        assert_eq!(text(&mut sess, "STAT"), "+OK 0 0\r\n");
        assert_eq!(
            text(&mut sess, "LIST"),
            "+OK 0 messages (0 octets)\r\n.\r\n"
        );
        assert_eq!(text(&mut sess, "RETR 1"), "-ERR no such message: 1\r\n");
        assert_eq!(cmd(&mut sess, "QUIT").next, Next::Close);
    }
}
