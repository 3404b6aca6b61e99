//! IOLISTENER (`esmail iolistener`): accepts POP3 and IMAP4 clients and hands each to the
//! least busy running instance of its protocol server.
//!
//! One per node. It listens on up to four ports (parameters `pop3_port`, `imap_port`,
//! `pop3s_port`, `imaps_port` on `bind_address`; 0 = not listened on): the port a client came
//! to says its protocol and whether TLS is implicit. The instances of the node attach to the
//! Unix socket `handoff_socket` (default `run/iolistener.sock` in the data directory, see
//! [`handoff::socket_path`]) and get each client's socket over it (the protocol is in
//! [`crate::sps::handoff`], the choice in [`dispatch`]). At most `max_connections` clients
//! wait to be handed over; more stay in the kernel's backlog.
//!
//! At start the socket's directory is created (`0700`), a stale socket file (nobody
//! listening) is removed, and the socket is made `0600`. On SIGTERM it stops accepting,
//! closes the socket (the instances keep their sessions and wait for a new listener), removes
//! the socket file and records the stop.

pub mod dispatch;

use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use dispatch::{Dispatcher, Outcome};

use super::{handoff, Protocol};
use crate::cli::StoreArgs;
use crate::config::Config;
use crate::process::runtime::Runtime;

pub const TYPE_NAME: &str = "iolistener";

/// The port parameters: name, protocol, implicit TLS, default.
const PORTS: [(&str, Protocol, bool, u16); 4] = [
    ("pop3_port", Protocol::Pop3, false, 1110),
    ("imap_port", Protocol::Imap, false, 1143),
    ("pop3s_port", Protocol::Pop3, true, 1995),
    ("imaps_port", Protocol::Imap, true, 1993),
];
/// Clients accepted and not yet handed over, by default.
pub const DEFAULT_MAX_CONNECTIONS: u64 = 10_000;

/// A port listened on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// Its parameter.
    pub param: &'static str,
    pub protocol: Protocol,
    pub implicit_tls: bool,
    pub addr: SocketAddr,
}

impl Port {
    fn describe(&self) -> String {
        format!(
            "{}{} ({})",
            self.protocol.name(),
            if self.implicit_tls { " over TLS" } else { "" },
            self.param
        )
    }
}

/// What the listener runs with, from its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub ports: Vec<Port>,
    pub socket: PathBuf,
    /// `handoff_socket` is not set: the socket's directory is the listener's own.
    pub own_socket_dir: bool,
    pub max_connections: usize,
}

impl Settings {
    /// From the parameters `param` finds (unset: the defaults).
    pub fn from_params(
        param: impl Fn(&str) -> Option<String>,
        cfg: &Config,
    ) -> Result<Settings, String> {
        let bind = param("bind_address").unwrap_or_else(|| "0.0.0.0".into());
        let bind = bind.trim();
        let ip: IpAddr = bind
            .parse()
            .map_err(|_| format!("bind_address={bind:?} is not an IP address"))?;
        let mut ports: Vec<Port> = Vec::new();
        for (name, protocol, implicit_tls, default) in PORTS {
            let port = match param(name) {
                None => default,
                Some(v) => v
                    .trim()
                    .parse::<u16>()
                    .map_err(|_| format!("{name}={v:?} is not a TCP port (0 to 65535)"))?,
            };
            if port == 0 {
                continue;
            }
            if let Some(other) = ports.iter().find(|p| p.addr.port() == port) {
                return Err(format!(
                    "{name} and {} are both {port}: give each its own port",
                    other.param
                ));
            }
            ports.push(Port {
                param: name,
                protocol,
                implicit_tls,
                addr: SocketAddr::new(ip, port),
            });
        }
        let socket_param = param("handoff_socket").filter(|v| !v.trim().is_empty());
        let max_connections = match param("max_connections") {
            None => DEFAULT_MAX_CONNECTIONS,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) => n.max(1),
                Err(_) => {
                    log::warn!(
                        "max_connections={v:?} is not a number: {DEFAULT_MAX_CONNECTIONS} instead"
                    );
                    DEFAULT_MAX_CONNECTIONS
                }
            },
        };
        Ok(Settings {
            ports,
            socket: handoff::socket_path(cfg, socket_param.as_deref()),
            own_socket_dir: socket_param.is_none(),
            max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
        })
    }
}

/// The socket file the listener created (removed at the end only if it is still that one).
#[derive(Debug)]
pub struct SocketFile {
    pub path: PathBuf,
    id: FileId,
}

/// Tells a file from a later one at the same path (inode numbers are reused, so the change
/// time too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    ctime: (i64, i64),
}

