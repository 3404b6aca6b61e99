//! Outbound mail end to end: `esmail start` on a fresh store, a message sent by an
//! authenticated local user to outside addresses (python smtplib), the gateway handing it to a
//! local test SMTP sink as its smart host. The sink answers 451 once for one recipient (it is
//! retried and delivered later) and 550 for another (the sender gets a non-delivery report in
//! its INBOX).
mod common;
use common::*;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Sink {
    /// (recipients, message) of every message accepted.
    received: Vec<(Vec<String>, String)>,
    /// RCPT TO addresses seen, in order.
    rcpts: Vec<String>,
}

fn answer(w: &mut TcpStream, line: &str) {
    w.write_all(line.as_bytes()).unwrap();
    w.write_all(b"\r\n").unwrap();
}

/// A small scripted SMTP server: `later@` gets 451 the first time, `reject@` gets 550.
fn sink() -> (u16, Arc<Mutex<Sink>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(Mutex::new(Sink::default()));
    let st = state.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut w) = conn else { continue };
            let st = st.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(w.try_clone().unwrap());
                answer(&mut w, "220 sink.test ESMTP");
                let mut rcpts = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_string();
                    let upper = cmd.to_ascii_uppercase();
                    if upper.starts_with("EHLO") {
                        answer(&mut w, "250-sink.test");
                        answer(&mut w, "250 8BITMIME");
                    } else if upper.starts_with("MAIL FROM") {
                        rcpts.clear();
                        answer(&mut w, "250 ok");
                    } else if upper.starts_with("RCPT TO") {
                        let addr =
                            cmd[cmd.find('<').unwrap() + 1..cmd.rfind('>').unwrap()].to_string();
                        let mut s = st.lock().unwrap();
                        let seen = s.rcpts.iter().filter(|a| **a == addr).count();
                        s.rcpts.push(addr.clone());
                        if addr.starts_with("reject@") {
                            answer(&mut w, "550 5.1.1 no such user here");
                        } else if addr.starts_with("later@") && seen == 0 {
                            answer(&mut w, "451 4.3.0 try again later");
                        } else {
                            rcpts.push(addr);
                            answer(&mut w, "250 ok");
                        }
                    } else if upper == "DATA" {
                        answer(&mut w, "354 go ahead");
                        let mut msg = String::new();
                        loop {
                            let mut l = String::new();
                            if r.read_line(&mut l).unwrap_or(0) == 0 {
                                return;
                            }
                            if l == ".\r\n" {
                                break;
                            }
                            msg.push_str(&l);
                        }
                        st.lock().unwrap().received.push((rcpts.clone(), msg));
                        answer(&mut w, "250 2.0.0 queued");
                    } else if upper == "QUIT" {
                        answer(&mut w, "221 bye");
                        return;
                    } else {
                        answer(&mut w, "250 ok");
                    }
                }
            });
        }
    });
    (port, state)
}

#[test]
fn outside_mail_goes_to_the_smart_host_is_retried_and_bounced() {
    let n = Node::new();
    let (sink_port, sink) = sink();
    let smtp_port = free_port();
    n.iofcmgr(&format!(
        "create person username=jdoe password=secret quota=0;\n\
         register paramvalue server=smtpgw instance=1 parameter=port value={smtp_port};\n\
         register paramvalue server=smtpgw instance=1 parameter=smart_host value=127.0.0.1:{sink_port};\n\
         register paramvalue server=smtpgw instance=1 parameter=retry_first_seconds value=1;\n"
    ))
    .ok();
    let mut node = command(esmail_bin(), n.path())
        .arg("start")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the SMTP gateway", 60, || {
        TcpStream::connect(("127.0.0.1", smtp_port)).is_ok()
    });

    let script = format!(
        "import smtplib\n\
         s = smtplib.SMTP('127.0.0.1', {smtp_port}, timeout=30)\n\
         s.login('jdoe@acme.com', 'secret')\n\
         s.sendmail('jdoe@acme.com', ['ok@remote.example', 'later@remote.example', 'reject@remote.example'],\n\
         b'From: jdoe@acme.com\\r\\nTo: friends@remote.example\\r\\nSubject: outbound test\\r\\n\\r\\nhello out there\\r\\n')\n\
         s.quit()\n"
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let logs = n.path().join("esmail-data/log");
    let dump = || {
        for f in std::fs::read_dir(&logs).unwrap() {
            let p = f.unwrap().path();
            eprintln!(
                "== {}\n{}",
                p.display(),
                std::fs::read_to_string(&p).unwrap_or_default()
            );
        }
    };
    let t0 = Instant::now();
    wait_for("ok@ and later@ to reach the sink", 60, || {
        if t0.elapsed() > Duration::from_secs(50) {
            dump();
        }
        let s = sink.lock().unwrap();
        let got: Vec<&String> = s.received.iter().flat_map(|(r, _)| r).collect();
        got.iter().any(|a| a.starts_with("ok@")) && got.iter().any(|a| a.starts_with("later@"))
    });
    {
        let s = sink.lock().unwrap();
        assert_eq!(
            s.rcpts.iter().filter(|a| a.starts_with("later@")).count(),
            2,
            "later@ was retried once"
        );
        assert!(s
            .received
            .iter()
            .all(|(_, m)| m.contains("hello out there")));
        let delivered: Vec<&String> = s.received.iter().flat_map(|(r, _)| r).collect();
        assert_eq!(
            delivered.iter().filter(|a| a.starts_with("ok@")).count(),
            1,
            "ok@ once"
        );
    }
    // the sender gets a report about reject@ in its INBOX
    let db = n.db();
    wait_for("the non-delivery report", 60, || {
        let c = rusqlite::Connection::open(&db).unwrap();
        let found: Option<Vec<u8>> = c
            .query_row(
                "SELECT m.content FROM es_folder_message fm JOIN es_message m ON m.message_id = fm.message_id
                 JOIN es_folder f ON f.folder_id = fm.folder_id JOIN es_dir_object o ON o.object_id = f.owner_account_id
                 WHERE o.name_key = 'jdoe'",
                [],
                |r| r.get(0),
            )
            .ok();
        match found {
            Some(b) => {
                let t = String::from_utf8_lossy(&b);
                assert!(t.contains("reject@remote.example"), "{t}");
                assert!(t.contains("delivery-status"), "{t}");
                assert!(!t.contains("Final-Recipient: rfc822; ok@"), "{t}");
                true
            }
            None => false,
        }
    });
    unsafe {
        libc::kill(node.id() as i32, libc::SIGTERM);
    }
    assert_eq!(node.wait().unwrap().code(), Some(0));
}
