//! The inbound SMTP gateway, served from the library on 127.0.0.1:0 against a fresh store,
//! driven by real clients (python3's smtplib, swaks) and raw sockets; results are read back
//! from the store with rusqlite.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Node;
use esmail::gateway::smtp::{serve, SmtpConfig};
use esmail::store::{OpenOptions, Store, StoreUrl};
use sha2::{Digest, Sha256};

// ------------------------------------------------------------------ a running gateway

struct Gateway {
    node: Node,
    port: u16,
    stop: tokio::sync::watch::Sender<bool>,
    done: Option<tokio::task::JoinHandle<()>>,
    rt: Option<tokio::runtime::Runtime>,
}

/// A store with jdoe@acme.com (password "secret") and a gateway on it, on 127.0.0.1.
fn gateway(tweak: impl FnOnce(&mut SmtpConfig)) -> Gateway {
    gateway_on(seeded(), Ipv4Addr::LOCALHOST.into(), tweak)
}

fn seeded() -> Node {
    let n = Node::new();
    n.iofcmgr("create person username=jdoe password=secret quota=0;")
        .ok();
    n
}

fn gateway_on(node: Node, bind: std::net::IpAddr, tweak: impl FnOnce(&mut SmtpConfig)) -> Gateway {
    let store = Store::open(&StoreUrl::Sqlite(node.db()), &OpenOptions::default()).expect("store");
    let mut cfg = SmtpConfig::load(&store, |n| {
        (n == "hostname").then(|| "mx.acme.com".to_string())
    })
    .expect("config");
    assert!(cfg.tls.is_some(), "esmail init made a TLS identity");
    cfg.shutdown_grace = Duration::from_secs(5);
    tweak(&mut cfg);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(SocketAddr::new(bind, 0)))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let done = rt.spawn(serve(Arc::new(store), cfg, listener, rx));
    Gateway {
        node,
        port,
        stop,
        done: Some(done),
        rt: Some(rt),
    }
}