impl FileId {
    fn of(m: &std::fs::Metadata) -> FileId {
        FileId {
            dev: m.dev(),
            ino: m.ino(),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

impl SocketFile {
    /// Is the file at `path` still ours?
    pub fn present(&self) -> bool {
        std::fs::symlink_metadata(&self.path)
            .map(|m| FileId::of(&m) == self.id)
            .unwrap_or(false)
    }

    pub fn remove(&self) {
        if !self.present() {
            return;
        }
        match std::fs::remove_file(&self.path) {
            Ok(()) => log::info!("removed {}", self.path.display()),
            Err(e) => log::warn!("cannot remove {}: {e}", self.path.display()),
        }
    }
}

/// Binds the handoff socket at `path`: creates its directory (`0700`; when it is the
/// listener's own, `0700` also if it existed), removes a stale socket (nobody listening),
/// refuses to touch anything else, and makes the socket `0600`.
pub fn bind_socket(
    path: &Path,
    own_dir: bool,
) -> Result<(std::os::unix::net::UnixListener, SocketFile), String> {
    let shown = path.display();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        } else if own_dir {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("cannot restrict {} to its owner: {e}", dir.display()))?;
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if handoff::listening(path) {
                return Err(format!(
                    "another IOLISTENER already listens at {shown}: stop it first"
                ));
            }
            std::fs::remove_file(path)
                .map_err(|e| format!("cannot remove the stale socket {shown}: {e}"))?;
            log::info!("removed the stale socket {shown}");
        }
        Ok(_) => {
            return Err(format!(
                "{shown} exists and is not a socket: set handoff_socket elsewhere or remove it"
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot look at {shown}: {e}")),
    }
    let listener = std::os::unix::net::UnixListener::bind(path).map_err(|e| {
        format!("cannot listen at {shown}: {e} (a socket path is at most 107 bytes)")
    })?;
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        let _ = std::fs::remove_file(path);
        return Err(format!("cannot restrict {shown} to its owner: {e}"));
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => return Err(format!("{shown}: {e}")),
    };
    let file = SocketFile {
        path: path.to_path_buf(),
        id: FileId::of(&meta),
    };
    if let Err(e) = listener.set_nonblocking(true) {
        file.remove();
        return Err(format!("{shown}: {e}"));
    }
    Ok((listener, file))
}

/// The process: listens until SIGTERM or SIGINT. Parameters other than `loglevel` apply at
/// the next start.
pub fn run(args: &StoreArgs, instance: i64) -> Result<(), String> {
    let mut rt = Runtime::start(TYPE_NAME, instance, args)?;
    let files = crate::process::runtime::raise_open_file_limit();
    log::info!("open-file limit {files}");
    const PARAMS: &[&str] = &[
        "bind_address",
        "pop3_port",
        "imap_port",
        "pop3s_port",
        "imaps_port",
        "handoff_socket",
        "max_connections",
    ];
    let lookup = |rt: &Runtime| rt.lookup(PARAMS);
    let settings = Settings::from_params(lookup(&rt), &rt.cfg)?;
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(TYPE_NAME)
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    // the ports first: one in use fails before the socket is touched
    let mut listeners = Vec::new();
    for p in &settings.ports {
        let l = tokio_rt
            .block_on(tokio::net::TcpListener::bind(p.addr))
            .map_err(|e| format!("cannot listen on {} for {}: {e}", p.addr, p.describe()))?;
        listeners.push((p.clone(), l));
    }
    let (std_unix, socket_file) = bind_socket(&settings.socket, settings.own_socket_dir)?;
    let unix = {
        let _in_rt = tokio_rt.enter();
        tokio::net::UnixListener::from_std(std_unix)
    };
    let unix = match unix {
        Ok(u) => u,
        Err(e) => {
            socket_file.remove();
            return Err(format!("{}: {e}", settings.socket.display()));
        }
    };
    let dispatcher = Dispatcher::new(settings.max_connections);
    let handoff_task = tokio_rt.spawn({
        let d = dispatcher.clone();
        async move { d.serve_handoff(unix).await }
    });
    let mut accepts = Vec::new();
    for (p, l) in listeners {
        log::info!("listening on {} for {}", p.addr, p.describe());
        let d = dispatcher.clone();
        let (protocol, tls) = (p.protocol, p.implicit_tls);
        let task = tokio_rt.spawn(async move { d.accept_loop(l, protocol, tls).await });
        accepts.push((p, task));
    }
    if accepts.is_empty() {
        log::warn!("every port parameter is 0: no client will come");
    }
    log::info!(
        "instances attach at {} (at most {} clients waiting to be handed over)",
        socket_file.path.display(),
        settings.max_connections
    );
    let mut failed = None;
    let mut gone_logged = false;
    while rt.wait(Duration::from_secs(1)) {
        if handoff_task.is_finished() {
            failed = Some("the handoff socket stopped".to_string());
            break;
        }
        if let Some((p, _)) = accepts.iter().find(|(_, t)| t.is_finished()) {
            failed = Some(format!("the listener on {} stopped", p.addr));
            break;
        }
        if !gone_logged && !socket_file.present() {
            gone_logged = true;
            log::error!(
                "{} was removed or replaced: instances cannot attach until IOLISTENER restarts",
                socket_file.path.display()
            );
        }
        if rt.take_refreshed() {
            match Settings::from_params(lookup(&rt), &rt.cfg) {
                Ok(s) if s != settings => log::warn!(
                    "ports, bind_address, handoff_socket or max_connections changed: restart the instance to apply them"
                ),
                Ok(_) => {}
                Err(e) => log::warn!("new parameters not usable: {e}"),
            }
        }
    }
    dispatcher.shutdown();
    for (p, t) in accepts {
        if let Err(e) = tokio_rt.block_on(t) {
            log::error!("the listener on {} failed: {e}", p.addr);
        }
    }
    if let Err(e) = tokio_rt.block_on(handoff_task) {
        log::error!("the handoff socket failed: {e}");
    }
    socket_file.remove();
    tokio_rt.shutdown_timeout(Duration::from_secs(2));
    rt.conclude(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        crate::config::resolve(Some("sqlite:/srv/esmail/esmail.db"), None).unwrap()
    }

    fn with(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let v: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        move |n: &str| v.iter().find(|(a, _)| a == n).map(|(_, b)| b.clone())
    }

    #[test]
    fn settings_defaults() {
        let s = Settings::from_params(|_| None, &cfg()).unwrap();
        let got: Vec<(Protocol, bool, String)> = s
            .ports
            .iter()
            .map(|p| (p.protocol, p.implicit_tls, p.addr.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Protocol::Pop3, false, "0.0.0.0:1110".to_string()),
                (Protocol::Imap, false, "0.0.0.0:1143".to_string()),
                (Protocol::Pop3, true, "0.0.0.0:1995".to_string()),
                (Protocol::Imap, true, "0.0.0.0:1993".to_string()),
            ]
        );
        assert_eq!(s.socket, PathBuf::from("/srv/esmail/run/iolistener.sock"));
        assert!(s.own_socket_dir);
        assert_eq!(s.max_connections, 10_000);
    }

    #[test]
    fn settings_from_parameters() {
        let s = Settings::from_params(
            with(&[
                ("bind_address", " ::1 "),
                ("pop3_port", "0"),
                ("imap_port", "2143"),
                ("pop3s_port", "0"),
                ("imaps_port", "0"),
                ("handoff_socket", "/tmp/h.sock"),
                ("max_connections", "0"),
            ]),
            &cfg(),
        )
        .unwrap();
        assert_eq!(s.ports.len(), 1);
        assert_eq!(s.ports[0].addr, "[::1]:2143".parse().unwrap());
        assert_eq!(s.ports[0].protocol, Protocol::Imap);
        assert_eq!(s.socket, PathBuf::from("/tmp/h.sock"));
        assert!(!s.own_socket_dir);
        assert_eq!(s.max_connections, 1);
        for bad in [
            vec![("bind_address", "localhost")],
            vec![("pop3_port", "70000")],
            vec![("imap_port", "x")],
            vec![("imap_port", "1110")],
        ] {
            assert!(
                Settings::from_params(with(&bad), &cfg()).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn socket_is_private_and_stale_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run").join("iolistener.sock");
        let (l, file) = bind_socket(&path, true).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&path), 0o600);
        // a live one is not taken over
        assert!(bind_socket(&path, true)
            .unwrap_err()
            .contains("already listens"));
        // a stale one is replaced (later than a clock tick: inode numbers are reused)
        drop(l);
        std::thread::sleep(Duration::from_millis(30));
        let (_l2, file2) = bind_socket(&path, true).unwrap();
        assert!(file2.present());
        // the first one's removal leaves the new socket alone
        assert!(!file.present());
        file.remove();
        assert!(path.exists());
        file2.remove();
        assert!(!path.exists());
        // not a socket: left alone
        std::fs::write(&path, b"x").unwrap();
        assert!(bind_socket(&path, true)
            .unwrap_err()
            .contains("not a socket"));
        assert!(path.exists());
        // an existing directory of the listener's own is restricted
        let own = dir.path().join("own");
        std::fs::create_dir(&own).unwrap();
        std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (_l3, f3) = bind_socket(&own.join("s.sock"), true).unwrap();
        assert_eq!(mode(&own), 0o700);
        f3.remove();
    }
}
