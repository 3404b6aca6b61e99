//! One IOFCMGR session: a connection held for the session, autocommit on (each statement is
//! one transaction) or off (statements accumulate until `commit;`, and an error rolls back
//! everything not committed).

use super::error::AdminError;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::script::Tokens;
use crate::directory::{self, Args, Class, Ctx, Entry};
use crate::process::{self, control, Instance};
use crate::store::{schema, system, Conn, Store, TxMode};

/// What a statement produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// `fetch` / `show`: objects to print (possibly none).
    Entries(Vec<Entry>),
    /// A change or a setting, described for the administrator.
    Done(String),
    /// A check (`verify store;`): the problems found, as entries, and a summary line; a
    /// script that gets `problems > 0` ends with a non-zero status.
    Report {
        entries: Vec<Entry>,
        summary: String,
        problems: usize,
    },
}

/// The transaction a session has open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx {
    None,
    /// Autocommit off: statements wait for `commit;`.
    Manual {
        statements: usize,
    },
    /// Autocommit on, in a script: statements committed together (see `group_commit`).
    Group {
        statements: usize,
        since: Instant,
    },
}

pub struct Session {
    conn: Conn,
    node_id: i64,
    autocommit: bool,
    tx: Tx,
    group: Option<(usize, Duration)>,
    /// The line of the first statement of the pending group.
    group_first_line: usize,
}

const COMMANDS: &str = "create, modify, delete, fetch, add, enable, disable, register, startup, shutdown, refresh, show, probe, verify, autocommit, commit, rollback";

impl Session {
    pub fn open(store: &Store) -> Result<Session, AdminError> {
        let mut conn = store.conn()?;
        schema::require_current(&mut conn)?;
        let node_id = system::local_node_id(&mut conn)?
            .ok_or("the store has no node yet: run `esmail init --domain NAME` first")?;
        Ok(Session {
            conn,
            node_id,
            autocommit: true,
            tx: Tx::None,
            group: None,
            group_first_line: 0,
        })
    }

    /// With autocommit on, commit statements together: at most `statements` of them, for at
    /// most `age`. Each statement still runs under its own savepoint, and an error commits
    /// every statement before it and nothing of it, so a script ends exactly as it would
    /// with a commit per statement; it only saves a disk flush per statement.
    pub fn group_commit(&mut self, statements: usize, age: Duration) {
        self.group = Some((statements.max(1), age));
    }

    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    /// Commits the pending group; a failure names the lines whose statements were lost.
    fn end_group(&mut self) -> Result<(), AdminError> {
        let first = self.group_first_line;
        self.end_tx(true).map(|_| ()).map_err(|e| {
            AdminError(format!(
                "{e}: the statements from line {first} on were not committed"
            ))
        })
    }

    fn end_tx(&mut self, commit: bool) -> Result<usize, AdminError> {
        let n = match self.tx {
            Tx::None => return Ok(0),
            Tx::Manual { statements } | Tx::Group { statements, .. } => statements,
        };
        self.tx = Tx::None;
        if commit {
            self.conn.commit()?;
        } else {
            self.conn.rollback()?;
        }
        Ok(n)
    }

