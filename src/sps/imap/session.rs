//! One IMAP session: reading messages (with literals and their limits), running commands in
//! the state they are valid in, keeping the selected mailbox in step with the store after
//! every command, timeouts, pacing, shutdown. The commands themselves are in the `cmd_*`
//! modules and [`super::idle`].

use std::net::SocketAddr;
use std::sync::Arc;

use imap_codec::imap_types::command::CommandBody;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use super::framing::{Frame, Framer, Problem};
use super::list::Options;
use super::parse::{self, Invalid, SearchReturn};
use super::response::{self, Done, Kind};
use super::selected::{Enabled, Selected};
use super::store;
use crate::sps::auth::Login;
use crate::sps::registry::SessionHandle;
use crate::sps::{io, Ctx, ServerConfig};

/// Consecutive BAD answers before the session is closed.
const MAX_BAD: u32 = 50;
/// Largest literal before login.
const MAX_LITERAL_UNAUTH: u64 = 64 * 1024;
/// Output is sent when it grows past this, even in the middle of a command.
pub(super) const FLUSH_AT: usize = 256 * 1024;

/// Why reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Stop {
    /// The client went away (or a write failed).
    Closed,
    /// Nothing came for the idle timeout.
    Timeout,
    /// No login within the login timeout.
    LoginTimeout,
    /// A command begun was not finished within the command timeout.
    CommandTimeout,
    /// The server is stopping.
    Shutdown,
}

/// How a command handler ended.
#[derive(Debug)]
pub(super) enum Reply {
    /// The tagged response to send.
    Done(Done),
    /// The handler sent its tagged response itself.
    Sent,
    /// The session ends (everything to say has been said).
    Close,
}

impl From<Done> for Reply {
    fn from(d: Done) -> Reply {
        Reply::Done(d)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    NotAuthenticated,
    Authenticated,
    Selected,
}

pub struct Session {
    pub(super) ctx: Arc<Ctx>,
    pub(super) cfg: Arc<ServerConfig>,
    pub(super) stream: Option<io::Stream>,
    pub(super) framer: Framer,
    pub(super) out: Vec<u8>,
    pub(super) peer: SocketAddr,
    pub(super) tls: bool,
    pub(super) handle: SessionHandle,
    pace: io::Pace,
    pub(super) stop: watch::Receiver<bool>,
    pub(super) login: Option<Login>,
    pub(super) selected: Option<Selected>,
    /// CONDSTORE and QRESYNC, once enabled, for the rest of the session.
    pub(super) enabled: Enabled,
    bad: u32,
    /// Writing failed: the session is over.
    pub(super) broken: bool,
    /// When the client connected (it must log in within the login timeout).
    connected: tokio::time::Instant,
    /// When the first byte of the command being read came.
    command_since: Option<tokio::time::Instant>,
}

impl Session {
    pub fn new(ctx: Arc<Ctx>, stream: io::Stream, handle: SessionHandle, tls: bool) -> Session {
        let cfg = ctx.cfg();
        let peer = handle.peer();
        let stop = ctx.stop.clone();
        Session {
            framer: new_framer(&cfg),
            pace: io::Pace::new(cfg.commands_per_second),
            ctx,
            cfg,
            stream: Some(stream),
            out: Vec::with_capacity(4096),
            peer,
            tls,
            handle,
            stop,
            login: None,
            selected: None,
            enabled: Enabled::default(),
            bad: 0,
            broken: false,
            connected: tokio::time::Instant::now(),
            command_since: None,
        }
    }

    pub(super) fn state(&self) -> State {
        match (&self.login, &self.selected) {
            (None, _) => State::NotAuthenticated,
            (Some(_), None) => State::Authenticated,
            (Some(_), Some(_)) => State::Selected,
        }
    }

    pub(super) fn account_id(&self) -> i64 {
        self.login.as_ref().map(|l| l.account_id).unwrap_or(0)
    }

    /// Serves the client to the end, then closes the connection (with TLS's close_notify).
    pub async fn run(mut self) {
        self.serve().await;
        if let Some(stream) = self.stream.as_mut() {
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                tokio::io::AsyncWriteExt::shutdown(stream),
            )
            .await;
        }
    }

