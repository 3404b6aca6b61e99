//! Server-side rules end to end on `esmail start` (the embedded store): rules made with
//! iofcmgr, messages sent by SMTP, delivered by the Postman with the rules, and the results
//! read back through IMAP (python imaplib, tests/clients/imap_dump.py).
mod common;
use common::*;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One message as IMAP shows it.
#[derive(Debug, Clone)]
struct Msg {
    flags: Vec<String>,
    subject: String,
    from: String,
    message_id: String,
    in_reply_to: String,
    auto_submitted: String,
    loop_chain: Vec<String>,
    content_type: String,
    parts: Vec<String>,
    raw: String,
}

/// A mailbox as IMAP shows it: folder → messages.
type Dump = BTreeMap<String, Vec<Msg>>;

fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn list(v: &Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Every folder of `user` (password "secret") through IMAP.
fn imap(r: &Running, user: &str) -> Dump {
    let out = python_client(
        "imap_dump.py",
        &[
            &r.ports.imap.to_string(),
            &format!("{user}@acme.com"),
            "secret",
        ],
    );
    assert_eq!(
        out.code,
        0,
        "imap_dump.py for {user} failed:\n{}\n{}\n--- node\n{}",
        out.stdout,
        out.stderr,
        r.logs()
    );
    let v: Value = serde_json::from_str(out.stdout.trim()).expect("imap_dump.py prints JSON");
    let mut dump = Dump::new();
    for (folder, msgs) in v.as_object().expect("an object") {
        let msgs = msgs
            .as_array()
            .expect("a list")
            .iter()
            .map(|m| Msg {
                flags: list(m, "flags"),
                subject: text(m, "subject"),
                from: text(m, "from"),
                message_id: text(m, "message_id"),
                in_reply_to: text(m, "in_reply_to"),
                auto_submitted: text(m, "auto_submitted"),
                loop_chain: list(m, "loop"),
                content_type: text(m, "content_type"),
                parts: list(m, "parts"),
                raw: text(m, "raw"),
            })
            .collect();
        dump.insert(folder.clone(), msgs);
    }
    dump
}

/// The subjects in a folder (none when the folder does not exist), sorted.
fn subjects(d: &Dump, folder: &str) -> Vec<String> {
    let mut s: Vec<String> = d
        .get(folder)
        .map(|m| m.iter().map(|m| m.subject.clone()).collect())
        .unwrap_or_default();
    s.sort();
    s
}

fn find<'a>(d: &'a Dump, folder: &str, subject: &str) -> &'a Msg {
    d.get(folder)
        .and_then(|m| m.iter().find(|m| m.subject == subject))
        .unwrap_or_else(|| panic!("no message {subject:?} in {folder}: {d:#?}"))
}

/// Everything the node's processes logged, whole (the Postman logs what its rules did).
fn full_logs(r: &Running) -> String {
    let mut text = String::new();
    if let Ok(rd) = std::fs::read_dir(r.path().join("esmail-data/log")) {
        for f in rd.flatten() {
            text.push_str(&std::fs::read_to_string(f.path()).unwrap_or_default());
        }
    }
    text
}

fn count(r: &Running, sql: &str) -> i64 {
    r.sqlite().query_row(sql, [], |x| x.get(0)).unwrap_or(-1)
}

/// Waits until the Submission queue is empty and stays so for a second (rules queue new
/// messages in the delivery transaction, so an empty queue means everything was delivered).
fn settle(r: &Running) {
    let until = Instant::now() + Duration::from_secs(WAIT_SECS);
    let mut quiet_since: Option<Instant> = None;
    loop {
        let n = count(
            r,
            "SELECT COUNT(*) FROM es_queue_entry WHERE queue_name = 'SUBMISSION'",
        );
        if n == 0 {
            let t = *quiet_since.get_or_insert_with(Instant::now);
            if t.elapsed() >= Duration::from_millis(1500) {
                return;
            }
        } else {
            quiet_since = None;
        }
        assert!(
            Instant::now() < until,
            "the Submission queue never emptied ({n} entries)\n{}",
            r.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn users(names: &[&str]) -> String {
    names
        .iter()
        .map(|u| format!("create person username={u} password=secret quota=0;\n"))
        .collect()
}

fn raw_message(from: &str, to: &str, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\
         Message-ID: <{}.{}@test.example>\r\n{extra}MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\r\n{}\r\n",
        subject.replace(' ', "-"),
        std::process::id(),
        body.replace('\n', "\r\n")
    )
    .into_bytes()
}

// ------------------------------------------------------------------ statements

/// A value as IOFCMGR reads it back.
fn q(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\"\""))
}

/// The statements that make the rules `fetch rule` printed.
fn statements_of(entries: &[Vec<(String, String)>]) -> String {
    let mut out = String::new();
    for e in entries {
        let get = |k: &str| attr(e, k).map(str::to_string);
        let name = get("name").unwrap();
        let owner = match (get("system"), get("username"), get("domain")) {
            (Some(_), _, _) => "system=yes".to_string(),
            (None, Some(u), Some(d)) => format!("username={u} domain={d}"),
            (None, None, Some(d)) => format!("domain={d}"),
            other => panic!("no owner: {other:?}"),
        };
        out.push_str(&format!(
            "create rule name={name} {owner} event={} position={} active={}",
            get("event").unwrap(),
            get("position").unwrap(),
            get("active").unwrap()
        ));
        for k in ["description", "group"] {
            if let Some(v) = get(k) {
                out.push_str(&format!(" {k}={}", q(&v)));
            }
        }
        out.push_str(";\n");
        if let Some(j) = get("join") {
            out.push_str(&format!("add cond rule={name} {owner} join={j};\n"));
        }
        for (prefix, verb) in [("clause", "add clause"), ("action", "add action")] {
            for n in 1.. {
                let head = format!("{prefix}{n}.");
                let attrs: Vec<String> = e
                    .iter()
                    .filter_map(|(k, v)| k.strip_prefix(&head).map(|a| format!("{a}={}", q(v))))
                    .collect();
                if attrs.is_empty() {
                    break;
                }
                out.push_str(&format!(
                    "{verb} rule={name} {owner} {};\n",
                    attrs.join(" ")
                ));
            }
        }
    }
    out
}

