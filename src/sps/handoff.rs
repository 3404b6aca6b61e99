//! The handoff between IOLISTENER and the protocol server instances of its node (a Unix
//! socket): instances say who they are and report their load; the listener passes each client
//! connection (the socket itself, SCM_RIGHTS) to the least busy one.
//!
//! # The protocol
//!
//! One Unix stream socket per node (`handoff_socket`, by default `run/iolistener.sock` in the
//! data directory; the directory is `0700`, the socket `0600`). Each instance (POP3SRV,
//! IMAP4SRV) keeps one connection to it. Both directions carry frames:
//!
//! ```text
//!   frame   = kind:u8  length:u16 (big-endian)  payload[length]      (length <= 128)
//!
//!   instance -> listener
//!     'H' hello  = version:u8 (1)  instance:i64  pid:u32  type-name     (first frame, within 5 s)
//!     'L' load   = sessions:u32                                          (every 500 ms)
//!   listener -> instance
//!     'C' client = flags:u8 (bit 0: implicit TLS)  peer-address         + one fd (SCM_RIGHTS)
//! ```
//!
//! Integers are big-endian. `type-name` is the protocol's process type (`pop3srv`,
//! `imap4srv`), `peer-address` the client's address as text (`192.0.2.7:51234`,
//! `[2001:db8::1]:51234`). The listener sends each `client` frame with a single `sendmsg`
//! that carries the client's TCP socket as ancillary data, attached to the frame's first
//! byte, and then closes its own copy. A stream socket may glue several frames into one
//! read, so the receiving side gives a descriptor to the last frame that *starts* in the read
//! that brought it: a frame that gets none is ignored, descriptors without a frame to go to
//! are closed.
//!
//! Anything else (an unknown kind, a payload too long or malformed, a first frame that is not
//! a hello, a frame cut short by the end of the connection) ends the connection, with a log
//! line, on either side. The instance then reconnects every second until it is stopped; the
//! listener forgets an instance as soon as its connection ends (a killed instance is never
//! chosen again).
//!
//! Writing to a connection whose other end is gone gives `EPIPE` (Rust ignores `SIGPIPE`).

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sendfd::{RecvWithFd, SendWithFd};
use thiserror::Error;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch};

use super::{Client, Protocol};
use crate::config::Config;

/// The load an instance reports: its sessions.
pub type LoadFn = Arc<dyn Fn() -> u32 + Send + Sync>;

/// The version in the hello.
pub const VERSION: u8 = 1;
/// The longest payload of a frame.
pub const MAX_PAYLOAD: usize = 128;
/// Kind and length.
pub const HEADER: usize = 3;
/// The longest frame.
pub const MAX_FRAME: usize = HEADER + MAX_PAYLOAD;
/// How often an instance reports its load.
pub const LOAD_INTERVAL: Duration = Duration::from_millis(500);
/// How long an instance waits before connecting again.
pub const RETRY: Duration = Duration::from_secs(1);
/// How long a write of one frame may wait for room in the socket.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the listener waits for the hello of a new connection.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

const KIND_HELLO: u8 = b'H';
const KIND_LOAD: u8 = b'L';
const KIND_CLIENT: u8 = b'C';
const MAX_TYPE_NAME: usize = 32;
const MAX_PEER: usize = 64;
/// Descriptors one read may bring (the listener sends one per frame; more are closed).
const MAX_FDS_PER_READ: usize = 4;

/// Where the node's IOLISTENER listens for its instances: the `handoff_socket` parameter, or
/// `run/iolistener.sock` in the data directory.
pub fn socket_path(cfg: &Config, param: Option<&str>) -> PathBuf {
    match param {
        Some(p) if !p.trim().is_empty() => PathBuf::from(p.trim()),
        _ => cfg.data_dir().join("run").join("iolistener.sock"),
    }
}