    /// Runs one statement. On error nothing of it remains; with autocommit off, nothing that
    /// was not committed remains either.
    pub fn execute(&mut self, t: &Tokens) -> Result<Output, AdminError> {
        let verb = t.words[0].as_str();
        match verb {
            "autocommit" => return self.set_autocommit(t),
            "commit" | "rollback" => {
                expect_words(t, 1)?;
                no_args(t)?;
                if let Tx::Group { .. } = self.tx {
                    // with autocommit on, the statements of a group count as committed
                    // already: a rollback has nothing to undo
                    self.end_group()?;
                    return Ok(Output::Done(format!("nothing to {verb}: autocommit is on")));
                }
                let commit = verb == "commit";
                let n = self.end_tx(commit)?;
                let what = if commit { "committed" } else { "rolled back" };
                return Ok(Output::Done(format!("{what} {n} statements")));
            }
            _ => {}
        }
        let read_only = matches!(verb, "fetch" | "show" | "verify");
        let node_id = self.node_id;
        if !self.autocommit {
            if self.tx == Tx::None {
                self.conn.begin(TxMode::Write)?;
                self.tx = Tx::Manual { statements: 0 };
            }
            return match dispatch(&mut self.conn, node_id, t) {
                Ok(o) => {
                    if let Tx::Manual { statements } = &mut self.tx {
                        *statements += usize::from(!read_only);
                    }
                    Ok(o)
                }
                Err(e) => {
                    let n = self.end_tx(false).unwrap_or(0);
                    Err(if n > 0 {
                        AdminError(format!(
                            "{e} (the {n} uncommitted statements before it were rolled back)"
                        ))
                    } else {
                        e
                    })
                }
            };
        }
        let grouped = self.group.filter(|_| !(read_only && self.tx == Tx::None));
        let Some((max, age)) = grouped else {
            // one transaction of its own (a read needs no write lock)
            let mode = if read_only {
                TxMode::Read
            } else {
                TxMode::Write
            };
            return self.conn.transaction(mode, |c| dispatch(c, node_id, t));
        };
        if self.tx == Tx::None {
            self.conn.begin(TxMode::Write)?;
            self.tx = Tx::Group {
                statements: 0,
                since: Instant::now(),
            };
            self.group_first_line = t.line;
        }
        self.conn.savepoint()?;
        match dispatch(&mut self.conn, node_id, t) {
            Ok(o) => {
                self.conn.release_savepoint()?;
                if let Tx::Group { statements, since } = &mut self.tx {
                    *statements += 1;
                    if *statements >= max || since.elapsed() >= age {
                        self.end_group()?;
                    }
                }
                Ok(o)
            }
            Err(e) => {
                // undo this statement alone, keep (commit) the ones before it
                let undone = self.conn.rollback_to_savepoint();
                if undone.is_err() {
                    let _ = self.end_tx(false);
                    undone?;
                }
                self.end_group()?;
                Err(e)
            }
        }
    }

    fn set_autocommit(&mut self, t: &Tokens) -> Result<Output, AdminError> {
        expect_words(t, 2)?;
        no_args(t)?;
        let on = match t.words[1].as_str() {
            "on" => true,
            "off" => false,
            w => return Err(format!("autocommit {w}: expected on or off").into()),
        };
        // switching either way commits what is pending, as the original does
        self.end_tx(true)?;
        self.autocommit = on;
        Ok(Output::Done(format!(
            "autocommit {}",
            if on { "on" } else { "off" }
        )))
    }

    /// Ends the session: a pending group is committed; work left uncommitted with autocommit
    /// off is rolled back, and a warning says so.
    pub fn finish(mut self) -> Result<Option<String>, AdminError> {
        match self.tx {
            Tx::None => Ok(None),
            Tx::Group { .. } => {
                self.end_group()?;
                Ok(None)
            }
            Tx::Manual { .. } => {
                let n = self.end_tx(false)?;
                Ok((n > 0).then(|| {
                    format!(
                        "{n} uncommitted statements were rolled back (autocommit is off: end with commit;)"
                    )
                }))
            }
        }
    }
}

fn expect_words(t: &Tokens, n: usize) -> Result<(), AdminError> {
    match t.words.get(n) {
        Some(w) => Err(format!("{}: unexpected word {w}", t.words[..n].join(" ")).into()),
        None if t.words.len() < n => {
            Err(format!("{}: incomplete statement", t.words.join(" ")).into())
        }
        None => Ok(()),
    }
}

fn no_args(t: &Tokens) -> Result<(), AdminError> {
    match t.args.first() {
        Some(a) => Err(format!("{} takes no attribute ({} given)", t.words[0], a.name).into()),
        None => Ok(()),
    }
}

fn args_of(t: &Tokens) -> Result<Args, AdminError> {
    Args::new(
        t.args
            .iter()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect(),
    )
    .map_err(AdminError::from)
}

