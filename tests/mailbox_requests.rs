//! The requests the PL/SQL packages write (schema step 7), performed by the Postman on the
//! embedded store. The rows are inserted with rusqlite exactly as IM_API, IOSEND
//! (FOLDER_CARBON_COPY, SUBMIT) and DAPLS insert them on Oracle; the Postman's request round
//! (`postman::requests::round`, and once the real `esmail postman` process) performs them; the
//! outcome is read back through the store's mailbox functions and the request rows.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::Fixture;
use esmail::postman::requests::{self, RequestReport};
use esmail::postman::{deliver_round, PostmanParams};
use esmail::store::mailbox::{self, Folder, MessageRow};
use esmail::store::time_to_text;
use rusqlite::{params, OptionalExtension};

impl Fixture {
    fn account(&self, name: &str) -> i64 {
        self.db
            .query_row(
                "SELECT o.object_id FROM es_dir_object o JOIN es_account a ON a.object_id = o.object_id
                 WHERE o.name_key = ?1 AND o.owner_scope = 0",
                [name.to_lowercase()],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("no account {name}: {e}"))
    }

    fn folders(&self, account: i64) -> Vec<Folder> {
        self.store
            .read(|c| mailbox::folders(c, account))
            .expect("folders")
    }

    fn folder(&self, account: i64, path: &str) -> Option<Folder> {
        self.folders(account).into_iter().find(|f| f.path == path)
    }

    fn messages(&self, account: i64, path: &str) -> Vec<MessageRow> {
        let f = self
            .folder(account, path)
            .unwrap_or_else(|| panic!("no folder {path}"));
        self.store
            .read(|c| mailbox::messages(c, f.folder_id))
            .expect("messages")
    }

    fn used(&self, account: i64) -> i64 {
        self.db
            .query_row(
                "SELECT used_bytes FROM es_account WHERE object_id = ?1",
                [account],
                |r| r.get(0),
            )
            .unwrap()
    }