/// A message of the handoff protocol (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The first frame of an instance.
    Hello {
        protocol: Protocol,
        instance: i64,
        pid: u32,
    },
    /// An instance's sessions.
    Load(u32),
    /// A client, whose socket travels with the frame.
    Client {
        implicit_tls: bool,
        peer: SocketAddr,
    },
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("unknown frame kind 0x{0:02x}")]
    UnknownKind(u8),
    #[error("frame payload of {0} bytes (at most {MAX_PAYLOAD})")]
    Oversized(usize),
    #[error("frame cut short")]
    Truncated,
    #[error("{0} bytes after the frame")]
    Trailing(usize),
    #[error("handoff protocol version {0} (this build speaks {VERSION})")]
    Version(u8),
    #[error("unknown protocol type {0:?}")]
    UnknownProtocol(String),
    #[error("malformed {0} frame")]
    Malformed(&'static str),
}

impl Frame {
    pub fn kind(&self) -> u8 {
        match self {
            Frame::Hello { .. } => KIND_HELLO,
            Frame::Load(_) => KIND_LOAD,
            Frame::Client { .. } => KIND_CLIENT,
        }
    }

    /// The frame on the wire (a peer address is at most 47 characters, a type name 8: every
    /// frame fits in [`MAX_PAYLOAD`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(64);
        match self {
            Frame::Hello {
                protocol,
                instance,
                pid,
            } => {
                payload.push(VERSION);
                payload.extend_from_slice(&instance.to_be_bytes());
                payload.extend_from_slice(&pid.to_be_bytes());
                payload.extend_from_slice(protocol.type_name().as_bytes());
            }
            Frame::Load(n) => payload.extend_from_slice(&n.to_be_bytes()),
            Frame::Client { implicit_tls, peer } => {
                payload.push(u8::from(*implicit_tls));
                payload.extend_from_slice(peer.to_string().as_bytes());
            }
        }
        debug_assert!(payload.len() <= MAX_PAYLOAD);
        let mut out = Vec::with_capacity(HEADER + payload.len());
        out.push(self.kind());
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// The first frame of `buf`, with the bytes it took; `Ok(None)` while it is incomplete.
    pub fn decode(buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
        let Some(len) = frame_len(buf)? else {
            return Ok(None);
        };
        if buf.len() < len {
            return Ok(None);
        }
        let f = Frame::decode_payload(buf[0], &buf[HEADER..len])?;
        Ok(Some((f, len)))
    }

    /// Exactly one whole frame.
    pub fn decode_exact(buf: &[u8]) -> Result<Frame, FrameError> {
        match Frame::decode(buf)? {
            None => Err(FrameError::Truncated),
            Some((f, n)) if n == buf.len() => Ok(f),
            Some((_, n)) => Err(FrameError::Trailing(buf.len() - n)),
        }
    }

    fn decode_payload(kind: u8, p: &[u8]) -> Result<Frame, FrameError> {
        match kind {
            KIND_HELLO => {
                if p.len() < 14 {
                    return Err(FrameError::Malformed("hello"));
                }
                if p[0] != VERSION {
                    return Err(FrameError::Version(p[0]));
                }
                let instance = i64::from_be_bytes(array(&p[1..9])?);
                let pid = u32::from_be_bytes(array(&p[9..13])?);
                let name = &p[13..];
                if name.len() > MAX_TYPE_NAME || !name.iter().all(|b| b.is_ascii_graphic()) {
                    return Err(FrameError::Malformed("hello"));
                }
                let name = String::from_utf8_lossy(name);
                let protocol = Protocol::from_type_name(&name)
                    .ok_or_else(|| FrameError::UnknownProtocol(name.into_owned()))?;
                Ok(Frame::Hello {
                    protocol,
                    instance,
                    pid,
                })
            }
            KIND_LOAD => {
                if p.len() != 4 {
                    return Err(FrameError::Malformed("load"));
                }
                Ok(Frame::Load(u32::from_be_bytes(array(p)?)))
            }
            KIND_CLIENT => {
                let (&flags, peer) = p.split_first().ok_or(FrameError::Malformed("client"))?;
                if flags & !1 != 0 || peer.is_empty() || peer.len() > MAX_PEER {
                    return Err(FrameError::Malformed("client"));
                }
                let peer = std::str::from_utf8(peer)
                    .ok()
                    .and_then(|s| s.parse::<SocketAddr>().ok())
                    .ok_or(FrameError::Malformed("client"))?;
                Ok(Frame::Client {
                    implicit_tls: flags & 1 == 1,
                    peer,
                })
            }
            k => Err(FrameError::UnknownKind(k)),
        }
    }
}

