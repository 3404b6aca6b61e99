//! The Guardian and the process model through the real binaries: `esmail start`, `iofcmgr`
//! process commands, `kill -9`, refresh, schedules, SIGTERM.
mod common;
use common::*;

use std::process::Child;
use std::time::{Duration, Instant};

/// Generous: these wait for events, they do not measure speed.
const WAIT: Duration = Duration::from_secs(30);

struct Running {
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        // never leave a node behind, even when a test fails
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(n: &Node) -> Running {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(n.path().join("start.out"))
        .unwrap();
    let child = command(esmail_bin(), n.path())
        .args(["start", "--domain", "acme.com"])
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("esmail start");
    Running { child }
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

type Entry = Vec<(String, String)>;

/// The instance's `show processes` entry; None while the store is not there yet.
fn process_opt(n: &Node, server: &str, instance: &str) -> Option<Entry> {
    let r = n.iofcmgr("show processes;");
    if r.code != 0 {
        return None;
    }
    parse_entries(&r.stdout)
        .into_iter()
        .find(|e| attr(e, "server") == Some(server) && attr(e, "instance") == Some(instance))
}

fn process(n: &Node, server: &str, instance: &str) -> Entry {
    process_opt(n, server, instance)
        .unwrap_or_else(|| panic!("{server}{instance} is not registered"))
}

/// Waits until the instance runs; returns its pid.
fn running(n: &Node, server: &str, instance: &str) -> i32 {
    wait_for(&format!("{server}{instance} to run"), || {
        let e = process_opt(n, server, instance)?;
        (attr(&e, "state") == Some("running"))
            .then(|| attr(&e, "pid").and_then(|p| p.parse().ok()))
            .flatten()
    })
}

fn stopped(n: &Node, server: &str, instance: &str) -> Entry {
    wait_for(&format!("{server}{instance} to stop"), || {
        let e = process(n, server, instance);
        (attr(&e, "state") == Some("stopped")).then_some(e)
    })
}

fn alive(pid: i32) -> bool {
    unsafe { libc::kill(pid, 0) == 0 }
}

fn log_of(n: &Node, suffix: &str) -> String {
    let dir = n.path().join("esmail-data/log");
    let mut text = String::new();
    for f in std::fs::read_dir(&dir).unwrap() {
        let p = f.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().ends_with(suffix) {
            text.push_str(&std::fs::read_to_string(p).unwrap());
        }
    }
    text
}

#[test]
fn start_runs_the_guardian_and_its_children_and_sigterm_stops_them_all() {
    let n = Node::new();
    let mut node = start(&n);
    let guardian = running(&n, "guardian", "1");
    let collector = running(&n, "collector", "1");
    let statistics = running(&n, "statistics", "1");
    assert!(alive(collector) && alive(statistics));
    assert_eq!(guardian as u32, node.child.id());

    // a second Guardian for the same node refuses to run
    let second = n.esmail(&["guardian"]);
    assert_ne!(second.code, 0);
    assert!(second.stderr.contains("already runs"), "{}", second.stderr);

    unsafe {
        libc::kill(node.child.id() as i32, libc::SIGTERM);
    }
    let status = wait_for("the Guardian to exit", || node.child.try_wait().unwrap());
    assert_eq!(status.code(), Some(0), "the Guardian exits 0 after SIGTERM");
    assert!(!alive(collector), "no orphan collector");
    assert!(!alive(statistics), "no orphan statistics");
    for (s, i) in [("collector", "1"), ("statistics", "1"), ("guardian", "1")] {
        let e = process(&n, s, i);
        assert_eq!(attr(&e, "state"), Some("stopped"), "{s}: {e:?}");
        assert_eq!(attr(&e, "pid"), Some(""), "{s}: {e:?}");
    }
    // the log files are named like the original: <node>_<host>_<type><NN>.log
    let g = log_of(&n, "_guardian01.log");
    assert!(g.contains("stop requested"), "{g}");
    assert!(!log_of(&n, "_collector01.log").is_empty());
}

#[test]
fn a_killed_child_comes_back_and_the_guardian_says_why() {
    let n = Node::new();
    let _node = start(&n);
    let pid = running(&n, "collector", "1");
    let before: i64 = attr(&process(&n, "collector", "1"), "restarts")
        .unwrap()
        .parse()
        .unwrap();
    let killed_at = Instant::now();
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    let new_pid = wait_for("a new collector", || {
        let e = process(&n, "collector", "1");
        let p: i32 = attr(&e, "pid")?.parse().ok()?;
        (p != pid && attr(&e, "state") == Some("running")).then_some(p)
    });
    let back_after = killed_at.elapsed();
    assert!(alive(new_pid));
    let e = process(&n, "collector", "1");
    let after: i64 = attr(&e, "restarts").unwrap().parse().unwrap();
    assert_eq!(after, before + 1, "{e:?}");
    assert!(attr(&e, "lastexit").unwrap().contains("SIGKILL"), "{e:?}");
    let g = log_of(&n, "_guardian01.log");
    assert!(
        g.contains("collector1: killed by signal 9 (SIGKILL)"),
        "{g}"
    );
    eprintln!("collector back after {back_after:?}");
}

#[test]
fn refresh_changes_a_running_process_without_restarting_it() {
    let n = Node::new();
    let _node = start(&n);
    let pid = running(&n, "collector", "1");
    n.iofcmgr(
        "register paramvalue server=collector instance=1 parameter=loglevel value=debug;\n\
         register paramvalue server=collector instance=1 parameter=interval value=1;\n\
         refresh process server=collector instance=1;\n",
    )
    .ok();
    wait_for(
        "the collector to reread its parameters and log at debug",
        || {
            let log = log_of(&n, "_collector01.log");
            let after = log.split("parameters reread").nth(1)?;
            after.contains(" DEBUG ").then_some(())
        },
    );
    assert_eq!(
        running(&n, "collector", "1"),
        pid,
        "refresh must not restart the process"
    );
    // the instance has its own value now; the default did not change
    let own = n.fetch("show parameters server=collector instance=1;");
    let lvl = own
        .iter()
        .find(|e| attr(e, "parameter") == Some("loglevel"))
        .unwrap();
    assert_eq!(attr(lvl, "value"), Some("debug"));
    assert_eq!(attr(lvl, "source"), Some("instance"));
    let def = n.fetch("show parameters server=collector instance=default;");
    let lvl = def
        .iter()
        .find(|e| attr(e, "parameter") == Some("loglevel"))
        .unwrap();
    assert_eq!(attr(lvl, "value"), Some("info"));
}

#[test]
fn startup_shutdown_and_their_all_forms() {
    let n = Node::new();
    let _node = start(&n);
    running(&n, "statistics", "1");
    let r = n
        .iofcmgr("startup process server=statistics instance=1;")
        .ok();
    assert!(r.code == 0);
    n.iofcmgr("shutdown process server=statistics instance=1;")
        .ok();
    let e = stopped(&n, "statistics", "1");
    assert!(
        attr(&e, "lastexit").unwrap().contains("shutdown requested"),
        "{e:?}"
    );
    running(&n, "collector", "1");
    n.iofcmgr("startup process server=statistics instance=1;")
        .ok();
    running(&n, "statistics", "1");

    n.iofcmgr("register process server=collector instance=2;")
        .ok();
    n.iofcmgr("startup process server=collector instance=2;")
        .ok();
    running(&n, "collector", "2");
    n.iofcmgr("shutdown all;").ok();
    for (s, i) in [("collector", "1"), ("collector", "2"), ("statistics", "1")] {
        stopped(&n, s, i);
    }
    assert_eq!(
        attr(&process(&n, "guardian", "1"), "state"),
        Some("running")
    );
    // startup all: the instances whose defaultStartUp is enabled
    n.iofcmgr("register paramvalue server=collector instance=2 parameter=defaultStartUp value=disabled;\nstartup all;").ok();
    running(&n, "collector", "1");
    running(&n, "statistics", "1");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        attr(&process(&n, "collector", "2"), "state"),
        Some("stopped")
    );

    let r = n.iofcmgr("startup process server=collector instance=9;");
    assert!(r.stderr.contains("not registered"), "{}", r.stderr);
    let r = n.iofcmgr("register paramvalue server=collector instance=1 parameter=schedule value=\"someday 10:00\";");
    assert!(r.stderr.contains("schedule"), "{}", r.stderr);
}

#[test]
fn a_scheduled_instance_runs_inside_its_slice_only() {
    let n = Node::new();
    let _node = start(&n);
    running(&n, "collector", "1");
    // a slice that starts 6 seconds from now and lasts 8 seconds (the Guardian's local time)
    let begin = chrono::Local::now() + chrono::Duration::seconds(6);
    let slice = format!("daily {}+8s", begin.format("%H:%M:%S"));
    n.iofcmgr(&format!(
        "register process server=collector instance=3;\n\
         register paramvalue server=collector instance=3 parameter=schedule value=\"{slice}\";\n\
         startup process server=collector instance=3;\n"
    ))
    .ok();
    std::thread::sleep(Duration::from_secs(2));
    assert_ne!(
        attr(&process(&n, "collector", "3"), "state"),
        Some("running"),
        "not before its slice"
    );
    running(&n, "collector", "3");
    assert!(
        chrono::Local::now() >= begin - chrono::Duration::milliseconds(500),
        "started at the slice edge, not before"
    );
    let e = stopped(&n, "collector", "3");
    assert!(
        chrono::Local::now()
            >= begin + chrono::Duration::seconds(8) - chrono::Duration::milliseconds(500)
    );
    assert!(
        attr(&e, "lastexit")
            .unwrap()
            .contains("outside its schedule"),
        "{e:?}"
    );
}

#[test]
fn a_guardian_killed_outright_takes_its_children_along_and_a_new_one_cleans_up() {
    let n = Node::new();
    let mut node = start(&n);
    let collector = running(&n, "collector", "1");
    let statistics = running(&n, "statistics", "1");
    node.child.kill().unwrap(); // SIGKILL: no chance to stop its children itself
    node.child.wait().unwrap();
    wait_for("the orphaned children to stop", || {
        (!alive(collector) && !alive(statistics)).then_some(())
    });

    // as after a restore from a backup: the store says processes run that do not
    let db = rusqlite::Connection::open(n.db()).unwrap();
    db.execute(
        "UPDATE es_process SET actual_state = 'RUNNING', pid = ?1, host_name = ?2 WHERE type_name = 'collector'",
        rusqlite::params![collector, "vm"],
    )
    .unwrap();
    db.execute(
        "UPDATE es_process SET actual_state = 'RUNNING', pid = 4242, host_name = 'restored-host' WHERE type_name = 'statistics'",
        [],
    )
    .unwrap();
    drop(db);
    let _again = start(&n);
    let new_pid = wait_for("a new collector", || {
        let e = process_opt(&n, "collector", "1")?;
        let p: i32 = attr(&e, "pid")?.parse().ok()?;
        (p != collector && attr(&e, "state") == Some("running")).then_some(p)
    });
    assert!(alive(new_pid));
    running(&n, "statistics", "1");
    let g = log_of(&n, "_guardian01.log");
    assert!(g.contains("stale record at Guardian start"), "{g}");
    assert!(g.contains("restored-host"), "{g}");
}
