//! The embedded store: SQLite (bundled) in WAL mode, foreign keys on, full synchronous commits,
//! a busy timeout, and write transactions that take the write lock at their start.

use std::path::Path;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode};

use super::{time_to_text, Binds, OpenOptions, Row, Stmt, StoreError, TxMode, Value};

pub fn open_pool(
    path: &Path,
    opts: &OpenOptions,
) -> Result<r2d2::Pool<SqliteConnectionManager>, StoreError> {
    if !path.exists() {
        if !opts.create {
            return Err(StoreError::Unavailable(format!(
                "no store at {}: run `esmail init --domain NAME` first (or give --store)",
                path.display()
            )));
        }
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
    }
    let busy_ms = opts.wait.as_millis().min(u32::MAX as u128) as u32;
    let manager = SqliteConnectionManager::file(path).with_init(move |c| {
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.pragma_update(None, "synchronous", "FULL")?;
        c.pragma_update(None, "foreign_keys", "ON")?;
        c.pragma_update(None, "busy_timeout", busy_ms)?;
        Ok(())
    });
    r2d2::Pool::builder()
        .max_size(opts.pool_size.max(1))
        .min_idle(Some(0))
        .connection_timeout(opts.wait)
        .build(manager)
        .map_err(|e| {
            StoreError::Unavailable(format!("cannot open the store {}: {e}", path.display()))
        })
}

fn map_err(stmt: &str, e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let detail = msg.clone().unwrap_or_else(|| f.to_string());
        match f.code {
            ErrorCode::ConstraintViolation => {
                return match f.extended_code {
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => StoreError::Unique(detail),
                    rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::ForeignKey(detail),
                    _ => StoreError::Check(detail),
                }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => return StoreError::Busy(detail),
            _ => {
                if detail.starts_with("no such table") {
                    return StoreError::NoSuchTable(detail);
                }
            }
        }
    }
    StoreError::Sql {
        stmt: stmt.to_string(),
        message: e.to_string(),
    }
}

/// Oracle's `INSERT ... RETURNING col INTO :col` becomes SQLite's `INSERT ... RETURNING col`.
fn strip_returning_into(sql: &str) -> String {
    let trimmed = sql.trim_end().trim_end_matches(';');
    let upper = trimmed.to_ascii_uppercase();
    match upper.rfind(" INTO :") {
        Some(i) if upper[..i].contains("RETURNING") => trimmed[..i].to_string(),
        _ => trimmed.to_string(),
    }
}

fn to_sql(v: &Value) -> ToSqlOutput<'_> {
    match v.normalized() {
        Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
        Value::Int(i) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
        Value::Float(f) => ToSqlOutput::Owned(rusqlite::types::Value::Real(*f)),
        Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        Value::Time(t) => ToSqlOutput::Owned(rusqlite::types::Value::Text(time_to_text(t))),
    }
}

fn bind(st: &mut rusqlite::Statement<'_>, name: &str, binds: &Binds) -> Result<(), StoreError> {
    let expected = st.parameter_count();
    let mut bound = 0;
    for (n, v) in binds {
        let key = format!(":{}", n.trim_start_matches(':'));
        let idx = st
            .parameter_index(&key)
            .map_err(|e| map_err(name, e))?
            .ok_or_else(|| StoreError::Bind(format!("{name}: the statement has no {key}")))?;
        st.raw_bind_parameter(idx, to_sql(v))
            .map_err(|e| map_err(name, e))?;
        bound += 1;
    }
    if bound != expected {
        return Err(StoreError::Bind(format!(
            "{name}: {bound} values bound for {expected} placeholders"
        )));
    }
    Ok(())
}

fn read_row(r: &rusqlite::Row<'_>, n: usize) -> Result<Row, rusqlite::Error> {
    let mut vals = Vec::with_capacity(n);
    for i in 0..n {
        vals.push(match r.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Real(v) => Value::Float(v),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        });
    }
    Ok(Row(vals))
}

pub fn execute(c: &mut Connection, stmt: &Stmt, binds: &Binds) -> Result<u64, StoreError> {
    let mut st = c
        .prepare_cached(stmt.sqlite)
        .map_err(|e| map_err(stmt.name, e))?;
    bind(&mut st, stmt.name, binds)?;
    st.raw_execute()
        .map(|n| n as u64)
        .map_err(|e| map_err(stmt.name, e))
}

