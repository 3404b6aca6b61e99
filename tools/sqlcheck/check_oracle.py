#!/usr/bin/env python3
"""Static checks of esmail's Oracle SQL: no Oracle database or client is needed.

    python3 tools/sqlcheck/check_oracle.py [--root DIR]

DIR (default: the repository that holds this file) is read, never written. Checks:

  a. every *.sql under DIR/sql/oracle and every *.sql, *.pks, *.pkb under DIR/plsql passes
     `parseora parse --errors --strict` (structural SQL, PL/SQL and SQL*Plus syntax);
  b. the CREATE TABLE / ALTER TABLE / DROP TABLE statements of DIR/sql/oracle/steps/V*.sql, in
     version order, parse with sqlglot (oracle dialect) and give the catalog {table: [columns]};
     the indexes, comments and INSERTs of the steps name only columns of that catalog;
  c. every DIR/sql/oracle/queries/*.sql holds one statement that sqlglot parses and that names
     only tables of the catalog and, per table, only its columns (aliases, subqueries, CTEs,
     MERGE sources, RETURNING and ORDER BY select-list aliases are resolved); a few Oracle
     traps are reported too (FETCH FIRST with FOR UPDATE, comparison with '', trailing ';');
  d. the embedded store's steps (DIR/sql/sqlite/steps/V*.sql, run in an in-memory SQLite) give
     the same tables with the same column names;
  e. each DIR/sql/sqlite/queries/NAME.sql override has a DIR/sql/oracle/queries/NAME.sql using
     the same bind names (the Oracle-only `RETURNING ... INTO :x` out-binds excepted);
  f. the reference-data INSERTs (every INSERT of the steps but those into es_schema_version) are
     the same, in the same order, in the two dialects' step files of each version;
  g. the SQL inside PL/SQL: in every file under DIR/plsql (packages, samples) and
     DIR/sql/oracle/views, each SQL statement that names an esmail table (es_*) or a table the
     file creates itself (a sample's application table) - SELECT INTO, INSERT, UPDATE, DELETE,
     MERGE, cursor, OPEN FOR and cursor FOR loop queries inside PL/SQL units, and plain
     statements and views - names only declared tables and, per table, only their columns
     (PL/SQL variables, parameters, record fields, :NEW/:OLD and INTO targets are told apart
     from columns with parseora's syntax tree). The views of sql/oracle/views are added to the
     catalog for the other files;
  h. each subprogram a package specification plsql/NAME.pks declares is defined in plsql/NAME.pkb
     with the same header (Oracle refuses a body that differs: PLS-00323, PLS-00593).

Prints one `path:line: message` line per problem and exits 1, or a one-line summary and exits 0.
Exits 2 when sqlglot or parseora is missing.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REQUIREMENTS_HINT = "run `pip install -r tools/sqlcheck/requirements.txt`"

try:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, SqlglotError
except ImportError as _e:  # pragma: no cover - environment problem
    print(f"check_oracle: cannot import sqlglot ({_e}): {REQUIREMENTS_HINT}", file=sys.stderr)
    sys.exit(2)
try:
    import parseora
except ImportError as _e:  # pragma: no cover - environment problem
    print(f"check_oracle: cannot import parseora ({_e}): {REQUIREMENTS_HINT}", file=sys.stderr)
    sys.exit(2)

logging.getLogger("sqlglot").setLevel(logging.CRITICAL)

STEP_NAME = re.compile(r"^V(\d+)__([A-Za-z0-9_]+)\.sql$")
# SQL*Plus substitution variable: &name or &&name, optionally ended by the concatenation dot.
SUBST_VAR = re.compile(r"&&?([A-Za-z_][A-Za-z0-9_$#]*)\.?")
# Oracle pseudo-columns and niladic functions that sqlglot reads as column names.
PSEUDO_COLUMNS = {
    "rownum", "rowid", "level", "user", "uid", "sysdate", "systimestamp", "sessiontimezone",
    "dbtimezone", "ora_rowscn", "column_value", "current_date", "current_timestamp",
    "localtimestamp", "connect_by_isleaf", "connect_by_iscycle", "object_value",
}
SEQUENCE_PSEUDO = {"nextval", "currval"}



# Oracle data dictionary views a query may read (Oracle-only statements such as the space
# figures of the Statistics process), with the columns they have.
DICTIONARY = {
    "user_segments": ["segment_name", "partition_name", "segment_type", "tablespace_name",
                      "bytes", "blocks", "extents"],
    "user_tablespaces": ["tablespace_name", "block_size", "status", "contents"],
    "user_free_space": ["tablespace_name", "file_id", "block_id", "bytes", "blocks",
                        "relative_fno"],
    "user_ts_quotas": ["tablespace_name", "bytes", "max_bytes", "blocks", "max_blocks"],
    "user_users": ["username", "user_id", "default_tablespace", "temporary_tablespace", "created"],
}

def norm(name: str) -> str:
    return name.lower()


@dataclass
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    files_parsed: int = 0
    statements: int = 0

    def add(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, max(int(line or 1), 1), message))


def rel(root: Path, p: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return p.as_posix()


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def first_line(msg: str) -> str:
    return str(msg).strip().splitlines()[0] if str(msg).strip() else "error"


def substitute(text: str) -> str:
    """Replaces SQL*Plus substitution variables by a dummy identifier sqlglot can read."""
    return SUBST_VAR.sub(lambda m: "subst_" + m.group(1), text)


def strip_leading_comments(text: str) -> str:
    while True:
        t = text.lstrip()
        if t.startswith("--"):
            nl = t.find("\n")
            text = "" if nl < 0 else t[nl + 1:]
        elif t.startswith("/*"):
            end = t.find("*/")
            text = "" if end < 0 else t[end + 2:]
        else:
            return t


def collapse(stmt: str) -> str:
    s = strip_leading_comments(stmt).strip()
    while s.endswith(";"):
        s = s[:-1].rstrip()
    return re.sub(r"\s+", " ", s)


def line_of(node: exp.Expression | None, base: int = 1) -> int:
    """File line of a node: `base` is the file line of the statement's first line."""
    while node is not None:
        meta = getattr(node, "meta", None) or {}
        if "line" in meta:
            return base + int(meta["line"]) - 1
        this = node.args.get("this") if isinstance(node, exp.Expression) else None
        if isinstance(this, exp.Expression) and this.meta.get("line"):
            return base + int(this.meta["line"]) - 1
        node = node.parent
    return base


def step_files(report: Report, root: Path, steps_dir: Path) -> list[tuple[int, Path]]:
    out: dict[int, Path] = {}
    if not steps_dir.is_dir():
        return []
    for p in sorted(steps_dir.glob("*.sql")):
        m = STEP_NAME.match(p.name)
        if not m:
            report.add(rel(root, p), 1, "step file is not named VNNN__name.sql")
            continue
        v = int(m.group(1))
        if v in out:
            report.add(rel(root, p), 1, f"step version {v} also in {out[v].name}")
            continue
        out[v] = p
    return sorted(out.items())


# ---------------------------------------------------------------------------------------- (a)