    fn pointer_count(&self, message_id: i64) -> i64 {
        self.db
            .query_row(
                "SELECT pointer_count FROM es_message WHERE message_id = ?1",
                [message_id],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Inserts a mailbox request as IM_API does (`INSERT INTO es_mailbox_request ...`).
    #[allow(clippy::too_many_arguments)]
    fn request(
        &self,
        account: i64,
        kind: &str,
        folder_path: Option<&str>,
        folder_id: Option<i64>,
        uid: Option<i64>,
        message_id: Option<i64>,
        target_path: Option<&str>,
        params: Option<&str>,
    ) -> i64 {
        self.db
            .execute(
                "INSERT INTO es_mailbox_request (account_id, request_kind, folder_path, folder_id, msg_uid,
                   message_id, target_path, params, request_state, attempts, requested_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'PENDING', 0, 'APP_USER', ?9)",
                params![
                    account,
                    kind,
                    folder_path,
                    folder_id,
                    uid,
                    message_id,
                    target_path,
                    params,
                    time_to_text(&Utc::now())
                ],
            )
            .unwrap();
        self.db.last_insert_rowid()
    }

    /// Inserts a directory request as DAPLS does.
    fn admin(&self, statement: &str) -> i64 {
        self.db
            .execute(
                "INSERT INTO es_admin_request (statement_text, request_state, attempts, requested_by, created_at)
                 VALUES (?1, 'PENDING', 0, 'APP_ADMIN', ?2)",
                params![statement, time_to_text(&Utc::now())],
            )
            .unwrap();
        self.db.last_insert_rowid()
    }

    /// (state, result UID, error) of a mailbox request.
    fn outcome(&self, id: i64) -> (String, Option<i64>, Option<String>) {
        self.db
            .query_row(
                "SELECT request_state, result_uid, error_text FROM es_mailbox_request WHERE request_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    }

    /// (state, result text, error) of a directory request.
    fn admin_outcome(&self, id: i64) -> (String, Option<String>, Option<String>) {
        self.db
            .query_row(
                "SELECT request_state, result_text, error_text FROM es_admin_request WHERE request_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    }

    fn round(&self) -> RequestReport {
        requests::round(&self.store, self.node_id, 50).expect("a request round")
    }

    /// Writes what IOSEND.SUBMIT writes: the content once (no structure row: computed by the
    /// first FETCH), its parts with where their bodies lie, a Submission queue entry with its
    /// recipients, and, for FOLDER_CARBON_COPY, an APPEND request. Returns the message id.
    fn iosend(&self, sender: i64, from: &str, to: &[&str], carbon_copy: Option<&str>) -> i64 {
        let now = time_to_text(&Utc::now());
        let guid = uuid::Uuid::new_v4().to_string();
        let boundary = format!("=_esmail_{}", &guid[..8]);
        let head = format!(
            "Received: from APP_USER (PL/SQL IOSEND) by esmail with PLSQL id {guid}; Thu, 1 Jan 2026 00:00:00 +0000\r\n\
             From: {from}\r\nTo: {}\r\nSubject: Low stock: part 4711\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\
             Message-ID: <{guid}@esmail>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n",
            to.join(", ")
        );
        let part1_head = format!(
            "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        );
        let text = "Part 4711 is down to 3 pieces.\r\n";
        let part2_head = format!(
            "\r\n--{boundary}\r\nContent-Type: text/csv; name=\"stock.csv\"\r\n\
             Content-Disposition: attachment; filename=\"stock.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        );
        let csv_b64 = "cGFydCxxdHkKNDcxMSwzCg==";
        let tail = format!("\r\n--{boundary}--\r\n");
        let content = format!("{head}{part1_head}{text}{part2_head}{csv_b64}{tail}");
        let off1 = head.len() + part1_head.len();
        let off2 = off1 + text.len() + part2_head.len();
        let sha = {
            use sha2::{Digest, Sha256};
            Sha256::digest(content.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        self.db
            .execute(
                "INSERT INTO es_message (guid, origin_node_id, size_bytes, sha256, rfc822_msgid, received_at,
                   pointer_count, content)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
                params![
                    guid,
                    self.node_id,
                    content.len() as i64,
                    sha,
                    format!("{guid}@esmail"),
                    now,
                    content.as_bytes()
                ],
            )
            .unwrap();
        let message_id = self.db.last_insert_rowid();
        for (no, mime, att, name, off, len, enc) in [
            (2, "text/plain", "TEXT", None, off1, text.len(), None),
            (
                3,
                "text/csv",
                "TEXT",
                Some("stock.csv"),
                off2,
                csv_b64.len(),
                Some("BASE64"),
            ),
        ] {
            self.db
                .execute(
                    "INSERT INTO es_message_part (message_id, part_no, mime_type, attachment_type, file_name,
                       size_bytes, body_offset, body_bytes, transfer_encoding)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        message_id,
                        no,
                        mime,
                        att,
                        name,
                        len as i64,
                        off as i64,
                        len as i64,
                        enc
                    ],
                )
                .unwrap();
        }
        self.db
            .execute(
                "INSERT INTO es_queue_entry (guid, queue_name, node_id, target_node_id, gateway_name, message_id,
                   sender_address, submitted_by, priority, attempts, next_attempt_at, not_before, created_at)
                 VALUES (?1, 'SUBMISSION', ?2, NULL, NULL, ?3, ?4, ?5, 5, 0, ?6, NULL, ?6)",
                params![
                    uuid::Uuid::new_v4().to_string(),
                    self.node_id,
                    message_id,
                    from,
                    sender,
                    now
                ],
            )
            .unwrap();
        let entry_id = self.db.last_insert_rowid();
        for (i, rcpt) in to.iter().enumerate() {
            self.db
                .execute(
                    "INSERT INTO es_queue_recipient (entry_id, rcpt_pos, address, rcpt_status)
                     VALUES (?1, ?2, ?3, 'PENDING')",
                    params![entry_id, i as i64 + 1, rcpt],
                )
                .unwrap();
        }
        if let Some(folder) = carbon_copy {
            self.request(
                sender,
                "APPEND",
                Some(folder),
                None,
                None,
                Some(message_id),
                None,
                Some("+\\Seen"),
            );
        }
        message_id
    }

    /// Delivery rounds until the Submission queue is empty.
    fn deliver(&self) {
        let params = PostmanParams {
            batch_size: 20,
            ..PostmanParams::default()
        };
        for _ in 0..100 {
            let r = deliver_round(&self.store, &params, "postman1@test:1").expect("a round");
            if r.claimed == 0 {
                return;
            }
        }
        panic!("the Submission queue never emptied");
    }
}

const USERS: &str = "create person username=jdoe domain=acme.com;\n\
                     create person username=boss domain=acme.com;";

#[test]
fn folders_are_created_and_deleted_as_imap_would() {
    let f = Fixture::new(USERS);
    let jdoe = f.account("jdoe");
    let r1 = f.request(
        jdoe,
        "CREATE_FOLDER",
        Some("Projects/2026"),
        None,
        None,
        None,
        None,
        None,
    );
    let r2 = f.request(
        jdoe,
        "CREATE_FOLDER",
        Some("inbox"),
        None,
        None,
        None,
        None,
        None,
    );
    let r3 = f.request(
        jdoe,
        "CREATE_FOLDER",
        Some("bad/"),
        None,
        None,
        None,
        None,
        None,
    );
    // nothing happens before the Postman's round
    assert!(f.folder(jdoe, "Projects").is_none());
    let rep = f.round();
    assert_eq!((rep.done, rep.failed, rep.retried), (1, 2, 0), "{rep:?}");
    assert_eq!(f.outcome(r1).0, "DONE");
    // the levels above are created too, like IMAP CREATE
    assert!(f.folder(jdoe, "Projects").is_some());
    let p2026 = f.folder(jdoe, "Projects/2026").expect("Projects/2026");
    assert_eq!((p2026.next_uid, p2026.message_count), (1, 0));
    let (state, _, err) = f.outcome(r2);
    assert_eq!(state, "FAILED");
    assert!(
        err.unwrap().contains("INBOX exists"),
        "INBOX is INBOX in any case"
    );
    let (state, _, err) = f.outcome(r3);
    assert_eq!(state, "FAILED");
    assert!(err.unwrap().contains("empty level"));

    // a folder with folders below it, and INBOX, cannot be deleted
    let d1 = f.request(
        jdoe,
        "DELETE_FOLDER",
        Some("Projects"),
        None,
        None,
        None,
        None,
        None,
    );
    let d2 = f.request(
        jdoe,
        "DELETE_FOLDER",
        Some("INBOX"),
        None,
        None,
        None,
        None,
        None,
    );
    let d3 = f.request(
        jdoe,
        "DELETE_FOLDER",
        None,
        Some(p2026.folder_id),
        None,
        None,
        None,
        None,
    );
    let rep = f.round();
    assert_eq!((rep.done, rep.failed), (1, 2), "{rep:?}");
    assert!(f.outcome(d1).2.unwrap().contains("below it"));
    assert!(f.outcome(d2).2.unwrap().contains("INBOX cannot be deleted"));
    assert_eq!(f.outcome(d3).0, "DONE");
    assert!(f.folder(jdoe, "Projects/2026").is_none());
    // done requests are not done again
    assert_eq!(f.round(), RequestReport::default());
}

#[test]
fn an_iosend_submission_is_delivered_and_its_carbon_copy_filed() {
    let f = Fixture::new(USERS);
    let (jdoe, boss) = (f.account("jdoe"), f.account("boss"));
    let m = f.iosend(jdoe, "jdoe@acme.com", &["boss@acme.com"], Some("Sent"));
    f.round();
    f.deliver();
    let inbox = f.messages(boss, "INBOX");
    assert_eq!(inbox.len(), 1, "the recipient got it");
    assert_eq!(inbox[0].message_id, m);
    let sent = f.messages(jdoe, "Sent");
    assert_eq!(sent.len(), 1, "the sender's copy is filed");
    assert_eq!(sent[0].message_id, m, "the content is stored once");
    assert_eq!(sent[0].flags, "\\Seen");
    assert_eq!(f.pointer_count(m), 2);
    let size: i64 =
        f.db.query_row(
            "SELECT size_bytes FROM es_message WHERE message_id = ?1",
            [m],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        f.used(jdoe),
        size,
        "the copy counts against the sender's quota"
    );
    // the content reads as the IMAP server reads it (the structure is computed on demand)
    let content = f.store.read(|c| mailbox::content(c, m)).unwrap().unwrap();
    let s = esmail::mail::structure::Structure::of(&content);
    assert!(
        s.bodystructure.contains("\"stock.csv\""),
        "{}",
        s.bodystructure
    );
    // the recorded offsets cut out the attachment's body as transmitted
    let (off, len): (i64, i64) = f
        .db
        .query_row(
            "SELECT body_offset, body_bytes FROM es_message_part WHERE message_id = ?1 AND part_no = 3",
            [m],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        &content[off as usize..(off + len) as usize],
        b"cGFydCxxdHkKNDcxMSwzCg=="
    );
    // and they agree with the offsets intake computes for the same bytes
    let bodies = esmail::mail::mime::part_bodies(&content);
    assert_eq!(
        bodies
            .iter()
            .map(|b| (b.part_no, b.offset, b.bytes, b.encoding))
            .collect::<Vec<_>>(),
        vec![
            (2, bodies[0].offset, bodies[0].bytes, None),
            (3, off, len, Some("BASE64"))
        ]
    );
}

#[test]
fn messages_are_copied_moved_flagged_and_deleted_with_uids_quota_and_the_change_feed() {
    let f = Fixture::new(&format!(
        "{USERS}\ncreate person username=tiny domain=acme.com quota=10;"
    ));
    let (jdoe, boss) = (f.account("jdoe"), f.account("boss"));
    let m = f.iosend(jdoe, "jdoe@acme.com", &["boss@acme.com"], None);
    f.deliver();
    let inbox = f.folder(boss, "INBOX").unwrap();
    let uid = f.messages(boss, "INBOX")[0].uid;
    let size = f.used(boss);
    assert!(size > 0);
    let feed_before: i64 =
        f.db.query_row("SELECT COUNT(*) FROM es_mail_change", [], |r| r.get(0))
            .unwrap();

    f.request(
        boss,
        "CREATE_FOLDER",
        Some("Archive"),
        None,
        None,
        None,
        None,
        None,
    );
    f.round();
    let copy = f.request(
        boss,
        "COPY",
        None,
        Some(inbox.folder_id),
        Some(uid),
        None,
        Some("Archive"),
        None,
    );
    let flag = f.request(
        boss,
        "SET_FLAGS",
        None,
        Some(inbox.folder_id),
        Some(uid),
        None,
        None,
        Some("+\\Flagged +$Stock -\\Seen"),
    );
    let bad_flag = f.request(
        boss,
        "SET_FLAGS",
        None,
        Some(inbox.folder_id),
        Some(uid),
        None,
        None,
        Some("+\\Recent"),
    );
    let nowhere = f.request(
        boss,
        "COPY",
        None,
        Some(inbox.folder_id),
        Some(uid),
        None,
        Some("Nowhere"),
        None,
    );
    // another account's folder is not this account's to touch
    let foreign = f.request(
        jdoe,
        "DELETE_MESSAGE",
        None,
        Some(inbox.folder_id),
        Some(uid),
        None,
        None,
        None,
    );
    let rep = f.round();
    assert_eq!((rep.done, rep.failed), (2, 3), "{rep:?}");
    let (state, copy_uid, _) = f.outcome(copy);
    assert_eq!(state, "DONE");
    assert_eq!(copy_uid, Some(1), "the copy's UID in Archive");
    assert_eq!(f.outcome(flag).0, "DONE");
    assert!(f.outcome(bad_flag).2.unwrap().contains("cannot be set"));
    assert!(f.outcome(nowhere).2.unwrap().contains("no folder Nowhere"));
    assert!(f.outcome(foreign).2.unwrap().contains("in this mailbox"));
    assert_eq!(f.used(boss), 2 * size, "a copy is charged");
    assert_eq!(f.pointer_count(m), 2);
    let inbox_now = f.messages(boss, "INBOX");
    assert_eq!(inbox_now[0].flags, "\\Flagged $Stock");

    // MOVE: not charged again, the source is expunged with a tombstone
    let mv = f.request(
        boss,
        "MOVE",
        None,
        Some(inbox.folder_id),
        Some(uid),
        None,
        Some("Trash"),
        None,
    );
    f.round();
    let (state, moved_uid, err) = f.outcome(mv);
    assert_eq!(state, "DONE", "{err:?}");
    assert_eq!(moved_uid, Some(1));
    assert!(f.messages(boss, "INBOX").is_empty());
    let trash = f.messages(boss, "Trash");
    assert_eq!(
        trash[0].flags, "\\Flagged $Stock",
        "flags travel with a move"
    );
    assert_eq!(f.used(boss), 2 * size);
    let tombstones: i64 =
        f.db.query_row(
            "SELECT COUNT(*) FROM es_expunged WHERE folder_id = ?1 AND msg_uid = ?2",
            params![inbox.folder_id, uid],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tombstones, 1);

    // DELETE_MESSAGE: the quota comes back, the content loses a pointer
    let archive = f.folder(boss, "Archive").unwrap();
    let del = f.request(
        boss,
        "DELETE_MESSAGE",
        None,
        Some(archive.folder_id),
        Some(1),
        None,
        None,
        None,
    );
    let again = f.request(
        boss,
        "DELETE_MESSAGE",
        None,
        Some(archive.folder_id),
        Some(1),
        None,
        None,
        None,
    );
    f.round();
    assert_eq!(f.outcome(del).0, "DONE");
    assert!(f.outcome(again).2.unwrap().contains("no message 1"));
    assert!(f.messages(boss, "Archive").is_empty());
    assert_eq!(f.used(boss), size);
    assert_eq!(f.pointer_count(m), 1);

    // every change is in the feed that IDLE sessions follow
    let feed_after: i64 =
        f.db.query_row("SELECT COUNT(*) FROM es_mail_change", [], |r| r.get(0))
            .unwrap();
    assert!(
        feed_after >= feed_before + 5,
        "{feed_before} -> {feed_after}"
    );

    // a copy beyond the quota is refused, nothing changes
    let tiny = f.account("tiny");
    let m2 = f.iosend(jdoe, "jdoe@acme.com", &["jdoe@acme.com"], None);
    let full = f.request(
        tiny,
        "APPEND",
        Some("INBOX"),
        None,
        None,
        Some(m2),
        None,
        None,
    );
    f.deliver();
    f.round();
    let (state, _, err) = f.outcome(full);
    assert_eq!(state, "FAILED");
    assert!(err.unwrap().contains("mailbox is full"));
    assert!(f.messages(tiny, "INBOX").is_empty());
    assert_eq!(f.used(tiny), 0);
}

#[test]
fn a_pending_append_keeps_its_message_from_the_collector() {
    let f = Fixture::new(USERS);
    let jdoe = f.account("jdoe");
    let m = f.iosend(jdoe, "jdoe@acme.com", &["nobody@acme.com"], Some("Sent"));
    // the entry is finished (the recipient is unknown) before the request is performed
    f.deliver();
    let waiting: i64 =
        f.db.query_row(
            "SELECT COUNT(*) FROM es_queue_entry WHERE message_id = ?1",
            [m],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(waiting, 0);
    esmail::collector::collect_round(&f.store, &Default::default()).expect("a Collector round");
    let still: Option<i64> =
        f.db.query_row(
            "SELECT message_id FROM es_message WHERE message_id = ?1",
            [m],
            |r| r.get(0),
        )
        .optional()
        .unwrap();
    assert_eq!(
        still,
        Some(m),
        "the Collector kept the content of a pending request"
    );
    f.round();
    assert_eq!(f.messages(jdoe, "Sent").len(), 1);
}

#[test]
fn dapls_requests_change_the_directory_as_iofcmgr_does() {
    let f = Fixture::new("");
    let hash = esmail::directory::password::hash("s3cret pass").unwrap();
    let changes_before: i64 =
        f.db.query_row("SELECT COUNT(*) FROM es_dir_change", [], |r| r.get(0))
            .unwrap();
    // the statement exactly as DAPLS.CreateUser writes it: every value quoted, `\` and `"`
    // escaped with `\`
    let create = f.admin(&format!(
        "create person username=\"ann\" domain=\"acme.com\" passwordhash=\"{hash}\" \
         lastname=\"O'Neil \\\"Annie\\\" \\\\ Co\" status=\"enabled\";"
    ));
    let list = f.admin("create publicdl name=stock-alerts domain=acme.com members=\"ann@acme.com, someone@example.org\"");
    let wrong = f.admin("create domain qualifiedname=evil.example;");
    let clear = f.admin("create person username=bob domain=acme.com password=plain;");
    let dangling = f.admin("create publicdl name=broken domain=acme.com members=nobody@acme.com;");
    let rep = f.round();
    assert_eq!((rep.done, rep.failed), (2, 3), "{rep:?}");
    let (state, result, err) = f.admin_outcome(create);
    assert_eq!(state, "DONE", "{err:?}");
    assert!(result.unwrap().contains("created person ann@acme.com"));
    assert_eq!(f.admin_outcome(list).0, "DONE");
    assert!(f.admin_outcome(wrong).2.unwrap().contains("DAPLS manages"));
    assert!(f.admin_outcome(clear).2.unwrap().contains("passwordhash"));
    assert!(f.admin_outcome(dangling).2.unwrap().contains("dangling"));

    // the person is an account with its INBOX and special-use folders, subscribed
    let ann = f.account("ann");
    let paths: Vec<String> = f.folders(ann).into_iter().map(|x| x.path).collect();
    for p in ["INBOX", "Sent", "Drafts", "Trash", "Junk"] {
        assert!(paths.iter().any(|x| x == p), "{p} in {paths:?}");
    }
    let (lastname, stored_hash): (String, String) = f
        .db
        .query_row(
            "SELECT d.attr_value, a.password_hash FROM es_dir_attribute d JOIN es_account a ON a.object_id = d.object_id
             WHERE d.object_id = ?1 AND d.attr_name = 'lastname'",
            [ann],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(lastname, "O'Neil \"Annie\" \\ Co");
    assert_eq!(stored_hash, hash, "the hash is stored as given");
    // and each change is in the directory change log, in the same transaction
    let changes_after: i64 =
        f.db.query_row("SELECT COUNT(*) FROM es_dir_change", [], |r| r.get(0))
            .unwrap();
    assert_eq!(changes_after, changes_before + 2);
    let fetched = f
        .node
        .fetch("fetch publicdl name=stock-alerts domain=acme.com;");
    assert_eq!(fetched.len(), 1);

    // deleting the person: its list membership is a reference iofcmgr refuses to leave dangling
    let del = f.admin("delete person username=ann domain=acme.com;");
    f.round();
    let (state, _, err) = f.admin_outcome(del);
    assert_eq!(state, "FAILED", "iofcmgr refuses it too");
    assert!(!err.unwrap().is_empty());
    let fix =
        f.admin("modify publicdl name=stock-alerts domain=acme.com removemembers=ann@acme.com;");
    let del = f.admin("delete person username=ann domain=acme.com;");
    f.round();
    assert_eq!(f.admin_outcome(fix).0, "DONE");
    assert_eq!(f.admin_outcome(del).0, "DONE");
    let gone: Option<i64> =
        f.db.query_row(
            "SELECT object_id FROM es_dir_object WHERE object_id = ?1",
            [ann],
            |r| r.get(0),
        )
        .optional()
        .unwrap();
    assert_eq!(gone, None);
}

#[test]
fn the_postman_process_performs_requests_after_they_are_committed() {
    let f = Fixture::new(USERS);
    let jdoe = f.account("jdoe");
    f.node
        .iofcmgr("register paramvalue server=postman instance=1 parameter=poll_ms value=100;")
        .ok();
    let mut child = common::command(common::esmail_bin(), f.node.path())
        .env("ESMAIL_STORE", f.node.url())
        .args(["postman", "--instance", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start esmail postman");
    // a request in an open transaction is not seen; once committed it is performed
    f.db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let id = f.request(
        jdoe,
        "CREATE_FOLDER",
        Some("Orders"),
        None,
        None,
        None,
        None,
        None,
    );
    std::thread::sleep(Duration::from_millis(500));
    f.db.execute_batch("COMMIT").unwrap();
    let until = Instant::now() + Duration::from_secs(common::WAIT_SECS);
    loop {
        if f.outcome(id).0 == "DONE" {
            break;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!(
                "the Postman did not perform the request: {:?}",
                f.outcome(id)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(f.folder(jdoe, "Orders").is_some());
    // a rolled-back request never existed
    f.db.execute_batch("BEGIN IMMEDIATE").unwrap();
    f.request(
        jdoe,
        "CREATE_FOLDER",
        Some("Never"),
        None,
        None,
        None,
        None,
        None,
    );
    f.db.execute_batch("ROLLBACK").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert!(f.folder(jdoe, "Never").is_none());
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
}

#[test]
fn the_intake_records_where_each_part_body_lies_for_im_api() {
    use esmail::mail::intake::{self, Submission, Trace};
    let f = Fixture::new(USERS);
    let msg = b"From: a@example.org\r\nTo: jdoe@acme.com\r\nSubject: parts\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
--B\r\nContent-Type: application/octet-stream; name=\"x.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n\
--B\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
caf=C3=A9=\r\n au lait\r\n--B--\r\n";
    let guid = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    let trace = intake::received_header(&Trace {
        helo: "client",
        remote_ip: "127.0.0.1",
        by: "mx.acme.com",
        with: "ESMTP",
        id: &guid,
        for_rcpt: None,
        at: now,
    });
    let mut content = trace.into_bytes();
    content.extend_from_slice(msg);
    let inspected = intake::inspect(msg).unwrap();
    let q = intake::submit(
        &f.store,
        &Submission {
            node_id: f.node_id,
            entry_guid: &guid,
            sender: Some("a@example.org"),
            recipients: &["jdoe@acme.com".to_string()],
            submitted_by: None,
            content: &content,
            inspected: &inspected,
            received_at: now,
        },
    )
    .unwrap();
    let mut st =
        f.db.prepare(
            "SELECT part_no, body_offset, body_bytes, transfer_encoding FROM es_message_part
             WHERE message_id = ?1 ORDER BY part_no",
        )
        .unwrap();
    let rows: Vec<(i64, i64, i64, Option<String>)> = st
        .query_map([q.message_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let body = |i: usize| &content[rows[i].1 as usize..(rows[i].1 + rows[i].2) as usize];
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(body(0), b"hello");
    assert_eq!(body(1), b"AAECAwQ=");
    assert_eq!(rows[1].3.as_deref(), Some("BASE64"));
    assert_eq!(body(2), b"caf=C3=A9=\r\n au lait");
    assert_eq!(rows[2].3.as_deref(), Some("QUOTED-PRINTABLE"));
    assert_eq!(rows[0].3, None);
}
