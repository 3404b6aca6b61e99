//! POP3SRV: POP3 (RFC 1939) with CAPA (RFC 2449), STLS (RFC 2595) and SASL PLAIN (RFC 5034).
//!
//! - [`command`]: a command line parsed into a typed command;
//! - [`session`]: the state machine (AUTHORIZATION → TRANSACTION → UPDATE), without I/O;
//! - here: the connection — reading lines, answering, and the store requests the session asks
//!   for (login and maildrop, message contents, the UPDATE transaction), each one short
//!   transaction on a pooled connection.
//!
//! Deletions happen only at QUIT in the TRANSACTION state; a connection that drops, times out
//! or meets a server stop deletes nothing.

pub mod command;
pub mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use super::io::{self, LineRead, Stream};
use super::registry::SessionHandle;
use super::{auth, Client, Ctx, ServerConfig, Unavailable};
use crate::store::mailbox;
use session::{Maildrop, Next, Session, SessionConfig, Update};

/// Responses queued past this size are sent without waiting for the pipelined commands.
const FLUSH_AT: usize = 64 * 1024;
/// Bytes written at once, each write within the write timeout.
const WRITE_CHUNK: usize = 64 * 1024;

/// Serves one client handed over by IOLISTENER or accepted on an own port.
pub async fn serve(ctx: Arc<Ctx>, client: Client, handle: SessionHandle) {
    let cfg = ctx.cfg();
    let peer = client.peer;
    match io::open(client, cfg.tls.as_ref()).await {
        Ok((stream, tls_on)) => serve_stream(ctx, stream, handle, tls_on).await,
        Err(e) => log::debug!("pop3 {peer}: {e}"),
    }
}

/// Why a command did not come in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Late {
    Idle,
    Login,
    Command,
}

impl Late {
    fn text(self) -> &'static str {
        match self {
            Late::Idle => "idle for too long",
            Late::Login => "no login in time",
            Late::Command => "command not completed in time",
        }
    }
}

/// Reads the next command line: its first byte within the idle timeout, the rest within the
/// command timeout, and everything before `login_by` when the client has not logged in.
async fn read_command(
    stream: &mut Stream,
    cfg: &ServerConfig,
    login_by: Option<Instant>,
    line: &mut Vec<u8>,
) -> Result<std::io::Result<LineRead>, Late> {
    let by = |wait: Duration, late: Late| {
        let own = (Instant::now() + wait, late);
        login_by.map_or(own, |l| own.min((l, Late::Login)))
    };
    if stream.buffer().is_empty() {
        let (until, late) = by(cfg.idle_timeout, Late::Idle);
        match timeout_at(until, stream.fill_buf()).await {
            Err(_) => return Err(late),
            Ok(Err(e)) => return Ok(Err(e)),
            Ok(Ok(_)) => {}
        }
    }
    let (until, late) = by(cfg.command_timeout, Late::Command);
    timeout_at(until, io::read_line(stream, cfg.max_line_bytes, line))
        .await
        .map_err(|_| late)
}

/// Sends `out` in chunks, each within `limit`, and empties it.
async fn send(stream: &mut Stream, out: &mut Vec<u8>, limit: Duration) -> std::io::Result<()> {
    let r = async {
        for chunk in out.chunks(WRITE_CHUNK) {
            io::send(stream, chunk, limit).await?;
        }
        Ok(())
    }
    .await;
    out.clear();
    r
}

