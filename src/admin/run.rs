//! Running IOFCMGR input: a whole script (read ahead, clear passwords hashed on every core,
//! a progress bar when standard error is a terminal), or an interactive session with the
//! `IOFCMGR>` and `2>` prompts.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::output::format_entry;
use super::script::{tokenize, Arg, Splitter, SyntaxError, Tokens};
use super::session::{Output, Session};
use crate::directory::password;

/// A script's statements are committed in groups of at most this many ...
const GROUP_STATEMENTS: usize = 1000;
/// ... or this old (see `Session::group_commit`).
const GROUP_AGE: std::time::Duration = std::time::Duration::from_millis(500);

/// How a script run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub statements: usize,
    /// The first error: its line and message.
    pub error: Option<(usize, String)>,
    pub warning: Option<String>,
    pub seconds: f64,
}

/// Cuts a whole script into statements; everything up to the first syntax error is kept and
/// the error is returned beside it.
fn parse_all(text: &str) -> (Vec<Tokens>, Option<SyntaxError>) {
    let mut sp = Splitter::new();
    let mut out = Vec::new();
    for line in text.lines() {
        match sp.feed_line(line) {
            Ok(raws) => {
                for raw in raws {
                    match tokenize(&raw) {
                        Ok(t) => out.push(t),
                        Err(e) => return (out, Some(e)),
                    }
                }
            }
            Err(e) => return (out, Some(e)),
        }
    }
    match sp.finish() {
        Ok(()) => (out, None),
        Err(e) => (out, Some(e)),
    }
}

fn needs_hash(t: &Tokens) -> Option<usize> {
    let account = matches!(
        t.words.get(1).map(String::as_str),
        Some("person" | "room" | "equipment")
    );
    if !account || !matches!(t.words[0].as_str(), "create" | "modify") {
        return None;
    }
    if t.args.iter().any(|a| a.name == "passwordhash") {
        return None;
    }
    t.args.iter().position(|a| a.name == "password")
}

/// Hashes every clear password of the script on all cores, ahead of running it, replacing
/// `password=` with `passwordhash=`. A password that cannot be hashed is left for the
/// statement to report at its own line.
fn prehash(stmts: &mut [Tokens], bar: &indicatif::ProgressBar) {
    let jobs: Vec<(usize, usize)> = stmts
        .iter()
        .enumerate()
        .filter_map(|(i, t)| needs_hash(t).map(|a| (i, a)))
        .collect();
    if jobs.is_empty() {
        return;
    }
    bar.set_length(jobs.len() as u64);
    bar.set_position(0);
    bar.set_message("hashing passwords");
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(jobs.len());
    let results: Vec<Vec<(usize, Result<String, String>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(i, a)) = jobs.get(k) else { break };
                        done.push((k, password::hash(&stmts[i].args[a].value)));
                        bar.inc(1);
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (k, r) in results.into_iter().flatten() {
        if let Ok(h) = r {
            let (i, a) = jobs[k];
            stmts[i].args[a] = Arg {
                name: "passwordhash".into(),
                value: h,
            };
        }
    }
}

fn progress(len: usize) -> indicatif::ProgressBar {
    if len < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:18} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn print(out: &mut dyn Write, o: &Output, notes: &mut dyn Write, verbose: bool, what: &str) {
    match o {
        Output::Entries(list) if list.is_empty() => {
            let _ = writeln!(notes, "iofcmgr: no {what} matches");
        }
        Output::Entries(list) => {
            for (i, e) in list.iter().enumerate() {
                if i > 0 {
                    let _ = writeln!(out);
                }
                let _ = write!(out, "{}", format_entry(e));
            }
            let _ = writeln!(out);
        }
        Output::Done(msg) => {
            if verbose {
                let _ = writeln!(notes, "{msg}");
            }
        }
        Output::Report {
            entries, summary, ..
        } => {
            for e in entries {
                let _ = writeln!(out, "{}", format_entry(e));
            }
            let _ = writeln!(out, "{summary}");
        }
    }
}