#[test]
fn rule_statements_check_everything_and_fetch_reads_back() {
    let people = users(&["jdoe", "asmith"]);
    let script = r#"
create rule name=Vacation username=jdoe description="Away; back ""soon"" -- really" group=holidays active=no;
add cond rule=vacation username=jdoe join=or;
add clause rule=vacation username=jdoe on=header header=X-Priority op=equals not=yes value=1;
add clause rule=vacation username=jdoe on=size op=less value=2M;
add clause rule=vacation username=jdoe on=body op=matches value="*lunch?*";
add clause rule=vacation username=jdoe on=attachment op=contains value=pdf;
add clause rule=vacation username=jdoe on=recipient op=equals value=team@acme.com;
add action rule=vacation username=jdoe do=reply days=3 subject="Away: {subject}" template="line one
line two";
add action rule=vacation username=jdoe do=setprop flag=flagged value=off;
create rule name=route domain=acme.com position=7 group=policy;
add action rule=route domain=acme.com do=forward to=asmith@acme.com subject="[fwd] " template="x";
add action rule=route domain=acme.com do=notify to=asmith@acme.com;
add action rule=route domain=acme.com do=bcc to=asmith@acme.com;
create rule name=sys system=yes;
add cond rule=sys system=yes join=and;
add action rule=sys system=yes do=copyto folder=Archive/All;
add action rule=sys system=yes do=moveto folder=inbox;
add action rule=sys system=yes do=reject reason="not here";
add action rule=sys system=yes do=discard;
add action rule=sys system=yes do=pass;
"#;
    let a = Node::new();
    a.iofcmgr(&(people.clone() + script)).ok();
    let first = a.iofcmgr("fetch rule;").ok().stdout;
    let entries = parse_entries(&first);
    assert_eq!(entries.len(), 3, "{first}");
    assert_eq!(attr(&entries[0], "name"), Some("sys"));
    assert_eq!(attr(&entries[1], "name"), Some("route"));
    assert_eq!(attr(&entries[2], "name"), Some("vacation"));
    assert_eq!(attr(&entries[2], "clause2.value"), Some("2097152"));
    assert_eq!(attr(&entries[0], "action2.folder"), Some("INBOX"));
    // what fetch prints makes the same rules again
    let b = Node::new();
    b.iofcmgr(&(people + &statements_of(&entries))).ok();
    assert_eq!(b.iofcmgr("fetch rule;").ok().stdout, first);
    // filters
    assert_eq!(a.fetch("fetch rule username=jdoe;").len(), 1);
    assert_eq!(a.fetch("fetch rule domain=acme.com;").len(), 2);
    assert_eq!(a.fetch("fetch rule domain=acme.com username=;").len(), 1);
    assert_eq!(a.fetch("fetch rule action1.do=forward;").len(), 1);
    assert_eq!(a.fetch("fetch rule group=pol*;").len(), 1);

    // enable, disable, delete
    a.iofcmgr("enable rule name=VACATION username=jdoe domain=acme.com;")
        .ok();
    assert_eq!(
        attr(&a.fetch("fetch rule name=vacation;")[0], "active"),
        Some("yes")
    );
    a.iofcmgr("disable rule name=vacation username=jdoe;").ok();
    assert_eq!(
        attr(&a.fetch("fetch rule name=vacation;")[0], "active"),
        Some("no")
    );
    a.iofcmgr("delete rule name=route domain=acme.com;").ok();
    assert_eq!(a.fetch("fetch rule;").len(), 2);

    // each error names its line and leaves nothing of its statement
    for (statement, want) in [
        ("create rule name=x;", "name the rule's owner"),
        (
            "create rule name=vacation username=jdoe;",
            "rule vacation already exists for jdoe@acme.com",
        ),
        (
            "create rule name=x username=ghost;",
            "no account ghost@acme.com",
        ),
        (
            "create rule name=x domain=nowhere.example;",
            "no domain nowhere.example",
        ),
        (
            "create rule name=x system=yes domain=acme.com;",
            "give neither username= nor domain=",
        ),
        (
            "create rule name=\"two words\" system=yes;",
            "only letters, digits",
        ),
        (
            "create rule name=x system=yes event=arrival;",
            "event=delivery",
        ),
        (
            "create rule name=x system=yes colour=red;",
            "unknown attribute colour for create rule",
        ),
        (
            "add cond rule=vacation username=jdoe join=or;",
            "has a condition already",
        ),
        (
            "add cond rule=sys system=yes join=xor;",
            "expected and or or",
        ),
        (
            "add clause rule=sys system=yes on=subject op=contains;",
            "needs value=",
        ),
        (
            "add clause rule=sys system=yes on=size op=equals value=1;",
            "on=size takes op=greater or op=less",
        ),
        (
            "add clause rule=sys system=yes on=subject op=less value=1;",
            "only with on=size",
        ),
        (
            "add clause rule=sys system=yes on=header op=contains value=1;",
            "on=header needs header=NAME",
        ),
        (
            "add clause rule=sys system=yes on=subject header=X op=contains value=1;",
            "header= goes only with on=header",
        ),
        (
            "add clause rule=nothing system=yes on=subject op=contains value=1;",
            "no rule nothing for the system",
        ),
        (
            "add action rule=sys system=yes do=forward;",
            "do=forward needs to=",
        ),
        (
            "add action rule=sys system=yes do=forward to=asmith;",
            "expected an address",
        ),
        (
            "add action rule=sys system=yes do=moveto folder=a*b;",
            "invalid character",
        ),
        (
            "add action rule=sys system=yes do=reply days=400;",
            "from 1 to 365",
        ),
        (
            "add action rule=sys system=yes do=discard reason=x;",
            "unknown attribute reason for add action do=discard",
        ),
        (
            "add action rule=sys system=yes do=setprop flag=sticky;",
            "expected one of seen",
        ),
        (
            "add action rule=sys system=yes do=runproc procedure=app.on_mail;",
            "do=runproc needs the Oracle store",
        ),
        ("add thing rule=sys system=yes;", "add what?"),
    ] {
        let before = a.iofcmgr("fetch rule;").ok().stdout;
        let r = a.iofcmgr(&format!("fetch rule name=none;\n{statement}"));
        assert_eq!(r.code, 1, "{statement}: {}", r.stderr);
        assert!(
            r.stderr.contains("line 2: ") && r.stderr.contains(want),
            "{statement}: {}",
            r.stderr
        );
        assert_eq!(a.iofcmgr("fetch rule;").ok().stdout, before, "{statement}");
    }
    // in a script, the statements before the error stay
    let r = a.iofcmgr(
        "create rule name=half username=asmith;\nadd clause rule=half username=asmith on=subject op=contains value=x;\n",
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("line 2: rule half of asmith@acme.com has no condition yet"),
        "{}",
        r.stderr
    );
    assert_eq!(a.fetch("fetch rule username=asmith;").len(), 1);
}

/// The clauses or actions `fetch rule` shows for a rule, in their numbers' order: for each,
/// its attributes but the number (`on=subject op=contains value=a`).
fn numbered(e: &[(String, String)], prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for n in 1.. {
        let head = format!("{prefix}{n}.");
        let attrs: Vec<String> = e
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&head).map(|a| format!("{a}={v}")))
            .collect();
        if attrs.is_empty() {
            break;
        }
        out.push(attrs.join(" "));
    }
    out
}

/// The one rule `fetch rule name=NAME;` finds on a node.
fn one_rule(n: &Node, name: &str) -> Vec<(String, String)> {
    let mut found = n.fetch(&format!("fetch rule name={name};"));
    assert_eq!(found.len(), 1, "rule {name}: {found:?}");
    found.remove(0)
}