/// Serves a session on a connection that is open already (TLS on when `tls_on`), from the
/// greeting to the close.
pub async fn serve_stream(ctx: Arc<Ctx>, mut stream: Stream, handle: SessionHandle, tls_on: bool) {
    let cfg = ctx.cfg();
    let peer = handle.peer();
    let id = format!("pop3 {} {peer}", handle.id());
    handle.set_state("AUTHORIZATION");
    let mut session = Session::new(SessionConfig {
        hostname: cfg.hostname.clone(),
        tls_available: cfg.tls.is_some(),
        tls_on,
        loopback: peer.ip().to_canonical().is_loopback(),
        login_disabled_without_tls: cfg.login_disabled_without_tls,
    });
    let mut stop = ctx.stop.clone();
    let mut pace = io::Pace::new(cfg.commands_per_second);
    let limit = cfg.write_timeout;
    let mut out = session.greeting();
    let mut line = Vec::new();
    let connected = Instant::now();
    log::debug!("{id}: connected{}", if tls_on { " (TLS)" } else { "" });
    let end = |why: &str| log::debug!("{id}: {why}");
    loop {
        // a stop, or the instance gone (its sender dropped)
        if *stop.borrow_and_update() || stop.has_changed().is_err() {
            out.extend(session.shutting_down());
            let _ = send(&mut stream, &mut out, limit).await;
            return end("closed for shutdown");
        }
        // pipelining: answer a group of commands at once, when no further command is waiting
        if out.len() >= FLUSH_AT || !stream.buffer().contains(&b'\n') {
            if let Err(e) = send(&mut stream, &mut out, limit).await {
                return end(&format!("write failed: {e}"));
            }
        }
        let login_by = session
            .logging_in()
            .then_some(connected + cfg.login_timeout);
        let got = tokio::select! {
            r = read_command(&mut stream, &cfg, login_by, &mut line) => r,
            _ = stop.changed() => continue,
        };
        let too_long = match got {
            Err(late) => {
                out.extend(session.timeout(late.text()));
                let _ = send(&mut stream, &mut out, limit).await;
                return end(late.text());
            }
            Ok(Err(e)) => return end(&format!("read failed: {e}")),
            Ok(Ok(LineRead::Eof)) => return end("the client left"),
            Ok(Ok(LineRead::Line)) => false,
            Ok(Ok(LineRead::TooLong)) => true,
        };
        pace.wait().await;
        let mut step = if too_long {
            log::debug!("{id}: C: <line too long>");
            session.too_long()
        } else {
            log::debug!(
                "{id}: C: {}",
                command::loggable(&line, session.awaiting_sasl_response())
            );
            session.command(&line)
        };
        line.clear();
        loop {
            out.append(&mut step.out);
            step = match step.next {
                Next::Read => break,
                Next::Close => {
                    let _ = send(&mut stream, &mut out, limit).await;
                    let _ = stream.shutdown().await;
                    return end("closed");
                }
                Next::Login { user, pass } => {
                    let r = login(&ctx, &handle, &id, peer, &user, pass.expose()).await;
                    drop(pass);
                    session.login_done(r)
                }
                Next::Fetch { message_id } => {
                    let r = ctx
                        .db
                        .read("retr", move |c| mailbox::content(c, message_id))
                        .await;
                    session.fetched(r)
                }
                Next::StartTls => {
                    if let Err(e) = send(&mut stream, &mut out, limit).await {
                        return end(&format!("write failed: {e}"));
                    }
                    let Some(acceptor) = cfg.tls.as_ref() else {
                        return end("STLS without a certificate");
                    };
                    // pipelined plain text after STLS is thrown away
                    stream = match io::start_tls(stream, acceptor).await {
                        Ok(s) => s,
                        Err(e) => return end(&format!("TLS failed: {e}")),
                    };
                    session.tls_started();
                    log::debug!("{id}: TLS on");
                    break;
                }
                Next::Update(u) => {
                    handle.set_state("UPDATE");
                    let r = update(&ctx, u).await;
                    match r {
                        Ok(n) => log::debug!("{id}: {n} message(s) deleted"),
                        Err(Unavailable) => log::warn!("{id}: QUIT failed, nothing deleted"),
                    }
                    session.updated(r)
                }
            };
        }
    }
}

/// Checks a login and loads the maildrop: `Ok(None)` for a wrong login.
async fn login(
    ctx: &Ctx,
    handle: &SessionHandle,
    id: &str,
    peer: SocketAddr,
    user: &str,
    pass: &str,
) -> Result<Option<Maildrop>, Unavailable> {
    let Some(login) = auth::login(ctx, peer, user, pass).await? else {
        log::info!("{id}: login failed for {user:?}");
        return Ok(None);
    };
    let account_id = login.account_id;
    let maildrop = ctx
        .db
        .read("maildrop", move |c| {
            let Some(f) = mailbox::folder(c, account_id, "INBOX")? else {
                return Ok(Maildrop::empty(account_id));
            };
            let rows = mailbox::messages(c, f.folder_id)?;
            Ok(Maildrop::new(account_id, f.folder_id, f.uidvalidity, rows))
        })
        .await?;
    let (n, size) = maildrop.totals();
    log::info!("{id}: login {} ({n} messages, {size} octets)", login.login);
    handle.set_login(&login.login, account_id);
    handle.set_state("TRANSACTION");
    Ok(Some(maildrop))
}

