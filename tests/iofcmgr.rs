//! The IOFCMGR language through the real `iofcmgr` binary, on a real embedded store.
mod common;
use common::*;

fn contract(n: &Node) {
    let script = format!(
        "create domain qualifiedName=us.acme.com;\n\
         create person username=jdoe domain=acme.com firstname=John lastname=Doe password=secret quota=10485760;\n\
         create person username=mig domain=acme.com firstname=Mig lastname=Rated passwordhash=\"{SECRET_HASH}\" quota=1048576;\n\
         create publicalias name=jh domain=acme.com target=jdoe@acme.com;\n\
         create publicdl name=widget domain=acme.com members=\"jdoe@acme.com,jh@acme.com\";\n"
    );
    n.iofcmgr(&script).ok();
}

#[test]
fn the_contract_statements_work() {
    let n = Node::new();
    contract(&n);
    let jdoe = n.fetch("fetch person username=jdoe;");
    assert_eq!(jdoe.len(), 1);
    let e = &jdoe[0];
    assert_eq!(attr(e, "username"), Some("jdoe"));
    assert_eq!(attr(e, "firstname"), Some("John"));
    assert_eq!(attr(e, "lastname"), Some("Doe"));
    assert_eq!(attr(e, "address"), Some("jdoe@acme.com"));
    assert_eq!(attr(e, "quota"), Some("10485760"));

    n.iofcmgr("modify person username=jdoe quota=2048;").ok();
    let e = &n.fetch("fetch person username=jdoe;")[0];
    assert_eq!(attr(e, "quota"), Some("2048"));

    // deleting jdoe is refused while jh and widget point to it, and the error names them
    let r = n.iofcmgr("delete person username=jdoe;");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("line 1"), "{}", r.stderr);
    assert!(r.stderr.contains("jh@acme.com"), "{}", r.stderr);
    assert!(r.stderr.contains("widget@acme.com"), "{}", r.stderr);
    assert_eq!(n.fetch("fetch person username=jdoe;").len(), 1);

    let alias = &n.fetch("fetch publicalias name=jh;")[0];
    assert_eq!(attr(alias, "target"), Some("jdoe@acme.com"));
    let dl = &n.fetch("fetch publicdl name=widget;")[0];
    assert_eq!(attr(dl, "members"), Some("jdoe@acme.com,jh@acme.com"));

    // the migrated person keeps the exported hash; no fetch prints a password or hash
    let all = n.iofcmgr("fetch person;").ok().stdout;
    assert!(all.contains("username=mig"));
    assert!(!all.contains("argon2"), "{all}");
    assert!(!all.contains("secret"), "{all}");
    let db = rusqlite_hash(&n, "mig");
    assert_eq!(db, SECRET_HASH);
    let jdoe_hash = rusqlite_hash(&n, "jdoe");
    assert!(
        jdoe_hash.starts_with("$argon2id$"),
        "clear passwords are stored hashed"
    );
}

/// Reads a stored hash straight from the store file (the test only reads).
fn rusqlite_hash(n: &Node, user: &str) -> String {
    let db = rusqlite::Connection::open(n.db()).expect("open the store");
    db.query_row(
        "SELECT a.password_hash FROM es_account a JOIN es_dir_object o ON o.object_id = a.object_id WHERE o.name_key = ?1",
        [user],
        |r| r.get(0),
    )
    .expect("stored hash")
}

#[test]
fn cascade_removes_the_references_too() {
    let n = Node::new();
    contract(&n);
    let r = n.iofcmgr("delete person username=jdoe cascade=yes;").ok();
    assert_eq!(r.code, 0);
    assert!(n.fetch("fetch person username=jdoe;").is_empty());
    assert!(
        n.fetch("fetch publicalias name=jh;").is_empty(),
        "the alias pointed only at jdoe"
    );
    let dl = &n.fetch("fetch publicdl name=widget;")[0];
    assert_eq!(attr(dl, "members"), Some(""), "jdoe and jh left the list");
}

