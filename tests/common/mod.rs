//! Shared by the integration tests: a fresh store in a temporary directory, and the real
//! `esmail` and `iofcmgr` binaries run against it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Node {
    pub dir: tempfile::TempDir,
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "command failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn esmail_bin() -> &'static str {
    env!("CARGO_BIN_EXE_esmail")
}

pub fn iofcmgr_bin() -> &'static str {
    env!("CARGO_BIN_EXE_iofcmgr")
}

/// A command with a clean environment as far as esmail is concerned.
pub fn command(bin: &str, dir: &Path) -> Command {
    let mut c = Command::new(bin);
    c.current_dir(dir)
        .env_remove("ESMAIL_STORE")
        .env_remove("ESMAIL_DB_PASSWORD")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    c
}

impl Node {
    /// A new directory with no store yet.
    pub fn empty() -> Node {
        Node {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A new store initialised with `esmail init --domain acme.com`. Its SMTP gateway and its
    /// IOLISTENER have no TCP listener (port 0), so that nodes of tests running side by side do
    /// not compete for a port; a test that speaks SMTP, POP3 or IMAP gives them free ports.
    pub fn new() -> Node {
        let n = Node::empty();
        n.esmail(&["init", "--domain", "acme.com"]).ok();
        n.iofcmgr(
            "register paramvalue server=smtpgw instance=1 parameter=port value=0;\n\
             register paramvalue server=iolistener instance=1 parameter=pop3_port value=0;\n\
             register paramvalue server=iolistener instance=1 parameter=imap_port value=0;\n\
             register paramvalue server=iolistener instance=1 parameter=pop3s_port value=0;\n\
             register paramvalue server=iolistener instance=1 parameter=imaps_port value=0;",
        )
        .ok();
        n
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("esmail-data/esmail.db")
    }

    pub fn url(&self) -> String {
        format!("sqlite:{}", self.db().display())
    }

    pub fn esmail(&self, args: &[&str]) -> Run {
        command(esmail_bin(), self.path())
            .args(args)
            .output()
            .expect("run esmail")
            .into()
    }

    /// Runs iofcmgr with `script` on standard input.
    pub fn iofcmgr(&self, script: &str) -> Run {
        self.iofcmgr_args(&[], script)
    }

    pub fn iofcmgr_args(&self, args: &[&str], script: &str) -> Run {
        let mut child = command(iofcmgr_bin(), self.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run iofcmgr");
        let mut stdin = child.stdin.take().expect("stdin");
        let text = script.to_string();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
        });
        let out = child.wait_with_output().expect("iofcmgr output");
        writer.join().expect("writer");
        out.into()
    }

    /// `fetch` output parsed into objects of `(attr, value)` lines.
    pub fn fetch(&self, statement: &str) -> Vec<Vec<(String, String)>> {
        parse_entries(&self.iofcmgr(statement).ok().stdout)
    }
}

pub fn parse_entries(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let (k, v) = line.split_once('=').expect("attr=value line");
        let mut v = v.to_string();
        if v.starts_with('"') {
            // a quoted value ends at an unpaired closing quote, maybe lines later
            while !closed(&v) {
                match lines.next() {
                    Some(more) => {
                        v.push('\n');
                        v.push_str(more);
                    }
                    None => break,
                }
            }
            v = v[1..v.len() - 1].replace("\"\"", "\"");
        }
        cur.push((k.to_string(), v));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn closed(v: &str) -> bool {
    let inner = &v[1..];
    let quotes = inner.chars().filter(|c| *c == '"').count();
    inner.ends_with('"') && quotes % 2 == 1
}

pub fn attr<'a>(entry: &'a [(String, String)], name: &str) -> Option<&'a str> {
    entry
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An argon2id hash of "secret", as another system would export it.
pub const SECRET_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$gLmlWrCH3aG0JZLLs+X7LA$diKLxOdS4DdmzAFQlhZ4yfMm+DbvXNzfj4KpRkUwKro";

// ------------------------------------------------------------------ waiting, ports, children

use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A TCP port free on the loopback interface right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `f` holds, checking every 200 ms; fails after `secs` seconds.
pub fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until `f` gives a value, checking every 200 ms; fails after `secs` seconds.
pub fn wait_some<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A running `esmail start` (or any child): SIGTERM on drop, SIGKILL if it has not ended 20
/// seconds later, so that no node outlives its test, even a failed one.
pub struct Started(pub std::process::Child);

impl Started {
    pub fn pid(&self) -> i32 {
        self.0.id() as i32
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        // never signal a pid that was already reaped (it may be someone else's by now)
        if let Ok(Some(_)) = self.0.try_wait() {
            return;
        }
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether a process exists.
pub fn alive(pid: i32) -> bool {
    unsafe { libc::kill(pid, 0) == 0 }
}

// ------------------------------------------------------------------ python clients

/// Runs `python3 -c script args...`.
pub fn python(script: &str, args: &[&str]) -> Run {
    python_with_input(script, args, b"")
}

/// Runs `python3 -c script args...` with `input` on its standard input.
pub fn python_with_input(script: &str, args: &[&str], input: &[u8]) -> Run {
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("python3 output");
    writer.join().expect("writer");
    out.into()
}

/// Runs a client script of tests/clients/ with python3.
pub fn python_client(file: &str, args: &[&str]) -> Run {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(file);
    std::process::Command::new("python3")
        .arg(path)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("python3")
        .into()
}

const PY_SEND_RAW: &str = r#"
import smtplib, sys
port, sender, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = sys.stdin.buffer.read()
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=60)
refused = s.sendmail(sender, [rcpt], msg)
assert not refused, refused
s.quit()
"#;

/// Sends `message` (exact bytes, CRLF line ends) by SMTP (python smtplib) to the gateway on
/// `port`; fails the test if the gateway refuses it.
pub fn send_raw(port: u16, from: &str, to: &str, message: &[u8]) {
    let r = python_with_input(PY_SEND_RAW, &[&port.to_string(), from, to], message);
    assert_eq!(
        r.code, 0,
        "sending to {to} failed:\n{}\n{}",
        r.stdout, r.stderr
    );
}

/// The message `send_mail` sends: a few headers and `body` (`\n` line ends made CRLF).
pub fn message(from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    let body = body.replace("\r\n", "\n").replace('\n', "\r\n");
    let mut m = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\
         Message-ID: <{}.{}@example.org>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}",
        std::process::id(),
        NEXT_MSG.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    if !m.ends_with("\r\n") {
        m.push_str("\r\n");
    }
    m.into_bytes()
}

static NEXT_MSG: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Sends a simple message by SMTP; returns the bytes sent (as the store keeps them, after the
/// gateway's trace header).
pub fn send_mail(port: u16, from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    let m = message(from, to, subject, body);
    send_raw(port, from, to, &m);
    m
}

// ------------------------------------------------------------------ a running node

/// The TCP ports of a running node (all on 127.0.0.1).
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub smtp: u16,
    pub pop3: u16,
    pub imap: u16,
    pub pop3s: u16,
    pub imaps: u16,
}

impl Ports {
    pub fn free() -> Ports {
        Ports {
            smtp: free_port(),
            pop3: free_port(),
            imap: free_port(),
            pop3s: free_port(),
            imaps: free_port(),
        }
    }
}

/// `esmail start` on a node, with SMTP and IOLISTENER on free ports; SIGTERMs the Guardian
/// when dropped (before the node's directory goes).
pub struct Running {
    guardian: Started,
    pub ports: Ports,
    pub node: Node,
}

impl std::ops::Deref for Running {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.node
    }
}

