//! SPS on `esmail start`: IOLISTENER hands clients to the least busy IMAP4SRV instance, keeps
//! serving when one is killed, refuses clients politely when no instance runs, and an instance
//! serves many sessions on a small connection pool (`probe;` shows it all).
mod common;
use common::*;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

type Entry = Vec<(String, String)>;

fn users(n: usize) -> (String, Vec<String>) {
    let mut script = String::new();
    let mut names = Vec::new();
    for i in 1..=n {
        script.push_str(&format!(
            "create person username=u{i} domain=acme.com firstname=U lastname=N{i} password=secret quota=0;\n"
        ));
        names.push(format!("u{i}@acme.com"));
    }
    (script, names)
}

fn instance<'a>(probe: &'a [Entry], server: &str, n: &str) -> Option<&'a Entry> {
    probe.iter().find(|e| {
        attr(e, "session").is_none()
            && attr(e, "server") == Some(server)
            && attr(e, "instance") == Some(n)
    })
}

fn sessions_of<'a>(probe: &'a [Entry], server: &str) -> Vec<&'a Entry> {
    probe
        .iter()
        .filter(|e| attr(e, "session").is_some() && attr(e, "server") == Some(server))
        .collect()
}

fn num(e: &Entry, a: &str) -> i64 {
    attr(e, a).and_then(|v| v.parse().ok()).unwrap_or(-1)
}

/// Registers and starts imap4srv instance 2; waits until both instances run and have
/// recorded their load.
fn second_imap_instance(r: &Running) -> (i32, i32) {
    r.iofcmgr(
        "register process server=imap4srv instance=2;\nstartup process server=imap4srv instance=2;\n",
    )
    .ok();
    let p1 = r.running_pid("imap4srv", "1");
    let p2 = r.running_pid("imap4srv", "2");
    let mut last = Vec::new();
    let ready = (0..(WAIT_SECS * 5)).any(|_| {
        last = r.probe("server=imap4srv");
        let up = |n| {
            instance(&last, "imap4srv", n).is_some_and(|e| {
                attr(e, "state") == Some("RUNNING")
                    && attr(e, "load_age").is_some_and(|a| !a.is_empty())
            })
        };
        if up("1") && up("2") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
        false
    });
    assert!(ready, "both instances running: {last:?}\n{}", r.logs());
    (p1, p2)
}

#[test]
fn the_listener_spreads_sessions_over_the_running_instances() {
    let (script, names) = users(6);
    let r = Running::start(Node::new(), &script);
    second_imap_instance(&r);
    let mut hold = Background::start(
        "imap_hold.py",
        &[
            &r.ports.imap.to_string(),
            "6",
            "secret",
            &names.join(","),
            "select",
        ],
    );
    let ready = hold.expect("READY", WAIT_SECS);
    assert_eq!(ready, "READY 6 0", "{}", hold.stderr());
    let mut last = Vec::new();
    let seen = (0..(WAIT_SECS * 5)).any(|_| {
        last = r.probe("");
        let ok = ["1", "2"].iter().all(|n| {
            instance(&last, "imap4srv", n).is_some_and(|e| {
                attr(e, "state") == Some("RUNNING")
                    && num(e, "sessions") > 0
                    && num(e, "pool_size") == 4
            })
        });
        let sessions = sessions_of(&last, "imap4srv");
        let users_seen = names
            .iter()
            .filter(|u| {
                sessions.iter().any(|s| {
                    let user = attr(s, "user").unwrap_or("");
                    (user == u.as_str() || Some(user) == u.split('@').next())
                        && attr(s, "client").is_some_and(|c| c.starts_with("127.0.0.1"))
                        && attr(s, "protocol").is_some_and(|p| p.starts_with("IMAP"))
                })
            })
            .count();
        if ok && users_seen == 6 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
        false
    });
    assert!(seen, "probe after 6 sessions: {last:#?}");
    let per: Vec<i64> = ["1", "2"]
        .iter()
        .map(|n| num(instance(&last, "imap4srv", n).unwrap(), "sessions"))
        .collect();
    eprintln!("sessions per instance: {per:?}");
    assert_eq!(per.iter().sum::<i64>(), 6, "{last:#?}");
    for s in sessions_of(&last, "imap4srv") {
        let i = attr(s, "instance").unwrap();
        assert!(i == "1" || i == "2", "{s:?}");
        assert!(!attr(s, "connected").unwrap_or("").is_empty(), "{s:?}");
    }
    assert_eq!(hold.finish(WAIT_SECS), Some(0), "{}", hold.stderr());
}