    async fn serve(&mut self) {
        if *self.stop.borrow() {
            response::bye(&mut self.out, None, "server shutting down");
            let _ = self.flush().await;
            return;
        }
        let caps = self.capabilities();
        response::untagged_status(
            &mut self.out,
            Kind::Ok,
            Some(&format!("CAPABILITY {caps}")),
            &format!("{} esmail IMAP4rev1 server ready", self.cfg.hostname),
        );
        if self.flush().await.is_err() {
            return;
        }
        loop {
            let frame = match self.next_frame().await {
                Ok(f) => f,
                Err(stop) => {
                    self.goodbye(stop).await;
                    return;
                }
            };
            let go_on = match frame {
                Frame::Literal { length, sync } => self.literal(length, sync).await,
                Frame::Complete => self.message().await,
                Frame::Overflow => {
                    response::bye(&mut self.out, None, "command line too long");
                    let _ = self.flush().await;
                    false
                }
            };
            if !go_on || self.broken {
                return;
            }
        }
    }

    /// Says why the session ends, when the client is still there.
    pub(super) async fn goodbye(&mut self, stop: Stop) {
        match stop {
            Stop::Closed => return,
            Stop::Timeout => response::bye(&mut self.out, None, "Autologout; idle for too long"),
            Stop::LoginTimeout => {
                response::bye(&mut self.out, None, "Autologout; no login in time")
            }
            Stop::CommandTimeout => response::bye(
                &mut self.out,
                None,
                "Autologout; command not completed in time",
            ),
            Stop::Shutdown => response::bye(&mut self.out, None, "server shutting down"),
        }
        let _ = self.flush().await;
    }

    /// Sends what is buffered.
    pub(super) async fn flush(&mut self) -> Result<(), Stop> {
        if self.out.is_empty() {
            return Ok(());
        }
        let Some(stream) = self.stream.as_mut() else {
            self.broken = true;
            return Err(Stop::Closed);
        };
        let r = io::send(stream, &self.out, self.cfg.write_timeout).await;
        self.out.clear();
        if self.out.capacity() > 4 * FLUSH_AT {
            // after a large FETCH: do not keep its buffer for the rest of the session
            self.out = Vec::with_capacity(4096);
        }
        if let Err(e) = r {
            log::debug!("imap {}: {e}", self.peer);
            self.broken = true;
            return Err(Stop::Closed);
        }
        Ok(())
    }

    /// Sends the buffer when it has grown large.
    pub(super) async fn flush_if_large(&mut self) -> Result<(), Stop> {
        if self.out.len() >= FLUSH_AT {
            self.flush().await
        } else {
            Ok(())
        }
    }

    /// The next frame, reading as needed, within the session's deadlines.
    pub(super) async fn next_frame(&mut self) -> Result<Frame, Stop> {
        loop {
            if let Some(f) = self.framer.next() {
                if f == Frame::Complete {
                    self.command_since = None;
                }
                return Ok(f);
            }
            let (until, why) = self.deadline();
            let wait = until.saturating_duration_since(tokio::time::Instant::now());
            if wait.is_zero() {
                return Err(why);
            }
            match self.fill(wait).await {
                Err(Stop::Timeout) => return Err(why),
                r => r?,
            }
        }
    }

    /// When the next read must have come, and what to say when it has not: nothing for the
    /// idle timeout; no login within the login timeout; a command started and not finished
    /// within the command timeout (plus time for its literals at a slow upload rate).
    fn deadline(&mut self) -> (tokio::time::Instant, Stop) {
        let now = tokio::time::Instant::now();
        let mut best = (now + self.cfg.idle_timeout, Stop::Timeout);
        if self.login.is_none() {
            best = best.min((self.connected + self.cfg.login_timeout, Stop::LoginTimeout));
        }
        if self.framer.started() {
            let since = *self.command_since.get_or_insert(now);
            let literals = self.framer.announced() / crate::sps::LITERAL_BYTES_PER_SECOND;
            let until = since + self.cfg.command_timeout + std::time::Duration::from_secs(literals);
            best = best.min((until, Stop::CommandTimeout));
        } else {
            self.command_since = None;
        }
        best
    }

    /// Reads more bytes into the framer, waiting at most `wait`.
    pub(super) async fn fill(&mut self, wait: std::time::Duration) -> Result<(), Stop> {
        let mut buf = [0u8; 16 * 1024];
        let Session {
            stream,
            stop,
            framer,
            ..
        } = self;
        let Some(stream) = stream.as_mut() else {
            return Err(Stop::Closed);
        };
        tokio::select! {
            r = stream.read(&mut buf) => match r {
                Ok(0) | Err(_) => Err(Stop::Closed),
                Ok(n) => {
                    framer.push(&buf[..n]);
                    Ok(())
                }
            },
            _ = tokio::time::sleep(wait) => Err(Stop::Timeout),
            _ = stopped(stop) => Err(Stop::Shutdown),
        }
    }

