//! A client connection: plain TCP or TLS (implicit, or started in the session with STARTTLS /
//! STLS), read through a buffer, lines read with a length limit, writes with a time limit.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::time::timeout;

pub use crate::gateway::smtp::server::{read_line, Io, LineRead};

use super::Client;

/// A session's connection.
pub type Stream = BufReader<Box<dyn Io>>;

/// How long a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// The connection of a client; with `implicit_tls`, after the TLS handshake.
pub async fn open(
    client: Client,
    tls: Option<&tokio_native_tls::TlsAcceptor>,
) -> io::Result<(Stream, bool)> {
    let _ = client.stream.set_nodelay(true);
    if !client.implicit_tls {
        return Ok((
            BufReader::new(Box::new(client.stream) as Box<dyn Io>),
            false,
        ));
    }
    let Some(acceptor) = tls else {
        return Err(io::Error::other("implicit TLS without a certificate"));
    };
    let tls = timeout(HANDSHAKE_TIMEOUT, acceptor.accept(client.stream))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
        .map_err(io::Error::other)?;
    Ok((BufReader::new(Box::new(tls) as Box<dyn Io>), true))
}

/// Starts TLS on a connection after STARTTLS / STLS was answered. Whatever the client sent
/// after the command, before the handshake, is thrown away (RFC 3207, 4; RFC 2595, 3.1: no
/// plain-text command injection).
pub async fn start_tls(
    stream: Stream,
    acceptor: &tokio_native_tls::TlsAcceptor,
) -> io::Result<Stream> {
    let inner = stream.into_inner();
    let tls = timeout(HANDSHAKE_TIMEOUT, acceptor.accept(inner))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
        .map_err(io::Error::other)?;
    Ok(BufReader::new(Box::new(tls) as Box<dyn Io>))
}

/// Writes `bytes` and flushes, within `limit` (a client that does not read is cut off).
pub async fn send(stream: &mut Stream, bytes: &[u8], limit: Duration) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    match timeout(limit, async {
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client does not read",
        )),
    }
}

/// Paces a session: at most `per_second` commands a second on average (a burst of as many
/// is allowed); `wait` sleeps as long as needed before the next one.
#[derive(Debug)]
pub struct Pace {
    per_second: f64,
    tokens: f64,
    last: tokio::time::Instant,
}

impl Pace {
    pub fn new(per_second: u32) -> Pace {
        let p = per_second.max(1) as f64;
        Pace {
            per_second: p,
            tokens: p,
            last: tokio::time::Instant::now(),
        }
    }

    pub async fn wait(&mut self) {
        let now = tokio::time::Instant::now();
        self.tokens =
            (self.tokens + (now - self.last).as_secs_f64() * self.per_second).min(self.per_second);
        self.last = now;
        if self.tokens < 1.0 {
            let need = (1.0 - self.tokens) / self.per_second;
            tokio::time::sleep(Duration::from_secs_f64(need)).await;
            self.tokens = 1.0;
            self.last = tokio::time::Instant::now();
        }
        self.tokens -= 1.0;
    }
}