#[test]
fn new_clients_are_served_while_a_killed_instance_is_restarted() {
    let r = Running::start(Node::new(), &users(1).0);
    let (p1, _p2) = second_imap_instance(&r);
    let mut lp = Background::start(
        "imap_loop.py",
        &[&r.ports.imap.to_string(), "u1@acme.com", "secret"],
    );
    let mut attempts: Vec<(f64, bool, String)> = Vec::new();
    let read = |lp: &Background, attempts: &mut Vec<(f64, bool, String)>| {
        for l in lp.pending() {
            let mut w = l.splitn(3, ' ');
            let t: f64 = w.next().unwrap().parse().unwrap();
            let ok = w.next() == Some("ok");
            attempts.push((t, ok, l.clone()));
        }
    };
    // served before the kill
    wait_for("a few sessions before the kill", WAIT_SECS, || {
        read(&lp, &mut attempts);
        attempts.iter().filter(|a| a.1).count() >= 3
    });
    let killed_at = epoch_now();
    unsafe {
        libc::kill(p1, libc::SIGKILL);
    }
    // the Guardian restarts instance 1
    let new_pid = wait_some("imap4srv1 to come back", WAIT_SECS, || {
        read(&lp, &mut attempts);
        let e = r.process("imap4srv", "1")?;
        let pid: i32 = attr(&e, "pid")?.parse().ok()?;
        (pid != p1 && attr(&e, "state")?.eq_ignore_ascii_case("running")).then_some(pid)
    });
    let back_at = epoch_now();
    assert!(alive(new_pid));
    wait_for("probe to show the new imap4srv1", WAIT_SECS, || {
        let p = r.probe("server=imap4srv instance=1");
        instance(&p, "imap4srv", "1")
            .is_some_and(|e| attr(e, "state") == Some("RUNNING") && num(e, "pid") == new_pid as i64)
    });
    // and clients keep being served after it
    let after = attempts.len();
    wait_for("sessions after the restart", WAIT_SECS, || {
        read(&lp, &mut attempts);
        attempts[after..].iter().filter(|a| a.1).count() >= 5
    });
    lp.finish(WAIT_SECS);
    read(&lp, &mut attempts);
    // a client the listener passed to instance 1 just as it died may be lost; a client that
    // comes half a second later must be served
    let bad: Vec<&String> = attempts
        .iter()
        .filter(|(t, ok, _)| !ok && *t >= killed_at + 0.5)
        .map(|a| &a.2)
        .collect();
    assert!(
        bad.is_empty(),
        "clients failed after the kill (at {killed_at}): {bad:#?}\n{}",
        r.logs()
    );
    let during = attempts
        .iter()
        .filter(|(t, ok, _)| *ok && *t > killed_at && *t < back_at)
        .count();
    eprintln!(
        "restart took {:.2} s; {during} clients served meanwhile; {} attempts in all, {} failed",
        back_at - killed_at,
        attempts.len(),
        attempts.iter().filter(|a| !a.1).count()
    );
    assert!(
        during >= 1,
        "no client was served between the kill and the restart ({:.2} s): {attempts:#?}",
        back_at - killed_at
    );
}

#[test]
fn with_no_pop3_instance_a_client_gets_an_error_line_and_eof() {
    let r = Running::start_for(Node::new(), "", &["SMTP", "POP3"]);
    r.iofcmgr("shutdown process server=pop3srv instance=1;")
        .ok();
    wait_for("pop3srv1 to stop", WAIT_SECS, || {
        r.process("pop3srv", "1")
            .and_then(|e| attr(&e, "state").map(|s| s.eq_ignore_ascii_case("stopped")))
            .unwrap_or(false)
    });
    let mut s = TcpStream::connect(("127.0.0.1", r.ports.pop3)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut got = Vec::new();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let mut buf = [0u8; 1024];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no EOF: {e}; got {:?}", String::from_utf8_lossy(&got)),
        }
        assert!(Instant::now() < until, "no EOF");
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("-ERR"), "{text:?}");
    assert_eq!(text.matches("\r\n").count(), 1, "one line: {text:?}");
    assert!(text.ends_with("\r\n"), "{text:?}");
    // IMAP is still served, and POP3 again once its instance is back
    assert!(greeting(r.ports.imap).is_some_and(|g| g.starts_with("* OK")));
    r.iofcmgr("startup process server=pop3srv instance=1;").ok();
    wait_for("POP3 to be served again", WAIT_SECS, || {
        greeting(r.ports.pop3).is_some_and(|g| g.starts_with("+OK"))
    });
}

#[test]
fn two_hundred_idle_sessions_share_one_instances_four_connections() {
    let (script, names) = users(20);
    // all 200 connect from 127.0.0.1 before any logs in
    let script = script
        + "register paramvalue server=imap4srv instance=1 parameter=max_unauthenticated_per_address value=0;\n";
    let r = Running::start(Node::new(), &script);
    let mut hold = Background::start(
        "imap_hold.py",
        &[&r.ports.imap.to_string(), "200", "secret", &names.join(",")],
    );
    let ready = hold.expect("READY", 180);
    assert_eq!(ready, "READY 200 0", "{}", hold.stderr());
    let mut last = Vec::new();
    let seen = (0..(WAIT_SECS * 5)).any(|_| {
        last = r.probe("server=imap4srv instance=1");
        let ok = instance(&last, "imap4srv", "1").is_some_and(|e| {
            attr(e, "state") == Some("RUNNING")
                && num(e, "sessions") >= 200
                && num(e, "pool_size") == 4
        });
        // every session recorded with its user (the instance records them every second or two)
        let logged_in = sessions_of(&last, "imap4srv")
            .iter()
            .filter(|s| attr(s, "user").is_some_and(|u| u.starts_with('u')))
            .count();
        if ok && logged_in >= 200 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
        false
    });
    let head: Vec<&Entry> = last.iter().take(3).collect();
    assert!(
        seen,
        "probe with 200 sessions open: {head:#?} ({} entries)",
        last.len()
    );
    let e = instance(&last, "imap4srv", "1").unwrap();
    let in_use = num(e, "pool_in_use");
    let idle = num(e, "pool_idle");
    assert!(
        (0..=4).contains(&in_use) && (0..=4).contains(&idle) && in_use + idle <= 4,
        "{e:?}"
    );
    assert_eq!(hold.finish(120), Some(0), "{}", hold.stderr());
    // and they go away
    wait_for("the sessions to end", WAIT_SECS, || {
        let p = r.probe("server=imap4srv instance=1");
        instance(&p, "imap4srv", "1").is_some_and(|e| num(e, "sessions") == 0)
    });
}