#[test]
fn an_error_names_its_line_and_autocommit_off_leaves_the_store_as_it_was() {
    let n = Node::new();
    let r = n.iofcmgr(
        "autocommit off;\n\
         create person username=a1 domain=acme.com;\n\
         create person username=a2 domain=acme.com nosuchattribute=1;\n\
         create person username=a3 domain=acme.com;\n\
         commit;\n",
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("line 3"), "{}", r.stderr);
    assert!(r.stderr.contains("nosuchattribute"), "{}", r.stderr);
    for u in ["a1", "a2", "a3"] {
        assert!(
            n.fetch(&format!("fetch person username={u};")).is_empty(),
            "{u}"
        );
    }
}

#[test]
fn with_autocommit_on_the_statements_before_an_error_stay() {
    let n = Node::new();
    let r = n.iofcmgr(
        "create person username=b1 domain=acme.com;\n\
         create person username=b2 domain=acme.com;\n\
         create person username=b1 domain=acme.com;\n\
         create person username=b3 domain=acme.com;\n",
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("line 3"), "{}", r.stderr);
    assert!(r.stderr.contains("already taken"), "{}", r.stderr);
    assert_eq!(n.fetch("fetch person username=b1;").len(), 1);
    assert_eq!(n.fetch("fetch person username=b2;").len(), 1);
    assert!(
        n.fetch("fetch person username=b3;").is_empty(),
        "the script stops at the error"
    );
}

#[test]
fn a_statement_spanning_lines_reports_its_first_line() {
    let n = Node::new();
    let r = n.iofcmgr("-- a comment\n\ncreate person\n  username=c1\n  colour=blue;\n");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("line 3"), "{}", r.stderr);
}

#[test]
fn commit_and_rollback_with_autocommit_off() {
    let n = Node::new();
    n.iofcmgr(
        "autocommit off;\ncreate location name=HQ;\nrollback;\ncreate location name=London;\ncommit;\n",
    )
    .ok();
    assert!(n.fetch("fetch location name=HQ;").is_empty());
    assert_eq!(n.fetch("fetch location name=London;").len(), 1);
    // uncommitted work at the end of the script is rolled back, and that is an error
    let r = n.iofcmgr("autocommit off;\ncreate location name=Tokyo;\n");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("rolled back"), "{}", r.stderr);
    // with autocommit on, rollback has nothing to undo
    let r = n
        .iofcmgr("create location name=Oslo;\ncreate location name=Bern;\nrollback;\n")
        .ok();
    assert_eq!(r.code, 0);
    assert_eq!(n.fetch("fetch location name=Oslo;").len(), 1);
    assert_eq!(n.fetch("fetch location name=Bern;").len(), 1);
    assert!(n.fetch("fetch location name=Tokyo;").is_empty());
}

#[test]
fn mistakes_are_errors_not_silent_successes() {
    let n = Node::new();
    contract(&n);
    n.iofcmgr("create publictemplate name=welcome subject=Hi;")
        .ok();
    let cases: &[(&str, &str)] = &[
        ("create unicorn name=x;", "unknown class unicorn"),
        ("create person username=zz colour=blue;", "unknown attribute colour"),
        ("create person username=jdoe;", "already taken"),
        ("create publicalias name=jdoe target=mig@acme.com;", "already taken"),
        ("create publicalias name=ghost target=nobody@acme.com;", "dangling"),
        ("create publicdl name=l2 members=\"nobody@acme.com\";", "dangling"),
        ("create person username=\"bad name\";", "holds"),
        ("create person username=q1 quota=lots;", "quota"),
        ("create person username=q2 passwordhash=plain;", "PHC"),
        ("create person username=q3 domain=nowhere.org;", "no domain nowhere.org"),
        ("modify person username=nobody quota=1;", "no person nobody"),
        ("modify person username=jdoe;", "nothing to change"),
        ("frobnicate person;", "unknown command frobnicate"),
        ("create person username=q4 username=q5;", "given twice"),
        ("create person username=q6 password=a passwordhash=\"x\";", "not both"),
        ("fetch person password=secret;", "unknown attribute password"),
        ("register process server=nosuch instance=1;", "no such process type"),
        ("register paramvalue server=postman instance=default parameter=nosuch value=1;", "no parameter nosuch"),
        ("register paramvalue server=postman instance=default parameter=send_billing value=maybe;", "not 0 or 1"),
        ("register paramvalue server=postman instance=default parameter=loglevel value=loud;", "error, warn, info"),
        ("register paramvalue server=postman instance=7 parameter=loglevel value=debug;", "not registered"),
        ("create publicalias name=x target=\"a@b@\";", "holds"),
        ("create publicalias name=x target=\"a@b..c\";", "not a domain"),
        ("create publicalias name=x target=welcome;", "a template"),
        ("fetch person owner=jdoe@acme.com;", "no owner"),
        ("register paramvalue server=collector instance=default parameter=work value=\"content,frob\";", "not a kind of work"),
    ];
    for (stmt, expect) in cases {
        let r = n.iofcmgr(stmt);
        assert_ne!(r.code, 0, "{stmt} should fail");
        assert!(r.stderr.contains("line 1"), "{stmt}: {}", r.stderr);
        assert!(
            r.stderr.to_lowercase().contains(&expect.to_lowercase()),
            "{stmt}: expected {expect:?} in {}",
            r.stderr
        );
    }
    // nothing of the failed statements was stored
    assert!(n.fetch("fetch publicalias name=ghost;").is_empty());
    assert!(n.fetch("fetch person username=zz;").is_empty());
}

