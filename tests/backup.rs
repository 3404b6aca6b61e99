//! Hot backup of the embedded store and its restore (`esmail backup`, `esmail restore`), and
//! the consistency check `iofcmgr verify store;`, through the real binaries.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use common::{attr, epoch_now, parse_entries, wait_for, Background, Node, Running, WAIT_SECS};

const USERS: &str = "create person username=ann password=secret quota=0;\n\
                     create person username=bob password=secret quota=0;\n";

/// The Message-IDs (without `<>`) of the messages in `user`'s INBOX.
fn inbox_msgids(db: &Path, user: &str) -> HashSet<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut st = c
        .prepare(
            "SELECT m.rfc822_msgid FROM es_folder_message fm
             JOIN es_message m ON m.message_id = fm.message_id
             JOIN es_folder f ON f.folder_id = fm.folder_id
             JOIN es_dir_object o ON o.object_id = f.owner_account_id
             WHERE o.name_key = ?1 AND f.folder_path = 'INBOX'",
        )
        .unwrap();
    let rows = st
        .query_map([user], |r| r.get::<_, Option<String>>(0))
        .unwrap();
    rows.flatten()
        .flatten()
        .map(|s| s.trim_matches(|c| c == '<' || c == '>').to_string())
        .collect()
}

/// The Message-IDs of the stored messages something refers to (a folder pointer or a queue
/// entry): the messages the store still has to keep or deliver.
fn referenced_msgids(db: &Path) -> HashSet<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare(
            "SELECT m.rfc822_msgid FROM es_message m
             WHERE EXISTS (SELECT 1 FROM es_folder_message fm WHERE fm.message_id = m.message_id)
                OR EXISTS (SELECT 1 FROM es_queue_entry qe WHERE qe.message_id = m.message_id)",
        )
        .unwrap();
    let rows = st.query_map([], |r| r.get::<_, Option<String>>(0)).unwrap();
    rows.flatten()
        .flatten()
        .map(|s| s.trim_matches(|c| c == '<' || c == '>').to_string())
        .collect()
}