pub fn query(c: &mut Connection, stmt: &Stmt, binds: &Binds) -> Result<Vec<Row>, StoreError> {
    let mut st = c
        .prepare_cached(stmt.sqlite)
        .map_err(|e| map_err(stmt.name, e))?;
    bind(&mut st, stmt.name, binds)?;
    let n = st.column_count();
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| map_err(stmt.name, e))? {
        out.push(read_row(r, n).map_err(|e| map_err(stmt.name, e))?);
    }
    Ok(out)
}

pub fn insert_returning(
    c: &mut Connection,
    stmt: &Stmt,
    binds: &Binds,
    _returning: &str,
) -> Result<i64, StoreError> {
    let sql = strip_returning_into(stmt.sqlite);
    let mut st = c.prepare_cached(&sql).map_err(|e| map_err(stmt.name, e))?;
    bind(&mut st, stmt.name, binds)?;
    let mut rows = st.raw_query();
    let row = rows
        .next()
        .map_err(|e| map_err(stmt.name, e))?
        .ok_or_else(|| StoreError::Decode(format!("{}: RETURNING gave no row", stmt.name)))?;
    row.get::<_, i64>(0).map_err(|e| map_err(stmt.name, e))
}

pub fn begin(c: &mut Connection, mode: TxMode) -> Result<(), StoreError> {
    let sql = match mode {
        TxMode::Write => "BEGIN IMMEDIATE",
        TxMode::Read => "BEGIN DEFERRED",
    };
    c.execute_batch(sql).map_err(|e| map_err("begin", e))
}

pub fn commit(c: &mut Connection) -> Result<(), StoreError> {
    c.execute_batch("COMMIT").map_err(|e| map_err("commit", e))
}

pub fn rollback(c: &mut Connection) -> Result<(), StoreError> {
    if c.is_autocommit() {
        return Ok(());
    }
    c.execute_batch("ROLLBACK")
        .map_err(|e| map_err("rollback", e))
}

const SAVEPOINT: &str = "esmail_statement";

pub fn savepoint(c: &mut Connection) -> Result<(), StoreError> {
    c.execute_batch(&format!("SAVEPOINT {SAVEPOINT}"))
        .map_err(|e| map_err("savepoint", e))
}

pub fn release_savepoint(c: &mut Connection) -> Result<(), StoreError> {
    c.execute_batch(&format!("RELEASE {SAVEPOINT}"))
        .map_err(|e| map_err("release savepoint", e))
}

pub fn rollback_to_savepoint(c: &mut Connection) -> Result<(), StoreError> {
    c.execute_batch(&format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}"))
        .map_err(|e| map_err("rollback to savepoint", e))
}

/// Runs one schema step (a script of several statements) inside the caller's transaction.
pub fn run_script(c: &mut Connection, name: &str, sql: &str) -> Result<(), StoreError> {
    c.execute_batch(sql).map_err(|e| map_err(name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returning_into_is_stripped() {
        assert_eq!(
            strip_returning_into("INSERT INTO t (a) VALUES (:a) RETURNING id INTO :id\n"),
            "INSERT INTO t (a) VALUES (:a) RETURNING id"
        );
        assert_eq!(
            strip_returning_into("INSERT INTO t (a) SELECT a FROM u"),
            "INSERT INTO t (a) SELECT a FROM u"
        );
    }

    #[test]
    fn pool_usage_counts_every_borrower_and_every_waiter() {
        use crate::store::{OpenOptions, Store, StoreUrl};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let opts = OpenOptions {
            pool_size: 2,
            create: true,
            wait: std::time::Duration::from_secs(10),
            ..OpenOptions::default()
        };
        let store =
            Arc::new(Store::open(&StoreUrl::Sqlite(dir.path().join("u.db")), &opts).unwrap());
        let u = store.usage();
        assert_eq!((u.size, u.in_use, u.waiting), (2, 0, 0));
        let a = store.conn().unwrap();
        let b = store.conn().unwrap();
        assert_eq!(store.usage().in_use, 2);
        let s = store.clone();
        let waiter = std::thread::spawn(move || s.conn().map(|_| ()).is_ok());
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store.usage().waiting != 1 {
            assert!(
                std::time::Instant::now() < until,
                "the waiter is never counted"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        drop(a);
        assert!(waiter.join().unwrap());
        drop(b);
        let u = store.usage();
        assert_eq!((u.in_use, u.waiting), (0, 0));
    }
}
