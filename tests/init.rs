//! `esmail init`, `upgrade`, `status` and `start` through the real binary.
mod common;
use common::*;

#[test]
fn init_creates_the_first_node_and_is_idempotent() {
    let n = Node::empty();
    let r = n.esmail(&["init", "--domain", "Acme.COM"]).ok();
    assert!(r.stdout.contains("initialised"), "{}", r.stdout);
    assert!(r.stdout.contains("domain acme.com"), "{}", r.stdout);
    assert!(r.stdout.contains("orapost@acme.com"), "{}", r.stdout);
    assert!(n.db().exists());

    let before = std::fs::read(n.db()).unwrap().len();
    let again = n.esmail(&["init", "--domain", "acme.com"]).ok();
    assert!(
        again.stdout.contains("already initialised"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
    assert_eq!(std::fs::read(n.db()).unwrap().len(), before);

    // the first node, its domain, ORAPOST and a certificate are in the store
    let domains = n.fetch("fetch domain;");
    assert_eq!(domains.len(), 1);
    assert_eq!(attr(&domains[0], "qualifiedname"), Some("acme.com"));
    let node = n.fetch("fetch node;");
    assert_eq!(node.len(), 1);
    assert_eq!(attr(&node[0], "scn"), Some("yes"));
    let orapost = n.fetch("fetch person username=orapost;");
    assert_eq!(attr(&orapost[0], "address"), Some("orapost@acme.com"));
    let status = n.esmail(&["status"]).ok();
    let latest = esmail::store::schema::latest(esmail::store::Dialect::Sqlite);
    assert!(
        status.stdout.contains(&format!("schema version {latest}")),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("certificate 'default'"),
        "{}",
        status.stdout
    );
}

#[test]
fn init_without_domain_uses_the_host_name_and_says_so() {
    let n = Node::empty();
    let r = n.esmail(&["init"]).ok();
    let host = hostname_lower();
    assert!(
        r.stdout.contains(&format!("domain {host}")),
        "{} (host {host})",
        r.stdout
    );
}

fn hostname_lower() -> String {
    let out = std::process::Command::new("hostname")
        .output()
        .expect("hostname");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .to_ascii_lowercase()
}

#[test]
fn init_refuses_a_bad_domain_and_changes_nothing() {
    let n = Node::empty();
    let r = n.esmail(&["init", "--domain", "not a domain"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.starts_with("esmail: "), "{}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
}

#[test]
fn oracle_store_without_client_is_one_clear_line() {
    let n = Node::empty();
    for with_password in [false, true] {
        let mut c = command(esmail_bin(), n.path());
        c.args([
            "--store",
            "oracle://x@//127.0.0.1:1521/none",
            "init",
            "--domain",
            "acme.com",
        ]);
        if with_password {
            c.env("ESMAIL_DB_PASSWORD", "dummy");
        }
        let r: Run = c.output().unwrap().into();
        assert_ne!(r.code, 0);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(
            !r.stderr.contains("dummy"),
            "the password is never printed: {}",
            r.stderr
        );
        if with_password {
            assert!(
                r.stderr.contains("DPI-1047") || r.stderr.contains("ORA-"),
                "{}",
                r.stderr
            );
            assert!(
                r.stderr.contains("oracle://x@//127.0.0.1:1521/none"),
                "{}",
                r.stderr
            );
        } else {
            assert!(r.stderr.contains("ESMAIL_DB_PASSWORD"), "{}", r.stderr);
        }
    }
}

#[test]
fn a_password_in_the_url_is_refused() {
    let n = Node::empty();
    let r = n.esmail(&["--store", "oracle://x:pw@db/orcl", "init"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("password does not belong in the URL"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_store_is_found_in_order_flag_env_config_default() {
    let n = Node::empty();
    let p = n.path();
    // default
    command(esmail_bin(), p)
        .args(["init", "--domain", "d0.com"])
        .output()
        .unwrap();
    assert!(p.join("esmail-data/esmail.db").exists());
    // config file
    std::fs::write(
        p.join("esmail.toml"),
        "[store]\nurl = \"sqlite:./cfg.db\"\n",
    )
    .unwrap();
    command(esmail_bin(), p)
        .args(["init", "--domain", "d1.com"])
        .output()
        .unwrap();
    assert!(p.join("cfg.db").exists());
    // environment beats the config file
    command(esmail_bin(), p)
        .env("ESMAIL_STORE", "sqlite:./env.db")
        .args(["init", "--domain", "d2.com"])
        .output()
        .unwrap();
    assert!(p.join("env.db").exists());
    // the flag beats the environment
    command(esmail_bin(), p)
        .env("ESMAIL_STORE", "sqlite:./env.db")
        .args(["--store", "sqlite:./flag.db", "init", "--domain", "d3.com"])
        .output()
        .unwrap();
    assert!(p.join("flag.db").exists());
    let r: Run = command(esmail_bin(), p)
        .args(["--store", "sqlite:./flag.db", "status"])
        .output()
        .unwrap()
        .into();
    assert!(r.stdout.contains("domain     d3.com"), "{}", r.stdout);
    // an unknown key in the config file is named
    std::fs::write(p.join("esmail.toml"), "[store]\nurll = \"x\"\n").unwrap();
    let r: Run = command(esmail_bin(), p)
        .args(["status"])
        .output()
        .unwrap()
        .into();
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("urll"), "{}", r.stderr);
}

#[test]
fn commands_on_a_missing_store_say_what_to_do() {
    let n = Node::empty();
    let r = n.esmail(&["status"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("esmail init"), "{}", r.stderr);
    assert!(!n.db().exists(), "status must not create a store");
    let r = n.iofcmgr("fetch domain;");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("esmail init"), "{}", r.stderr);
}

#[test]
fn upgrade_on_a_current_store_changes_nothing() {
    let n = Node::new();
    let r = n.esmail(&["upgrade"]).ok();
    assert!(r.stdout.contains("up to date"), "{}", r.stdout);
}

#[test]
fn start_initialises_a_new_store_then_runs_the_guardian_until_sigterm() {
    let n = Node::empty();
    let out = n.path().join("start.out");
    let mut child = command(esmail_bin(), n.path())
        .args(["start", "--domain", "example.org"])
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if text.contains("starting the Guardian") {
            assert!(text.contains("initialised"), "{text}");
            assert!(text.contains("domain example.org"), "{text}");
            break;
        }
        assert!(std::time::Instant::now() < until, "{text}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
