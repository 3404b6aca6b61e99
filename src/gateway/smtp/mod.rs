//! The SMTP/MIME gateway, inbound (`esmail smtpgw --instance N`): an ESMTP server that checks
//! each recipient against the directory as it is now, and commits each message once, with
//! its Submission queue entry, before it answers `250`.
//!
//! - [`session`]: the protocol state machine (no I/O, no store);
//! - [`server`]: the listener and its connections (tokio, STARTTLS, limits and timeouts);
//! - this module: the process (parameters, the tokio runtime, refresh and graceful stop).
//!
//! The checks and the submission are [`crate::mail::intake`].

pub mod client;
pub mod outbound;
pub mod server;
pub mod session;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::cli::StoreArgs;
use crate::process::runtime::Runtime;
use crate::store::{system, Store};

pub use server::{serve, serve_with};

/// The process type this module runs.
pub const TYPE_NAME: &str = "smtpgw";
/// The TLS identity (`es_tls_identity`) STARTTLS presents.
pub const TLS_IDENTITY: &str = "default";
/// How long a stop waits for messages being received.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the gateway runs with: its parameters, the local node, the TLS identity.
#[derive(Clone)]
pub struct SmtpConfig {
    /// The name in the greeting and the Received headers.
    pub hostname: String,
    /// The node messages are queued on.
    pub node_id: i64,
    pub max_message_bytes: u64,
    pub max_recipients: usize,
    /// Longest command or text line, without its line ending.
    pub max_line_bytes: usize,
    /// How long a client may take to send a command (or to read a reply).
    pub command_timeout: Duration,
    /// How long a client may take to send a message, from `354` to the final dot.
    pub data_timeout: Duration,
    pub max_errors: u32,
    pub max_connections: usize,
    /// How long a stop waits for messages being received.
    pub shutdown_grace: Duration,
    /// STARTTLS is offered when this is set.
    pub tls: Option<tokio_native_tls::TlsAcceptor>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("hostname", &self.hostname)
            .field("node_id", &self.node_id)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_recipients", &self.max_recipients)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("command_timeout", &self.command_timeout)
            .field("data_timeout", &self.data_timeout)
            .field("max_errors", &self.max_errors)
            .field("max_connections", &self.max_connections)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// An integer parameter, at least `min`; `default` when unset or unreadable.
fn int(get: &dyn Fn(&str) -> Option<String>, name: &str, default: u64, min: u64) -> u64 {
    match get(name) {
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) => n.max(min),
            Err(_) => {
                log::warn!("{name}={v:?} is not a number; using {default}");
                default
            }
        },
        None => default,
    }
    .max(min)
}

impl SmtpConfig {
    /// The configuration from parameter values (the instance's effective values; defaults of
    /// schema step 3 for those unset), for a node and a TLS acceptor.
    pub fn from_params(
        get: impl Fn(&str) -> Option<String>,
        node_id: i64,
        tls: Option<tokio_native_tls::TlsAcceptor>,
    ) -> SmtpConfig {
        let get: &dyn Fn(&str) -> Option<String> = &get;
        let hostname = get("hostname")
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(crate::config::host_name);
        SmtpConfig {
            hostname,
            node_id,
            max_message_bytes: int(get, "max_message_bytes", 26_214_400, 1024),
            max_recipients: int(get, "max_recipients", 100, 1) as usize,
            // RFC 5321, 4.5.3.1.6: a text line of 1000 octets must be accepted
            max_line_bytes: int(get, "max_line_bytes", 4096, 998).min(1 << 20) as usize,
            command_timeout: Duration::from_secs(int(get, "command_timeout", 300, 1)),
            data_timeout: Duration::from_secs(int(get, "data_timeout", 600, 1)),
            max_errors: int(get, "max_errors", 10, 1).min(u32::MAX as u64) as u32,
            max_connections: int(get, "max_connections", 200, 1) as usize,
            shutdown_grace: SHUTDOWN_GRACE,
            tls,
        }
    }