#[test]
fn modify_rule_delete_clause_and_delete_action_change_only_what_they_name() {
    let script = r#"
create rule name=lists username=jdoe position=5 description="first text" group=g1;
add cond rule=lists username=jdoe join=or;
add clause rule=lists username=jdoe on=subject op=contains value=alpha;
add clause rule=lists username=jdoe on=header header=List-Id op=equals not=yes value=beta;
add clause rule=lists username=jdoe on=size op=greater value=1K;
add clause rule=lists username=jdoe on=body op=matches value="*delta*";
add action rule=lists username=jdoe do=copyto folder=One;
add action rule=lists username=jdoe do=bcc to=asmith@acme.com;
add action rule=lists username=jdoe do=setprop flag=flagged;
add action rule=lists username=jdoe do=moveto folder=Four;
create rule name=other username=jdoe position=10;
create rule name=sys system=yes description="sys text";
add action rule=sys system=yes do=pass;
"#;
    let a = Node::new();
    a.iofcmgr(&(users(&["jdoe", "asmith"]) + script)).ok();
    let names = |n: &Node| -> Vec<String> {
        n.fetch("fetch rule username=jdoe;")
            .iter()
            .map(|e| attr(e, "name").unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(names(&a), vec!["lists", "other"]);
    let before = one_rule(&a, "lists");

    // modify rule: each attribute alone, read back with fetch; the others stay
    let r = a.iofcmgr_args(&["-v"], "modify rule name=lists username=jdoe position=30;");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("modified rule lists of jdoe@acme.com (position 30)"),
        "{}",
        r.stderr
    );
    let e = one_rule(&a, "lists");
    assert_eq!(attr(&e, "position"), Some("30"));
    assert_eq!(attr(&e, "description"), Some("first text"));
    assert_eq!(attr(&e, "group"), Some("g1"));
    assert_eq!(
        names(&a),
        vec!["other", "lists"],
        "the position orders the rules"
    );

    a.iofcmgr("modify rule rule=LISTS username=jdoe domain=acme.com description=\"second; \"\"text\"\"\";")
        .ok();
    let e = one_rule(&a, "lists");
    assert_eq!(attr(&e, "description"), Some("second; \"text\""));
    assert_eq!(attr(&e, "position"), Some("30"));
    assert_eq!(attr(&e, "group"), Some("g1"));

    a.iofcmgr("modify rule name=lists username=jdoe group=g2;")
        .ok();
    let e = one_rule(&a, "lists");
    assert_eq!(attr(&e, "group"), Some("g2"));
    assert_eq!(attr(&e, "description"), Some("second; \"text\""));
    assert_eq!(attr(&e, "position"), Some("30"));

    // an empty description or group clears it
    a.iofcmgr("modify rule name=lists username=jdoe description=\"\";")
        .ok();
    let e = one_rule(&a, "lists");
    assert_eq!(attr(&e, "description"), None);
    assert_eq!(attr(&e, "group"), Some("g2"));
    a.iofcmgr("modify rule name=lists username=jdoe group=\"\";")
        .ok();
    let e = one_rule(&a, "lists");
    assert_eq!(attr(&e, "group"), None);

    // all three at once, on a system rule
    a.iofcmgr("modify rule name=sys system=yes position=3 description=\"\" group=policy;")
        .ok();
    let s = one_rule(&a, "sys");
    assert_eq!(attr(&s, "position"), Some("3"));
    assert_eq!(attr(&s, "description"), None);
    assert_eq!(attr(&s, "group"), Some("policy"));
    assert_eq!(attr(&s, "action1.do"), Some("pass"));

    // nothing but those attributes changed: the rest of the entry is as it was
    let e = one_rule(&a, "lists");
    let rest = |e: &[(String, String)]| -> Vec<(String, String)> {
        e.iter()
            .filter(|(k, _)| !matches!(k.as_str(), "position" | "description" | "group"))
            .cloned()
            .collect()
    };
    assert_eq!(rest(&e), rest(&before));

    // delete clause: the middle one goes, the rest keep their order, numbered from 1
    let clauses = numbered(&before, "clause");
    assert_eq!(clauses.len(), 4, "{before:?}");
    let r = a.iofcmgr_args(&["-v"], "delete clause rule=lists username=jdoe number=2;");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("deleted clause 2 of rule lists of jdoe@acme.com (3 left)"),
        "{}",
        r.stderr
    );
    let e = one_rule(&a, "lists");
    assert_eq!(
        numbered(&e, "clause"),
        vec![clauses[0].clone(), clauses[2].clone(), clauses[3].clone()]
    );
    assert_eq!(attr(&e, "join"), Some("or"));
    assert_eq!(attr(&e, "clause4.on"), None);

    // delete action: the same, and the order of the actions left is kept
    let actions = numbered(&before, "action");
    assert_eq!(
        actions,
        vec![
            "do=copyto folder=One",
            "do=bcc to=asmith@acme.com",
            "do=setprop flag=flagged value=on",
            "do=moveto folder=Four"
        ]
    );
    let r = a.iofcmgr_args(&["-v"], "delete action rule=lists username=jdoe number=2;");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("deleted action 2 (bcc) of rule lists of jdoe@acme.com (3 left)"),
        "{}",
        r.stderr
    );
    let e = one_rule(&a, "lists");
    assert_eq!(
        numbered(&e, "action"),
        vec![actions[0].clone(), actions[2].clone(), actions[3].clone()]
    );
    assert_eq!(numbered(&e, "clause").len(), 3, "the clauses are untouched");

    // what is added next takes the next number fetch shows, after the ones left
    let r = a.iofcmgr_args(
        &["-v"],
        "add clause rule=lists username=jdoe on=subject op=equals value=omega;\n\
         add action rule=lists username=jdoe do=discard;",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("added clause 4 to rule lists of jdoe@acme.com")
            && r.stderr
                .contains("added action 4 (discard) to rule lists of jdoe@acme.com"),
        "{}",
        r.stderr
    );
    let e = one_rule(&a, "lists");
    assert_eq!(attr(&e, "clause4.value"), Some("omega"));
    assert_eq!(attr(&e, "action4.do"), Some("discard"));
    // the stored numbers are the ones fetch shows
    let stored = |table: &str, column: &str| -> Vec<i64> {
        let db = a.sqlite();
        let mut st = db
            .prepare(&format!(
                "SELECT x.{column} FROM {table} x JOIN es_rule r ON r.rule_id = x.rule_id \
                 WHERE r.rule_name = 'lists' ORDER BY x.{column}"
            ))
            .unwrap();
        let v: Vec<i64> = st
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(|x| x.unwrap())
            .collect();
        v
    };
    assert_eq!(stored("es_rule_clause", "clause_no"), vec![1, 2, 3, 4]);
    assert_eq!(stored("es_rule_action", "action_no"), vec![1, 2, 3, 4]);

    // the first and the last go as well
    a.iofcmgr(
        "delete clause rule=lists username=jdoe number=1;\n\
         delete clause rule=lists username=jdoe number=3;\n\
         delete action rule=lists username=jdoe number=4;\n\
         delete action rule=lists username=jdoe number=1;",
    )
    .ok();
    let e = one_rule(&a, "lists");
    assert_eq!(
        numbered(&e, "clause"),
        vec![clauses[2].clone(), clauses[3].clone()]
    );
    assert_eq!(
        numbered(&e, "action"),
        vec![actions[2].clone(), actions[3].clone()]
    );

    // each refusal names its line and changes nothing
    let long = |n: usize| "x".repeat(n);
    for (statement, want) in [
        (
            "modify rule name=lists username=jdoe;".to_string(),
            "modify rule names nothing to change".to_string(),
        ),
        (
            "modify rule name=ghost username=jdoe position=1;".into(),
            "no rule ghost for jdoe@acme.com".into(),
        ),
        (
            "modify rule name=lists username=ghost position=1;".into(),
            "no account ghost@acme.com".into(),
        ),
        (
            "modify rule name=lists domain=acme.com position=1;".into(),
            "no rule lists for domain acme.com".into(),
        ),
        (
            "modify rule username=jdoe position=1;".into(),
            "modify rule needs rule=".into(),
        ),
        (
            "modify rule name=lists username=jdoe description=x active=no;".into(),
            "unknown attribute active for modify rule".into(),
        ),
        (
            "modify rule name=lists username=jdoe newname=x;".into(),
            "unknown attribute newname for modify rule".into(),
        ),
        (
            "modify rule name=lists username=jdoe description=x position=0;".into(),
            "position=\"0\": expected a whole number of at least 1".into(),
        ),
        (
            "modify rule name=lists username=jdoe group=x position=ten;".into(),
            "expected a whole number".into(),
        ),
        (
            format!(
                "modify rule name=lists username=jdoe position=1 description={};",
                long(1001)
            ),
            "description: at most 1000 characters".into(),
        ),
        (
            format!(
                "modify rule name=lists username=jdoe position=1 group={};",
                long(129)
            ),
            "group: at most 128 characters".into(),
        ),
        (
            "modify rule name=lists username=jdoe position=1 description=\"two\nlines\";".into(),
            "description: one line of text".into(),
        ),
        (
            "delete clause rule=lists username=jdoe number=3;".into(),
            "rule lists of jdoe@acme.com has no clause 3 (it has 2 clauses)".into(),
        ),
        (
            "delete clause rule=other username=jdoe number=1;".into(),
            "rule other of jdoe@acme.com has no clause 1 (it has none)".into(),
        ),
        (
            "delete clause rule=lists username=jdoe number=0;".into(),
            "number=\"0\": expected a whole number of at least 1".into(),
        ),
        (
            "delete clause rule=lists username=jdoe number=-1;".into(),
            "expected a whole number of at least 1".into(),
        ),
        (
            "delete clause rule=lists username=jdoe;".into(),
            "delete clause needs number=".into(),
        ),
        (
            "delete clause rule=ghost username=jdoe number=1;".into(),
            "no rule ghost for jdoe@acme.com".into(),
        ),
        (
            "delete clause rule=lists username=jdoe number=1 on=subject;".into(),
            "unknown attribute on for delete clause".into(),
        ),
        (
            "delete action rule=lists username=jdoe number=3;".into(),
            "rule lists of jdoe@acme.com has no action 3 (it has 2 actions)".into(),
        ),
        (
            "delete action rule=sys system=yes number=2;".into(),
            "rule sys of the system has no action 2 (it has 1 action)".into(),
        ),
        (
            "delete action rule=lists username=jdoe number=x;".into(),
            "expected a whole number of at least 1".into(),
        ),
        (
            "delete action rule=lists username=jdoe;".into(),
            "delete action needs number=".into(),
        ),
        (
            "delete action rule=lists system=yes number=1;".into(),
            "no rule lists for the system".into(),
        ),
        (
            "delete action rule=lists username=jdoe number=1 do=pass;".into(),
            "unknown attribute do for delete action".into(),
        ),
    ] {
        let before = a.iofcmgr("fetch rule;").ok().stdout;
        let r = a.iofcmgr(&format!("fetch rule name=none;\n{statement}"));
        assert_eq!(r.code, 1, "{statement}: {}", r.stderr);
        assert!(
            r.stderr.contains("line 2: ") && r.stderr.contains(&want),
            "{statement}: {}",
            r.stderr
        );
        assert_eq!(a.iofcmgr("fetch rule;").ok().stdout, before, "{statement}");
    }
    // in a script, the statements before the error stay; the one that fails leaves nothing
    let r = a.iofcmgr(
        "modify rule name=lists username=jdoe position=40;\n\
         delete action rule=lists username=jdoe number=1;\n\
         delete clause rule=lists username=jdoe number=9;\n",
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("line 3: "), "{}", r.stderr);
    let e = one_rule(&a, "lists");
    assert_eq!(attr(&e, "position"), Some("40"));
    assert_eq!(numbered(&e, "action"), vec![actions[3].clone()]);
    assert_eq!(numbered(&e, "clause").len(), 2);
    // with autocommit off, a refused statement rolls back what was not committed
    let r = a.iofcmgr(
        "autocommit off;\n\
         modify rule name=lists username=jdoe position=50;\n\
         delete clause rule=lists username=jdoe number=1;\n\
         delete action rule=lists username=jdoe number=7;\n\
         commit;\n",
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("line 4: "), "{}", r.stderr);
    let after = one_rule(&a, "lists");
    assert_eq!(after, e, "nothing of the uncommitted statements remains");
}

