//! A protocol server process (`esmail pop3srv|imap4srv --instance N`): its parameters, its
//! pool, the change feed and the session registry, and where its clients come from: the
//! node's IOLISTENER (sockets passed over a Unix socket) and, when its `port` / `tls_port`
//! parameters say so, its own listeners (three-tier: instances on another host). Both go
//! through the same path: a [`Client`] handed to the protocol's `serve`.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::{
    feed::Feed, handoff, registry::Registry, registry::SessionHandle, Client, Ctx, Db, Protocol,
    ServerConfig,
};
use crate::cli::StoreArgs;
use crate::process::runtime::Runtime;
use crate::store::Store;

/// A protocol's session: serves one client to the end.
pub type Serve = fn(Arc<Ctx>, Client, SessionHandle) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// How long a stop waits for sessions to say goodbye.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How often the change feed is read.
pub const FEED_POLL: Duration = Duration::from_millis(250);
/// The TLS identity presented.
pub const TLS_IDENTITY: &str = "default";

/// The instance's configuration from its parameters.
pub fn config(rt: &Runtime, store: &Store, protocol: Protocol) -> Result<ServerConfig, String> {
    let hostname = rt
        .param("hostname")
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(crate::config::host_name);
    let mut c = store.conn().map_err(|e| e.to_string())?;
    let tls = crate::tls::stored_acceptor(&mut c, TLS_IDENTITY, "TLS")?;
    let (idle, line) = match protocol {
        Protocol::Pop3 => (600, 1024),
        Protocol::Imap => (1800, 65536),
    };
    Ok(ServerConfig {
        hostname,
        node_id: rt.node_id,
        // RFC 1939: at least 10 minutes; RFC 3501: at least 30 minutes
        idle_timeout: Duration::from_secs(rt.param_u64("idle_timeout", idle, 1)),
        login_timeout: Duration::from_secs(rt.param_u64("login_timeout", 120, 1)),
        command_timeout: Duration::from_secs(rt.param_u64("command_timeout", 60, 1)),
        max_unauthenticated_per_address: rt.param_u64("max_unauthenticated_per_address", 100, 0)
            as usize,
        max_line_bytes: rt.param_u64("max_line_bytes", line, 512).min(1 << 24) as usize,
        max_literal_bytes: rt.param_u64("max_literal_bytes", 26_214_400, 1024),
        commands_per_second: rt.param_u64("commands_per_second", 1000, 1).min(1_000_000) as u32,
        max_connections: rt.param_u64("max_connections", 5000, 1) as usize,
        login_disabled_without_tls: matches!(
            rt.param("login_disabled_without_tls")
                .map(|v| v.trim().to_ascii_lowercase())
                .as_deref(),
            Some("1" | "true" | "yes" | "on")
        ),
        tls,
        write_timeout: Duration::from_secs(60),
    })
}

/// `bind_address:port` for a port parameter; `None` when the port is 0.
fn own_address(rt: &Runtime, param: &str) -> Result<Option<SocketAddr>, String> {
    let port = match rt.param(param) {
        None => 0,
        Some(p) => p
            .trim()
            .parse::<u16>()
            .map_err(|_| format!("{param}={p:?} is not a TCP port"))?,
    };
    if port == 0 {
        return Ok(None);
    }
    let bind = rt.param("bind_address").unwrap_or("0.0.0.0").trim();
    let ip: IpAddr = bind
        .parse()
        .map_err(|_| format!("bind_address={bind:?} is not an IP address"))?;
    Ok(Some(SocketAddr::new(ip, port)))
}

/// The `handoff_socket` parameter of the node's IOLISTENER, if set.
fn listener_socket_param(rt: &Runtime) -> Result<Option<String>, String> {
    let mut c = rt.store.conn().map_err(|e| e.to_string())?;
    use crate::process::{effective, Instance};
    let params = effective(&mut c, rt.node_id, "iolistener", Instance::Number(1))
        .or_else(|_| effective(&mut c, rt.node_id, "iolistener", Instance::Default))
        .map_err(|e| e.to_string())?;
    Ok(params
        .into_iter()
        .find(|p| p.name == "handoff_socket")
        .and_then(|p| p.value)
        .filter(|v| !v.trim().is_empty()))
}

/// Accepts clients on an own port and passes them on.
async fn accept_loop(
    listener: TcpListener,
    implicit_tls: bool,
    tx: mpsc::Sender<Client>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    if tx.send(Client { stream, peer, implicit_tls }).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    log::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
    }
}

/// Counts a live session while it exists.
struct Active(Arc<AtomicUsize>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs the sessions of an instance: every client from `clients` is served by `serve`, up to
/// `max_connections` at a time (one more is told so and closed); returns when `stop` turns
/// true and the sessions have ended (or the grace period is over).
pub async fn serve_clients(
    ctx: Arc<Ctx>,
    protocol: Protocol,
    serve: Serve,
    mut clients: mpsc::Receiver<Client>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    let mut sessions = JoinSet::new();
    let mut stop = ctx.stop.clone();
    loop {
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            c = clients.recv() => match c {
                Some(client) => {
                    let cfg = ctx.cfg();
                    if active.load(Ordering::SeqCst) >= cfg.max_connections {
                        log::warn!("{}: refused, {} sessions already", client.peer, cfg.max_connections);
                        tokio::spawn(refuse(client, protocol, Refusal::Full));
                        continue;
                    }
                    let limit = cfg.max_unauthenticated_per_address;
                    if limit > 0 && ctx.registry.unauthenticated_from(client.peer.ip()) >= limit {
                        log::warn!(
                            "{}: refused, {limit} sessions from that address not logged in yet",
                            client.peer
                        );
                        tokio::spawn(refuse(client, protocol, Refusal::Address));
                        continue;
                    }
                    let handle = ctx.registry.open(protocol.name(), client.peer);
                    active.fetch_add(1, Ordering::SeqCst);
                    let guard = Active(active.clone());
                    let ctx = ctx.clone();
                    sessions.spawn(async move {
                        let _guard = guard;
                        serve(ctx, client, handle).await;
                    });
                }
                None => break,
            },
            Some(done) = sessions.join_next(), if !sessions.is_empty() => {
                if let Err(e) = done {
                    if e.is_panic() {
                        log::error!("a {} session failed: {e}", protocol.name());
                    }
                }
            }
            r = stop.changed() => if r.is_err() { break },
        }
    }
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        log::warn!("{} session(s) cut short", sessions.len());
        sessions.abort_all();
        while sessions.join_next().await.is_some() {}
    }
}

