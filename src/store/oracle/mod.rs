//! The Oracle store: r2d2 pools of `oracle` crate connections (ODPI-C, which loads the Oracle
//! client library `libclntsh.so` at run time), the statements' Oracle text with named binds,
//! and SQL*Plus-style install/upgrade scripts.
//!
//! Every call blocks: callers run them on a blocking thread.
//!
//! Sessions run with autocommit off (the crate's default, set again on every new
//! connection) and with `TIME_ZONE = '+00:00'`, so that times without a zone are UTC.
//! Statements are prepared through the client's statement cache ([`STMT_CACHE_SIZE`] per
//! connection), so a statement run again on the same connection is not parsed again.

mod convert;
mod diag;
mod script;

use ::oracle::sql_type::OracleType;
use ::oracle::{Connection, Connector, ErrorKind, Statement};
use r2d2_oracle::OracleConnectionManager;

use self::convert::{bind_kind, read_as, BindKind, ReadAs};
use self::diag::{classify, find_code, first_line, Class, Code};
pub use self::script::{split_script, ScriptStatement};
use super::schema::Defines;
use super::{Binds, OpenOptions, Row, Stmt, StoreError, StoreUrl, Value};

type OConn = Connection;

/// Prepared statements kept per connection by the Oracle client. Each one keeps a cursor open
/// on the server, counted against the database's OPEN_CURSORS (300 by default).
pub const STMT_CACHE_SIZE: u32 = 64;

/// Runs on every new pooled connection before it is used.
#[derive(Debug)]
struct SessionSetup {
    schema: Option<String>,
}

impl r2d2::CustomizeConnection<Connection, ::oracle::Error> for SessionSetup {
    fn on_acquire(&self, conn: &mut Connection) -> Result<(), ::oracle::Error> {
        setup_session(conn, self.schema.as_deref())
    }
}

/// An unquoted Oracle identifier (checked, since an identifier cannot be a bind value).
pub fn check_schema_name(name: &str) -> Result<String, StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '#'));
    if ok {
        Ok(name.to_ascii_uppercase())
    } else {
        Err(StoreError::Unavailable(format!(
            "schema {name:?} is not an Oracle identifier (a letter, then letters, digits, _ $ #)"
        )))
    }
}

fn setup_session(conn: &mut Connection, schema: Option<&str>) -> Result<(), ::oracle::Error> {
    conn.set_autocommit(false);
    conn.statement("ALTER SESSION SET TIME_ZONE = '+00:00'")
        .exclude_from_cache()
        .build()?
        .execute(&[])?;
    if let Some(schema) = schema {
        // the server's connections log on as their own user (role ESMAIL_SERVER) and name the
        // schema owner's tables without a prefix
        conn.statement(&format!("ALTER SESSION SET CURRENT_SCHEMA = {schema}"))
            .exclude_from_cache()
            .build()?
            .execute(&[])?;
    }
    // Shown in V$SESSION for the DBA; not worth failing over.
    let _ = conn.set_module("esmail");
    Ok(())
}

fn connector(user: &str, password: &str, connect: &str) -> Connector {
    let mut c = Connector::new(user, password, connect);
    c.stmt_cache_size(STMT_CACHE_SIZE);
    c.driver_name(concat!("esmail : ", env!("CARGO_PKG_VERSION")));
    c
}

fn store_url(user: &str, connect: &str) -> String {
    StoreUrl::Oracle {
        user: user.to_string(),
        connect: connect.to_string(),
    }
    .to_string()
}

fn error_text(e: &::oracle::Error) -> String {
    match e.db_error() {
        Some(d) => d.message().to_string(),
        None => e.to_string(),
    }
}