// ------------------------------------------------------------------ clauses

#[test]
fn every_clause_kind_and_operator_negation_and_joins_select_the_right_messages() {
    // each rule files a copy of what its condition selects into a folder of its own
    let rules = r#"
create rule name=header username=jdoe;
add cond rule=header username=jdoe join=and;
add clause rule=header username=jdoe on=header header=X-Priority op=equals value=1;
add action rule=header username=jdoe do=copyto folder=C/Header;

create rule name=sender username=jdoe;
add cond rule=sender username=jdoe join=and;
add clause rule=sender username=jdoe on=sender op=contains value=@partner.example;
add action rule=sender username=jdoe do=copyto folder=C/Sender;

create rule name=recipient username=jdoe;
add cond rule=recipient username=jdoe join=and;
add clause rule=recipient username=jdoe on=recipient op=equals value=team@acme.com;
add action rule=recipient username=jdoe do=copyto folder=C/Recipient;

create rule name=subject username=jdoe;
add cond rule=subject username=jdoe join=and;
add clause rule=subject username=jdoe on=subject op=matches value="invoice ????";
add action rule=subject username=jdoe do=copyto folder=C/Subject;

create rule name=big username=jdoe;
add cond rule=big username=jdoe join=and;
add clause rule=big username=jdoe on=size op=greater value=20K;
add action rule=big username=jdoe do=copyto folder=C/Big;

create rule name=small username=jdoe;
add cond rule=small username=jdoe join=and;
add clause rule=small username=jdoe on=size op=less value=2K;
add action rule=small username=jdoe do=copyto folder=C/Small;

create rule name=body username=jdoe;
add cond rule=body username=jdoe join=and;
add clause rule=body username=jdoe on=body op=contains value="secret word";
add action rule=body username=jdoe do=copyto folder=C/Body;

create rule name=image username=jdoe;
add cond rule=image username=jdoe join=and;
add clause rule=image username=jdoe on=attachment op=equals value=image;
add action rule=image username=jdoe do=copyto folder=C/Image;

create rule name=pdf username=jdoe;
add cond rule=pdf username=jdoe join=and;
add clause rule=pdf username=jdoe on=attachment op=matches value=*.pdf;
add action rule=pdf username=jdoe do=copyto folder=C/Pdf;

create rule name=calmpartner username=jdoe;
add cond rule=calmpartner username=jdoe join=and;
add clause rule=calmpartner username=jdoe on=sender op=contains value=partner.example;
add clause rule=calmpartner username=jdoe on=subject op=contains not=yes value=urgent;
add action rule=calmpartner username=jdoe do=copyto folder=C/CalmPartner;

create rule name=either username=jdoe;
add cond rule=either username=jdoe join=or;
add clause rule=either username=jdoe on=subject op=equals value=alpha;
add clause rule=either username=jdoe on=body op=contains value=beta-marker;
add action rule=either username=jdoe do=copyto folder=C/Either;

create rule name=off username=jdoe active=no;
add action rule=off username=jdoe do=copyto folder=C/Off;
"#;
    let r = Running::start_for(Node::new(), &(users(&["jdoe"]) + rules), &["SMTP", "IMAP"]);
    let smtp = r.ports.smtp;
    let to = "jdoe@acme.com";
    send_raw(
        smtp,
        "billing@partner.example",
        to,
        &raw_message(
            "billing@partner.example",
            to,
            "invoice 2026",
            "",
            "please pay",
        ),
    );
    send_raw(
        smtp,
        "boss@partner.example",
        to,
        &raw_message(
            "boss@partner.example",
            "Team <team@acme.com>",
            "urgent meeting",
            "X-Priority: 1\r\n",
            "now",
        ),
    );
    send_raw(
        smtp,
        "friend@example.org",
        to,
        &raw_message(
            "friend@example.org",
            to,
            "alpha",
            "X-Priority: 3\r\n",
            "the secret word is swordfish",
        ),
    );
    send_raw(
        smtp,
        "friend@example.org",
        to,
        &raw_message(
            "friend@example.org",
            to,
            "large one",
            "",
            &format!(
                "beta-marker\n{}",
                format!("{}\n", "x".repeat(70)).repeat(400)
            ),
        ),
    );
    let with_image = format!(
        "From: friend@example.org\r\nTo: {to}\r\nSubject: picture\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n\
         Content-Type: text/plain\r\n\r\nsee the picture\r\n--XX\r\n\
         Content-Type: image/png; name=pic.png\r\nContent-Disposition: attachment; filename=pic.png\r\n\
         Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--XX\r\n\
         Content-Type: application/pdf; name=report.pdf\r\nContent-Disposition: attachment; filename=report.pdf\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--XX--\r\n"
    );
    send_raw(smtp, "friend@example.org", to, with_image.as_bytes());
    r.wait_inbox("jdoe", 5);
    settle(&r);
    let d = imap(&r, "jdoe");
    let s = |f: &str| subjects(&d, f);
    let v = |x: &[&str]| {
        let mut v: Vec<String> = x.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(
        s("INBOX"),
        v(&[
            "invoice 2026",
            "urgent meeting",
            "alpha",
            "large one",
            "picture"
        ])
    );
    assert_eq!(s("C/Header"), v(&["urgent meeting"]), "header equals");
    assert_eq!(
        s("C/Sender"),
        v(&["invoice 2026", "urgent meeting"]),
        "sender contains"
    );
    assert_eq!(
        s("C/Recipient"),
        v(&["urgent meeting"]),
        "recipient equals (To: field)"
    );
    assert_eq!(s("C/Subject"), v(&["invoice 2026"]), "subject matches");
    assert_eq!(s("C/Big"), v(&["large one"]), "size greater");
    assert_eq!(
        s("C/Small"),
        v(&["invoice 2026", "urgent meeting", "alpha", "picture"]),
        "size less"
    );
    assert_eq!(s("C/Body"), v(&["alpha"]), "body contains");
    assert_eq!(s("C/Image"), v(&["picture"]), "attachment equals a type");
    assert_eq!(
        s("C/Pdf"),
        v(&["picture"]),
        "attachment matches a file name"
    );
    assert_eq!(
        s("C/CalmPartner"),
        v(&["invoice 2026"]),
        "AND with a negated clause"
    );
    assert_eq!(s("C/Either"), v(&["alpha", "large one"]), "OR");
    assert!(s("C/Off").is_empty(), "an inactive rule does nothing");
    assert!(!d.contains_key("C/Off"));
    // copies point at the stored content: one message row per message sent
    assert_eq!(count(&r, "SELECT COUNT(*) FROM es_message"), 5);
}

// ------------------------------------------------------------------ actions

#[test]
fn every_action_forward_bcc_notify_copyto_moveto_discard_reject_setprop_pass() {
    let rules = r#"
create rule name=stop username=jdoe position=1;
add cond rule=stop username=jdoe join=and;
add clause rule=stop username=jdoe on=subject op=contains value=pass-me;
add action rule=stop username=jdoe do=pass;

create rule name=late username=jdoe position=90;
add cond rule=late username=jdoe join=or;
add clause rule=late username=jdoe on=subject op=contains value=pass-me;
add clause rule=late username=jdoe on=subject op=contains value=late-me;
add action rule=late username=jdoe do=moveto folder=Late;

create rule name=fwd username=jdoe;
add cond rule=fwd username=jdoe join=and;
add clause rule=fwd username=jdoe on=subject op=contains value=fwd-me;
add action rule=fwd username=jdoe do=forward to=bsmith@acme.com subject="[auto] " template="Forwarded by {recipient}: {subject} from {sender}";

create rule name=bcc username=jdoe;
add cond rule=bcc username=jdoe join=and;
add clause rule=bcc username=jdoe on=subject op=contains value=bcc-me;
add action rule=bcc username=jdoe do=bcc to=bsmith@acme.com;

create rule name=notify username=jdoe;
add cond rule=notify username=jdoe join=and;
add clause rule=notify username=jdoe on=subject op=contains value=notify-me;
add action rule=notify username=jdoe do=notify to=bsmith@acme.com;

create rule name=copy username=jdoe;
add cond rule=copy username=jdoe join=and;
add clause rule=copy username=jdoe on=subject op=contains value=copy-me;
add action rule=copy username=jdoe do=copyto folder=Archive/Copies;

create rule name=move username=jdoe;
add cond rule=move username=jdoe join=and;
add clause rule=move username=jdoe on=subject op=contains value=move-me;
add action rule=move username=jdoe do=moveto folder=Lists/Work;

create rule name=drop username=jdoe;
add cond rule=drop username=jdoe join=and;
add clause rule=drop username=jdoe on=subject op=contains value=drop-me;
add action rule=drop username=jdoe do=discard;

create rule name=refuse username=jdoe;
add cond rule=refuse username=jdoe join=and;
add clause rule=refuse username=jdoe on=subject op=contains value=reject-me;
add action rule=refuse username=jdoe do=reject reason="jdoe takes no such mail";

create rule name=flags username=jdoe;
add cond rule=flags username=jdoe join=and;
add clause rule=flags username=jdoe on=subject op=contains value=flag-me;
add action rule=flags username=jdoe do=setprop flag=flagged value=on;
add action rule=flags username=jdoe do=setprop flag=seen;
add action rule=flags username=jdoe do=setprop flag=answered value=on;
add action rule=flags username=jdoe do=setprop flag=answered value=off;
"#;
    let r = Running::start_for(
        Node::new(),
        &(users(&["jdoe", "bsmith", "asmith"]) + rules),
        &["SMTP", "IMAP"],
    );
    // the one action the embedded store refuses, with a message that says why
    let refused =
        r.iofcmgr("add action rule=flags username=jdoe do=runproc procedure=app.on_mail param1=x;");
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("line 1: do=runproc needs the Oracle store"),
        "{}",
        refused.stderr
    );
    let fetched = r.fetch("fetch rule name=flags;");
    assert_eq!(fetched.len(), 1);
    assert!(
        !fetched[0].iter().any(|(_, v)| v == "runproc"),
        "the refused action changed nothing: {fetched:?}"
    );

    let smtp = r.ports.smtp;
    let from = "asmith@acme.com";
    let to = "jdoe@acme.com";
    let mut sent = BTreeMap::new();
    for subject in [
        "fwd-me please",
        "bcc-me please",
        "notify-me please",
        "copy-me please",
        "move-me please",
        "drop-me please",
        "reject-me please",
        "flag-me please",
        "pass-me please",
        "late-me please",
    ] {
        let m = raw_message(from, to, subject, "", "hello");
        send_raw(smtp, from, to, &m);
        sent.insert(subject, m);
    }
    settle(&r);
    let j = imap(&r, "jdoe");
    let b = imap(&r, "bsmith");
    let a = imap(&r, "asmith");
    let v = |x: &[&str]| {
        let mut v: Vec<String> = x.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(
        subjects(&j, "INBOX"),
        v(&[
            "fwd-me please",
            "bcc-me please",
            "notify-me please",
            "copy-me please",
            "flag-me please",
            "pass-me please",
        ]),
        "moved, discarded, rejected and late messages are not in the INBOX"
    );
    // copyto: a second pointer, in a folder made for it
    assert_eq!(subjects(&j, "Archive/Copies"), v(&["copy-me please"]));
    // moveto: delivered there instead of the INBOX
    assert_eq!(subjects(&j, "Lists/Work"), v(&["move-me please"]));
    // pass: the rule after it does not run; without pass it does
    assert_eq!(subjects(&j, "Late"), v(&["late-me please"]));
    // setprop: flags on the delivered message (answered set, then cleared)
    let mut flags = find(&j, "INBOX", "flag-me please").flags.clone();
    flags.sort();
    assert_eq!(flags, vec!["\\Flagged".to_string(), "\\Seen".to_string()]);
    assert!(find(&j, "INBOX", "copy-me please").flags.is_empty());
    // discard: nowhere, and no report
    assert!(!j.values().flatten().any(|m| m.subject.contains("drop-me")));

    // forward: a new message from jdoe with the template and the original attached
    let fwd = find(&b, "INBOX", "[auto] fwd-me please");
    assert!(fwd.from.contains("jdoe@acme.com"), "{fwd:?}");
    assert_eq!(fwd.content_type, "multipart/mixed");
    assert!(fwd.parts.contains(&"message/rfc822".to_string()), "{fwd:?}");
    assert!(
        fwd.raw
            .contains("Forwarded by jdoe@acme.com: fwd-me please from asmith@acme.com"),
        "{}",
        fwd.raw
    );
    assert_eq!(fwd.loop_chain, vec!["jdoe@acme.com".to_string()]);
    // bcc: the same stored message, queued to bsmith too
    let bcc = find(&b, "INBOX", "bcc-me please");
    let original = find(&j, "INBOX", "bcc-me please");
    assert_eq!(bcc.message_id, original.message_id);
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(DISTINCT fm.message_id) FROM es_folder_message fm \
             JOIN es_message m ON m.message_id = fm.message_id \
             WHERE m.rfc822_msgid LIKE 'bcc-me-please.%'"
        ),
        1,
        "the blind copy points at the content stored once"
    );
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(*) FROM es_folder_message fm JOIN es_message m ON m.message_id = fm.message_id \
             WHERE m.rfc822_msgid LIKE 'bcc-me-please.%'"
        ),
        2
    );
    // notify: a notice naming the sender and the subject
    let n = find(
        &b,
        "INBOX",
        "New message from asmith@acme.com: notify-me please",
    );
    assert_eq!(n.auto_submitted, "auto-generated");
    assert!(n.raw.contains("Subject: notify-me please"), "{}", n.raw);
    assert_eq!(
        subjects(&b, "INBOX").len(),
        3,
        "bsmith got the forward, the blind copy and the notice only: {b:#?}"
    );

    // reject: a failure report (RFC 3464) to the sender, with the reason
    let reports: Vec<&Msg> = a["INBOX"]
        .iter()
        .filter(|m| m.content_type == "multipart/report")
        .collect();
    assert_eq!(reports.len(), 1, "{a:#?}");
    let report = reports[0];
    assert!(report
        .parts
        .contains(&"message/delivery-status".to_string()));
    assert!(
        report
            .raw
            .contains("Final-Recipient: rfc822; jdoe@acme.com"),
        "{}",
        report.raw
    );
    assert!(report.raw.contains("Status: 5.7.1"), "{}", report.raw);
    assert!(
        report.raw.contains("jdoe takes no such mail"),
        "{}",
        report.raw
    );
    assert!(report.raw.contains("reject-me please"), "{}", report.raw);
    assert_eq!(a["INBOX"].len(), 1, "asmith got nothing else: {a:#?}");
    assert_eq!(sent.len(), 10);
}

