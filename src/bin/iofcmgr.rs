//! `iofcmgr`: the administration language. Reads a script file, or standard input (with the
//! `IOFCMGR>` prompt when it is a terminal), and runs its statements against the store.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Parser;

use esmail::admin::{run_interactive, run_script, Session};
use esmail::cli::{fail, init_logging, StoreArgs};

/// Longest script read, in bytes.
const MAX_SCRIPT: u64 = 1 << 30;

#[derive(Debug, Parser)]
#[command(
    name = "iofcmgr",
    version,
    about = "Administer esmail: directory, topology, processes"
)]
struct Cli {
    #[command(flatten)]
    store: StoreArgs,
    /// Report every change on standard error
    #[arg(short, long)]
    verbose: bool,
    /// The script to run (default: standard input)
    script: Option<PathBuf>,
}

/// Reads a whole script; one larger than MAX_SCRIPT is refused, not cut.
fn read_script(r: impl Read, name: &str) -> String {
    let mut s = String::new();
    if let Err(e) = r.take(MAX_SCRIPT + 1).read_to_string(&mut s) {
        fail("iofcmgr", format!("cannot read {name}: {e}"));
    }
    if s.len() as u64 > MAX_SCRIPT {
        fail(
            "iofcmgr",
            format!(
                "{name} is larger than {} MiB: split the script",
                MAX_SCRIPT >> 20
            ),
        );
    }
    s
}

fn main() {
    init_logging();
    let cli = Cli::parse();
    let prog = "iofcmgr";
    let text = match &cli.script {
        Some(p) => {
            let f = std::fs::File::open(p)
                .unwrap_or_else(|e| fail(prog, format!("cannot read {}: {e}", p.display())));
            Some(read_script(f, &p.display().to_string()))
        }
        None if std::io::stdin().is_terminal() => None,
        None => Some(read_script(std::io::stdin(), "standard input")),
    };
    let (store, _cfg) = cli.store.open(false).unwrap_or_else(|e| fail(prog, &e));
    let session = Session::open(&store).unwrap_or_else(|e| fail(prog, &e));
    match text {
        None => {
            let stdin = std::io::stdin();
            if let Some(w) = run_interactive(session, &mut stdin.lock()) {
                eprintln!("iofcmgr: {w}");
            }
        }
        Some(text) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let summary = run_script(
                session,
                &text,
                &mut out,
                &mut std::io::stderr(),
                cli.verbose,
            );
            if let Some(w) = &summary.warning {
                eprintln!("iofcmgr: {w}");
            }
            if cli.verbose || std::io::stderr().is_terminal() {
                eprintln!(
                    "iofcmgr: {} statements in {:.1} s",
                    summary.statements, summary.seconds
                );
            }
            if let Some((line, msg)) = summary.error {
                eprintln!("iofcmgr: line {line}: {msg}");
                std::process::exit(1);
            }
        }
    }
}