/// Opens a pool on `oracle://user@connect`. One direct connection is tried first, so that
/// a store that cannot be reached fails at once with one line saying why and what to do.
pub fn open_pool(
    user: &str,
    connect: &str,
    opts: &OpenOptions,
) -> Result<r2d2::Pool<OracleConnectionManager>, StoreError> {
    let url = store_url(user, connect);
    let schema = opts.schema.as_deref().map(check_schema_name).transpose()?;
    let password = opts.password.read()?;
    let conn = connector(user, &password, connect);
    match conn.connect() {
        Ok(mut c) => {
            if let Err(e) = setup_session(&mut c, schema.as_deref()) {
                return Err(StoreError::Unavailable(diag::explain_connect(
                    "cannot set up a session on the Oracle store",
                    &url,
                    &error_text(&e),
                )));
            }
            if let Some(w) = c.last_warning() {
                log::warn!("Oracle store {url}: {}", first_line(&error_text(&w)));
            }
            let _ = c.close();
        }
        Err(e) => {
            return Err(StoreError::Unavailable(diag::explain_connect(
                "cannot reach the Oracle store",
                &url,
                &error_text(&e),
            )))
        }
    }
    let max = opts.pool_size.max(1);
    r2d2::Pool::builder()
        .max_size(max)
        .min_idle(Some(1))
        .connection_timeout(opts.wait.max(std::time::Duration::from_millis(1)))
        .connection_customizer(Box::new(SessionSetup { schema }))
        .build(OracleConnectionManager::from_connector(conn))
        .map_err(|e| StoreError::Unavailable(diag::explain_pool(&url, &e.to_string())))
}

/// The one-line text for a failure to borrow a pooled connection.
pub fn explain_pool_error(url: &StoreUrl, msg: &str) -> String {
    diag::explain_pool(&url.to_string(), msg)
}

fn error_code(e: &::oracle::Error) -> Option<Code> {
    match e.kind() {
        ErrorKind::OciError => e
            .db_error()
            .map(|d| d.code())
            .filter(|c| *c != 0)
            .map(Code::Ora)
            .or_else(|| find_code(&error_text(e))),
        ErrorKind::DpiError => e
            .dpi_code()
            .map(Code::Dpi)
            .or_else(|| find_code(&error_text(e))),
        _ => None,
    }
}

/// Maps a driver error of statement `stmt` to the store's error.
fn map_err(stmt: &str, e: ::oracle::Error) -> StoreError {
    let line = first_line(&error_text(&e));
    if matches!(
        e.kind(),
        ErrorKind::InvalidBindName | ErrorKind::InvalidBindIndex
    ) {
        return StoreError::Bind(format!("{stmt}: {line}"));
    }
    match classify(error_code(&e)) {
        Class::Unique => StoreError::Unique(line),
        Class::ForeignKey => StoreError::ForeignKey(line),
        Class::Check => StoreError::Check(line),
        Class::NoSuchTable => StoreError::NoSuchTable(line),
        Class::Busy => StoreError::Busy(line),
        Class::Unavailable => {
            StoreError::Unavailable(format!("lost the Oracle store during {stmt}: {line}"))
        }
        Class::Other => StoreError::Sql {
            stmt: stmt.to_string(),
            message: line,
        },
    }
}

/// Binds one value by name (without the colon).
fn bind_value(st: &mut Statement, stmt: &str, name: &str, v: &Value) -> Result<(), StoreError> {
    let kind = bind_kind(v);
    let r = match (&kind, v.normalized()) {
        (BindKind::Int(i), _) => st.bind(name, i),
        (BindKind::Float(f), _) => st.bind(name, f),
        (BindKind::Time, Value::Time(t)) => {
            let ts = convert::time_to_timestamp(t)
                .map_err(|m| StoreError::Bind(format!("{stmt}: :{name}: {m}")))?;
            st.bind(name, &ts)
        }
        (BindKind::Varchar(_) | BindKind::Clob, Value::Text(s)) => {
            st.bind(name, &(s, &kind.oracle_type()))
        }
        (BindKind::Raw(_) | BindKind::Blob, Value::Blob(b)) => {
            st.bind(name, &(b, &kind.oracle_type()))
        }
        _ => st.bind(name, &BindKind::Null.oracle_type()),
    };
    r.map_err(|e| map_err(stmt, e))
}