#[test]
fn an_auto_reply_goes_once_per_sender_per_period_and_never_to_lists_or_the_null_sender() {
    let rules = r#"
create rule name=vacation username=jdoe description="Away in July";
add action rule=vacation username=jdoe do=reply days=7 subject="Away: {subject}" template="I am away until Monday.
Your message: {subject}";
"#;
    let r = Running::start_for(
        Node::new(),
        &(users(&["jdoe", "asmith", "bsmith", "carol"]) + rules),
        &["SMTP", "IMAP"],
    );
    let smtp = r.ports.smtp;
    let to = "jdoe@acme.com";
    let first = raw_message("asmith@acme.com", to, "first question", "", "?");
    send_raw(smtp, "asmith@acme.com", to, &first);
    r.wait_inbox("asmith", 1);
    send_raw(
        smtp,
        "asmith@acme.com",
        to,
        &raw_message("asmith@acme.com", to, "second question", "", "??"),
    );
    send_raw(
        smtp,
        "bsmith@acme.com",
        to,
        &raw_message(
            "bsmith@acme.com",
            to,
            "newsletter",
            "Precedence: bulk\r\n",
            "news",
        ),
    );
    send_raw(
        smtp,
        "carol@acme.com",
        to,
        &raw_message(
            "carol@acme.com",
            to,
            "list post",
            "List-Id: <team.acme.com>\r\n",
            "post",
        ),
    );
    send_raw(
        smtp,
        "",
        to,
        &raw_message("robot@acme.com", to, "from the null sender", "", "beep"),
    );
    send_raw(
        smtp,
        "carol@acme.com",
        to,
        &raw_message(
            "carol@acme.com",
            to,
            "already automatic",
            "Auto-Submitted: auto-generated\r\n",
            "x",
        ),
    );
    r.wait_inbox("jdoe", 6);
    settle(&r);
    let a = imap(&r, "asmith");
    assert_eq!(a["INBOX"].len(), 1, "one reply to asmith: {a:#?}");
    let reply = &a["INBOX"][0];
    assert_eq!(reply.subject, "Away: first question");
    assert_eq!(reply.auto_submitted, "auto-replied");
    assert!(reply.from.contains("jdoe@acme.com"));
    let first_id = String::from_utf8_lossy(&first)
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: ").map(str::to_string))
        .unwrap();
    assert_eq!(reply.in_reply_to, first_id);
    assert!(
        reply.raw.contains("I am away until Monday."),
        "{}",
        reply.raw
    );
    assert!(
        imap(&r, "bsmith")["INBOX"].is_empty(),
        "no reply to bulk mail"
    );
    assert!(
        imap(&r, "carol")["INBOX"].is_empty(),
        "no reply to a list or an automatic message"
    );
    // the reply was sent with the null sender (nothing can bounce back to jdoe)
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(*) FROM es_autoreply_memory WHERE sender_key = 'asmith@acme.com'"
        ),
        1
    );
    // once the period is over, the same sender gets a reply again
    r.sqlite()
        .execute(
            "UPDATE es_autoreply_memory SET replied_at = '2020-01-01T00:00:00.000000Z'",
            [],
        )
        .unwrap();
    send_raw(
        smtp,
        "asmith@acme.com",
        to,
        &raw_message("asmith@acme.com", to, "third question", "", "???"),
    );
    r.wait_inbox("asmith", 2);
    settle(&r);
    assert_eq!(
        subjects(&imap(&r, "asmith"), "INBOX"),
        vec![
            "Away: first question".to_string(),
            "Away: third question".to_string()
        ]
    );
}

