//! The listener's side of the handoff ([`crate::sps::handoff`]): the instances attached to the
//! Unix socket, their load, and the choice of one for each client.
//!
//! An instance's score is the load it last reported plus the clients handed to it since that
//! report; a client goes to the lowest score of its protocol, ties in turn (round robin by
//! attachment). An instance whose connection ends is forgotten at once; one that cannot take
//! a client (the write fails or finds no room for [`handoff::WRITE_TIMEOUT`]) is disconnected
//! and the next one is tried. With none left, the client hears
//! [`Protocol::unavailable_greeting`] and the connection is closed in order (write, shutdown,
//! then a short drain of what the client sent so that closing does not reset it).

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::sps::handoff::{self, stopped, Frame, FrameReader};
use crate::sps::Protocol;

/// Most instance connections at a time (a bound against a local flood).
pub const MAX_INSTANCES: usize = 1024;
/// How long a refused client gets to read the greeting.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long, and how much, a refused client's input is drained before the close.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
const DRAIN_BYTES: usize = 64 * 1024;

/// One attached instance's connection.
struct Conn {
    id: u64,
    protocol: Protocol,
    instance: i64,
    pid: u32,
    stream: UnixStream,
    /// One frame at a time.
    write: tokio::sync::Mutex<()>,
    /// Set when a write failed halfway: nothing more may be written.
    broken: AtomicBool,
    /// Tells the connection's reader to end it.
    kick: Notify,
}

impl Conn {
    fn name(&self) -> String {
        format!(
            "{} instance {} (pid {})",
            self.protocol.type_name(),
            self.instance,
            self.pid
        )
    }

    /// Sends a client frame with its socket.
    async fn send(&self, frame: &[u8], fd: std::os::fd::RawFd) -> io::Result<()> {
        let _turn = self.write.lock().await;
        if self.broken.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the connection failed",
            ));
        }
        let r = tokio::time::timeout(
            handoff::WRITE_TIMEOUT,
            handoff::write_frame(&self.stream, frame, Some(fd)),
        )
        .await
        .unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no room in the socket",
            ))
        });
        if r.is_err() {
            self.broken.store(true, Ordering::SeqCst);
        }
        r
    }
}

struct Entry {
    conn: Arc<Conn>,
    /// The sessions last reported.
    load: u32,
    /// Clients handed over since that report.
    since: u32,
}

impl Entry {
    fn score(&self) -> u64 {
        u64::from(self.load) + u64::from(self.since)
    }
}

#[derive(Default)]
struct State {
    next_id: u64,
    entries: BTreeMap<u64, Entry>,
    /// The instance chosen last, per protocol (for the round robin among equals).
    last: HashMap<Protocol, u64>,
}

/// An instance that may take a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub id: u64,
    pub score: u64,
}

/// The least busy candidate; among equals, the first after `last` (by id, wrapping around).
pub fn least_busy(candidates: &[Candidate], last: Option<u64>) -> Option<u64> {
    let best = candidates.iter().map(|c| c.score).min()?;
    let mut ties: Vec<u64> = candidates
        .iter()
        .filter(|c| c.score == best)
        .map(|c| c.id)
        .collect();
    ties.sort_unstable();
    let after = last.and_then(|l| ties.iter().copied().find(|&id| id > l));
    after.or_else(|| ties.first().copied())
}

/// An attached instance as the listener sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub instance: i64,
    pub pid: u32,
    pub load: u32,
    pub since: u32,
}

/// What became of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Handed { instance: i64, pid: u32 },
    Refused,
}

struct Inner {
    state: Mutex<State>,
    stop: watch::Sender<bool>,
    /// Clients accepted and not yet handed over.
    pending: Arc<Semaphore>,
    max_pending: usize,
}

