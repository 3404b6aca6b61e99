//! Tests against a real Oracle database. They run only when `ESMAIL_ORACLE_TEST_URL` names
//! one (`oracle://USER@CONNECT`, password in `ESMAIL_DB_PASSWORD`); the schema user needs
//! quota on the tablespace named by `ESMAIL_ORACLE_TEST_TABLESPACE` (default `USERS`).
//! They are marked ignored, so a plain `cargo test` reports them as ignored (skipped);
//! `tools/test` runs them with `--ignored` when the variable is set. Run with `--ignored`
//! and no variable, they fail: they never pretend to have run.
//!
//! `unreachable_store_fails_in_one_line` always runs: it needs no database.

use std::time::Duration;

use esmail::store::schema::{self, Defines};
use esmail::store::{q, Dialect, OpenOptions, PasswordSource, Store, StoreError, StoreUrl, Value};

const URL_ENV: &str = "ESMAIL_ORACLE_TEST_URL";

fn live_store() -> Store {
    let Some(url) = std::env::var(URL_ENV).ok().filter(|s| !s.trim().is_empty()) else {
        panic!("{URL_ENV} is not set: these tests need a live Oracle database");
    };
    let url = StoreUrl::parse(&url).unwrap_or_else(|e| panic!("{URL_ENV}: {e}"));
    assert!(
        matches!(url, StoreUrl::Oracle { .. }),
        "{URL_ENV} must be an oracle:// URL"
    );
    let opts = OpenOptions {
        pool_size: 2,
        wait: Duration::from_secs(30),
        password: PasswordSource::Environment,
        create: false,
        schema: None,
    };
    Store::open(&url, &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn defines() -> Defines {
    let ts = std::env::var("ESMAIL_ORACLE_TEST_TABLESPACE").unwrap_or_else(|_| "USERS".into());
    ["data_tablespace", "index_tablespace", "lob_tablespace"]
        .iter()
        .map(|k| (k.to_string(), ts.clone()))
        .collect()
}

#[test]
#[ignore = "needs a live Oracle database: set ESMAIL_ORACLE_TEST_URL"]
fn upgrade_reaches_the_latest_version() {
    let store = live_store();
    assert_eq!(store.dialect(), Dialect::Oracle);
    let mut conn = store.conn().unwrap_or_else(|e| panic!("{e}"));
    let applied = schema::upgrade(&mut conn, &defines()).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("applied {} step(s)", applied.len());
    let latest = schema::latest(Dialect::Oracle);
    assert!(latest >= 1);
    assert_eq!(
        schema::current_version(&mut conn).unwrap_or_else(|e| panic!("{e}")),
        Some(latest)
    );
    assert_eq!(
        schema::require_current(&mut conn).unwrap_or_else(|e| panic!("{e}")),
        latest
    );
    // Upgrading again does nothing.
    assert!(schema::upgrade(&mut conn, &defines())
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
}

#[test]
#[ignore = "needs a live Oracle database: set ESMAIL_ORACLE_TEST_URL"]
fn statements_round_trip() {
    let store = live_store();
    {
        let mut conn = store.conn().unwrap_or_else(|e| panic!("{e}"));
        schema::upgrade(&mut conn, &defines()).unwrap_or_else(|e| panic!("{e}"));
    }
    // A query whose column is NUMBER without scale (MAX(...)) reads as an integer.
    let rows = store
        .read(|c| c.query(&q::SCHEMA_VERSION, &[]))
        .unwrap_or_else(|e: StoreError| panic!("{e}"));
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].0[0],
        Value::Int(schema::latest(Dialect::Oracle) as i64)
    );

    // Text through execute (MERGE) and back through query, committed by `write`.
    let name = format!("test.oracle_live.{}", std::process::id());
    let text = "grüße, 世界 & 'quotes'";
    let changed = store
        .write(|c| {
            c.execute(
                &q::SETTING_PUT,
                &[
                    ("setting_name", Value::from(name.as_str())),
                    ("setting_value", Value::from(text)),
                ],
            )
        })
        .unwrap_or_else(|e: StoreError| panic!("{e}"));
    assert_eq!(changed, 1);
    let got = store
        .read(|c| {
            c.query_opt(
                &q::SETTING_GET,
                &[("setting_name", Value::from(name.as_str()))],
            )
        })
        .unwrap_or_else(|e: StoreError| panic!("{e}"));
    assert_eq!(got.map(|r| r.0), Some(vec![Value::Text(text.to_string())]));

    // Empty text is stored as NULL, as on the embedded store.
    store
        .write(|c| {
            c.execute(
                &q::SETTING_PUT,
                &[
                    ("setting_name", Value::from(name.as_str())),
                    ("setting_value", Value::from("")),
                ],
            )
        })
        .unwrap_or_else(|e: StoreError| panic!("{e}"));
    let got = store
        .read(|c| {
            c.query_opt(
                &q::SETTING_GET,
                &[("setting_name", Value::from(name.as_str()))],
            )
        })
        .unwrap_or_else(|e: StoreError| panic!("{e}"));
    assert_eq!(got.map(|r| r.0), Some(vec![Value::Null]));

    // A rolled-back change is gone.
    let r: Result<(), StoreError> = store.write(|c| {
        c.execute(
            &q::SETTING_PUT,
            &[
                ("setting_name", Value::from(name.as_str())),
                ("setting_value", Value::from("x")),
            ],
        )?;
        Err(StoreError::Check("abandon".into()))
    });
    assert!(r.is_err());
    let got = store
        .read(|c| {
            c.query_opt(
                &q::SETTING_GET,
                &[("setting_name", Value::from(name.as_str()))],
            )
        })
        .unwrap_or_else(|e: StoreError| panic!("{e}"));
    assert_eq!(got.map(|r| r.0), Some(vec![Value::Null]));

    // A missing bind is reported, not sent.
    let err = store
        .read(|c| c.query(&q::SETTING_GET, &[]))
        .expect_err("a missing bind must fail");
    assert!(matches!(err, StoreError::Bind(_)), "{err}");
}

/// Needs no database: without a reachable store (here, without even the Oracle client
/// library) `Store::open` fails with one line naming the DPI/ORA error, and does not panic.
#[test]
fn unreachable_store_fails_in_one_line() {
    let url = StoreUrl::parse("oracle://x@//127.0.0.1:1521/none").unwrap();
    // A password is needed before connecting: "dummy", from a file so that the process
    // environment is not changed under other tests (ESMAIL_DB_PASSWORD, when set, wins).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "dummy\n").unwrap();
    let opts = OpenOptions {
        pool_size: 1,
        wait: Duration::from_secs(5),
        password: PasswordSource::File(file),
        create: false,
        schema: None,
    };
    match Store::open(&url, &opts) {
        Err(StoreError::Unavailable(msg)) => {
            eprintln!("{msg}");
            assert!(!msg.contains('\n'), "one line: {msg:?}");
            assert!(msg.contains("DPI-") || msg.contains("ORA-"), "{msg}");
            assert!(msg.contains("oracle://x@//127.0.0.1:1521/none"), "{msg}");
            assert!(!msg.contains("dummy"), "the password must not show: {msg}");
        }
        Err(e) => panic!("expected Unavailable, got {e:?}"),
        Ok(_) => panic!("a store answered at 127.0.0.1:1521/none"),
    }
}

// ------------------------------------------------------------------ the PL/SQL APIs
//
// These install the packages of plsql/ (the files sql/oracle/plsql.sql lists, in its order)
// into the test schema after its steps, as install.sql does, and use them from one session the
// way an application does, while the Postman (the library's rounds, on other connections of
// the pool) plays its part. The test user is the schema owner, so it may act as any account
// and administer; it needs EXECUTE on SYS.DBMS_CRYPTO (create_owner.sql grants it), which
// IOSEND uses for the SHA-256 of the messages it stores.

use esmail::store::{mailbox, system, Conn};
use oracle::sql_type::OracleType;

fn live_store_of(pool_size: u32) -> Store {
    let Some(url) = std::env::var(URL_ENV).ok().filter(|s| !s.trim().is_empty()) else {
        panic!("{URL_ENV} is not set: these tests need a live Oracle database");
    };
    let url = StoreUrl::parse(&url).unwrap_or_else(|e| panic!("{URL_ENV}: {e}"));
    let opts = OpenOptions {
        pool_size,
        wait: Duration::from_secs(30),
        password: PasswordSource::Environment,
        create: false,
        schema: None,
    };
    Store::open(&url, &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// The units `sql/oracle/plsql.sql` runs (`@@` lines), in order.
fn plsql_units() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/oracle");
    let list = std::fs::read_to_string(dir.join("plsql.sql")).expect("sql/oracle/plsql.sql");
    let units: Vec<_> = list
        .lines()
        .filter_map(|l| l.trim().strip_prefix("@@"))
        .map(|rel| dir.join(rel.trim()))
        .collect();
    assert!(units.len() >= 11, "plsql.sql lists {units:?}");
    units
}

fn oracle_of(c: &mut Conn) -> &mut oracle::Connection {
    match c {
        Conn::Oracle(raw) => raw,
        Conn::Sqlite(_) => panic!("not an Oracle connection"),
    }
}

/// A live store with the schema, the esmail node and domain (`esmail init`), the PL/SQL
/// packages, and two new accounts; returns (store, domain, sender, recipient).
fn plsql_fixture() -> (Store, String, String, String) {
    let store = live_store_of(4);
    // once per test process: replacing a package while another session of the same process
    // uses it would discard that session's package state (ORA-04068)
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        esmail::admin::init::init(&store, &defines(), Some("plsql-live.test"))
            .map_err(|e| format!("init: {e}"))?;
        let mut c = store.conn().map_err(|e| e.to_string())?;
        for unit in plsql_units() {
            let text = std::fs::read_to_string(&unit).map_err(|e| e.to_string())?;
            let name = unit.file_name().unwrap().to_string_lossy().to_string();
            esmail::store::oracle::run_script(oracle_of(&mut c), &name, &text, &defines())
                .map_err(|e| format!("installing {name}: {e}"))?;
        }
        Ok(())
    });
    if let Err(e) = installed {
        panic!("{e}");
    }
    let domain = store
        .read(|c| system::setting(c, system::DEFAULT_DOMAIN))
        .unwrap_or_else(|e: StoreError| panic!("{e}"))
        .expect("a default domain");
    let tag = format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_micros()
    );
    let (sender, boss) = (format!("inv{tag}"), format!("boss{tag}"));
    store
        .write(|c| {
            let node_id = system::local_node_id(c)?.expect("a node");
            let ctx = esmail::directory::Ctx {
                node_id,
                now: chrono::Utc::now(),
            };
            for name in [&sender, &boss] {
                esmail::directory::create(
                    c,
                    &ctx,
                    esmail::directory::Class::Object(esmail::directory::ObjectClass::Person),
                    esmail::directory::Args::from_pairs(&[
                        ("username", name.as_str()),
                        ("domain", domain.as_str()),
                    ]),
                )
                .map_err(|e| StoreError::Check(e.to_string()))?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let sender = format!("{sender}@{domain}");
    let boss = format!("{boss}@{domain}");
    (store, domain, sender, boss)
}

fn account_of(store: &Store, address: &str) -> i64 {
    let (local, domain) = address.split_once('@').unwrap();
    store
        .read(|c| esmail::store::intake::login(c, domain, &local.to_lowercase()))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no account {address}"))
        .object_id
}

fn inbox_of(store: &Store, address: &str, folder: &str) -> Vec<mailbox::MessageRow> {
    let account = account_of(store, address);
    store
        .read(|c| {
            let Some(f) = mailbox::folder(c, account, folder)? else {
                return Ok(Vec::new());
            };
            mailbox::messages(c, f.folder_id)
        })
        .unwrap_or_else(|e: StoreError| panic!("{e}"))
}

/// Delivery rounds until the Submission queue has nothing due, and the requests.
fn postman(store: &Store) {
    let params = esmail::postman::PostmanParams {
        batch_size: 50,
        ..Default::default()
    };
    for _ in 0..20 {
        let r = esmail::postman::deliver_round(store, &params, "postman-live@test:1")
            .unwrap_or_else(|e| panic!("{e}"));
        let node = store
            .read(system::local_node_id)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap();
        let q = esmail::postman::requests::round(store, node, 50).unwrap_or_else(|e| panic!("{e}"));
        if r.claimed == 0 && !q.any() {
            return;
        }
    }
}

/// Builds and submits the inventory alert through IOSEND on `c`; returns the Message-ID.
fn iosend_alert(c: &oracle::Connection, sender: &str, to: &str, subject: &str) -> String {
    c.execute(
        "BEGIN
           iosend.AUTHENTICATE(:1);
           iosend.ADD_RECIPIENT(:2);
           iosend.SET_SUBJECT(:3);
           iosend.ADD_EXTRA_HEADER('X-Inventory-Part', '4711');
           iosend.DESCRIBE_PART('text/plain');
           iosend.ADD_CONTENT('Part 4711 is down to 3 pieces.' || CHR(10));
           iosend.DESCRIBE_PART('text/csv', 'stock.csv');
           iosend.ADD_CONTENT('part,qty' || CHR(10) || '4711,3' || CHR(10));
           iosend.FOLDER_CARBON_COPY('Sent');
         END;",
        &[&sender, &to, &subject],
    )
    .unwrap_or_else(|e| panic!("IOSEND: {e}"));
    let mut st = c
        .statement("BEGIN :1 := iosend.SUBMIT; END;")
        .build()
        .unwrap();
    st.execute(&[&OracleType::Varchar2(400)])
        .unwrap_or_else(|e| panic!("IOSEND.SUBMIT: {e}"));
    st.bind_value(1).unwrap()
}

fn stored_count(store: &Store, msgid: &str) -> i64 {
    let mut c = store.conn().unwrap_or_else(|e| panic!("{e}"));
    oracle_of(&mut c)
        .query_row_as::<i64>(
            "SELECT COUNT(*) FROM es_message WHERE rfc822_msgid = :1",
            &[&msgid],
        )
        .unwrap()
}

#[test]
#[ignore = "needs a live Oracle database: set ESMAIL_ORACLE_TEST_URL"]
fn iosend_mail_leaves_only_when_the_caller_commits() {
    let (store, _domain, sender, boss) = plsql_fixture();
    let mut app = store.conn().unwrap_or_else(|e| panic!("{e}"));
    let c = oracle_of(&mut app);

    // rolled back: never stored, never delivered
    let gone = iosend_alert(c, &sender, &boss, "rolled back");
    assert_eq!(
        stored_count(&store, &gone),
        0,
        "uncommitted work is not seen"
    );
    c.rollback().unwrap();
    postman(&store);
    assert_eq!(stored_count(&store, &gone), 0);
    assert!(inbox_of(&store, &boss, "INBOX").is_empty());

    // committed: stored once, delivered by the Postman, filed in the sender's Sent folder
    let msgid = iosend_alert(c, &sender, &boss, "Low stock: part 4711");
    assert_eq!(stored_count(&store, &msgid), 0, "not before the commit");
    c.commit().unwrap();
    assert_eq!(stored_count(&store, &msgid), 1);
    postman(&store);
    let inbox = inbox_of(&store, &boss, "INBOX");
    assert_eq!(inbox.len(), 1, "the recipient got it");
    let sent = inbox_of(&store, &sender, "Sent");
    assert_eq!(sent.len(), 1, "FOLDER_CARBON_COPY filed it");
    assert_eq!(sent[0].message_id, inbox[0].message_id, "stored once");
    assert!(sent[0].flags.contains("\\Seen"));

    // what PL/SQL stored is what the Rust intake would have stored
    let content = store
        .read(|c| mailbox::content(c, inbox[0].message_id))
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&content);
    assert!(text.starts_with("Received: from "), "{text}");
    assert!(text.contains(&format!("Message-ID: <{msgid}>")), "{text}");
    let sha: String = oracle_of(&mut store.conn().unwrap())
        .query_row_as(
            "SELECT sha256 FROM es_message WHERE message_id = :1",
            &[&inbox[0].message_id],
        )
        .unwrap();
    assert_eq!(sha, esmail::mail::intake::sha256_hex(&content));
    let parts: Vec<(i64, i64, i64)> = oracle_of(&mut store.conn().unwrap())
        .query_as::<(i64, i64, i64)>(
            "SELECT part_no, body_offset, body_bytes FROM es_message_part WHERE message_id = :1 ORDER BY part_no",
            &[&inbox[0].message_id],
        )
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let bodies: Vec<(i64, i64, i64)> = esmail::mail::mime::part_bodies(&content)
        .iter()
        .map(|b| (b.part_no, b.offset, b.bytes))
        .collect();
    assert_eq!(
        parts, bodies,
        "part numbers and places as the intake computes them"
    );
    let s = esmail::mail::structure::Structure::of(&content);
    assert!(s.bodystructure.contains("stock.csv"), "{}", s.bodystructure);
}

#[test]
#[ignore = "needs a live Oracle database: set ESMAIL_ORACLE_TEST_URL"]
fn im_api_reads_a_mailbox_and_its_requests_are_performed_after_the_commit() {
    let (store, _domain, sender, boss) = plsql_fixture();
    let mut app = store.conn().unwrap_or_else(|e| panic!("{e}"));
    let c = oracle_of(&mut app);
    iosend_alert(c, &sender, &boss, "Low stock: part 4711");
    c.commit().unwrap();
    postman(&store);

    c.execute("BEGIN im_api.Authenticate(:1); END;", &[&boss])
        .unwrap();
    let has: i64 = c
        .query_row_as("SELECT im_api.HasNewMail('INBOX') FROM dual", &[])
        .unwrap();
    assert_eq!(has, 1);
    let n: i64 = c
        .query_row_as("SELECT im_api.GetNewMail('INBOX') FROM dual", &[])
        .unwrap_or_else(|e| panic!("GetNewMail: {e}"));
    assert_eq!(n, 1);
    let uid: i64 = c
        .query_row_as("SELECT im_api.GetNextMessage FROM dual", &[])
        .unwrap();
    let subject: String = c
        .query_row_as(
            "SELECT im_api.GetMessageProp(:1, 'SUBJECT') FROM dual",
            &[&uid],
        )
        .unwrap();
    assert_eq!(subject, "Low stock: part 4711");
    let part: i64 = c
        .query_row_as("SELECT im_api.GetNextAttachment(:1) FROM dual", &[&uid])
        .unwrap();
    let data: Vec<u8> = c
        .query_row_as(
            "SELECT im_api.GetAttachmentData(:1, :2) FROM dual",
            &[&uid, &part],
        )
        .unwrap();
    assert_eq!(
        data, b"part,qty\r\n4711,3\r\n",
        "the CSV, decoded (line ends CRLF)"
    );
    let hdr: String = c
        .query_row_as(
            "SELECT im_api.GetExtendedHdrs(:1, 'X-Inventory-Part') FROM dual",
            &[&uid],
        )
        .unwrap();
    assert_eq!(hdr, "4711");

    // requests: nothing changes before the commit; after it the Postman performs them
    let mut st = c
        .statement(
            "BEGIN :1 := im_api.CreateFolder('Stock'); :2 := im_api.CopyMessage(:3, 'Stock');
                   :4 := im_api.SetMessageProp(:3, 'SEEN', '1'); END;",
        )
        .build()
        .unwrap();
    st.execute(&[
        &OracleType::Int64,
        &OracleType::Int64,
        &uid,
        &OracleType::Int64,
    ])
    .unwrap_or_else(|e| panic!("requests: {e}"));
    let (create, copy, seen): (i64, i64, i64) = (
        st.bind_value(1).unwrap(),
        st.bind_value(2).unwrap(),
        st.bind_value(4).unwrap(),
    );
    postman(&store);
    assert!(
        inbox_of(&store, &boss, "Stock").is_empty(),
        "not committed yet"
    );
    c.commit().unwrap();
    postman(&store);
    for id in [create, copy, seen] {
        let state: String = c
            .query_row_as("SELECT im_api.RequestState(:1) FROM dual", &[&id])
            .unwrap();
        assert_eq!(state, "DONE", "request {id}");
    }
    let copy_uid: i64 = c
        .query_row_as("SELECT im_api.RequestUid(:1) FROM dual", &[&copy])
        .unwrap();
    assert_eq!(copy_uid, 1);
    assert_eq!(inbox_of(&store, &boss, "Stock").len(), 1);
    assert!(inbox_of(&store, &boss, "INBOX")[0].flags.contains("\\Seen"));
    let has: i64 = c
        .query_row_as("SELECT im_api.HasNewMail('INBOX') FROM dual", &[])
        .unwrap();
    assert_eq!(has, 0);

    // DAPLS: a user made by request, as iofcmgr makes it
    let name = format!("dapls{}", std::process::id());
    let mut st = c
        .statement("BEGIN :1 := dapls.CreateUser(:2, p_lastname => 'Lopez'); END;")
        .build()
        .unwrap();
    st.execute(&[&OracleType::Int64, &name]).unwrap();
    let req: i64 = st.bind_value(1).unwrap();
    c.commit().unwrap();
    postman(&store);
    let state: String = c
        .query_row_as("SELECT dapls.RequestState(:1) FROM dual", &[&req])
        .unwrap();
    assert_eq!(state, "DONE");
}

#[test]
#[ignore = "needs a live Oracle database: set ESMAIL_ORACLE_TEST_URL"]
fn a_runproc_rule_calls_the_procedure_in_the_delivery_transaction() {
    let (store, _domain, sender, boss) = plsql_fixture();
    let mut app = store.conn().unwrap_or_else(|e| panic!("{e}"));
    let c = oracle_of(&mut app);
    // the site's table and procedure (in the test schema, so the owner may call it)
    let exists: i64 = c
        .query_row_as(
            "SELECT COUNT(*) FROM user_tables WHERE table_name = 'ZZ_RUNPROC_LOG'",
            &[],
        )
        .unwrap();
    if exists == 0 {
        c.execute(
            "CREATE TABLE zz_runproc_log (folder_id NUMBER, msg_uid NUMBER, subject VARCHAR2(1000), p1 VARCHAR2(100), p2 VARCHAR2(100))",
            &[],
        )
        .unwrap();
    }
    c.execute(
        "CREATE OR REPLACE PROCEDURE zz_runproc (p_folder_id IN NUMBER, p_msg_uid IN NUMBER,
                                                 p_param1 IN VARCHAR2, p_param2 IN VARCHAR2) AS
           v_n NUMBER;
         BEGIN
           v_n := im_api.OpenFolderById(p_folder_id);
           INSERT INTO zz_runproc_log (folder_id, msg_uid, subject, p1, p2)
           VALUES (p_folder_id, p_msg_uid, im_api.GetMessageProp(p_msg_uid, 'SUBJECT'), p_param1, p_param2);
         END;",
        &[],
    )
    .unwrap_or_else(|e| panic!("the site's procedure: {e}"));
    // the rule, written through the rules package
    c.execute(
        "BEGIN
           es_rules.create_rule(:1, 'log-stock');
           es_rules.add_cond(:1, 'log-stock', 'AND');
           es_rules.add_clause(:1, 'log-stock', 'SUBJECT', 'CONTAINS', 'stock');
           es_rules.add_action(:1, 'log-stock', 'RUNPROC', 'ZZ_RUNPROC', 'stock', :2);
         END;",
        &[&boss, &sender],
    )
    .unwrap_or_else(|e| panic!("es_rules: {e}"));
    c.commit().unwrap();
    let visible: i64 = c
        .query_row_as(
            "SELECT COUNT(*) FROM es_rules_v WHERE owner = LOWER(:1) AND rule_name = 'log-stock' AND action_count = 1",
            &[&boss],
        )
        .unwrap();
    assert_eq!(visible, 1, "the view lists the rule");

    let msgid = iosend_alert(c, &sender, &boss, "Low stock: part 4711");
    c.commit().unwrap();
    postman(&store);
    let inbox = inbox_of(&store, &boss, "INBOX");
    assert_eq!(inbox.len(), 1, "delivered ({msgid})");
    let (folder_id, msg_uid, subject, p1, p2): (i64, i64, String, String, String) = c
        .query_row_as(
            "SELECT folder_id, msg_uid, subject, p1, p2 FROM zz_runproc_log WHERE p2 = :1",
            &[&sender],
        )
        .unwrap_or_else(|e| panic!("the procedure left no row: {e}"));
    let inbox_id = store
        .read(|cn| mailbox::folder(cn, account_of(&store, &boss), "INBOX"))
        .unwrap()
        .unwrap()
        .folder_id;
    assert_eq!((folder_id, msg_uid), (inbox_id, inbox[0].uid));
    assert_eq!(subject, "Low stock: part 4711");
    assert_eq!((p1.as_str(), p2.as_str()), ("stock", sender.as_str()));

    // a user function: the account's own rule, disabled by the account
    c.execute("BEGIN im_api.Authenticate(:1); END;", &[&boss])
        .unwrap();
    let mut st = c
        .statement("BEGIN :1 := es_rules.DisableRule('log-stock'); END;")
        .build()
        .unwrap();
    st.execute(&[&OracleType::Int64]).unwrap();
    let found: i64 = st.bind_value(1).unwrap();
    assert_eq!(found, 1);
    c.commit().unwrap();
}
