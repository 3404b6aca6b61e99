//! The SMTP listener and its connections: one tokio task per client, the line reader (with its
//! length limit), the DATA reader (dot-unstuffing, size limit), timeouts, the STARTTLS upgrade
//! (tokio-native-tls) and graceful shutdown. The protocol itself is [`super::session`]; the
//! checks and the submission are [`crate::mail::intake`], run on blocking threads, each
//! borrowing a pooled store connection for that one request.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{timeout, timeout_at, Instant};

use super::session::{
    too_many_connections, DataResult, Input, Next, Rcpt, Reply, Session, SessionConfig, Step,
    Unavailable,
};
use super::SmtpConfig;
use crate::mail::intake::{self, RcptVerdict, Submission, Trace};
use crate::store::{system, Store, StoreError};

/// Anything a session can run over: a TCP stream, or TLS over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Stream = BufReader<Box<dyn Io>>;

/// Serves SMTP on `listener` until `shutdown` turns true (or its sender is dropped): then it
/// stops accepting, answers `421 4.3.2` to idle sessions, lets a message being received finish
/// within `cfg.shutdown_grace`, and returns.
pub async fn serve(
    store: Arc<Store>,
    cfg: SmtpConfig,
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
) {
    let (_keep, cfg) = watch::channel(Arc::new(cfg));
    serve_with(store, cfg, listener, shutdown).await
}

/// As [`serve`], with a configuration that may change while it runs (a refresh): each new
/// connection takes the configuration of the moment.
pub async fn serve_with(
    store: Arc<Store>,
    cfg: watch::Receiver<Arc<SmtpConfig>>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    let next_id = AtomicU64::new(1);
    let mut sessions = JoinSet::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let c = cfg.borrow().clone();
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    if active.load(Ordering::SeqCst) >= c.max_connections.max(1) {
                        log::warn!("smtp#{id} {peer}: refused, {} connections already", c.max_connections);
                        tokio::spawn(refuse(stream, c));
                        continue;
                    }
                    let guard = Active::new(active.clone());
                    let (store, stop) = (store.clone(), shutdown.clone());
                    sessions.spawn(async move {
                        let _guard = guard;
                        handle(store, c, stream, peer, stop, id).await;
                    });
                }
                Err(e) => {
                    // out of descriptors and the like: wait a little rather than spin
                    log::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(done) = sessions.join_next(), if !sessions.is_empty() => {
                if let Err(e) = done {
                    if e.is_panic() {
                        log::error!("an SMTP session failed: {e}");
                    }
                }
            }
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    drop(listener);
    let grace = cfg.borrow().shutdown_grace;
    log::info!(
        "SMTP listener closed; waiting up to {}s for {} session(s)",
        grace.as_secs(),
        sessions.len()
    );
    let drained = timeout(grace, async {
        while let Some(done) = sessions.join_next().await {
            if let Err(e) = done {
                if e.is_panic() {
                    log::error!("an SMTP session failed: {e}");
                }
            }
        }
    })
    .await;
    if drained.is_err() {
        log::warn!("{} SMTP session(s) cut short", sessions.len());
        sessions.abort_all();
        while sessions.join_next().await.is_some() {}
    }
}

/// Counts a live connection while it exists.
struct Active(Arc<AtomicUsize>);