    /// A literal was announced.
    async fn literal(&mut self, length: u32, sync: bool) -> bool {
        if !sync {
            if self.login.is_none() && !self.framer.literal_allowed(length) {
                // not read before login
                response::bye(&mut self.out, Some("TOOBIG"), "literal too big");
                let _ = self.flush().await;
                return false;
            }
            return true;
        }
        if self.framer.literal_allowed(length) {
            self.out.extend_from_slice(b"+ Ready for literal data\r\n");
            return self.flush().await.is_ok();
        }
        let done = if self.framer.literal_allowed(0) {
            Done::no("literal too big").code("TOOBIG")
        } else {
            Done::bad("command line too long")
        };
        match self.framer.tag() {
            Some(tag) => {
                self.framer.reject_literal();
                response::tagged(&mut self.out, &tag, &done);
                self.count_bad(Kind::Bad);
                self.flush().await.is_ok() && self.bad < MAX_BAD
            }
            None => {
                // no tag to answer: the client would send the literal anyway
                response::bye(&mut self.out, None, "invalid literal");
                let _ = self.flush().await;
                false
            }
        }
    }

    fn count_bad(&mut self, kind: Kind) {
        if kind == Kind::Bad {
            self.bad += 1;
        } else {
            self.bad = 0;
        }
    }

    /// A complete message: a command.
    async fn message(&mut self) -> bool {
        let problem = self.framer.problem();
        let decoded = match problem {
            Some(p) => Err(p),
            None => {
                let selected = &self.selected;
                let saved = |uid: bool| selected.as_ref().map(|s| s.saved_set(uid));
                Ok(parse::command_with(self.framer.message(), &saved))
            }
        };
        if matches!(decoded, Ok(Err(_))) && parse::saves_search(self.framer.message()) {
            // a failed SEARCH ... RETURN (SAVE) empties the saved result (RFC 5182)
            if let Some(sel) = self.selected.as_mut() {
                sel.saved.clear();
            }
        }
        let tag = self.framer.tag();
        let result = match decoded {
            Err(Problem::LineTooLong) => Err(Done::bad("command line too long")),
            Err(Problem::LiteralTooBig) => Err(Done::bad("literal too big").code("TOOBIG")),
            Ok(Err(Invalid::Syntax)) => Err(Done::bad("Error in IMAP command")),
            Ok(Err(Invalid::ListOption(o))) => {
                Err(Done::bad(format!("unsupported LIST option {o}")))
            }
            Ok(Err(Invalid::SearchOption(o))) => {
                Err(Done::bad(format!("unsupported SEARCH RETURN option {o}")))
            }
            Ok(Ok(d)) => Ok(d),
        };
        let d = match result {
            Ok(d) => d,
            Err(done) => {
                match tag {
                    Some(t) => response::tagged(&mut self.out, &t, &done),
                    None => response::untagged_status(&mut self.out, Kind::Bad, None, &done.text),
                }
                self.count_bad(Kind::Bad);
                if self.bad >= MAX_BAD {
                    response::bye(&mut self.out, None, "Too many invalid commands");
                    let _ = self.flush().await;
                    return false;
                }
                return self.flush().await.is_ok();
            }
        };
        self.pace.wait().await;
        self.execute(d).await
    }