#[test]
fn list_and_alias_loops_are_refused() {
    let n = Node::new();
    contract(&n);
    n.iofcmgr("create publicdl name=team members=widget;").ok();
    let r = n.iofcmgr("modify publicdl name=widget addmembers=team;");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("loop"), "{}", r.stderr);
    assert!(r.stderr.contains("widget@acme.com"), "{}", r.stderr);
    let r =
        n.iofcmgr("create publicalias name=a1 target=jdoe;\nmodify publicalias name=a1 target=a1;");
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("loop"),
        "{}",
        r.stderr
    );
    let dl = &n.fetch("fetch publicdl name=widget;")[0];
    assert_eq!(attr(dl, "members"), Some("jdoe@acme.com,jh@acme.com"));
}

#[test]
fn fetch_that_matches_nothing_prints_nothing_and_succeeds() {
    let n = Node::new();
    let r = n.iofcmgr("fetch person username=nobody;").ok();
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("no person matches"), "{}", r.stderr);
}

#[test]
fn fetch_filters_by_attribute_and_wildcard() {
    let n = Node::new();
    n.iofcmgr(
        "create person username=ann firstname=Ann lastname=Lee;\n\
         create person username=bob firstname=Bob lastname=Lee;\n\
         create person username=cy firstname=Cy lastname=Ng;\n",
    )
    .ok();
    assert_eq!(n.fetch("fetch person lastname=lee;").len(), 2);
    assert_eq!(n.fetch("fetch person firstname=b*;").len(), 1);
    assert_eq!(
        n.fetch("fetch person domain=acme.com lastname=Ng;").len(),
        1
    );
}

#[test]
fn keywords_are_case_insensitive_and_values_may_be_quoted() {
    let n = Node::new();
    n.iofcmgr("CREATE Person UserName=Mary FirstName=\"Mary Ann\" LASTNAME=\"O'Neil \"\"Jr\"\"\";")
        .ok();
    let e = &n.fetch("fetch person username=mary;")[0];
    assert_eq!(attr(e, "firstname"), Some("Mary Ann"));
    assert_eq!(attr(e, "lastname"), Some("O'Neil \"Jr\""));
}

#[test]
fn person_attributes_join_locations_organizations_and_roles() {
    let n = Node::new();
    n.iofcmgr(
        "create location name=HQ;\ncreate organization name=Sales;\ncreate role name=vp;\n\
         create person username=boss;\n\
         create person username=emp location=hq organization=sales role=VP manager=boss@acme.com;\n",
    )
    .ok();
    let e = &n.fetch("fetch person username=emp;")[0];
    assert_eq!(attr(e, "location"), Some("HQ"));
    assert_eq!(attr(e, "manager"), Some("boss@acme.com"));
    let r = n.iofcmgr("create person username=x location=Mars;");
    assert!(r.stderr.contains("no location Mars"), "{}", r.stderr);
    let r = n.iofcmgr("delete location name=HQ;");
    assert!(r.stderr.contains("emp@acme.com (location)"), "{}", r.stderr);
    n.iofcmgr("delete location name=HQ cascade=yes;").ok();
    let e = &n.fetch("fetch person username=emp;")[0];
    assert_eq!(attr(e, "location"), None);
}