impl Gateway {
    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.node.db()).expect("open the store")
    }

    /// Asks the server to stop and waits until it has (at most `within`).
    fn shutdown(&mut self, within: Duration) -> bool {
        let _ = self.stop.send(true);
        let (Some(rt), Some(done)) = (self.rt.as_ref(), self.done.take()) else {
            return true;
        };
        rt.block_on(async { tokio::time::timeout(within, done).await.is_ok() })
    }

    fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).expect("count")
    }

    fn entries(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM es_queue_entry")
    }

    /// (sender, submitted_by, recipients, content, sha256, msgid, not_before) of the entry.
    fn entry(&self, guid: &str) -> Entry {
        let db = self.db();
        let (entry_id, queue, sender, submitted_by, message_id, not_before): (
            i64,
            String,
            Option<String>,
            Option<i64>,
            i64,
            Option<String>,
        ) = db
            .query_row(
                "SELECT entry_id, queue_name, sender_address, submitted_by, message_id, not_before
                 FROM es_queue_entry WHERE guid = ?1",
                [guid],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .unwrap_or_else(|e| panic!("no entry {guid}: {e}"));
        assert_eq!(queue, "SUBMISSION");
        let mut st = db
            .prepare("SELECT address FROM es_queue_recipient WHERE entry_id = ?1 ORDER BY rcpt_pos")
            .expect("prepare");
        let recipients = st
            .query_map([entry_id], |r| r.get::<_, String>(0))
            .expect("recipients")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows");
        let (content, sha256, msgid, size): (Vec<u8>, String, Option<String>, i64) = db
            .query_row(
                "SELECT content, sha256, rfc822_msgid, size_bytes FROM es_message WHERE message_id = ?1",
                [message_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("message");
        assert_eq!(size as usize, content.len());
        Entry {
            sender,
            submitted_by,
            recipients,
            content,
            sha256,
            msgid,
            not_before,
        }
    }

    fn object_id(&self, name: &str) -> i64 {
        self.db()
            .query_row(
                "SELECT object_id FROM es_dir_object WHERE name_key = ?1",
                [name],
                |r| r.get(0),
            )
            .expect("object")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.shutdown(Duration::from_secs(10));
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

#[derive(Debug)]
struct Entry {
    sender: Option<String>,
    submitted_by: Option<i64>,
    recipients: Vec<String>,
    content: Vec<u8>,
    sha256: String,
    msgid: Option<String>,
    not_before: Option<String>,
}

fn hex_sha256(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The queue id in `250 2.0.0 OK queued as <id>`.
fn queued_id(reply: &str) -> String {
    let (_, id) = reply
        .trim_end()
        .rsplit_once("queued as ")
        .unwrap_or_else(|| panic!("not queued: {reply}"));
    id.trim().to_string()
}

// ------------------------------------------------------------------ a raw client

struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Client {
    fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Client {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }

    fn connect_greeted(port: u16) -> Client {
        let mut c = Client::connect(port);
        let g = c.reply();
        assert!(g.starts_with("220 mx.acme.com"), "{g}");
        c
    }

    /// One whole reply (all its lines); empty at the end of the connection.
    fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            match self.r.read_line(&mut line) {
                Ok(0) | Err(_) => return all,
                Ok(_) => {}
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).expect("send");
    }

    fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// True when the server closed the connection (nothing more to read).
    fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.r.read(&mut b), Ok(0))
    }
}

fn starts(reply: &str, code: &str) {
    assert!(reply.starts_with(code), "expected {code}, got {reply:?}");
}

// ------------------------------------------------------------------ python

fn python(script: &str, args: &[String]) -> (i32, String, String) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PY_SEND: &str = r#"
import smtplib, sys
port, rcpt = int(sys.argv[1]), sys.argv[2]
msg = (b"From: Ann <ann@example.org>\r\nTo: " + rcpt.encode() + b"\r\nSubject: hi\r\n"
       b"Message-ID: <m1@example.org>\r\n\r\nHello\r\n.leading dot\r\n..two dots\r\n"
       b"\xc3\xa9t\xc3\xa9 8bit\r\n.\r\nlast line\r\n")
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=20)
s.ehlo()
print("features", sorted(s.esmtp_features))
print("mail", s.mail("ann@example.org", ["BODY=8BITMIME"]))
code, resp = s.rcpt(rcpt)
print("rcpt", code, resp.decode())
if code == 250:
    code, resp = s.data(msg)
    print("data", code, resp.decode())
s.quit()
"#;

/// The message PY_SEND sends, as the gateway must store it (after its Received header).
const PY_MESSAGE: &[u8] = b"Message-ID: <m1@example.org>\r\n\r\nHello\r\n.leading dot\r\n..two dots\r\n\xc3\xa9t\xc3\xa9 8bit\r\n.\r\nlast line\r\n";

fn line_of<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} line in {out}"))
}

// ------------------------------------------------------------------ the tests

#[test]
fn a_local_message_is_queued_once_with_a_received_header_and_its_exact_bytes() {
    let g = gateway(|_| {});
    let (code, out, err) = python(PY_SEND, &[g.port.to_string(), "jdoe@acme.com".into()]);
    assert_eq!(code, 0, "{out}\n{err}");
    let features = line_of(&out, "features");
    for ext in [
        "pipelining",
        "size",
        "8bitmime",
        "enhancedstatuscodes",
        "smtputf8",
        "starttls",
        "auth",
    ] {
        assert!(features.contains(&format!("'{ext}'")), "{features}");
    }
    assert!(line_of(&out, "rcpt").starts_with("rcpt 250 2.1.5"), "{out}");
    let data = line_of(&out, "data");
    assert!(data.starts_with("data 250 2.0.0 OK queued as "), "{data}");
    let guid = queued_id(data);
    assert_eq!(g.entries(), 1);
    assert_eq!(g.count("SELECT COUNT(*) FROM es_message"), 1);
    let e = g.entry(&guid);
    assert_eq!(e.sender.as_deref(), Some("ann@example.org"));
    assert_eq!(e.submitted_by, None);
    assert_eq!(e.recipients, vec!["jdoe@acme.com"]);
    assert_eq!(e.msgid.as_deref(), Some("m1@example.org"));
    assert_eq!(e.sha256, hex_sha256(&e.content));
    let text = String::from_utf8_lossy(&e.content).into_owned();
    assert!(
        text.starts_with("Received: from client.example ([127.0.0.1])\r\n\tby mx.acme.com (esmail) with ESMTP id "),
        "{text}"
    );
    assert!(
        text.contains(&format!("id {guid}\r\n\tfor <jdoe@acme.com>;")),
        "{text}"
    );
    // the message follows its Received header byte for byte, dot-unstuffed
    let start = text.find("From: Ann").expect("the message");
    let headers_end = text[..start].len();
    let stored = &e.content[headers_end..];
    let mut want = b"From: Ann <ann@example.org>\r\nTo: jdoe@acme.com\r\nSubject: hi\r\n".to_vec();
    want.extend_from_slice(PY_MESSAGE);
    assert_eq!(stored, &want[..]);
    assert!(text[..start].ends_with(" +0000\r\n"), "{text}");
}