    /// Runs a command and answers it.
    async fn execute(&mut self, d: parse::Decoded) -> bool {
        let parse::Decoded {
            command: cmd,
            list,
            search,
            empty_set,
        } = d;
        let tag = cmd.tag.inner().to_string();
        let name = cmd.body.name();
        log::debug!("imap {} {tag} {name}", self.peer);
        // after the command: synchronize the selected mailbox (None: not for this one);
        // expunges are not announced during FETCH, STORE and SEARCH (RFC 3501, 7.4.1)
        let sync = match &cmd.body {
            CommandBody::Fetch { uid, .. }
            | CommandBody::Store { uid, .. }
            | CommandBody::Search { uid, .. } => Some(*uid),
            CommandBody::Select { .. }
            | CommandBody::Examine { .. }
            | CommandBody::Close
            | CommandBody::Unselect
            | CommandBody::Logout
            | CommandBody::Idle
            | CommandBody::StartTLS => None,
            _ => Some(true),
        };
        let is_expunge = matches!(
            &cmd.body,
            CommandBody::Expunge | CommandBody::ExpungeUid { .. }
        );
        let reply = match self.allowed(&cmd.body) {
            Err(done) => Reply::Done(done),
            // `$` was the empty saved result: nothing to act on
            Ok(()) if empty_set => Done::ok(format!("{name} completed")).into(),
            Ok(()) => self.dispatch(&tag, cmd.body, list, search).await,
        };
        match reply {
            Reply::Done(mut done) => {
                if let (Some(expunge), true) = (sync, done.kind != Kind::Bad) {
                    self.sync(expunge).await;
                }
                // a CONDSTORE client learns from the tagged OK of EXPUNGE the MODSEQ its
                // expunges reached, which no FETCH shows (as in RFC 7162's examples)
                if is_expunge
                    && done.kind == Kind::Ok
                    && done.code.is_none()
                    && self.enabled.condstore
                {
                    if let Some(sel) = &self.selected {
                        done = done.code(format!("HIGHESTMODSEQ {}", sel.modseq.max(1)));
                    }
                }
                response::tagged(&mut self.out, &tag, &done);
                self.count_bad(done.kind);
                if self.bad >= MAX_BAD {
                    response::bye(&mut self.out, None, "Too many invalid commands");
                    let _ = self.flush().await;
                    return false;
                }
                self.flush().await.is_ok()
            }
            Reply::Sent => {
                self.count_bad(Kind::Ok);
                self.flush().await.is_ok()
            }
            Reply::Close => {
                let _ = self.flush().await;
                false
            }
        }
    }

    /// Whether the command is valid in the session's state.
    fn allowed(&self, body: &CommandBody<'_>) -> Result<(), Done> {
        use CommandBody as C;
        let state = self.state();
        let need_auth = || match state {
            State::NotAuthenticated => Err(Done::bad("Please log in first")),
            _ => Ok(()),
        };
        let need_selected = || match state {
            State::NotAuthenticated => Err(Done::bad("Please log in first")),
            State::Authenticated => Err(Done::bad("No mailbox selected")),
            State::Selected => Ok(()),
        };
        match body {
            C::Capability | C::Noop | C::Logout | C::Id { .. } => Ok(()),
            C::StartTLS | C::Login { .. } | C::Authenticate { .. } => match state {
                State::NotAuthenticated => Ok(()),
                _ => Err(Done::bad("Already logged in")),
            },
            C::Select { .. }
            | C::Examine { .. }
            | C::Create { .. }
            | C::Delete { .. }
            | C::Rename { .. }
            | C::Subscribe { .. }
            | C::Unsubscribe { .. }
            | C::List { .. }
            | C::Lsub { .. }
            | C::Status { .. }
            | C::Append { .. }
            | C::Idle
            | C::Namespace
            | C::GetQuota { .. }
            | C::GetQuotaRoot { .. }
            | C::SetQuota { .. } => need_auth(),
            C::Enable { .. } => match state {
                State::Authenticated => Ok(()),
                State::Selected => Err(Done::bad("ENABLE is not allowed with a mailbox selected")),
                State::NotAuthenticated => Err(Done::bad("Please log in first")),
            },
            C::Check
            | C::Close
            | C::Unselect
            | C::Expunge
            | C::ExpungeUid { .. }
            | C::Search { .. }
            | C::Fetch { .. }
            | C::Store { .. }
            | C::Copy { .. }
            | C::Move { .. } => need_selected(),
            _ => Err(Done::bad(format!("{} is not supported", body.name()))),
        }
    }

