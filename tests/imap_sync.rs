//! IMAP for synchronizing clients, end to end on `esmail start` (mail in by SMTP, the Postman
//! delivers it): CONDSTORE and QRESYNC (RFC 7162), ESEARCH (RFC 4731) and SEARCHRES
//! (RFC 5182), with the strict python client of tests/clients.
mod common;
use common::*;

const JDOE: &str = "create person username=jdoe domain=acme.com firstname=John lastname=Doe password=secret quota=0;\n";

/// Runs a client script; fails with what it printed and the node's logs. Returns its output.
fn client(r: &Running, args: &[&str]) -> String {
    let file = args[0];
    let out = python_client(file, &args[1..]);
    assert_eq!(
        out.code,
        0,
        "{file} {:?} failed:\n--- stdout\n{}\n--- stderr\n{}\n--- node\n{}",
        &args[1..],
        out.stdout,
        out.stderr,
        r.logs()
    );
    out.stdout.trim().to_string()
}

fn tombstones(r: &Running) -> i64 {
    r.sqlite()
        .query_row(
            "SELECT COUNT(*) FROM es_expunged e JOIN es_folder f ON f.folder_id = e.folder_id
             JOIN es_dir_object o ON o.object_id = f.owner_account_id
             WHERE o.name_key = 'jdoe' AND f.folder_path = 'INBOX'",
            [],
            |x| x.get(0),
        )
        .unwrap()
}

#[test]
fn a_client_that_was_offline_resynchronizes_with_qresync_and_learns_exactly_which_messages_vanished_and_which_flags_changed(
) {
    let r = Running::start_for(Node::new(), JDOE, &["SMTP", "IMAP"]);
    for i in 0..8 {
        r.send("jdoe@acme.com", &format!("message {i}"), "hello\n");
    }
    r.wait_inbox("jdoe", 8);
    let port = r.ports.imap.to_string();
    let login = [port.as_str(), "jdoe@acme.com", "secret"];
    // A: what a client keeps when it goes offline (after one expunge of its own)
    let record = client(&r, &[&["imap_sync.py", "record"][..], &login].concat());
    // meanwhile: another client changes flags, expunges, moves; new mail arrives
    let change = client(&r, &[&["imap_sync.py", "change"][..], &login].concat());
    r.send("jdoe@acme.com", "while away 1", "new\n");
    r.send("jdoe@acme.com", "while away 2", "new\n");
    r.wait_inbox("jdoe", 8 - 1 - 3 + 2);
    assert_eq!(tombstones(&r), 4, "one expunge before, three after");
    // A comes back: exactly what vanished, exactly what changed (from the tombstones)
    let args = [
        &["imap_sync.py", "resync"][..],
        &login,
        &[record.as_str(), change.as_str(), "2"],
    ]
    .concat();
    let first = client(&r, &args);
    assert!(first.contains("\"vanished\""), "{first}");
    // the Collector purges the tombstones: the same answer from the UIDs A knows
    r.sqlite().execute("DELETE FROM es_expunged", []).unwrap();
    assert_eq!(tombstones(&r), 0);
    let second = client(&r, &args);
    assert_eq!(first, second);
}

#[test]
fn conditional_store_changedsince_esearch_and_the_saved_search_result() {
    let r = Running::start_for(Node::new(), JDOE, &["SMTP", "IMAP"]);
    for i in 0..6 {
        r.send("jdoe@acme.com", &format!("message {i}"), "hello\n");
    }
    r.wait_inbox("jdoe", 6);
    let out = client(
        &r,
        &[
            "imap_condstore.py",
            &r.ports.imap.to_string(),
            "jdoe@acme.com",
            "secret",
        ],
    );
    assert_eq!(out, "OK");
}
