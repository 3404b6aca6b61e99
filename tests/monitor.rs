//! The Monitor through the real binaries: `esmail start` runs it under the Guardian; a refresh
//! makes it run its tests at once; its results are in the store and in `show monitor;`; its
//! report reaches ORAPOST's INBOX (read through IMAP with python imaplib) with a text part and
//! an HTML part carrying charts; the same findings are not mailed twice, new ones are.
mod common;
use common::*;

use serde_json::Value;

fn count(r: &Running, sql: &str) -> i64 {
    r.sqlite().query_row(sql, [], |x| x.get(0)).unwrap_or(-1)
}

/// The messages of orapost's INBOX as IMAP shows them.
fn orapost_inbox(r: &Running) -> Vec<Value> {
    let out = client(
        r,
        "imap_dump.py",
        &[&r.ports.imap.to_string(), "orapost@acme.com", "secret"],
    );
    let v: Value = serde_json::from_str(&out).expect("imap_dump.py prints JSON");
    v["INBOX"].as_array().cloned().unwrap_or_default()
}

/// The results of the newest round, by test, as `show monitor;` lists them.
fn shown(r: &Running) -> Vec<(String, String, String)> {
    r.fetch("show monitor;")
        .iter()
        .map(|e| {
            (
                attr(e, "test").unwrap_or("").to_string(),
                attr(e, "result").unwrap_or("").to_string(),
                attr(e, "summary").unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn rounds(r: &Running) -> i64 {
    count(
        r,
        "SELECT COUNT(*) FROM es_monitor_report WHERE test_name = 'flow'",
    )
}

/// Refreshes the Monitor, which runs a round at once, and waits for that round's reports.
fn round(r: &Running) {
    let before = rounds(r);
    r.iofcmgr("refresh process server=monitor instance=1;").ok();
    wait_for("a round of the Monitor", WAIT_SECS, || rounds(r) > before);
    // the mail row is written in the same transaction as the test rows
}

#[test]
fn the_monitor_reports_to_orapost_with_charts_and_does_not_repeat_itself() {
    let r = Running::start(
        Node::new(),
        "create person username=jdoe domain=acme.com firstname=John lastname=Doe password=secret quota=0;
         modify person username=orapost domain=acme.com password=secret;
         register paramvalue server=monitor instance=1 parameter=interval value=3600;
         register paramvalue server=statistics instance=1 parameter=interval value=1;\n",
    );
    wait_for("the Monitor to run", WAIT_SECS, || {
        r.process("monitor", "1")
            .is_some_and(|e| attr(&e, "state").is_some_and(|s| s.eq_ignore_ascii_case("running")))
    });
    // a few samples for the charts
    wait_for("statistics samples", WAIT_SECS, || {
        count(&r, "SELECT COUNT(DISTINCT sampled_at) FROM es_stat_sample") >= 3
    });
    // the interval is an hour: nothing runs until asked
    assert_eq!(rounds(&r), 0);

    // a healthy node: every test passes, nothing is mailed
    r.send("jdoe@acme.com", "hello", "a first message\n");
    r.wait_inbox("jdoe", 1);
    round(&r);
    let first = shown(&r);
    let result = |rows: &[(String, String, String)], test: &str| {
        rows.iter()
            .find(|(t, _, _)| t == test)
            .map(|(_, res, sum)| (res.clone(), sum.clone()))
            .unwrap_or_else(|| panic!("no {test} in {rows:?}"))
    };
    assert_eq!(result(&first, "flow").0, "OK", "{first:?}");
    assert_eq!(result(&first, "references").0, "OK", "{first:?}");
    let (space, summary) = result(&first, "space");
    assert_eq!(space, "OK", "{first:?}");
    assert!(
        summary.starts_with("store ") && summary.contains("free"),
        "{summary}"
    );
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(*) FROM es_monitor_report WHERE test_name = 'mail'"
        ),
        0
    );

    // trouble: a message in the Dead Message queue, and an account charged for more than it
    // holds (a missing reference of the kind `verify store;` finds)
    r.sqlite()
        .execute_batch(
            "INSERT INTO es_queue_entry (guid, queue_name, node_id, message_id, sender_address,
                 priority, attempts, next_attempt_at, last_error, created_at)
             SELECT 'dead-1', 'DEAD', n.node_id, NULL, 'x@outside.example', 5, 3,
                    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'test', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             FROM es_node n WHERE n.node_id = (SELECT CAST(setting_value AS INTEGER)
                                               FROM es_setting WHERE setting_name = 'local_node_id');
             UPDATE es_account SET used_bytes = used_bytes + 1000
             WHERE object_id = (SELECT object_id FROM es_dir_object WHERE name_key = 'jdoe');",
        )
        .unwrap();
    round(&r);
    let second = shown(&r);
    assert_eq!(result(&second, "flow").0, "WARNING", "{second:?}");
    assert!(result(&second, "flow").1.contains("dead 1"), "{second:?}");
    let (refs, summary) = result(&second, "references");
    assert_eq!(refs, "ERROR", "{second:?}");
    assert!(summary.contains("quota_used 1"), "{summary}");
    let (mail, summary) = result(&second, "mail");
    assert_eq!(mail, "ERROR");
    assert!(
        summary.contains("report mailed to orapost@acme.com"),
        "{summary}"
    );

    // the report reaches ORAPOST: text and HTML, a chart in the HTML
    wait_for("the report in orapost's INBOX", WAIT_SECS, || {
        r.folder_count("orapost", "INBOX") >= 1
    });
    let inbox = orapost_inbox(&r);
    let report = inbox
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("esmail Monitor"))
        })
        .unwrap_or_else(|| panic!("no report in {inbox:#?}"));
    assert!(
        report["subject"]
            .as_str()
            .unwrap()
            .contains("ERROR on node"),
        "{report:#?}"
    );
    assert_eq!(report["auto_submitted"], "auto-generated");
    assert_eq!(report["content_type"], "multipart/alternative");
    let parts: Vec<&str> = report["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(
        parts.contains(&"text/plain") && parts.contains(&"text/html"),
        "{parts:?}"
    );
    let raw = report["raw"].as_str().unwrap();
    assert!(raw.contains("<svg"), "no chart in the HTML part:\n{raw}");
    assert!(raw.contains("Dead Message queue"), "{raw}");

    // the same findings again: recorded, not mailed again
    round(&r);
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(*) FROM es_monitor_report WHERE test_name = 'mail'"
        ),
        1
    );
    // the account repaired: the findings changed, so a new report goes out
    r.sqlite()
        .execute(
            "UPDATE es_account SET used_bytes = used_bytes - 1000
             WHERE object_id = (SELECT object_id FROM es_dir_object WHERE name_key = 'jdoe')",
            [],
        )
        .unwrap();
    round(&r);
    assert_eq!(result(&shown(&r), "references").0, "OK");
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(*) FROM es_monitor_report WHERE test_name = 'mail'"
        ),
        2
    );
    wait_for("the second report", WAIT_SECS, || {
        r.folder_count("orapost", "INBOX") >= 2
    });

    // the history of one test, newest first
    let history = r.fetch("show monitor test=flow;");
    let results: Vec<&str> = history.iter().filter_map(|e| attr(e, "result")).collect();
    assert_eq!(
        results,
        vec!["WARNING", "WARNING", "WARNING", "OK"],
        "{history:?}"
    );
    let bad = r.iofcmgr("show monitor test=flow color=red;");
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("color"), "{}", bad.stderr);
}
