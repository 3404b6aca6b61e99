//! Clients that misbehave cannot exhaust a protocol server: while slow clients (a byte at a
//! time), half-open connections, clients that connect and vanish, and clients that ask for
//! large responses and never read them hold their sessions, an ordinary client is still
//! served by the same IMAP4SRV and POP3SRV instances.
mod common;
use common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USER: &str = "jdoe@acme.com";

/// Reads lines until one starts with `prefix` (or the time is up).
fn until(r: &mut BufReader<TcpStream>, prefix: &str, secs: u64) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut line = String::new();
    loop {
        if Instant::now() > deadline {
            return Err(format!("no line starting with {prefix:?} in {secs} s"));
        }
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) => return Err(format!("connection closed before {prefix:?}")),
            Ok(_) if line.starts_with(prefix) => return Ok(line),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => return Err(format!("{e} before {prefix:?}")),
        }
    }
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// An ordinary IMAP session: login, select, fetch a whole message, logout.
fn good_imap(port: u16) -> Result<Duration, String> {
    let started = Instant::now();
    let s = connect(port);
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    until(&mut r, "* OK", 30)?;
    w.write_all(format!("a LOGIN {USER} secret\r\n").as_bytes())
        .unwrap();
    until(&mut r, "a OK", 30)?;
    w.write_all(b"b SELECT INBOX\r\n").unwrap();
    until(&mut r, "b OK", 30)?;
    w.write_all(b"c FETCH 1 (BODY.PEEK[HEADER])\r\n").unwrap();
    until(&mut r, "c OK", 30)?;
    w.write_all(b"d LOGOUT\r\n").unwrap();
    until(&mut r, "d OK", 30)?;
    Ok(started.elapsed())
}

/// An ordinary POP3 session: login, STAT, RETR 1, QUIT.
fn good_pop3(port: u16) -> Result<Duration, String> {
    let started = Instant::now();
    let s = connect(port);
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    until(&mut r, "+OK", 30)?;
    w.write_all(format!("USER {USER}\r\nPASS secret\r\nSTAT\r\n").as_bytes())
        .unwrap();
    until(&mut r, "+OK", 30)?;
    until(&mut r, "+OK", 30)?;
    until(&mut r, "+OK", 30)?;
    w.write_all(b"QUIT\r\n").unwrap();
    until(&mut r, "+OK", 30)?;
    Ok(started.elapsed())
}