/// The UPDATE state in one transaction: the retrieved messages marked `\Seen` (from their
/// flags of the moment), the marked ones expunged. Returns the number removed.
async fn update(ctx: &Ctx, u: Update) -> Result<usize, Unavailable> {
    ctx.db
        .write("quit", move |c| {
            let now = Utc::now();
            let mut changes = Vec::new();
            for &uid in &u.seen {
                if let Some(m) = mailbox::message(c, u.folder_id, uid)? {
                    if let Some(flags) = session::with_seen(&m.flags) {
                        changes.push((uid, flags));
                    }
                }
            }
            if !changes.is_empty() {
                mailbox::set_flags(c, u.account_id, u.folder_id, &changes, now)?;
            }
            let removed = mailbox::expunge(c, u.account_id, u.folder_id, &u.delete, true, now)?;
            Ok(removed.len())
        })
        .await
}

#[cfg(test)]
mod tests {
    //! Whole sessions on a real embedded store, over an in-memory connection.

    use super::*;
    use crate::sps::feed::Feed;
    use crate::sps::registry::Registry;
    use crate::sps::{Db, ServerConfig};
    use crate::store::{queue, system, OpenOptions, Store, StoreUrl};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};
    use tokio::sync::watch;

    struct World {
        _dir: tempfile::TempDir,
        ctx: Arc<Ctx>,
        stop: watch::Sender<bool>,
        account_id: i64,
        folder_id: i64,
    }

    /// A store with jdoe@acme.com (password `secret`) and `messages` in its INBOX.
    fn world(messages: &[&[u8]], tune: impl FnOnce(&mut ServerConfig)) -> World {
        let dir = tempfile::tempdir().unwrap();
        let url =
            StoreUrl::parse(&format!("sqlite:{}", dir.path().join("t.db").display())).unwrap();
        let store = Store::open(
            &url,
            &OpenOptions {
                pool_size: 2,
                create: true,
                ..Default::default()
            },
        )
        .unwrap();
        crate::admin::init::init(&store, &Default::default(), Some("acme.com")).unwrap();
        let session = crate::admin::Session::open(&store).unwrap();
        let (mut o, mut n) = (Vec::new(), Vec::new());
        let r = crate::admin::run_script(
            session,
            "create person username=jdoe domain=acme.com firstname=J lastname=D \
             password=secret quota=10485760;",
            &mut o,
            &mut n,
            false,
        );
        assert!(r.error.is_none(), "{:?}", r.error);
        let account_id =
            match crate::mail::intake::authenticate(&store, "192.0.2.1", "jdoe@acme.com", "secret")
                .unwrap()
            {
                crate::mail::intake::AuthOutcome::Success { account_id, .. } => account_id,
                other => panic!("{other:?}"),
            };
        let mut c = store.conn().unwrap();
        let folder_id = c
            .transaction(crate::store::TxMode::Write, |c| {
                let node = system::local_node_id(c)?.unwrap();
                let f = mailbox::folder(c, account_id, "INBOX")?.unwrap();
                for (i, m) in messages.iter().enumerate() {
                    let guid = format!("g{i}");
                    let message_id = queue::insert_message(
                        c,
                        &queue::NewMessage {
                            guid: &guid,
                            origin_node_id: node,
                            content: m,
                            sha256: "x",
                            rfc822_msgid: None,
                            received_at: Utc::now(),
                            structure: None,
                        },
                    )?;
                    mailbox::add_pointers(
                        c,
                        account_id,
                        f.folder_id,
                        &[mailbox::NewPointer {
                            message_id,
                            size: m.len() as i64,
                            flags: "",
                            internal_date: Utc::now(),
                        }],
                        false,
                        Utc::now(),
                    )?
                    .unwrap();
                }
                Ok::<_, crate::store::StoreError>(f.folder_id)
            })
            .unwrap();
        drop(c);
        let mut cfg = ServerConfig::for_tests(1);
        tune(&mut cfg);
        let (_cfg_tx, cfg_rx) = watch::channel(Arc::new(cfg));
        let (stop, stop_rx) = watch::channel(false);
        let ctx = Arc::new(Ctx {
            db: Db::new(Arc::new(store)),
            feed: Feed::new(),
            registry: Registry::new("test"),
            cfg: cfg_rx,
            stop: stop_rx,
        });
        World {
            _dir: dir,
            ctx,
            stop,
            account_id,
            folder_id,
        }
    }

    struct Conn {
        r: BufReader<tokio::io::ReadHalf<DuplexStream>>,
        w: tokio::io::WriteHalf<DuplexStream>,
        task: tokio::task::JoinHandle<()>,
    }

    fn connect(w: &World, peer: &str) -> Conn {
        let (client, server) = tokio::io::duplex(1 << 20);
        let stream: Stream = tokio::io::BufReader::new(Box::new(server) as Box<dyn io::Io>);
        let task = tokio::spawn(serve_stream(
            w.ctx.clone(),
            stream,
            w.ctx.registry.open("POP3", peer.parse().unwrap()),
            false,
        ));
        let (r, w) = tokio::io::split(client);
        Conn {
            r: BufReader::new(r),
            w,
            task,
        }
    }

    impl Conn {
        async fn line(&mut self) -> String {
            let mut s = String::new();
            tokio::time::timeout(Duration::from_secs(20), self.r.read_line(&mut s))
                .await
                .expect("an answer")
                .unwrap();
            s
        }

        async fn multi(&mut self) -> Vec<String> {
            let mut v = Vec::new();
            loop {
                let l = self.line().await;
                assert!(!l.is_empty(), "connection closed in a multi-line answer");
                if l == ".\r\n" {
                    return v;
                }
                v.push(l);
            }
        }

        async fn send(&mut self, s: &str) {
            self.w.write_all(s.as_bytes()).await.unwrap();
        }

        async fn cmd(&mut self, s: &str) -> String {
            self.send(&format!("{s}\r\n")).await;
            self.line().await
        }

        async fn closed(mut self) {
            let mut s = String::new();
            let n = tokio::time::timeout(Duration::from_secs(20), self.r.read_line(&mut s))
                .await
                .expect("the end")
                .unwrap();
            assert_eq!(n, 0, "{s:?}");
            tokio::time::timeout(Duration::from_secs(20), self.task)
                .await
                .unwrap()
                .unwrap();
        }
    }

    fn uids(w: &World) -> Vec<(i64, String)> {
        let mut c = w.ctx.db.store().conn().unwrap();
        let f = w.folder_id;
        c.transaction(crate::store::TxMode::Read, |c| mailbox::messages(c, f))
            .unwrap()
            .into_iter()
            .map(|m| (m.uid, m.flags))
            .collect()
    }

    const M1: &[u8] = b"Subject: one\r\n\r\nhello\r\n.dot\r\n";
    const M2: &[u8] = b"Subject: two\n\nl1\nl2\nl3\n";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_whole_session() {
        let w = world(&[M1, M2, b"x\r\n"], |_| {});
        let mut c = connect(&w, "192.0.2.7:1100");
        assert_eq!(c.line().await, "+OK localhost POP3 server ready\r\n");
        assert_eq!(c.cmd("CAPA").await, "+OK Capability list follows\r\n");
        let capa = c.multi().await;
        assert!(capa.contains(&"USER\r\n".to_string()));
        assert!(!capa.contains(&"STLS\r\n".to_string()));
        assert_eq!(c.cmd("STAT").await, "-ERR not logged in\r\n");
        assert_eq!(c.cmd("USER jdoe@acme.com").await, "+OK send PASS\r\n");
        assert_eq!(
            c.cmd("PASS wrong").await,
            "-ERR [AUTH] invalid user name or password\r\n"
        );
        c.cmd("USER jdoe@acme.com").await;
        let total = M1.len() + M2.len() + 3;
        assert_eq!(
            c.cmd("PASS secret").await,
            format!("+OK maildrop has 3 messages ({total} octets)\r\n")
        );
        assert_eq!(c.cmd("STAT").await, format!("+OK 3 {total}\r\n"));
        assert_eq!(c.cmd("UIDL").await, "+OK unique-id listing follows\r\n");
        let list = c.multi().await;
        assert_eq!(list.len(), 3);
        assert!(list[0].starts_with("1 ") && list[0].ends_with(".1\r\n"));
        assert_eq!(
            c.cmd("RETR 1").await,
            format!("+OK {} octets\r\n", M1.len())
        );
        assert_eq!(
            c.multi().await,
            ["Subject: one\r\n", "\r\n", "hello\r\n", "..dot\r\n"]
        );
        assert_eq!(c.cmd("TOP 2 1").await, "+OK top of message follows\r\n");
        assert_eq!(c.multi().await, ["Subject: two\r\n", "\r\n", "l1\r\n"]);
        assert_eq!(c.cmd("DELE 3").await, "+OK message 3 deleted\r\n");
        assert_eq!(c.cmd("RETR 3").await, "-ERR message 3 already deleted\r\n");
        // pipelined, answered in order
        c.send("NOOP\r\nLIST 1\r\nBOGUS\r\nLIST 3\r\n").await;
        assert_eq!(c.line().await, "+OK\r\n");
        assert_eq!(c.line().await, format!("+OK 1 {}\r\n", M1.len()));
        assert_eq!(c.line().await, "-ERR unknown command\r\n");
        assert_eq!(c.line().await, "-ERR message 3 already deleted\r\n");
        assert_eq!(
            c.cmd("QUIT").await,
            "+OK localhost POP3 server signing off (1 messages deleted)\r\n"
        );
        c.closed().await;
        // message 3 gone, message 1 seen, message 2 (TOP only) not
        let left = uids(&w);
        assert_eq!(left.len(), 2);
        assert_eq!(left[0].1, "\\Seen");
        assert_eq!(left[1].1, "");

        // a new session sees the same unique ids, numbered again from 1
        let mut c = connect(&w, "192.0.2.7:1101");
        c.line().await;
        let b64 = auth::base64_encode(b"\0jdoe@acme.com\0secret");
        assert_eq!(c.cmd("AUTH PLAIN").await, "+ \r\n");
        assert!(c.cmd(&b64).await.starts_with("+OK maildrop has 2 messages"));
        assert_eq!(c.cmd("UIDL").await, "+OK unique-id listing follows\r\n");
        let again = c.multi().await;
        assert_eq!(again[0], list[0]);
        assert_eq!(again[1], list[1]);
        // a dropped connection deletes nothing
        assert_eq!(c.cmd("DELE 1").await, "+OK message 1 deleted\r\n");
        c.w.shutdown().await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), c.task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(uids(&w).len(), 2);
        let _ = w.account_id;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn limits_gate_and_stop() {
        let w = world(&[M1], |c| {
            c.login_disabled_without_tls = true;
            c.max_line_bytes = 100;
        });
        // a remote client without TLS may not log in
        let mut c = connect(&w, "192.0.2.7:1100");
        c.line().await;
        assert!(c
            .cmd("USER jdoe@acme.com")
            .await
            .starts_with("-ERR [AUTH] plain-text logins are disabled"));
        assert_eq!(c.cmd(&"X".repeat(500)).await, "-ERR line too long\r\n");
        assert_eq!(c.cmd("NOOP").await, "+OK\r\n");
        // a loopback client may; a server stop deletes nothing
        let mut l = connect(&w, "127.0.0.1:1100");
        l.line().await;
        l.cmd("USER jdoe@acme.com").await;
        assert!(l.cmd("PASS secret").await.starts_with("+OK"));
        assert_eq!(l.cmd("DELE 1").await, "+OK message 1 deleted\r\n");
        w.stop.send(true).unwrap();
        assert_eq!(c.line().await, "-ERR [SYS/TEMP] server shutting down\r\n");
        assert_eq!(l.line().await, "-ERR [SYS/TEMP] server shutting down\r\n");
        c.closed().await;
        l.closed().await;
        assert_eq!(uids(&w).len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_and_errors() {
        let w = world(&[], |c| c.idle_timeout = Duration::from_millis(300));
        let mut c = connect(&w, "192.0.2.7:1100");
        c.line().await;
        assert_eq!(
            c.line().await,
            "-ERR [SYS/TEMP] autologout; idle for too long\r\n"
        );
        c.closed().await;
        let mut c = connect(&w, "192.0.2.7:1100");
        c.line().await;
        c.send(&"BAD\r\n".repeat(session::MAX_ERRORS as usize))
            .await;
        for _ in 0..session::MAX_ERRORS {
            assert_eq!(c.line().await, "-ERR unknown command\r\n");
        }
        assert_eq!(c.line().await, "-ERR too many errors\r\n");
        c.closed().await;
    }
}