#[test]
fn private_objects_belong_to_their_owner() {
    let n = Node::new();
    contract(&n);
    n.iofcmgr(
        "create privatealias name=boss owner=jdoe@acme.com target=mig@acme.com;\n\
         create privatetemplate name=memo owner=jdoe@acme.com subject=\"Weekly memo\" body=\"Hello;\nall\";\n",
    )
    .ok();
    // the same name may exist privately for another owner and publicly
    n.iofcmgr("create privatealias name=boss owner=mig@acme.com target=jdoe@acme.com;")
        .ok();
    let mine = n.fetch("fetch privatealias owner=jdoe@acme.com;");
    assert_eq!(mine.len(), 1);
    assert_eq!(attr(&mine[0], "target"), Some("mig@acme.com"));
    let t = &n.fetch("fetch privatetemplate name=memo owner=jdoe@acme.com;")[0];
    assert_eq!(attr(t, "body"), Some("Hello;\nall"));
    // they go with their owner
    n.iofcmgr("delete person username=jdoe cascade=yes;").ok();
    assert!(n
        .fetch("fetch privatealias owner=jdoe@acme.com;")
        .is_empty());
    assert!(n.fetch("fetch privatetemplate name=memo;").is_empty());
}

#[test]
fn topology_classes() {
    let n = Node::new();
    n.iofcmgr(
        "create node name=eu1 host=eu1.acme.com cost=5;\n\
         create community name=europe nodes=eu1;\n\
         create route from=default to=europe cost=3;\n\
         create domain qualifiedName=eu.acme.com node=eu1;\n\
         create rewritingrule name=smtp pattern=\"^(.*)@(.*)$\" replacement=\"$1@smtp.$2\";\n",
    )
    .ok();
    let d = &n.fetch("fetch domain qualifiedname=eu.acme.com;")[0];
    assert_eq!(attr(d, "parent"), Some("acme.com"));
    assert_eq!(attr(d, "node"), Some("eu1"));
    let r = n.iofcmgr("delete node name=eu1;");
    assert!(r.stderr.contains("domain eu.acme.com"), "{}", r.stderr);
    let r = n.iofcmgr("delete community name=europe;");
    assert!(r.stderr.contains("routes"), "{}", r.stderr);
    let r = n.iofcmgr("create rewritingrule name=bad pattern=\"(\";");
    assert!(r.stderr.contains("regular expression"), "{}", r.stderr);
    let routes = n.fetch("fetch route;");
    assert_eq!(attr(&routes[0], "cost"), Some("3"));
    n.iofcmgr("modify route from=default to=europe cost=7;")
        .ok();
    assert_eq!(attr(&n.fetch("fetch route;")[0], "cost"), Some("7"));
    let r = n.iofcmgr("delete domain qualifiedname=acme.com;");
    assert!(r.stderr.contains("still holds"), "{}", r.stderr);
}

#[test]
fn parameters_follow_the_default_until_an_instance_has_its_own() {
    let n = Node::new();
    n.iofcmgr(
        "register paramvalue server=postman instance=default parameter=send_billing value=1;",
    )
    .ok();
    let p = n.fetch("show parameters server=postman instance=default;");
    let billing = p
        .iter()
        .find(|e| attr(e, "parameter") == Some("send_billing"))
        .expect("send_billing");
    assert_eq!(attr(billing, "value"), Some("1"));
    let r = n.iofcmgr("register process server=replicator instance=2;");
    assert_ne!(r.code, 0, "the replicator is not built yet");
    assert!(
        r.stderr.contains("not provided by this build"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_directory_change_log_records_every_change() {
    let n = Node::new();
    contract(&n);
    n.iofcmgr("modify person username=mig quota=5;\ndelete publicdl name=widget;")
        .ok();
    let db = rusqlite::Connection::open(n.db()).expect("open the store");
    let mut st = db
        .prepare("SELECT operation || ' ' || object_class FROM es_dir_change ORDER BY change_seq")
        .unwrap();
    let log: String = st
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|r| r.unwrap() + "\n")
        .collect();
    let tail: Vec<&str> = log.lines().rev().take(3).collect();
    assert_eq!(
        tail,
        vec!["DELETE PUBLICDL", "MODIFY PERSON", "CREATE PUBLICDL"],
        "{log}"
    );
}

#[test]
fn a_script_file_argument_works_like_standard_input() {
    let n = Node::new();
    let path = n.path().join("load.iof");
    std::fs::write(
        &path,
        "create location name=Sydney;\nfetch location name=sydney;\n",
    )
    .unwrap();
    let r: Run = command(iofcmgr_bin(), n.path())
        .arg(&path)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("name=Sydney"), "{}", r.stdout);
    let r: Run = command(iofcmgr_bin(), n.path())
        .arg(n.path().join("missing.iof"))
        .output()
        .unwrap()
        .into();
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("missing.iof"), "{}", r.stderr);
}

