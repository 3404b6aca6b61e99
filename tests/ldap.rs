//! The directory in a real LDAP server (OpenLDAP's slapd, started by each test in a temporary
//! directory, read with ldapsearch): IOLDAP's LDIF export loads with ldapadd; IOODSSYNC,
//! under the Guardian, pushes the directory and then each change, and catches up after the
//! LDAP server was down.
mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BASE: &str = "o=esmail";
const ROOT: &str = "cn=admin,o=esmail";
const ROOTPW: &str = "ldap-secret";

/// A slapd of its own, on a free port, with the mdb backend in a temporary directory.
struct Slapd {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl Slapd {
    fn start() -> Slapd {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let modules = [
            "/usr/lib/ldap",
            "/usr/lib/x86_64-linux-gnu/ldap",
            "/usr/lib/aarch64-linux-gnu/ldap",
        ]
        .into_iter()
        .find(|m| {
            Path::new(m).join("back_mdb.so").exists() || Path::new(m).join("back_mdb.la").exists()
        });
        let module_lines = match modules {
            Some(m) => format!("modulepath {m}\nmoduleload back_mdb\n"),
            None => String::new(),
        };
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("slapd.conf"),
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 pidfile {d}/slapd.pid\nargsfile {d}/slapd.args\n{module_lines}\
                 database mdb\nmaxsize 104857600\nsuffix \"{BASE}\"\nrootdn \"{ROOT}\"\n\
                 rootpw {ROOTPW}\ndirectory {d}/db\n"
            ),
        )
        .unwrap();
        let mut s = Slapd {
            dir,
            port: free_port(),
            child: None,
        };
        s.run();
        // the base entry
        let base = s.dir.path().join("base.ldif");
        std::fs::write(
            &base,
            format!("dn: {BASE}\nobjectClass: organization\no: esmail\n\n"),
        )
        .unwrap();
        let out = s.tool("ldapadd", &["-f", base.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "ldapadd of the base: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        s
    }

    /// Starts (or restarts) slapd on the same port and data.
    fn run(&mut self) {
        let d = self.dir.path();
        let child = Command::new(if Path::new("/usr/sbin/slapd").exists() {
            "/usr/sbin/slapd"
        } else {
            "slapd"
        })
        .args(["-f", d.join("slapd.conf").to_str().unwrap()])
        .args(["-h", &format!("ldap://127.0.0.1:{}/", self.port)])
        .args(["-d", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("slapd (apt-get install slapd ldap-utils)");
        self.child = Some(child);
        let until = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < until, "slapd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    fn tool(&self, tool: &str, args: &[&str]) -> std::process::Output {
        Command::new(tool)
            .args(["-x", "-H", &self.url(), "-D", ROOT, "-w", ROOTPW])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e} (apt-get install ldap-utils)"))
    }

    /// The entries under the base matching `filter`: (dn, attributes) with lower-case names.
    fn search(&self, filter: &str) -> Vec<(String, Vec<(String, String)>)> {
        let out = self.tool(
            "ldapsearch",
            &["-LLL", "-o", "ldif-wrap=no", "-b", BASE, filter],
        );
        assert!(
            out.status.success() || out.status.code() == Some(32),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.split("\n\n")
            .filter(|b| !b.trim().is_empty())
            .filter_map(|b| {
                let mut dn = None;
                let mut attrs = Vec::new();
                for line in b.lines() {
                    let Some((n, v)) = line.split_once(": ") else {
                        continue;
                    };
                    if n == "dn" {
                        dn = Some(v.to_string());
                    } else {
                        attrs.push((n.to_ascii_lowercase(), v.to_string()));
                    }
                }
                Some((dn?, attrs))
            })
            .collect()
    }

    fn one(&self, filter: &str) -> Option<Vec<(String, String)>> {
        self.search(filter).into_iter().next().map(|(_, a)| a)
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn value<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

const PEOPLE: &str = "create person username=jdoe domain=acme.com firstname=John lastname=Doe password=secret quota=0 title=Engineer telephonenumber=\"+1 555 1234\";
create person username=zoe domain=acme.com firstname=Zoë lastname=\"O'Neil, Jr.\" password=secret quota=0;
create room name=board domain=acme.com;
create publicalias name=jd domain=acme.com target=jdoe@acme.com;
create publicdl name=team domain=acme.com members=\"jdoe@acme.com, x@y.example\";
create privatealias name=mine owner=jdoe@acme.com target=x@y.example;\n";

#[test]
fn ioldap_writes_an_ldif_file_that_ldapadd_loads() {
    let ldap = Slapd::start();
    let n = Node::new();
    n.iofcmgr(PEOPLE).ok();
    let file: PathBuf = n.path().join("directory.ldif");
    let out = n.esmail(&["ioldap", "--out", file.to_str().unwrap(), "--base-dn", BASE]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("entries"), "{}", out.stdout);
    let ldif = std::fs::read_to_string(&file).unwrap();
    assert!(ldif.starts_with("version: 1"), "{ldif}");
    assert!(
        !ldif.contains("argon2") && !ldif.to_ascii_lowercase().contains("userpassword"),
        "no password leaves the store:\n{ldif}"
    );
    assert!(
        !ldif.contains("mine"),
        "private objects stay private:\n{ldif}"
    );
    let add = ldap.tool("ldapadd", &["-f", file.to_str().unwrap()]);
    assert!(
        add.status.success(),
        "ldapadd: {}\n{ldif}",
        String::from_utf8_lossy(&add.stderr)
    );
    let jdoe = ldap.one("(mail=jdoe@acme.com)").expect("jdoe in LDAP");
    assert_eq!(value(&jdoe, "cn"), Some("John Doe"));
    assert_eq!(value(&jdoe, "sn"), Some("Doe"));
    assert_eq!(value(&jdoe, "title"), Some("Engineer"));
    assert_eq!(value(&jdoe, "telephonenumber"), Some("+1 555 1234"));
    // a name with a comma and a non-ASCII letter round-trips
    let zoe = ldap.one("(uid=zoe)").expect("zoe in LDAP");
    assert_eq!(value(&zoe, "sn"), Some("O'Neil, Jr."), "{zoe:?}");
    // ldapsearch prints a non-ASCII value base64-encoded ("givenname:: Wm/Dqw==")
    assert_eq!(value(&zoe, "givenname:"), Some("Wm/Dqw=="), "{zoe:?}");
    for (filter, kind) in [
        ("(mail=board@acme.com)", "room"),
        ("(mail=jd@acme.com)", "alias"),
        ("(mail=team@acme.com)", "list"),
    ] {
        let e = ldap
            .one(filter)
            .unwrap_or_else(|| panic!("{filter} in LDAP"));
        assert_eq!(value(&e, "employeetype"), Some(kind), "{e:?}");
    }
    // orapost, jdoe, zoe, board, jd, team: six entries and the domain's container
    assert_eq!(ldap.search("(objectClass=inetOrgPerson)").len(), 6);
    assert_eq!(ldap.search("(ou=acme.com)").len(), 1);
    let bad = n.esmail(&[
        "ioldap",
        "--out",
        file.to_str().unwrap(),
        "--base-dn",
        "esmail",
    ]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("not a DN"), "{}", bad.stderr);
}

#[test]
fn ioodssync_pushes_the_directory_then_every_change_and_catches_up_after_an_outage() {
    let mut ldap = Slapd::start();
    let n = Node::new();
    let pw = n.path().join("ldap.pw");
    std::fs::write(&pw, format!("{ROOTPW}\n")).unwrap();
    let script = format!(
        "{PEOPLE}register paramvalue server=ioodssync instance=1 parameter=ldap_url value=\"{}\";
         register paramvalue server=ioodssync instance=1 parameter=base_dn value=\"{BASE}\";
         register paramvalue server=ioodssync instance=1 parameter=bind_dn value=\"{ROOT}\";
         register paramvalue server=ioodssync instance=1 parameter=bind_password_file value=\"{}\";
         register paramvalue server=ioodssync instance=1 parameter=interval value=1;
         register paramvalue server=ioodssync instance=1 parameter=retry_seconds value=1;\n",
        ldap.url(),
        pw.display()
    );
    let r = Running::start_for(n, &script, &["SMTP"]);
    // not started by default: it needs an LDAP server
    assert!(ldap.one("(uid=jdoe)").is_none());
    r.iofcmgr("startup process server=ioodssync instance=1;")
        .ok();
    wait_for("the first push", WAIT_SECS, || {
        ldap.one("(uid=jdoe)").is_some()
    });
    wait_for("every entry", WAIT_SECS, || {
        ldap.search("(objectClass=inetOrgPerson)").len() == 6
    });

    // each change follows: a new person, a change, a removed attribute, a rename, a deletion
    r.iofcmgr(
        "create person username=ann domain=acme.com firstname=Ann lastname=Lee password=secret quota=0;
         modify person username=jdoe domain=acme.com title=Boss;
         delete publicdl name=team domain=acme.com;",
    )
    .ok();
    wait_for("the changes in LDAP", WAIT_SECS, || {
        ldap.one("(uid=ann)").is_some()
            && ldap
                .one("(uid=jdoe)")
                .is_some_and(|e| value(&e, "title") == Some("Boss"))
            && ldap.one("(mail=team@acme.com)").is_none()
    });
    let acked = || -> (i64, i64) {
        let c = r.sqlite();
        let acked: i64 = c
            .query_row(
                "SELECT acked_seq FROM es_dir_subscriber WHERE subscriber_kind = 'LDAP'",
                [],
                |x| x.get(0),
            )
            .unwrap_or(-1);
        let last: i64 = c
            .query_row("SELECT MAX(change_seq) FROM es_dir_change", [], |x| {
                x.get(0)
            })
            .unwrap_or(-2);
        (acked, last)
    };
    wait_for("every change acknowledged", WAIT_SECS, || {
        let (a, l) = acked();
        a == l
    });

    // the LDAP server goes away; changes wait in the change log and arrive when it is back
    ldap.stop();
    r.iofcmgr("delete person username=ann domain=acme.com;\ncreate person username=bob domain=acme.com lastname=Brown password=secret quota=0;")
        .ok();
    std::thread::sleep(Duration::from_secs(3));
    let (a, l) = acked();
    assert!(
        a < l,
        "nothing is acknowledged while LDAP is down ({a} of {l})"
    );
    ldap.run();
    wait_for("the changes made during the outage", WAIT_SECS, || {
        ldap.one("(uid=bob)").is_some() && ldap.one("(uid=ann)").is_none()
    });
    wait_for("every change acknowledged again", WAIT_SECS, || {
        let (a, l) = acked();
        a == l
    });
    assert!(
        r.logs().contains("trying again"),
        "the outage is logged:\n{}",
        r.logs()
    );
    // the Monitor follows the subscriber too
    r.iofcmgr("refresh process server=monitor instance=1;").ok();
    wait_for(
        "the Monitor's view of the LDAP subscriber",
        WAIT_SECS,
        || {
            r.fetch("show monitor test=flow;").iter().any(|e| {
                attr(e, "summary").is_some_and(|s| s.contains(":ioodssync1 behind by 0 change(s)"))
            })
        },
    );
}

/// Adds LDIF to the server.
fn ldapadd(ldap: &Slapd, ldif: &str) {
    let f = ldap.dir.path().join(format!("add-{}.ldif", dn_safe(ldif)));
    std::fs::write(&f, ldif).unwrap();
    let out = ldap.tool("ldapadd", &["-f", f.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "ldapadd: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dn_safe(s: &str) -> String {
    format!(
        "{:x}",
        s.len() * 31 + s.bytes().map(|b| b as usize).sum::<usize>()
    )
}

fn ldap_person(uid: &str, given: &str, sn: &str) -> String {
    format!(
        "dn: uid={uid},ou=acme.com,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {given} {sn}\n\
         givenName: {given}\nsn: {sn}\nmail: {uid}@acme.com\ntitle: Analyst\n\n"
    )
}

#[test]
fn odsiosync_creates_persons_added_in_ldap_and_deletes_those_deleted_there() {
    let ldap = Slapd::start();
    ldapadd(
        &ldap,
        &format!(
            "dn: ou=acme.com,{BASE}\nobjectClass: organizationalUnit\nou: acme.com\n\n{}",
            ldap_person("lisa", "Lisa", "Smith")
        ),
    );
    let n = Node::new();
    let pw = n.path().join("ldap.pw");
    std::fs::write(&pw, format!("{ROOTPW}\n")).unwrap();
    let script = format!(
        "create person username=jdoe domain=acme.com firstname=John lastname=Doe password=secret quota=0;
         register paramvalue server=odsiosync instance=1 parameter=ldap_url value=\"{}\";
         register paramvalue server=odsiosync instance=1 parameter=base_dn value=\"{BASE}\";
         register paramvalue server=odsiosync instance=1 parameter=bind_dn value=\"{ROOT}\";
         register paramvalue server=odsiosync instance=1 parameter=bind_password_file value=\"{}\";
         register paramvalue server=odsiosync instance=1 parameter=interval value=1;
         register paramvalue server=odsiosync instance=1 parameter=max_deletions value=1;\n",
        ldap.url(),
        pw.display()
    );
    let r = Running::start_for(n, &script, &["SMTP"]);
    let person = |u: &str| {
        r.fetch(&format!("fetch person username={u} domain=acme.com;"))
            .into_iter()
            .next()
    };
    r.iofcmgr("startup process server=odsiosync instance=1;")
        .ok();
    // a person added in LDAP is created in esmail, with the names LDAP has
    wait_for("lisa in esmail", WAIT_SECS, || person("lisa").is_some());
    let lisa = person("lisa").unwrap();
    assert_eq!(attr(&lisa, "firstname"), Some("Lisa"));
    assert_eq!(attr(&lisa, "lastname"), Some("Smith"));
    assert_eq!(attr(&lisa, "title"), Some("Analyst"));
    assert!(person("jdoe").is_some(), "esmail's own persons stay");

    // updates in LDAP are not carried back
    let f = ldap.dir.path().join("mod.ldif");
    std::fs::write(&f, format!("dn: uid=lisa,ou=acme.com,{BASE}\nchangetype: modify\nreplace: title\ntitle: Director\n\n")).unwrap();
    assert!(ldap
        .tool("ldapmodify", &["-f", f.to_str().unwrap()])
        .status
        .success());
    ldapadd(&ldap, &ldap_person("mark", "Mark", "Jones"));
    wait_for("mark in esmail", WAIT_SECS, || person("mark").is_some());
    assert_eq!(attr(&person("lisa").unwrap(), "title"), Some("Analyst"));

    // a person deleted in LDAP is deleted in esmail
    let del = ldap.tool("ldapdelete", &[&format!("uid=lisa,ou=acme.com,{BASE}")]);
    assert!(
        del.status.success(),
        "{}",
        String::from_utf8_lossy(&del.stderr)
    );
    wait_for("lisa deleted in esmail", WAIT_SECS, || {
        person("lisa").is_none()
    });

    // more deletions at once than max_deletions: nothing is deleted, and the log says why
    ldapadd(&ldap, &ldap_person("nina", "Nina", "Park"));
    wait_for("nina in esmail", WAIT_SECS, || person("nina").is_some());
    for u in ["mark", "nina"] {
        assert!(ldap
            .tool("ldapdelete", &[&format!("uid={u},ou=acme.com,{BASE}")])
            .status
            .success());
    }
    wait_for("the refusal in the log", WAIT_SECS, || {
        r.logs().contains("more than max_deletions (1)")
    });
    assert!(
        person("mark").is_some() && person("nina").is_some(),
        "nothing deleted"
    );
}

#[test]
fn ioodssync_killed_in_the_middle_of_its_first_push_finishes_it_after_the_restart() {
    let ldap = Slapd::start();
    let n = Node::new();
    let pw = n.path().join("ldap.pw");
    std::fs::write(&pw, format!("{ROOTPW}\n")).unwrap();
    let total = 300;
    let mut script: String = (0..total)
        .map(|i| format!("create person username=p{i} domain=acme.com lastname=Person{i};\n"))
        .collect();
    script += &format!(
        "register paramvalue server=ioodssync instance=1 parameter=ldap_url value=\"{}\";
         register paramvalue server=ioodssync instance=1 parameter=base_dn value=\"{BASE}\";
         register paramvalue server=ioodssync instance=1 parameter=bind_dn value=\"{ROOT}\";
         register paramvalue server=ioodssync instance=1 parameter=bind_password_file value=\"{}\";
         register paramvalue server=ioodssync instance=1 parameter=interval value=1;
         register paramvalue server=ioodssync instance=1 parameter=retry_seconds value=1;\n",
        ldap.url(),
        pw.display()
    );
    let r = Running::start_for(n, &script, &["SMTP"]);
    r.iofcmgr("startup process server=ioodssync instance=1;")
        .ok();
    let pid: i32 = wait_some("the pid of ioodssync1", WAIT_SECS, || {
        let e = r.process("ioodssync", "1")?;
        let pid: i32 = attr(&e, "pid")?.parse().ok()?;
        (pid > 0).then_some(pid)
    });
    // let it run in small steps until part of the directory is in LDAP, then kill it
    let count = || ldap.search("(objectClass=inetOrgPerson)").len();
    let until = Instant::now() + Duration::from_secs(WAIT_SECS);
    let at_kill = loop {
        unsafe {
            libc::kill(pid, libc::SIGSTOP);
        }
        let now = count();
        if now >= 20 || Instant::now() > until {
            break now;
        }
        unsafe {
            libc::kill(pid, libc::SIGCONT);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    assert!(
        at_kill < total + 1,
        "killed in the middle ({at_kill} entries)"
    );
    // a change made while it is down arrives too
    r.iofcmgr("modify person username=p7 domain=acme.com title=Late;")
        .ok();
    wait_for("the whole directory in LDAP", 4 * WAIT_SECS, || {
        count() == total + 1
            && ldap
                .one("(uid=p7)")
                .is_some_and(|e| value(&e, "title") == Some("Late"))
    });
    let subscribers: i64 = r
        .sqlite()
        .query_row("SELECT COUNT(*) FROM es_dir_subscriber", [], |x| x.get(0))
        .unwrap();
    assert_eq!(subscribers, 1, "one subscriber, registered once");
    assert_ne!(
        r.running_pid("ioodssync", "1"),
        pid,
        "the Guardian restarted it"
    );
}