/// Runs a whole script. Stops at the first error, which names its line.
pub fn run_script(
    session: Session,
    text: &str,
    out: &mut dyn Write,
    notes: &mut dyn Write,
    verbose: bool,
) -> RunSummary {
    let started = Instant::now();
    let mut session = session;
    session.group_commit(GROUP_STATEMENTS, GROUP_AGE);
    let (mut stmts, syntax) = parse_all(text);
    let bar = progress(stmts.len());
    prehash(&mut stmts, &bar);
    bar.set_length(stmts.len() as u64);
    bar.set_position(0);
    bar.set_message("running statements");
    let mut error = None;
    let mut count = 0;
    for t in &stmts {
        let what = t.words.get(1).cloned().unwrap_or_default();
        match session.execute(t) {
            Ok(o) => {
                bar.suspend(|| print(out, &o, notes, verbose, &what));
                count += 1;
                if let Output::Report { problems, .. } = &o {
                    if *problems > 0 {
                        // a check that found problems ends the script like an error
                        let s = if *problems == 1 { "" } else { "s" };
                        error = Some((t.line, format!("verify store found {problems} problem{s}")));
                        break;
                    }
                }
            }
            Err(e) => {
                error = Some((t.line, e.to_string()));
                break;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if error.is_none() {
        if let Some(e) = syntax {
            error = Some((e.line, e.message));
        }
    }
    let last_line = stmts.last().map(|t| t.line).unwrap_or(0);
    let warning = match session.finish() {
        Ok(Some(w)) => {
            // work left uncommitted was lost: the script did not do what it says
            error.get_or_insert((last_line, w));
            None
        }
        Ok(None) => None,
        Err(e) => {
            error.get_or_insert((last_line, e.to_string()));
            None
        }
    };
    let _ = out.flush();
    RunSummary {
        statements: count,
        error,
        warning,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// An interactive session: `IOFCMGR>` prompt, `2>` while a statement continues; errors are
/// reported and the session goes on.
pub fn run_interactive(mut session: Session, input: &mut dyn BufRead) -> Option<String> {
    let mut sp = Splitter::new();
    let stdout = std::io::stdout();
    let mut line = String::new();
    loop {
        {
            let mut o = stdout.lock();
            let _ = write!(o, "{}", if sp.pending() { "2> " } else { "IOFCMGR> " });
            let _ = o.flush();
        }
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if !sp.pending()
            && matches!(
                trimmed.trim().to_ascii_lowercase().as_str(),
                "exit" | "quit"
            )
        {
            break;
        }
        match sp.feed_line(trimmed) {
            Ok(raws) => {
                for raw in raws {
                    let result = tokenize(&raw).map_err(|e| e.message).and_then(|t| {
                        let what = t.words.get(1).cloned().unwrap_or_default();
                        session
                            .execute(&t)
                            .map(|o| (o, what))
                            .map_err(|e| e.to_string())
                    });
                    match result {
                        Ok((o, what)) => {
                            let mut out = stdout.lock();
                            print(&mut out, &o, &mut std::io::stderr(), true, &what);
                        }
                        Err(e) => eprintln!("iofcmgr: line {}: {e}", raw.line),
                    }
                }
            }
            Err(e) => eprintln!("iofcmgr: {e}"),
        }
    }
    println!();
    if sp.pending() {
        eprintln!(
            "iofcmgr: the statement begun at line {} was never ended with ';' and did not run",
            sp.line()
        );
    }
    match session.finish() {
        Ok(w) => w,
        Err(e) => Some(format!("the final commit failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_all_keeps_statements_before_a_syntax_error() {
        let (st, err) = parse_all("commit;\ncommit;\ncreate person x=\"oops;\n");
        assert_eq!(st.len(), 2);
        assert_eq!(err.unwrap().line, 3);
    }

    #[test]
    fn clear_passwords_are_hashed_ahead() {
        let (mut st, _) = parse_all(
            "create person username=a password=secret;\ncreate person username=b passwordhash=x password=y;\nfetch person;\n",
        );
        prehash(&mut st, &indicatif::ProgressBar::hidden());
        assert_eq!(st[0].args[1].name, "passwordhash");
        assert!(password::verify("secret", &st[0].args[1].value));
        assert_eq!(
            st[1].args[2].name, "password",
            "left for the statement to refuse"
        );
    }
}