fn array<const N: usize>(b: &[u8]) -> Result<[u8; N], FrameError> {
    b.try_into().map_err(|_| FrameError::Truncated)
}

/// The whole length of the frame starting `buf`, once its header is there.
fn frame_len(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    let Some(&kind) = buf.first() else {
        return Ok(None);
    };
    if !matches!(kind, KIND_HELLO | KIND_LOAD | KIND_CLIENT) {
        return Err(FrameError::UnknownKind(kind));
    }
    if buf.len() < HEADER {
        return Ok(None);
    }
    let len = u16::from_be_bytes([buf[1], buf[2]]) as usize;
    if len > MAX_PAYLOAD {
        return Err(FrameError::Oversized(len));
    }
    Ok(Some(HEADER + len))
}

/// Why a connection ended.
#[derive(Debug, Error)]
pub enum LinkError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Frame(#[from] FrameError),
    #[error("connection closed in the middle of a frame")]
    CutShort,
}

/// Writes one frame on a socket shared with a reader (`&self` I/O only); `fd`, if any, goes
/// with the first byte. Callers serialize writers of the same socket.
pub async fn write_frame(stream: &UnixStream, bytes: &[u8], fd: Option<RawFd>) -> io::Result<()> {
    let mut sent = 0;
    while sent < bytes.len() {
        stream.writable().await?;
        let r = match fd {
            Some(fd) if sent == 0 => stream.send_with_fd(bytes, &[fd]),
            _ => stream.try_write(&bytes[sent..]),
        };
        match r {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads frames from a socket (no descriptors: any sent along are discarded by the kernel).
/// Cancel-safe: bytes read stay in the buffer.
pub struct FrameReader {
    buf: [u8; 2 * MAX_FRAME],
    filled: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader {
            buf: [0; 2 * MAX_FRAME],
            filled: 0,
        }
    }
}

impl FrameReader {
    /// The next frame; `Ok(None)` at the end of the connection between frames.
    pub async fn next(&mut self, stream: &UnixStream) -> Result<Option<Frame>, LinkError> {
        loop {
            if let Some((f, n)) = Frame::decode(&self.buf[..self.filled])? {
                self.buf.copy_within(n..self.filled, 0);
                self.filled -= n;
                return Ok(Some(f));
            }
            stream.readable().await?;
            match stream.try_read(&mut self.buf[self.filled..]) {
                Ok(0) if self.filled == 0 => return Ok(None),
                Ok(0) => return Err(LinkError::CutShort),
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Reads `client` frames and their descriptors (the instance side).
struct FdFrameReader {
    buf: [u8; 2 * MAX_FRAME],
    filled: usize,
    /// Descriptors by the offset in `buf` of the frame they came with.
    fds: VecDeque<(usize, OwnedFd)>,
}

impl FdFrameReader {
    fn new() -> FdFrameReader {
        FdFrameReader {
            buf: [0; 2 * MAX_FRAME],
            filled: 0,
            fds: VecDeque::new(),
        }
    }

    /// The next frame with the descriptor that came with it; `Ok(None)` at the end of the
    /// connection between frames.
    async fn next(
        &mut self,
        stream: &UnixStream,
    ) -> Result<Option<(Frame, Option<OwnedFd>)>, LinkError> {
        loop {
            if let Some((f, n)) = Frame::decode(&self.buf[..self.filled])? {
                let fd = match self.fds.front() {
                    Some((0, _)) => self.fds.pop_front().map(|(_, fd)| fd),
                    _ => None,
                };
                self.buf.copy_within(n..self.filled, 0);
                self.filled -= n;
                // a descriptor is always at the start of a frame, so none is left in 1..n
                for e in self.fds.iter_mut() {
                    e.0 = e.0.saturating_sub(n);
                }
                return Ok(Some((f, fd)));
            }
            stream.readable().await?;
            let mut raw: [RawFd; MAX_FDS_PER_READ] = [-1; MAX_FDS_PER_READ];
            let before = self.filled;
            match stream.recv_with_fd(&mut self.buf[before..], &mut raw) {
                Ok((n, k)) => {
                    // SAFETY: recvmsg installed these k descriptors for this process, and
                    // nothing else owns them.
                    let got: Vec<OwnedFd> = raw[..k.min(MAX_FDS_PER_READ)]
                        .iter()
                        .map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) })
                        .collect();
                    if n == 0 {
                        if !got.is_empty() {
                            log::warn!(
                                "IOLISTENER sent {} descriptor(s) without data: closed",
                                got.len()
                            );
                        }
                        return if before == 0 {
                            Ok(None)
                        } else {
                            Err(LinkError::CutShort)
                        };
                    }
                    self.filled += n;
                    self.place(before, got);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Gives the descriptors of a read (of the bytes from `before`) to the last frame that
    /// starts in it; closes the others.
    fn place(&mut self, before: usize, mut got: Vec<OwnedFd>) {
        if got.is_empty() {
            return;
        }
        let mut start = 0;
        let mut last = None;
        while start < self.filled {
            if start >= before {
                last = Some(start);
            }
            match frame_len(&self.buf[start..self.filled]) {
                Ok(Some(len)) => start += len,
                // an incomplete header (nothing starts after it in this read) or a bad frame
                // (the decoder will end the connection)
                _ => break,
            }
        }
        let keep = match last {
            Some(at) if !self.fds.iter().any(|(o, _)| *o == at) => Some((at, got.remove(0))),
            _ => None,
        };
        if !got.is_empty() {
            log::warn!(
                "IOLISTENER sent {} unexpected descriptor(s): closed",
                got.len()
            );
        }
        drop(got);
        self.fds.extend(keep);
    }
}

/// A received descriptor as a client connection.
fn client_from_fd(fd: OwnedFd, implicit_tls: bool, peer: SocketAddr) -> io::Result<Client> {
    let std = std::net::TcpStream::from(fd);
    // an Internet socket, not some other descriptor
    std.local_addr()?;
    std.set_nonblocking(true)?;
    let stream = tokio::net::TcpStream::from_std(std)?;
    Ok(Client {
        stream,
        peer,
        implicit_tls,
    })
}

/// How an attachment ended.
enum Detach {
    Stop,
    Lost(String),
}

/// Instance side: stays attached to the listener (reconnecting while it is away) until
/// `stop`, reporting the load and passing each client received to `tx`.
pub async fn attach(
    path: PathBuf,
    protocol: Protocol,
    instance: i64,
    load: LoadFn,
    tx: mpsc::Sender<Client>,
    mut stop: watch::Receiver<bool>,
) {
    let mut waiting_logged = false;
    loop {
        if *stop.borrow() || tx.is_closed() {
            return;
        }
        let stream = tokio::select! {
            r = UnixStream::connect(&path) => r,
            _ = stopped(&mut stop) => return,
        };
        match stream {
            Ok(stream) => {
                waiting_logged = false;
                log::info!("attached to IOLISTENER at {}", path.display());
                match attached(&stream, protocol, instance, &load, &tx, &mut stop).await {
                    Detach::Stop => return,
                    Detach::Lost(why) => log::warn!(
                        "lost IOLISTENER at {} ({why}); reconnecting",
                        path.display()
                    ),
                }
            }
            Err(e) => {
                if !waiting_logged {
                    waiting_logged = true;
                    log::info!(
                        "IOLISTENER is not there at {} ({e}); trying every {} s",
                        path.display(),
                        RETRY.as_secs()
                    );
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = stopped(&mut stop) => return,
        }
    }
}

/// One connection to the listener, until it ends or `stop`.
async fn attached(
    stream: &UnixStream,
    protocol: Protocol,
    instance: i64,
    load: &LoadFn,
    tx: &mpsc::Sender<Client>,
    stop: &mut watch::Receiver<bool>,
) -> Detach {
    let hello = Frame::Hello {
        protocol,
        instance,
        pid: std::process::id(),
    };
    if let Err(e) = timed_write(stream, &hello.encode()).await {
        return Detach::Lost(format!("cannot say hello: {e}"));
    }
    let mut tick = tokio::time::interval(LOAD_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reader = FdFrameReader::new();
    loop {
        tokio::select! {
            r = reader.next(stream) => match r {
                Ok(Some((Frame::Client { implicit_tls, peer }, Some(fd)))) => {
                    match client_from_fd(fd, implicit_tls, peer) {
                        Ok(client) => {
                            log::debug!("client {peer} received from IOLISTENER");
                            tokio::select! {
                                r = tx.send(client) => if r.is_err() { return Detach::Stop },
                                _ = stopped(stop) => return Detach::Stop,
                            }
                        }
                        Err(e) => log::warn!("client {peer}: unusable socket from IOLISTENER ({e}): closed"),
                    }
                }
                Ok(Some((Frame::Client { peer, .. }, None))) => {
                    log::warn!("client {peer}: IOLISTENER sent no socket with it: ignored");
                }
                Ok(Some((f, _))) => return Detach::Lost(format!("unexpected frame {f:?}")),
                Ok(None) => return Detach::Lost("closed by IOLISTENER".into()),
                Err(e) => return Detach::Lost(e.to_string()),
            },
            _ = tick.tick() => {
                if let Err(e) = timed_write(stream, &Frame::Load(load()).encode()).await {
                    return Detach::Lost(format!("cannot report the load: {e}"));
                }
            }
            _ = stopped(stop) => return Detach::Stop,
        }
    }
}

/// Returns once `stop` is true (or its sender is gone).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn timed_write(stream: &UnixStream, bytes: &[u8]) -> io::Result<()> {
    tokio::time::timeout(WRITE_TIMEOUT, write_frame(stream, bytes, None))
        .await
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

/// Is something listening at `path`?
pub fn listening(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn samples() -> Vec<Frame> {
        vec![
            Frame::Hello {
                protocol: Protocol::Pop3,
                instance: 3,
                pid: 4242,
            },
            Frame::Hello {
                protocol: Protocol::Imap,
                instance: i64::MAX,
                pid: u32::MAX,
            },
            Frame::Load(0),
            Frame::Load(u32::MAX),
            Frame::Client {
                implicit_tls: false,
                peer: "192.0.2.7:51234".parse().unwrap(),
            },
            Frame::Client {
                implicit_tls: true,
                peer: "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"
                    .parse()
                    .unwrap(),
            },
        ]
    }

    #[test]
    fn frames_round_trip() {
        for f in samples() {
            let b = f.encode();
            assert!(b.len() <= MAX_FRAME, "{f:?}");
            assert_eq!(Frame::decode_exact(&b), Ok(f.clone()));
            assert_eq!(Frame::decode(&b), Ok(Some((f.clone(), b.len()))));
        }
        // several in a row
        let all: Vec<u8> = samples().iter().flat_map(Frame::encode).collect();
        let mut at = 0;
        let mut got = Vec::new();
        while let Some((f, n)) = Frame::decode(&all[at..]).unwrap() {
            got.push(f);
            at += n;
        }
        assert_eq!(got, samples());
        assert_eq!(at, all.len());
    }

    #[test]
    fn truncated_frames_wait_or_fail() {
        for f in samples() {
            let b = f.encode();
            for cut in 0..b.len() {
                assert_eq!(Frame::decode(&b[..cut]), Ok(None), "{f:?} cut at {cut}");
                assert_eq!(Frame::decode_exact(&b[..cut]), Err(FrameError::Truncated));
            }
            let mut more = b.clone();
            more.push(b'L');
            assert_eq!(Frame::decode_exact(&more), Err(FrameError::Trailing(1)));
        }
    }

    #[test]
    fn bad_frames_are_errors() {
        assert_eq!(Frame::decode(b"X\0\0"), Err(FrameError::UnknownKind(b'X')));
        assert_eq!(Frame::decode(b"Z"), Err(FrameError::UnknownKind(b'Z')));
        assert_eq!(
            Frame::decode(b"L\xff\xff"),
            Err(FrameError::Oversized(65535))
        );
        assert_eq!(
            Frame::decode(&[b'C', 0, 129]),
            Err(FrameError::Oversized(129))
        );
        // payloads of the wrong size or content
        assert_eq!(
            Frame::decode_exact(b"L\0\x03abc"),
            Err(FrameError::Malformed("load"))
        );
        assert_eq!(
            Frame::decode_exact(b"L\0\x05abcde"),
            Err(FrameError::Malformed("load"))
        );
        assert_eq!(
            Frame::decode_exact(b"C\0\0"),
            Err(FrameError::Malformed("client"))
        );
        assert_eq!(
            Frame::decode_exact(b"C\0\x01\0"),
            Err(FrameError::Malformed("client"))
        );
        assert_eq!(
            Frame::decode_exact(b"C\0\x05\x02a:10"),
            Err(FrameError::Malformed("client"))
        );
        assert_eq!(
            Frame::decode_exact(b"C\0\x0a\x00nonsense!"),
            Err(FrameError::Malformed("client"))
        );
        let mut c = vec![b'C', 0, 3, 0, 0xff, 0xfe];
        assert_eq!(
            Frame::decode_exact(&c),
            Err(FrameError::Malformed("client"))
        );
        c.truncate(0);
        assert_eq!(Frame::decode_exact(&c), Err(FrameError::Truncated));
        assert_eq!(
            Frame::decode_exact(b"H\0\x05\x01abcd"),
            Err(FrameError::Malformed("hello"))
        );
        let mut h = Frame::Hello {
            protocol: Protocol::Pop3,
            instance: 1,
            pid: 1,
        }
        .encode();
        h[3] = 9;
        assert_eq!(Frame::decode_exact(&h), Err(FrameError::Version(9)));
        let mut h = vec![b'H', 0, 0, VERSION];
        h.extend_from_slice(&[0; 12]);
        h.extend_from_slice(b"smtpgw");
        h[2] = (h.len() - HEADER) as u8;
        assert_eq!(
            Frame::decode_exact(&h),
            Err(FrameError::UnknownProtocol("smtpgw".into()))
        );
        // arbitrary bytes never panic
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let mut b: Vec<u8> = (0..len).map(|i| (seed >> (i % 8 * 8)) as u8).collect();
            if let Some(k) = b.first_mut() {
                *k = [KIND_HELLO, KIND_LOAD, KIND_CLIENT][(seed % 3) as usize];
            }
            let _ = Frame::decode(&b);
            let _ = Frame::decode_exact(&b);
        }
    }

    #[test]
    fn socket_path_default_and_parameter() {
        let cfg = crate::config::resolve(Some("sqlite:/srv/esmail/store.db"), None).unwrap();
        assert_eq!(
            socket_path(&cfg, None),
            PathBuf::from("/srv/esmail/run/iolistener.sock")
        );
        assert_eq!(
            socket_path(&cfg, Some("  ")),
            PathBuf::from("/srv/esmail/run/iolistener.sock")
        );
        assert_eq!(
            socket_path(&cfg, Some("/tmp/x.sock")),
            PathBuf::from("/tmp/x.sock")
        );
    }

    /// A fake listener that sends odd things: a client frame without a socket, one with two
    /// descriptors, then a proper one; the instance takes only the proper ones.
    #[tokio::test]
    async fn attach_ignores_frames_without_socket_and_closes_extras() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sock");
        let unix = tokio::net::UnixListener::bind(&path).unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(attach(
            path.clone(),
            Protocol::Imap,
            7,
            Arc::new(|| 3),
            tx,
            stop_rx,
        ));
        let (conn, _) = unix.accept().await.unwrap();
        let mut reader = FrameReader::default();
        assert_eq!(
            reader.next(&conn).await.unwrap(),
            Some(Frame::Hello {
                protocol: Protocol::Imap,
                instance: 7,
                pid: std::process::id()
            })
        );
        assert_eq!(reader.next(&conn).await.unwrap(), Some(Frame::Load(3)));

        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut c1 = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (s1, p1) = tcp.accept().await.unwrap();
        let mut c2 = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (s2, p2) = tcp.accept().await.unwrap();
        let (pipe_r, pipe_w) = std::io::pipe().unwrap();

        let bare = Frame::Client {
            implicit_tls: false,
            peer: "192.0.2.1:1".parse().unwrap(),
        };
        write_frame(&conn, &bare.encode(), None).await.unwrap();
        // two descriptors with one frame: the pipe is an extra
        let mut two = Frame::Client {
            implicit_tls: true,
            peer: p1,
        }
        .encode();
        conn.writable().await.unwrap();
        let n = conn
            .send_with_fd(&two, &[s1.as_raw_fd(), pipe_w.as_raw_fd()])
            .unwrap();
        two.drain(..n);
        write_frame(&conn, &two, None).await.unwrap();
        drop(pipe_w);
        drop(s1);
        let f = Frame::Client {
            implicit_tls: false,
            peer: p2,
        };
        write_frame(&conn, &f.encode(), Some(s2.as_raw_fd()))
            .await
            .unwrap();
        drop(s2);

        let got1 = rx.recv().await.unwrap();
        assert_eq!((got1.peer, got1.implicit_tls), (p1, true));
        let got2 = rx.recv().await.unwrap();
        assert_eq!((got2.peer, got2.implicit_tls), (p2, false));
        for (c, mut got) in [(&mut c1, got1), (&mut c2, got2)] {
            c.write_all(b"x").await.unwrap();
            let mut b = [0u8; 1];
            got.stream.read_exact(&mut b).await.unwrap();
            assert_eq!(&b, b"x");
        }
        // the extra descriptor was closed: the pipe's last writer is gone
        let eof = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut r = pipe_r;
            let mut b = Vec::new();
            r.read_to_end(&mut b).map(|_| b.len())
        });
        let n = tokio::time::timeout(Duration::from_secs(5), eof)
            .await
            .expect("the extra descriptor stays open")
            .unwrap()
            .unwrap();
        assert_eq!(n, 0);

        let _ = stop_tx.send(true);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
    }

    /// Started before the listener, an instance attaches once it is there, and again after
    /// the listener went away and came back; garbage from the listener makes it reconnect.
    #[tokio::test]
    async fn attach_waits_and_reconnects() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sock");
        let (tx, _rx) = mpsc::channel(8);
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(attach(
            path.clone(),
            Protocol::Pop3,
            1,
            Arc::new(|| 0),
            tx,
            stop_rx,
        ));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let unix = tokio::net::UnixListener::bind(&path).unwrap();
        let (conn, _) = tokio::time::timeout(Duration::from_secs(5), unix.accept())
            .await
            .unwrap()
            .unwrap();
        let mut reader = FrameReader::default();
        assert!(matches!(
            reader.next(&conn).await.unwrap(),
            Some(Frame::Hello { .. })
        ));
        write_frame(&conn, b"Q\0\0", None).await.unwrap();
        let (conn2, _) = tokio::time::timeout(Duration::from_secs(5), unix.accept())
            .await
            .unwrap()
            .unwrap();
        let mut reader = FrameReader::default();
        assert!(matches!(
            reader.next(&conn2).await.unwrap(),
            Some(Frame::Hello { .. })
        ));
        let _ = stop_tx.send(true);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        drop(conn);
    }
}
