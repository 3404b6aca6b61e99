//! Static checks of the Oracle SQL (no Oracle database here): runs
//! `tools/sqlcheck/check_oracle.py` on the tree, and on copies of it with a known fault, to show
//! that the check passes on the real files and fails where it must.
//!
//! Needs Python 3 with sqlglot and qivo-parseora: `pip install -r tools/sqlcheck/requirements.txt`.
//! The interpreter is `$ESMAIL_PYTHON`, else `python3`.

use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL_HINT: &str = "run `pip install -r tools/sqlcheck/requirements.txt` \
     (or set ESMAIL_PYTHON to a Python that has sqlglot and qivo-parseora)";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> String {
    std::env::var("ESMAIL_PYTHON")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// Fails (never skips) when the interpreter or one of the two packages is missing.
fn require_tools() {
    let py = python();
    let out = Command::new(&py)
        .args(["-c", "import sqlglot, parseora"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {py}: {e}; {INSTALL_HINT}"));
    assert!(
        out.status.success(),
        "{py} cannot import sqlglot and parseora: {}\n{INSTALL_HINT}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Runs the checker on `root`; returns (success, stdout + stderr).
fn check(root: &Path) -> (bool, String) {
    require_tools();
    let script = repo().join("tools/sqlcheck/check_oracle.py");
    let out = Command::new(python())
        .arg(&script)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        out.status.code(),
        Some(2),
        "the checker could not start: {text}\n{INSTALL_HINT}"
    );
    (out.status.success(), text)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temporary copy of the tree's `sql/` directory (all that the checker reads besides plsql/).
fn copy_of_sql() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("sql"), &dir.path().join("sql"));
    if repo().join("plsql").is_dir() {
        copy_tree(&repo().join("plsql"), &dir.path().join("plsql"));
    }
    dir
}

#[test]
fn oracle_sql_of_the_tree_passes_the_static_checks() {
    let (ok, out) = check(&repo());
    assert!(ok, "tools/sqlcheck/check_oracle.py found problems:\n{out}");
    assert!(out.contains("0 problems"), "unexpected summary: {out}");
}

#[test]
fn a_query_naming_an_unknown_column_is_reported() {
    let dir = copy_of_sql();
    let queries = dir.path().join("sql/oracle/queries");
    std::fs::create_dir_all(&queries).unwrap();
    std::fs::write(
        queries.join("zz_bad.sql"),
        "SELECT no_such_column FROM es_node WHERE node_id = :node_id\n",
    )
    .unwrap();
    let (ok, out) = check(dir.path());
    assert!(!ok, "the checker accepted an unknown column:\n{out}");
    assert!(
        out.contains("no_such_column"),
        "the report does not name the column:\n{out}"
    );
    assert!(
        out.contains("zz_bad.sql"),
        "the report does not name the file:\n{out}"
    );
}

#[test]
fn a_package_body_with_a_syntax_error_is_reported() {
    let dir = copy_of_sql();
    let plsql = dir.path().join("plsql");
    std::fs::create_dir_all(&plsql).unwrap();
    // The IF is never closed: `parseora parse --strict` rejects it ("expected IF after END").
    std::fs::write(
        plsql.join("zz_broken.pkb"),
        "CREATE OR REPLACE PACKAGE BODY zz_broken AS\n\
         \x20 PROCEDURE p (x IN NUMBER) IS\n\
         \x20 BEGIN\n\
         \x20   IF x > 0 THEN\n\
         \x20     NULL;\n\
         \x20 END p;\n\
         END zz_broken;\n\
         /\n",
    )
    .unwrap();
    let (ok, out) = check(dir.path());
    assert!(!ok, "the checker accepted a broken package body:\n{out}");
    assert!(
        out.contains("plsql/zz_broken.pkb"),
        "the report does not name the file:\n{out}"
    );
}

#[test]
fn sql_inside_a_package_body_naming_an_unknown_column_is_reported() {
    let dir = copy_of_sql();
    let plsql = dir.path().join("plsql");
    std::fs::create_dir_all(&plsql).unwrap();
    // Valid PL/SQL (parseora accepts it), but es_rule has no column `rule_owner`: Oracle would
    // compile the body with errors (ORA-00904). The PL/SQL names (p_id, v_name) become binds.
    std::fs::write(
        plsql.join("zz_bad_column.pkb"),
        "CREATE OR REPLACE PACKAGE BODY zz_bad_column AS\n\
         \x20 FUNCTION rule_name_of (p_id IN NUMBER) RETURN VARCHAR2 IS\n\
         \x20   v_name VARCHAR2(128);\n\
         \x20 BEGIN\n\
         \x20   SELECT r.rule_name INTO v_name FROM es_rule r WHERE r.rule_id = p_id;\n\
         \x20   UPDATE es_rule SET active = 0 WHERE rule_owner = v_name;\n\
         \x20   RETURN v_name;\n\
         \x20 END rule_name_of;\n\
         END zz_bad_column;\n\
         /\n",
    )
    .unwrap();
    let (ok, out) = check(dir.path());
    assert!(
        !ok,
        "the checker accepted an unknown column inside a package body:\n{out}"
    );
    assert!(
        out.contains("plsql/zz_bad_column.pkb:6:") && out.contains("rule_owner"),
        "the report does not name the file, line and column:\n{out}"
    );
    // the correct statement on line 5 is not reported
    assert!(
        !out.contains("plsql/zz_bad_column.pkb:5:"),
        "a correct statement was reported:\n{out}"
    );
}

#[test]
fn a_sample_may_create_its_own_table_but_not_invent_esmail_columns() {
    let dir = copy_of_sql();
    let samples = dir.path().join("plsql/samples");
    std::fs::create_dir_all(&samples).unwrap();
    std::fs::write(
        samples.join("zz_app.sql"),
        "CREATE TABLE zz_app_item (item_no NUMBER PRIMARY KEY, qty NUMBER NOT NULL);\n\
         \n\
         CREATE OR REPLACE TRIGGER zz_app_item_low\n\
         AFTER UPDATE OF qty ON zz_app_item\n\
         FOR EACH ROW\n\
         BEGIN\n\
         \x20 UPDATE zz_app_item SET qty = qty WHERE item_no = :NEW.item_no;\n\
         \x20 UPDATE es_setting SET setting_text = 'x' WHERE setting_name = 'low';\n\
         END;\n\
         /\n",
    )
    .unwrap();
    let (ok, out) = check(dir.path());
    assert!(
        !ok,
        "the checker accepted an unknown es_setting column:\n{out}"
    );
    assert!(
        out.contains("plsql/samples/zz_app.sql:8:") && out.contains("setting_text"),
        "the report does not name the sample, line and column:\n{out}"
    );
    assert!(
        !out.contains("zz_app.sql:7:"),
        "the sample's own table was not known:\n{out}"
    );
}

#[test]
fn a_package_body_that_differs_from_its_specification_is_reported() {
    let dir = copy_of_sql();
    let plsql = dir.path().join("plsql");
    std::fs::create_dir_all(&plsql).unwrap();
    // Both parse; Oracle would refuse the body (PLS-00323: f has no body with this header).
    std::fs::write(
        plsql.join("zz_pair.pks"),
        "CREATE OR REPLACE PACKAGE zz_pair AS\n\
         \x20 FUNCTION f (p_x IN NUMBER DEFAULT 1) RETURN NUMBER;\n\
         \x20 PROCEDURE g;\n\
         END zz_pair;\n\
         /\n",
    )
    .unwrap();
    std::fs::write(
        plsql.join("zz_pair.pkb"),
        "CREATE OR REPLACE PACKAGE BODY zz_pair AS\n\
         \x20 FUNCTION f (p_x IN NUMBER DEFAULT 2) RETURN NUMBER IS\n\
         \x20 BEGIN\n\
         \x20   RETURN p_x;\n\
         \x20 END f;\n\
         \x20 PROCEDURE g IS\n\
         \x20 BEGIN\n\
         \x20   NULL;\n\
         \x20 END g;\n\
         END zz_pair;\n\
         /\n",
    )
    .unwrap();
    let (ok, out) = check(dir.path());
    assert!(!ok, "the checker accepted a body that differs:\n{out}");
    assert!(
        out.contains("plsql/zz_pair.pks:2:") && out.contains("FUNCTION f"),
        "the report does not name the declaration:\n{out}"
    );
    assert!(
        !out.contains("PROCEDURE g"),
        "a matching subprogram was reported:\n{out}"
    );
}
