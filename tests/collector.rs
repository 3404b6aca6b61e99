//! The Collector and Statistics processes, through their library side: a store made by
//! `esmail init`, seeded with fixture rows, then one collection round (or one sample) run on it.
//! (The runs through the Guardian, `esmail collector --instance N`, are tested end to end
//! elsewhere.)

mod common;

use chrono::{DateTime, Duration, Utc};
use common::Node;
use esmail::collector::{collect_round, CollectorParams, Kind, RoundReport};
use esmail::store::{time_to_text, OpenOptions, Store, StoreUrl};
use rusqlite::{params, Connection, OptionalExtension};

// ------------------------------------------------------------------ fixture helpers

/// A store after `esmail init --domain acme.com`, with a direct connection for fixtures.
struct Fixture {
    node: Node,
    db: Connection,
}

fn days_ago(days: i64) -> String {
    time_to_text(&(Utc::now() - Duration::days(days)))
}

fn hours_ago(hours: i64) -> String {
    time_to_text(&(Utc::now() - Duration::hours(hours)))
}

impl Fixture {
    fn new() -> Fixture {
        let node = Node::new();
        let db = Connection::open(node.db()).expect("open the store file");
        db.pragma_update(None, "foreign_keys", "ON").unwrap();
        db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        Fixture { node, db }
    }

    fn store(&self) -> Store {
        Store::open(&StoreUrl::Sqlite(self.node.db()), &OpenOptions::default()).expect("open store")
    }

    fn node_id(&self) -> i64 {
        self.scalar("SELECT CAST(setting_value AS INTEGER) FROM es_setting WHERE setting_name = 'local_node_id'")
    }