/// Generous: these wait for events, they do not measure speed.
pub const WAIT_SECS: u64 = 60;

impl Running {
    /// Sets the ports, runs `script` through iofcmgr (users, parameters), starts the node and
    /// waits until SMTP answers and IOLISTENER passes POP3 and IMAP clients to a server that
    /// greets them.
    pub fn start(node: Node, script: &str) -> Running {
        Running::start_for(node, script, &["SMTP", "POP3", "IMAP"])
    }

    /// As `start`, waiting only for the protocols named (of SMTP, POP3, IMAP).
    pub fn start_for(node: Node, script: &str, ready: &[&str]) -> Running {
        Running::start_on(node, Ports::free(), script, ready)
    }

    /// As `start_for`, on the ports given.
    pub fn start_on(node: Node, ports: Ports, script: &str, ready: &[&str]) -> Running {
        node.iofcmgr(&format!(
            "register paramvalue server=smtpgw instance=1 parameter=port value={};\n\
             register paramvalue server=iolistener instance=1 parameter=pop3_port value={};\n\
             register paramvalue server=iolistener instance=1 parameter=imap_port value={};\n\
             register paramvalue server=iolistener instance=1 parameter=pop3s_port value={};\n\
             register paramvalue server=iolistener instance=1 parameter=imaps_port value={};\n\
             {script}",
            ports.smtp, ports.pop3, ports.imap, ports.pop3s, ports.imaps
        ))
        .ok();
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.path().join("start.out"))
            .unwrap();
        let child = command(esmail_bin(), node.path())
            .arg("start")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("esmail start");
        let r = Running {
            guardian: Started(child),
            ports,
            node,
        };
        r.wait_ready(ready);
        r
    }

    /// Waits until SMTP, POP3 and IMAP greet (a POP3 or IMAP greeting comes from a protocol
    /// server instance the listener passed the connection to).
    pub fn wait_ready(&self, ready: &[&str]) {
        let until = Instant::now() + Duration::from_secs(WAIT_SECS);
        for (what, port, good) in [
            ("SMTP", self.ports.smtp, "220"),
            ("POP3", self.ports.pop3, "+OK"),
            ("IMAP", self.ports.imap, "* OK"),
        ] {
            if !ready.contains(&what) {
                continue;
            }
            loop {
                let g = greeting(port);
                if g.as_deref().is_some_and(|g| g.starts_with(good)) {
                    break;
                }
                if Instant::now() > until {
                    panic!(
                        "the node did not get ready: {what} on {port} said {g:?}\n{}",
                        self.logs()
                    );
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }

    pub fn guardian_pid(&self) -> i32 {
        self.guardian.pid()
    }

    /// Stops the node (SIGTERM to the Guardian, waiting until it has ended) and gives its
    /// directory back.
    pub fn stop(self) -> Node {
        let Running { guardian, node, .. } = self;
        drop(guardian);
        node
    }

    /// Everything the node logged (start.out and esmail-data/log/*), for failure messages.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        let mut files = vec![self.path().join("start.out")];
        if let Ok(rd) = std::fs::read_dir(self.path().join("esmail-data/log")) {
            let mut more: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            more.sort();
            files.extend(more);
        }
        for f in files {
            let t = std::fs::read_to_string(&f).unwrap_or_default();
            // the end of each log is what matters
            let start = t.len().saturating_sub(6000);
            let start = (start..t.len())
                .find(|i| t.is_char_boundary(*i))
                .unwrap_or(0);
            text.push_str(&format!("== {}\n{}\n", f.display(), &t[start..]));
        }
        text
    }

    /// Sends a message by SMTP from someone@example.org; returns its bytes.
    pub fn send(&self, to: &str, subject: &str, body: &str) -> Vec<u8> {
        send_mail(self.ports.smtp, "someone@example.org", to, subject, body)
    }

    /// Waits until `user`'s INBOX holds at least `n` messages (read from the store).
    pub fn wait_inbox(&self, user: &str, n: i64) {
        let until = Instant::now() + Duration::from_secs(WAIT_SECS);
        loop {
            let c = self.folder_count(user, "INBOX");
            if c >= n {
                return;
            }
            if Instant::now() > until {
                panic!(
                    "{user}'s INBOX holds {c} messages, not {n}\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `probe;` (or `probe ARGS;`) parsed.
    pub fn probe(&self, args: &str) -> Vec<Vec<(String, String)>> {
        let r = if args.is_empty() {
            self.iofcmgr("probe;")
        } else {
            self.iofcmgr(&format!("probe {args};"))
        };
        assert_eq!(r.code, 0, "probe failed: {}\n{}", r.stdout, r.stderr);
        parse_entries(&r.stdout)
    }

    /// The `show processes;` entry of an instance.
    pub fn process(&self, server: &str, instance: &str) -> Option<Vec<(String, String)>> {
        let r = self.iofcmgr("show processes;");
        if r.code != 0 {
            return None;
        }
        parse_entries(&r.stdout)
            .into_iter()
            .find(|e| attr(e, "server") == Some(server) && attr(e, "instance") == Some(instance))
    }

    /// Waits until an instance runs; returns its pid.
    pub fn running_pid(&self, server: &str, instance: &str) -> i32 {
        wait_some(&format!("{server}{instance} to run"), WAIT_SECS, || {
            let e = self.process(server, instance)?;
            if !attr(&e, "state")?.eq_ignore_ascii_case("running") {
                return None;
            }
            attr(&e, "pid")?.parse().ok()
        })
    }
}

/// The first line a server sends on `port`, if any within 5 seconds.
pub fn greeting(port: u16) -> Option<String> {
    use std::io::Read;
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while buf.len() < 4096 {
        match s.read(&mut b) {
            Ok(1) => {
                buf.push(b[0]);
                if b[0] == b'\n' {
                    break;
                }
            }
            _ => break,
        }
    }
    (!buf.is_empty()).then(|| String::from_utf8_lossy(&buf).trim_end().to_string())
}

impl Node {
    /// Messages in a folder of an account (by the account's name), read from the store.
    pub fn folder_count(&self, user: &str, folder: &str) -> i64 {
        let c = match rusqlite::Connection::open(self.db()) {
            Ok(c) => c,
            Err(_) => return 0,
        };
        c.busy_timeout(Duration::from_secs(10)).ok();
        c.query_row(
            "SELECT COUNT(*) FROM es_folder_message fm
             JOIN es_folder f ON f.folder_id = fm.folder_id
             JOIN es_dir_object o ON o.object_id = f.owner_account_id
             WHERE o.name_key = lower(?1) AND f.folder_path = ?2",
            rusqlite::params![user, folder],
            |r| r.get(0),
        )
        .unwrap_or(0)
    }

    /// A read-only connection to the embedded store.
    pub fn sqlite(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.db()).expect("open the store");
        c.busy_timeout(Duration::from_secs(10)).ok();
        c
    }
}

/// A client script of tests/clients/ running in the background: its output lines arrive on a
/// channel; closing its standard input (`close_stdin`) tells the scripts that wait on it to
/// finish. Killed on drop.
pub struct Background {
    pub child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    stdin: Option<std::process::ChildStdin>,
}

impl Background {
    pub fn start(file: &str, args: &[&str]) -> Background {
        use std::io::{BufRead, Read};
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/clients")
            .join(file);
        let mut child = std::process::Command::new("python3")
            .arg("-u")
            .arg(path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3");
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let keep = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                keep.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdin = child.stdin.take();
        Background {
            child,
            lines: rx,
            stderr,
            stdin,
        }
    }

    /// The next output line, if one comes within `secs` seconds.
    pub fn line(&self, secs: u64) -> Option<String> {
        self.lines.recv_timeout(Duration::from_secs(secs)).ok()
    }

    /// The next output line that starts with `prefix` (others are skipped); fails the test
    /// with the script's error output if none comes within `secs` seconds.
    pub fn expect(&self, prefix: &str, secs: u64) -> String {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => continue,
                Err(_) => panic!(
                    "no {prefix:?} line from the client; its errors:\n{}",
                    self.stderr()
                ),
            }
        }
    }

    /// Lines printed so far and not yet read.
    pub fn pending(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Closes its standard input and waits for it to end (up to `secs` seconds); the exit
    /// code, or None if it had to be killed.
    pub fn finish(&mut self, secs: u64) -> Option<i32> {
        self.close_stdin();
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s.code().unwrap_or(-1));
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seconds since the epoch, as python's time.time() gives them.
pub fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Runs a client script of `tests/clients/`; fails with what it printed and the node's logs.
pub fn client(r: &Running, file: &str, args: &[&str]) -> String {
    let out = python_client(file, args);
    assert_eq!(
        out.code,
        0,
        "{file} failed:\n--- stdout\n{}\n--- stderr\n{}\n--- node\n{}",
        out.stdout,
        out.stderr,
        r.logs()
    );
    out.stdout
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A store made by `esmail init` plus an iofcmgr script, opened both through esmail's store
/// (to call its functions as a process would) and with rusqlite (to look at or plant rows).
pub struct Fixture {
    pub node: Node,
    pub store: esmail::store::Store,
    pub db: rusqlite::Connection,
    pub node_id: i64,
}

impl Fixture {
    /// A new store with the directory made by `script` (iofcmgr).
    pub fn new(script: &str) -> Fixture {
        use esmail::store::{OpenOptions, Store, StoreUrl};
        let node = Node::new();
        if !script.trim().is_empty() {
            node.iofcmgr(script).ok();
        }
        let store = Store::open(&StoreUrl::Sqlite(node.db()), &OpenOptions::default())
            .expect("open the store");
        let db = rusqlite::Connection::open(node.db()).expect("open the store file");
        db.busy_timeout(Duration::from_secs(30)).unwrap();
        let node_id: i64 = db
            .query_row(
                "SELECT CAST(setting_value AS INTEGER) FROM es_setting WHERE setting_name = 'local_node_id'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        Fixture {
            node,
            store,
            db,
            node_id,
        }
    }
}
