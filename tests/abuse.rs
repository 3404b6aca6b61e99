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