    /// The configuration of a gateway on `store`: its parameters through `get`, the local node
    /// and the TLS identity `default` (without it, or if it is unusable, STARTTLS is not
    /// offered, and AUTH is offered to loopback clients only).
    pub fn load(store: &Store, get: impl Fn(&str) -> Option<String>) -> Result<SmtpConfig, String> {
        let mut c = store.conn().map_err(|e| e.to_string())?;
        let node_id = system::local_node_id(&mut c)
            .map_err(|e| e.to_string())?
            .ok_or("the store has no node yet: run `esmail init --domain NAME` first")?;
        let tls = crate::tls::stored_acceptor(&mut c, TLS_IDENTITY, "STARTTLS")?;
        Ok(SmtpConfig::from_params(get, node_id, tls))
    }
}

/// Where the listener binds: `bind_address`:`port`; `None` when `port` is 0 (no listener).
pub fn listen_address(get: impl Fn(&str) -> Option<String>) -> Result<Option<SocketAddr>, String> {
    let port = match get("port") {
        None => 2525,
        Some(p) => p
            .trim()
            .parse::<u16>()
            .map_err(|_| format!("port={p:?} is not a TCP port"))?,
    };
    if port == 0 {
        return Ok(None);
    }
    let bind = get("bind_address")
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "0.0.0.0".to_string());
    let ip: IpAddr = bind
        .parse()
        .map_err(|_| format!("bind_address={bind:?} is not an IP address"))?;
    Ok(Some(SocketAddr::new(ip, port)))
}

/// The gateway process: serves SMTP until SIGTERM or SIGINT, rereads its parameters on
/// `refresh` (new limits apply to new connections; a new port or address needs a restart).
/// The outbound worker's settings, from the instance's parameters.
fn outbound_config(rt: &Runtime, cfg: &SmtpConfig) -> outbound::OutboundConfig {
    let limits = client::Limits::default();
    outbound::OutboundConfig {
        node_id: rt.node_id,
        smart_host: rt
            .param("smart_host")
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| {
                if h.contains(':') {
                    h.to_string()
                } else {
                    format!("{h}:25")
                }
            }),
        helo: cfg.hostname.clone(),
        retry_days: rt.param_u64("retry_days", 5, 0) as i64,
        retry_first: rt.param_u64("retry_first_seconds", 60, 1) as i64,
        workers: rt.param_u64("outbound_workers", 4, 1) as usize,
        // longer than the longest conversation, so that no other instance takes the entry over
        // while it is being sent
        lease: limits.connect + limits.command * 6 + limits.data,
        poll: Duration::from_millis(500),
        limits,
    }
}