impl Active {
    fn new(n: Arc<AtomicUsize>) -> Active {
        n.fetch_add(1, Ordering::SeqCst);
        Active(n)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn refuse(mut stream: TcpStream, cfg: Arc<SmtpConfig>) {
    let bytes = too_many_connections(&cfg.hostname).to_bytes();
    let _ = timeout(Duration::from_secs(5), async {
        stream.write_all(&bytes).await?;
        stream.shutdown().await
    })
    .await;
}

// ------------------------------------------------------------------ reading

/// What [`read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A whole line, with its ending, is in the buffer.
    Line,
    /// The line was longer than the limit; it was read to its end and dropped.
    TooLong,
    /// The connection ended (a partial last line is dropped).
    Eof,
}

fn ending_len(line: &[u8]) -> usize {
    if line.ends_with(b"\r\n") {
        2
    } else if line.ends_with(b"\n") {
        1
    } else {
        0
    }
}

/// Reads one line (up to LF) into `buf`: at most `max` bytes before its ending; a longer line
/// is read to its end but not kept, so memory stays bounded.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
    buf: &mut Vec<u8>,
) -> io::Result<LineRead> {
    buf.clear();
    let mut too_long = false;
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            buf.clear();
            return Ok(LineRead::Eof);
        }
        let (n, done) = match avail.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !too_long {
            buf.extend_from_slice(&avail[..n]);
            if buf.len() > max.saturating_add(2) {
                too_long = true;
                buf.clear();
                buf.shrink_to(max.min(64 * 1024));
            }
        }
        r.consume(n);
        if done {
            if !too_long && buf.len() - ending_len(buf) > max {
                too_long = true;
                buf.clear();
            }
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}

/// What [`read_data`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataRead {
    /// The message, dot-unstuffed, without the final `.` line.
    Complete(Vec<u8>),
    /// Larger than the limit: read to the end and dropped.
    TooBig,
    /// A line over the limit: read to the end and dropped.
    LineTooLong,
    Timeout,
    Eof,
}

/// Reads a message after `354`, up to a line holding only `.` (after a CRLF), removing the
/// leading dot of dot-stuffed lines (RFC 5321, 4.5.2). Everything is read to the end whatever
/// happens, so that the session can go on; at most `max_bytes` are kept.
pub async fn read_data<R: AsyncBufRead + Unpin>(
    r: &mut R,
    max_bytes: u64,
    max_line: usize,
    deadline: Instant,
) -> io::Result<DataRead> {
    let mut msg = Vec::new();
    let mut line = Vec::new();
    let mut after_crlf = true;
    let (mut too_big, mut too_long) = (false, false);
    loop {
        let got = match timeout_at(deadline, read_line(r, max_line, &mut line)).await {
            Err(_) => return Ok(DataRead::Timeout),
            Ok(got) => got?,
        };
        match got {
            LineRead::Eof => return Ok(DataRead::Eof),
            LineRead::TooLong => {
                too_long = true;
                after_crlf = true;
                continue;
            }
            LineRead::Line => {}
        }
        // only CRLF . CRLF ends the message: a bare LF never does (no smuggling)
        if after_crlf && line == b".\r\n" {
            break;
        }
        after_crlf = line.ends_with(b"\r\n");
        let text = match line.first() {
            Some(b'.') => &line[1..],
            _ => &line[..],
        };
        if !too_big && !too_long {
            if msg.len() as u64 + text.len() as u64 > max_bytes {
                too_big = true;
                msg = Vec::new();
            } else {
                msg.extend_from_slice(text);
            }
        }
    }
    Ok(if too_long {
        DataRead::LineTooLong
    } else if too_big {
        DataRead::TooBig
    } else {
        DataRead::Complete(msg)
    })
}

// ------------------------------------------------------------------ one connection

/// Runs a blocking store request on a blocking thread; a failure is logged and becomes
/// [`Unavailable`].
async fn blocking<T, F>(what: &'static str, f: F) -> Result<T, Unavailable>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    crate::store::run_blocking(what, f).await.ok_or(Unavailable)
}

/// Sends the queued replies.
async fn flush(io: &mut Stream, out: &mut Vec<u8>, limit: Duration) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let r = timeout(limit, async {
        io.write_all(out).await?;
        io.flush().await
    })
    .await;
    out.clear();
    match r {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client does not read",
        )),
    }
}

fn queue_replies(out: &mut Vec<u8>, replies: &[Reply]) {
    for r in replies {
        r.write_to(out);
    }
}