def parseora_check(report: Report, root: Path) -> list[Path]:
    files: list[Path] = []
    ora = root / "sql" / "oracle"
    if ora.is_dir():
        files += sorted(p for p in ora.rglob("*.sql") if p.is_file())
    plsql = root / "plsql"
    if plsql.is_dir():
        files += sorted(p for p in plsql.rglob("*") if p.is_file() and p.suffix.lower() in (".sql", ".pks", ".pkb"))
    if not files:
        return files
    names = [rel(root, p) for p in files]
    known = set(names)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "parseora", "parse", "--errors", "--strict", *names],
            cwd=root, capture_output=True, text=True, timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as e:
        report.add(names[0], 1, f"cannot run parseora: {e}")
        return files
    found = False
    pat = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")
    for out_line in (proc.stdout + "\n" + proc.stderr).splitlines():
        m = pat.match(out_line.strip())
        if m and m.group("path") in known:
            found = True
            report.add(m.group("path"), int(m.group("line")),
                       f"parseora: {m.group('msg')} (column {m.group('col')})")
    if proc.returncode != 0 and not found:
        tail = first_line(proc.stderr or proc.stdout or "")
        report.add(names[0], 1, f"parseora exited with status {proc.returncode}: {tail}")
    report.files_parsed += len(files)
    for p in files:
        try:
            items = parseora.split(read_text(p))
        except Exception as e:  # noqa: BLE001 - report, never crash
            report.add(rel(root, p), 1, f"parseora cannot split the file: {first_line(e)}")
            continue
        report.statements += sum(1 for it in items if it.get("kind") in ("sql", "plsql"))
    return files


# ---------------------------------------------------------------------------------------- (b)

class Catalog:
    def __init__(self) -> None:
        self.tables: dict[str, list[str]] = {}
        self.where: dict[str, tuple[str, int]] = {}  # table: (file, line) of its CREATE TABLE

    def columns(self, table: str) -> list[str] | None:
        return self.tables.get(norm(table))


def column_defs(schema: exp.Expression) -> list[str]:
    return [norm(c.name) for c in schema.expressions if isinstance(c, exp.ColumnDef)]


def split_top_level(body: str) -> list[str]:
    """Splits a parenthesised list's inside at the commas of depth 0 (quotes respected)."""
    parts, depth, cur, i, q = [], 0, [], 0, None
    while i < len(body):
        ch = body[i]
        if q:
            cur.append(ch)
            if ch == q:
                if i + 1 < len(body) and body[i + 1] == q:
                    cur.append(body[i + 1])
                    i += 1
                else:
                    q = None
        elif ch in ("'", '"'):
            q = ch
            cur.append(ch)
        elif ch == "(":
            depth += 1
            cur.append(ch)
        elif ch == ")":
            depth -= 1
            cur.append(ch)
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def simplify_create_table(sql: str, drop_constraints: bool) -> str | None:
    """`CREATE TABLE name ( ... )` without the physical properties after the column list
    (sqlglot reads few of Oracle's), optionally without out-of-line constraints and
    `USING INDEX ...` clauses (which it does not read after UNIQUE)."""
    m = re.match(r"(?is)\s*CREATE\s+(?:GLOBAL\s+TEMPORARY\s+|PRIVATE\s+TEMPORARY\s+)?TABLE\s+[^(]*\(", sql)
    if not m:
        return None
    start = m.end()
    depth, i, q = 1, start, None
    while i < len(sql) and depth:
        ch = sql[i]
        if q:
            if ch == q:
                q = None
        elif ch in ("'", '"'):
            q = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        i += 1
    if depth:
        return None
    head, body = sql[:start], sql[start:i - 1]
    if drop_constraints:
        kept = []
        for part in split_top_level(body):
            word = part.strip().split(None, 1)[0].upper() if part.strip() else ""
            if word in ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "SUPPLEMENTAL", "PERIOD", "SCOPE", "REF"):
                continue
            kept.append(re.sub(r"(?is)\bUSING\s+INDEX\b.*$", "", part))
        body = ",".join(kept)
    return head + body + ")"


def parse_one(sql: str) -> exp.Expression:
    """sqlglot's reading of one statement; raises when it cannot read it (a `Command`
    fallback, which sqlglot uses for syntax it does not understand, counts as unreadable)."""
    trees = [t for t in sqlglot.parse(sql, read="oracle") if t is not None]
    if len(trees) != 1:
        raise ParseError(f"expected one statement, sqlglot read {len(trees)}")
    tree = trees[0]
    if isinstance(tree, exp.Command):
        raise ParseError("sqlglot does not understand this statement (it kept it as a raw command)")
    return tree


def parse_error_line(e: Exception, base: int) -> int:
    errs = getattr(e, "errors", None) or []
    if errs and errs[0].get("line"):
        return base + int(errs[0]["line"]) - 1
    return base


def build_catalog(report: Report, root: Path) -> tuple[Catalog, dict[int, Path]]:
    cat = Catalog()
    steps = step_files(report, root, root / "sql" / "oracle" / "steps")
    pending_checks: list[tuple[str, int, str, str]] = []
    for _version, path in steps:
        rp = rel(root, path)
        try:
            items = parseora.split(read_text(path))
        except Exception as e:  # noqa: BLE001
            report.add(rp, 1, f"parseora cannot split the file: {first_line(e)}")
            continue
        for it in items:
            if it.get("kind") != "sql":
                continue
            text, line = it["text"], int(it.get("line") or 1)
            head = re.sub(r"\s+", " ", strip_leading_comments(text)).upper()
            sql = substitute(text)
            if re.match(r"CREATE (GLOBAL TEMPORARY |PRIVATE TEMPORARY )?TABLE ", head):
                catalog_create(report, cat, rp, line, sql)
            elif head.startswith("ALTER TABLE "):
                catalog_alter(report, cat, rp, line, sql)
            elif head.startswith("DROP TABLE "):
                try:
                    tree = parse_one(sql)
                    for t in tree.find_all(exp.Table):
                        if t.name and norm(t.name) not in cat.tables:
                            report.add(rp, line, f"DROP TABLE {t.name}: no such table in the earlier steps")
                        cat.tables.pop(norm(t.name), None)
                except SqlglotError as e:
                    report.add(rp, parse_error_line(e, line), f"sqlglot: {first_line(e)}")
            elif re.match(r"CREATE (UNIQUE |BITMAP )?INDEX ", head) or head.startswith("COMMENT ON ") \
                    or head.startswith("INSERT "):
                check_step_statement(report, cat, rp, line, sql, head)
    return cat, dict(steps)


def catalog_create(report: Report, cat: Catalog, rp: str, line: int, sql: str) -> None:
    attempts = [sql, simplify_create_table(sql, False), simplify_create_table(sql, True)]
    first_err: Exception | None = None
    for attempt in attempts:
        if attempt is None:
            continue
        try:
            tree = parse_one(attempt)
        except SqlglotError as e:
            first_err = first_err or e
            continue
        schema = tree.this
        if not isinstance(tree, exp.Create) or not isinstance(schema, exp.Schema):
            if isinstance(tree, exp.Create) and tree.expression is not None:
                report.add(rp, line, "CREATE TABLE ... AS SELECT: its columns are not known to this check")
                return
            continue
        table = norm(schema.this.name)
        cols = column_defs(schema)
        if not cols:
            report.add(rp, line, f"CREATE TABLE {table}: no column read")
            return
        dup = sorted({c for c in cols if cols.count(c) > 1})
        if dup:
            report.add(rp, line, f"CREATE TABLE {table}: column declared twice: {', '.join(dup)}")
        if table in cat.tables:
            report.add(rp, line, f"CREATE TABLE {table}: the table already exists in an earlier statement")
        cat.tables[table] = cols
        cat.where[table] = (rp, line)
        return
    report.add(rp, parse_error_line(first_err, line) if first_err else line,
               f"sqlglot cannot read this CREATE TABLE: {first_line(first_err) if first_err else 'no table'}")