#[test]
fn forward_loops_between_two_users_stop() {
    let rules = r#"
create rule name=to-asmith username=jdoe;
add action rule=to-asmith username=jdoe do=forward to=asmith@acme.com;
create rule name=to-jdoe username=asmith;
add action rule=to-jdoe username=asmith do=forward to=jdoe@acme.com;

create rule name=to-dave username=carol;
add action rule=to-dave username=carol do=bcc to=dave@acme.com;
create rule name=to-carol username=dave;
add action rule=to-carol username=dave do=bcc to=carol@acme.com;
"#;
    let r = Running::start_for(
        Node::new(),
        &(users(&["jdoe", "asmith", "carol", "dave"]) + rules),
        &["SMTP", "IMAP"],
    );
    r.send("jdoe@acme.com", "ping-pong", "round and round");
    r.send("carol@acme.com", "blind ping-pong", "round and round");
    settle(&r);
    // let any loop show itself
    std::thread::sleep(Duration::from_secs(2));
    settle(&r);
    let j = imap(&r, "jdoe");
    let a = imap(&r, "asmith");
    // jdoe: the message, and asmith's forward of jdoe's forward (not forwarded again)
    assert_eq!(
        subjects(&j, "INBOX"),
        vec!["Fwd: Fwd: ping-pong".to_string(), "ping-pong".to_string()],
        "{j:#?}"
    );
    assert_eq!(subjects(&a, "INBOX"), vec!["Fwd: ping-pong".to_string()]);
    let back = find(&j, "INBOX", "Fwd: Fwd: ping-pong");
    assert_eq!(
        back.loop_chain,
        vec!["jdoe@acme.com".to_string(), "asmith@acme.com".to_string()]
    );
    // blind copies: the same stored message goes round once
    assert_eq!(imap(&r, "carol")["INBOX"].len(), 2);
    assert_eq!(imap(&r, "dave")["INBOX"].len(), 1);
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(DISTINCT message_id) FROM es_folder_message fm \
             JOIN es_dir_object o ON o.object_id = fm.account_id WHERE o.name_key IN ('carol', 'dave')"
        ),
        1
    );
    assert!(full_logs(&r).contains("(a loop"), "the loop is logged");
}

