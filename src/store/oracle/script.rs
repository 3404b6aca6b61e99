//! Splits an Oracle install/upgrade script into the statements SQL*Plus would run.
//!
//! The step files under `sql/oracle/steps/` are written for SQL*Plus (a DBA may run them by
//! hand), so they are read here with SQL*Plus's rules:
//!
//! * substitution variables `&name` and `&&name` (names compared case-insensitively; a `.`
//!   right after the name ends it and is dropped, as SQL*Plus's `SET CONCAT .` does) are
//!   replaced in code and in quoted text, not in comments; `DEFINE name = value` sets one,
//!   `UNDEFINE name` removes it, `SET DEFINE OFF|ON` turns substitution off and on;
//! * SQL*Plus command lines (PROMPT, SET, WHENEVER, SPOOL, COLUMN, ACCEPT, REM ...) are
//!   skipped; running another script (`@file`, `@@file`, `START`) is an error in a step file;
//! * `--` comment lines, `/* ... */` comments and blank lines between statements are skipped;
//! * an ordinary SQL statement ends at a `;` that is the last thing on a line outside quotes
//!   and comments (the `;` is dropped), or at a line holding only `/`;
//! * a PL/SQL unit (`CREATE [OR REPLACE] [EDITIONABLE|NONEDITIONABLE] PACKAGE [BODY] |
//!   PROCEDURE | FUNCTION | TRIGGER | TYPE [BODY] | LIBRARY`, `DECLARE`, `BEGIN`) ends at a
//!   line holding only `/`; its inner `;`s and final `END;` are kept;
//! * a `/` line after a statement that already ended is ignored (SQL*Plus would run the
//!   buffer again; we do not);
//! * a blank line inside an ordinary SQL statement is an error unless `SET SQLBLANKLINES ON`
//!   came first: SQL*Plus (by default) ends the statement there without running it.

use std::collections::HashMap;

use crate::store::schema::Defines;

/// One statement of a script: the line (1-based) where it starts, and its text as Oracle
/// should receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatement {
    pub line: usize,
    pub text: String,
}

/// Splits `sql` into statements; an error is one line that starts with `line N:`.
pub fn split_script(sql: &str, defines: &Defines) -> Result<Vec<ScriptStatement>, String> {
    split_script_at(sql, defines).map_err(|(line, msg)| format!("line {line}: {msg}"))
}