#[test]
fn a_bulk_load_commits_every_person_once() {
    let n = Node::new();
    let mut script = String::new();
    for i in 0..2000 {
        script.push_str(&format!(
            "create person username=user{i} firstname=F{i} lastname=L{i} passwordhash=\"{SECRET_HASH}\" quota=1048576;\n"
        ));
    }
    script.push_str("create person username=user7;\n");
    let r = n.iofcmgr(&script);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("line 2001"), "{}", r.stderr);
    let all = n.fetch("fetch person username=user*;");
    assert_eq!(
        all.len(),
        2000,
        "every statement before the error is committed"
    );
}

#[test]
fn concurrent_administrators_wait_for_each_other_instead_of_failing() {
    let n = Node::new();
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let dir = n.path().to_path_buf();
            std::thread::spawn(move || {
                let mut script = String::new();
                for i in 0..150 {
                    script.push_str(&format!("create person username=w{w}u{i};\n"));
                }
                let node = Node {
                    dir: tempfile::TempDir::new_in(&dir).unwrap(),
                };
                // run in the shared store's directory
                let mut child = command(iofcmgr_bin(), &dir)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(script.as_bytes())
                    .unwrap();
                let r: Run = child.wait_with_output().unwrap().into();
                drop(node);
                r
            })
        })
        .collect();
    for h in handles {
        let r = h.join().unwrap();
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert_eq!(n.fetch("fetch person username=w*;").len(), 600);
}

#[test]
fn on_a_terminal_it_prompts_and_goes_on_after_an_error() {
    // `script` (util-linux) gives iofcmgr a pseudo-terminal as standard input and output
    let n = Node::new();
    let cmd = format!("{} --store {}", iofcmgr_bin(), n.url());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(n.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"create location\n name=Paris;\ncreate unicorn x=1;\nfetch location name=paris;\nexit\n")
        .unwrap();
    let r: Run = child.wait_with_output().unwrap().into();
    let out = r.stdout.replace('\r', "");
    assert!(out.contains("IOFCMGR> "), "{out}");
    assert!(out.contains("2> "), "the continuation prompt: {out}");
    assert!(out.contains("unknown class unicorn"), "{out}");
    assert!(
        out.contains("name=Paris"),
        "the session went on after the error: {out}"
    );
}

#[test]
fn without_a_terminal_there_is_no_prompt() {
    let n = Node::new();
    let r = n.iofcmgr("fetch location;").ok();
    assert!(!r.stdout.contains("IOFCMGR>") && !r.stderr.contains("IOFCMGR>"));
}

#[test]
fn block_lists_are_managed_like_the_other_classes() {
    let n = Node::new();
    n.iofcmgr(
        "create blockedsender address=Spammer@Example.NET reason=\"bulk mail\";\n\
         create blockeddomain name=junk.example;\n",
    )
    .ok();
    let s = n.fetch("fetch blockedsender;");
    assert_eq!(attr(&s[0], "address"), Some("spammer@example.net"));
    assert_eq!(attr(&s[0], "reason"), Some("bulk mail"));
    let r = n.iofcmgr("create blockeddomain name=JUNK.example;");
    assert!(r.stderr.contains("already blocked"), "{}", r.stderr);
    let r = n.iofcmgr("create blockedsender address=notanaddress;");
    assert_ne!(r.code, 0);
    n.iofcmgr("delete blockeddomain name=junk.example;").ok();
    assert!(n.fetch("fetch blockeddomain;").is_empty());
    let r = n.iofcmgr("delete blockeddomain name=junk.example;");
    assert!(r.stderr.contains("no blockeddomain"), "{}", r.stderr);
}
