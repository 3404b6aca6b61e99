//! SPS: the protocol servers. IOLISTENER ([`listener`]) accepts POP3 and IMAP4 clients and
//! hands each connection (the socket itself, over a Unix socket: [`handoff`]) to the least busy
//! running instance of POP3SRV ([`pop3`]) or IMAP4SRV ([`imap`]). An instance serves many
//! sessions on a small pool of database connections ([`db`]): a connection is borrowed for one
//! request and given back. All mailbox state lives in the store; the change feed ([`feed`]),
//! read once per instance, wakes the IDLE sessions it concerns. Sessions and pool use are
//! recorded for `probe;` ([`registry`]).
//!
//! - [`instance`]: the protocol server process (parameters, handoff and its own ports);
//! - [`io`]: the connection (plain or TLS, upgraded in place), lines with limits;
//! - [`auth`]: logins against the directory, with growing delays after failures.

pub mod auth;
pub mod db;
pub mod feed;
pub mod handoff;
pub mod imap;
pub mod instance;
pub mod io;
pub mod listener;
pub mod pop3;
pub mod registry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::watch;

pub use db::{Db, Unavailable};

/// The protocols IOLISTENER knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Pop3,
    Imap,
}

impl Protocol {
    /// The process type that serves it.
    pub fn type_name(self) -> &'static str {
        match self {
            Protocol::Pop3 => "pop3srv",
            Protocol::Imap => "imap4srv",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Pop3 => "POP3",
            Protocol::Imap => "IMAP4",
        }
    }

    pub fn from_type_name(t: &str) -> Option<Protocol> {
        match t {
            "pop3srv" => Some(Protocol::Pop3),
            "imap4srv" => Some(Protocol::Imap),
            _ => None,
        }
    }

    /// What a client hears when no instance can take it (a temporary failure in the
    /// protocol's own words), before the connection is closed.
    pub fn unavailable_greeting(self) -> &'static [u8] {
        match self {
            Protocol::Pop3 => b"-ERR [SYS/TEMP] no POP3 server is running, try again later\r\n",
            Protocol::Imap => {
                b"* BYE [UNAVAILABLE] no IMAP4 server is running, try again later\r\n"
            }
        }
    }
}

/// A client connection handed to a protocol server.
#[derive(Debug)]
pub struct Client {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// The client came on an implicit-TLS port: TLS starts before the greeting.
    pub implicit_tls: bool,
}

/// The slowest upload a literal is given time for: a command with literals may take one more
/// second per this many bytes announced, beyond `command_timeout`.
pub const LITERAL_BYTES_PER_SECOND: u64 = 4096;

/// What an instance's sessions run with (its parameters, read at start and on refresh).
#[derive(Clone)]
pub struct ServerConfig {
    /// The name in the greeting.
    pub hostname: String,
    pub node_id: i64,
    pub idle_timeout: Duration,
    /// How long a client may stay connected without logging in.
    pub login_timeout: Duration,
    /// How long a command may take to arrive once its first byte came (IMAP literals get
    /// one more second per [`LITERAL_BYTES_PER_SECOND`] bytes announced).
    pub command_timeout: Duration,
    /// Sessions not logged in yet from one client address, at most (0: no limit).
    pub max_unauthenticated_per_address: usize,
    /// Longest command line, without its ending.
    pub max_line_bytes: usize,
    /// Largest literal (IMAP APPEND and the like).
    pub max_literal_bytes: u64,
    /// Commands a session may send per second before it is slowed down.
    pub commands_per_second: u32,
    pub max_connections: usize,
    /// Refuse plain-text logins until TLS is on (loopback clients excepted).
    pub login_disabled_without_tls: bool,
    /// STARTTLS / STLS and the implicit-TLS ports work when this is set.
    pub tls: Option<tokio_native_tls::TlsAcceptor>,
    /// How long writing a response may take before the client is considered gone.
    pub write_timeout: Duration,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("hostname", &self.hostname)
            .field("node_id", &self.node_id)
            .field("idle_timeout", &self.idle_timeout)
            .field("login_timeout", &self.login_timeout)
            .field("command_timeout", &self.command_timeout)
            .field(
                "max_unauthenticated_per_address",
                &self.max_unauthenticated_per_address,
            )
            .field("max_line_bytes", &self.max_line_bytes)
            .field("max_literal_bytes", &self.max_literal_bytes)
            .field("commands_per_second", &self.commands_per_second)
            .field("max_connections", &self.max_connections)
            .field(
                "login_disabled_without_tls",
                &self.login_disabled_without_tls,
            )
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl ServerConfig {
    /// A configuration for tests: loopback names, short timeouts, no TLS.
    pub fn for_tests(node_id: i64) -> ServerConfig {
        ServerConfig {
            hostname: "localhost".into(),
            node_id,
            idle_timeout: Duration::from_secs(60),
            login_timeout: Duration::from_secs(60),
            command_timeout: Duration::from_secs(60),
            max_unauthenticated_per_address: 0,
            max_line_bytes: 65536,
            max_literal_bytes: 26_214_400,
            commands_per_second: 1000,
            max_connections: 1000,
            login_disabled_without_tls: false,
            tls: None,
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// Everything a session of an instance shares.
pub struct Ctx {
    pub db: Db,
    pub feed: feed::Feed,
    pub registry: registry::Registry,
    pub cfg: watch::Receiver<Arc<ServerConfig>>,
    /// Turns true when the instance stops: sessions say goodbye and end.
    pub stop: watch::Receiver<bool>,
}

impl Ctx {
    /// The configuration of the moment.
    pub fn cfg(&self) -> Arc<ServerConfig> {
        self.cfg.borrow().clone()
    }
}