/// As [`split_script`], with the error's line apart from its text.
pub(crate) fn split_script_at(
    sql: &str,
    defines: &Defines,
) -> Result<Vec<ScriptStatement>, (usize, String)> {
    let mut sp = Splitter {
        vars: defines
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        define_on: true,
        blank_lines_ok: false,
        out: Vec::new(),
        cur: None,
        between_comment: false,
        continuation: false,
    };
    for (i, line) in sql.lines().enumerate() {
        if sp.line(i + 1, line)? == Flow::Stop {
            break;
        }
    }
    if let Some(cur) = &sp.cur {
        let what = if cur.plsql() {
            "PL/SQL block is not ended by a line holding only '/'"
        } else {
            "statement is not ended by ';' or a line holding only '/'"
        };
        return Err((cur.line, format!("this {what}")));
    }
    if sp.between_comment {
        return Err((sql.lines().count(), "unterminated /* comment".into()));
    }
    Ok(sp.out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

/// Lexical state carried from one line to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Code,
    /// Inside '...'.
    Str,
    /// Inside q'X...X' (the closing delimiter).
    QStr(char),
    /// Inside "...".
    Ident,
    /// Inside /* ... */.
    Block,
}

struct Pending {
    line: usize,
    text: String,
    lex: Lex,
}

impl Pending {
    fn plsql(&self) -> bool {
        is_plsql(&self.text)
    }
}

struct Splitter {
    vars: HashMap<String, String>,
    define_on: bool,
    blank_lines_ok: bool,
    out: Vec<ScriptStatement>,
    cur: Option<Pending>,
    /// Inside a /* comment that started between statements.
    between_comment: bool,
    /// The previous SQL*Plus command line ended with '-': this line continues it.
    continuation: bool,
}

/// What [`Splitter::scan`] found on one line.
struct Scanned {
    /// The line after substitution.
    text: String,
    /// Byte offset in `text` of a final `;` followed only by blanks and comments.
    final_semicolon: Option<usize>,
    /// The state at the end of the line.
    end: Lex,
}

impl Splitter {
    fn line(&mut self, n: usize, raw: &str) -> Result<Flow, (usize, String)> {
        if self.cur.is_some() {
            self.in_statement(n, raw)?;
            return Ok(Flow::Go);
        }
        if self.continuation {
            self.continuation = raw.trim_end().ends_with('-');
            if starts_statement(raw) {
                return Err((
                    n,
                    "the SQL*Plus command on the line before ends with '-', which continues it \
                     onto this line and swallows this statement; remove that trailing '-'"
                        .into(),
                ));
            }
            return Ok(Flow::Go);
        }
        let mut rest = raw;
        if self.between_comment {
            match rest.find("*/") {
                Some(i) => {
                    self.between_comment = false;
                    rest = &rest[i + 2..];
                }
                None => return Ok(Flow::Go),
            }
        }
        loop {
            let t = rest.trim_start();
            if let Some(after) = t.strip_prefix("/*") {
                match after.find("*/") {
                    Some(i) => rest = &after[i + 2..],
                    None => {
                        self.between_comment = true;
                        return Ok(Flow::Go);
                    }
                }
            } else {
                break;
            }
        }
        let t = rest.trim();
        if t.is_empty() || t.starts_with("--") || t == "/" || t == "." {
            return Ok(Flow::Go);
        }
        if let Some(flow) = self.sqlplus_command(n, t)? {
            return Ok(flow);
        }
        self.cur = Some(Pending {
            line: n,
            text: String::new(),
            lex: Lex::Code,
        });
        // The line starts the statement (without any comment that preceded it on the line).
        let start = raw.len() - rest.len();
        let body = &raw[start..];
        let indent = body.len() - body.trim_start().len();
        self.in_statement(n, &body[indent..]).map(|()| Flow::Go)
    }

    /// Handles a SQL*Plus command line; `None` when the line is not one.
    fn sqlplus_command(&mut self, n: usize, t: &str) -> Result<Option<Flow>, (usize, String)> {
        if t.starts_with('@') {
            return Err((
                n,
                format!("{t}: running another script is not allowed in a step file"),
            ));
        }
        if t.starts_with('!') || t.starts_with('$') {
            return Err((n, "host commands are not allowed in a step file".into()));
        }
        let word: String = t
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
            .to_ascii_uppercase();
        if word.is_empty() {
            return Ok(None);
        }
        let args = t[word.len()..].trim();
        let is = |full: &str, min: usize| word.len() >= min && full.starts_with(word.as_str());
        // `SET TRANSACTION`, `SET ROLE` and `SET CONSTRAINT(S)` are SQL, not SQL*Plus.
        if word == "SET" {
            let next = first_word(args).to_ascii_uppercase();
            if ["TRANSACTION", "ROLE", "CONSTRAINT", "CONSTRAINTS"].contains(&next.as_str()) {
                return Ok(None);
            }
            self.set_command(n, args)?;
        } else if is("REMARK", 3) {
            return Ok(Some(Flow::Go)); // no substitution, no continuation
        } else if is("DEFINE", 3) {
            let args = self.substitute_plain(n, args)?;
            self.define(n, &args)?;
        } else if is("UNDEFINE", 5) {
            for name in args.split_whitespace() {
                self.vars.remove(&name.to_ascii_lowercase());
            }
        } else if is("EXECUTE", 4) {
            if args.ends_with('-') {
                return Err((n, "EXECUTE continued with '-' is not supported; write a BEGIN ... END; block ending with '/'".into()));
            }
            let body = self.substitute_plain(n, args)?;
            let body = body.trim().trim_end_matches(';').trim_end();
            if body.is_empty() {
                return Err((n, "EXECUTE without a call".into()));
            }
            self.out.push(ScriptStatement {
                line: n,
                text: format!("BEGIN {body}; END;"),
            });
            return Ok(Some(Flow::Go));
        } else if word == "EXIT" || word == "QUIT" {
            return Ok(Some(Flow::Stop));
        } else if is("START", 3) && !args.is_empty() {
            return Err((
                n,
                format!("{t}: running another script is not allowed in a step file"),
            ));
        } else if is("CONNECT", 4) || is("DISCONNECT", 4) || is("HOST", 2) {
            return Err((
                n,
                format!("{word} is not allowed in a step file (the store runs it on its own connection)"),
            ));
        } else if is("PROMPT", 3)
            || word == "WHENEVER"
            || is("SPOOL", 3)
            || is("COLUMN", 3)
            || is("ACCEPT", 3)
            || is("SHOW", 3)
            || is("PAUSE", 3)
            || is("CLEAR", 2)
            || is("BREAK", 3)
            || is("TTITLE", 3)
            || is("BTITLE", 3)
            || is("TIMING", 4)
            || is("PRINT", 3)
            || is("VARIABLE", 3)
            || is("DESCRIBE", 4)
            || is("PASSWORD", 4)
            || word == "ARCHIVE"
            || is("RECOVER", 4)
            || is("REPHEADER", 4)
            || is("REPFOOTER", 4)
            || is("COMPUTE", 4)
            || is("ATTRIBUTE", 4)
            || is("STORE", 3)
        {
            // Display and session commands: nothing to run.
        } else {
            return Ok(None);
        }
        self.continuation = t.ends_with('-');
        Ok(Some(Flow::Go))
    }

    fn set_command(&mut self, n: usize, args: &str) -> Result<(), (usize, String)> {
        let mut it = args.split_whitespace();
        let opt = it.next().unwrap_or("").to_ascii_uppercase();
        let val = it.next().unwrap_or("").to_ascii_uppercase();
        let is = |full: &str, min: usize| opt.len() >= min && full.starts_with(opt.as_str());
        if is("DEFINE", 3) || is("SCAN", 4) {
            match val.as_str() {
                "OFF" => self.define_on = false,
                "ON" => self.define_on = true,
                "'&'" | "\"&\"" | "&" => self.define_on = true,
                _ => {
                    return Err((
                        n,
                        format!("SET {opt} {val}: only the '&' prefix (ON/OFF) is supported"),
                    ))
                }
            }
        } else if is("SQLBLANKLINES", 5) {
            self.blank_lines_ok = val == "ON";
        } else if is("CONCAT", 3) && !matches!(val.as_str(), "." | "ON" | "'.'") {
            return Err((n, format!("SET CONCAT {val}: only '.' is supported")));
        } else if is("SQLTERMINATOR", 9) && !matches!(val.as_str(), "ON" | ";" | "';'") {
            return Err((n, format!("SET SQLTERMINATOR {val}: only ';' is supported")));
        }
        Ok(())
    }

    fn define(&mut self, n: usize, args: &str) -> Result<(), (usize, String)> {
        let Some((name, value)) = args.split_once('=') else {
            return Ok(()); // `DEFINE` or `DEFINE name` lists variables
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(is_name_char) {
            return Err((n, format!("DEFINE {args}: bad variable name")));
        }
        let value = value.trim();
        let value = if let Some(q @ ('\'' | '"')) = value.chars().next() {
            let inner = &value[1..];
            let end = inner
                .rfind(q)
                .ok_or_else(|| (n, format!("DEFINE {name}: unterminated quoted value")))?;
            let doubled = format!("{q}{q}");
            inner[..end].replace(&doubled, &q.to_string())
        } else {
            first_word(value).to_string()
        };
        self.vars.insert(name.to_ascii_lowercase(), value);
        Ok(())
    }

    /// Substitutes variables in a SQL*Plus command's arguments (no quotes or comments).
    fn substitute_plain(&self, n: usize, s: &str) -> Result<String, (usize, String)> {
        if !self.define_on {
            return Ok(s.to_string());
        }
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            let (repl, next) = self.substitution_at(n, s, i)?;
            match repl {
                Some(v) => out.push_str(v),
                None => out.push_str(&s[i..next]),
            }
            i = next;
        }
        Ok(out)
    }

    /// At byte `i` of `s`: if a substitution variable starts there, its value and the offset
    /// after it; otherwise `None` and the offset of the next character.
    fn substitution_at<'a>(
        &'a self,
        n: usize,
        s: &str,
        i: usize,
    ) -> Result<(Option<&'a str>, usize), (usize, String)> {
        let c = s[i..].chars().next().unwrap_or(' ');
        let step = i + c.len_utf8();
        if c != '&' || !self.define_on {
            return Ok((None, step));
        }
        let bytes = s.as_bytes();
        let amps = if bytes.get(i + 1) == Some(&b'&') {
            2
        } else {
            1
        };
        let start = i + amps;
        let len = s[start..]
            .chars()
            .take_while(|c| is_name_char(*c))
            .map(char::len_utf8)
            .sum::<usize>();
        if len == 0 {
            return Ok((None, step));
        }
        let name = &s[start..start + len];
        let mut end = start + len;
        if bytes.get(end) == Some(&b'.') {
            end += 1;
        }
        match self.vars.get(&name.to_ascii_lowercase()) {
            Some(v) => Ok((Some(v.as_str()), end)),
            None => Err((
                n,
                format!(
                    "substitution variable {}{name} is not defined (define it for the install, or add a DEFINE {name} = ... line)",
                    &s[i..start]
                ),
            )),
        }
    }

    /// Substitutes variables in one line of a statement and finds where it may end.
    fn scan(&self, n: usize, line: &str, mut lex: Lex) -> Result<Scanned, (usize, String)> {
        let mut out = String::with_capacity(line.len());
        let mut final_semicolon = None;
        let b = line.as_bytes();
        let mut i = 0;
        while i < line.len() {
            let c = line[i..].chars().next().unwrap_or(' ');
            let next = i + c.len_utf8();
            match lex {
                Lex::Block => {
                    if line[i..].starts_with("*/") {
                        out.push_str("*/");
                        lex = Lex::Code;
                        i += 2;
                    } else {
                        out.push(c);
                        i = next;
                    }
                    continue;
                }
                Lex::Str | Lex::QStr(_) | Lex::Ident => {
                    let closes = match lex {
                        Lex::Str => c == '\'',
                        Lex::Ident => c == '"',
                        Lex::QStr(d) => c == d && b.get(next) == Some(&b'\''),
                        _ => false,
                    };
                    if closes {
                        if let Lex::QStr(_) = lex {
                            out.push(c);
                            out.push('\'');
                            i = next + 1;
                        } else {
                            out.push(c);
                            i = next;
                        }
                        lex = Lex::Code;
                        continue;
                    }
                    let (repl, after) = self.substitution_at(n, line, i)?;
                    match repl {
                        Some(v) => out.push_str(v),
                        None => out.push_str(&line[i..after]),
                    }
                    i = after;
                    continue;
                }
                Lex::Code => {}
            }
            // Code.
            if line[i..].starts_with("--") {
                out.push_str(&line[i..]);
                break;
            }
            if line[i..].starts_with("/*") {
                out.push_str("/*");
                lex = Lex::Block;
                i += 2;
                continue;
            }
            if c.is_whitespace() {
                out.push(c);
                i = next;
                continue;
            }
            final_semicolon = None;
            match c {
                '\'' => {
                    // q'X...X' and nq'X...X' quoting: the q must start a word.
                    let prev = line[..i].chars().next_back();
                    let prev2 = prev.and_then(|_| line[..i].chars().rev().nth(1));
                    let q_word = matches!(prev, Some('q' | 'Q'))
                        && match prev2 {
                            None => true,
                            Some('n' | 'N') => {
                                !line[..i].chars().rev().nth(2).is_some_and(is_name_char)
                            }
                            Some(p) => !is_name_char(p),
                        };
                    let delim = line[next..].chars().next();
                    match (q_word, delim) {
                        (true, Some(d)) if !d.is_whitespace() => {
                            let close = match d {
                                '[' => ']',
                                '{' => '}',
                                '<' => '>',
                                '(' => ')',
                                d => d,
                            };
                            out.push('\'');
                            out.push(d);
                            i = next + d.len_utf8();
                            lex = Lex::QStr(close);
                        }
                        _ => {
                            out.push('\'');
                            i = next;
                            lex = Lex::Str;
                        }
                    }
                }
                '"' => {
                    out.push('"');
                    i = next;
                    lex = Lex::Ident;
                }
                ';' => {
                    final_semicolon = Some(out.len());
                    out.push(';');
                    i = next;
                }
                _ => {
                    let (repl, after) = self.substitution_at(n, line, i)?;
                    match repl {
                        Some(v) => out.push_str(v),
                        None => out.push_str(&line[i..after]),
                    }
                    i = after;
                }
            }
        }
        Ok(Scanned {
            text: out,
            final_semicolon: if lex == Lex::Code {
                final_semicolon
            } else {
                None
            },
            end: lex,
        })
    }

    fn in_statement(&mut self, n: usize, raw: &str) -> Result<(), (usize, String)> {
        let Some(cur) = self.cur.as_ref() else {
            return Ok(());
        };
        let at_code = cur.lex == Lex::Code;
        let t = raw.trim();
        if at_code && t == "/" {
            if let Some(cur) = self.cur.take() {
                self.finish(cur);
            }
            return Ok(());
        }
        let plsql = cur.plsql();
        if at_code && t.is_empty() && !plsql {
            if self.blank_lines_ok {
                return Ok(());
            }
            return Err((
                n,
                format!(
                    "blank line inside the statement that starts at line {}: SQL*Plus ends the statement there without running it; remove the blank line (or SET SQLBLANKLINES ON first)",
                    cur.line
                ),
            ));
        }
        if at_code && t.starts_with("--") && !plsql {
            return Ok(());
        }
        let scanned = self.scan(n, raw, cur.lex)?;
        let Some(cur) = self.cur.as_mut() else {
            return Ok(());
        };
        if !cur.text.is_empty() {
            cur.text.push('\n');
        }
        let before = cur.text.len();
        cur.text.push_str(&scanned.text);
        cur.lex = scanned.end;
        if let Some(semi) = scanned.final_semicolon {
            if !cur.plsql() {
                cur.text.truncate(before + semi);
                if let Some(cur) = self.cur.take() {
                    self.finish(cur);
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, cur: Pending) {
        let text = cur.text.trim_end().to_string();
        if !text.is_empty() {
            self.out.push(ScriptStatement {
                line: cur.line,
                text,
            });
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '#'
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

/// The first words of a statement, upper-cased, skipping comments.
pub(crate) fn leading_words(text: &str, max: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = text;
    while words.len() < max {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map(|(_, r)| r).unwrap_or("");
            continue;
        }
        if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map(|(_, r)| r).unwrap_or("");
            continue;
        }
        if let Some(r) = rest.strip_prefix('"') {
            let (w, r) = r.split_once('"').unwrap_or((r, ""));
            words.push(format!("\"{w}\""));
            rest = r;
            continue;
        }
        let len = rest
            .chars()
            .take_while(|c| is_name_char(*c))
            .map(char::len_utf8)
            .sum::<usize>();
        if len == 0 {
            let c = rest.chars().next().map(char::len_utf8).unwrap_or(1);
            words.push(rest[..c].to_string());
            rest = &rest[c..];
        } else {
            words.push(rest[..len].to_ascii_uppercase());
            rest = &rest[len..];
        }
    }
    words
}

/// The kind and name of the PL/SQL unit (or view) a statement creates, e.g.
/// `("PACKAGE BODY", "ES_MAIL")`; the name is upper-cased unless quoted.
pub(crate) fn created_unit(text: &str) -> Option<(String, String)> {
    let w = leading_words(text, 12);
    if w.first().map(String::as_str) != Some("CREATE") {
        return None;
    }
    let mut i = 1;
    if w.get(i).map(String::as_str) == Some("OR")
        && w.get(i + 1).map(String::as_str) == Some("REPLACE")
    {
        i += 2;
    }
    while matches!(
        w.get(i).map(String::as_str),
        Some("EDITIONABLE" | "NONEDITIONABLE" | "EDITIONING" | "FORCE" | "NOFORCE")
    ) {
        i += 1;
    }
    let kind = w.get(i)?.clone();
    if ![
        "PACKAGE",
        "PROCEDURE",
        "FUNCTION",
        "TRIGGER",
        "TYPE",
        "VIEW",
        "LIBRARY",
    ]
    .contains(&kind.as_str())
    {
        return None;
    }
    i += 1;
    let mut kind = kind;
    if (kind == "PACKAGE" || kind == "TYPE") && w.get(i).map(String::as_str) == Some("BODY") {
        kind.push_str(" BODY");
        i += 1;
    }
    // [schema.]name
    let mut name = w.get(i)?.clone();
    if w.get(i + 1).map(String::as_str) == Some(".") {
        name = w.get(i + 2)?.clone();
    }
    let name = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.to_string(),
        None => name,
    };
    Some((kind, name))
}

/// Whether a statement is a PL/SQL unit (ended by `/`, its `;`s kept).
pub(crate) fn is_plsql(text: &str) -> bool {
    let w = leading_words(text, 6);
    match w.first().map(String::as_str) {
        Some("DECLARE" | "BEGIN") => true,
        Some("CREATE") => matches!(
            created_unit(text).as_ref().map(|(k, _)| k.as_str()),
            Some(
                "PACKAGE"
                    | "PACKAGE BODY"
                    | "PROCEDURE"
                    | "FUNCTION"
                    | "TRIGGER"
                    | "TYPE"
                    | "TYPE BODY"
                    | "LIBRARY"
            )
        ),
        _ => false,
    }
}

/// Whether a line looks like the start of a SQL statement or PL/SQL block.
fn starts_statement(line: &str) -> bool {
    let w = leading_words(line, 1);
    matches!(
        w.first().map(String::as_str),
        Some(
            "CREATE"
                | "ALTER"
                | "DROP"
                | "INSERT"
                | "UPDATE"
                | "DELETE"
                | "MERGE"
                | "COMMENT"
                | "GRANT"
                | "REVOKE"
                | "BEGIN"
                | "DECLARE"
                | "TRUNCATE"
                | "SELECT"
                | "WITH"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs(pairs: &[(&str, &str)]) -> Defines {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn split(sql: &str) -> Vec<(usize, String)> {
        split_script(
            sql,
            &defs(&[("data_tablespace", "DATA"), ("Index_Tablespace", "IDX")]),
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|s| (s.line, s.text))
        .collect()
    }

    #[test]
    fn ordinary_statements_end_at_a_final_semicolon() {
        let got = split(
            "-- header\n\nCREATE TABLE t (\n  a NUMBER, -- the a; really\n  b VARCHAR2(10) DEFAULT ';'\n) TABLESPACE &&data_tablespace;\n\nINSERT INTO t (a) VALUES (1);   -- trailing comment\n",
        );
        assert_eq!(
            got,
            vec![
                (
                    3,
                    "CREATE TABLE t (\n  a NUMBER, -- the a; really\n  b VARCHAR2(10) DEFAULT ';'\n) TABLESPACE DATA".to_string()
                ),
                (8, "INSERT INTO t (a) VALUES (1)".to_string()),
            ]
        );
    }

    #[test]
    fn semicolons_inside_quotes_and_comments_do_not_end() {
        let got = split(
            "INSERT INTO t (s) VALUES ('a;\nb;');\nINSERT INTO t (s) VALUES (q'[x;]'';');\nCOMMENT ON TABLE t IS 'it''s; fine' /* c; */ ;\n",
        );
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            got[0],
            (1, "INSERT INTO t (s) VALUES ('a;\nb;')".to_string())
        );
        assert_eq!(
            got[1],
            (3, "INSERT INTO t (s) VALUES (q'[x;]'';')".to_string())
        );
        assert_eq!(
            got[2],
            (
                4,
                "COMMENT ON TABLE t IS 'it''s; fine' /* c; */".to_string()
            )
        );
    }

    #[test]
    fn substitution_variables() {
        let got = split(
            "CREATE INDEX i ON t (a) TABLESPACE &INDEX_TABLESPACE.;\nDEFINE owner = 'ESMAIL'\nGRANT SELECT ON &&owner..t TO x;\n",
        );
        assert_eq!(got[0].1, "CREATE INDEX i ON t (a) TABLESPACE IDX");
        assert_eq!(got[1], (3, "GRANT SELECT ON ESMAIL.t TO x".to_string()));
        // Not in comments; and '&' not followed by a name stays.
        let got = split("SELECT 'a & b' FROM dual -- &nothing\n;\n");
        assert_eq!(got[0].1, "SELECT 'a & b' FROM dual -- &nothing");
        let err = split_script(
            "CREATE TABLE t (a NUMBER) TABLESPACE &&lob_tablespace;\n",
            &defs(&[]),
        )
        .unwrap_err();
        assert!(
            err.starts_with("line 1: ") && err.contains("&&lob_tablespace"),
            "{err}"
        );
        // SET DEFINE OFF turns substitution off.
        let got = split("SET DEFINE OFF\nINSERT INTO t VALUES ('Q&A');\nSET DEFINE ON\n");
        assert_eq!(got[0].1, "INSERT INTO t VALUES ('Q&A')");
    }

    #[test]
    fn plsql_units_end_at_slash() {
        let script = "CREATE OR REPLACE PACKAGE es_p AS\n  PROCEDURE a;\nEND es_p;\n/\n\
            CREATE OR REPLACE EDITIONABLE PACKAGE BODY es_p AS\n  PROCEDURE a IS\n  BEGIN\n\n    NULL; -- x\n  END;\nEND es_p;\n/\n\
            CREATE OR REPLACE\nTRIGGER es_t BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  :new.a := 1;\nEND;\n/\n\
            BEGIN\n  NULL;\nEND;\n/\n\
            CREATE TYPE es_ty AS OBJECT (a NUMBER);\n/\n\
            DECLARE\n  n NUMBER;\nBEGIN\n  n := 1;\nEND;\n/\n";
        let got = split(script);
        assert_eq!(got.len(), 6, "{got:?}");
        assert_eq!(
            got[0],
            (
                1,
                "CREATE OR REPLACE PACKAGE es_p AS\n  PROCEDURE a;\nEND es_p;".into()
            )
        );
        assert_eq!(got[1].0, 5);
        assert!(got[1].1.ends_with("  END;\nEND es_p;") && got[1].1.contains("\n\n    NULL; -- x"));
        assert_eq!(got[2].0, 13);
        assert!(got[2].1.starts_with("CREATE OR REPLACE\nTRIGGER") && got[2].1.ends_with("END;"));
        assert_eq!(got[3], (19, "BEGIN\n  NULL;\nEND;".into()));
        assert_eq!(
            got[4],
            (23, "CREATE TYPE es_ty AS OBJECT (a NUMBER);".into())
        );
        assert!(got[5].1.starts_with("DECLARE") && got[5].1.ends_with("END;"));
    }

    #[test]
    fn slash_after_an_ended_statement_is_ignored_and_slash_ends_sql() {
        let got = split("CREATE TABLE a (x NUMBER);\n/\nCREATE TABLE b (x NUMBER)\n/\n");
        assert_eq!(
            got,
            vec![
                (1, "CREATE TABLE a (x NUMBER)".to_string()),
                (3, "CREATE TABLE b (x NUMBER)".to_string())
            ]
        );
    }

    #[test]
    fn sqlplus_commands_are_skipped() {
        let got = split(
            "SET ECHO ON\nSET SERVEROUTPUT ON SIZE UNLIMITED\nWHENEVER SQLERROR EXIT SQL.SQLCODE\nPROMPT Creating &&data_tablespace things\n\
             PRO short\nREM a remark & stuff\nREMARK another\nSPOOL install.log\nCOLUMN x FORMAT a20\nACCEPT pw CHAR PROMPT 'x' HIDE\n\
             /* block\n comment; */\nSET TRANSACTION READ WRITE;\nEXEC dbms_output.put_line('x');\nSHOW ERRORS\nSPOOL OFF\n",
        );
        assert_eq!(
            got,
            vec![
                (13, "SET TRANSACTION READ WRITE".to_string()),
                (14, "BEGIN dbms_output.put_line('x'); END;".to_string())
            ]
        );
        // EXIT ends the script, as in SQL*Plus.
        assert_eq!(
            split("SELECT 1 FROM dual;\nEXIT\nSELECT 2 FROM dual;\n").len(),
            1
        );
    }

    #[test]
    fn errors_name_the_line() {
        let d = defs(&[]);
        let e = split_script("PROMPT x\n@@other.sql\n", &d).unwrap_err();
        assert!(e.starts_with("line 2: @@other.sql"), "{e}");
        let e = split_script("SELECT 1 FROM dual\n", &d).unwrap_err();
        assert!(e.starts_with("line 1: ") && e.contains("not ended"), "{e}");
        let e = split_script("BEGIN\n  NULL;\nEND;\n", &d).unwrap_err();
        assert!(e.starts_with("line 1: ") && e.contains("'/'"), "{e}");
        let e = split_script("CREATE TABLE t (\n  a NUMBER,\n\n  b NUMBER);\n", &d).unwrap_err();
        assert!(e.starts_with("line 3: blank line"), "{e}");
        assert!(!e.contains('\n'));
        let e =
            split_script("PROMPT ---- tables ----\nCREATE TABLE t (a NUMBER);\n", &d).unwrap_err();
        assert!(e.starts_with("line 2: "), "{e}");
        let e = split_script("/* never closed\n", &d).unwrap_err();
        assert!(e.contains("unterminated"), "{e}");
    }

    #[test]
    fn blank_lines_allowed_with_sqlblanklines() {
        let got = split("SET SQLBLANKLINES ON\nCREATE TABLE t (\n  a NUMBER,\n\n  b NUMBER);\n");
        assert_eq!(
            got,
            vec![(2, "CREATE TABLE t (\n  a NUMBER,\n  b NUMBER)".to_string())]
        );
    }

    #[test]
    fn comment_before_a_statement_on_the_same_line() {
        let got = split("/* one */ CREATE TABLE t (a NUMBER);\n");
        assert_eq!(got, vec![(1, "CREATE TABLE t (a NUMBER)".to_string())]);
    }

    #[test]
    fn recognises_plsql_and_units() {
        assert!(is_plsql(
            "create or replace noneditionable package body x as"
        ));
        assert!(is_plsql("CREATE FUNCTION f RETURN NUMBER IS"));
        assert!(is_plsql("begin"));
        assert!(!is_plsql("CREATE TABLE package (a NUMBER)"));
        assert!(!is_plsql(
            "CREATE OR REPLACE VIEW v AS SELECT 1 x FROM dual"
        ));
        assert_eq!(
            created_unit("CREATE OR REPLACE PACKAGE BODY esmail.es_pkg AS"),
            Some(("PACKAGE BODY".into(), "ES_PKG".into()))
        );
        assert_eq!(
            created_unit("create trigger \"MixedCase\" before insert on t"),
            Some(("TRIGGER".into(), "MixedCase".into()))
        );
        assert_eq!(created_unit("CREATE TABLE t (a NUMBER)"), None);
    }

    /// Every Oracle step (as compiled in from sql/oracle/steps) splits, and each statement
    /// starts with a SQL keyword.
    #[test]
    fn real_step_files_split() {
        use crate::store::{schema, Dialect};
        let d = defs(&[
            ("data_tablespace", "ES_DATA"),
            ("index_tablespace", "ES_INDEX"),
            ("lob_tablespace", "ES_LOB"),
        ]);
        let keywords = [
            "CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE", "MERGE", "COMMENT", "GRANT",
            "REVOKE", "BEGIN", "DECLARE", "SELECT", "WITH", "TRUNCATE", "RENAME", "CALL", "COMMIT",
            "LOCK", "PURGE", "SET",
        ];
        let steps = schema::steps(Dialect::Oracle);
        assert!(!steps.is_empty(), "no files under sql/oracle/steps");
        for step in steps {
            let f = step.file;
            let stmts = split_script(step.sql, &d).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(!stmts.is_empty(), "{f}: no statements");
            if std::env::var_os("ESMAIL_DUMP_SPLIT").is_some() {
                for s in &stmts {
                    eprintln!("--- {f} line {}\n{}", s.line, s.text);
                }
            }
            for s in &stmts {
                let first = leading_words(&s.text, 1).pop().unwrap_or_default();
                assert!(
                    keywords.contains(&first.as_str()),
                    "{f} line {}: statement starts with {first:?}: {}",
                    s.line,
                    s.text.lines().next().unwrap_or("")
                );
                if !is_plsql(&s.text) {
                    assert!(!s.text.ends_with(';'), "{f} line {}", s.line);
                }
            }
            // The step records its version (schema.rs relies on it).
            assert!(
                stmts.iter().any(|s| s.text.contains("es_schema_version")
                    && s.text.contains(&format!("VALUES ({}, ", step.version))),
                "{f}: no INSERT INTO es_schema_version for version {}",
                step.version
            );
        }
    }
}
