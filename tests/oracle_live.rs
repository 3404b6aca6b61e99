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