/// One client, from greeting to close. Errors of the client or of its connection end this
/// session only.
async fn handle(
    store: Arc<Store>,
    cfg: Arc<SmtpConfig>,
    stream: TcpStream,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
    id: u64,
) {
    let ip = peer.ip().to_canonical();
    let _ = stream.set_nodelay(true);
    log::debug!("smtp#{id} {ip}: connected");
    let mut session = Session::new(SessionConfig {
        hostname: cfg.hostname.clone(),
        max_message_bytes: cfg.max_message_bytes,
        max_recipients: cfg.max_recipients,
        max_errors: cfg.max_errors,
        tls_available: cfg.tls.is_some(),
        auth_without_tls: ip.is_loopback(),
    });
    let mut io: Stream = BufReader::new(Box::new(stream) as Box<dyn Io>);
    let mut out = Vec::new();
    let mut line = Vec::new();
    session.greeting().write_to(&mut out);
    let limit = cfg.command_timeout;
    let end = |why: &str| log::debug!("smtp#{id} {ip}: {why}");
    loop {
        // a stop, or the server gone (its sender dropped)
        if *shutdown.borrow() || shutdown.has_changed().is_err() {
            session.shutting_down().write_to(&mut out);
            let _ = flush(&mut io, &mut out, limit).await;
            return end("closed for shutdown");
        }
        // pipelining: answer a group of commands at once, when no further command is waiting
        if !io.buffer().contains(&b'\n') {
            if let Err(e) = flush(&mut io, &mut out, limit).await {
                return end(&format!("write failed: {e}"));
            }
        }
        let got = tokio::select! {
            r = timeout(limit, read_line(&mut io, cfg.max_line_bytes, &mut line)) => r,
            _ = shutdown.changed() => continue,
        };
        let input = match got {
            Err(_) => {
                session.timeout().write_to(&mut out);
                let _ = flush(&mut io, &mut out, limit).await;
                return end("command timeout");
            }
            Ok(Err(e)) => return end(&format!("read failed: {e}")),
            Ok(Ok(LineRead::Eof)) => return end("the client left"),
            Ok(Ok(LineRead::Line)) => Input::Line(&line),
            Ok(Ok(LineRead::TooLong)) => Input::TooLong,
        };
        let mut step = session.command(input);
        loop {
            queue_replies(&mut out, &step.replies);
            step = match step.next {
                Next::Read => break,
                Next::Close => {
                    let _ = flush(&mut io, &mut out, limit).await;
                    if let Err(e) = io.shutdown().await {
                        log::debug!("smtp#{id}: shutdown: {e}");
                    }
                    return end("closed");
                }
                Next::CheckSender(sender) => {
                    let st = store.clone();
                    let v = blocking("checking a sender", move || {
                        let mut c = st.conn()?;
                        intake::check_sender(&mut c, sender.as_ref())
                    })
                    .await;
                    if let Ok(intake::SenderVerdict::Blocked { kind, pattern, .. }) = &v {
                        log::info!("smtp#{id} {ip}: sender blocked ({kind} {pattern})");
                    }
                    session.sender_checked(v)
                }
                Next::CheckRecipient { rcpt, ctx } => {
                    let st = store.clone();
                    let r = blocking("checking a recipient", move || {
                        let mut c = st.conn()?;
                        let (resolved, address) = match rcpt {
                            Rcpt::Address(m) => (None, Some(m)),
                            Rcpt::Postmaster => {
                                let m = intake::postmaster(&mut c)?;
                                (m.clone(), m)
                            }
                        };
                        let v = match &address {
                            Some(m) => intake::check_recipient(&mut c, m, ctx)?,
                            None => RcptVerdict::Unknown,
                        };
                        Ok((resolved, v))
                    })
                    .await;
                    match r {
                        Ok((resolved, v)) => session.recipient_checked(resolved, Ok(v)),
                        Err(u) => session.recipient_checked(None, Err(u)),
                    }
                }
                Next::Authenticate { login, secret } => {
                    let st = store.clone();
                    let addr = ip.to_string();
                    let v = blocking("checking a login", move || {
                        intake::authenticate(&st, &addr, &login, &secret)
                    })
                    .await;
                    if let Ok(intake::AuthOutcome::Failure { delay }) = &v {
                        log::info!(
                            "smtp#{id} {ip}: authentication failed; answering in {} ms",
                            delay.as_millis()
                        );
                        // this session alone waits
                        tokio::time::sleep(*delay).await;
                    }
                    session.auth_checked(v)
                }
                Next::StartTls => {
                    if let Err(e) = flush(&mut io, &mut out, limit).await {
                        return end(&format!("write failed: {e}"));
                    }
                    let Some(acceptor) = cfg.tls.clone() else {
                        return end("no TLS identity");
                    };
                    if !io.buffer().is_empty() {
                        // RFC 3207, 4.2: nothing sent before the handshake may count
                        log::info!("smtp#{id} {ip}: discarding data pipelined after STARTTLS");
                    }
                    let inner = io.into_inner();
                    match timeout(limit, acceptor.accept(inner)).await {
                        Ok(Ok(tls)) => {
                            io = BufReader::new(Box::new(tls) as Box<dyn Io>);
                            session.tls_started();
                            Step {
                                replies: Vec::new(),
                                next: Next::Read,
                            }
                        }
                        Ok(Err(e)) => return end(&format!("TLS handshake failed: {e}")),
                        Err(_) => return end("TLS handshake timed out"),
                    }
                }
                Next::ReadData => {
                    if let Err(e) = flush(&mut io, &mut out, limit).await {
                        return end(&format!("write failed: {e}"));
                    }
                    let deadline = Instant::now() + cfg.data_timeout;
                    let got =
                        read_data(&mut io, cfg.max_message_bytes, cfg.max_line_bytes, deadline)
                            .await;
                    let result = match got {
                        Ok(DataRead::Complete(msg)) => {
                            receive(&store, &cfg, &session, &ip, msg, id).await
                        }
                        Ok(DataRead::TooBig) => {
                            log::info!("smtp#{id} {ip}: message over the size limit refused");
                            DataResult::TooBig
                        }
                        Ok(DataRead::LineTooLong) => DataResult::LineTooLong,
                        Ok(DataRead::Timeout) => {
                            session.timeout().write_to(&mut out);
                            let _ = flush(&mut io, &mut out, limit).await;
                            return end("data timeout");
                        }
                        Ok(DataRead::Eof) => return end("the client left during DATA"),
                        Err(e) => return end(&format!("read failed during DATA: {e}")),
                    };
                    session.data_finished(result)
                }
            };
        }
    }
}