def catalog_alter(report: Report, cat: Catalog, rp: str, line: int, sql: str) -> None:
    if re.match(r"(?is)\s*ALTER\s+TABLE\s+\S+\s+(MODIFY|MOVE|ENABLE|DISABLE|SHRINK|PARALLEL|NOPARALLEL|LOGGING|NOLOGGING|COMPRESS|NOCOMPRESS|ALLOCATE|DEALLOCATE|READ|ADD\s+CONSTRAINT|DROP\s+CONSTRAINT|RENAME\s+CONSTRAINT|DROP\s+PRIMARY|DROP\s+UNIQUE|ADD\s+SUPPLEMENTAL|DROP\s+SUPPLEMENTAL)\b", sql):
        return  # no column appears or disappears
    try:
        tree = parse_one(sql)
    except SqlglotError as e:
        report.add(rp, parse_error_line(e, line), f"sqlglot cannot read this ALTER TABLE: {first_line(e)}")
        return
    if not isinstance(tree, exp.Alter):
        return
    table = norm(tree.this.name)
    cols = cat.tables.get(table)
    if cols is None:
        report.add(rp, line, f"ALTER TABLE {table}: no such table in the earlier steps")
        return
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            added = [norm(action.name)]
        elif isinstance(action, exp.Schema):
            added = column_defs(action)
        elif isinstance(action, exp.RenameColumn):
            old, new = norm(action.this.name), norm(action.args["to"].name)
            if old not in cols:
                report.add(rp, line, f"ALTER TABLE {table} RENAME COLUMN: {table} has no column {old}")
            else:
                cols[cols.index(old)] = new
            continue
        elif isinstance(action, exp.AlterRename):
            cat.tables[norm(action.this.name)] = cat.tables.pop(table)
            cat.where[norm(action.this.name)] = cat.where.pop(table, (rp, line))
            continue
        elif isinstance(action, exp.Drop):
            for name in [norm(action.this.name)] if action.this is not None else []:
                if name in cols:
                    cols.remove(name)
                else:
                    report.add(rp, line, f"ALTER TABLE {table} DROP: {table} has no column {name}")
            continue
        elif isinstance(action, exp.Command) and re.match(r"(?is)\s*DROP\s*\(", action.sql()):
            for name in re.findall(r"[A-Za-z_][A-Za-z0-9_$#]*", action.sql()[action.sql().find("("):]):
                if norm(name) in cols:
                    cols.remove(norm(name))
            continue
        else:
            continue
        for c in added:
            if c in cols:
                report.add(rp, line, f"ALTER TABLE {table} ADD: {table} already has a column {c}")
            else:
                cols.append(c)


def check_step_statement(report: Report, cat: Catalog, rp: str, line: int, sql: str, head: str) -> None:
    """Indexes, comments and INSERTs of a step name existing tables and columns (parseora does
    not know the catalog, and Oracle would stop the install half-way)."""
    if head.startswith("COMMENT ON "):
        m = re.match(r"(?is)\s*COMMENT\s+ON\s+(TABLE|COLUMN)\s+([A-Za-z0-9_$#.\"]+)", sql)
        if not m:
            return
        parts = [norm(x.strip('"')) for x in m.group(2).split(".")]
        if m.group(1).upper() == "TABLE":
            if parts[-1] not in cat.tables:
                report.add(rp, line, f"COMMENT ON TABLE {parts[-1]}: no such table")
        else:
            if len(parts) < 2:
                report.add(rp, line, "COMMENT ON COLUMN needs table.column")
                return
            table, col = parts[-2], parts[-1]
            if table not in cat.tables:
                report.add(rp, line, f"COMMENT ON COLUMN {table}.{col}: no such table")
            elif col not in cat.tables[table]:
                report.add(rp, line, f"COMMENT ON COLUMN {table}.{col}: {table} has no column {col}")
        return
    try:
        tree = parse_one(sql)
    except SqlglotError as e:
        report.add(rp, parse_error_line(e, line), f"sqlglot: {first_line(e)}")
        return
    Resolver(report, cat, rp, line).statement(tree)


# ---------------------------------------------------------------------------------------- (c)

@dataclass
class Source:
    label: str
    columns: set[str] | None  # None: not known (accept any column)


Scope = list[dict[str, Source]]  # innermost first