#[test]
fn an_unknown_local_recipient_is_refused_at_rcpt_and_nothing_is_queued() {
    let g = gateway(|_| {});
    let mut c = Client::connect_greeted(g.port);
    starts(&c.cmd("EHLO client.example"), "250-mx.acme.com");
    starts(&c.cmd("MAIL FROM:<ann@example.org>"), "250 2.1.0");
    starts(&c.cmd("RCPT TO:<nobody@acme.com>"), "550 5.1.1");
    starts(&c.cmd("RCPT TO:<postmaster>"), "550 5.1.1");
    starts(&c.cmd("DATA"), "554 5.5.1");
    starts(&c.cmd("QUIT"), "221 2.0.0");
    let (code, out, _) = python(PY_SEND, &[g.port.to_string(), "ghost@acme.com".into()]);
    assert_eq!(code, 0);
    assert!(line_of(&out, "rcpt").starts_with("rcpt 550 5.1.1"), "{out}");
    assert_eq!(g.entries(), 0);
    assert_eq!(g.count("SELECT COUNT(*) FROM es_message"), 0);
}

#[test]
fn a_relay_attempt_without_auth_is_refused_and_nothing_is_queued() {
    let g = gateway(|_| {});
    let (code, out, err) = python(
        PY_SEND,
        &[g.port.to_string(), "someone@elsewhere.org".into()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        line_of(&out, "rcpt").starts_with("rcpt 550 5.7.1 relaying denied"),
        "{out}"
    );
    let mut c = Client::connect_greeted(g.port);
    c.cmd("EHLO x");
    starts(&c.cmd("MAIL FROM:<jdoe@acme.com>"), "250");
    starts(&c.cmd("RCPT TO:<victim@example.net>"), "550 5.7.1");
    starts(
        &c.cmd("RCPT TO:<@relay.example:victim@example.net>"),
        "550 5.7.1",
    );
    starts(&c.cmd("DATA"), "554");
    assert_eq!(g.entries(), 0);
}

const PY_TLS_AUTH: &str = r#"
import smtplib, ssl, sys
port, user, password, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, local_hostname="laptop.example", timeout=20)
s.ehlo()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
print("starttls", s.starttls(context=ctx))
s.ehlo()
print("features", sorted(s.esmtp_features), s.esmtp_features.get("auth"))
try:
    print("login", s.login(user, password))
except smtplib.SMTPAuthenticationError as e:
    print("login", e.smtp_code, e.smtp_error.decode())
    s.quit()
    sys.exit(0)
print("mail", s.mail(user))
code, resp = s.rcpt(rcpt)
print("rcpt", code, resp.decode())
code, resp = s.data(b"From: " + user.encode() + b"\r\nSubject: out\r\n\r\nto the world\r\n")
print("data", code, resp.decode())
s.quit()
"#;