fn scalar(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Reads the load client's lines until `until` holds or DONE comes; records each ACK's time.
fn collect(
    load: &Background,
    acked: &mut BTreeMap<u32, f64>,
    mut until: impl FnMut(&BTreeMap<u32, f64>) -> bool,
) -> bool {
    loop {
        if until(acked) {
            return false;
        }
        let Some(line) = load.line(120) else {
            panic!(
                "the load client went silent; its errors:\n{}",
                load.stderr()
            );
        };
        if line == "DONE" {
            return true;
        }
        let mut w = line.split_whitespace();
        if w.next() == Some("ACK") {
            let n: u32 = w.next().unwrap().parse().unwrap();
            let t: f64 = w.next().unwrap().parse().unwrap();
            acked.insert(n, t);
        }
    }
}

#[test]
fn a_backup_taken_while_a_thousand_messages_arrive_restores_every_acknowledged_one() {
    const COUNT: u32 = 1000;
    let r = Running::start_for(Node::new(), USERS, &["SMTP"]);
    let tag = format!("{}", std::process::id());
    let mut load = Background::start(
        "smtp_load.py",
        &[
            &r.ports.smtp.to_string(),
            &COUNT.to_string(),
            "4",
            "ann@acme.com,bob@acme.com",
            "8000",
            &tag,
            "300",
        ],
    );
    let mut acked = BTreeMap::new();
    // the backup starts in the middle of the load: the client holds the last 700 messages
    // back until the backup is about to begin
    let done = collect(&load, &mut acked, |a| a.len() >= 300);
    assert!(!done, "the load ended before the backup could start");
    let backups = tempfile::tempdir().unwrap();
    let copy = backups.path().join("esmail-backup.db");
    let began = epoch_now();
    load.close_stdin();
    let out = r.esmail(&["backup", "--to", copy.to_str().unwrap()]);
    let ended = epoch_now();
    assert_eq!(out.code, 0, "backup failed: {}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("backed up"), "{}", out.stdout);
    assert!(copy.is_file());
    // the check reads one snapshot: mail arriving and being delivered meanwhile is no problem
    let live = r.iofcmgr("verify store;");
    assert_eq!(
        live.code, 0,
        "verify store under load:\n{}\n{}",
        live.stdout, live.stderr
    );
    collect(&load, &mut acked, |_| false);
    assert_eq!(load.finish(30), Some(0), "{}", load.stderr());
    assert_eq!(
        acked.len(),
        COUNT as usize,
        "every message was acknowledged"
    );
    let id = |n: &u32| format!("bk-{tag}-{n}@load.example");
    let before: Vec<String> = acked
        .iter()
        .filter(|(_, t)| **t < began)
        .map(|(n, _)| id(n))
        .collect();
    let during = acked
        .values()
        .filter(|t| **t >= began && **t <= ended)
        .count();
    let after: Vec<String> = acked
        .iter()
        .filter(|(_, t)| **t > ended)
        .map(|(n, _)| id(n))
        .collect();
    eprintln!(
        "backup in {:.2} s: {} messages acknowledged before it began, {during} while it ran, {} after; {}",
        ended - began,
        before.len(),
        after.len(),
        out.stdout.trim()
    );
    assert!(before.len() >= 300);
    assert!(
        during + after.len() > 0,
        "the node kept taking mail after the backup began"
    );
    let node = r.stop();

    // restore into a fresh directory
    let fresh = Node::empty();
    let out = fresh.esmail(&["restore", "--from", copy.to_str().unwrap()]);
    assert_eq!(
        out.code, 0,
        "restore failed: {}\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains("restored"), "{}", out.stdout);
    assert!(fresh.db().is_file());
    for check in ["verify store;", "verify store content=yes;"] {
        let v = fresh.iofcmgr(check);
        assert_eq!(v.code, 0, "{check}\n{}\n{}", v.stdout, v.stderr);
        assert!(!v.stdout.contains("problem="), "{}", v.stdout);
        assert!(v.stdout.contains("no problem found"), "{}", v.stdout);
    }
    // every message acknowledged before the backup began is there (in a queue or an INBOX),
    // none acknowledged after it ended
    let there = referenced_msgids(&fresh.db());
    let missing: Vec<&String> = before.iter().filter(|m| !there.contains(*m)).collect();
    assert!(
        missing.is_empty(),
        "{} missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let late: Vec<&String> = after.iter().filter(|m| there.contains(*m)).collect();
    assert!(
        late.is_empty(),
        "the copy holds messages acknowledged after it ended: {late:?}"
    );

    // the restored node delivers what was queued: both INBOXes get every one of them
    let db = fresh.db();
    let restored = Running::start_for(fresh, "", &["SMTP"]);
    wait_for(
        "the restored node to deliver the queued messages",
        WAIT_SECS * 2,
        || {
            scalar(
                &db,
                "SELECT COUNT(*) FROM es_queue_entry WHERE queue_name = 'SUBMISSION'",
            ) == 0
        },
    );
    for user in ["ann", "bob"] {
        let inbox = inbox_msgids(&db, user);
        let missing: Vec<&String> = before.iter().filter(|m| !inbox.contains(*m)).collect();
        assert!(
            missing.is_empty(),
            "{user}: {} missing from the INBOX, e.g. {:?}\n{}",
            missing.len(),
            &missing[..missing.len().min(5)],
            restored.logs()
        );
    }
    let v = restored.iofcmgr("verify store;");
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    drop(restored);
    drop(node);
}

#[test]
fn verify_store_names_a_planted_inconsistency_and_changes_nothing() {
    let r = Running::start_for(Node::new(), USERS, &["SMTP"]);
    for i in 0..3 {
        r.send("ann@acme.com", &format!("hello {i}"), "a few words\n");
    }
    r.wait_inbox("ann", 3);
    let node = r.stop();
    let clean = node.iofcmgr("verify store content=yes;");
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    assert!(
        clean.stdout.contains("no problem found"),
        "{}",
        clean.stdout
    );
    assert!(clean.stdout.contains("3 messages"), "{}", clean.stdout);

    let db = node.db();
    let (message_id, pointers): (i64, i64) = {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row(
            "SELECT message_id, pointer_count FROM es_message ORDER BY message_id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let (ann, used): (i64, i64) = {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row(
            "SELECT a.object_id, a.used_bytes FROM es_account a
             JOIN es_dir_object o ON o.object_id = a.object_id WHERE o.name_key = 'ann'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert!(used > 0);
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute(
            "UPDATE es_message SET pointer_count = pointer_count + 1 WHERE message_id = ?1",
            [message_id],
        )
        .unwrap();
        c.execute(
            "UPDATE es_account SET used_bytes = used_bytes + 7 WHERE object_id = ?1",
            [ann],
        )
        .unwrap();
        c.execute(
            "UPDATE es_message SET sha256 = ?1 WHERE message_id = ?2",
            rusqlite::params!["0".repeat(64), message_id],
        )
        .unwrap();
    }
    let v = node.iofcmgr("verify store;");
    assert_ne!(v.code, 0, "{}", v.stdout);
    assert!(
        v.stderr.contains("verify store found 2 problems"),
        "{}",
        v.stderr
    );
    let entries = parse_entries(
        &v.stdout
            .lines()
            .filter(|l| !l.starts_with("verify store:"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let find = |p: &str| {
        entries
            .iter()
            .find(|e| attr(e, "problem") == Some(p))
            .unwrap_or_else(|| panic!("no {p} problem in:\n{}", v.stdout))
            .clone()
    };
    let e = find("pointer_count");
    assert_eq!(attr(&e, "table"), Some("es_message"));
    assert_eq!(
        attr(&e, "key"),
        Some(format!("message_id={message_id}").as_str())
    );
    assert_eq!(attr(&e, "expected"), Some(pointers.to_string().as_str()));
    assert_eq!(attr(&e, "found"), Some((pointers + 1).to_string().as_str()));
    let e = find("quota_used");
    assert_eq!(attr(&e, "table"), Some("es_account"));
    assert_eq!(attr(&e, "key"), Some(format!("object_id={ann}").as_str()));
    assert_eq!(attr(&e, "expected"), Some(used.to_string().as_str()));
    assert_eq!(attr(&e, "found"), Some((used + 7).to_string().as_str()));
    assert!(attr(&e, "detail").unwrap().contains("ann@acme.com"));
    assert!(
        v.stdout.contains("verify store: 2 problems found"),
        "{}",
        v.stdout
    );
    assert!(
        !v.stdout.contains("content_sha256"),
        "contents are read only when asked"
    );

    // reading every content finds the third
    let v = node.iofcmgr("verify store content=yes;");
    assert_ne!(v.code, 0);
    assert!(v.stdout.contains("problem=content_sha256"), "{}", v.stdout);
    assert!(v.stderr.contains("3 problems"), "{}", v.stderr);

    // nothing was repaired behind the administrator's back
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT pointer_count FROM es_message WHERE message_id = {message_id}")
        ),
        pointers + 1
    );
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT used_bytes FROM es_account WHERE object_id = {ann}")
        ),
        used + 7
    );

    // a script stops at the check that fails
    let v = node.iofcmgr("verify store;\nfetch person username=ann;");
    assert_ne!(v.code, 0);
    assert!(v.stderr.contains("line 1"), "{}", v.stderr);
    assert!(!v.stdout.contains("username="), "{}", v.stdout);

    // a folder counter, an alias target, a queue recipient without its entry
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(&format!(
            "PRAGMA foreign_keys = OFF;
             UPDATE es_message SET pointer_count = pointer_count - 1 WHERE message_id = {message_id};
             UPDATE es_account SET used_bytes = used_bytes - 7 WHERE object_id = {ann};
             UPDATE es_folder SET message_count = message_count + 5
              WHERE folder_path = 'INBOX' AND owner_account_id =
                    (SELECT object_id FROM es_dir_object WHERE name_key = 'bob');
             INSERT INTO es_queue_recipient (entry_id, rcpt_pos, address) VALUES (424242, 1, 'x@y.example');"
        ))
        .unwrap();
    }
    let v = node.iofcmgr("verify store;");
    assert_ne!(v.code, 0);
    for p in ["folder_message_count", "recipient_without_entry"] {
        assert!(
            v.stdout.contains(&format!("problem={p}")),
            "{p}:\n{}",
            v.stdout
        );
    }
    assert!(!v.stdout.contains("problem=pointer_count"), "{}", v.stdout);
    assert!(v.stdout.contains("INBOX of bob@acme.com"), "{}", v.stdout);
}

#[test]
fn backup_never_overwrites_and_restore_waits_for_the_node_to_stop() {
    let r = Running::start_for(Node::new(), USERS, &["SMTP"]);
    r.send("ann@acme.com", "one", "first\n");
    r.send("ann@acme.com", "two", "second\n");
    r.wait_inbox("ann", 2);
    let backups = tempfile::tempdir().unwrap();
    let copy = backups.path().join("b.db");
    let copy_s = copy.to_str().unwrap();
    r.esmail(&["backup", "--to", copy_s]).ok();
    let len = std::fs::metadata(&copy).unwrap().len();

    let again = r.esmail(&["backup", "--to", copy_s]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("exists"), "{}", again.stderr);
    assert_eq!(again.stderr.trim().lines().count(), 1, "{}", again.stderr);
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), len, "left alone");
    assert_eq!(
        std::fs::read_dir(backups.path()).unwrap().count(),
        1,
        "no temporary file left"
    );

    let refused = r.esmail(&["restore", "--from", copy_s]);
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(refused.stderr.contains("Guardian"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("stop the node"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        refused.stderr.trim().lines().count(),
        1,
        "{}",
        refused.stderr
    );
    assert_eq!(
        r.folder_count("ann", "INBOX"),
        2,
        "the store was left alone"
    );

    r.send("ann@acme.com", "three", "third, after the backup\n");
    r.wait_inbox("ann", 3);
    let node = r.stop();

    // in place: the store it replaces is kept beside it
    let out = node.esmail(&["restore", "--from", copy_s]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("before-restore-"), "{}", out.stdout);
    assert_eq!(node.folder_count("ann", "INBOX"), 2, "the backup's state");
    let kept: Vec<_> = std::fs::read_dir(node.path().join("esmail-data"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.starts_with("esmail.db.before-restore-")
                && !n.ends_with("-wal")
                && !n.ends_with("-shm")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        scalar(&kept[0], "SELECT COUNT(*) FROM es_folder_message"),
        3,
        "the store it replaced, with its last message"
    );
    let v = node.iofcmgr("verify store;");
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    // the restored node runs again
    let again = Running::start_for(node, "", &["SMTP"]);
    again.send("ann@acme.com", "four", "after the restore\n");
    again.wait_inbox("ann", 3);
}

#[test]
fn backup_and_restore_refuse_an_oracle_store_and_what_is_not_a_store() {
    let n = Node::new();
    for args in [
        [
            "--store",
            "oracle://esmail@//db.example:1521/mail",
            "backup",
            "--to",
            "x.db",
        ],
        [
            "--store",
            "oracle://esmail@//db.example:1521/mail",
            "restore",
            "--from",
            "x.db",
        ],
    ] {
        let r = n.esmail(&args);
        assert_ne!(r.code, 0);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains("RMAN"), "{}", r.stderr);
        assert!(
            r.stderr.contains("docs/backup-and-recovery.md"),
            "{}",
            r.stderr
        );
    }
    assert!(!n.path().join("x.db").exists());

    let text = n.path().join("notes.txt");
    std::fs::write(&text, "not a database\n".repeat(100)).unwrap();
    let before = std::fs::read(n.db()).unwrap();
    let r = n.esmail(&["restore", "--from", text.to_str().unwrap()]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("not a usable esmail store"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("not an SQLite database"), "{}", r.stderr);
    let r = n.esmail(&[
        "restore",
        "--from",
        n.path().join("nothing.db").to_str().unwrap(),
    ]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("no backup at"), "{}", r.stderr);
    assert_eq!(
        std::fs::read(n.db()).unwrap(),
        before,
        "the store was left alone"
    );
    let left: Vec<_> = std::fs::read_dir(n.path().join("esmail-data"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|f| f.contains("restore"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