#[test]
fn misbehaving_clients_do_not_starve_the_others() {
    let r = Running::start(
        Node::new(),
        "create person username=jdoe domain=acme.com firstname=John lastname=Doe password=secret quota=0;\n",
    );
    // messages large enough that an unread FETCH fills the socket buffers
    let body = "x".repeat(1000) + "\r\n";
    for i in 0..4 {
        r.send(USER, &format!("big {i}"), &body.repeat(1000));
    }
    r.wait_inbox("jdoe", 4);
    let (imap, pop3) = (r.ports.imap, r.ports.pop3);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let mut held = Vec::new();

    // slow clients: a byte every 200 ms, never finishing their line
    for port in [imap, pop3] {
        for _ in 0..10 {
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || {
                let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
                    return;
                };
                for b in b"a LOGIN jdoe@acme.com sec".iter().cycle() {
                    if stop.load(Ordering::Relaxed) || s.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            }));
        }
    }
    // half-open: connected, silent, never closed while the test runs
    for port in [imap, pop3] {
        for _ in 0..20 {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                held.push(s);
            }
        }
    }
    // connect and vanish at once, with a reset
    for port in [imap, pop3] {
        for _ in 0..20 {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                // SO_LINGER 0: the close is a reset
                let l = libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                };
                unsafe {
                    libc::setsockopt(
                        std::os::fd::AsRawFd::as_raw_fd(&s),
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        &l as *const libc::linger as *const libc::c_void,
                        std::mem::size_of::<libc::linger>() as libc::socklen_t,
                    );
                }
                drop(s);
            }
        }
    }
    // never reading: ask for every message, again and again, and read nothing
    for _ in 0..5 {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", imap)) {
            let _ = s.write_all(
                format!(
                    "a LOGIN {USER} secret\r\nb SELECT INBOX\r\n{}",
                    "c FETCH 1:* (BODY.PEEK[])\r\n".repeat(20)
                )
                .as_bytes(),
            );
            held.push(s);
        }
    }
    for _ in 0..5 {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", pop3)) {
            let _ = s.write_all(
                format!("USER {USER}\r\nPASS secret\r\n{}", "RETR 1\r\n".repeat(20)).as_bytes(),
            );
            held.push(s);
        }
    }
    // the others are still served, again and again
    for round in 0..3 {
        good_imap(imap).unwrap_or_else(|e| panic!("IMAP round {round}: {e}\n{}", r.logs()));
        good_pop3(pop3).unwrap_or_else(|e| panic!("POP3 round {round}: {e}\n{}", r.logs()));
    }
    // and the misbehaving sessions are all still there (probe catches up within seconds)
    let count = || {
        r.probe("")
            .iter()
            .filter(|e| attr(e, "session").is_some())
            .count()
    };
    let mut seen = 0;
    let ok = (0..WAIT_SECS * 2).any(|_| {
        seen = count();
        seen >= 40 || {
            std::thread::sleep(Duration::from_millis(500));
            false
        }
    });
    assert!(
        ok,
        "only {seen} sessions in probe: {:?}\n{}",
        r.probe(""),
        r.logs()
    );
    stop.store(true, Ordering::Relaxed);
    for s in &held {
        let _ = s.shutdown(Shutdown::Both);
    }
    for t in threads {
        let _ = t.join();
    }
    // once they are gone, their sessions end and a client is served as before
    good_imap(imap).unwrap_or_else(|e| panic!("IMAP after: {e}"));
    let mut buf = [0u8; 1];
    let mut s = connect(imap);
    assert!(s.read(&mut buf).is_ok());
}

/// Reads until the connection closes; the last line read.
fn last_line_before_eof(r: &mut BufReader<TcpStream>, secs: u64) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (mut line, mut last) = (String::new(), String::new());
    loop {
        if Instant::now() > deadline {
            return Err(format!("still open after {secs} s (last line {last:?})"));
        }
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) => return Ok(last),
            Ok(_) => last = line.clone(),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Ok(last),
        }
    }
}

/// A connection, its greeting read.
fn greeted(port: u16, prefix: &str) -> (TcpStream, BufReader<TcpStream>) {
    let s = connect(port);
    let mut r = BufReader::new(s.try_clone().unwrap());
    until(&mut r, prefix, 30).unwrap();
    (s, r)
}

/// Sends `bytes` one at a time, `gap` apart, until the server closes (or all are sent).
fn drip(mut s: &TcpStream, bytes: &[u8], gap: Duration) {
    for b in bytes {
        if s.write_all(&[*b]).is_err() {
            return;
        }
        std::thread::sleep(gap);
    }
}