/// Binds every value by name, and checks that each placeholder of the statement (except
/// `skip`, an out bind) got one.
fn bind_all(
    st: &mut Statement,
    stmt: &str,
    binds: &Binds,
    skip: Option<&str>,
) -> Result<(), StoreError> {
    let wanted: Vec<String> = st
        .bind_names()
        .iter()
        .map(|n| n.to_ascii_uppercase())
        .collect();
    let mut given = Vec::with_capacity(binds.len());
    for (n, v) in binds {
        let name = n.trim_start_matches(':');
        let upper = name.to_ascii_uppercase();
        if !wanted.contains(&upper) {
            return Err(StoreError::Bind(format!(
                "{stmt}: the statement has no :{name}"
            )));
        }
        bind_value(st, stmt, name, v)?;
        given.push(upper);
    }
    let skip = skip.map(|s| s.trim_start_matches(':').to_ascii_uppercase());
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !given.contains(w) && Some(*w) != skip.as_ref())
        .map(|w| format!(":{}", w.to_ascii_lowercase()))
        .collect();
    if !missing.is_empty() {
        return Err(StoreError::Bind(format!(
            "{stmt}: no value for {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// The statement's Oracle text as sent: without a trailing `;` unless it is a PL/SQL block.
fn oracle_text(stmt: &Stmt) -> &str {
    let t = stmt.oracle.trim_end();
    if script::is_plsql(t) {
        t
    } else {
        t.trim_end_matches(';').trim_end()
    }
}

/// Prepares a statement through the connection's statement cache.
fn prepare(c: &OConn, stmt: &Stmt) -> Result<Statement, StoreError> {
    c.statement(oracle_text(stmt))
        .build()
        .map_err(|e| map_err(stmt.name, e))
}

/// Runs a statement that returns no rows; returns the number of rows it changed.
pub fn execute(c: &mut OConn, stmt: &Stmt, binds: &Binds) -> Result<u64, StoreError> {
    let mut st = prepare(c, stmt)?;
    bind_all(&mut st, stmt.name, binds, None)?;
    st.execute(&[]).map_err(|e| map_err(stmt.name, e))?;
    st.row_count().map_err(|e| map_err(stmt.name, e))
}

fn read_value(sv: &::oracle::SqlValue, ty: &OracleType, col: usize) -> Result<Value, String> {
    let text = |e: ::oracle::Error| format!("column {}: {}", col + 1, first_line(&e.to_string()));
    if sv.is_null().map_err(text)? {
        return Ok(Value::Null);
    }
    Ok(match read_as(ty) {
        ReadAs::Int => match sv.get::<i64>() {
            Ok(i) => Value::Int(i),
            // Beyond i64 (NUMBER(38) holds more): keep it as a float.
            Err(_) => Value::Float(sv.get::<f64>().map_err(text)?),
        },
        ReadAs::Number => {
            let s: String = sv.get().map_err(text)?;
            convert::number_text(&s)
                .ok_or_else(|| format!("column {}: NUMBER {s:?} is not a number", col + 1))?
        }
        ReadAs::Float => Value::Float(sv.get::<f64>().map_err(text)?),
        ReadAs::Text => Value::Text(sv.get::<String>().map_err(text)?),
        ReadAs::Bytes => Value::Blob(sv.get::<Vec<u8>>().map_err(text)?),
        ReadAs::Time => {
            let ts: ::oracle::sql_type::Timestamp = sv.get().map_err(text)?;
            Value::Time(
                convert::timestamp_to_time(&ts)
                    .ok_or_else(|| format!("column {}: {ts} is not a valid time", col + 1))?,
            )
        }
        ReadAs::Bool => Value::Int(sv.get::<bool>().map_err(text)? as i64),
        ReadAs::Unsupported => {
            return Err(format!("column {}: type {ty} is not supported", col + 1))
        }
    })
}

/// Runs a query and returns all its rows.
pub fn query(c: &mut OConn, stmt: &Stmt, binds: &Binds) -> Result<Vec<Row>, StoreError> {
    let mut st = prepare(c, stmt)?;
    bind_all(&mut st, stmt.name, binds, None)?;
    let rows = st.query(&[]).map_err(|e| map_err(stmt.name, e))?;
    let types: Vec<OracleType> = rows
        .column_info()
        .iter()
        .map(|ci| ci.oracle_type().clone())
        .collect();
    let mut out = Vec::new();
    for r in rows {
        let r = r.map_err(|e| map_err(stmt.name, e))?;
        let mut vals = Vec::with_capacity(types.len());
        for (i, (sv, ty)) in r.sql_values().iter().zip(&types).enumerate() {
            vals.push(
                read_value(sv, ty, i)
                    .map_err(|m| StoreError::Decode(format!("{}: {m}", stmt.name)))?,
            );
        }
        out.push(Row(vals));
    }
    Ok(out)
}

/// Runs `INSERT ... RETURNING col INTO :returning` and returns the generated integer.
pub fn insert_returning(
    c: &mut OConn,
    stmt: &Stmt,
    binds: &Binds,
    returning: &str,
) -> Result<i64, StoreError> {
    let returning = returning.trim_start_matches(':');
    let mut st = prepare(c, stmt)?;
    if !st.is_returning() {
        return Err(StoreError::Bind(format!(
            "{}: no RETURNING ... INTO :{returning} clause",
            stmt.name
        )));
    }
    bind_all(&mut st, stmt.name, binds, Some(returning))?;
    st.bind(returning, &None::<i64>)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidBindName => {
                StoreError::Bind(format!("{}: the statement has no :{returning}", stmt.name))
            }
            _ => map_err(stmt.name, e),
        })?;
    st.execute(&[]).map_err(|e| map_err(stmt.name, e))?;
    let vals: Vec<Option<i64>> = st.returned_values(returning).map_err(|e| {
        StoreError::Decode(format!("{}: {}", stmt.name, first_line(&e.to_string())))
    })?;
    match vals.as_slice() {
        [Some(id)] => Ok(*id),
        [None] => Err(StoreError::Decode(format!(
            "{}: RETURNING :{returning} gave NULL",
            stmt.name
        ))),
        v => Err(StoreError::Decode(format!(
            "{}: RETURNING :{returning} gave {} values where one was expected",
            stmt.name,
            v.len()
        ))),
    }
}

/// Oracle opens a transaction with the first statement; a read transaction is made read-only
/// so that all its queries see the database as of its start.
pub fn begin(c: &mut OConn, mode: super::TxMode) -> Result<(), StoreError> {
    if mode == super::TxMode::Read {
        c.execute("SET TRANSACTION READ ONLY", &[])
            .map_err(|e| map_err("set transaction read only", e))?;
    }
    Ok(())
}

pub fn commit(c: &mut OConn) -> Result<(), StoreError> {
    c.commit().map_err(|e| map_err("commit", e))
}

pub fn rollback(c: &mut OConn) -> Result<(), StoreError> {
    c.rollback().map_err(|e| map_err("rollback", e))
}

/// Limits each round trip of the connection (`None`: no limit).
pub fn set_call_timeout(
    c: &mut OConn,
    limit: Option<std::time::Duration>,
) -> Result<(), StoreError> {
    c.set_call_timeout(limit)
        .map_err(|e| map_err("set call timeout", e))
}

const SAVEPOINT: &str = "esmail_statement";

pub fn savepoint(c: &mut OConn) -> Result<(), StoreError> {
    c.execute(&format!("SAVEPOINT {SAVEPOINT}"), &[])
        .map(|_| ())
        .map_err(|e| map_err("savepoint", e))
}

pub fn rollback_to_savepoint(c: &mut OConn) -> Result<(), StoreError> {
    c.execute(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"), &[])
        .map(|_| ())
        .map_err(|e| map_err("rollback to savepoint", e))
}

/// ORA-24344: success with compilation error (a PL/SQL unit or view was created invalid).
const COMPILED_WITH_ERRORS: i32 = 24344;

/// The first compilation error of a unit just created, from USER_ERRORS.
fn compilation_error(c: &OConn, s: &ScriptStatement) -> String {
    let Some((kind, name)) = script::created_unit(&s.text) else {
        return "compiled with errors (see USER_ERRORS)".into();
    };
    let sql = "SELECT line, position, text, COUNT(*) OVER () FROM user_errors \
               WHERE name = :name AND type = :kind AND attribute = 'ERROR' \
               ORDER BY sequence FETCH FIRST 1 ROWS ONLY";
    let found = c
        .statement(sql)
        .exclude_from_cache()
        .build()
        .and_then(|mut st| {
            st.query_row_as_named::<(i64, i64, String, i64)>(&[
                ("name", &name.as_str()),
                ("kind", &kind.as_str()),
            ])
        });
    match found {
        Ok((line, pos, text, count)) => {
            // USER_ERRORS counts lines from the CREATE line for packages, procedures,
            // functions and types (not for triggers).
            let at = if kind == "TRIGGER" {
                format!("line {line} of the trigger body")
            } else {
                format!("file line {}", s.line + (line.max(1) as usize) - 1)
            };
            let more = if count > 1 {
                format!(" (and {} more; see USER_ERRORS)", count - 1)
            } else {
                String::new()
            };
            format!(
                "{kind} {name} compiled with errors: {at}, column {pos}: {}{more}",
                first_line(&text)
            )
        }
        Err(_) => format!("{kind} {name} compiled with errors (see USER_ERRORS)"),
    }
}

fn run_statement(c: &OConn, s: &ScriptStatement) -> Result<(), ::oracle::Error> {
    let mut st = c.statement(&s.text).exclude_from_cache().build()?;
    if st.is_query() {
        // SQL*Plus would print the rows; nothing to do with them here.
        let rows = st.query(&[])?;
        for r in rows {
            r?;
        }
    } else {
        st.execute(&[])?;
    }
    Ok(())
}

/// Runs an Oracle install/upgrade script (such as `sql/oracle/steps/V001__base.sql`) the way
/// SQL*Plus would (see [`split_script`]), statement by statement, and commits at the end.
/// A failure names the script and the line of the statement that failed, and rolls back what
/// the script changed since its last DDL (DDL commits by itself in Oracle).
pub fn run_script(
    c: &mut OConn,
    name: &str,
    sql: &str,
    defines: &Defines,
) -> Result<(), StoreError> {
    let stmts =
        script::split_script_at(sql, defines).map_err(|(line, message)| StoreError::Sql {
            stmt: format!("{name} line {line}"),
            message,
        })?;
    for s in &stmts {
        let at = format!("{name} line {}", s.line);
        let failed = match run_statement(c, s) {
            Ok(()) => match c.last_warning() {
                Some(w) if w.db_error().map(|d| d.code()) == Some(COMPILED_WITH_ERRORS) => {
                    Some(StoreError::Sql {
                        stmt: at.clone(),
                        message: compilation_error(c, s),
                    })
                }
                _ => None,
            },
            Err(e) => Some(script_error(&at, s, e)),
        };
        if let Some(err) = failed {
            if let Err(rb) = c.rollback() {
                log::warn!(
                    "{name}: rollback after a failed statement: {}",
                    first_line(&rb.to_string())
                );
            }
            return Err(err);
        }
    }
    c.commit().map_err(|e| match map_err(name, e) {
        StoreError::Sql { stmt, message } => StoreError::Sql {
            stmt: format!("{stmt} (commit)"),
            message,
        },
        other => other,
    })
}

fn script_error(at: &str, s: &ScriptStatement, e: ::oracle::Error) -> StoreError {
    let mut message = first_line(&error_text(&e));
    if classify(error_code(&e)) == Class::Unavailable {
        return StoreError::Unavailable(format!("lost the Oracle store at {at}: {message}"));
    }
    // A parse error's offset points into the statement: name its line in the file.
    if let Some(off) = e.db_error().map(|d| d.offset() as usize).filter(|o| *o > 0) {
        let before = s.text.get(..off.min(s.text.len())).unwrap_or("");
        let extra = before.matches('\n').count();
        if extra > 0 {
            message.push_str(&format!(" (at line {})", s.line + extra));
        }
    }
    StoreError::Sql {
        stmt: at.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(deprecated)]
    fn ora(code: i32, msg: &str) -> ::oracle::Error {
        ::oracle::Error::OciError(::oracle::DbError::new(
            code,
            0,
            msg,
            "dpiStmt_execute",
            "execute",
        ))
    }

    #[allow(deprecated)]
    fn dpi(msg: &str) -> ::oracle::Error {
        ::oracle::Error::DpiError(::oracle::DbError::new(
            0,
            0,
            msg,
            "dpiConn_create",
            "load library",
        ))
    }

    #[test]
    fn maps_driver_errors() {
        let e = map_err("x", ora(1, "ORA-00001: unique constraint (ES.ES_DOMAIN_UK) violated\nHelp: https://docs.oracle.com/error-help/db/ora-00001/"));
        match e {
            StoreError::Unique(m) => {
                assert_eq!(m, "ORA-00001: unique constraint (ES.ES_DOMAIN_UK) violated")
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            map_err(
                "x",
                ora(
                    2291,
                    "ORA-02291: integrity constraint violated - parent key not found"
                )
            ),
            StoreError::ForeignKey(_)
        ));
        assert!(matches!(
            map_err("x", ora(2292, "ORA-02292: child record found")),
            StoreError::ForeignKey(_)
        ));
        assert!(matches!(
            map_err("x", ora(1400, "ORA-01400: cannot insert NULL")),
            StoreError::Check(_)
        ));
        assert!(matches!(
            map_err("x", ora(12899, "ORA-12899: value too large")),
            StoreError::Check(_)
        ));
        assert!(matches!(
            map_err("x", ora(942, "ORA-00942: table or view does not exist")),
            StoreError::NoSuchTable(_)
        ));
        assert!(matches!(
            map_err("x", ora(54, "ORA-00054: resource busy")),
            StoreError::Busy(_)
        ));
        assert!(matches!(
            map_err(
                "x",
                ora(3113, "ORA-03113: end-of-file on communication channel")
            ),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map_err("x", dpi("DPI-1080: connection was closed by ORA-3113")),
            StoreError::Unavailable(_)
        ));
        match map_err(
            "account_insert",
            ora(904, "ORA-00904: \"X\": invalid identifier"),
        ) {
            StoreError::Sql { stmt, message } => {
                assert_eq!(stmt, "account_insert");
                assert_eq!(message, "ORA-00904: \"X\": invalid identifier");
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn statement_text_loses_its_semicolon_unless_plsql() {
        let s = |oracle: &'static str| Stmt {
            name: "t",
            oracle,
            sqlite: oracle,
        };
        assert_eq!(
            oracle_text(&s("SELECT 1 FROM dual;\n")),
            "SELECT 1 FROM dual"
        );
        assert_eq!(
            oracle_text(&s("SELECT 1 FROM dual\n")),
            "SELECT 1 FROM dual"
        );
        assert_eq!(oracle_text(&s("BEGIN x(:a); END;\n")), "BEGIN x(:a); END;");
    }

    #[test]
    fn script_errors_name_the_line() {
        let s = ScriptStatement {
            line: 10,
            text: "CREATE TABLE t (\n  a NUMBER,\n  b NUMBR)".into(),
        };
        #[allow(deprecated)]
        let e = ::oracle::Error::OciError(::oracle::DbError::new(
            902,
            33,
            "ORA-00902: invalid datatype",
            "f",
            "a",
        ));
        match script_error("V001__base.sql line 10", &s, e) {
            StoreError::Sql { stmt, message } => {
                assert_eq!(stmt, "V001__base.sql line 10");
                assert_eq!(message, "ORA-00902: invalid datatype (at line 12)");
            }
            e => panic!("{e:?}"),
        }
    }

    /// Without the Oracle client library, connecting fails with one line and no panic.
    #[test]
    fn unreachable_store_is_one_line() {
        if std::env::var_os("ESMAIL_ORACLE_TEST_URL").is_some() {
            eprintln!("skipped: a real Oracle store is configured");
            return;
        }
        let e = match Connection::connect("x", "dummy", "//127.0.0.1:1521/none") {
            Ok(_) => {
                eprintln!("skipped: a database answered at 127.0.0.1:1521");
                return;
            }
            Err(e) => e,
        };
        let s = diag::explain_connect(
            "cannot reach the Oracle store",
            "oracle://x@//127.0.0.1:1521/none",
            &error_text(&e),
        );
        assert!(!s.contains('\n'), "{s}");
        assert!(s.contains("DPI-") || s.contains("ORA-"), "{s}");
        eprintln!("{s}");
    }
}