    async fn dispatch(
        &mut self,
        tag: &str,
        body: CommandBody<'static>,
        list: Options,
        search: Option<SearchReturn>,
    ) -> Reply {
        use CommandBody as C;
        match body {
            C::Capability => self.capability().into(),
            C::Noop | C::Check => Done::ok(format!("{} completed", body.name())).into(),
            C::Logout => self.logout(tag).await,
            C::Id { parameters } => self.id(parameters).into(),
            C::Enable { capabilities } => self.enable(capabilities).into(),
            C::Namespace => self.namespace().into(),
            C::StartTLS => self.starttls(tag).await,
            C::Login { username, password } => self.login(username, password).await.into(),
            C::Authenticate {
                mechanism,
                initial_response,
            } => self.authenticate(mechanism, initial_response).await,
            C::Select {
                mailbox,
                parameters,
            } => self.select(&mailbox, false, parameters).await.into(),
            C::Examine {
                mailbox,
                parameters,
            } => self.select(&mailbox, true, parameters).await.into(),
            C::Create { mailbox } => self.create(&mailbox).await.into(),
            C::Delete { mailbox } => self.delete(&mailbox).await.into(),
            C::Rename { from, to } => self.rename(&from, &to).await.into(),
            C::Subscribe { mailbox } => self.subscribe(&mailbox, true).await.into(),
            C::Unsubscribe { mailbox } => self.subscribe(&mailbox, false).await.into(),
            C::List {
                reference,
                mailbox_wildcard,
            } => self
                .list(&reference, &mailbox_wildcard, list, false)
                .await
                .into(),
            C::Lsub {
                reference,
                mailbox_wildcard,
            } => self
                .list(&reference, &mailbox_wildcard, Options::default(), true)
                .await
                .into(),
            C::Status {
                mailbox,
                item_names,
            } => self.status(&mailbox, &item_names).await.into(),
            C::Append {
                mailbox,
                flags,
                date,
                message,
            } => self.append(&mailbox, &flags, date, message).await.into(),
            C::Idle => self.idle(tag).await,
            C::GetQuota { root } => self.get_quota(&root).await.into(),
            C::GetQuotaRoot { mailbox } => self.get_quota_root(&mailbox).await.into(),
            C::SetQuota { .. } => Done::no("quotas are set by the administrator")
                .code("NOPERM")
                .into(),
            C::Close => self.close().await.into(),
            C::Unselect => self.unselect().into(),
            C::Expunge => self.expunge(None).await.into(),
            C::ExpungeUid { sequence_set } => self.expunge(Some(sequence_set)).await.into(),
            C::Search {
                charset,
                criteria,
                uid,
            } => self
                .search(tag, charset, criteria, uid, search)
                .await
                .into(),
            C::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            } => self
                .fetch(sequence_set, macro_or_item_names, uid, modifiers)
                .await
                .into(),
            C::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            } => self
                .store(sequence_set, kind, response, flags, uid, modifiers)
                .await
                .into(),
            C::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(sequence_set, &mailbox, uid, false).await.into(),
            C::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(sequence_set, &mailbox, uid, true).await.into(),
            other => Done::bad(format!("{} is not supported", other.name())).into(),
        }
    }

    /// Brings the selected mailbox up to date with the store and announces the changes;
    /// expunges only when `expunge`.
    pub(super) async fn sync(&mut self, expunge: bool) {
        let account_id = self.account_id();
        let Some(sel) = self.selected.as_ref() else {
            return;
        };
        let (folder_id, modseq, next_uid, take) =
            (sel.folder_id, sel.modseq, sel.next_uid, !sel.read_only);
        let r = store::poll(&self.ctx.db, account_id, folder_id, modseq, next_uid, take).await;
        let Some(sel) = self.selected.as_mut() else {
            return;
        };
        let en = self.enabled;
        match r {
            Ok(Some(d)) => sel.apply(d, expunge, en, &mut self.out),
            Ok(None) | Err(_) => {
                if expunge {
                    sel.announce_expunges(en, &mut self.out)
                }
            }
        }
    }

    /// Switches the stream to TLS (after STARTTLS was answered); pipelined bytes are dropped.
    pub(super) async fn start_tls(&mut self) -> Result<(), Stop> {
        let (Some(stream), Some(acceptor)) = (self.stream.take(), self.cfg.tls.clone()) else {
            return Err(Stop::Closed);
        };
        match io::start_tls(stream, &acceptor).await {
            Ok(s) => {
                self.stream = Some(s);
                self.tls = true;
                self.framer = new_framer(&self.cfg);
                Ok(())
            }
            Err(e) => {
                log::debug!("imap {}: STARTTLS: {e}", self.peer);
                Err(Stop::Closed)
            }
        }
    }

    /// After a login: literals up to the configured size.
    pub(super) fn allow_large_literals(&mut self) {
        self.framer.set_max_literal(self.cfg.max_literal_bytes);
    }
}

/// A framer for a client not logged in yet.
fn new_framer(cfg: &ServerConfig) -> Framer {
    let mut f = Framer::new(cfg.max_line_bytes, cfg.max_literal_bytes);
    f.set_max_literal(cfg.max_literal_bytes.min(MAX_LITERAL_UNAUTH));
    f
}

/// Returns when `stop` turns true (never, when its sender is gone).
pub(super) async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