#[test]
fn after_delete_action_the_removed_action_no_longer_happens() {
    // three actions; the middle one (a blind copy to asmith) is deleted between two messages
    let rules = r#"
create rule name=keep username=jdoe;
add cond rule=keep username=jdoe join=and;
add clause rule=keep username=jdoe on=subject op=contains value=report;
add action rule=keep username=jdoe do=copyto folder=Archive;
add action rule=keep username=jdoe do=bcc to=asmith@acme.com;
add action rule=keep username=jdoe do=setprop flag=flagged;
"#;
    let r = Running::start_for(
        Node::new(),
        &(users(&["jdoe", "asmith"]) + rules),
        &["SMTP", "IMAP"],
    );
    r.send("jdoe@acme.com", "report one", "first");
    r.wait_inbox("jdoe", 1);
    r.wait_inbox("asmith", 1);
    settle(&r);
    let a = imap(&r, "asmith");
    assert_eq!(subjects(&a, "INBOX"), vec!["report one".to_string()]);

    r.iofcmgr("delete action rule=keep username=jdoe number=2;")
        .ok();
    let e = r.fetch("fetch rule name=keep;");
    assert_eq!(
        numbered(&e[0], "action"),
        vec![
            "do=copyto folder=Archive",
            "do=setprop flag=flagged value=on"
        ]
    );

    r.send("jdoe@acme.com", "report two", "second");
    r.wait_inbox("jdoe", 2);
    settle(&r);
    let j = imap(&r, "jdoe");
    // the actions before and after the deleted one still happen, in their order
    assert_eq!(
        subjects(&j, "INBOX"),
        vec!["report one".to_string(), "report two".to_string()]
    );
    assert_eq!(
        subjects(&j, "Archive"),
        vec!["report one".to_string(), "report two".to_string()]
    );
    for m in ["report one", "report two"] {
        assert_eq!(
            find(&j, "INBOX", m).flags,
            vec!["\\Flagged".to_string()],
            "{m}"
        );
    }
    // the deleted one does not: asmith got the first message only
    let a = imap(&r, "asmith");
    assert_eq!(
        subjects(&a, "INBOX"),
        vec!["report one".to_string()],
        "{a:#?}"
    );
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(*) FROM es_folder_message fm JOIN es_dir_object o \
             ON o.object_id = fm.account_id WHERE o.name_key = 'asmith'"
        ),
        1
    );
}

// ------------------------------------------------------------------ failures

