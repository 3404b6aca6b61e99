//! The Postman: stores made by `esmail init`, directories seeded through iofcmgr, messages
//! queued through the library (`store::queue`), then delivery rounds run through the library
//! (`postman::deliver_round`) or the real process (`esmail postman --instance 1`).

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{Fixture, Node};
use esmail::postman::{deliver_round, PostmanParams, RoundReport, EXPANDED_POS};
use esmail::store::delivery;
use esmail::store::queue::{insert_entry, insert_message, NewEntry, NewMessage, Queue};
use esmail::store::{OpenOptions, Store, StoreError, StoreUrl};
use rusqlite::{params, Connection, OptionalExtension};

// ------------------------------------------------------------------ fixture

impl Fixture {
    fn scalar(&self, sql: &str) -> i64 {
        self.db.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Queues a message; returns its es_message id.
    fn submit(&self, sender: Option<&str>, recipients: &[&str], extra_headers: &str) -> i64 {
        submit_to(
            &self.store,
            self.node_id,
            sender,
            recipients,
            extra_headers,
            None,
        )
    }

    fn account_id(&self, name: &str) -> i64 {
        self.db
            .query_row(
                "SELECT object_id FROM es_dir_object WHERE name_key = ?1 AND owner_scope = 0",
                [name.to_lowercase()],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("no object {name}: {e}"))
    }

    /// The message ids in an account's INBOX, by UID.
    fn inbox(&self, name: &str) -> Vec<i64> {
        let mut st = self
            .db
            .prepare(
                "SELECT fm.message_id FROM es_folder_message fm
                 JOIN es_folder f ON f.folder_id = fm.folder_id
                 WHERE f.owner_account_id = ?1 AND f.folder_path = 'INBOX' ORDER BY fm.msg_uid",
            )
            .unwrap();
        st.query_map([self.account_id(name)], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn used(&self, name: &str) -> i64 {
        self.db
            .query_row(
                "SELECT used_bytes FROM es_account WHERE object_id = ?1",
                [self.account_id(name)],
                |r| r.get(0),
            )
            .unwrap()
    }

    fn content(&self, message_id: i64) -> String {
        let b: Vec<u8> = self
            .db
            .query_row(
                "SELECT content FROM es_message WHERE message_id = ?1",
                [message_id],
                |r| r.get(0),
            )
            .unwrap();
        String::from_utf8_lossy(&b).into_owned()
    }

    fn size(&self, message_id: i64) -> i64 {
        self.scalar(&format!(
            "SELECT size_bytes FROM es_message WHERE message_id = {message_id}"
        ))
    }

    fn queue_len(&self, queue: &str) -> i64 {
        self.scalar(&format!(
            "SELECT COUNT(*) FROM es_queue_entry WHERE queue_name = '{queue}'"
        ))
    }

    fn messages(&self) -> i64 {
        self.scalar("SELECT COUNT(*) FROM es_message")
    }

    /// Rounds until one claims nothing.
    fn drain(&self, params: &PostmanParams) -> RoundReport {
        drain(&self.store, params, "postman1@test:1")
    }

    /// (account, message) pairs delivered more than once.
    fn duplicates(&self) -> i64 {
        self.scalar(
            "SELECT COUNT(*) FROM (SELECT account_id, message_id FROM es_folder_message
             GROUP BY account_id, message_id HAVING COUNT(*) > 1)",
        )
    }
}

fn submit_to(
    store: &Store,
    node_id: i64,
    sender: Option<&str>,
    recipients: &[&str],
    extra_headers: &str,
    not_before: Option<chrono::DateTime<Utc>>,
) -> i64 {
    let guid = uuid::Uuid::new_v4().to_string();
    let content = format!(
        "From: {}\r\nTo: {}\r\nSubject: test {guid}\r\nMessage-ID: <{guid}@test>\r\n{extra_headers}\r\nHello.\r\n",
        sender.unwrap_or("nobody@nowhere.example"),
        recipients.join(", ")
    );
    let recipients: Vec<String> = recipients.iter().map(|s| s.to_string()).collect();
    let now = Utc::now();
    store
        .write(|c| {
            let m = insert_message(
                c,
                &NewMessage {
                    guid: &guid,
                    origin_node_id: node_id,
                    content: content.as_bytes(),
                    sha256: "0",
                    rfc822_msgid: Some(&format!("{guid}@test")),
                    received_at: now,
                    structure: None,
                },
            )?;
            insert_entry(
                c,
                m,
                &NewEntry {
                    guid: &uuid::Uuid::new_v4().to_string(),
                    queue: Queue::Submission,
                    node_id,
                    target_node_id: None,
                    gateway_name: None,
                    sender,
                    submitted_by: None,
                    priority: 5,
                    not_before,
                    recipients: &recipients,
                },
                now,
            )?;
            Ok::<_, StoreError>(m)
        })
        .expect("queue a message")
}

fn add(total: &mut RoundReport, r: &RoundReport) {
    total.claimed += r.claimed;
    total.finished += r.finished;
    total.delivered += r.delivered;
    total.failed += r.failed;
    total.relayed += r.relayed;
    total.deferred += r.deferred;
    total.reports += r.reports;
    total.dead += r.dead;
    total.retried += r.retried;
    total.released += r.released;
    total.lost += r.lost;
}

fn drain(store: &Store, params: &PostmanParams, worker: &str) -> RoundReport {
    let mut total = RoundReport::default();
    for _ in 0..10_000 {
        let r = deliver_round(store, params, worker).expect("a round");
        add(&mut total, &r);
        if r.claimed == 0 {
            return total;
        }
    }
    panic!("the queue never emptied: {total:?}");
}

fn quick() -> PostmanParams {
    PostmanParams {
        batch_size: 20,
        ..PostmanParams::default()
    }
}

// ------------------------------------------------------------------ expansion and delivery

#[test]
fn messages_from_other_nodes_move_from_the_rerouting_queue_and_are_delivered() {
    let f = Fixture::new("create person username=far quota=0;");
    let m = f.submit(Some("x@outside.example"), &["far@acme.com"], "");
    f.db.execute(
        "UPDATE es_queue_entry SET queue_name = 'REROUTING', target_node_id = ?1 WHERE message_id = ?2",
        rusqlite::params![f.node_id, m],
    )
    .unwrap();
    let r = drain(&f.store, &quick(), "w1");
    assert_eq!(r.delivered, 1, "{r:?}");
    assert_eq!(f.scalar("SELECT COUNT(*) FROM es_queue_entry"), 0);
}

#[test]
fn a_message_to_a_list_an_alias_and_a_person_lands_once_in_each_inbox() {
    let f = Fixture::new(
        "create person username=sender;
         create person username=ann; create person username=bob; create person username=cid;
         create person username=dan; create person username=eve;
         create publicdl name=team members=\"ann, bob, cid\";
         create publicalias name=danny target=dan;",
    );
    // ann twice: as a member of team and by name (in another spelling)
    let m = f.submit(
        Some("sender@acme.com"),
        &[
            "team@acme.com",
            "danny@acme.com",
            "eve@acme.com",
            "Ann@ACME.com",
        ],
        "",
    );
    let size = f.size(m);
    let params = PostmanParams {
        recv_billing: true,
        send_billing: true,
        ..quick()
    };
    let r = f.drain(&params);
    assert_eq!(r.delivered, 5, "{r:?}");
    assert_eq!(r.failed, 0, "{r:?}");
    assert_eq!(r.finished, 1, "{r:?}");
    for who in ["ann", "bob", "cid", "dan", "eve"] {
        assert_eq!(f.inbox(who), vec![m], "{who}'s INBOX");
        assert_eq!(f.used(who), size, "{who} is charged the size once");
    }
    assert!(f.inbox("sender").is_empty());
    assert_eq!(f.messages(), 1, "stored once");
    assert_eq!(
        f.scalar(&format!(
            "SELECT pointer_count FROM es_message WHERE message_id = {m}"
        )),
        5
    );
    assert_eq!(f.duplicates(), 0);
    // each INBOX: UID 1, next UID 2, one message, MODSEQ bumped, one APPEND change row
    let (uid, next_uid, count, modseq, hm): (i64, i64, i64, i64, i64) =
        f.db.query_row(
            "SELECT fm.msg_uid, f.next_uid, f.message_count, fm.modseq, f.highest_modseq
             FROM es_folder_message fm JOIN es_folder f ON f.folder_id = fm.folder_id
             WHERE fm.account_id = ?1",
            [f.account_id("bob")],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!((uid, next_uid, count), (1, 2, 1));
    assert_eq!(modseq, hm);
    assert_eq!(
        f.scalar("SELECT COUNT(*) FROM es_mail_change WHERE change_kind = 'APPEND'"),
        5
    );
    // the internal date is the arrival time
    assert_eq!(
        f.scalar(&format!(
            "SELECT COUNT(*) FROM es_folder_message fm JOIN es_message m ON m.message_id = fm.message_id
             WHERE fm.message_id = {m} AND fm.internal_date = m.received_at"
        )),
        5
    );
    assert_eq!(f.queue_len("SUBMISSION"), 0);
    assert_eq!(f.scalar("SELECT COUNT(*) FROM es_queue_recipient"), 0);
    assert_eq!(
        f.scalar("SELECT COUNT(*) FROM es_billing WHERE billing_kind = 'RECV'"),
        5
    );
    assert_eq!(
        f.scalar(&format!(
            "SELECT COUNT(*) FROM es_billing WHERE billing_kind = 'SEND' AND account_id = {} AND recipients = 5",
            f.account_id("sender")
        )),
        1
    );
}

#[test]
fn billing_is_off_by_default_and_delivery_stats_sample_when_on() {
    let f = Fixture::new("create person username=ann;");
    f.submit(Some("ann@acme.com"), &["ann@acme.com"], "");
    f.drain(&PostmanParams {
        delivery_stats: true,
        ..quick()
    });
    assert_eq!(f.inbox("ann").len(), 1);
    assert_eq!(f.scalar("SELECT COUNT(*) FROM es_billing"), 0);
    assert_eq!(
        f.scalar("SELECT COUNT(*) FROM es_stat_sample WHERE metric = 'postman.delivery_seconds'"),
        1
    );
}

#[test]
fn locations_organizations_and_roles_reach_their_persons() {
    let f = Fixture::new(
        "create location name=HQ; create organization name=Sales; create role name=oncall;
         create person username=p1 location=hq;
         create person username=p2 location=HQ organization=sales;
         create person username=p3 role=oncall;
         create person username=p4;
         create room name=board location=hq;",
    );
    let m1 = f.submit(Some("p4@acme.com"), &["hq@acme.com"], "");
    let m2 = f.submit(
        Some("p4@acme.com"),
        &["sales@acme.com", "oncall@acme.com"],
        "",
    );
    let r = f.drain(&quick());
    assert_eq!(r.failed, 0, "{r:?}");
    assert_eq!(f.inbox("p1"), vec![m1]);
    assert_eq!(f.inbox("p2"), vec![m1, m2]);
    assert_eq!(f.inbox("p3"), vec![m2]);
    assert!(f.inbox("p4").is_empty());
    assert!(
        f.inbox("board").is_empty(),
        "a location reaches persons only"
    );
}

#[test]
fn rewriting_rules_apply_before_expansion() {
    let f = Fixture::new(
        r#"create person username=ann;
           create rewritingrule name=old pattern="^(.*)@old\.example$" replacement="$1@acme.com";
           create rewritingrule name=off pattern="^ann@acme\.com$" replacement="nobody@acme.com" enabled=no;"#,
    );
    let m = f.submit(None, &["ann@old.example"], "");
    let r = f.drain(&quick());
    assert_eq!((r.delivered, r.failed, r.relayed), (1, 0, 0), "{r:?}");
    assert_eq!(f.inbox("ann"), vec![m]);
    assert_eq!(f.queue_len("GATEWAY"), 0);
}

#[test]
fn loops_in_lists_do_not_hang() {
    let f = Fixture::new(
        "create person username=ann; create person username=snd;
         create publicdl name=l1 members=ann;
         create publicdl name=l2 members=l1;
         create publicdl name=l4;
         create publicdl name=l3 members=l4;",
    );
    // the directory refuses loops: plant them (l1 -> l2 -> l1, l4 -> l3 -> l4)
    for (list, member) in [("l1", "l2"), ("l4", "l3")] {
        f.db.execute(
            "INSERT INTO es_dl_member (dl_object_id, member_pos, member_address, member_object_id)
             VALUES (?1, 99, ?2, ?3)",
            params![
                f.account_id(list),
                format!("{member}@acme.com"),
                f.account_id(member)
            ],
        )
        .unwrap();
    }
    let m = f.submit(Some("snd@acme.com"), &["l2@acme.com", "l1@acme.com"], "");
    let dead_end = f.submit(Some("snd@acme.com"), &["l3@acme.com"], "");
    let started = Instant::now();
    let r = f.drain(&quick());
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(f.inbox("ann"), vec![m], "once, through the loop");
    assert_eq!(r.failed, 1, "{r:?}");
    assert_eq!(r.reports, 1, "{r:?}");
    let ndr = f.inbox("snd");
    assert_eq!(ndr.len(), 1);
    let text = f.content(ndr[0]);
    assert!(
        text.contains("Final-Recipient: rfc822; l3@acme.com"),
        "{text}"
    );
    assert!(text.contains("Status: 5.4.6"), "{text}");
    assert!(text.contains("loop"), "{text}");
    let _ = dead_end;
}

#[test]
fn an_over_quota_recipient_fails_while_the_others_get_it_and_the_sender_gets_a_report() {
    let f = Fixture::new(
        "create person username=sender;
         create person username=ok1; create person username=ok2;
         create person username=full quota=10;
         create person username=off status=disabled;",
    );
    let m = f.submit(
        Some("sender@acme.com"),
        &[
            "ok1@acme.com",
            "full@acme.com",
            "ok2@acme.com",
            "ghost@acme.com",
            "off@acme.com",
        ],
        "",
    );
    let r = f.drain(&quick());
    assert_eq!(r.delivered, 3, "ok1, ok2, then the report to sender: {r:?}");
    assert_eq!(r.failed, 3, "{r:?}");
    assert_eq!(r.reports, 1, "{r:?}");
    assert_eq!(f.inbox("ok1"), vec![m]);
    assert_eq!(f.inbox("ok2"), vec![m]);
    assert!(f.inbox("full").is_empty());
    assert_eq!(f.used("full"), 0);
    assert!(f.inbox("off").is_empty());
    let ndr = f.inbox("sender");
    assert_eq!(ndr.len(), 1, "one report for all the failures");
    let text = f.content(ndr[0]);
    for needle in [
        "From: \"Mail Delivery System\" <MAILER-DAEMON@acme.com>",
        "To: <sender@acme.com>",
        "Auto-Submitted: auto-replied",
        "multipart/report",
        "delivery-status",
        "Content-Type: message/delivery-status",
        "Reporting-MTA: dns; ",
        "Final-Recipient: rfc822; full@acme.com",
        "Action: failed",
        "Status: 5.2.2",
        "mailbox full",
        "Final-Recipient: rfc822; ghost@acme.com",
        "Status: 5.1.1",
        "Final-Recipient: rfc822; off@acme.com",
        "Status: 5.2.1",
        "Content-Type: text/rfc822-headers",
        "Subject: test ",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }
    assert!(
        !text.contains("Final-Recipient: rfc822; ok1@acme.com"),
        "{text}"
    );
    // the report was queued with the null sender, and nothing is left in the queues
    assert_eq!(f.queue_len("SUBMISSION"), 0);
    assert_eq!(f.queue_len("DEAD"), 0);
    // the report parses as a report
    let parsed = mail_parser::MessageParser::default()
        .parse(text.as_bytes())
        .unwrap();
    assert_eq!(
        parsed.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-replied")
    );
}

#[test]
fn the_report_goes_out_with_the_null_sender() {
    let f = Fixture::new("create person username=sender;");
    f.submit(Some("sender@acme.com"), &["ghost@acme.com"], "");
    // one round: the failure and the report queued, not yet delivered
    let r = deliver_round(&f.store, &quick(), "w").unwrap();
    assert_eq!((r.failed, r.reports), (1, 1), "{r:?}");
    let (sender, rcpt): (Option<String>, String) =
        f.db.query_row(
            "SELECT e.sender_address, r.address FROM es_queue_entry e
             JOIN es_queue_recipient r ON r.entry_id = e.entry_id
             WHERE e.queue_name = 'SUBMISSION'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(sender, None);
    assert_eq!(rcpt, "sender@acme.com");
}

#[test]
fn null_sender_failures_make_no_report() {
    let f = Fixture::new("create person username=full quota=10;");
    f.submit(None, &["full@acme.com", "ghost@acme.com"], "");
    let r = f.drain(&quick());
    assert_eq!((r.failed, r.reports, r.finished), (2, 0, 1), "{r:?}");
    assert_eq!(f.messages(), 1, "no report was stored");
    assert_eq!(f.queue_len("SUBMISSION"), 0);
    assert_eq!(f.queue_len("DEAD"), 0);
}

#[test]
fn automatic_messages_and_reports_get_no_report() {
    let f = Fixture::new("create person username=sender;");
    f.submit(
        Some("sender@acme.com"),
        &["ghost@acme.com"],
        "Auto-Submitted: auto-generated\r\n",
    );
    f.submit(
        Some("sender@acme.com"),
        &["ghost@acme.com"],
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
    );
    let r = f.drain(&quick());
    assert_eq!((r.failed, r.reports), (2, 0), "{r:?}");
    assert!(f.inbox("sender").is_empty());
    // a report that fails is not reported either (its sender is null)
    let f = Fixture::new("create person username=sender quota=1;");
    f.submit(Some("sender@acme.com"), &["ghost@acme.com"], "");
    let r = f.drain(&quick());
    assert_eq!((r.failed, r.reports, r.delivered), (2, 1, 0), "{r:?}");
    assert_eq!(f.messages(), 2);
}

#[test]
fn an_invalid_sender_sends_the_failed_message_to_the_dead_queue() {
    let f = Fixture::new("create person username=ann;");
    let m = f.submit(
        Some("nobody@acme.com"),
        &["ann@acme.com", "ghost@acme.com"],
        "",
    );
    let m2 = f.submit(Some("not an address"), &["ghost@acme.com"], "");
    let r = f.drain(&quick());
    assert_eq!(
        (r.delivered, r.failed, r.reports, r.dead),
        (1, 2, 0, 2),
        "{r:?}"
    );
    assert_eq!(f.inbox("ann"), vec![m]);
    assert_eq!(f.queue_len("DEAD"), 2);
    let err: String =
        f.db.query_row(
            "SELECT last_error FROM es_queue_entry WHERE queue_name = 'DEAD' AND message_id = ?1",
            [m2],
            |r| r.get(0),
        )
        .unwrap();
    assert!(err.contains("invalid"), "{err}");
    // the dead entry keeps its recipients and their reasons
    assert_eq!(
        f.scalar(&format!(
            "SELECT COUNT(*) FROM es_queue_recipient r JOIN es_queue_entry e ON e.entry_id = r.entry_id
             WHERE e.message_id = {m} AND r.rcpt_status = 'FAILED' AND r.last_error LIKE '5.1.1%'"
        )),
        1
    );
}

#[test]
fn an_entry_without_a_message_goes_to_the_dead_queue() {
    let f = Fixture::new("");
    f.db.execute(
        "INSERT INTO es_queue_entry (guid, queue_name, node_id, next_attempt_at, created_at)
         VALUES ('g-1', 'SUBMISSION', ?1, '2000-01-01T00:00:00.000000Z', '2000-01-01T00:00:00.000000Z')",
        [f.node_id],
    )
    .unwrap();
    let r = f.drain(&quick());
    assert_eq!(r.dead, 1, "{r:?}");
    assert_eq!(f.queue_len("DEAD"), 1);
}

// ------------------------------------------------------------------ elsewhere

#[test]
fn outside_recipients_go_to_the_gateway_queue() {
    let f = Fixture::new(
        "create person username=ann;
         create publicalias name=partner target=partner@example.net;",
    );
    let m = f.submit(
        Some("ann@acme.com"),
        &["ann@acme.com", "x@example.org", "partner@acme.com"],
        "",
    );
    let r = f.drain(&quick());
    assert_eq!((r.delivered, r.relayed, r.failed), (1, 2, 0), "{r:?}");
    assert_eq!(f.inbox("ann"), vec![m]);
    assert_eq!(f.queue_len("SUBMISSION"), 0);
    let (gw, msg, sender): (String, i64, String) = f
        .db
        .query_row(
            "SELECT gateway_name, message_id, sender_address FROM es_queue_entry WHERE queue_name = 'GATEWAY'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (gw.as_str(), msg, sender.as_str()),
        ("smtp", m, "ann@acme.com")
    );
    let mut st = f
        .db
        .prepare(
            "SELECT r.address FROM es_queue_recipient r JOIN es_queue_entry e ON e.entry_id = r.entry_id
             WHERE e.queue_name = 'GATEWAY' ORDER BY r.rcpt_pos",
        )
        .unwrap();
    let rcpts: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rcpts, vec!["x@example.org", "partner@example.net"]);
    assert_eq!(
        f.messages(),
        1,
        "the gateway entry points at the same content"
    );
}

#[test]
fn accounts_of_other_nodes_go_to_the_remote_queue() {
    let f = Fixture::new(
        "create node name=eu1 host=eu1.acme.com;
         create person username=ann; create person username=far homenode=eu1;",
    );
    f.submit(None, &["ann@acme.com", "far@acme.com"], "");
    let r = f.drain(&quick());
    assert_eq!((r.delivered, r.relayed), (1, 1), "{r:?}");
    assert!(f.inbox("far").is_empty());
    let target: i64 =
        f.scalar("SELECT target_node_id FROM es_queue_entry WHERE queue_name = 'REMOTE'");
    assert_eq!(
        target,
        f.scalar("SELECT node_id FROM es_node WHERE node_name = 'eu1'")
    );
}

#[test]
fn remote_flag_0_leaves_the_outside_recipients_to_another_instance() {
    let f = Fixture::new("create person username=ann;");
    let m = f.submit(None, &["ann@acme.com", "x@example.org"], "");
    let local_only = PostmanParams {
        remote: false,
        ..quick()
    };
    let r = f.drain(&local_only);
    assert_eq!((r.delivered, r.deferred, r.relayed), (1, 1, 0), "{r:?}");
    assert_eq!(f.inbox("ann"), vec![m]);
    assert_eq!(f.queue_len("SUBMISSION"), 1, "left in the Submission queue");
    assert_eq!(f.queue_len("GATEWAY"), 0);
    assert_eq!(
        f.scalar(
            "SELECT COUNT(*) FROM es_queue_entry WHERE claimed_by IS NULL AND lease_until IS NULL"
        ),
        1,
        "and not claimed"
    );
    // a RemoteFlag 0 instance does not take it again
    let again = deliver_round(&f.store, &local_only, "w0").unwrap();
    assert_eq!(again.claimed, 0, "{again:?}");
    // a RemoteFlag 1 instance relays it and finishes the entry; ann gets nothing twice
    let r = f.drain(&quick());
    assert_eq!((r.delivered, r.relayed, r.finished), (0, 1, 1), "{r:?}");
    assert_eq!(f.queue_len("SUBMISSION"), 0);
    assert_eq!(f.queue_len("GATEWAY"), 1);
    assert_eq!(f.inbox("ann"), vec![m]);
}

// ------------------------------------------------------------------ claims and time

#[test]
fn delayed_delivery_waits_for_not_before() {
    let f = Fixture::new("create person username=ann;");
    let at = Utc::now() + chrono::Duration::milliseconds(1500);
    let m = submit_to(&f.store, f.node_id, None, &["ann@acme.com"], "", Some(at));
    let r = deliver_round(&f.store, &quick(), "w").unwrap();
    assert_eq!(r.claimed, 0, "not before its time");
    while Utc::now() <= at {
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = f.drain(&quick());
    assert_eq!(r.delivered, 1, "{r:?}");
    assert_eq!(f.inbox("ann"), vec![m]);
}

#[test]
fn a_claim_is_held_until_its_lease_expires_then_taken_over() {
    let f = Fixture::new("create person username=ann;");
    let m = f.submit(None, &["ann@acme.com"], "");
    let now = Utc::now();
    let ghost = f
        .store
        .write(|c| {
            delivery::claim_batch(
                c,
                f.node_id,
                "postman9@elsewhere:1",
                now,
                now + chrono::Duration::milliseconds(1200),
                10,
                true,
            )
        })
        .unwrap();
    assert_eq!(ghost.len(), 1);
    let r = deliver_round(&f.store, &quick(), "w").unwrap();
    assert_eq!(r.claimed, 0, "held by another instance");
    std::thread::sleep(Duration::from_millis(1300));
    let r = f.drain(&quick());
    assert_eq!(r.delivered, 1, "{r:?}");
    assert_eq!(f.inbox("ann"), vec![m]);
    // the first holder finds its claim gone
    let renewed = f
        .store
        .write(|c| delivery::renew(c, ghost[0], "postman9@elsewhere:1", Utc::now()))
        .unwrap();
    assert!(!renewed);
}

#[test]
fn an_interrupted_entry_is_finished_without_delivering_twice() {
    // a crash after the expansion and one delivery: the entry, half done, is taken over
    let f = Fixture::new(
        "create person username=ann; create person username=bob;
         create publicdl name=team members=\"ann, bob\";",
    );
    let m = f.submit(None, &["team@acme.com"], "");
    // what a killed instance leaves: the expansion written, ann delivered, its lease expired
    let entry: i64 = f.scalar("SELECT entry_id FROM es_queue_entry");
    f.db.execute_batch(&format!(
        "UPDATE es_queue_entry SET claimed_by = 'postman1@gone:1', lease_until = '2000-01-01T00:00:00.000000Z' WHERE entry_id = {entry};
         DELETE FROM es_queue_recipient WHERE entry_id = {entry};
         INSERT INTO es_queue_recipient (entry_id, rcpt_pos, address, rcpt_status) VALUES ({entry}, {p0}, 'ann@acme.com', 'DONE');
         INSERT INTO es_queue_recipient (entry_id, rcpt_pos, address, rcpt_status) VALUES ({entry}, {p1}, 'bob@acme.com', 'PENDING');",
        p0 = EXPANDED_POS,
        p1 = EXPANDED_POS + 1,
    ))
    .unwrap();
    let r = f.drain(&quick());
    assert_eq!((r.delivered, r.finished), (1, 1), "{r:?}");
    assert!(f.inbox("ann").is_empty(), "DONE is never delivered again");
    assert_eq!(f.inbox("bob"), vec![m]);
}

#[test]
fn a_thousand_messages_two_workers_each_delivered_exactly_once() {
    let f = Fixture::new(
        "create person username=ann; create person username=bob; create person username=cid;
         create publicdl name=team members=\"ann, bob\";",
    );
    let n = 1000;
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(f.submit(None, &["team@acme.com", "cid@acme.com"], ""));
    }
    let params = PostmanParams {
        batch_size: 25,
        ..PostmanParams::default()
    };
    let started = Instant::now();
    let totals: Vec<RoundReport> = std::thread::scope(|s| {
        let workers: Vec<_> = ["postman1@test:1", "postman2@test:2"]
            .into_iter()
            .map(|w| {
                let params = params.clone();
                let url = StoreUrl::Sqlite(f.node.db());
                s.spawn(move || {
                    let store = Store::open(&url, &OpenOptions::default()).unwrap();
                    drain(&store, &params, w)
                })
            })
            .collect();
        workers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!(
        "1000 messages, 3000 deliveries, two workers: {:?}; {totals:?}",
        started.elapsed()
    );
    assert!(
        totals.iter().all(|t| t.delivered > 0),
        "both workers took part: {totals:?}"
    );
    assert_eq!(
        totals.iter().map(|t| t.delivered).sum::<u64>(),
        3 * n as u64
    );
    for who in ["ann", "bob", "cid"] {
        assert_eq!(f.inbox(who).len(), n, "{who}");
    }
    assert_eq!(f.duplicates(), 0);
    assert_eq!(f.queue_len("SUBMISSION"), 0);
    assert_eq!(
        f.scalar("SELECT COUNT(*) FROM es_message WHERE pointer_count <> 3"),
        0
    );
}

// ------------------------------------------------------------------ the process

/// The build's `esmail` has the `postman` subcommand (a missing one fails the test).
fn has_postman_command(node: &Node) -> bool {
    let r = node.esmail(&["postman", "--help"]);
    assert_eq!(r.code, 0, "`esmail postman` is missing: {}", r.stderr);
    true
}

/// Makes sure a postman instance is registered (`esmail init` registers instance 1 of every
/// provided type), with a short lease.
fn register_postman(node: &Node, instance: i64, lease: u64) {
    // refused when registered already: that is fine
    let _ = node.iofcmgr(&format!(
        "register process server=postman instance={instance};"
    ));
    node.iofcmgr(&format!(
        "register paramvalue server=postman instance={instance} parameter=lease_seconds value={lease};
         register paramvalue server=postman instance={instance} parameter=poll_ms value=100;
         register paramvalue server=postman instance={instance} parameter=batch_size value=20;"
    ))
    .ok();
}

fn start_postman(node: &Node, instance: i64) -> Child {
    common::command(common::esmail_bin(), node.path())
        .env("ESMAIL_STORE", node.url())
        .args(["postman", "--instance", &instance.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start esmail postman")
}

fn pointers(db: &Connection) -> i64 {
    db.query_row("SELECT COUNT(*) FROM es_folder_message", [], |r| r.get(0))
        .unwrap()
}

/// Waits until `done`; on a timeout, fails with what `diag` says.
fn wait_for(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> bool,
    diag: impl Fn() -> String,
) {
    let until = Instant::now() + limit;
    while !done() {
        if Instant::now() >= until {
            panic!("timed out waiting for {what}:\n{}", diag());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The state of the queues and the processes' logs, when something does not happen.
fn diagnose(f: &Fixture, children: &mut [&mut Child]) -> String {
    let mut out = format!(
        "pointers {}, submission {}, dead {}, claimed {}\n",
        pointers(&f.db),
        f.queue_len("SUBMISSION"),
        f.queue_len("DEAD"),
        f.scalar("SELECT COUNT(*) FROM es_queue_entry WHERE claimed_by IS NOT NULL"),
    );
    for c in children.iter_mut() {
        out.push_str(&format!("child {}: {:?}\n", c.id(), c.try_wait()));
    }
    out.push_str(&log_text(f.node.path()));
    out
}

fn stop(child: Child) -> String {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "exit: {:?}", out.status);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn log_text(dir: &Path) -> String {
    let mut all = String::new();
    if let Ok(rd) = std::fs::read_dir(dir.join("esmail-data/log")) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().contains("postman") {
                all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    all
}

#[test]
fn the_postman_process_delivers_and_stops_on_sigterm() {
    let f = Fixture::new("create person username=ann; create person username=snd;");
    if !has_postman_command(&f.node) {
        return;
    }
    register_postman(&f.node, 1, 60);
    let m = f.submit(
        Some("snd@acme.com"),
        &["ann@acme.com", "ghost@acme.com"],
        "",
    );
    let child = std::cell::RefCell::new(start_postman(&f.node, 1));
    wait_for(
        "the delivery and the report",
        Duration::from_secs(30),
        || f.inbox("ann").len() == 1 && f.inbox("snd").len() == 1,
        || diagnose(&f, &mut [&mut child.borrow_mut()]),
    );
    let child = child.into_inner();
    stop(child);
    assert_eq!(f.inbox("ann"), vec![m]);
    let log = log_text(f.node.path());
    assert!(log.contains("delivered 1, failed 1"), "{log}");
}

#[test]
fn a_postman_killed_mid_way_then_restarted_delivers_each_message_exactly_once() {
    let f = Fixture::new(
        "create person username=ann; create person username=bob;
         create publicdl name=team members=\"ann, bob\";",
    );
    if !has_postman_command(&f.node) {
        return;
    }
    register_postman(&f.node, 1, 2);
    let n = 1000;
    for _ in 0..n {
        f.submit(None, &["team@acme.com"], "");
    }
    let child = std::cell::RefCell::new(start_postman(&f.node, 1));
    let db = Connection::open(f.node.db()).unwrap();
    db.busy_timeout(Duration::from_secs(30)).unwrap();
    wait_for(
        "some deliveries",
        Duration::from_secs(120),
        || pointers(&db) >= 200,
        || diagnose(&f, &mut [&mut child.borrow_mut()]),
    );
    let mut child = child.into_inner();
    child.kill().expect("SIGKILL"); // no chance to give anything back
    child.wait().unwrap();
    let at_kill = pointers(&db);
    let held = f.scalar("SELECT COUNT(*) FROM es_queue_entry WHERE claimed_by IS NOT NULL");
    eprintln!("killed after {at_kill} deliveries, {held} entries still claimed");
    assert!(at_kill < 2 * n as i64, "killed before the end ({at_kill})");
    let restarted = std::cell::RefCell::new(start_postman(&f.node, 1));
    wait_for(
        "every delivery",
        Duration::from_secs(300),
        || pointers(&db) >= 2 * n as i64 && f.queue_len("SUBMISSION") == 0,
        || diagnose(&f, &mut [&mut restarted.borrow_mut()]),
    );
    std::thread::sleep(Duration::from_millis(500));
    stop(restarted.into_inner());
    assert_eq!(f.inbox("ann").len(), n);
    assert_eq!(f.inbox("bob").len(), n);
    assert_eq!(f.duplicates(), 0);
    assert_eq!(
        db.query_row(
            "SELECT COUNT(*) FROM es_message WHERE pointer_count <> 2",
            [],
            |r| r.get::<_, i64>(0)
        )
        .unwrap(),
        0
    );
    let _ = db
        .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
        .optional();
}

#[test]
fn two_postman_processes_on_a_thousand_messages_deliver_no_duplicates() {
    let f = Fixture::new("create person username=ann; create person username=bob;");
    if !has_postman_command(&f.node) {
        return;
    }
    register_postman(&f.node, 1, 10);
    register_postman(&f.node, 2, 10);
    let n = 1000;
    for _ in 0..n {
        f.submit(None, &["ann@acme.com", "bob@acme.com"], "");
    }
    let a = std::cell::RefCell::new(start_postman(&f.node, 1));
    let b = std::cell::RefCell::new(start_postman(&f.node, 2));
    wait_for(
        "every delivery",
        Duration::from_secs(300),
        || pointers(&f.db) >= 2 * n as i64 && f.queue_len("SUBMISSION") == 0,
        || diagnose(&f, &mut [&mut a.borrow_mut(), &mut b.borrow_mut()]),
    );
    stop(a.into_inner());
    stop(b.into_inner());
    assert_eq!(f.inbox("ann").len(), n);
    assert_eq!(f.inbox("bob").len(), n);
    assert_eq!(f.duplicates(), 0);
    let log = log_text(f.node.path());
    for w in ["postman1@", "postman2@"] {
        assert!(log.contains(w), "{w} ran: {log}");
    }
}
