//! IMAP end to end on `esmail start`: mail in by SMTP, the Postman delivers it, and real IMAP
//! clients (python imaplib and a strict raw client, curl, mbsync, mutt) use it through
//! IOLISTENER and IMAP4SRV.
mod common;
use common::*;

use std::process::Stdio;
use std::time::{Duration, Instant};

const JDOE: &str = "create person username=jdoe domain=acme.com firstname=John lastname=Doe password=secret quota=0;\n";
const ASMITH: &str = "create person username=asmith domain=acme.com firstname=Ann lastname=Smith password=secret quota=0;\n";

fn curl(args: &[&str]) -> Run {
    std::process::Command::new("curl")
        .args(["-s", "-S", "--max-time", "60"])
        .args(args)
        .output()
        .expect("curl")
        .into()
}

fn account_used(n: &Node, user: &str) -> i64 {
    n.sqlite()
        .query_row(
            "SELECT a.used_bytes FROM es_account a JOIN es_dir_object o ON o.object_id = a.object_id
             WHERE o.name_key = ?1",
            [user],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn login_list_select_fetch_store_search_copy_move_expunge_append_rename_delete_status() {
    let r = Running::start_for(Node::new(), JDOE, &["SMTP", "IMAP"]);
    let mut sent = Vec::new();
    let beta_body = format!(
        "start of beta\n{}\nfindme-beta\n",
        "lorem ipsum dolor sit amet\n".repeat(200)
    );
    for (subject, body) in [
        ("alpha", "alpha body\n"),
        ("beta", beta_body.as_str()),
        ("gamma", "gamma body\n.dot line\n"),
    ] {
        let m = r.send("jdoe@acme.com", subject, body);
        sent.push(format!("\"{subject}\": \"{}\"", hex(&m)));
    }
    r.wait_inbox("jdoe", 3);
    let json = format!("{{{}}}", sent.join(", "));
    client(
        &r,
        "imap_session.py",
        &[
            &r.ports.imap.to_string(),
            "jdoe@acme.com",
            "jdoe",
            "secret",
            &json,
        ],
    );
    assert_eq!(r.folder_count("jdoe", "INBOX"), 1);
    assert_eq!(r.folder_count("jdoe", "Trash"), 1);
    assert_eq!(r.folder_count("jdoe", "Drafts"), 2);
    let archives: i64 = r
        .sqlite()
        .query_row(
            "SELECT COUNT(*) FROM es_folder WHERE folder_path LIKE 'Archive%'",
            [],
            |x| x.get(0),
        )
        .unwrap();
    assert_eq!(archives, 0, "the deleted folder is gone from the store");
}

#[test]
fn quota_root_shows_usage_and_an_append_beyond_the_quota_fails_with_overquota() {
    let r = Running::start_for(Node::new(), JDOE, &["SMTP", "IMAP"]);
    r.send("jdoe@acme.com", "one", &"some text\n".repeat(100));
    r.send("jdoe@acme.com", "two", "short\n");
    r.wait_inbox("jdoe", 2);
    let used = account_used(&r, "jdoe");
    assert!(used > 1000, "used_bytes {used}");
    let limit = used + 6000;
    r.iofcmgr(&format!(
        "modify person username=jdoe domain=acme.com quota={limit};"
    ))
    .ok();
    client(
        &r,
        "imap_quota.py",
        &[
            &r.ports.imap.to_string(),
            "jdoe@acme.com",
            "secret",
            &limit.to_string(),
            &used.to_string(),
        ],
    );
    assert_eq!(r.folder_count("jdoe", "INBOX"), 3, "only the small APPEND");
    let after = account_used(&r, "jdoe");
    assert!(
        after > used && after < limit,
        "{used} -> {after} (limit {limit})"
    );
}

#[test]
fn an_idle_session_hears_of_new_mail_within_two_seconds_of_its_delivery() {
    let r = Running::start_for(Node::new(), JDOE, &["SMTP", "IMAP"]);
    r.send("jdoe@acme.com", "before", "already here\n");
    r.wait_inbox("jdoe", 1);
    let mut idle = Background::start(
        "imap_idle.py",
        &[&r.ports.imap.to_string(), "jdoe@acme.com", "secret"],
    );
    let l = idle.expect("IDLING", WAIT_SECS);
    assert_eq!(l, "IDLING 1");
    // the message goes in; watch the store for the moment it is delivered
    let db = r.sqlite();
    let count = || -> i64 {
        db.query_row(
            "SELECT COUNT(*) FROM es_folder_message fm JOIN es_folder f ON f.folder_id = fm.folder_id
             JOIN es_dir_object o ON o.object_id = f.owner_account_id
             WHERE o.name_key = 'jdoe' AND f.folder_path = 'INBOX'",
            [],
            |x| x.get(0),
        )
        .unwrap_or(0)
    };
    r.send("jdoe@acme.com", "during idle", "wake up\n");
    let until = Instant::now() + Duration::from_secs(WAIT_SECS);
    let delivered_at = loop {
        if count() >= 2 {
            break epoch_now();
        }
        assert!(Instant::now() < until, "not delivered\n{}", r.logs());
        std::thread::sleep(Duration::from_millis(5));
    };
    let l = idle.expect("EXISTS", WAIT_SECS);
    let w: Vec<&str> = l.split_whitespace().collect();
    assert_eq!(w[2], "2", "{l}");
    let heard_at: f64 = w[1].parse().unwrap();
    let late = heard_at - delivered_at;
    eprintln!("EXISTS {late:.3} s after the delivery");
    assert!(
        late <= 2.0,
        "the IDLE session heard of the message {late:.3} s after it was in the store"
    );
    idle.expect("DONE OK", WAIT_SECS);
    assert_eq!(idle.finish(WAIT_SECS), Some(0), "{}", idle.stderr());
}

#[test]
fn one_user_cannot_reach_another_users_folders() {
    let r = Running::start_for(Node::new(), &format!("{JDOE}{ASMITH}"), &["SMTP", "IMAP"]);
    r.send("jdoe@acme.com", "SECRET-ONE", "jdoe's secret\n");
    r.send("jdoe@acme.com", "SECRET-TWO", "another secret\n");
    r.send("asmith@acme.com", "for ann", "hello ann\n");
    r.wait_inbox("jdoe", 2);
    r.wait_inbox("asmith", 1);
    let ids: Vec<String> = {
        let db = r.sqlite();
        let mut st = db
            .prepare(
                "SELECT f.folder_id FROM es_folder f JOIN es_dir_object o ON o.object_id = f.owner_account_id
                 WHERE o.name_key = 'jdoe'",
            )
            .unwrap();
        st.query_map([], |x| x.get::<_, i64>(0))
            .unwrap()
            .map(|x| x.unwrap().to_string())
            .collect()
    };
    assert!(ids.len() >= 5, "{ids:?}");
    client(
        &r,
        "imap_isolation.py",
        &[
            &r.ports.imap.to_string(),
            "jdoe@acme.com",
            "asmith@acme.com",
            "secret",
            &ids.join(","),
        ],
    );
    assert_eq!(r.folder_count("jdoe", "INBOX"), 2);
    assert_eq!(r.folder_count("asmith", "INBOX"), 1);
    let asmith_folders: i64 = r
        .sqlite()
        .query_row(
            "SELECT COUNT(*) FROM es_folder f JOIN es_dir_object o ON o.object_id = f.owner_account_id
             WHERE o.name_key = 'asmith'",
            [],
            |x| x.get(0),
        )
        .unwrap();
    assert_eq!(asmith_folders, 5, "asmith created nothing");
}

#[test]
fn starttls_and_the_implicit_tls_port_with_imaplib() {
    let r = Running::start_for(Node::new(), JDOE, &["SMTP", "IMAP"]);
    r.send("jdoe@acme.com", "one", "1\n");
    r.send("jdoe@acme.com", "two", "2\n");
    r.wait_inbox("jdoe", 2);
    client(
        &r,
        "imap_tls.py",
        &[
            &r.ports.imap.to_string(),
            &r.ports.imaps.to_string(),
            "jdoe@acme.com",
            "secret",
            "2",
        ],
    );
}

#[test]
fn curl_fetches_lists_and_asks_status_over_plain_starttls_and_implicit_tls() {
    let r = Running::start_for(Node::new(), JDOE, &["SMTP", "IMAP"]);
    let first = r.send("jdoe@acme.com", "curl one", "first body\n");
    r.send("jdoe@acme.com", "curl two", "second body\n");
    r.wait_inbox("jdoe", 2);
    let user = ["-u", "jdoe@acme.com:secret"];
    let base = format!("imap://127.0.0.1:{}", r.ports.imap);
    let m = curl(&[&[format!("{base}/INBOX;UID=1").as_str()][..], &user[..]].concat());
    assert_eq!(m.code, 0, "{m:?}\n{}", r.logs());
    assert!(m.stdout.contains("Subject: curl one"), "{m:?}");
    assert!(m.stdout.as_bytes().ends_with(&first), "{m:?}");
    let m = curl(
        &[
            &["--ssl-reqd", "-k", format!("{base}/INBOX;UID=2").as_str()][..],
            &user[..],
        ]
        .concat(),
    );
    assert_eq!(m.code, 0, "STARTTLS: {m:?}");
    assert!(m.stdout.contains("Subject: curl two"), "{m:?}");
    let m = curl(&[&[format!("{base}/").as_str()][..], &user[..]].concat());
    assert_eq!(m.code, 0, "{m:?}");
    for f in ["INBOX", "Sent", "Drafts", "Trash", "Junk"] {
        assert!(
            m.stdout.lines().any(|l| l.starts_with("* LIST")
                && (l.ends_with(&format!(" {f}")) || l.ends_with(&format!(" \"{f}\"")))),
            "LIST lacks {f}: {m:?}"
        );
    }
    let m = curl(
        &[
            &[
                "-k",
                format!("imaps://127.0.0.1:{}/INBOX", r.ports.imaps).as_str(),
                "-X",
                "STATUS INBOX (MESSAGES)",
            ][..],
            &user[..],
        ]
        .concat(),
    );
    assert_eq!(m.code, 0, "imaps: {m:?}");
    assert!(
        (m.stdout.contains("* STATUS INBOX (MESSAGES 2)")
            || m.stdout.contains("* STATUS \"INBOX\" (MESSAGES 2)")),
        "{m:?}"
    );
    let m = curl(&[
        format!("{base}/INBOX;UID=1").as_str(),
        "-u",
        "jdoe@acme.com:wrong",
    ]);
    assert_ne!(m.code, 0, "a wrong password: {m:?}");
}

fn maildir_count(dir: &std::path::Path) -> usize {
    ["cur", "new"]
        .iter()
        .map(|s| {
            std::fs::read_dir(dir.join(s))
                .map(|rd| rd.count())
                .unwrap_or(0)
        })
        .sum()
}

#[test]
fn mbsync_pulls_every_folder_into_a_maildir() {
    let r = Running::start_for(Node::new(), JDOE, &["SMTP", "IMAP"]);
    for i in 1..=3 {
        r.send(
            "jdoe@acme.com",
            &format!("sync {i}"),
            &format!("body {i}\n"),
        );
    }
    r.wait_inbox("jdoe", 3);
    let home = tempfile::tempdir().unwrap();
    let mail = home.path().join("mail");
    std::fs::create_dir_all(&mail).unwrap();
    let cfg = home.path().join("mbsyncrc");
    std::fs::write(
        &cfg,
        format!(
            "IMAPAccount test\nHost 127.0.0.1\nPort {}\nUser jdoe@acme.com\nPass secret\n\
             SSLType None\nAuthMechs LOGIN\n\n\
             IMAPStore far\nAccount test\n\n\
             MaildirStore near\nPath {m}/\nInbox {m}/INBOX\nSubFolders Verbatim\n\n\
             Channel sync\nFar :far:\nNear :near:\nPatterns *\nCreate Near\nSync Pull\n\
             SyncState *\n",
            r.ports.imap,
            m = mail.display()
        ),
    )
    .unwrap();
    let mbsync = || -> Run {
        std::process::Command::new("mbsync")
            .args(["-c", cfg.to_str().unwrap(), "-a", "-V"])
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .output()
            .expect("mbsync")
            .into()
    };
    let out = mbsync();
    assert_eq!(out.code, 0, "{out:?}\n{}", r.logs());
    assert_eq!(maildir_count(&mail.join("INBOX")), 3, "{out:?}");
    for f in ["Sent", "Drafts", "Trash", "Junk"] {
        assert!(mail.join(f).join("cur").is_dir(), "{f} not synced: {out:?}");
    }
    let mut bodies = String::new();
    for s in ["cur", "new"] {
        for e in std::fs::read_dir(mail.join("INBOX").join(s)).unwrap() {
            bodies.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    for i in 1..=3 {
        assert!(bodies.contains(&format!("Subject: sync {i}")), "{bodies}");
    }
    // one more message: a second run brings just that one
    r.send("jdoe@acme.com", "sync 4", "body 4\n");
    r.wait_inbox("jdoe", 4);
    let out = mbsync();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(maildir_count(&mail.join("INBOX")), 4, "{out:?}");
}

/// mutt in a pseudo-terminal (`script`), driven by pushed keys: tag every INBOX message and
/// copy them to a new IMAP folder `Archive`, then quit.
#[test]
fn mutt_copies_the_inbox_to_a_new_folder_over_imap() {
    let r = Running::start_for(Node::new(), JDOE, &["SMTP", "IMAP"]);
    for i in 1..=3 {
        r.send(
            "jdoe@acme.com",
            &format!("mutt {i}"),
            &format!("body {i}\n"),
        );
    }
    r.wait_inbox("jdoe", 3);
    let home = tempfile::tempdir().unwrap();
    let rc = home.path().join("muttrc");
    std::fs::write(
        &rc,
        format!(
            "set imap_user=\"jdoe@acme.com\"\nset imap_pass=\"secret\"\n\
             set folder=\"imap://127.0.0.1:{}/\"\nset spoolfile=\"+INBOX\"\n\
             set ssl_starttls=no\nset ssl_force_tls=no\nset imap_passive=no\n\
             set confirmcreate=no\nset confirmappend=no\nset header_cache=\"\"\n\
             set move=no\nset quit=yes\nset mark_old=no\nset delete=no\nset beep=no\n\
             set imap_check_subscribed=no\nset timeout=5\nset mail_check=5\nset sleep_time=0\n",
            r.ports.imap
        ),
    )
    .unwrap();
    let keys = "<tag-pattern>~A<enter><tag-prefix><copy-message>=Archive<enter><quit>";
    let cmdline = format!(
        "mutt -n -F {} -f imap://127.0.0.1:{}/INBOX -e 'push \"{keys}\"'",
        rc.display(),
        r.ports.imap
    );
    let mut child = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &cmdline, "/dev/null"])
        .env("HOME", home.path())
        .env("TERM", "xterm")
        .env("COLUMNS", "120")
        .env("LINES", "40")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script");
    let stdin = child.stdin.take();
    let until = Instant::now() + Duration::from_secs(WAIT_SECS);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > until {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        status.is_some(),
        "mutt did not finish; screen:\n{screen}\n{}",
        r.logs()
    );
    assert_eq!(
        r.folder_count("jdoe", "Archive"),
        3,
        "mutt's copy; status {status:?}; screen:\n{screen}\n{}",
        r.logs()
    );
    assert_eq!(r.folder_count("jdoe", "INBOX"), 3);
}
