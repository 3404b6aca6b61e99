//! Shared by the integration tests: a fresh store in a temporary directory, and the real
//! `esmail` and `iofcmgr` binaries run against it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Node {
    pub dir: tempfile::TempDir,
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "command failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn esmail_bin() -> &'static str {
    env!("CARGO_BIN_EXE_esmail")
}

pub fn iofcmgr_bin() -> &'static str {
    env!("CARGO_BIN_EXE_iofcmgr")
}

/// A command with a clean environment as far as esmail is concerned.
pub fn command(bin: &str, dir: &Path) -> Command {
    let mut c = Command::new(bin);
    c.current_dir(dir)
        .env_remove("ESMAIL_STORE")
        .env_remove("ESMAIL_DB_PASSWORD")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    c
}

impl Node {
    /// A new directory with no store yet.
    pub fn empty() -> Node {
        Node {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A new store initialised with `esmail init --domain acme.com`. Its SMTP gateway has no
    /// listener (port 0), so that nodes of tests running side by side do not compete for a
    /// port; a test that speaks SMTP gives it a free port of its own.
    pub fn new() -> Node {
        let n = Node::empty();
        n.esmail(&["init", "--domain", "acme.com"]).ok();
        n.iofcmgr("register paramvalue server=smtpgw instance=1 parameter=port value=0;")
            .ok();
        n
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("esmail-data/esmail.db")
    }

    pub fn url(&self) -> String {
        format!("sqlite:{}", self.db().display())
    }

    pub fn esmail(&self, args: &[&str]) -> Run {
        command(esmail_bin(), self.path())
            .args(args)
            .output()
            .expect("run esmail")
            .into()
    }

    /// Runs iofcmgr with `script` on standard input.
    pub fn iofcmgr(&self, script: &str) -> Run {
        self.iofcmgr_args(&[], script)
    }

    pub fn iofcmgr_args(&self, args: &[&str], script: &str) -> Run {
        let mut child = command(iofcmgr_bin(), self.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run iofcmgr");
        let mut stdin = child.stdin.take().expect("stdin");
        let text = script.to_string();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
        });
        let out = child.wait_with_output().expect("iofcmgr output");
        writer.join().expect("writer");
        out.into()
    }

    /// `fetch` output parsed into objects of `(attr, value)` lines.
    pub fn fetch(&self, statement: &str) -> Vec<Vec<(String, String)>> {
        parse_entries(&self.iofcmgr(statement).ok().stdout)
    }
}

pub fn parse_entries(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let (k, v) = line.split_once('=').expect("attr=value line");
        let mut v = v.to_string();
        if v.starts_with('"') {
            // a quoted value ends at an unpaired closing quote, maybe lines later
            while !closed(&v) {
                match lines.next() {
                    Some(more) => {
                        v.push('\n');
                        v.push_str(more);
                    }
                    None => break,
                }
            }
            v = v[1..v.len() - 1].replace("\"\"", "\"");
        }
        cur.push((k.to_string(), v));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn closed(v: &str) -> bool {
    let inner = &v[1..];
    let quotes = inner.chars().filter(|c| *c == '"').count();
    inner.ends_with('"') && quotes % 2 == 1
}

pub fn attr<'a>(entry: &'a [(String, String)], name: &str) -> Option<&'a str> {
    entry
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An argon2id hash of "secret", as another system would export it.
pub const SECRET_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$gLmlWrCH3aG0JZLLs+X7LA$diKLxOdS4DdmzAFQlhZ4yfMm+DbvXNzfj4KpRkUwKro";
