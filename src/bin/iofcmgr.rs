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

fn main() {
    init_logging();
    let cli = Cli::parse();
    let prog = "iofcmgr";
    let text = match &cli.script {
        Some(p) => {
            let f = std::fs::File::open(p)
                .unwrap_or_else(|e| fail(prog, &format!("cannot read {}: {e}", p.display())));
            let mut s = String::new();
            if let Err(e) = f.take(MAX_SCRIPT).read_to_string(&mut s) {
                fail(prog, &format!("cannot read {}: {e}", p.display()));
            }
            Some(s)
        }
        None if std::io::stdin().is_terminal() => None,
        None => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().take(MAX_SCRIPT).read_to_string(&mut s) {
                fail(prog, &format!("cannot read standard input: {e}"));
            }
            Some(s)
        }
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
