//! `probe;`: the protocol server instances of the node (state, sessions, connection pool use:
//! in use / idle / waiting) and their connected users (client address, state, time
//! connected), as the instances last recorded them in the store (every second or two).

use chrono::{DateTime, Utc};

use crate::store::sps::{self as repo, Load};
use crate::store::{Conn, StoreError};

type Entry = Vec<(String, String)>;

fn kv(k: &str, v: impl ToString) -> (String, String) {
    (k.to_string(), v.to_string())
}

fn age(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match since {
        Some(t) => format!("{}s", (now - t).num_seconds().max(0)),
        None => String::new(),
    }
}

/// The entries of `probe [server=TYPE] [instance=N];`.
pub fn probe(
    c: &mut Conn,
    node_id: i64,
    server: Option<&str>,
    instance: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<Entry>, StoreError> {
    let wanted = |t: &str, i: i64| {
        server.is_none_or(|s| s.eq_ignore_ascii_case(t)) && instance.is_none_or(|n| n == i)
    };
    let sessions = repo::sessions(c, node_id)?;
    let mut out = Vec::new();
    for p in repo::instances(c, node_id)? {
        if !wanted(&p.type_name, p.instance) {
            continue;
        }
        let running = p.state == "RUNNING";
        // a load recorded by a process that is no longer running means nothing now
        let load = if running { p.load } else { None }.unwrap_or(Load::default());
        out.push(vec![
            kv("server", &p.type_name),
            kv("instance", p.instance),
            kv("state", &p.state),
            kv("pid", p.pid.map(|x| x.to_string()).unwrap_or_default()),
            kv("host", p.host.clone().unwrap_or_default()),
            kv("sessions", load.sessions),
            kv("pool_size", load.pool_size),
            kv("pool_in_use", load.in_use),
            kv("pool_idle", load.idle),
            kv("pool_waiting", load.waiting),
            kv(
                "load_age",
                if running {
                    age(p.load_at, now)
                } else {
                    String::new()
                },
            ),
        ]);
        if !running {
            continue;
        }
        for s in sessions
            .iter()
            .filter(|s| s.type_name == p.type_name && s.instance == p.instance)
        {
            out.push(vec![
                kv("session", &s.session_id),
                kv("server", &s.type_name),
                kv("instance", s.instance),
                kv("protocol", &s.protocol),
                kv("client", s.remote_addr.clone().unwrap_or_default()),
                kv("user", s.login.clone().unwrap_or_default()),
                kv("state", &s.state),
                kv("connected", age(s.started_at, now)),
            ]);
        }
    }
    Ok(out)
}
