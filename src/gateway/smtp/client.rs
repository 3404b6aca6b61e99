//! The SMTP client of the outbound gateway: one connection to a smart host or an MX host,
//! EHLO, STARTTLS when offered (opportunistic: the peer's certificate is not verified, as
//! between MTAs without DANE), MAIL, one RCPT per recipient, DATA with dot-stuffing, QUIT.
//! Every read and write has a time limit.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Longest reply line read from a server.
const MAX_REPLY_LINE: usize = 4096;
/// Most lines of one multi-line reply.
const MAX_REPLY_LINES: usize = 100;

/// A server's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn text(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" / "))
    }
    pub fn positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
    pub fn permanent(&self) -> bool {
        self.code >= 500
    }
}

/// What became of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Delivered(String),
    /// Try again later (4xx, or the connection failed).
    Transient(String),
    /// Give up and report (5xx).
    Permanent(String),
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connect: Duration,
    pub command: Duration,
    pub data: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        // RFC 5321 4.5.3.2 suggests minutes; these keep a stuck peer from holding a worker
        Limits {
            connect: Duration::from_secs(30),
            command: Duration::from_secs(300),
            data: Duration::from_secs(600),
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Conn {
    io: BufReader<Box<dyn Io>>,
    limits: Limits,
}

impl Conn {
    async fn reply(&mut self, wait: Duration) -> Result<Reply, String> {
        let mut lines = Vec::new();
        loop {
            let mut buf = Vec::new();
            let n = timeout(wait, read_line(&mut self.io, &mut buf))
                .await
                .map_err(|_| "timed out waiting for the server".to_string())??;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
            let line = String::from_utf8_lossy(&buf).trim_end().to_string();
            if line.len() < 3 || !line.as_bytes()[..3].iter().all(u8::is_ascii_digit) {
                return Err(format!("not an SMTP reply: {line:?}"));
            }
            let code: u16 = line[..3]
                .parse()
                .map_err(|_| format!("bad reply {line:?}"))?;
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_string());
            if lines.len() > MAX_REPLY_LINES {
                return Err("the server's reply is too long".into());
            }
            if last {
                return Ok(Reply { code, lines });
            }
        }
    }

    async fn command(&mut self, cmd: &str) -> Result<Reply, String> {
        let wait = self.limits.command;
        timeout(wait, async {
            let w = self.io.get_mut();
            w.write_all(cmd.as_bytes()).await?;
            w.write_all(b"\r\n").await?;
            w.flush().await
        })
        .await
        .map_err(|_| "timed out sending a command".to_string())?
        .map_err(|e| e.to_string())?;
        self.reply(wait).await
    }
}