fn dispatch(c: &mut Conn, node_id: i64, t: &Tokens) -> Result<Output, AdminError> {
    let ctx = Ctx {
        node_id,
        now: Utc::now(),
    };
    if let Some(done) = super::rules::dispatch(c, &ctx, t) {
        return done;
    }
    let verb = t.words[0].as_str();
    match verb {
        "create" | "modify" | "delete" | "fetch" => {
            let Some(word) = t.words.get(1) else {
                return Err(format!("{verb} needs a class ({})", Class::NAMES.join(", ")).into());
            };
            let class = Class::parse(word).ok_or_else(|| {
                format!("unknown class {word} (known: {})", Class::NAMES.join(", "))
            })?;
            expect_words(t, 2)?;
            let args = args_of(t)?;
            let e = |e: directory::DirError| e.to_string();
            Ok(match verb {
                "create" => {
                    Output::Done(directory::create(c, &ctx, class, args).map_err(e)?.message)
                }
                "modify" => {
                    Output::Done(directory::modify(c, &ctx, class, args).map_err(e)?.message)
                }
                "delete" => {
                    Output::Done(directory::delete(c, &ctx, class, args).map_err(e)?.message)
                }
                _ => Output::Entries(directory::fetch(c, &ctx, class, args).map_err(e)?),
            })
        }
        "register" => {
            let what = t.words.get(1).map(String::as_str).unwrap_or("");
            expect_words(t, 2)?;
            let mut args = args_of(t)?;
            let e = |e: process::ProcessError| e.to_string();
            let de = |e: directory::DirError| e.to_string();
            match what {
                "process" => {
                    let server = args.require(&["server"], "register process").map_err(de)?;
                    let instance = args
                        .require(&["instance"], "register process")
                        .map_err(de)?;
                    args.finish("register process", &["server", "instance"])
                        .map_err(de)?;
                    let n = match Instance::parse(&instance).map_err(e)? {
                        Instance::Number(n) => n,
                        Instance::Default => {
                            return Err("register process needs an instance number".into())
                        }
                    };
                    Ok(Output::Done(
                        process::register(c, node_id, &server, n, ctx.now).map_err(e)?,
                    ))
                }
                "paramvalue" => {
                    let server = args
                        .require(&["server"], "register paramvalue")
                        .map_err(de)?;
                    let instance = args
                        .require(&["instance"], "register paramvalue")
                        .map_err(de)?;
                    let param = args
                        .require(&["parameter"], "register paramvalue")
                        .map_err(de)?;
                    let value = args
                        .take(&["value"])
                        .ok_or("register paramvalue needs value=")?;
                    args.finish(
                        "register paramvalue",
                        &["server", "instance", "parameter", "value"],
                    )
                    .map_err(de)?;
                    let inst = Instance::parse(&instance).map_err(e)?;
                    Ok(Output::Done(
                        process::set_param(c, node_id, &server, inst, &param, &value).map_err(e)?,
                    ))
                }
                _ => {
                    Err("register what? (register process ...; or register paramvalue ...;)".into())
                }
            }
        }
        "startup" | "shutdown" | "refresh" => {
            let what = t.words.get(1).map(String::as_str).unwrap_or("");
            expect_words(t, 2)?;
            let mut args = args_of(t)?;
            let de = |e: directory::DirError| e.to_string();
            let pe = |e: process::ProcessError| e.to_string();
            if what == "all" && verb != "refresh" {
                args.finish(&format!("{verb} all"), &[]).map_err(de)?;
                return Ok(Output::Done(if verb == "startup" {
                    control::startup_all(c, node_id).map_err(pe)?
                } else {
                    control::shutdown_all(c, node_id).map_err(pe)?
                }));
            }
            if what != "process" {
                let hint = if verb == "refresh" {
                    String::new()
                } else {
                    format!(" or {verb} all;")
                };
                return Err(
                    format!("{verb} what? ({verb} process server=TYPE instance=N;{hint})").into(),
                );
            }
            let server = args
                .require(&["server"], &format!("{verb} process"))
                .map_err(de)?;
            let instance = args
                .require(&["instance"], &format!("{verb} process"))
                .map_err(de)?;
            args.finish(&format!("{verb} process"), &["server", "instance"])
                .map_err(de)?;
            let n = match Instance::parse(&instance).map_err(pe)? {
                Instance::Number(n) => n,
                Instance::Default => {
                    return Err(format!("{verb} process needs an instance number").into())
                }
            };
            Ok(Output::Done(
                match verb {
                    "startup" => control::startup(c, node_id, &server, n),
                    "shutdown" => control::shutdown(c, node_id, &server, n),
                    _ => control::refresh(c, node_id, &server, n),
                }
                .map_err(pe)?,
            ))
        }
        "show" => {
            let what = t.words.get(1).map(String::as_str).unwrap_or("");
            expect_words(t, 2)?;
            let mut args = args_of(t)?;
            let de = |e: directory::DirError| e.to_string();
            if what == "processes" {
                args.finish("show processes", &[]).map_err(de)?;
                return Ok(Output::Entries(
                    control::show(c, node_id).map_err(|e| e.to_string())?,
                ));
            }
            if what == "queues" {
                args.finish("show queues", &[]).map_err(de)?;
                let lengths = crate::store::statistics::queue_lengths(c, node_id)?;
                let entries = [
                    "SUBMISSION",
                    "REROUTING",
                    "REMOTE",
                    "GATEWAY",
                    "COLLECTOR",
                    "DEAD",
                ]
                .iter()
                .map(|q| {
                    let n = lengths
                        .iter()
                        .find(|(name, _)| name == q)
                        .map(|(_, n)| *n)
                        .unwrap_or(0);
                    vec![
                        ("queue".to_string(), q.to_ascii_lowercase()),
                        ("entries".to_string(), n.to_string()),
                    ]
                })
                .collect();
                return Ok(Output::Entries(entries));
            }
            if what == "monitor" {
                let test = args.take(&["test"]);
                args.finish("show monitor", &["test"]).map_err(de)?;
                let reports = match &test {
                    None => crate::store::monitor::latest(c, node_id)?,
                    Some(t) => {
                        crate::store::monitor::history(c, node_id, &t.to_ascii_lowercase(), 20)?
                    }
                };
                return Ok(Output::Entries(
                    reports
                        .into_iter()
                        .map(|r| {
                            vec![
                                ("test".to_string(), r.test),
                                ("result".to_string(), r.severity),
                                (
                                    "at".to_string(),
                                    r.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                                ),
                                ("summary".to_string(), r.summary),
                                ("details".to_string(), r.details.replace('\n', "; ")),
                            ]
                        })
                        .collect(),
                ));
            }
            match what {
                "parameters" => {
                    let server = args.require(&["server"], "show parameters").map_err(de)?;
                    let instance = args.take(&["instance"]).unwrap_or_else(|| "default".into());
                    args.finish("show parameters", &["server", "instance"])
                        .map_err(de)?;
                    let inst = Instance::parse(&instance).map_err(|e| e.to_string())?;
                    let list =
                        process::effective(c, node_id, &server, inst).map_err(|e| e.to_string())?;
                    let mut entries = Vec::new();
                    if let Instance::Number(n) = inst {
                        // the instance number is a parameter of its own, fixed at registration
                        entries.push(vec![
                            ("parameter".to_string(), "instance".to_string()),
                            ("value".to_string(), n.to_string()),
                            ("source".to_string(), "registration".to_string()),
                        ]);
                    }
                    Ok(Output::Entries(
                        entries.into_iter().chain(list.into_iter()
                            .map(|p| {
                                vec![
                                    ("parameter".to_string(), p.name),
                                    ("value".to_string(), p.value.unwrap_or_default()),
                                    (
                                        "source".to_string(),
                                        if p.own { "instance" } else { "default" }.to_string(),
                                    ),
                                ]
                            }))
                            .collect(),
                    ))
                }
                _ => Err("show what? (show processes; show queues; show monitor [test=NAME]; or show parameters server=TYPE instance=N|default;)".into()),
            }
        }
        "probe" => {
            expect_words(t, 1)?;
            let mut args = args_of(t)?;
            let de = |e: directory::DirError| e.to_string();
            let server = args.take(&["server"]);
            let instance = args.take(&["instance"]);
            args.finish("probe", &["server", "instance"]).map_err(de)?;
            if let Some(s) = &server {
                if crate::sps::Protocol::from_type_name(&s.to_ascii_lowercase()).is_none() {
                    return Err(format!("probe: server={s}: expected pop3srv or imap4srv").into());
                }
            }
            let instance = match instance {
                None => None,
                Some(v) => match Instance::parse(&v).map_err(|e| e.to_string())? {
                    Instance::Number(n) => Some(n),
                    Instance::Default => {
                        return Err("probe: instance must be a number".to_string().into())
                    }
                },
            };
            Ok(Output::Entries(super::probe::probe(
                c,
                node_id,
                server.as_deref(),
                instance,
                chrono::Utc::now(),
            )?))
        }
        "verify" => super::verify::statement(c, t),
        w => Err(format!("unknown command {w} (known: {COMMANDS})").into()),
    }
}