/// Stores a received message: inspects it, prepends the Received header, and commits the
/// content and its Submission queue entry; the answer to the client follows the commit.
async fn receive(
    store: &Arc<Store>,
    cfg: &SmtpConfig,
    session: &Session,
    ip: &IpAddr,
    msg: Vec<u8>,
    id: u64,
) -> DataResult {
    let Some(tx) = session.transaction() else {
        return DataResult::Unavailable;
    };
    let entry_guid = system::new_guid();
    let recipients: Vec<String> = tx.recipients.iter().map(|m| m.to_string()).collect();
    let now = Utc::now();
    let header = intake::received_header(&Trace {
        helo: session.helo_name(),
        remote_ip: &ip.to_string(),
        by: &cfg.hostname,
        with: session.protocol_name(),
        id: &entry_guid,
        for_rcpt: match recipients.as_slice() {
            [one] => Some(one.as_str()),
            _ => None,
        },
        at: now,
    });
    let sender = tx.sender.as_ref().map(|m| m.to_string());
    let submitted_by = session.authenticated().map(|a| a.account_id);
    let node_id = cfg.node_id;
    let st = store.clone();
    let guid = entry_guid.clone();
    let n_rcpt = recipients.len();
    let r = tokio::task::spawn_blocking(move || {
        let inspected = match intake::inspect(&msg) {
            Ok(i) => i,
            Err(refusal) => return Ok(Err(refusal.to_string())),
        };
        let mut content = Vec::with_capacity(header.len() + msg.len());
        content.extend_from_slice(header.as_bytes());
        content.extend_from_slice(&msg);
        drop(msg);
        intake::submit(
            &st,
            &Submission {
                node_id,
                entry_guid: &guid,
                sender: sender.as_deref(),
                recipients: &recipients,
                submitted_by,
                content: &content,
                inspected: &inspected,
                received_at: now,
            },
        )
        .map(|q| Ok((q, content.len())))
    })
    .await;
    match r {
        Ok(Ok(Ok((q, size)))) => {
            log::info!(
                "smtp#{id} {ip}: queued {} ({size} bytes, {n_rcpt} recipient(s))",
                q.entry_guid
            );
            DataResult::Queued { id: q.entry_guid }
        }
        Ok(Ok(Err(why))) => {
            log::info!("smtp#{id} {ip}: message refused: {why}");
            DataResult::Refused(why)
        }
        Ok(Err(e)) => {
            log::error!("smtp#{id}: cannot queue a message: {e}");
            DataResult::Unavailable
        }
        Err(e) => {
            log::error!("smtp#{id}: cannot queue a message: the task failed: {e}");
            DataResult::Unavailable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<(LineRead, Vec<u8>)> {
        let mut r = BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        loop {
            let got = read_line(&mut r, max, &mut buf).await.unwrap();
            out.push((got, buf.clone()));
            if got == LineRead::Eof {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn lines_are_limited_and_long_ones_skipped() {
        let got = lines(b"abc\r\n0123456789ABCDEF\r\nxyz\nend", 10).await;
        assert_eq!(
            got,
            vec![
                (LineRead::Line, b"abc\r\n".to_vec()),
                (LineRead::TooLong, vec![]),
                (LineRead::Line, b"xyz\n".to_vec()),
                (LineRead::Eof, vec![]),
            ]
        );
        // exactly the limit, then one more byte
        let got = lines(b"0123456789\r\n0123456789A\r\n", 10).await;
        assert_eq!(got[0].0, LineRead::Line);
        assert_eq!(got[1].0, LineRead::TooLong);
    }

    async fn data(input: &[u8], max: u64) -> (DataRead, Vec<u8>) {
        let mut r = BufReader::with_capacity(5, input);
        let d = read_data(&mut r, max, 20, Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
        let mut rest = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut r, &mut rest).await;
        (d, rest)
    }

    #[tokio::test]
    async fn data_is_unstuffed_and_ends_at_crlf_dot_crlf() {
        let (d, rest) = data(b"a\r\n..b\r\n.c\r\nx\n.\r\nlast\r\n.\r\nQUIT\r\n", 1000).await;
        assert_eq!(
            d,
            DataRead::Complete(b"a\r\n.b\r\nc\r\nx\n\r\nlast\r\n".to_vec())
        );
        assert_eq!(rest, b"QUIT\r\n");
        let (d, _) = data(b".\r\n", 1000).await;
        assert_eq!(d, DataRead::Complete(Vec::new()));
    }

    #[tokio::test]
    async fn data_over_the_limits_is_read_to_the_end() {
        let (d, rest) = data(b"0123456789\r\n0123456789\r\n.\r\nNOOP\r\n", 15).await;
        assert_eq!(d, DataRead::TooBig);
        assert_eq!(rest, b"NOOP\r\n");
        let (d, rest) = data(
            b"short\r\n0123456789012345678901234567890\r\n.\r\nNOOP\r\n",
            1000,
        )
        .await;
        assert_eq!(d, DataRead::LineTooLong);
        assert_eq!(rest, b"NOOP\r\n");
        let (d, _) = data(b"abc\r\n", 1000).await;
        assert_eq!(d, DataRead::Eof);
    }
}