async fn read_line<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> Result<usize, String> {
    let mut total = 0;
    loop {
        let chunk = r.fill_buf().await.map_err(|e| e.to_string())?;
        if chunk.is_empty() {
            return Ok(total);
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        buf.extend_from_slice(&chunk[..take]);
        r.consume(take);
        total += take;
        if buf.len() > MAX_REPLY_LINE {
            return Err("a reply line is too long".into());
        }
        if done {
            return Ok(total);
        }
    }
}

/// The message with CRLF line ends, dot-stuffed, ending in CRLF . CRLF.
pub fn dot_stuff(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 64);
    for line in content.split_inclusive(|b| *b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

fn capabilities(ehlo: &Reply) -> Vec<String> {
    ehlo.lines
        .iter()
        .skip(1)
        .map(|l| l.trim().to_ascii_uppercase())
        .collect()
}

/// Sends one message to `host:port` for `recipients`; every recipient gets its fate (in no
/// particular order). A failure before the recipients are known (connection, greeting, MAIL)
/// is that fate for them all.
pub async fn send(
    target: &str,
    helo: &str,
    sender: Option<&str>,
    recipients: &[String],
    content: &[u8],
    limits: Limits,
) -> Vec<(String, Fate)> {
    match session(target, helo, sender, recipients, content, limits).await {
        Ok(fates) => fates,
        Err(fate) => recipients
            .iter()
            .map(|r| (r.clone(), fate.clone()))
            .collect(),
    }
}

async fn session(
    target: &str,
    helo: &str,
    sender: Option<&str>,
    recipients: &[String],
    content: &[u8],
    limits: Limits,
) -> Result<Vec<(String, Fate)>, Fate> {
    let t = |e: String| Fate::Transient(format!("{target}: {e}"));
    let tcp = timeout(limits.connect, TcpStream::connect(target))
        .await
        .map_err(|_| t("connection timed out".into()))?
        .map_err(|e| t(format!("cannot connect: {e}")))?;
    let mut c = Conn {
        io: BufReader::new(Box::new(tcp)),
        limits,
    };
    let greeting = c.reply(limits.command).await.map_err(t)?;
    if !greeting.positive() {
        return Err(fate_of(target, &greeting));
    }
    let mut ehlo = c.command(&format!("EHLO {helo}")).await.map_err(t)?;
    if !ehlo.positive() {
        ehlo = c.command(&format!("HELO {helo}")).await.map_err(t)?;
        if !ehlo.positive() {
            return Err(fate_of(target, &ehlo));
        }
    }
    if capabilities(&ehlo).iter().any(|c| c == "STARTTLS") {
        let r = c.command("STARTTLS").await.map_err(t)?;
        if r.code == 220 {
            let host = target.rsplit_once(':').map(|(h, _)| h).unwrap_or(target);
            let connector = native_tls::TlsConnector::builder()
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true)
                .build()
                .map_err(|e| t(format!("TLS: {e}")))?;
            let connector = tokio_native_tls::TlsConnector::from(connector);
            let inner = c.io.into_inner();
            let tls = timeout(limits.command, connector.connect(host, inner))
                .await
                .map_err(|_| t("TLS handshake timed out".into()))?
                .map_err(|e| t(format!("TLS handshake: {e}")))?;
            c = Conn {
                io: BufReader::new(Box::new(tls)),
                limits,
            };
            ehlo = c.command(&format!("EHLO {helo}")).await.map_err(t)?;
            if !ehlo.positive() {
                return Err(fate_of(target, &ehlo));
            }
        }
    }
    let caps = capabilities(&ehlo);
    let mut mail = format!("MAIL FROM:<{}>", sender.unwrap_or(""));
    if caps.iter().any(|c| c.starts_with("SIZE")) {
        mail.push_str(&format!(" SIZE={}", content.len()));
    }
    if content.iter().any(|b| *b >= 0x80) && caps.iter().any(|c| c == "8BITMIME") {
        mail.push_str(" BODY=8BITMIME");
    }
    let r = c.command(&mail).await.map_err(t)?;
    if !r.positive() {
        return Err(fate_of(target, &r));
    }
    let mut fates = Vec::with_capacity(recipients.len());
    let mut accepted = Vec::new();
    for rcpt in recipients {
        let r = c.command(&format!("RCPT TO:<{rcpt}>")).await.map_err(t)?;
        if r.positive() {
            accepted.push(rcpt.clone());
        } else {
            fates.push((rcpt.clone(), fate_of(target, &r)));
        }
    }
    if accepted.is_empty() {
        let _ = c.command("QUIT").await;
        return Ok(fates);
    }
    let r = c.command("DATA").await.map_err(t)?;
    if r.code != 354 {
        let f = fate_of(target, &r);
        fates.extend(accepted.into_iter().map(|a| (a, f.clone())));
        return Ok(fates);
    }
    let data = dot_stuff(content);
    let wait = limits.data;
    timeout(wait, async {
        let w = c.io.get_mut();
        w.write_all(&data).await?;
        w.flush().await
    })
    .await
    .map_err(|_| t("timed out sending the message".into()))?
    .map_err(|e| t(e.to_string()))?;
    // from here, a lost reply may mean the message went: it will be sent again (at least once)
    let r = c.reply(wait).await.map_err(t)?;
    let f = if r.positive() {
        Fate::Delivered(format!("{target}: {}", r.text()))
    } else {
        fate_of(target, &r)
    };
    fates.extend(accepted.into_iter().map(|a| (a, f.clone())));
    let _ = c.command("QUIT").await;
    Ok(fates)
}

fn fate_of(target: &str, r: &Reply) -> Fate {
    let text = format!("{target}: {}", r.text());
    if r.permanent() {
        Fate::Permanent(text)
    } else {
        Fate::Transient(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing_and_line_ends() {
        assert_eq!(
            dot_stuff(b"a\n.b\r\n..c"),
            b"a\r\n..b\r\n...c\r\n.\r\n".to_vec()
        );
        assert_eq!(dot_stuff(b""), b".\r\n".to_vec());
    }
}
