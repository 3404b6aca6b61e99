//! Schema versions: ordered steps, the same files a DBA runs from SQL*Plus
//! (`sql/oracle/steps/`) or the embedded store runs (`sql/sqlite/steps/`). Each step records
//! itself in `es_schema_version` as its last statement, on both paths.

use std::collections::BTreeMap;

use super::{q, Conn, Dialect, StoreError, TxMode};

/// One upgrade step.
#[derive(Debug)]
pub struct Step {
    pub version: u32,
    pub name: &'static str,
    pub file: &'static str,
    pub sql: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/steps.rs"));

/// Substitution variables of the Oracle scripts (`&&data_tablespace` ...).
pub type Defines = BTreeMap<String, String>;

/// The tablespace variables of the step files.
pub const TABLESPACES: [&str; 3] = ["data_tablespace", "index_tablespace", "lob_tablespace"];

pub fn steps(d: Dialect) -> &'static [Step] {
    match d {
        Dialect::Sqlite => SQLITE_STEPS,
        Dialect::Oracle => ORACLE_STEPS,
    }
}

/// The version this build expects.
pub fn latest(d: Dialect) -> u32 {
    steps(d).last().map(|s| s.version).unwrap_or(0)
}

/// The version the store has; `None` when the store has no schema yet.
pub fn current_version(conn: &mut Conn) -> Result<Option<u32>, StoreError> {
    match conn.query_opt(&q::SCHEMA_VERSION, &[]) {
        Ok(row) => Ok(row
            .and_then(|r| r.opt_i64(0).ok().flatten())
            .map(|v| v as u32)),
        Err(StoreError::NoSuchTable(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Checks that a store's schema is the one this build speaks.
pub fn require_current(conn: &mut Conn) -> Result<u32, StoreError> {
    let latest = latest(conn.dialect());
    match current_version(conn)? {
        None => Err(StoreError::Schema(
            "the store has no esmail schema: run `esmail init --domain NAME` first".into(),
        )),
        Some(v) if v < latest => Err(StoreError::Schema(format!(
            "the store's schema is version {v}, this esmail needs {latest}: run `esmail upgrade`"
        ))),
        Some(v) if v > latest => Err(StoreError::Schema(format!(
            "the store's schema is version {v}, newer than this esmail knows ({latest}): use a newer esmail"
        ))),
        Some(v) => Ok(v),
    }
}

/// Applies every step newer than the store's version, in order; returns the steps applied.
/// On the embedded store each step is one transaction (SQLite's DDL is transactional); on
/// Oracle each DDL statement commits by itself and the version row is written last, so a
/// step interrupted half-way is reported and can be finished by the DBA.
pub fn upgrade(conn: &mut Conn, defines: &Defines) -> Result<Vec<&'static Step>, StoreError> {
    let mut applied = Vec::new();
    let mut defines = defines.clone();
    if let Conn::Oracle(raw) = conn {
        // like install.sql: a tablespace not named defaults to the owner's default tablespace
        let missing = TABLESPACES.iter().any(|t| !defines.contains_key(*t));
        if missing {
            let rows = super::oracle::query(raw, &q::ORACLE_DEFAULT_TABLESPACE, &[])?;
            let ts = rows
                .first()
                .map(|r| r.str(0))
                .transpose()?
                .unwrap_or_else(|| "USERS".into());
            for t in TABLESPACES {
                defines.entry(t.to_string()).or_insert_with(|| ts.clone());
            }
        }
    }
    let defines = &defines;
    for step in steps(conn.dialect()) {
        let done = match conn {
            Conn::Sqlite(_) => conn.transaction(TxMode::Write, |c| {
                let have = current_version(c)?.unwrap_or(0);
                if have >= step.version {
                    return Ok::<bool, StoreError>(false);
                }
                if let Conn::Sqlite(raw) = c {
                    super::sqlite::run_script(raw, step.file, step.sql)?;
                }
                Ok(true)
            })?,
            Conn::Oracle(raw) => {
                let have = current_version_oracle(raw)?;
                if have >= step.version {
                    false
                } else {
                    super::oracle::run_script(raw, step.file, step.sql, defines)?;
                    true
                }
            }
        };
        if done {
            log::info!("schema step {} ({}) applied", step.version, step.name);
            applied.push(step);
        }
    }
    Ok(applied)
}

fn current_version_oracle(
    raw: &mut r2d2::PooledConnection<r2d2_oracle::OracleConnectionManager>,
) -> Result<u32, StoreError> {
    match super::oracle::query(raw, &q::SCHEMA_VERSION, &[]) {
        Ok(rows) => Ok(rows
            .first()
            .and_then(|r| r.opt_i64(0).ok().flatten())
            .unwrap_or(0) as u32),
        Err(StoreError::NoSuchTable(_)) => Ok(0),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_have_the_same_steps() {
        let o: Vec<_> = ORACLE_STEPS.iter().map(|s| (s.version, s.name)).collect();
        let s: Vec<_> = SQLITE_STEPS.iter().map(|s| (s.version, s.name)).collect();
        assert_eq!(o, s);
        for (i, step) in SQLITE_STEPS.iter().enumerate() {
            assert_eq!(
                step.version as usize,
                i + 1,
                "steps are numbered 1, 2, 3 ..."
            );
            assert!(
                step.sql.contains(&format!("VALUES ({}, ", step.version)),
                "step {} records its version",
                step.file
            );
        }
    }
}