    fn scalar(&self, sql: &str) -> i64 {
        self.db.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn count(&self, table: &str, cond: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {cond}"))
    }

    /// orapost's INBOX (created by init): (folder_id, account_id).
    fn orapost_inbox(&self) -> (i64, i64) {
        self.db
            .query_row(
                "SELECT f.folder_id, f.owner_account_id FROM es_folder f
                 JOIN es_dir_object o ON o.object_id = f.owner_account_id
                 WHERE o.name_key = 'orapost' AND f.folder_path = 'INBOX'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("orapost has an INBOX")
    }

    fn message(&self, size: i64, pointer_count: i64) -> i64 {
        self.db
            .execute(
                "INSERT INTO es_message (guid, origin_node_id, size_bytes, sha256, received_at, pointer_count, content)
                 VALUES (?1, ?2, ?3, 'e3b0c442', ?4, ?5, ?6)",
                params![
                    uuid::Uuid::new_v4().to_string(),
                    self.node_id(),
                    size,
                    days_ago(0),
                    pointer_count,
                    vec![b'x'; size as usize]
                ],
            )
            .unwrap();
        self.db.last_insert_rowid()
    }

    fn pointer(&self, message_id: i64, uid: i64) {
        let (folder, account) = self.orapost_inbox();
        self.db
            .execute(
                "INSERT INTO es_folder_message (folder_id, msg_uid, message_id, account_id, flags, modseq, internal_date)
                 VALUES (?1, ?2, ?3, ?4, NULL, 1, ?5)",
                params![folder, uid, message_id, account, days_ago(0)],
            )
            .unwrap();
    }

    fn queue_entry(&self, queue: &str, message_id: Option<i64>, recipients: &[&str]) -> i64 {
        self.db
            .execute(
                "INSERT INTO es_queue_entry (guid, queue_name, node_id, message_id, next_attempt_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![uuid::Uuid::new_v4().to_string(), queue, self.node_id(), message_id, days_ago(0)],
            )
            .unwrap();
        let entry = self.db.last_insert_rowid();
        for (i, a) in recipients.iter().enumerate() {
            self.db
                .execute(
                    "INSERT INTO es_queue_recipient (entry_id, rcpt_pos, address) VALUES (?1, ?2, ?3)",
                    params![entry, i as i64 + 1, a],
                )
                .unwrap();
        }
        entry
    }

    fn billing(&self, created_at: &str) -> i64 {
        self.db
            .execute(
                "INSERT INTO es_billing (node_id, billing_kind, address, message_guid, size_bytes, created_at)
                 VALUES (?1, 'RECV', 'orapost@acme.com', ?2, 10, ?3)",
                params![self.node_id(), uuid::Uuid::new_v4().to_string(), created_at],
            )
            .unwrap();
        self.db.last_insert_rowid()
    }

    fn exists(&self, table: &str, key: &str, id: i64) -> bool {
        self.db
            .query_row(
                &format!("SELECT 1 FROM {table} WHERE {key} = ?1"),
                [id],
                |_| Ok(()),
            )
            .optional()
            .unwrap()
            .is_some()
    }
}

fn round(f: &Fixture, params: &CollectorParams) -> RoundReport {
    collect_round(&f.store(), params).expect("collection round")
}

// ------------------------------------------------------------------ the collector

#[test]
fn a_round_removes_what_nothing_needs_and_keeps_the_rest() {
    let f = Fixture::new();
    // pointed at by orapost's INBOX; its pointer_count says 0, but the pointer is what counts
    let pointed = f.message(100, 0);
    f.pointer(pointed, 1);
    // no pointer, no queue entry: garbage
    let pointerless = f.message(200, 0);
    // waiting in the Submission queue: still needed
    let queued = f.message(300, 0);
    let submission = f.queue_entry("SUBMISSION", Some(queued), &["orapost@acme.com"]);
    // a COLLECTOR entry with recipients, and the message only it refers to
    let collectable = f.message(400, 0);
    let collector_entry = f.queue_entry(
        "COLLECTOR",
        Some(collectable),
        &["a@acme.com", "b@acme.com"],
    );
    let old_billing = f.billing(&days_ago(50));
    let new_billing = f.billing(&days_ago(10));

    let r = round(&f, &CollectorParams::default());

    assert!(
        f.exists("es_message", "message_id", pointed),
        "a pointed message stays"
    );
    assert!(
        !f.exists("es_message", "message_id", pointerless),
        "a pointerless message goes"
    );
    assert!(
        f.exists("es_message", "message_id", queued),
        "a queued message stays"
    );
    assert!(
        f.exists("es_queue_entry", "entry_id", submission),
        "the Submission entry stays"
    );
    assert!(
        !f.exists("es_queue_entry", "entry_id", collector_entry),
        "the COLLECTOR entry goes"
    );
    assert_eq!(
        f.count(
            "es_queue_recipient",
            &format!("entry_id = {collector_entry}")
        ),
        0
    );
    assert_eq!(
        f.count("es_queue_recipient", &format!("entry_id = {submission}")),
        1
    );
    assert!(
        !f.exists("es_message", "message_id", collectable),
        "the queue pass runs first, so the message freed by the COLLECTOR entry goes in the same round"
    );
    assert!(
        !f.exists("es_billing", "billing_id", old_billing),
        "billing older than 45 days goes"
    );
    assert!(
        f.exists("es_billing", "billing_id", new_billing),
        "billing of 10 days stays"
    );
    assert!(f.exists("es_folder_message", "message_id", pointed));

    assert_eq!(r.messages, 2, "{r:?}");
    assert_eq!(r.queue_entries, 1, "{r:?}");
    assert_eq!(r.queue_recipients, 2, "{r:?}");
    assert_eq!(r.billing, 1, "{r:?}");
    assert!(!r.interrupted);
    assert!(
        r.summary().contains("2 message contents"),
        "{}",
        r.summary()
    );

    // nothing left to do: a second round removes nothing
    let again = round(&f, &CollectorParams::default());
    assert_eq!(again.total(), 0, "{again:?}");
}

#[test]
fn batches_are_bounded_and_a_kind_runs_until_a_short_batch() {
    let f = Fixture::new();
    let ids: Vec<i64> = (0..5).map(|i| f.message(10 + i, 0)).collect();
    let params = CollectorParams {
        work: vec![Kind::Content],
        batch_size: 2,
        ..CollectorParams::default()
    };
    let r = round(&f, &params);
    assert_eq!(r.messages, 5);
    assert_eq!(
        r.batches, 3,
        "2 + 2 + 1 rows: the short batch ends the kind"
    );
    for id in ids {
        assert!(!f.exists("es_message", "message_id", id));
    }
    // exactly a batch full: one more (empty) batch tells that nothing is left
    for i in 0..2 {
        f.message(10 + i, 0);
    }
    let r = round(&f, &params);
    assert_eq!((r.messages, r.batches), (2, 2));
}

#[test]
fn only_the_listed_kinds_run() {
    let f = Fixture::new();
    let orphan = f.message(10, 0);
    let old_billing = f.billing(&days_ago(50));
    let (work, unknown) = CollectorParams::parse_work("billing, nonsense,BILLING");
    assert_eq!(work, vec![Kind::Billing]);
    assert_eq!(unknown, vec!["nonsense".to_string()]);
    let params = CollectorParams {
        work,
        ..CollectorParams::default()
    };
    let r = round(&f, &params);
    assert_eq!((r.billing, r.messages), (1, 0));
    assert!(
        f.exists("es_message", "message_id", orphan),
        "content is not in the work list"
    );
    assert!(!f.exists("es_billing", "billing_id", old_billing));

    // nothing to do at all
    let r = round(
        &f,
        &CollectorParams {
            work: vec![],
            ..CollectorParams::default()
        },
    );
    assert_eq!(r, RoundReport::default());
}

#[test]
fn parameters_come_from_the_instance_values() {
    let p = CollectorParams::from_lookup(|name| match name {
        "work" => Some("statistics,content,queue,bogus".into()),
        "batch_size" => Some("0".into()),
        "gc_billinfo_kept" => Some("7".into()),
        "stats_kept_days" => Some("not a number".into()),
        _ => None,
    });
    assert_eq!(
        p.work,
        vec![Kind::Queue, Kind::Content, Kind::Statistics],
        "round order"
    );
    assert_eq!(p.batch_size, 1, "at least one row a batch");
    assert_eq!(p.billing_kept_days, 7);
    assert_eq!(p.stats_kept_days, 90, "unreadable: the default");
    assert_eq!(p.changelog_kept_days, 30);
    assert_eq!(p.tombstone_kept_days, 30);
    assert_eq!(p.autoreply_kept_days, 30);
    assert_eq!(p.forward_kept_days, 7);
    assert_eq!(p.requests_kept_days, 7);
    let all = CollectorParams::from_lookup(|name| {
        (name == "work").then(|| {
            "content,queue,billing,changelog,tombstones,mailchanges,sessions,authfailures,statistics,autoreplies,forwards,requests"
                .to_string()
        })
    });
    assert_eq!(all, CollectorParams::default());
}

#[test]
fn the_stored_defaults_are_the_collectors_defaults() {
    // what `esmail init` stored (schema steps 2 and 8) reads back as CollectorParams::default()
    let f = Fixture::new();
    let stored = |name: &str| -> Option<String> {
        f.db.query_row(
            "SELECT param_value FROM es_param_default WHERE type_name = 'collector' AND param_name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()
        .unwrap()
        .flatten()
    };
    assert_eq!(
        stored("work").as_deref(),
        Some("content,queue,billing,changelog,tombstones,mailchanges,sessions,authfailures,statistics,autoreplies,forwards,requests")
    );
    assert_eq!(stored("autoreply_kept_days").as_deref(), Some("30"));
    assert_eq!(stored("forward_kept_days").as_deref(), Some("7"));
    assert_eq!(stored("requests_kept_days").as_deref(), Some("7"));
    assert_eq!(
        CollectorParams::from_lookup(stored),
        CollectorParams::default()
    );
}

#[test]
fn retention_of_logs_sessions_and_statistics() {
    let f = Fixture::new();
    let node = f.node_id();
    let (folder, account) = f.orapost_inbox();
    let db = &f.db;
    for (uid, at) in [(1, days_ago(31)), (2, days_ago(29))] {
        db.execute(
            "INSERT INTO es_expunged (folder_id, msg_uid, modseq, expunged_at) VALUES (?1, ?2, 1, ?3)",
            params![folder, uid, at],
        )
        .unwrap();
        db.execute(
            "INSERT INTO es_mail_change (account_id, folder_id, msg_uid, change_kind, modseq, changed_at)
             VALUES (?1, ?2, ?3, 'EXPUNGE', 1, ?4)",
            params![account, folder, uid, at],
        )
        .unwrap();
    }
    for (id, at) in [("old", hours_ago(25)), ("new", hours_ago(23))] {
        db.execute(
            "INSERT INTO es_session (session_id, node_id, type_name, instance_no, protocol, session_state, started_at, last_active_at)
             VALUES (?1, ?2, 'imap4srv', 1, 'IMAP', 'SELECTED', ?3, ?3)",
            params![id, node, at],
        )
        .unwrap();
        db.execute(
            "INSERT INTO es_auth_failure (remote_addr, login_name, failures, first_failed_at, last_failed_at)
             VALUES ('192.0.2.1', ?1, 3, ?2, ?2)",
            params![id, at],
        )
        .unwrap();
    }
    for (metric, at) in [("old", days_ago(91)), ("new", days_ago(89))] {
        db.execute(
            "INSERT INTO es_stat_sample (node_id, metric, metric_value, sampled_at) VALUES (?1, ?2, 1.0, ?3)",
            params![node, metric, at],
        )
        .unwrap();
        db.execute(
            "INSERT INTO es_monitor_report (node_id, test_name, severity, summary, created_at)
             VALUES (?1, ?2, 'OK', 'fine', ?3)",
            params![node, metric, at],
        )
        .unwrap();
    }

    let r = round(&f, &CollectorParams::default());
    assert_eq!(
        (
            r.tombstones,
            r.mail_changes,
            r.sessions,
            r.auth_failures,
            r.stat_samples,
            r.monitor_reports
        ),
        (1, 1, 1, 1, 1, 1),
        "{r:?}"
    );
    assert_eq!(f.count("es_expunged", "msg_uid = 2"), 1);
    assert_eq!(f.count("es_expunged", "1 = 1"), 1);
    assert_eq!(f.count("es_mail_change", "msg_uid = 2"), 1);
    assert_eq!(f.count("es_mail_change", "msg_uid = 1"), 0);
    assert_eq!(f.count("es_session", "session_id = 'new'"), 1);
    assert_eq!(f.count("es_session", "1 = 1"), 1);
    assert_eq!(f.count("es_auth_failure", "login_name = 'new'"), 1);
    assert_eq!(f.count("es_auth_failure", "1 = 1"), 1);
    assert_eq!(f.count("es_stat_sample", "metric = 'new'"), 1);
    assert_eq!(f.count("es_stat_sample", "metric = 'old'"), 0);
    assert_eq!(f.count("es_monitor_report", "test_name = 'new'"), 1);
    assert_eq!(f.count("es_monitor_report", "test_name = 'old'"), 0);
}

// ------------------------------------------------------------------ rule memories, requests

impl Fixture {
    fn orapost(&self) -> i64 {
        self.orapost_inbox().1
    }

    fn autoreply(&self, sender: &str, replied_at: &str) {
        self.db
            .execute(
                "INSERT INTO es_autoreply_memory (account_id, sender_key, replied_at) VALUES (?1, ?2, ?3)",
                params![self.orapost(), sender, replied_at],
            )
            .unwrap();
    }

    fn autoreplies(&self) -> Vec<String> {
        let mut st = self
            .db
            .prepare("SELECT sender_key FROM es_autoreply_memory ORDER BY sender_key")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn forward_memory(&self, message_id: i64, forwarded_at: &str) {
        self.db
            .execute(
                "INSERT INTO es_rule_forward (message_id, account_id, forwarded_at) VALUES (?1, ?2, ?3)",
                params![message_id, self.orapost(), forwarded_at],
            )
            .unwrap();
    }

    fn mailbox_request(&self, state: &str, created_at: &str, done_at: Option<&str>) -> i64 {
        self.db
            .execute(
                "INSERT INTO es_mailbox_request (account_id, request_kind, folder_path, request_state, created_at, done_at)
                 VALUES (?1, 'CREATE_FOLDER', 'Projects', ?2, ?3, ?4)",
                params![self.orapost(), state, created_at, done_at],
            )
            .unwrap();
        self.db.last_insert_rowid()
    }

    fn admin_request(&self, state: &str, created_at: &str, done_at: Option<&str>) -> i64 {
        self.db
            .execute(
                "INSERT INTO es_admin_request (statement_text, request_state, created_at, done_at)
                 VALUES ('delete person name=nobody;', ?1, ?2, ?3)",
                params![state, created_at, done_at],
            )
            .unwrap();
        self.db.last_insert_rowid()
    }
}

/// The ids of the requests planted by [`plant_requests`]: (gone, kept) for each table.
struct Requests {
    mailbox_gone: Vec<i64>,
    mailbox_kept: Vec<i64>,
    admin_gone: Vec<i64>,
    admin_kept: Vec<i64>,
}

/// Finished requests of 8 days (gone with the default 7 days), and what stays: finished 6 days
/// ago, and PENDING ones however old (even one whose done_at says long ago).
fn plant_requests(f: &Fixture) -> Requests {
    let mut r = Requests {
        mailbox_gone: vec![],
        mailbox_kept: vec![],
        admin_gone: vec![],
        admin_kept: vec![],
    };
    for (state, done, gone) in [
        ("DONE", Some(days_ago(8)), true),
        ("FAILED", Some(days_ago(8)), true),
        ("DONE", Some(days_ago(6)), false),
        ("FAILED", Some(days_ago(6)), false),
        ("PENDING", None, false),
        ("PENDING", Some(days_ago(60)), false),
    ] {
        let m = f.mailbox_request(state, &days_ago(60), done.as_deref());
        let a = f.admin_request(state, &days_ago(60), done.as_deref());
        if gone {
            r.mailbox_gone.push(m);
            r.admin_gone.push(a);
        } else {
            r.mailbox_kept.push(m);
            r.admin_kept.push(a);
        }
    }
    r
}

fn assert_requests(f: &Fixture, r: &Requests) {
    for id in &r.mailbox_gone {
        assert!(
            !f.exists("es_mailbox_request", "request_id", *id),
            "finished mailbox request {id} of 8 days goes"
        );
    }
    for id in &r.admin_gone {
        assert!(
            !f.exists("es_admin_request", "request_id", *id),
            "finished directory request {id} of 8 days goes"
        );
    }
    for id in &r.mailbox_kept {
        assert!(
            f.exists("es_mailbox_request", "request_id", *id),
            "mailbox request {id} (recent or pending) stays"
        );
    }
    for id in &r.admin_kept {
        assert!(
            f.exists("es_admin_request", "request_id", *id),
            "directory request {id} (recent or pending) stays"
        );
    }
}

/// Auto-reply memories 10, 45 and 61 days old, and forward memories 8 and 6 days old whose
/// messages are in orapost's INBOX (the content stays), and a third 30 days old whose message
/// also waits in `queue`: (old, recent, queued) message ids.
fn plant_rule_memories(f: &Fixture, queue: &str) -> (i64, i64, i64) {
    f.autoreply("recent@example.com", &days_ago(10));
    f.autoreply("within-the-period@example.com", &days_ago(45));
    f.autoreply("past-every-period@example.com", &days_ago(61));
    let forwarded = |uid: i64| {
        let m = f.message(10, 1);
        f.pointer(m, uid);
        m
    };
    let old = forwarded(1);
    f.forward_memory(old, &days_ago(8));
    let recent = forwarded(2);
    f.forward_memory(recent, &days_ago(6));
    let queued = forwarded(3);
    f.forward_memory(queued, &days_ago(30));
    f.queue_entry(queue, Some(queued), &["orapost@acme.com"]);
    (old, recent, queued)
}

#[test]
fn rule_memories_and_finished_requests_go_when_nothing_can_need_them() {
    let f = Fixture::new();
    // the reply rules: a system rule with the default period (7 days) and orapost's inactive
    // vacation rule of 60 days (it may be activated again: its period counts)
    f.node
        .iofcmgr(
            "create rule name=ack system=yes;\n\
             add action rule=ack system=yes do=reply;\n\
             create rule name=vacation username=orapost active=no;\n\
             add action rule=vacation username=orapost do=reply days=60;",
        )
        .ok();
    assert_eq!(
        f.count("es_rule_action", "action_kind = 'REPLY'"),
        2,
        "the two reply actions are stored"
    );
    // old, but a copy of its message still waits in a queue: it may come back
    let (old, recent, queued) = plant_rule_memories(&f, "SUBMISSION");

    let requests = plant_requests(&f);

    let r = round(&f, &CollectorParams::default());
    assert_eq!(
        (
            r.autoreplies,
            r.rule_forwards,
            r.mailbox_requests,
            r.admin_requests
        ),
        (1, 1, 2, 2),
        "{r:?}"
    );
    assert_eq!(
        (r.messages, r.queue_entries, r.billing, r.dir_changes),
        (0, 0, 0, 0),
        "nothing else: {r:?}"
    );
    assert!(
        r.summary().contains("1 auto-reply memories")
            && r.summary().contains("2 finished mailbox requests"),
        "{}",
        r.summary()
    );
    assert_eq!(
        f.autoreplies(),
        vec!["recent@example.com", "within-the-period@example.com"],
        "older than autoreply_kept_days (30) but within the 60-day period: it still stops a reply"
    );
    assert_eq!(
        f.count("es_rule_forward", &format!("message_id = {old}")),
        0
    );
    assert_eq!(
        f.count("es_rule_forward", &format!("message_id = {recent}")),
        1
    );
    assert_eq!(
        f.count("es_rule_forward", &format!("message_id = {queued}")),
        1,
        "a queue entry still holds the message"
    );
    assert!(
        f.exists("es_message", "message_id", old),
        "the content stays"
    );
    assert_requests(&f, &requests);

    // a second round finds nothing more
    let again = round(&f, &CollectorParams::default());
    assert_eq!(again.total(), 0, "{again:?}");

    // without the 60-day rule, the longest period is 7 days: autoreply_kept_days (30) decides
    f.node
        .iofcmgr("delete rule name=vacation username=orapost;")
        .ok();
    // and once the queue entry is gone, nothing holds the message any more
    f.db.execute(
        "DELETE FROM es_queue_recipient WHERE entry_id IN (SELECT entry_id FROM es_queue_entry WHERE message_id = ?1)",
        [queued],
    )
    .unwrap();
    f.db.execute("DELETE FROM es_queue_entry WHERE message_id = ?1", [queued])
        .unwrap();
    let r = round(
        &f,
        &CollectorParams {
            work: vec![Kind::AutoReplies, Kind::Forwards],
            ..CollectorParams::default()
        },
    );
    assert_eq!((r.autoreplies, r.rule_forwards), (1, 1), "{r:?}");
    assert_eq!(f.autoreplies(), vec!["recent@example.com"]);
    assert_eq!(f.count("es_rule_forward", "1 = 1"), 1);
    assert_eq!(
        f.count("es_rule_forward", &format!("message_id = {recent}")),
        1
    );

    // the retentions are parameters; the ack rule's 7-day period still holds younger memories
    f.autoreply("three-days@example.com", &days_ago(3));
    let r = round(
        &f,
        &CollectorParams {
            autoreply_kept_days: 1,
            forward_kept_days: 1,
            requests_kept_days: 1,
            ..CollectorParams::default()
        },
    );
    assert_eq!(
        (
            r.autoreplies,
            r.rule_forwards,
            r.mailbox_requests,
            r.admin_requests
        ),
        (1, 1, 2, 2),
        "{r:?}"
    );
    assert_eq!(f.autoreplies(), vec!["three-days@example.com"]);
    assert_eq!(f.count("es_rule_forward", "1 = 1"), 0);
    assert_eq!(
        f.count("es_mailbox_request", "request_state = 'PENDING'"),
        2,
        "pending requests stay, however old"
    );
    assert_eq!(f.count("es_mailbox_request", "1 = 1"), 2);
    assert_eq!(f.count("es_admin_request", "request_state = 'PENDING'"), 2);
    assert_eq!(f.count("es_admin_request", "1 = 1"), 2);
}

fn dir_change(f: &Fixture, changed_at: &str) -> i64 {
    f.db.execute(
        "INSERT INTO es_dir_change (guid, origin_node_id, operation, object_class, object_guid, changed_at)
         VALUES (?1, ?2, 'MODIFY', 'PERSON', ?3, ?4)",
        params![
            uuid::Uuid::new_v4().to_string(),
            f.node_id(),
            uuid::Uuid::new_v4().to_string(),
            changed_at
        ],
    )
    .unwrap();
    f.db.last_insert_rowid()
}

fn changelog_only() -> CollectorParams {
    CollectorParams {
        work: vec![Kind::Changelog],
        ..CollectorParams::default()
    }
}

#[test]
fn the_change_log_without_subscribers_is_kept_for_its_days() {
    let f = Fixture::new();
    let before = f.count("es_dir_change", "1 = 1");
    let old = dir_change(&f, &days_ago(31));
    let recent = dir_change(&f, &days_ago(29));
    let r = round(&f, &changelog_only());
    assert_eq!(r.dir_changes, 1, "{r:?}");
    assert!(!f.exists("es_dir_change", "change_seq", old));
    assert!(f.exists("es_dir_change", "change_seq", recent));
    assert_eq!(f.count("es_dir_change", "1 = 1"), before + 1);
}

#[test]
fn the_change_log_is_kept_until_every_subscriber_has_it() {
    let f = Fixture::new();
    let a = dir_change(&f, &days_ago(100));
    let b = dir_change(&f, &days_ago(0));
    let c = dir_change(&f, &days_ago(0));
    for (name, acked) in [("node-b", c), ("ldap", b)] {
        f.db.execute(
            "INSERT INTO es_dir_subscriber (subscriber_kind, subscriber_name, acked_seq) VALUES ('LDAP', ?1, ?2)",
            params![name, acked],
        )
        .unwrap();
    }
    let acked_by_all = f.count("es_dir_change", &format!("change_seq <= {b}"));
    let r = round(&f, &changelog_only());
    assert!(!f.exists("es_dir_change", "change_seq", a));
    assert!(
        !f.exists("es_dir_change", "change_seq", b),
        "acked by both, however recent"
    );
    assert!(
        f.exists("es_dir_change", "change_seq", c),
        "not yet acked by ldap"
    );
    assert_eq!(f.count("es_dir_change", &format!("change_seq <= {b}")), 0);
    assert_eq!(r.dir_changes as i64, acked_by_all, "every change up to {b}");

    // a subscriber that has acked nothing holds everything that is left, however old
    f.db.execute(
        "INSERT INTO es_dir_subscriber (subscriber_kind, subscriber_name, acked_seq) VALUES ('NODE', 'new', 0)",
        [],
    )
    .unwrap();
    let old = dir_change(&f, &days_ago(365));
    let r = round(&f, &changelog_only());
    assert_eq!(r.dir_changes, 0);
    assert!(f.exists("es_dir_change", "change_seq", old));
}

// ------------------------------------------------------------------ statistics

fn samples(f: &Fixture) -> Vec<(String, f64, i64, String)> {
    let mut st = f
        .db
        .prepare("SELECT metric, metric_value, node_id, sampled_at FROM es_stat_sample ORDER BY sample_id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn statistics_records_one_sample_of_each_figure() {
    let f = Fixture::new();
    let node = f.node_id();
    let m1 = f.message(100, 1);
    f.pointer(m1, 1);
    let m2 = f.message(250, 0);
    f.queue_entry("SUBMISSION", Some(m2), &["orapost@acme.com"]);
    f.queue_entry("SUBMISSION", None, &[]);
    f.queue_entry("DEAD", None, &[]);
    let accounts = f.count("es_account", &format!("home_node_id = {node}"));
    let folders = f.count("es_folder", "1 = 1");
    assert!(accounts >= 1 && folders >= 1);

    let store = f.store();
    let n = esmail::statistics::sample(&store, node).expect("sample");
    let rows = samples(&f);
    assert_eq!(n, 12, "6 queues, 5 counts, 1 space figure: {rows:?}");
    assert_eq!(rows.len(), 12);
    let value = |metric: &str| {
        rows.iter()
            .find(|r| r.0 == metric)
            .unwrap_or_else(|| panic!("no sample {metric} in {rows:?}"))
            .1
    };
    assert_eq!(value("queue.SUBMISSION.length"), 2.0);
    assert_eq!(value("queue.DEAD.length"), 1.0);
    for q in ["REROUTING", "REMOTE", "COLLECTOR", "GATEWAY"] {
        assert_eq!(value(&format!("queue.{q}.length")), 0.0, "{q}");
    }
    assert_eq!(value("messages.count"), 2.0);
    assert_eq!(value("messages.bytes"), 350.0);
    assert_eq!(value("pointers.count"), 1.0);
    assert_eq!(value("accounts.count"), accounts as f64);
    assert_eq!(value("folders.count"), folders as f64);
    let space = value("space.store.bytes");
    let pages =
        f.scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    assert!(
        space > 0.0 && space <= pages as f64 * 2.0,
        "{space} vs {pages}"
    );
    // one transaction, one time, one node
    assert!(
        rows.iter().all(|r| r.2 == node && r.3 == rows[0].3),
        "{rows:?}"
    );
    let at: DateTime<Utc> = rows[0].3.parse().expect("a UTC time");
    assert!((Utc::now() - at).num_seconds().abs() < 60);

    // an empty store: zeros, not missing samples
    let g = Fixture::new();
    let n = esmail::statistics::sample(&g.store(), g.node_id()).unwrap();
    assert_eq!(n, 12);
    let rows = samples(&g);
    let zero = |m: &str| rows.iter().find(|r| r.0 == m).unwrap().1 == 0.0;
    assert!(zero("messages.count") && zero("messages.bytes") && zero("pointers.count"));
    assert!(zero("queue.SUBMISSION.length"));
}

#[test]
fn collected_statistics_samples_are_the_old_ones_only() {
    let f = Fixture::new();
    esmail::statistics::sample(&f.store(), f.node_id()).unwrap();
    let r = round(
        &f,
        &CollectorParams {
            work: vec![Kind::Statistics],
            ..CollectorParams::default()
        },
    );
    assert_eq!(r.stat_samples, 0);
    assert_eq!(f.count("es_stat_sample", "1 = 1"), 12);
}

// ------------------------------------------------------------------ end to end

#[test]
fn the_running_collector_removes_content_whose_last_pointer_was_deleted_and_nothing_else() {
    let f = Fixture::new();
    let kept = f.message(100, 1);
    f.pointer(kept, 1);
    let doomed = f.message(200, 1);
    f.pointer(doomed, 2);
    let queued = f.message(300, 0);
    f.queue_entry("SUBMISSION", Some(queued), &["orapost@acme.com"]);
    // a user deletes the last pointer to `doomed`
    f.db.execute(
        "DELETE FROM es_folder_message WHERE message_id = ?1",
        [doomed],
    )
    .unwrap();

    f.node
        .iofcmgr("register paramvalue server=collector instance=1 parameter=interval value=1;")
        .ok();
    let mut node = common::command(common::esmail_bin(), f.node.path())
        .args(["start"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while f.exists("es_message", "message_id", doomed) {
        assert!(
            std::time::Instant::now() < until,
            "the collector never removed the content"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // give it a few more rounds: it must not touch the others
    std::thread::sleep(std::time::Duration::from_secs(3));
    unsafe {
        libc::kill(node.id() as i32, libc::SIGTERM);
    }
    assert_eq!(node.wait().unwrap().code(), Some(0));
    assert!(
        f.exists("es_message", "message_id", kept),
        "a message with a pointer stays"
    );
    assert!(
        f.exists("es_message", "message_id", queued),
        "a queued message stays"
    );
}

#[test]
fn the_running_collector_purges_old_rule_memories_and_finished_requests_with_its_stored_defaults() {
    // the instance runs with the parameters `esmail init` stored (schema step 8 added the kinds
    // to the default `work` and their retentions): only its interval is its own
    let f = Fixture::new();
    f.node
        .iofcmgr(
            "create rule name=vacation username=orapost active=no;\n\
             add action rule=vacation username=orapost do=reply days=60;",
        )
        .ok();
    // held by an entry of the Dead Message queue, which no Postman works on
    let (old, recent, held) = plant_rule_memories(&f, "DEAD");
    // (the Postman performs the PENDING requests meanwhile: their done_at becomes now)
    let requests = plant_requests(&f);

    f.node
        .iofcmgr("register paramvalue server=collector instance=1 parameter=interval value=1;")
        .ok();
    let mut node = common::command(common::esmail_bin(), f.node.path())
        .args(["start"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let done = |f: &Fixture| {
        f.count(
            "es_autoreply_memory",
            "sender_key = 'past-every-period@example.com'",
        ) == 0
            && f.count("es_rule_forward", &format!("message_id = {old}")) == 0
            && requests
                .mailbox_gone
                .iter()
                .all(|id| !f.exists("es_mailbox_request", "request_id", *id))
            && requests
                .admin_gone
                .iter()
                .all(|id| !f.exists("es_admin_request", "request_id", *id))
    };
    while !done(&f) {
        if std::time::Instant::now() >= until {
            unsafe {
                libc::kill(node.id() as i32, libc::SIGTERM);
            }
            let _ = node.wait();
            panic!("the collector never removed the old rule memories and finished requests");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // a few more rounds: it must not touch the others
    std::thread::sleep(std::time::Duration::from_secs(3));
    unsafe {
        libc::kill(node.id() as i32, libc::SIGTERM);
    }
    assert_eq!(node.wait().unwrap().code(), Some(0));
    assert_eq!(
        f.autoreplies(),
        vec!["recent@example.com", "within-the-period@example.com"]
    );
    assert_eq!(
        f.count("es_rule_forward", &format!("message_id = {recent}")),
        1
    );
    assert_eq!(
        f.count("es_rule_forward", &format!("message_id = {held}")),
        1
    );
    assert_eq!(f.count("es_rule_forward", "1 = 1"), 2);
    assert_requests(&f, &requests);
}