#[test]
fn a_rule_that_fails_still_delivers_the_message_to_the_inbox() {
    // kim's quota has room for the message but not for a copy too: the rule fails
    let rules = r#"
create person username=kim password=secret quota=6000;
create rule name=keep username=kim;
add action rule=keep username=kim do=forward to=bsmith@acme.com;
add action rule=keep username=kim do=setprop flag=flagged;
add action rule=keep username=kim do=copyto folder=Copies;
add action rule=keep username=kim do=moveto folder=Elsewhere;
"#;
    let r = Running::start_for(
        Node::new(),
        &(users(&["lee", "bsmith", "sam"]) + rules),
        &["SMTP", "IMAP"],
    );
    // lee's and sam's rules hold data no statement would have written (as a careless PL/SQL
    // caller or plain SQL could): a folder name that cannot exist, and ACTION_RUN_PROC on the
    // embedded store. Before lee's broken rule, one that works; after it, one that never runs.
    let db = r.sqlite();
    let id = |u: &str| -> i64 {
        db.query_row(
            "SELECT object_id FROM es_dir_object WHERE name_key = ?1",
            [u],
            |x| x.get(0),
        )
        .unwrap()
    };
    let (lee, sam) = (id("lee"), id("sam"));
    let now = "2026-01-01T00:00:00.000000Z";
    for (account, name, pos, kind, p1) in [
        (lee, "first", 5, "SETPROP", "SEEN"),
        (lee, "broken", 10, "MOVETO", "bad//name"),
        (lee, "never", 20, "MOVETO", "Never"),
        (sam, "proc", 10, "RUNPROC", "app.on_mail"),
    ] {
        db.execute(
            "INSERT INTO es_rule (owner_kind, account_id, event_name, rule_name, position, active, created_at) \
             VALUES ('ACCOUNT', ?1, 'DELIVERY', ?2, ?3, 1, ?4)",
            rusqlite::params![account, name, pos, now],
        )
        .unwrap();
        let rule_id = db.last_insert_rowid();
        db.execute(
            "INSERT INTO es_rule_action (rule_id, action_no, action_kind, param1, param2) VALUES (?1, 1, ?2, ?3, ?4)",
            rusqlite::params![rule_id, kind, p1, if kind == "SETPROP" { Some("ON") } else { None }],
        )
        .unwrap();
    }
    let body = "k".repeat(3000);
    r.send("kim@acme.com", "for kim", &body);
    r.send("lee@acme.com", "for lee", "hello");
    r.send("sam@acme.com", "for sam", "hello");
    r.wait_inbox("kim", 1);
    r.wait_inbox("lee", 1);
    r.wait_inbox("sam", 1);
    settle(&r);

    let k = imap(&r, "kim");
    assert_eq!(subjects(&k, "INBOX"), vec!["for kim".to_string()]);
    assert!(
        find(&k, "INBOX", "for kim").flags.is_empty(),
        "the failed rule's flag was undone"
    );
    assert!(!k.contains_key("Copies") && !k.contains_key("Elsewhere"));
    assert!(
        imap(&r, "bsmith")["INBOX"].is_empty(),
        "the failed rule's forward was undone"
    );

    let l = imap(&r, "lee");
    assert_eq!(subjects(&l, "INBOX"), vec!["for lee".to_string()]);
    assert_eq!(
        find(&l, "INBOX", "for lee").flags,
        vec!["\\Seen".to_string()],
        "the rule before the broken one kept its effect"
    );
    assert!(!l.contains_key("Never"), "no rule ran after the broken one");
    assert_eq!(
        subjects(&imap(&r, "sam"), "INBOX"),
        vec!["for sam".to_string()]
    );

    let logs = full_logs(&r);
    assert!(
        logs.contains("rule keep (account) failed: no room for a copy in Copies"),
        "{logs}"
    );
    assert!(
        logs.contains("rule broken (account) is not valid"),
        "{logs}"
    );
    assert!(logs.contains("needs the Oracle store"), "{logs}");
    // what fetch shows of the broken rule
    let f = r.fetch("fetch rule name=broken;");
    assert!(
        f[0].iter()
            .any(|(k, v)| k == "action1.invalid" && v.contains("empty level")),
        "{f:?}"
    );
    // no recipient failed, nothing went to the Dead Message queue
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(*) FROM es_queue_entry WHERE queue_name = 'DEAD'"
        ),
        0
    );
}

// ------------------------------------------------------------------ crash safety

#[test]
fn a_postman_killed_mid_way_repeats_no_rule_action() {
    let n = Node::new();
    n.iofcmgr(
        &(users(&["jdoe", "ann", "carol"])
            + r#"
create rule name=spread username=jdoe;
add action rule=spread username=jdoe do=bcc to=ann@acme.com;
add action rule=spread username=jdoe do=forward to=carol@acme.com;
add action rule=spread username=jdoe do=copyto folder=Archive;
register paramvalue server=postman instance=1 parameter=lease_seconds value=3;
"#),
    )
    .ok();
    // queued before the node runs, so that the Postman is killed in the middle of them (the
    // entries it held are taken over when their 3 s lease expires)
    let total = 600;
    let store = esmail::store::Store::open(
        &esmail::store::StoreUrl::Sqlite(n.db()),
        &esmail::store::OpenOptions::default(),
    )
    .unwrap();
    let node_id: i64 = n
        .sqlite()
        .query_row(
            "SELECT CAST(setting_value AS INTEGER) FROM es_setting WHERE setting_name = 'local_node_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rcpts = vec!["jdoe@acme.com".to_string()];
    store
        .write(|c| -> Result<(), esmail::store::StoreError> {
            for i in 0..total {
                let content =
                    format!("From: x@outside.example\r\nSubject: m{i}\r\nMessage-ID: <m{i}@x>\r\n\r\nbody {i}\r\n");
                let id = esmail::store::queue::insert_message(
                    c,
                    &esmail::store::queue::NewMessage {
                        guid: &format!("m-{i}"),
                        origin_node_id: node_id,
                        content: content.as_bytes(),
                        sha256: "x",
                        rfc822_msgid: Some(&format!("m{i}@x")),
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
                        sender: Some("x@outside.example"),
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
    let r = Running::start_for(n, "", &["SMTP"]);
    // The Postman is stopped (SIGSTOP) as soon as it runs, and let go a few milliseconds at a
    // time until some but not all messages are delivered: then it is killed. However fast the
    // machine, the kill lands mid-way.
    let pid: i32 = wait_some("the Postman's pid", WAIT_SECS, || {
        r.sqlite()
            .query_row(
                "SELECT pid FROM es_process WHERE type_name = 'postman' AND instance_no = 1 AND pid IS NOT NULL",
                [],
                |x| x.get(0),
            )
            .ok()
    });
    let until = Instant::now() + Duration::from_secs(4 * WAIT_SECS);
    let at_kill = loop {
        unsafe {
            libc::kill(pid, libc::SIGSTOP);
        }
        let delivered = r.folder_count("jdoe", "INBOX");
        if delivered >= 40 || Instant::now() > until {
            break delivered;
        }
        unsafe {
            libc::kill(pid, libc::SIGCONT);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    wait_for("every delivery", 4 * WAIT_SECS, || {
        r.folder_count("jdoe", "INBOX") >= total
            && r.folder_count("ann", "INBOX") >= total
            && r.folder_count("carol", "INBOX") >= total
    });
    settle(&r);
    assert!(
        at_kill < total,
        "the Postman was killed mid-way ({at_kill})"
    );
    assert_ne!(
        r.running_pid("postman", "1"),
        pid,
        "the Guardian restarted the Postman"
    );
    for (user, folder) in [
        ("jdoe", "INBOX"),
        ("jdoe", "Archive"),
        ("ann", "INBOX"),
        ("carol", "INBOX"),
    ] {
        assert_eq!(r.folder_count(user, folder), total, "{user} {folder}");
    }
    assert_eq!(count(&r, "SELECT COUNT(*) FROM es_rule_forward"), total);
    // the forwards: one new message per original, nothing twice
    assert_eq!(
        count(
            &r,
            "SELECT COUNT(*) FROM es_message WHERE rfc822_msgid NOT LIKE 'm%@x'"
        ),
        total
    );
}