#[test]
fn auth_plain_over_starttls_allows_relaying() {
    let g = gateway(|_| {});
    let (code, out, err) = python(
        PY_TLS_AUTH,
        &[
            g.port.to_string(),
            "jdoe@acme.com".into(),
            "secret".into(),
            "friend@elsewhere.org".into(),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(line_of(&out, "starttls").contains("220"), "{out}");
    let features = line_of(&out, "features");
    assert!(
        !features.contains("'starttls'") && features.contains("PLAIN LOGIN"),
        "{features}"
    );
    assert!(line_of(&out, "login").contains("235"), "{out}");
    assert!(line_of(&out, "rcpt").starts_with("rcpt 250 2.1.5"), "{out}");
    let guid = queued_id(line_of(&out, "data"));
    let e = g.entry(&guid);
    assert_eq!(e.recipients, vec!["friend@elsewhere.org"]);
    assert_eq!(e.sender.as_deref(), Some("jdoe@acme.com"));
    assert_eq!(e.submitted_by, Some(g.object_id("jdoe")));
    let text = String::from_utf8_lossy(&e.content);
    assert!(text.contains("with ESMTPSA id "), "{text}");
    assert!(text.starts_with("Received: from laptop.example"), "{text}");

    // a wrong password: 535, recorded, and still no relaying
    let (code, out, _) = python(
        PY_TLS_AUTH,
        &[
            g.port.to_string(),
            "jdoe@acme.com".into(),
            "wrong".into(),
            "friend@elsewhere.org".into(),
        ],
    );
    assert_eq!(code, 0);
    assert!(
        line_of(&out, "login").starts_with("login 535 5.7.8"),
        "{out}"
    );
    assert_eq!(g.entries(), 1);
    // smtplib tries PLAIN, then LOGIN: two failures
    assert_eq!(
        g.count("SELECT failures FROM es_auth_failure WHERE login_name = 'jdoe@acme.com'"),
        2
    );
}

/// This machine's address on a non-loopback interface, if it has one.
fn outside_address() -> Option<std::net::IpAddr> {
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?; // no packet is sent
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn auth_is_offered_to_a_remote_client_only_over_tls() {
    let Some(ip) = outside_address() else {
        eprintln!("skipped: no non-loopback address on this machine");
        return;
    };
    let g = gateway_on(seeded(), ip, |_| {});
    let s = TcpStream::connect((ip, g.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut c = Client {
        r: BufReader::new(s.try_clone().unwrap()),
        w: s,
    };
    starts(&c.reply(), "220");
    let ehlo = c.cmd("EHLO far.example");
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    starts(
        &c.cmd("AUTH PLAIN AGpkb2VAYWNtZS5jb20Ac2VjcmV0"),
        "538 5.7.11",
    );
    // over TLS it is offered, and works
    let script = PY_TLS_AUTH.replace("\"127.0.0.1\"", &format!("\"{ip}\""));
    let (code, out, err) = python(
        &script,
        &[
            g.port.to_string(),
            "jdoe@acme.com".into(),
            "secret".into(),
            "jdoe@acme.com".into(),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(line_of(&out, "login").contains("235"), "{out}");
    assert!(line_of(&out, "data").contains("queued as"), "{out}");
}

#[test]
fn swaks_sends_locally_and_relays_after_auth_over_tls() {
    if Command::new("swaks").arg("--version").output().is_err() {
        eprintln!("skipped: swaks is not installed (apt-get install swaks)");
        return;
    }
    let g = gateway(|_| {});
    let server = format!("127.0.0.1:{}", g.port);
    let out = Command::new("swaks")
        .args([
            "--server",
            &server,
            "--helo",
            "swaks.example",
            "--from",
            "ann@example.org",
            "--to",
            "jdoe@acme.com",
            "--header",
            "Subject: from swaks",
            "--body",
            "hello from swaks",
        ])
        .output()
        .expect("swaks");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("<-  250 2.0.0 OK queued as"), "{text}");
    let out = Command::new("swaks")
        .args([
            "--server",
            &server,
            "--tls",
            "--auth",
            "LOGIN",
            "--auth-user",
            "jdoe@acme.com",
            "--auth-password",
            "secret",
            "--from",
            "jdoe@acme.com",
            "--to",
            "friend@elsewhere.org",
        ])
        .output()
        .expect("swaks");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("235 2.7.0"), "{text}");
    assert!(text.contains("OK queued as"), "{text}");
    assert_eq!(g.entries(), 2);
    let submitted: i64 =
        g.count("SELECT COUNT(*) FROM es_queue_entry WHERE submitted_by IS NOT NULL");
    assert_eq!(submitted, 1);
}

#[test]
fn an_oversized_message_gets_552_and_the_session_goes_on() {
    let g = gateway(|c| c.max_message_bytes = 2000);
    let mut c = Client::connect_greeted(g.port);
    let ehlo = c.cmd("EHLO client.example");
    assert!(ehlo.contains("250-SIZE 2000"), "{ehlo}");
    starts(&c.cmd("MAIL FROM:<ann@example.org> SIZE=5000"), "552 5.3.4");
    starts(&c.cmd("MAIL FROM:<ann@example.org>"), "250 2.1.0");
    starts(&c.cmd("RCPT TO:<jdoe@acme.com>"), "250 2.1.5");
    starts(&c.cmd("DATA"), "354");
    c.send(b"Subject: big\r\n\r\n");
    for _ in 0..60 {
        c.send(&[b'x'; 98]);
        c.send(b"\r\n");
    }
    c.send(b".\r\n");
    starts(&c.reply(), "552 5.3.4");
    assert_eq!(g.entries(), 0);
    // same session, a small one
    starts(&c.cmd("MAIL FROM:<ann@example.org>"), "250 2.1.0");
    starts(&c.cmd("RCPT TO:<jdoe@acme.com>"), "250 2.1.5");
    starts(&c.cmd("DATA"), "354");
    c.send(b"Subject: small\r\n\r\nok\r\n.\r\n");
    starts(&c.reply(), "250 2.0.0 OK queued as");
    assert_eq!(g.entries(), 1);
}

#[test]
fn an_over_quota_recipient_gets_452_while_the_others_are_accepted() {
    let n = seeded();
    n.iofcmgr(
        "create person username=full password=x quota=1000;\n\
         create person username=small password=x quota=1000;\n\
         create person username=off password=x status=disabled;\n\
         create publicalias name=john target=jdoe;\n\
         create publicdl name=team members=\"jdoe, small\";",
    )
    .ok();
    let g = gateway_on(n, Ipv4Addr::LOCALHOST.into(), |_| {});
    g.db()
        .execute(
            "UPDATE es_account SET used_bytes = 1000 WHERE object_id =
               (SELECT object_id FROM es_dir_object WHERE name_key = 'full')",
            [],
        )
        .unwrap();
    let mut c = Client::connect_greeted(g.port);
    c.cmd("EHLO client.example");
    starts(&c.cmd("MAIL FROM:<ann@example.org>"), "250");
    starts(&c.cmd("RCPT TO:<full@acme.com>"), "452 4.2.2");
    starts(&c.cmd("RCPT TO:<jdoe@acme.com>"), "250 2.1.5");
    starts(&c.cmd("RCPT TO:<off@acme.com>"), "550 5.2.1");
    starts(&c.cmd("RCPT TO:<John@ACME.com>"), "250 2.1.5");
    starts(&c.cmd("RCPT TO:<team@acme.com>"), "250 2.1.5");
    starts(&c.cmd("DATA"), "354");
    c.send(b"Subject: quota\r\n\r\nhi\r\n.\r\n");
    let guid = queued_id(&c.reply());
    assert_eq!(
        g.entry(&guid).recipients,
        vec!["jdoe@acme.com", "John@acme.com", "team@acme.com"]
    );
    // the announced size alone exceeds small's quota
    starts(&c.cmd("MAIL FROM:<ann@example.org> SIZE=5000"), "250");
    starts(&c.cmd("RCPT TO:<small@acme.com>"), "552 5.2.2");
    starts(&c.cmd("RCPT TO:<jdoe@acme.com>"), "250");
    starts(&c.cmd("RSET"), "250 2.0.0");
    // quota changes apply at once: no cache
    g.db()
        .execute(
            "UPDATE es_account SET used_bytes = 0 WHERE object_id =
               (SELECT object_id FROM es_dir_object WHERE name_key = 'full')",
            [],
        )
        .unwrap();
    starts(&c.cmd("MAIL FROM:<ann@example.org>"), "250");
    starts(&c.cmd("RCPT TO:<full@acme.com>"), "250 2.1.5");
}

#[test]
fn a_blocked_sender_is_refused_at_mail_from() {
    let g = gateway(|_| {});
    let db = g.db();
    for (kind, pattern) in [
        ("SENDER", "spammer@bad.example"),
        ("SENDER", "*@wild.example"),
        ("DOMAIN", "junk.org"),
    ] {
        db.execute(
            "INSERT INTO es_block_list (block_kind, pattern_key, reason, created_at)
             VALUES (?1, ?2, 'test', '2026-01-01T00:00:00.000000Z')",
            [kind, pattern],
        )
        .unwrap();
    }
    let mut c = Client::connect_greeted(g.port);
    c.cmd("EHLO client.example");
    starts(&c.cmd("MAIL FROM:<Spammer@BAD.example>"), "550 5.7.1");
    starts(&c.cmd("MAIL FROM:<anyone@wild.example>"), "550 5.7.1");
    starts(&c.cmd("MAIL FROM:<x@mx.junk.org>"), "550 5.7.1");
    starts(&c.cmd("MAIL FROM:<x@junk.org>"), "550 5.7.1");
    starts(&c.cmd("RCPT TO:<jdoe@acme.com>"), "503 5.5.1");
    starts(&c.cmd("MAIL FROM:<x@notjunk.org>"), "250 2.1.0");
    starts(&c.cmd("RSET"), "250");
    starts(&c.cmd("MAIL FROM:<>"), "250 2.1.0");
    starts(&c.cmd("RSET"), "250");
    starts(&c.cmd("MAIL FROM:<friend@good.example>"), "250 2.1.0");
    assert_eq!(g.entries(), 0);
}

#[test]
fn pipelined_commands_bad_commands_and_long_lines() {
    let g = gateway(|c| c.max_line_bytes = 1000);
    let mut c = Client::connect_greeted(g.port);
    c.send(
        b"EHLO pipe.example\r\nMAIL FROM:<ann@example.org>\r\nRCPT TO:<jdoe@acme.com>\r\n\
          RCPT TO:<nobody@acme.com>\r\nRCPT TO:<jdoe@acme.com>\r\nDATA\r\n",
    );
    let ehlo = c.reply();
    assert!(ehlo.contains("250-PIPELINING"), "{ehlo}");
    starts(&c.reply(), "250 2.1.0");
    starts(&c.reply(), "250 2.1.5");
    starts(&c.reply(), "550 5.1.1");
    starts(&c.reply(), "250 2.1.5");
    starts(&c.reply(), "354");
    c.send(b"Subject: pipelined\r\n\r\nbody\r\n.\r\nNOOP\r\n");
    let guid = queued_id(&c.reply());
    starts(&c.reply(), "250 2.0.0 OK");
    assert_eq!(g.entry(&guid).recipients, vec!["jdoe@acme.com"]);

    starts(&c.cmd("FROB"), "500 5.5.1");
    starts(&c.cmd("MAIL FROM:ann@example.org"), "501 5.5.4");
    starts(&c.cmd("RCPT TO:<jdoe@acme.com>"), "503 5.5.1");
    starts(&c.cmd(&format!("NOOP {}", "y".repeat(5000))), "500 5.5.2");
    starts(&c.cmd("VRFY jdoe"), "252");
    starts(&c.cmd("HELP"), "214");
    starts(&c.cmd("EXPN team"), "502 5.5.1");
    starts(&c.cmd("NOOP"), "250 2.0.0");
    // a text line over the limit inside DATA: read to the end, refused, session goes on
    starts(&c.cmd("MAIL FROM:<ann@example.org>"), "250");
    starts(&c.cmd("RCPT TO:<jdoe@acme.com>"), "250");
    starts(&c.cmd("DATA"), "354");
    c.send(format!("Subject: long\r\n\r\n{}\r\n.\r\n", "z".repeat(3000)).as_bytes());
    starts(&c.reply(), "500 5.5.2");
    // a message without a header section is refused politely
    starts(&c.cmd("MAIL FROM:<ann@example.org>"), "250");
    starts(&c.cmd("RCPT TO:<jdoe@acme.com>"), "250");
    starts(&c.cmd("DATA"), "354");
    c.send(b"just some words\r\n.\r\n");
    starts(&c.reply(), "554 5.6.0");
    starts(&c.cmd("QUIT"), "221");
    assert!(c.closed());
    assert_eq!(g.entries(), 1);
}

#[test]
fn too_many_errors_close_the_session() {
    let g = gateway(|c| c.max_errors = 3);
    let mut c = Client::connect_greeted(g.port);
    starts(&c.cmd("FROB"), "500 5.5.1");
    starts(&c.cmd("MAIL FROM:<a@b.example>"), "503 5.5.1");
    let last = c.cmd("BLAH");
    starts(&last, "500 5.5.1");
    starts(&c.reply(), "421 4.7.0");
    assert!(c.closed());
}

#[test]
fn an_idle_client_times_out() {
    let g = gateway(|c| c.command_timeout = Duration::from_secs(1));
    let mut c = Client::connect_greeted(g.port);
    starts(&c.cmd("EHLO slow.example"), "250");
    let t = Instant::now();
    starts(&c.reply(), "421 4.4.2");
    assert!(
        t.elapsed() >= Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );
    assert!(c.closed());
    // the server goes on
    let mut d = Client::connect_greeted(g.port);
    starts(&d.cmd("NOOP"), "250");
}

#[test]
fn connections_over_the_limit_get_421() {
    let g = gateway(|c| c.max_connections = 1);
    let mut first = Client::connect_greeted(g.port);
    let mut second = Client::connect(g.port);
    starts(&second.reply(), "421 4.3.2");
    assert!(second.closed());
    starts(&first.cmd("QUIT"), "221");
    assert!(first.closed());
    // the slot is free again once the first session is gone
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = Client::connect(g.port);
        let r = c.reply();
        if r.starts_with("220") {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {r}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn failed_logins_are_delayed_per_client_and_recorded_without_blocking_others() {
    let g = gateway(|_| {});
    let mut c = Client::connect_greeted(g.port);
    c.cmd("EHLO client.example");
    let wrong = "AUTH PLAIN AGpkb2VAYWNtZS5jb20Ad3Jvbmc="; // \0jdoe@acme.com\0wrong
    let t = Instant::now();
    starts(&c.cmd(wrong), "535 5.7.8");
    let first = t.elapsed();
    assert!(first >= Duration::from_millis(450), "{first:?}");
    let t = Instant::now();
    starts(&c.cmd(wrong), "535 5.7.8");
    let second = t.elapsed();
    assert!(second >= Duration::from_millis(950), "{second:?}");
    assert_eq!(
        g.count(
            "SELECT failures FROM es_auth_failure
             WHERE remote_addr = '127.0.0.1' AND login_name = 'jdoe@acme.com'"
        ),
        2
    );
    // AUTH LOGIN with the right password: accepted, and the failures are forgotten
    starts(&c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6");
    starts(&c.cmd("amRvZUBhY21lLmNvbQ=="), "334 UGFzc3dvcmQ6");
    starts(&c.cmd("c2VjcmV0"), "235 2.7.0");
    assert_eq!(g.count("SELECT COUNT(*) FROM es_auth_failure"), 0);
    // an unknown login fails the same way; after three recent failures it waits 4 s, and
    // meanwhile another client is served at once
    g.db()
        .execute(
            "INSERT INTO es_auth_failure VALUES ('127.0.0.1', 'nobody@acme.com', 3, ?1, ?1)",
            [esmail::store::time_to_text(&chrono::Utc::now())],
        )
        .unwrap();
    let mut d = Client::connect_greeted(g.port);
    d.cmd("EHLO x");
    let t = Instant::now();
    d.send(b"AUTH PLAIN AG5vYm9keUBhY21lLmNvbQB4\r\n"); // \0nobody@acme.com\0x
    let mut other = Client::connect_greeted(g.port);
    starts(&other.cmd("NOOP"), "250");
    let other_done = t.elapsed();
    starts(&d.reply(), "535 5.7.8");
    let slow = t.elapsed();
    assert!(slow >= Duration::from_millis(3900), "{slow:?}");
    assert!(other_done < Duration::from_millis(2500), "{other_done:?}");
    assert_eq!(
        g.count("SELECT failures FROM es_auth_failure WHERE login_name = 'nobody@acme.com'"),
        4
    );
}

#[test]
fn a_stop_answers_idle_sessions_with_421_and_lets_a_message_finish() {
    let mut g = gateway(|_| {});
    let mut idle = Client::connect_greeted(g.port);
    starts(&idle.cmd("EHLO idle.example"), "250");
    let mut busy = Client::connect_greeted(g.port);
    busy.cmd("EHLO busy.example");
    starts(&busy.cmd("MAIL FROM:<ann@example.org>"), "250");
    starts(&busy.cmd("RCPT TO:<jdoe@acme.com>"), "250");
    starts(&busy.cmd("DATA"), "354");
    busy.send(b"Subject: in flight\r\n\r\nfirst half\r\n");
    let _ = g.stop.send(true);
    starts(&idle.reply(), "421 4.3.2");
    assert!(idle.closed());
    std::thread::sleep(Duration::from_millis(300));
    busy.send(b"second half\r\n.\r\n");
    starts(&busy.reply(), "250 2.0.0 OK queued as");
    starts(&busy.reply(), "421 4.3.2");
    assert!(g.shutdown(Duration::from_secs(5)), "the server stopped");
    assert_eq!(g.entries(), 1);
    assert!(TcpStream::connect(("127.0.0.1", g.port)).is_err());
}

#[test]
fn a_deferred_delivery_header_holds_the_entry() {
    let g = gateway(|_| {});
    let mut c = Client::connect_greeted(g.port);
    c.cmd("EHLO client.example");
    c.cmd("MAIL FROM:<ann@example.org>");
    c.cmd("RCPT TO:<jdoe@acme.com>");
    starts(&c.cmd("DATA"), "354");
    c.send(b"Subject: later\r\nDeferred-Delivery: Tue, 1 Jul 2036 10:00:00 +0200\r\n\r\nlater\r\n.\r\n");
    let guid = queued_id(&c.reply());
    let e = g.entry(&guid);
    assert_eq!(e.not_before.as_deref(), Some("2036-07-01T08:00:00.000000Z"));
    let next: String = g
        .db()
        .query_row(
            "SELECT next_attempt_at FROM es_queue_entry WHERE guid = ?1",
            [&guid],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(next, "2036-07-01T08:00:00.000000Z");
}

#[test]
fn the_process_reads_its_parameters_serves_and_stops_when_unregistered() {
    let n = seeded();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = rusqlite::Connection::open(n.db()).unwrap();
    // smtpgw instance 1 is registered by `esmail init`
    n.iofcmgr(&format!(
        "register paramvalue server=smtpgw instance=1 parameter=port value={port};\n\
         register paramvalue server=smtpgw instance=1 parameter=bind_address value=127.0.0.1;\n\
         register paramvalue server=smtpgw instance=1 parameter=hostname value=gw.acme.com;\n\
         register paramvalue server=smtpgw instance=1 parameter=max_message_bytes value=5000;\n"
    ))
    .ok();
    let args = esmail::cli::StoreArgs {
        store: Some(n.url()),
        config: None,
    };
    let process = std::thread::spawn(move || esmail::gateway::smtp::run(&args, 1));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut c = loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            break Client {
                r: BufReader::new(s.try_clone().unwrap()),
                w: s,
            };
        }
        assert!(Instant::now() < deadline, "the gateway does not listen");
        std::thread::sleep(Duration::from_millis(50));
    };
    starts(&c.reply(), "220 gw.acme.com ESMTP");
    let ehlo = c.cmd("EHLO client.example");
    assert!(
        ehlo.contains("SIZE 5000") && ehlo.contains("STARTTLS"),
        "{ehlo}"
    );
    starts(&c.cmd("MAIL FROM:<ann@example.org>"), "250");
    starts(&c.cmd("RCPT TO:<jdoe@acme.com>"), "250");
    starts(&c.cmd("DATA"), "354");
    c.send(b"Subject: via the process\r\n\r\nhello\r\n.\r\n");
    starts(&c.reply(), "250 2.0.0 OK queued as");
    // the registration goes: the process stops, answering its idle client first
    db.execute("DELETE FROM es_param_value WHERE type_name = 'smtpgw'", [])
        .unwrap();
    db.execute("DELETE FROM es_process WHERE type_name = 'smtpgw'", [])
        .unwrap();
    starts(&c.reply(), "421 4.3.2");
    assert!(c.closed());
    let t = Instant::now();
    while !process.is_finished() {
        assert!(t.elapsed() < Duration::from_secs(15), "the process goes on");
        std::thread::sleep(Duration::from_millis(50));
    }
    process.join().unwrap().expect("a clean stop");
    let log = std::fs::read_dir(n.path().join("esmail-data/log"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().contains("smtpgw01"))
        .expect("a log file");
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(text.contains("listening on 127.0.0.1:"), "{text}");
    assert!(text.contains("queued "), "{text}");
}