class Resolver:
    """Checks that a statement names only tables of the catalog and only their columns."""

    def __init__(self, report: Report, cat: Catalog, path: str, base_line: int = 1) -> None:
        self.report, self.cat, self.path, self.base = report, cat, path, base_line

    def problem(self, node: exp.Expression | None, message: str) -> None:
        self.report.add(self.path, line_of(node, self.base), message)

    # statements --------------------------------------------------------------------------
    def statement(self, tree: exp.Expression) -> None:
        if isinstance(tree, (exp.Select, exp.SetOperation, exp.Subquery)):
            self.query(tree, [], {})
        elif isinstance(tree, exp.Insert):
            self.insert(tree, [], {})
        elif isinstance(tree, exp.Update):
            self.update(tree)
        elif isinstance(tree, exp.Delete):
            self.delete(tree)
        elif isinstance(tree, exp.Merge):
            self.merge(tree)
        elif isinstance(tree, exp.MultitableInserts):
            self.insert_all(tree)
        elif isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "INDEX":
            self.create_index(tree)
        else:
            self.problem(tree, f"not a query statement (SELECT, INSERT, UPDATE, DELETE or MERGE): {type(tree).__name__}")

    def table_source(self, table: exp.Table, ctes: dict[str, Source]) -> Source:
        name = norm(table.name)
        if not table.args.get("db") and name in ctes:
            return ctes[name]
        if name == "dual":
            return Source("dual", {"dummy"})
        if name in DICTIONARY:
            return Source(name, set(DICTIONARY[name]))
        cols = self.cat.columns(name)
        if cols is None:
            self.problem(table, f"table {name} is not declared in sql/oracle/steps")
            return Source(name, None)
        return Source(name, set(cols))

    def target(self, table: exp.Expression) -> tuple[str, Source]:
        if isinstance(table, exp.Schema):
            table = table.this
        if not isinstance(table, exp.Table):
            self.problem(table, "the statement's target is not a table")
            return "?", Source("?", None)
        src = self.table_source(table, {})
        return norm(table.alias_or_name), src

    def insert(self, tree: exp.Insert, outer: Scope, ctes: dict[str, Source]) -> None:
        ctes = self.with_clause(tree, outer, ctes)
        alias, src = self.target(tree.this)
        if isinstance(tree.this, exp.Schema):
            for ident in tree.this.expressions:
                name = norm(ident.name)
                if src.columns is not None and name not in src.columns:
                    self.problem(ident, f"column {name} does not exist in {src.label}")
        value = tree.expression
        if isinstance(value, (exp.Select, exp.SetOperation, exp.Subquery)):
            self.query(value, outer, ctes)
        else:
            self.walk(value, outer, ctes)
        self.returning(tree, {alias: src}, ctes)

    def insert_all(self, tree: exp.Expression) -> None:
        """INSERT ALL / INSERT FIRST: each INTO names its target's columns; the VALUES and WHEN
        conditions name the source query's columns."""
        source = tree.args.get("source")
        cols = self.query(source, [], {}) if source is not None else set()
        scope = [{"": Source("the INSERT source query", cols)}]
        for branch in tree.expressions:
            ins = branch.this if isinstance(branch, exp.ConditionalInsert) else branch
            if isinstance(branch, exp.ConditionalInsert):
                self.walk(branch.args.get("expression"), scope, {})
            if not isinstance(ins, exp.Insert):
                continue
            _alias, src = self.target(ins.this)
            if isinstance(ins.this, exp.Schema):
                for ident in ins.this.expressions:
                    if src.columns is not None and norm(ident.name) not in src.columns:
                        self.problem(ident, f"column {norm(ident.name)} does not exist in {src.label}")
            self.walk(ins.expression, scope, {})

    def update(self, tree: exp.Update) -> None:
        alias, src = self.target(tree.this)
        scope = [{alias: src}]
        for assign in tree.expressions:
            if isinstance(assign, exp.EQ):
                lhs = assign.this
                for col in ([lhs] if isinstance(lhs, exp.Column) else list(lhs.find_all(exp.Column))):
                    self.resolve(col, scope)
                self.walk(assign.expression, scope, {})
            else:
                self.walk(assign, scope, {})
        self.walk(tree.args.get("where"), scope, {})
        self.returning(tree, {alias: src}, {})

    def delete(self, tree: exp.Delete) -> None:
        alias, src = self.target(tree.this)
        scope = [{alias: src}]
        self.walk(tree.args.get("where"), scope, {})
        self.returning(tree, {alias: src}, {})

    def returning(self, tree: exp.Expression, sources: dict[str, Source], ctes: dict[str, Source]) -> None:
        ret = tree.args.get("returning")
        if ret is None:
            return
        for e in ret.expressions:
            self.walk(e, [sources], ctes)

    def merge(self, tree: exp.Merge) -> None:
        t_alias, t_src = self.target(tree.this)
        using = tree.args.get("using")
        if isinstance(using, exp.Table):
            s_alias, s_src = norm(using.alias_or_name), self.table_source(using, {})
        elif isinstance(using, exp.Subquery):
            cols = self.query(using.this, [], {})
            s_alias = norm(using.alias) if using.alias else ""
            s_src = Source(f"the MERGE source {s_alias or '(unnamed)'}", cols)
        else:
            s_alias, s_src = "", Source("the MERGE source", None)
            self.walk(using, [], {})
        both = [{t_alias: t_src, s_alias: s_src}]
        self.walk(tree.args.get("on"), both, {})
        whens = tree.args.get("whens")
        for when in (whens.expressions if whens is not None else []):
            self.walk(when.args.get("condition"), both, {})
            then = when.args.get("then")
            if isinstance(then, exp.Update):
                for assign in then.expressions:
                    if isinstance(assign, exp.EQ):
                        if isinstance(assign.this, exp.Column):
                            self.resolve(assign.this, [{t_alias: t_src}], merge_target=t_alias)
                        self.walk(assign.expression, both, {})
                    else:
                        self.walk(assign, both, {})
                for key in ("where", "condition"):
                    self.walk(then.args.get(key), both, {})
                delete = then.args.get("delete") or then.args.get("delete_where")
                self.walk(delete, both, {})
            elif isinstance(then, exp.Insert):
                cols = then.this
                for col in (cols.expressions if isinstance(cols, exp.Tuple) else [cols] if cols is not None else []):
                    if isinstance(col, exp.Column):
                        self.resolve(col, [{t_alias: t_src}], merge_target=t_alias)
                    elif isinstance(col, exp.Identifier):
                        if t_src.columns is not None and norm(col.name) not in t_src.columns:
                            self.problem(col, f"column {norm(col.name)} does not exist in {t_src.label}")
                self.walk(then.expression, both, {})
                self.walk(then.args.get("where"), both, {})
            else:
                self.walk(then, both, {})

    def create_index(self, tree: exp.Create) -> None:
        index = tree.this
        table = index.args.get("table") if isinstance(index, exp.Index) else None
        if not isinstance(table, exp.Table):
            return
        src = self.table_source(table, {})
        params = index.args.get("params")
        cols = params.args.get("columns") if params is not None else None
        self.walk(cols, [{norm(table.name): src}], {})

    # queries -----------------------------------------------------------------------------
    def with_clause(self, node: exp.Expression, outer: Scope, ctes: dict[str, Source]) -> dict[str, Source]:
        w = node.args.get("with") or node.args.get("with_")
        if not w:
            return ctes
        local = dict(ctes)
        for cte in w.expressions:
            cols = self.query(cte.this, outer, local)
            alias = cte.args.get("alias")
            names = [norm(c.name) for c in alias.columns] if alias is not None and alias.columns else None
            local[norm(cte.alias)] = Source(f"the WITH query {norm(cte.alias)}", set(names) if names else cols)
        return local

    def query(self, node: exp.Expression, outer: Scope, ctes: dict[str, Source]) -> set[str] | None:
        """Checks a query; returns the names of its output columns (None: not known)."""
        if isinstance(node, exp.Subquery):
            return self.query(node.this, outer, ctes)
        if isinstance(node, exp.SetOperation):
            ctes = self.with_clause(node, outer, ctes)
            left = self.query(node.left, outer, ctes)
            self.query(node.right, outer, ctes)
            order = node.args.get("order")
            if order is not None:
                self.walk(order, [{"": Source("the query", left)}], ctes)
            return left
        if not isinstance(node, exp.Select):
            self.walk(node, outer, ctes)
            return None
        ctes = self.with_clause(node, outer, ctes)
        sources: dict[str, Source] = {}
        from_ = node.args.get("from_") or node.args.get("from")
        items = []
        if from_ is not None:
            items.append(from_.this)
            items += list(from_.expressions or [])
        joins = node.args.get("joins") or []
        items += [j.this for j in joins]
        using_names: set[str] = set()
        for j in joins:
            using_names |= {norm(u.name) for u in (j.args.get("using") or [])}
        for item in items:
            self.add_source(item, sources, outer, ctes)
        scope = [sources] + outer
        for j in joins:
            self.walk(j.args.get("on"), scope, ctes)
        aliases = {norm(e.alias) for e in node.expressions if isinstance(e, exp.Alias)}
        aliases |= {norm(e.name) for e in node.expressions if isinstance(e, exp.Column)}
        for key, value in node.args.items():
            if key in ("with", "with_", "from", "from_", "joins"):
                continue
            self.walk(value, scope, ctes, aliases if key == "order" else frozenset(),
                      ambiguous_ok=using_names)
        if node.args.get("locks") and node.args.get("limit") is not None:
            self.problem(node.args.get("limit"),
                         "FETCH FIRST / OFFSET cannot be combined with FOR UPDATE on Oracle (ORA-02014): "
                         "lock with FOR UPDATE SKIP LOCKED and fetch only the rows wanted")
        if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
               for e in node.expressions):
            return None
        return {norm(n) for n in node.named_selects}

    def add_source(self, item: exp.Expression, sources: dict[str, Source], outer: Scope,
                   ctes: dict[str, Source]) -> None:
        if isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier):
            src = self.table_source(item, ctes)
            alias = norm(item.alias_or_name)
        elif isinstance(item, exp.Subquery):
            cols = self.query(item.this, outer, ctes)
            alias = norm(item.alias) if item.alias else ""
            ta = item.args.get("alias")
            if ta is not None and ta.columns:
                cols = {norm(c.name) for c in ta.columns}
            src = Source(f"the subquery {alias or '(unnamed)'}", cols)
        else:
            # TABLE(...), LATERAL, JSON_TABLE ...: columns not known
            self.walk(item, [sources] + outer, ctes)
            alias = norm(item.alias) if getattr(item, "alias", "") else ""
            src = Source(alias or "a table expression", None)
        if alias in sources and alias:
            self.problem(item, f"{alias} names two tables of the same FROM clause")
        sources[alias] = src

    def walk(self, node, scope: Scope, ctes: dict[str, Source], aliases=frozenset(), ambiguous_ok=frozenset()) -> None:
        if node is None:
            return
        if isinstance(node, list):
            for n in node:
                self.walk(n, scope, ctes, aliases, ambiguous_ok)
            return
        if not isinstance(node, exp.Expression):
            return
        if isinstance(node, (exp.Select, exp.SetOperation)):
            self.query(node, scope, ctes)
            return
        if isinstance(node, exp.Subquery):
            self.query(node.this, scope, ctes)
            return
        if isinstance(node, exp.Column):
            self.resolve(node, scope, aliases, ambiguous_ok)
            return
        if isinstance(node, (exp.EQ, exp.NEQ)):
            for side in (node.this, node.expression):
                if isinstance(side, exp.Literal) and side.is_string and side.this == "":
                    self.problem(node, "comparison with '' is never true on Oracle, where '' is NULL: use IS NULL")
        for child in node.args.values():
            self.walk(child, scope, ctes, aliases, ambiguous_ok)

    def resolve(self, col: exp.Column, scope: Scope, aliases=frozenset(), ambiguous_ok=frozenset(),
                merge_target: str | None = None) -> None:
        star = isinstance(col.this, exp.Star)
        name = "*" if star else norm(col.name)
        table = norm(col.table) if col.table else ""
        if name in SEQUENCE_PSEUDO and table:
            return
        if table:
            for level in scope:
                if table in level:
                    src = level[table]
                    if not star and src.columns is not None and name not in src.columns:
                        self.problem(col, f"column {name} does not exist in {src.label}")
                    return
            if merge_target is not None:
                self.problem(col, f"{table}.{name}: {table} is not the MERGE target")
            else:
                self.problem(col, f"{table}.{name}: no table or alias {table} here")
            return
        if star:
            return
        for depth, level in enumerate(scope):
            known = [s for s in level.values() if s.columns is not None and name in s.columns]
            unknown = [s for s in level.values() if s.columns is None]
            if known or unknown:
                if depth == 0 and len(known) > 1 and not unknown and name not in ambiguous_ok \
                        and merge_target is None and name not in aliases:
                    self.problem(col, f"column {name} is ambiguous here: it is in "
                                      f"{', '.join(s.label for s in known)} (ORA-00918)")
                return
        if name in aliases or name in PSEUDO_COLUMNS:
            return
        labels = sorted({s.label for level in scope for s in level.values()})
        where = f"the tables it may come from ({', '.join(labels)})" if labels else "any table (none is in scope)"
        self.problem(col, f"column {name} exists in none of {where}")