pub fn run(args: &StoreArgs, instance: i64) -> Result<(), String> {
    let mut rt = Runtime::start(TYPE_NAME, instance, args)?;
    const PARAMS: &[&str] = &[
        "smart_host",
        "retry_days",
        "retry_first_seconds",
        "outbound_workers",
        "port",
        "bind_address",
        "hostname",
        "max_message_bytes",
        "max_recipients",
        "max_line_bytes",
        "command_timeout",
        "data_timeout",
        "max_errors",
        "max_connections",
    ];
    let lookup = |rt: &Runtime| rt.lookup(PARAMS);
    let addr = listen_address(lookup(&rt))?;
    let cfg = SmtpConfig::load(&rt.store, lookup(&rt))?;
    let outbound_cfg = outbound_config(&rt, &cfg);
    // the sessions' own pool: the runtime's connection stays with the heartbeat
    let (store, _) = args.open(false)?;
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("smtpgw")
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let server = match addr {
        Some(addr) => {
            let listener = tokio_rt
                .block_on(tokio::net::TcpListener::bind(addr))
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            log::info!(
                "listening on {addr} as {} (STARTTLS {}; max {} bytes, {} recipients, {} connections)",
                cfg.hostname,
                if cfg.tls.is_some() { "on" } else { "off" },
                cfg.max_message_bytes,
                cfg.max_recipients,
                cfg.max_connections
            );
            let (cfg_tx, cfg_rx) = watch::channel(Arc::new(cfg));
            let handle = tokio_rt.spawn(serve_with(Arc::new(store), cfg_rx, listener, stop_rx));
            Some((handle, cfg_tx))
        }
        None => {
            log::warn!("port is 0: no SMTP listener");
            None
        }
    };
    let worker = format!("smtpgw{instance}@{}:{}", rt.host, std::process::id());
    let (store_out, _) = args.open(false)?;
    let outbound_task = tokio_rt.spawn(outbound::run(
        Arc::new(store_out),
        outbound_cfg,
        worker,
        stop_tx.subscribe(),
    ));
    let mut failed = None;
    while rt.wait(Duration::from_secs(1)) {
        if let Some((handle, _)) = &server {
            if handle.is_finished() {
                failed = Some("the SMTP listener stopped".to_string());
                break;
            }
        }
        if rt.take_refreshed() {
            if listen_address(lookup(&rt)).ok().flatten() != addr {
                log::warn!("port or bind_address changed: restart the instance to apply it");
            }
            match SmtpConfig::load(&rt.store, lookup(&rt)) {
                Ok(c) => {
                    if let Some((_, cfg_tx)) = &server {
                        let _ = cfg_tx.send(Arc::new(c));
                    }
                    log::info!("new parameters apply to new connections");
                }
                Err(e) => log::warn!("parameters not applied: {e}"),
            }
        }
    }
    let _ = stop_tx.send(true);
    if let Err(e) = tokio_rt.block_on(outbound_task) {
        log::error!("the outbound worker failed: {e}");
    }
    if let Some((handle, _)) = server {
        if let Err(e) = tokio_rt.block_on(handle) {
            log::error!("the SMTP listener failed: {e}");
        }
    }
    tokio_rt.shutdown_timeout(Duration::from_secs(2));
    rt.conclude(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_with_defaults_and_floors() {
        let c = SmtpConfig::from_params(|_| None, 1, None);
        assert_eq!(c.max_message_bytes, 26_214_400);
        assert_eq!(c.max_recipients, 100);
        assert_eq!(c.max_line_bytes, 4096);
        assert_eq!(c.command_timeout, Duration::from_secs(300));
        assert_eq!(c.data_timeout, Duration::from_secs(600));
        assert_eq!(c.max_errors, 10);
        assert_eq!(c.max_connections, 200);
        let c = SmtpConfig::from_params(
            |n| match n {
                "hostname" => Some("mx.acme.com".into()),
                "max_line_bytes" => Some("10".into()),
                "max_errors" => Some("0".into()),
                "command_timeout" => Some("x".into()),
                _ => None,
            },
            1,
            None,
        );
        assert_eq!(c.hostname, "mx.acme.com");
        assert_eq!(c.max_line_bytes, 998);
        assert_eq!(c.max_errors, 1);
        assert_eq!(c.command_timeout, Duration::from_secs(300));
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(
            listen_address(|_| None).unwrap(),
            Some("0.0.0.0:2525".parse().unwrap())
        );
        assert_eq!(
            listen_address(|n| (n == "port").then(|| "0".to_string())).unwrap(),
            None
        );
        assert_eq!(
            listen_address(|n| match n {
                "port" => Some("25".into()),
                "bind_address" => Some("::1".into()),
                _ => None,
            })
            .unwrap(),
            Some("[::1]:25".parse().unwrap())
        );
        assert!(listen_address(|n| (n == "port").then(|| "x".to_string())).is_err());
        assert!(listen_address(|n| (n == "bind_address").then(|| "nowhere".to_string())).is_err());
    }
}