#[test]
fn clients_that_never_log_in_or_never_finish_a_command_are_cut_off() {
    let mut script = String::from(
        "create person username=jdoe domain=acme.com firstname=John lastname=Doe password=secret quota=0;\n",
    );
    for server in ["imap4srv", "pop3srv"] {
        for (p, v) in [
            ("login_timeout", "4"),
            ("command_timeout", "3"),
            ("max_unauthenticated_per_address", "5"),
        ] {
            script += &format!(
                "register paramvalue server={server} instance=1 parameter={p} value={v};\n"
            );
        }
    }
    let r = Running::start(Node::new(), &script);
    let (imap, pop3) = (r.ports.imap, r.ports.pop3);

    // silent before login: cut off after the login timeout, not the 30 minutes of idle time
    let t = Instant::now();
    let (_s, mut rd) = greeted(imap, "* OK");
    let last = last_line_before_eof(&mut rd, 30).unwrap();
    assert!(
        last.starts_with("* BYE") && last.contains("no login in time"),
        "{last:?}"
    );
    assert!(t.elapsed() >= Duration::from_secs(3), "{:?}", t.elapsed());
    let (_s, mut rd) = greeted(pop3, "+OK");
    let last = last_line_before_eof(&mut rd, 30).unwrap();
    assert!(
        last.starts_with("-ERR") && last.contains("no login in time"),
        "{last:?}"
    );

    // logged in, a command sent one byte every half second: the whole command has 3 s, and
    // the session ends although bytes keep coming
    let (s, mut rd) = greeted(imap, "* OK");
    (&s).write_all(b"a LOGIN jdoe@acme.com secret\r\n").unwrap();
    until(&mut rd, "a OK", 30).unwrap();
    let dripping = {
        let s = s.try_clone().unwrap();
        std::thread::spawn(move || {
            drip(
                &s,
                b"b NOOP and a great many more arguments ...\r\n",
                Duration::from_millis(500),
            )
        })
    };
    let t = Instant::now();
    let last = last_line_before_eof(&mut rd, 30).unwrap();
    assert!(
        last.starts_with("* BYE") && last.contains("command not completed in time"),
        "{last:?}"
    );
    assert!(t.elapsed() >= Duration::from_secs(2), "{:?}", t.elapsed());
    dripping.join().unwrap();
    let (s, mut rd) = greeted(pop3, "+OK");
    (&s).write_all(b"USER jdoe@acme.com\r\nPASS secret\r\n")
        .unwrap();
    until(&mut rd, "+OK", 30).unwrap();
    until(&mut rd, "+OK", 30).unwrap();
    drip(&s, b"STA", Duration::from_millis(10));
    let last = last_line_before_eof(&mut rd, 30).unwrap();
    assert!(
        last.starts_with("-ERR") && last.contains("command not completed in time"),
        "{last:?}"
    );

    // a logged-in client that merely waits between commands is not cut off; nor is a slow
    // but steady APPEND whose literal is given time by its size
    let (s, mut rd) = greeted(imap, "* OK");
    (&s).write_all(b"a LOGIN jdoe@acme.com secret\r\n").unwrap();
    until(&mut rd, "a OK", 30).unwrap();
    std::thread::sleep(Duration::from_secs(5));
    (&s).write_all(b"b NOOP\r\n").unwrap();
    until(&mut rd, "b OK", 30).unwrap();
    let message = format!("Subject: slow\r\n\r\n{}\r\n", "y".repeat(40_000));
    (&s).write_all(format!("c APPEND INBOX {{{}+}}\r\n", message.len()).as_bytes())
        .unwrap();
    for chunk in message.as_bytes().chunks(4_000) {
        (&s).write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(400));
    }
    (&s).write_all(b"\r\n").unwrap();
    until(&mut rd, "c OK", 30).unwrap();
    (&s).write_all(b"d LOGOUT\r\n").unwrap();
    until(&mut rd, "d OK", 30).unwrap();

    // at most 5 sessions from one address before login; a sixth is told so and closed; once
    // one of them logs in, there is room again
    for (port, greeting) in [(imap, "* OK"), (pop3, "+OK")] {
        let mut waiting: Vec<_> = (0..5).map(|_| greeted(port, greeting)).collect();
        let s = connect(port);
        let mut rd = BufReader::new(s.try_clone().unwrap());
        let last = last_line_before_eof(&mut rd, 30).unwrap();
        assert!(
            last.contains("too many sessions from your address not logged in"),
            "{last:?}"
        );
        let (s, rd) = &mut waiting[0];
        if port == imap {
            s.write_all(b"a LOGIN jdoe@acme.com secret\r\n").unwrap();
            until(rd, "a OK", 30).unwrap();
        } else {
            s.write_all(b"USER jdoe@acme.com\r\nPASS secret\r\n")
                .unwrap();
            until(rd, "+OK", 30).unwrap();
            until(rd, "+OK", 30).unwrap();
        }
        let (_s6, _) = greeted(port, greeting);
    }
}