def check_queries(report: Report, root: Path, cat: Catalog) -> None:
    qdir = root / "sql" / "oracle" / "queries"
    if not qdir.is_dir():
        return
    for path in sorted(qdir.glob("*.sql")):
        rp = rel(root, path)
        text = read_text(path)
        body = strip_leading_comments(text).rstrip()
        if not body:
            report.add(rp, 1, "empty query file")
            continue
        first_word = (re.match(r"[A-Za-z]+", body) or re.match("", "")).group(0).upper()
        if first_word in ("BEGIN", "DECLARE"):
            report.add(rp, text.count("\n", 0, text.find(body[:20])) + 1,
                       "a PL/SQL block, which sqlglot cannot check: put the PL/SQL in a package under plsql/ "
                       "and run `CALL package.procedure(:a, :b)`")
            continue
        if first_word == "CALL":
            if not re.fullmatch(r"(?is)CALL\s+[A-Za-z_][\w$#]*(\.[A-Za-z_][\w$#]*){0,2}\s*\(.*\)", body):
                report.add(rp, 1, "expected CALL name(arguments)")
            continue  # a procedure call: nothing for the catalog to check
        if body.endswith(";"):
            report.add(rp, text.rstrip().count("\n") + 1,
                       "a query file holds one statement without a trailing ';' (Oracle rejects it: ORA-00933/ORA-00911)")
        if re.search(r"(?is)\bRETURNING\b[^;]*?,[^;]*?\bINTO\b", body):
            report.add(rp, 1, "multi-column RETURNING ... INTO: sqlglot cannot check it (and the server reads one "
                              "returned value): return one column, or read the others with a SELECT")
            continue
        try:
            trees = [t for t in sqlglot.parse(text, read="oracle") if t is not None]
        except SqlglotError as e:
            report.add(rp, parse_error_line(e, 1), f"sqlglot cannot parse the statement: {first_line(e)}")
            continue
        except Exception as e:  # noqa: BLE001 - a sqlglot bug must not stop the check
            report.add(rp, 1, f"sqlglot failed on the statement: {type(e).__name__}: {first_line(e)}")
            continue
        if len(trees) != 1:
            report.add(rp, 1, f"a query file holds exactly one statement, this one has {len(trees)}")
            continue
        tree = trees[0]
        if isinstance(tree, exp.Command):
            report.add(rp, 1, "sqlglot cannot parse the statement (it kept it as a raw command)")
            continue
        try:
            Resolver(report, cat, rp).statement(tree)
        except Exception as e:  # noqa: BLE001
            report.add(rp, 1, f"cannot analyse the statement: {type(e).__name__}: {first_line(e)}")


# ---------------------------------------------------------------------------------------- (d)

def sqlite_statements(text: str) -> list[tuple[int, str]]:
    """The statements of an SQLite script, each with its first line, as SQLite splits them."""
    out, start = [], 0
    for m in re.finditer(";", text):
        chunk = text[start:m.end()]
        if sqlite3.complete_statement(chunk):
            out.append((start, chunk))
            start = m.end()
    if strip_leading_comments(text[start:]).strip():
        out.append((start, text[start:]))
    result = []
    for offset, chunk in out:
        body = strip_leading_comments(chunk)
        if not body.strip():
            continue
        pos = offset + chunk.find(body[:40]) if body[:40] in chunk else offset
        result.append((text.count("\n", 0, pos) + 1, body))
    return result


def check_sqlite(report: Report, root: Path, cat: Catalog, oracle_steps: dict[int, Path]) -> dict[int, Path]:
    steps = dict(step_files(report, root, root / "sql" / "sqlite" / "steps"))
    for v in sorted(set(steps) | set(oracle_steps)):
        if v not in steps:
            report.add(rel(root, oracle_steps[v]), 1, f"step {v} has no sql/sqlite/steps counterpart")
        elif v not in oracle_steps:
            report.add(rel(root, steps[v]), 1, f"step {v} has no sql/oracle/steps counterpart")
        elif oracle_steps[v].name != steps[v].name:
            report.add(rel(root, oracle_steps[v]), 1, f"step {v} is named {steps[v].name} in sql/sqlite/steps")
    db = sqlite3.connect(":memory:")
    try:
        for _v, path in sorted(steps.items()):
            try:
                db.executescript(read_text(path))
            except sqlite3.Error as e:
                report.add(rel(root, path), 1, f"SQLite cannot run the step: {e}")
                return steps
        lite: dict[str, list[str]] = {}
        for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"):
            lite[norm(name)] = [norm(r[1]) for r in db.execute(f'PRAGMA table_info("{name}")')]
    finally:
        db.close()
    last = rel(root, max(oracle_steps.items())[1]) if oracle_steps else "sql/oracle/steps"
    lite_where: dict[str, str] = {}
    for _v, path in sorted(steps.items()):
        text = read_text(path)
        for m in re.finditer(r'(?im)^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([A-Za-z0-9_]+)', text):
            lite_where[norm(m.group(1))] = f"{rel(root, path)}:{text.count(chr(10), 0, m.start()) + 1}"
    for t in sorted(set(lite) - set(cat.tables)):
        report.add(last, 1, f"table {t} of the embedded store ({lite_where.get(t, 'sql/sqlite/steps')}) "
                            "is missing from the Oracle schema")
    for t in sorted(set(cat.tables) - set(lite)):
        report.add(*cat.where.get(t, (last, 1)), f"table {t} of the Oracle schema is missing from the embedded store")
    for t in sorted(set(lite) & set(cat.tables)):
        o, s = set(cat.tables[t]), set(lite[t])
        at = cat.where.get(t, (last, 1))
        for c in sorted(s - o):
            report.add(*at, f"column {t}.{c} of the embedded store ({lite_where.get(t, 'sql/sqlite/steps')}) "
                            "is missing from the Oracle schema")
        for c in sorted(o - s):
            report.add(*at, f"column {t}.{c} of the Oracle schema is missing from the embedded store")
    return steps


