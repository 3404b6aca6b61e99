//! `verify store [content=yes];`: checks that the store agrees with itself (pointers against
//! contents, folder counters, quotas, aliases and lists against their targets, queues against
//! messages; with `content=yes` also every content against its recorded size and SHA-256).
//! It changes nothing: the session runs it in a read transaction, a consistent snapshot. Each
//! problem is an entry (`problem=`, `table=`, `key=`, `expected=`, `found=`, `detail=`), a
//! summary line follows, and a script that finds a problem ends with a non-zero status.
//! The invariants themselves are described in `store::verify`.

use std::io::IsTerminal;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::error::AdminError;
use super::script::Tokens;
use super::session::Output;
use crate::store::verify::{self as checks, Problem, Totals};
use crate::store::Conn;

/// At most this many problems are printed (all are counted).
const MAX_SHOWN: usize = 1000;
/// Contents read at a time by the content check.
const CONTENT_BATCH: i64 = 64;

fn yes_no(name: &str, v: &str) -> Result<bool, AdminError> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "on" | "1" => Ok(true),
        "no" | "n" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("verify store: {name}={v}: expected yes or no").into()),
    }
}

/// Runs `verify ...;` (only `verify store` exists).
pub fn statement(c: &mut Conn, t: &Tokens) -> Result<Output, AdminError> {
    match t.words.get(1).map(String::as_str) {
        Some("store") => {}
        Some(w) => return Err(format!("verify {w}: unknown (verify store;)").into()),
        None => return Err("verify what? (verify store; or verify store content=yes;)".into()),
    }
    if let Some(w) = t.words.get(2) {
        return Err(format!("verify store: unexpected word {w}").into());
    }
    let mut content = false;
    for a in &t.args {
        match a.name.as_str() {
            "content" => content = yes_no(&a.name, &a.value)?,
            other => {
                return Err(
                    format!("verify store: unknown attribute {other} (content=yes|no)").into(),
                )
            }
        }
    }
    verify_store(c, content)
}

fn entry(p: &Problem) -> Vec<(String, String)> {
    vec![
        ("problem".to_string(), p.problem.to_string()),
        ("table".to_string(), p.table.to_string()),
        ("key".to_string(), p.key.clone()),
        ("expected".to_string(), p.expected.clone()),
        ("found".to_string(), p.found.clone()),
        ("detail".to_string(), p.detail.clone()),
    ]
}

/// Reads every content, a batch at a time, and compares its size and SHA-256 with those
/// recorded at arrival. A progress bar on a terminal: this reads every BLOB of the store.
fn contents(c: &mut Conn, total: i64) -> Result<Vec<Problem>, AdminError> {
    let bar = if std::io::stderr().is_terminal() && total > 0 {
        let bar = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "verifying contents [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let batch = checks::contents_after(c, after, CONTENT_BATCH)?;
        let Some(last) = batch.last() else { break };
        after = last.message_id;
        for m in &batch {
            let key = format!("message_id={}", m.message_id);
            if m.content.len() as i64 != m.size_bytes {
                out.push(Problem {
                    problem: "content_size",
                    table: "es_message",
                    key: key.clone(),
                    expected: m.size_bytes.to_string(),
                    found: m.content.len().to_string(),
                    detail: format!(
                        "the content of message {} is {} bytes long, its size_bytes says {}",
                        m.message_id,
                        m.content.len(),
                        m.size_bytes
                    ),
                });
            }
            let sha: String = Sha256::digest(&m.content)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if !sha.eq_ignore_ascii_case(m.sha256.trim()) {
                out.push(Problem {
                    problem: "content_sha256",
                    table: "es_message",
                    key,
                    expected: m.sha256.clone(),
                    found: sha,
                    detail: format!(
                        "the content of message {} does not hash to the SHA-256 recorded at its arrival",
                        m.message_id
                    ),
                });
            }
        }
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn what_was_checked(t: &Totals) -> String {
    [
        plural(t.messages, "message", "messages"),
        plural(t.pointers, "pointer", "pointers"),
        plural(t.folders, "folder", "folders"),
        plural(t.accounts, "account", "accounts"),
        plural(t.aliases, "alias", "aliases"),
        plural(t.list_members, "list member", "list members"),
        plural(t.queue_entries, "queue entry", "queue entries"),
        plural(t.queue_recipients, "queue recipient", "queue recipients"),
    ]
    .join(", ")
}

/// Runs every check (the content check too with `content`) in the caller's transaction.
pub fn verify_store(c: &mut Conn, content: bool) -> Result<Output, AdminError> {
    let started = Instant::now();
    let totals = checks::totals(c)?;
    let mut problems = checks::pointers(c)?;
    problems.extend(checks::folders(c)?);
    problems.extend(checks::accounts(c)?);
    problems.extend(checks::directory(c)?);
    problems.extend(checks::queues(c)?);
    if content {
        problems.extend(contents(c, totals.messages)?);
    }
    let n = problems.len();
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for p in &problems {
        match kinds.iter_mut().find(|(k, _)| *k == p.problem) {
            Some((_, count)) => *count += 1,
            None => kinds.push((p.problem, 1)),
        }
    }
    let checked = format!(
        "{}{}",
        what_was_checked(&totals),
        if content {
            ", every content read"
        } else {
            " (contents not read: content=yes hashes them)"
        }
    );
    let secs = started.elapsed().as_secs_f64();
    let summary = if n == 0 {
        format!("verify store: no problem found; checked {checked} in {secs:.1} s")
    } else {
        let by_kind = kinds
            .iter()
            .map(|(k, c)| format!("{k} {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let shown = if n > MAX_SHOWN {
            format!(", the first {MAX_SHOWN} shown")
        } else {
            String::new()
        };
        format!(
            "verify store: {} found ({by_kind}{shown}); checked {checked} in {secs:.1} s",
            plural(n as i64, "problem", "problems")
        )
    };
    Ok(Output::Report {
        entries: problems.iter().take(MAX_SHOWN).map(entry).collect(),
        summary,
        problems: n,
    })
}
