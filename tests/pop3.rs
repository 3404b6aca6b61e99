//! POP3 end to end on `esmail start`: mail in by SMTP, the Postman delivers it, and real POP3
//! clients (python poplib, curl, fetchmail) read it through IOLISTENER and POP3SRV.
mod common;
use common::*;

use std::os::unix::fs::PermissionsExt;

const USERS: &str = "create person username=jdoe domain=acme.com firstname=John lastname=Doe password=secret quota=0;\n";

/// A message whose body has lines that need dot-stuffing.
const DOTS_BODY: &str = "Hello\n.leading dot\n..two dots\n.\nlast line\n";

/// A node with jdoe and three messages in jdoe's INBOX; returns the message with dots.
fn node_with_three() -> (Running, Vec<u8>) {
    let r = Running::start_for(Node::new(), USERS, &["SMTP", "POP3"]);
    r.send("jdoe@acme.com", "first", "one\n");
    let dots = r.send("jdoe@acme.com", "dots", DOTS_BODY);
    r.send("jdoe@acme.com", "third", "three\nlines\nhere\n");
    r.wait_inbox("jdoe", 3);
    (r, dots)
}

#[test]
fn poplib_stat_list_uidl_top_retr_and_deletion_rules() {
    let (r, dots) = node_with_three();
    client(
        &r,
        "pop3_session.py",
        &[
            &r.ports.pop3.to_string(),
            "jdoe@acme.com",
            "secret",
            "3",
            "dots",
            &hex(&dots),
        ],
    );
    assert_eq!(
        r.folder_count("jdoe", "INBOX"),
        2,
        "DELE + QUIT removed one"
    );
}

#[test]
fn logins_capabilities_auth_plain_and_bad_commands() {
    let (r, _) = node_with_three();
    client(
        &r,
        "pop3_commands.py",
        &[
            &r.ports.pop3.to_string(),
            "jdoe@acme.com",
            "jdoe",
            "secret",
            "3",
        ],
    );
    assert_eq!(r.folder_count("jdoe", "INBOX"), 3, "nothing deleted");
}

#[test]
fn stls_and_the_implicit_tls_port() {
    let (r, _) = node_with_three();
    client(
        &r,
        "pop3_tls.py",
        &[
            &r.ports.pop3.to_string(),
            &r.ports.pop3s.to_string(),
            "jdoe@acme.com",
            "secret",
            "3",
        ],
    );
}

fn curl(args: &[&str]) -> Run {
    std::process::Command::new("curl")
        .args(["-s", "-S", "--max-time", "60"])
        .args(args)
        .output()
        .expect("curl")
        .into()
}

#[test]
fn curl_lists_and_retrieves_messages() {
    let (r, dots) = node_with_three();
    let base = format!("pop3://127.0.0.1:{}", r.ports.pop3);
    let list = curl(&[&format!("{base}/"), "-u", "jdoe@acme.com:secret"]);
    assert_eq!(list.code, 0, "{list:?}\n{}", r.logs());
    let numbers: Vec<&str> = list
        .stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(numbers, ["1", "2", "3"], "{list:?}");
    let mut subjects = Vec::new();
    for i in 1..=3 {
        let m = curl(&[&format!("{base}/{i}"), "-u", "jdoe@acme.com:secret"]);
        assert_eq!(m.code, 0, "{m:?}");
        let size: usize = list
            .stdout
            .lines()
            .nth(i - 1)
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(m.stdout.len(), size, "RETR {i} against LIST: {m:?}");
        let subject = m
            .stdout
            .lines()
            .find(|l| l.starts_with("Subject: "))
            .unwrap_or_else(|| panic!("no subject in {m:?}"))
            .to_string();
        if subject == "Subject: dots" {
            assert!(
                m.stdout.as_bytes().ends_with(&dots),
                "curl got {:?}, sent {:?}",
                m.stdout,
                String::from_utf8_lossy(&dots)
            );
        }
        subjects.push(subject);
    }
    subjects.sort();
    assert_eq!(
        subjects,
        ["Subject: dots", "Subject: first", "Subject: third"]
    );
    // STLS (curl negotiates it with --ssl-reqd) and the implicit-TLS port
    let m = curl(&[
        "--ssl-reqd",
        "-k",
        &format!("{base}/1"),
        "-u",
        "jdoe@acme.com:secret",
    ]);
    assert_eq!(m.code, 0, "{m:?}");
    assert!(m.stdout.contains("Subject: "), "{m:?}");
    let m = curl(&[
        "-k",
        &format!("pop3s://127.0.0.1:{}/2", r.ports.pop3s),
        "-u",
        "jdoe@acme.com:secret",
    ]);
    assert_eq!(m.code, 0, "{m:?}");
    assert!(m.stdout.contains("Subject: "), "{m:?}");
    // a wrong password: curl fails (67: login denied)
    let m = curl(&[&format!("{base}/1"), "-u", "jdoe@acme.com:wrong"]);
    assert_ne!(m.code, 0, "{m:?}");
    assert_eq!(r.folder_count("jdoe", "INBOX"), 3, "curl deleted nothing");
}

#[test]
fn fetchmail_fetches_every_message_and_keeps_them() {
    let (r, _) = node_with_three();
    let home = tempfile::tempdir().unwrap();
    let mbox = home.path().join("mbox");
    let rc = home.path().join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no bouncemail\n\
             poll 127.0.0.1 service {} protocol POP3 auth password\n\
             \x20 user \"jdoe@acme.com\" password \"secret\" keep sslproto ''\n\
             \x20 mda \"/bin/sh -c 'cat >> {}'\"\n",
            r.ports.pop3,
            mbox.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let fetchmail = || -> Run {
        std::process::Command::new("fetchmail")
            .args(["-f", rc.to_str().unwrap(), "--nodetach", "-v"])
            .env("HOME", home.path())
            .env("FETCHMAILHOME", home.path())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("fetchmail")
            .into()
    };
    let first = fetchmail();
    // 0: mail was fetched
    assert_eq!(first.code, 0, "{first:?}\n{}", r.logs());
    let got = std::fs::read_to_string(&mbox).unwrap();
    for s in ["Subject: first", "Subject: dots", "Subject: third"] {
        assert!(got.contains(s), "{s} not fetched:\n{got}\n{first:?}");
    }
    assert!(got.contains("\n.leading dot\n") || got.contains("\n.leading dot\r\n"));
    assert!(got.contains("\n..two dots\n") || got.contains("\n..two dots\r\n"));
    // `keep`: nothing deleted on the server; the second run knows them by UIDL (1: no mail)
    assert_eq!(r.folder_count("jdoe", "INBOX"), 3, "fetchmail's keep");
    let second = fetchmail();
    assert_eq!(second.code, 1, "second run fetched again: {second:?}");
    assert_eq!(std::fs::read_to_string(&mbox).unwrap(), got);
}