/// Why a client is turned away at once.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// `max_connections` sessions already.
    Full,
    /// `max_unauthenticated_per_address` sessions from its address not logged in yet.
    Address,
}

async fn refuse(client: Client, protocol: Protocol, why: Refusal) {
    use tokio::io::AsyncWriteExt;
    let mut s = client.stream;
    let text: &[u8] = match (protocol, why) {
        (Protocol::Pop3, Refusal::Full) => b"-ERR [SYS/TEMP] too many sessions, try again later\r\n",
        (Protocol::Imap, Refusal::Full) => b"* BYE [UNAVAILABLE] too many sessions, try again later\r\n",
        (Protocol::Pop3, Refusal::Address) => {
            b"-ERR [SYS/TEMP] too many sessions from your address not logged in, try again later\r\n"
        }
        (Protocol::Imap, Refusal::Address) => {
            b"* BYE [UNAVAILABLE] too many sessions from your address not logged in, try again later\r\n"
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), s.write_all(text)).await;
}

/// The process: serves until SIGTERM or SIGINT; rereads its parameters on `refresh` (new
/// limits apply to new sessions; ports and the pool size need a restart).
pub fn run(
    args: &StoreArgs,
    protocol: Protocol,
    instance: i64,
    serve: Serve,
) -> Result<(), String> {
    let mut rt = Runtime::start(protocol.type_name(), instance, args)?;
    let files = crate::process::runtime::raise_open_file_limit();
    log::info!("open-file limit {files}");
    let pool_size = rt.param_u64("pool_size", 4, 1).min(256) as u32;
    let (store, cfg) = args.open_with_pool(pool_size)?;
    let server_cfg = config(&rt, &store, protocol)?;
    let plain_port = own_address(&rt, "port")?;
    let tls_port = own_address(&rt, "tls_port")?;
    let socket = handoff::socket_path(&cfg, listener_socket_param(&rt)?.as_deref());
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(protocol.type_name())
        .max_blocking_threads(pool_size as usize * 4 + 8)
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (cfg_tx, cfg_rx) = watch::channel(Arc::new(server_cfg));
    let db = Db::new(Arc::new(store));
    let registry = Registry::new(&format!(
        "{}-{}{}-{}",
        rt.host,
        protocol.type_name(),
        instance,
        std::process::id()
    ));
    let ctx = Arc::new(Ctx {
        db: db.clone(),
        feed: Feed::new(),
        registry: registry.clone(),
        cfg: cfg_rx,
        stop: stop_rx.clone(),
    });
    let (tx, rx) = mpsc::channel::<Client>(256);
    let mut tasks = Vec::new();
    tasks.push(tokio_rt.spawn(ctx.feed.clone().run(db.clone(), FEED_POLL, stop_rx.clone())));
    tasks.push(tokio_rt.spawn(registry.clone().run(
        db.clone(),
        rt.node_id,
        protocol.type_name(),
        instance,
        stop_rx.clone(),
    )));
    for (addr, implicit_tls) in [(plain_port, false), (tls_port, true)] {
        let Some(addr) = addr else { continue };
        let l = tokio_rt
            .block_on(TcpListener::bind(addr))
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        log::info!(
            "listening on {addr} ({})",
            if implicit_tls {
                "implicit TLS"
            } else {
                "plain"
            }
        );
        tasks.push(tokio_rt.spawn(accept_loop(l, implicit_tls, tx.clone(), stop_rx.clone())));
    }
    let reg = registry.clone();
    let load: handoff::LoadFn = Arc::new(move || reg.len() as u32);
    tasks.push(tokio_rt.spawn(handoff::attach(
        socket.clone(),
        protocol,
        instance,
        load,
        tx,
        stop_rx.clone(),
    )));
    log::info!(
        "{} instance {instance}: {pool_size} pooled connections; clients from IOLISTENER at {}",
        protocol.name(),
        socket.display()
    );
    let sessions = tokio_rt.spawn(serve_clients(ctx.clone(), protocol, serve, rx));
    let mut failed = None;
    while rt.wait(Duration::from_secs(1)) {
        if sessions.is_finished() {
            failed = Some("the sessions stopped: no more clients can come".to_string());
            break;
        }
        if rt.take_refreshed() {
            match config(&rt, db.store(), protocol) {
                Ok(c) => {
                    let _ = cfg_tx.send(Arc::new(c));
                    log::info!("new parameters apply to new sessions");
                }
                Err(e) => log::warn!("parameters not applied: {e}"),
            }
        }
    }
    let _ = stop_tx.send(true);
    let _ = tokio_rt.block_on(sessions);
    for t in tasks {
        let _ = tokio_rt.block_on(t);
    }
    tokio_rt.shutdown_timeout(Duration::from_secs(2));
    rt.conclude(failed)
}
