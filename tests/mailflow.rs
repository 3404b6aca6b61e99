//! Mail flow end to end on `esmail start`: real SMTP clients in, the Postman under the
//! Guardian, the result read from the store.
mod common;
use common::*;

use std::net::TcpStream;
use std::time::Duration;

fn start(n: &Node, port: u16) -> Started {
    n.iofcmgr(&format!(
        "register paramvalue server=smtpgw instance=1 parameter=port value={port};\n\
         register paramvalue server=postman instance=1 parameter=lease_seconds value=3;\n"
    ))
    .ok();
    let child = command(esmail_bin(), n.path())
        .arg("start")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the SMTP gateway", 60, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Started(child)
}

fn inbox_counts(n: &Node) -> Vec<(String, i64, i64)> {
    let c = rusqlite::Connection::open(n.db()).unwrap();
    let mut st = c
        .prepare(
            "SELECT o.name_key, COUNT(fm.msg_uid), a.used_bytes FROM es_dir_object o
             JOIN es_account a ON a.object_id = o.object_id
             JOIN es_folder f ON f.owner_account_id = o.object_id AND f.folder_path = 'INBOX'
             LEFT JOIN es_folder_message fm ON fm.folder_id = f.folder_id
             GROUP BY o.name_key, a.used_bytes ORDER BY o.name_key",
        )
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn a_message_to_a_list_an_alias_and_a_person_is_stored_once_and_lands_in_each_inbox() {
    let n = Node::new();
    n.iofcmgr(
        "create person username=jdoe quota=0;\ncreate person username=ann quota=0;\n\
         create person username=bob quota=0;\ncreate person username=cy quota=0;\n\
         create publicalias name=jh target=jdoe;\ncreate publicdl name=team members=\"ann,bob,jh\";\n\
         create person username=tiny quota=300;\n",
    )
    .ok();
    let port = free_port();
    let _node = start(&n, port);
    let script = r#"
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', PORT, timeout=30)
refused = s.sendmail('sender@outside.example', ['team@acme.com', 'jh@acme.com', 'cy@acme.com'],
                     b'From: sender@outside.example\r\nSubject: hello\r\n\r\n' + b'x' * 400 + b'\r\n')
assert not refused, refused
try:
    s.sendmail('sender@outside.example', ['nobody@acme.com'], b'Subject: x\r\n\r\nx\r\n')
    sys.exit('unknown recipient accepted')
except smtplib.SMTPRecipientsRefused as e:
    assert e.recipients['nobody@acme.com'][0] == 550, e.recipients
try:
    s.sendmail('sender@outside.example', ['someone@elsewhere.example'], b'Subject: x\r\n\r\nx\r\n')
    sys.exit('relayed without authentication')
except smtplib.SMTPRecipientsRefused as e:
    assert e.recipients['someone@elsewhere.example'][0] == 550, e.recipients
s.quit()
"#;
    let out = python(&script.replace("PORT", &port.to_string()), &[]);
    assert!(out.code == 0, "{}", out.stderr);
    wait_for("delivery to ann, bob, jdoe and cy", 60, || {
        inbox_counts(&n)
            .iter()
            .filter(|(u, c, _)| ["ann", "bob", "jdoe", "cy"].contains(&u.as_str()) && *c == 1)
            .count()
            == 4
    });
    std::thread::sleep(Duration::from_secs(2));
    let counts = inbox_counts(&n);
    let c = rusqlite::Connection::open(n.db()).unwrap();
    let (messages, size): (i64, i64) = c
        .query_row(
            "SELECT COUNT(*), MAX(size_bytes) FROM es_message",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(messages, 1, "stored once");
    let parts: (String, String) = c
        .query_row(
            "SELECT mime_type, attachment_type FROM es_message_part",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        parts,
        ("text/plain".to_string(), "TEXT".to_string()),
        "its MIME part is mapped"
    );
    for (u, count, used) in &counts {
        if ["ann", "bob", "jdoe", "cy"].contains(&u.as_str()) {
            assert_eq!(*count, 1, "{u}: {counts:?}");
            assert_eq!(*used, size, "{u} is charged the message's size");
        } else {
            assert_eq!(*count, 0, "{u}: {counts:?}");
        }
    }
    let queued: i64 = c
        .query_row("SELECT COUNT(*) FROM es_queue_entry", [], |r| r.get(0))
        .unwrap();
    assert_eq!(queued, 0, "nothing left queued, nothing relayed");
    let queues = n.fetch("show queues;");
    assert_eq!(queues.len(), 6);
    assert!(
        queues.iter().all(|q| attr(q, "entries") == Some("0")),
        "{queues:?}"
    );
}

#[test]
fn a_postman_killed_under_the_guardian_leaves_every_message_delivered_exactly_once() {
    let n = Node::new();
    n.iofcmgr("create person username=jdoe quota=0;\ncreate person username=ann quota=0;\n")
        .ok();
    // 1,000 messages queued before the node runs
    let store = esmail::store::Store::open(
        &esmail::store::StoreUrl::Sqlite(n.db()),
        &esmail::store::OpenOptions::default(),
    )
    .unwrap();
    let node_id: i64 = rusqlite::Connection::open(n.db())
        .unwrap()
        .query_row(
            "SELECT CAST(setting_value AS INTEGER) FROM es_setting WHERE setting_name = 'local_node_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rcpts = vec!["jdoe@acme.com".to_string(), "ann@acme.com".to_string()];
    store
        .write(|c| -> Result<(), esmail::store::StoreError> {
            for i in 0..1000 {
                let content = format!("Subject: m{i}\r\n\r\nbody {i}\r\n");
                let guid = format!("m-{i}");
                let id = esmail::store::queue::insert_message(
                    c,
                    &esmail::store::queue::NewMessage {
                        guid: &guid,
                        origin_node_id: node_id,
                        content: content.as_bytes(),
                        sha256: "x",
                        rfc822_msgid: None,
                        received_at: chrono::Utc::now(),
                        structure: None,
                    },
                )?;
                esmail::store::queue::insert_entry(
                    c,
                    id,
                    &esmail::store::queue::NewEntry {
                        guid: &format!("e-{i}"),
                        queue: esmail::store::queue::Queue::Submission,
                        node_id,
                        target_node_id: None,
                        gateway_name: None,
                        sender: Some("sender@outside.example"),
                        submitted_by: None,
                        priority: 5,
                        not_before: None,
                        recipients: &rcpts,
                    },
                    chrono::Utc::now(),
                )?;
            }
            Ok(())
        })
        .unwrap();
    drop(store);
    let queues = n.fetch("show queues;");
    let submission = queues
        .iter()
        .find(|q| attr(q, "queue") == Some("submission"))
        .unwrap();
    assert_eq!(attr(submission, "entries"), Some("1000"));
    let port = free_port();
    let _node = start(&n, port);
    let pointers = || -> i64 {
        rusqlite::Connection::open(n.db())
            .unwrap()
            .query_row("SELECT COUNT(*) FROM es_folder_message", [], |r| r.get(0))
            .unwrap()
    };
    wait_for("the Postman to be half-way", 120, || pointers() >= 200);
    let pid: i32 = wait_for_pid(&n);
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    wait_for("every message delivered", 240, || pointers() >= 2000);
    std::thread::sleep(Duration::from_secs(3));
    let c = rusqlite::Connection::open(n.db()).unwrap();
    let dupes: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM (SELECT message_id, account_id FROM es_folder_message
             GROUP BY message_id, account_id HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dupes, 0, "no message twice in an INBOX");
    assert_eq!(pointers(), 2000);
    let restarts: i64 = c
        .query_row(
            "SELECT restarts FROM es_process WHERE type_name = 'postman' AND instance_no = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(restarts >= 1, "the Guardian restarted the Postman");
}

fn wait_for_pid(n: &Node) -> i32 {
    let c = rusqlite::Connection::open(n.db()).unwrap();
    c.query_row(
        "SELECT pid FROM es_process WHERE type_name = 'postman' AND instance_no = 1 AND pid IS NOT NULL",
        [],
        |r| r.get(0),
    )
    .unwrap()
}
