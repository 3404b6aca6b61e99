//! The Statistics process (`esmail statistics --instance N`): every `interval` seconds it
//! records one set of samples in `es_stat_sample`, in one transaction, for the Monitor:
//!
//! - `queue.<QUEUE>.length` for each queue of the node (0 when empty);
//! - `messages.count`, `messages.bytes`, `pointers.count`, `accounts.count` (accounts homed on
//!   the node), `folders.count`;
//! - `space.<TABLESPACE>.bytes` per tablespace of the schema on Oracle, `space.store.bytes`
//!   (the database file) on the embedded store.

use std::time::Duration;

use chrono::Utc;

use crate::cli::StoreArgs;
use crate::process::runtime::Runtime;
use crate::store::statistics as repo;
use crate::store::{Store, StoreError};

/// The queues whose length is sampled.
pub const QUEUES: [&str; 6] = [
    "SUBMISSION",
    "REROUTING",
    "DEAD",
    "REMOTE",
    "COLLECTOR",
    "GATEWAY",
];

/// The figures of one sample, `(metric, value)`, read in the caller's transaction.
pub fn measure(c: &mut crate::store::Conn, node_id: i64) -> Result<Vec<(String, f64)>, StoreError> {
    let mut out = Vec::new();
    let lengths = repo::queue_lengths(c, node_id)?;
    for queue in QUEUES {
        let n = lengths
            .iter()
            .find(|(name, _)| name == queue)
            .map_or(0, |(_, n)| *n);
        out.push((format!("queue.{queue}.length"), n as f64));
    }
    let (messages, bytes) = repo::message_totals(c)?;
    out.push(("messages.count".into(), messages as f64));
    out.push(("messages.bytes".into(), bytes as f64));
    out.push(("pointers.count".into(), repo::pointer_count(c)? as f64));
    out.push((
        "accounts.count".into(),
        repo::account_count(c, node_id)? as f64,
    ));
    out.push(("folders.count".into(), repo::folder_count(c)? as f64));
    for (space, bytes) in repo::space(c)? {
        out.push((format!("space.{space}.bytes"), bytes as f64));
    }
    // Delivery times will come from the Postman's delivery records (parameter delivery_stats).
    Ok(out)
}

/// Records one set of samples for `node_id` in one transaction; returns how many.
pub fn sample(store: &Store, node_id: i64) -> Result<usize, String> {
    store
        .write(|c| -> Result<usize, StoreError> {
            let now = Utc::now();
            let figures = measure(c, node_id)?;
            for (metric, value) in &figures {
                repo::insert_sample(c, node_id, metric, *value, now)?;
            }
            Ok(figures.len())
        })
        .map_err(|e| e.to_string())
}

/// The Statistics process: a sample every `interval` seconds until SIGTERM or SIGINT.
pub fn run(args: &StoreArgs, instance: i64) -> Result<(), String> {
    let mut rt = Runtime::start("statistics", instance, args)?;
    log::info!("sampling every {}s", rt.param_u64("interval", 300, 1));
    loop {
        match sample(&rt.store, rt.node_id) {
            Ok(n) => log::debug!("recorded {n} samples"),
            Err(e) => log::error!("cannot record the samples: {e}"),
        }
        if !rt.wait(Duration::from_secs(rt.param_u64("interval", 300, 1))) {
            break;
        }
    }
    rt.finish("stopped by signal");
    Ok(())
}