/// The listener's handoff: who is attached, and which instance gets each client.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl Dispatcher {
    /// `max_pending`: clients accepted and not yet handed over (more wait in the backlog).
    pub fn new(max_pending: usize) -> Dispatcher {
        let max_pending = max_pending.clamp(1, Semaphore::MAX_PERMITS);
        Dispatcher {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                stop: watch::Sender::new(false),
                pending: Arc::new(Semaphore::new(max_pending)),
                max_pending,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // the state stays consistent between statements: a panic elsewhere does not spoil it
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Ends the accept loops and the handoff socket (its instances see the end and retry).
    pub fn shutdown(&self) {
        self.inner.stop.send_replace(true);
    }

    /// The instances of `protocol` attached now.
    pub fn attached(&self, protocol: Protocol) -> Vec<Attached> {
        self.state()
            .entries
            .values()
            .filter(|e| e.conn.protocol == protocol)
            .map(|e| Attached {
                instance: e.conn.instance,
                pid: e.conn.pid,
                load: e.load,
                since: e.since,
            })
            .collect()
    }

    /// Accepts instances on the handoff socket until [`Dispatcher::shutdown`]; then closes
    /// the socket and every instance connection.
    pub async fn serve_handoff(&self, listener: UnixListener) {
        let mut stop = self.inner.stop.subscribe();
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                r = listener.accept() => match r {
                    Ok((stream, _)) => {
                        if conns.len() >= MAX_INSTANCES {
                            log::warn!("{MAX_INSTANCES} instance connections already: one more refused");
                            continue;
                        }
                        let d = self.clone();
                        conns.spawn(async move { d.serve_instance(stream).await });
                    }
                    Err(e) => {
                        log::warn!("cannot accept an instance connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                _ = stopped(&mut stop) => break,
            }
        }
        drop(listener);
        conns.abort_all();
        while conns.join_next().await.is_some() {}
        self.state().entries.clear();
    }

    /// One instance connection: its hello, then its load reports, until it ends.
    async fn serve_instance(&self, stream: UnixStream) {
        let mut stop = self.inner.stop.subscribe();
        let mut reader = FrameReader::default();
        let hello = tokio::time::timeout(handoff::HELLO_TIMEOUT, reader.next(&stream)).await;
        let (protocol, instance, pid) = match hello {
            Ok(Ok(Some(Frame::Hello {
                protocol,
                instance,
                pid,
            }))) => (protocol, instance, pid),
            Ok(Ok(Some(f))) => {
                log::warn!("handoff socket: a connection began with {f:?}, not a hello: dropped");
                return;
            }
            Ok(Ok(None)) => {
                log::debug!("handoff socket: a connection closed before its hello");
                return;
            }
            Ok(Err(e)) => {
                log::warn!("handoff socket: bad hello ({e}): connection dropped");
                return;
            }
            Err(_) => {
                log::warn!(
                    "handoff socket: no hello within {HELLO_TIMEOUT:?}: connection dropped",
                    HELLO_TIMEOUT = handoff::HELLO_TIMEOUT
                );
                return;
            }
        };
        let conn = {
            let mut st = self.state();
            st.next_id += 1;
            let conn = Arc::new(Conn {
                id: st.next_id,
                protocol,
                instance,
                pid,
                stream,
                write: tokio::sync::Mutex::new(()),
                broken: AtomicBool::new(false),
                kick: Notify::new(),
            });
            st.entries.insert(
                conn.id,
                Entry {
                    conn: conn.clone(),
                    load: 0,
                    since: 0,
                },
            );
            conn
        };
        log::info!(
            "{} attached ({} {} instance(s) now)",
            conn.name(),
            self.attached(protocol).len(),
            protocol.name()
        );
        let why = loop {
            tokio::select! {
                r = reader.next(&conn.stream) => match r {
                    Ok(Some(Frame::Load(load))) => {
                        if let Some(e) = self.state().entries.get_mut(&conn.id) {
                            e.load = load;
                            e.since = 0;
                        }
                    }
                    Ok(Some(f)) => break format!("unexpected {f:?}"),
                    Ok(None) => break "connection closed".to_string(),
                    Err(e) => break e.to_string(),
                },
                _ = conn.kick.notified() => break "it could not take a client".to_string(),
                _ = stopped(&mut stop) => break "the listener stops".to_string(),
            }
        };
        self.state().entries.remove(&conn.id);
        log::info!(
            "{} detached: {why} ({} {} instance(s) left)",
            conn.name(),
            self.attached(protocol).len(),
            protocol.name()
        );
    }

    /// Picks the least busy instance of `protocol` (not in `tried`) and counts the client in
    /// its score.
    fn choose(&self, protocol: Protocol, tried: &[u64]) -> Option<Arc<Conn>> {
        let mut st = self.state();
        let candidates: Vec<Candidate> = st
            .entries
            .values()
            .filter(|e| e.conn.protocol == protocol && !tried.contains(&e.conn.id))
            .map(|e| Candidate {
                id: e.conn.id,
                score: e.score(),
            })
            .collect();
        let id = least_busy(&candidates, st.last.get(&protocol).copied())?;
        st.last.insert(protocol, id);
        let e = st.entries.get_mut(&id)?;
        e.since = e.since.saturating_add(1);
        Some(e.conn.clone())
    }

    fn forget(&self, conn: &Conn) {
        self.state().entries.remove(&conn.id);
        conn.kick.notify_one();
    }

    /// Hands a client to the least busy instance of its protocol (trying the next one when
    /// that fails), or refuses it. The listener's copy of the socket is closed either way.
    pub async fn dispatch(
        &self,
        protocol: Protocol,
        stream: TcpStream,
        peer: SocketAddr,
        implicit_tls: bool,
    ) -> Outcome {
        let frame = Frame::Client { implicit_tls, peer }.encode();
        let mut tried = Vec::new();
        while let Some(conn) = self.choose(protocol, &tried) {
            match conn.send(&frame, stream.as_raw_fd()).await {
                Ok(()) => {
                    log::debug!(
                        "{} client {peer}{} handed to {}",
                        protocol.name(),
                        if implicit_tls { " (TLS)" } else { "" },
                        conn.name()
                    );
                    return Outcome::Handed {
                        instance: conn.instance,
                        pid: conn.pid,
                    };
                }
                Err(e) => {
                    log::warn!(
                        "{} client {peer}: cannot hand it to {} ({e}): dropping that instance",
                        protocol.name(),
                        conn.name()
                    );
                    self.forget(&conn);
                    tried.push(conn.id);
                }
            }
        }
        log::warn!(
            "{} client {peer}: no {} instance attached: refused",
            protocol.name(),
            protocol.type_name()
        );
        refuse(protocol, stream).await;
        Outcome::Refused
    }

    /// Accepts clients of `protocol` on `listener` until [`Dispatcher::shutdown`] and
    /// dispatches each (at most `max_pending` at a time).
    pub async fn accept_loop(&self, listener: TcpListener, protocol: Protocol, implicit_tls: bool) {
        let mut stop = self.inner.stop.subscribe();
        let mut full_logged = false;
        loop {
            if self.inner.pending.available_permits() == 0 && !full_logged {
                full_logged = true;
                log::warn!(
                    "{} clients waiting to be handed over (max_connections): new ones wait",
                    self.inner.max_pending
                );
            }
            let permit = tokio::select! {
                p = self.inner.pending.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return,
                },
                _ = stopped(&mut stop) => return,
            };
            tokio::select! {
                r = listener.accept() => match r {
                    Ok((stream, peer)) => {
                        full_logged = false;
                        let d = self.clone();
                        tokio::spawn(async move {
                            let _permit = permit;
                            d.dispatch(protocol, stream, peer, implicit_tls).await;
                        });
                    }
                    Err(e) => {
                        log::warn!("{}: cannot accept a connection: {e}", protocol.name());
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                _ = stopped(&mut stop) => return,
            }
        }
    }
}

/// Tells the client no server is there and closes the connection in order.
async fn refuse(protocol: Protocol, mut stream: TcpStream) {
    let said = tokio::time::timeout(REFUSE_TIMEOUT, async {
        stream.write_all(protocol.unavailable_greeting()).await?;
        stream.shutdown().await
    })
    .await;
    if !matches!(said, Ok(Ok(()))) {
        return;
    }
    // what the client sent meanwhile would make the close a reset: read it first
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        let mut buf = [0u8; 1024];
        let mut total = 0;
        while total < DRAIN_BYTES {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sps::handoff::{attach, write_frame, LoadFn};
    use crate::sps::Client;
    use std::path::Path;
    use std::sync::atomic::AtomicU32;
    use tokio::sync::mpsc;

    fn c(id: u64, score: u64) -> Candidate {
        Candidate { id, score }
    }

    #[test]
    fn least_busy_wins() {
        assert_eq!(least_busy(&[], None), None);
        assert_eq!(least_busy(&[c(1, 5)], Some(1)), Some(1));
        assert_eq!(least_busy(&[c(1, 5), c(2, 3), c(3, 4)], None), Some(2));
        assert_eq!(least_busy(&[c(1, 5), c(2, 3), c(3, 4)], Some(2)), Some(2));
    }

    #[test]
    fn ties_go_round_robin() {
        let cands = [c(4, 1), c(2, 1), c(9, 1), c(5, 7)];
        assert_eq!(least_busy(&cands, None), Some(2));
        assert_eq!(least_busy(&cands, Some(2)), Some(4));
        assert_eq!(least_busy(&cands, Some(4)), Some(9));
        assert_eq!(least_busy(&cands, Some(9)), Some(2));
        // the last one chosen is gone or busier: the next after it
        assert_eq!(least_busy(&cands, Some(5)), Some(9));
        assert_eq!(least_busy(&cands, Some(3)), Some(4));
    }

    /// Equal reports, clients one after another: the score (report + handed since) spreads
    /// them evenly, the round robin settles ties.
    #[test]
    fn choice_counts_clients_handed_since_the_report() {
        let d = Dispatcher::new(10);
        let (a, _a2) = std::os::unix::net::UnixStream::pair().unwrap();
        let (b, _b2) = std::os::unix::net::UnixStream::pair().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _g = rt.enter();
        for (id, s, load) in [(1u64, a, 0u32), (2, b, 3)] {
            s.set_nonblocking(true).unwrap();
            let conn = Arc::new(Conn {
                id,
                protocol: Protocol::Imap,
                instance: id as i64,
                pid: 0,
                stream: UnixStream::from_std(s).unwrap(),
                write: tokio::sync::Mutex::new(()),
                broken: AtomicBool::new(false),
                kick: Notify::new(),
            });
            d.state().entries.insert(
                id,
                Entry {
                    conn,
                    load,
                    since: 0,
                },
            );
        }
        let picks: Vec<i64> = (0..7)
            .map(|_| d.choose(Protocol::Imap, &[]).unwrap().instance)
            .collect();
        // 1 takes three to catch up with 2's load of 3, then they alternate
        assert_eq!(picks, vec![1, 1, 1, 2, 1, 2, 1]);
        assert!(d.choose(Protocol::Pop3, &[]).is_none());
        assert_eq!(d.choose(Protocol::Imap, &[1]).unwrap().instance, 2);
        assert!(d.choose(Protocol::Imap, &[1, 2]).is_none());
    }

    /// A fake instance: `attach()` in a task, counting the clients it gets and checking each
    /// is the live connection (one byte from the client arrives).
    struct Fake {
        task: tokio::task::JoinHandle<()>,
        got: Arc<AtomicU32>,
        stop: watch::Sender<bool>,
        reader: tokio::task::JoinHandle<()>,
    }

    fn fake(path: &Path, protocol: Protocol, instance: i64, base_load: u32) -> Fake {
        let got = Arc::new(AtomicU32::new(0));
        let g = got.clone();
        let load: LoadFn = Arc::new(move || base_load + g.load(Ordering::SeqCst));
        let (tx, mut rx) = mpsc::channel::<Client>(64);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(attach(
            path.to_path_buf(),
            protocol,
            instance,
            load,
            tx,
            stop_rx,
        ));
        let g = got.clone();
        let reader = tokio::spawn(async move {
            while let Some(mut client) = rx.recv().await {
                g.fetch_add(1, Ordering::SeqCst);
                let mut b = [0u8; 1];
                if client.stream.read_exact(&mut b).await.is_ok() && b[0] == b'!' {
                    let _ = client.stream.write_all(&[instance as u8]).await;
                }
            }
        });
        Fake {
            task,
            got,
            stop,
            reader,
        }
    }

    async fn wait_attached(d: &Dispatcher, protocol: Protocol, n: usize) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while d.attached(protocol).len() != n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{n} {protocol:?} instance(s) never attached"));
    }

    /// Connects a client, sends a byte, and returns the instance that answered it.
    async fn client(addr: SocketAddr) -> u8 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"!").await.unwrap();
        let mut b = [0u8; 1];
        tokio::time::timeout(Duration::from_secs(10), s.read_exact(&mut b))
            .await
            .expect("no instance answered")
            .unwrap();
        b[0]
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn clients_reach_the_least_busy_instance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("iolistener.sock");
        let unix = UnixListener::bind(&path).unwrap();
        let d = Dispatcher::new(100);
        let handoff = tokio::spawn({
            let d = d.clone();
            async move { d.serve_handoff(unix).await }
        });
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let accept = tokio::spawn({
            let d = d.clone();
            async move { d.accept_loop(tcp, Protocol::Pop3, false).await }
        });

        // none attached: the greeting, then the end of the connection
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut all = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut all))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(all, Protocol::Pop3.unavailable_greeting());

        // an IMAP instance does not take POP3 clients
        let imap = fake(&path, Protocol::Imap, 9, 0);
        let mut one = fake(&path, Protocol::Pop3, 1, 0);
        let mut two = fake(&path, Protocol::Pop3, 2, 0);
        wait_attached(&d, Protocol::Pop3, 2).await;
        wait_attached(&d, Protocol::Imap, 1).await;

        let mut counts = [0u32; 10];
        for _ in 0..20 {
            counts[client(addr).await as usize] += 1;
        }
        assert_eq!(counts[9], 0);
        assert_eq!(counts[1] + counts[2], 20);
        assert!(counts[1].abs_diff(counts[2]) <= 2, "unbalanced: {counts:?}");

        // many at once
        let mut set = JoinSet::new();
        for _ in 0..40 {
            set.spawn(client(addr));
        }
        let mut counts = [0u32; 10];
        while let Some(r) = set.join_next().await {
            counts[r.unwrap() as usize] += 1;
        }
        assert_eq!(counts[1] + counts[2], 40);
        assert!(counts[1].abs_diff(counts[2]) <= 4, "unbalanced: {counts:?}");

        // a busy instance (a high load report) is left alone
        let mut busy = fake(&path, Protocol::Pop3, 3, 1000);
        wait_attached(&d, Protocol::Pop3, 3).await;
        tokio::time::timeout(Duration::from_secs(5), async {
            while !d
                .attached(Protocol::Pop3)
                .iter()
                .any(|a| a.instance == 3 && a.load >= 1000)
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("no load report");
        for _ in 0..10 {
            assert_ne!(client(addr).await, 3);
        }

        // a killed instance is forgotten: the others get everything
        one.task.abort();
        let _ = (&mut one.task).await;
        wait_attached(&d, Protocol::Pop3, 2).await;
        for _ in 0..6 {
            assert_eq!(client(addr).await, 2);
        }
        assert!(one.got.load(Ordering::SeqCst) > 0);

        // all gone: refused again
        two.task.abort();
        busy.task.abort();
        let _ = (&mut two.task).await;
        let _ = (&mut busy.task).await;
        wait_attached(&d, Protocol::Pop3, 0).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"USER x\r\n").await.unwrap();
        let mut all = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut all))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(all, Protocol::Pop3.unavailable_greeting());

        // shutdown: the accept loop and the handoff end, the instances see it
        d.shutdown();
        tokio::time::timeout(Duration::from_secs(5), accept)
            .await
            .unwrap()
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), handoff)
            .await
            .unwrap()
            .unwrap();
        assert!(d.attached(Protocol::Imap).is_empty());
        for f in [imap, one, two, busy] {
            let _ = f.stop.send(true);
            f.task.abort();
            f.reader.abort();
        }
    }

    /// Garbage, a wrong first frame, or no hello at all: the connection is dropped and nothing
    /// is attached.
    #[tokio::test]
    async fn malformed_instances_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sock");
        let unix = UnixListener::bind(&path).unwrap();
        let d = Dispatcher::new(10);
        let handoff = tokio::spawn({
            let d = d.clone();
            async move { d.serve_handoff(unix).await }
        });
        let bad: [&[u8]; 4] = [
            b"GET / HTTP/1.0\r\n\r\n",
            b"L\0\x04\0\0\0\x01",
            b"H\xff\xff",
            b"H\0\x11\x01\0\0\0\0\0\0\0\x01\0\0\0\x01smtp",
        ];
        for b in bad {
            let s = UnixStream::connect(&path).await.unwrap();
            write_frame(&s, b, None).await.unwrap();
            let mut r = FrameReader::default();
            let end = tokio::time::timeout(Duration::from_secs(5), r.next(&s))
                .await
                .expect("not dropped");
            assert!(matches!(end, Ok(None) | Err(_)), "{b:?}: {end:?}");
        }
        // attached, then garbage
        let s = UnixStream::connect(&path).await.unwrap();
        let hello = Frame::Hello {
            protocol: Protocol::Imap,
            instance: 1,
            pid: 1,
        };
        write_frame(&s, &hello.encode(), None).await.unwrap();
        wait_attached(&d, Protocol::Imap, 1).await;
        write_frame(&s, b"L\0\x02zz", None).await.unwrap();
        wait_attached(&d, Protocol::Imap, 0).await;
        d.shutdown();
        handoff.await.unwrap();
    }
}
