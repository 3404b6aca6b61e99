//! The embedded store's online copy, and the checks a copy passes before it is restored.
//! SQLite only: an Oracle store is backed up with RMAN (docs/backup-and-recovery.md).
//!
//! `VACUUM INTO` writes a consistent snapshot of the store into a new file in one statement.
//! It reads the store inside one read transaction, so in WAL mode the writers go on (mail keeps
//! coming in) and the copy holds exactly what was committed when the statement began. Unlike
//! SQLite's paged online backup API, it never starts over because another connection wrote.
//!
//! The statements here are SQLite's own (`VACUUM INTO`, `PRAGMA integrity_check`), written
//! inline like the other pragmas of `sqlite.rs`: they have no Oracle counterpart.

use std::path::Path;

use super::{schema, system, Conn, Dialect, OpenOptions, Store, StoreError, StoreUrl};

fn sql_err(stmt: &str, e: rusqlite::Error) -> StoreError {
    StoreError::Sql {
        stmt: stmt.to_string(),
        message: e.to_string(),
    }
}

/// Writes a consistent copy of the embedded store into `dest`, a file that must not exist yet
/// (give an absolute path: SQLite would read a name starting with `file:` as a URI).
pub fn vacuum_into(store: &Store, dest: &Path) -> Result<(), StoreError> {
    let mut conn = store.conn()?;
    let Conn::Sqlite(c) = &mut conn else {
        return Err(StoreError::Unavailable(
            "an online copy with VACUUM INTO is for the embedded store only".into(),
        ));
    };
    let dest = dest.to_str().ok_or_else(|| {
        StoreError::Unavailable(format!(
            "{}: the backup's path must be valid UTF-8",
            dest.display()
        ))
    })?;
    // the file name is a bound value, never spliced into the statement
    c.execute("VACUUM INTO ?1", [dest])
        .map_err(|e| sql_err("vacuum into", e))?;
    Ok(())
}

/// What a copy of the embedded store holds, as far as a restore cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyInfo {
    pub schema_version: u32,
    /// The node the store belongs to (its name), when it has one.
    pub node: Option<String>,
    pub messages: i64,
}

/// Checks that the file at `path` is a sound esmail store: SQLite's `PRAGMA integrity_check`
/// finds nothing, it has the schema version table, a version this build can run (older ones
/// are upgraded by `esmail start` / `esmail upgrade`) and a node. The file is opened like the
/// store (WAL mode) and closed again before this returns. Any failure is one line.
pub fn inspect(path: &Path) -> Result<CopyInfo, String> {
    // the header first: opening something else would only fail later, less clearly
    let mut header = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .map_err(|e| e.to_string());
    if read.is_err() || &header != b"SQLite format 3\0" {
        return Err("it is not an SQLite database".into());
    }
    let url = StoreUrl::Sqlite(path.to_path_buf());
    let opts = OpenOptions {
        pool_size: 1,
        wait: std::time::Duration::from_secs(5),
        ..OpenOptions::default()
    };
    let store = Store::open(&url, &opts).map_err(|e| e.to_string())?;
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    let problems = match &mut conn {
        Conn::Sqlite(c) => integrity_problems(c).map_err(|e| {
            let text = e.to_string();
            if text.contains("not a database") {
                "it is not an SQLite database".to_string()
            } else {
                text
            }
        })?,
        Conn::Oracle(_) => Vec::new(),
    };
    if let Some(first) = problems.first() {
        return Err(format!(
            "SQLite's integrity check fails ({} problems; the first: {first})",
            problems.len()
        ));
    }
    let version = schema::current_version(&mut conn)
        .map_err(|e| e.to_string())?
        .ok_or("it has no esmail schema (no es_schema_version table)")?;
    let latest = schema::latest(Dialect::Sqlite);
    if version > latest {
        return Err(format!(
            "its schema is version {version}, newer than this esmail knows ({latest}): restore it with a newer esmail"
        ));
    }
    let node = match system::local_node_id(&mut conn).map_err(|e| e.to_string())? {
        Some(id) => system::nodes(&mut conn, id)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .map(|n| n.name),
        None => None,
    };
    let messages = super::verify::totals(&mut conn)
        .map(|t| t.messages)
        .unwrap_or(0);
    Ok(CopyInfo {
        schema_version: version,
        node,
        messages,
    })
}

/// The lines `PRAGMA integrity_check` reports (none when it says `ok`), at most 20.
fn integrity_problems(c: &rusqlite::Connection) -> Result<Vec<String>, StoreError> {
    let mut st = c
        .prepare("PRAGMA integrity_check(20)")
        .map_err(|e| sql_err("integrity check", e))?;
    let rows = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| sql_err("integrity check", e))?;
    let mut out = Vec::new();
    for r in rows {
        let line = r.map_err(|e| sql_err("integrity check", e))?;
        if line != "ok" {
            out.push(line);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_at(path: &Path) -> Store {
        let opts = OpenOptions {
            pool_size: 2,
            create: true,
            ..OpenOptions::default()
        };
        Store::open(&StoreUrl::Sqlite(path.to_path_buf()), &opts).unwrap()
    }

    #[test]
    fn vacuum_into_takes_a_bound_file_name_and_copies_what_was_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_at(&dir.path().join("src.db"));
        if let Conn::Sqlite(c) = &mut store.conn().unwrap() {
            c.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);")
                .unwrap();
        }
        // a name a splice would break: quotes, spaces, a semicolon
        let dest = dir.path().join("it's a copy; DROP TABLE t.db");
        vacuum_into(&store, &dest).unwrap();
        let copy = rusqlite::Connection::open(&dest).unwrap();
        let n: i64 = copy
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        // an existing, non-empty file is refused by SQLite too
        assert!(vacuum_into(&store, &dest).is_err());
    }

    #[test]
    fn a_file_that_is_not_a_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.db");
        std::fs::write(
            &text,
            "hello, this is not a database at all, only some text ".repeat(100),
        )
        .unwrap();
        let e = inspect(&text).unwrap_err();
        assert!(e.contains("not an SQLite database"), "{e}");
        let empty = dir.path().join("other.db");
        let store = store_at(&empty);
        if let Conn::Sqlite(c) = &mut store.conn().unwrap() {
            c.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        }
        drop(store);
        let e = inspect(&empty).unwrap_err();
        assert!(e.contains("no esmail schema"), "{e}");
    }
}