# ---------------------------------------------------------------------------------------- (e)

def bind_names(text: str, oracle: bool) -> set[str]:
    """Named binds (`:name`; also `@name` and `$name` in SQLite) outside literals and comments.
    On Oracle, the out-binds of `RETURNING ... INTO :x` are left out (SQLite has none)."""
    cleaned = re.sub(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|/\*.*?\*/", " ", text, flags=re.S)
    if oracle:
        cleaned = re.sub(r"(?is)\bRETURNING\b.*?\bINTO\b(\s*:[A-Za-z_][A-Za-z0-9_$#]*\s*,?)+", " ", cleaned)
    pat = r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_$#]*)" if oracle else r"(?<![:\w])[:@$]([A-Za-z_][A-Za-z0-9_]*)"
    return {norm(n) for n in re.findall(pat, cleaned)}


def check_overrides(report: Report, root: Path) -> None:
    sdir, odir = root / "sql" / "sqlite" / "queries", root / "sql" / "oracle" / "queries"
    if not sdir.is_dir():
        return
    for path in sorted(sdir.glob("*.sql")):
        rp = rel(root, path)
        other = odir / path.name
        if not other.is_file():
            report.add(rp, 1, f"overrides no statement: sql/oracle/queries/{path.name} does not exist")
            continue
        s, o = bind_names(read_text(path), False), bind_names(read_text(other), True)
        if s != o:
            parts = []
            if s - o:
                parts.append("only here: " + ", ".join(f":{n}" for n in sorted(s - o)))
            if o - s:
                parts.append(f"only in sql/oracle/queries/{path.name}: " + ", ".join(f":{n}" for n in sorted(o - s)))
            report.add(rp, 1, "bind names differ from the Oracle statement (" + "; ".join(parts) + ")")


# ---------------------------------------------------------------------------------------- (f)

INSERT_TARGET = re.compile(r'(?is)^\s*INSERT\s+INTO\s+"?([A-Za-z0-9_$#]+)"?')


def reference_inserts_oracle(path: Path) -> list[tuple[int, str]]:
    out = []
    for it in parseora.split(read_text(path)):
        if it.get("kind") == "sql":
            m = INSERT_TARGET.match(it["text"])
            if m and norm(m.group(1)) != "es_schema_version":
                out.append((int(it.get("line") or 1), collapse(it["text"])))
    return out


def reference_inserts_sqlite(path: Path) -> list[tuple[int, str]]:
    out = []
    for line, stmt in sqlite_statements(read_text(path)):
        m = INSERT_TARGET.match(stmt)
        if m and norm(m.group(1)) != "es_schema_version":
            out.append((line, collapse(stmt)))
    return out


def check_reference_data(report: Report, root: Path, oracle_steps: dict[int, Path], sqlite_steps: dict[int, Path]) -> None:
    for v in sorted(set(oracle_steps) & set(sqlite_steps)):
        op, sp = oracle_steps[v], sqlite_steps[v]
        try:
            o, s = reference_inserts_oracle(op), reference_inserts_sqlite(sp)
        except Exception as e:  # noqa: BLE001
            report.add(rel(root, op), 1, f"cannot read the INSERTs: {first_line(e)}")
            continue
        ro, rs = rel(root, op), rel(root, sp)
        sm = difflib.SequenceMatcher(a=[t for _, t in s], b=[t for _, t in o], autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal":
                continue
            if tag == "replace" and i2 - i1 == j2 - j1:
                for k in range(i2 - i1):
                    (ol, ot), (sl, st) = o[j1 + k], s[i1 + k]
                    report.add(ro, ol, f"reference INSERT differs from {rs}:{sl}: {first_difference(ot, st)}")
                continue
            at = o[j1][0] if j1 < len(o) else (o[-1][0] if o else 1)
            for k in range(i1, i2):
                report.add(ro, at, f"reference INSERT of {rs}:{s[k][0]} is missing here (or out of order): "
                                   f"{s[k][1][:90]}")
            for k in range(j1, j2):
                report.add(ro, o[k][0], f"reference INSERT not in {rs} (or out of order): {o[k][1][:90]}")


def first_difference(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    lo = max(0, n - 30)
    return f"here ...{a[lo:n + 30]}... there ...{b[lo:n + 30]}..."


# ---------------------------------------------------------------------------------------- (g)
#
# The SQL inside PL/SQL: the packages and samples under plsql/ and the views of
# sql/oracle/views/. parseora gives each unit's syntax tree (without positions) and its tokens
# (with positions); the tree's leaves are the unit's tokens without whitespace and comments, in
# order, so each tree node maps to a span of the text. Every embedded SQL statement (SELECT
# INTO, INSERT, UPDATE, DELETE, MERGE, and the queries of cursors, OPEN FOR and cursor FOR
# loops) that names a table of esmail's schema (es_*) or one the file creates itself is cut out
# of the text, its PL/SQL parts turned into what sqlglot reads as SQL (INTO targets dropped,
# PL/SQL variables, parameters, record fields, :NEW/:OLD and $$ inquiries made binds), and
# checked like a query file: tables of the catalog and, per table, only their columns.
#
# A name is taken as a PL/SQL variable when a unit under plsql/ declares it (a parameter, a
# variable or constant, a cursor, a loop index or record, a package) and, unqualified, it is
# not a column of a table of the statement (Oracle reads a column first), or, qualified
# (`rec.field`, `pkg.name`), its qualifier is not a table or alias of the statement.

PLSQL_DML_NODES = {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"}
TREE_LINE = re.compile(r'^( *)([A-Za-z_][A-Za-z0-9_]*)(?: "(.*)")?$')
TRIVIA_TOKENS = {"Whitespace", "LineComment", "BlockComment", "Comment", "Newline"}


@dataclass
class TNode:
    kind: str
    leaf: str | None
    children: list["TNode"] = field(default_factory=list)
    parent: "TNode | None" = None
    first: int = -1  # index of the first leaf (token) below, -1 when none
    last: int = -1

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def leaves(self) -> list["TNode"]:
        return [n for n in self.walk() if n.leaf is not None]


def parse_tree(text: str) -> TNode | None:
    """parseora's indented tree: `Kind` for inner nodes, `Kind "token"` for leaves."""
    root: TNode | None = None
    stack: list[tuple[int, TNode]] = []
    leaf_no = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        m = TREE_LINE.match(line)
        if not m:
            return None
        depth = len(m.group(1)) // 2
        node = TNode(m.group(2), m.group(3))
        if node.leaf is not None:
            node.first = node.last = leaf_no
            leaf_no += 1
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            node.parent = stack[-1][1]
            stack[-1][1].children.append(node)
        elif root is None:
            root = node
        else:
            return None
        stack.append((depth, node))
    if root is None:
        return None

    def span(n: TNode) -> None:
        for c in n.children:
            span(c)
            if c.first >= 0:
                n.first = c.first if n.first < 0 else n.first
                n.last = c.last
    span(root)
    return root


@dataclass
class Tok:
    text: str
    line: int  # within the unit, from 1
    start: int  # character offsets within the unit's text
    end: int


def unit_tokens(text: str) -> list[Tok]:
    out, pos = [], 0
    for t in parseora.tokenize(text):
        s = t["text"]
        if t["kind"] not in TRIVIA_TOKENS:
            out.append(Tok(s, int(t["line"]), pos, pos + len(s)))
        pos += len(s)
    return out


def ident_parts(n: TNode) -> list[str]:
    """The dotted name of a NameRef / BindRef (its identifiers and binds, without the dots)."""
    return [c.leaf.strip('"') for c in n.children if c.leaf is not None and c.kind in ("Ident", "Bind")]


def declared_names(root: TNode) -> set[str]:
    """Names a PL/SQL unit declares: parameters, variables, constants, cursors, exceptions,
    types, loop indexes and records, subprograms, and the unit itself."""
    out: set[str] = set()
    for n in root.walk():
        idents = [c for c in n.children if c.kind == "Ident" and c.leaf is not None]
        if n.kind in ("Param", "VarDecl", "ExceptionDecl", "ConstantDecl") and idents:
            out.add(idents[0].leaf.lower())
        elif n.kind in ("CursorDecl", "TypeDecl", "SubtypeDecl", "SubprogramDecl", "ForLoop",
                        "ProcedureDecl", "FunctionDecl") and len(idents) >= 2:
            out.add(idents[1].leaf.lower())
        elif n.kind in ("CreatePackage", "CreatePackageBody", "CreateProcedure", "CreateFunction",
                        "CreateTrigger"):
            for c in n.children:
                if c.kind == "ObjectName":
                    parts = [x.leaf for x in c.walk() if x.kind == "Ident" and x.leaf]
                    if parts:
                        out.add(parts[-1].lower())
    return out


class PlsqlResolver(Resolver):
    """A Resolver for SQL inside PL/SQL: a table that is not esmail's (a data dictionary view,
    an application's table not created in the same file) has columns that are not known."""

    def table_source(self, table: exp.Table, ctes: dict[str, Source]) -> Source:
        name = norm(table.name)
        if name.startswith("es_") or (not table.args.get("db") and (
                name in self.cat.tables or name in ctes or name == "dual" or name in DICTIONARY)):
            return super().table_source(table, ctes)
        return Source(name, None)


class PlsqlUnit:
    """One PL/SQL unit (package, package body, trigger, procedure, anonymous block)."""

    def __init__(self, report: Report, cat: Catalog, rp: str, item: dict, declared: set[str]) -> None:
        self.report, self.cat, self.rp = report, cat, rp
        self.text: str = item["text"]
        self.line = int(item.get("line") or 1)
        self.declared = declared
        self.toks = unit_tokens(self.text)
        self.tree = parse_tree(item.get("tree") or "")

    def check(self) -> None:
        if self.tree is None:
            self.report.add(self.rp, self.line, "cannot read parseora's syntax tree of this unit: its SQL is not checked")
            return
        leaves = self.tree.leaves()
        if len(leaves) != len(self.toks):
            self.report.add(self.rp, self.line,
                            f"parseora's tree has {len(leaves)} tokens, the text {len(self.toks)}: "
                            "the SQL of this unit is not checked")
            return
        self.visit(self.tree)

    def visit(self, n: TNode) -> None:
        if n.kind in PLSQL_DML_NODES or (n.kind == "Query" and n.first >= 0):
            self.statement(n)
            return
        for c in n.children:
            self.visit(c)

    def tables_of(self, n: TNode) -> tuple[set[str], set[str]]:
        """(table names, table names and aliases) a statement names."""
        names, scope = set(), set()
        for t in n.walk():
            if t.kind != "TableRef":
                continue
            for c in t.children:
                if c.kind == "NameRef":
                    parts = ident_parts(c)
                    if parts:
                        names.add(parts[-1].lower())
                        scope.add(parts[-1].lower())
                elif c.kind == "Alias":
                    a = [x.leaf for x in c.walk() if x.kind == "Ident" and x.leaf]
                    if a:
                        scope.add(a[-1].lower())
        # MERGE INTO t alias / aliases written directly under the statement node
        for c in n.children:
            if c.kind == "Alias":
                a = [x.leaf for x in c.walk() if x.kind == "Ident" and x.leaf]
                if a:
                    scope.add(a[-1].lower())
        return names, scope

    def statement(self, n: TNode) -> None:
        tables, scope = self.tables_of(n)
        ours = {t for t in tables if t.startswith("es_") or t in self.cat.tables}
        if not ours:
            return
        columns: set[str] = set()
        for t in tables:
            columns |= set(self.cat.tables.get(t, []))
        edits: list[tuple[int, int, str]] = []  # (first leaf, last leaf, replacement)

        def bind(node: TNode) -> None:
            parts = [p for p in (ident_parts(node) or [x.leaf for x in node.leaves()]) if p]
            name = "_".join(re.sub(r"[^A-Za-z0-9_]", "", p) for p in parts).lower() or "plsql"
            edits.append((node.first, node.last, ":" + name))

        def walk(m: TNode, in_table_ref: bool) -> None:
            if m.first < 0:
                return
            if m.kind == "IntoClause":
                edits.append((m.first, m.last, ""))
                return
            if m.kind == "ReturningClause":
                into = [c for c in m.children if c.kind == "Ident" and (c.leaf or "").upper() == "INTO"]
                if into:
                    edits.append((into[0].first, m.last, ""))
                    for c in m.children:
                        if c.first >= 0 and c.last < into[0].first:
                            walk(c, False)
                    return
            if m.kind == "BindRef":
                bind(m)
                return
            if m.kind == "Inquiry":
                bind(m)
                return
            if m.kind == "NameRef" and not in_table_ref:
                parts = [p.lower() for p in ident_parts(m)]
                is_callee = m.parent is not None and m.parent.kind == "Call" and m.parent.children \
                    and m.parent.children[0] is m
                if parts and not is_callee:
                    if len(parts) == 1 and parts[0] in self.declared and parts[0] not in columns:
                        bind(m)
                        return
                    if len(parts) >= 2 and parts[0] not in scope and parts[0] in self.declared:
                        bind(m)
                        return
                return
            for c in m.children:
                walk(c, m.kind == "TableRef")

        walk(n, False)
        base = self.toks[n.first]
        start = base.start - len(self.text[:base.start].rsplit("\n", 1)[-1])
        pieces, pos = [], start
        # the statement's first line is padded with spaces, so that columns stay where they are
        pieces.append(" " * (base.start - start))
        pos = base.start
        for first, last, repl in sorted(edits):
            s, e = self.toks[first].start, self.toks[last].end
            if s < pos:
                continue  # inside an edit already made
            pieces.append(self.text[pos:s])
            removed = self.text[s:e]
            pieces.append(repl + "\n" * removed.count("\n"))
            pos = e
        pieces.append(self.text[pos:self.toks[n.last].end])
        sql = "".join(pieces)
        file_line = self.line + base.line - 1
        try:
            trees = [t for t in sqlglot.parse(sql, read="oracle") if t is not None]
        except SqlglotError as e:
            self.report.add(self.rp, parse_error_line(e, file_line),
                            f"sqlglot cannot parse this SQL statement inside PL/SQL: {first_line(e)}")
            return
        except Exception as e:  # noqa: BLE001
            self.report.add(self.rp, file_line, f"sqlglot failed on this SQL statement: {type(e).__name__}: {first_line(e)}")
            return
        if len(trees) != 1 or isinstance(trees[0], exp.Command):
            self.report.add(self.rp, file_line, "sqlglot cannot parse this SQL statement inside PL/SQL")
            return
        self.report.statements += 1
        try:
            PlsqlResolver(self.report, self.cat, self.rp, file_line).statement(trees[0])
        except Exception as e:  # noqa: BLE001
            self.report.add(self.rp, file_line, f"cannot analyse the statement: {type(e).__name__}: {first_line(e)}")


def plsql_files(root: Path) -> list[Path]:
    files: list[Path] = []
    views = root / "sql" / "oracle" / "views"
    if views.is_dir():
        files += sorted(p for p in views.glob("*.sql") if p.is_file())
    plsql = root / "plsql"
    if plsql.is_dir():
        files += sorted(p for p in plsql.rglob("*") if p.is_file() and p.suffix.lower() in (".sql", ".pks", ".pkb"))
    return files


def check_plain_sql(report: Report, cat: Catalog, rp: str, line: int, text: str) -> None:
    """A plain SQL statement of a PL/SQL directory file: CREATE TABLE and CREATE VIEW add to the
    file's catalog (a view's query is checked); queries and DML naming our tables are checked."""
    head = re.sub(r"\s+", " ", strip_leading_comments(text)).upper()
    sql = substitute(text)
    if re.match(r"CREATE (GLOBAL TEMPORARY |PRIVATE TEMPORARY )?TABLE ", head):
        catalog_create(report, cat, rp, line, sql)
        return
    m = re.match(r"CREATE (OR REPLACE )?((NO )?FORCE )?(EDITIONABLE |NONEDITIONABLE )?VIEW ", head)
    if not (m or re.match(r"(SELECT|WITH|INSERT|UPDATE|DELETE|MERGE)\b", head)):
        return
    try:
        tree = parse_one(sql)
    except SqlglotError as e:
        report.add(rp, parse_error_line(e, line), f"sqlglot: {first_line(e)}")
        return
    names = {norm(t.name) for t in tree.find_all(exp.Table)}
    if not m and not any(n.startswith("es_") or n in cat.tables for n in names):
        return
    res = PlsqlResolver(report, cat, rp, line)
    if m:
        if not isinstance(tree, exp.Create) or tree.expression is None:
            report.add(rp, line, "cannot read this CREATE VIEW")
            return
        cols = res.query(tree.expression, [], {})
        target = tree.this
        view = norm(target.this.name if isinstance(target, exp.Schema) else target.name)
        if isinstance(target, exp.Schema) and target.expressions:
            cols = {norm(c.name) for c in target.expressions}
        if cols is None:
            report.add(rp, line, f"view {view}: name its columns (SELECT * hides them from this check)")
            cols = set()
        cat.tables[view] = sorted(cols)
        cat.where[view] = (rp, line)
    else:
        res.statement(tree)
    report.statements += 1


def check_plsql(report: Report, root: Path, cat: Catalog) -> None:
    files = plsql_files(root)
    parsed: list[tuple[Path, list[dict]]] = []
    declared: set[str] = set()
    for p in files:
        try:
            items = parseora.parse(read_text(p), tree=True)
        except Exception as e:  # noqa: BLE001
            report.add(rel(root, p), 1, f"parseora cannot parse the file: {first_line(e)}")
            continue
        parsed.append((p, items))
        for it in items:
            if it.get("kind") == "plsql":
                t = parse_tree(it.get("tree") or "")
                if t is not None:
                    declared |= declared_names(t)
    views = root / "sql" / "oracle" / "views"
    for p, items in parsed:
        rp = rel(root, p)
        # the views of sql/oracle/views are part of the schema: every file may read them
        local = cat if p.parent == views else Catalog()
        if local is not cat:
            local.tables = dict(cat.tables)
            local.where = dict(cat.where)
        for it in items:
            line = int(it.get("line") or 1)
            if it.get("kind") == "sql":
                check_plain_sql(report, local, rp, line, it["text"])
            elif it.get("kind") == "plsql":
                PlsqlUnit(report, local, rp, it, declared).check()


def plsql_words(text: str) -> str:
    """A unit's text without comments and with one space between words (string literals kept),
    for comparing a package specification's declarations with its body's."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            out.append(" ")
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif text[i] == "'":
            j = i + 1
            while j < n:
                if text[j] == "'" and j + 1 < n and text[j + 1] == "'":
                    j += 2
                elif text[j] == "'":
                    break
                else:
                    j += 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return re.sub(r"\s+", " ", "".join(out)).strip()


SUBPROGRAM_DECL = re.compile(r"(?i)\b((?:PROCEDURE|FUNCTION) [A-Za-z_][\w$#]*(?: ?\((?:[^;']|'(?:[^']|'')*')*?\))?"
                             r"(?: RETURN [\w.%$# ]+?)?) ?;")


def check_package_pairs(report: Report, root: Path) -> None:
    """Each subprogram a package specification (plsql/NAME.pks) declares is defined in its body
    (plsql/NAME.pkb) with the same header, parameter names, modes, types and defaults included:
    Oracle compiles a body that differs with PLS-00323 / PLS-00593, which parseora cannot see."""
    plsql = root / "plsql"
    if not plsql.is_dir():
        return
    for spec in sorted(plsql.glob("*.pks")):
        body = spec.with_suffix(".pkb")
        rp = rel(root, spec)
        if not body.is_file():
            report.add(rp, 1, f"no package body {body.name} next to the specification")
            continue
        st, bt = plsql_words(read_text(spec)), plsql_words(read_text(body))
        for m in SUBPROGRAM_DECL.finditer(st):
            decl = m.group(1)
            if not re.search(re.escape(decl) + r" ?(?:IS|AS)\b", bt, re.I):
                name = decl.split(" ", 2)[1]
                raw = read_text(spec)
                at = re.search(r"(?im)^\s*(?:PROCEDURE|FUNCTION)\s+" + re.escape(name) + r"\b", raw)
                line = raw.count("\n", 0, at.start()) + 1 if at else 1
                report.add(rp, line, f"{decl[:120]}: {body.name} defines no subprogram with this exact header "
                                     "(Oracle: PLS-00323 or PLS-00593)")


# ---------------------------------------------------------------------------------------- main

def run(root: Path) -> Report:
    report = Report()
    parseora_check(report, root)
    cat, oracle_steps = build_catalog(report, root)
    check_queries(report, root, cat)
    sqlite_steps = check_sqlite(report, root, cat, oracle_steps)
    check_overrides(report, root)
    check_reference_data(report, root, oracle_steps, sqlite_steps)
    check_plsql(report, root, cat)
    check_package_pairs(report, root)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2],
                    help="repository root (default: the one holding this script)")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    if not (root / "sql").is_dir():
        print(f"{root}: no sql/ directory here", file=sys.stderr)
        return 2
    report = run(root)
    seen = set()
    for p in report.problems:
        s = str(p)
        if s not in seen:
            seen.add(s)
            print(s)
    if report.problems:
        print(f"oracle static checks: {report.files_parsed} files parsed, {report.statements} statements checked, "
              f"{len(seen)} problems", file=sys.stderr)
        return 1
    print(f"oracle static checks: {report.files_parsed} files parsed, {report.statements} statements checked, 0 problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
