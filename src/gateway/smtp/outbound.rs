//! The outbound half of the gateway: entries of the Gateway queue leave by SMTP, to the smart
//! host (`smart_host` parameter, the seed's "Sendmail") or, without one, to the MX hosts of
//! each recipient's domain. A temporary failure is retried with a growing delay for
//! `retry_days`, then reported; a permanent one is reported at once (the non-delivery report
//! is the Postman's, submitted in the same transaction that finishes the entry).
//!
//! Outbound delivery is at least once: the window between the remote `250` and the local
//! commit that records it is one short transaction.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{watch, Semaphore};

use super::client::{self, Fate, Limits};
use crate::store::delivery::{self as repo, RcptStatus};
use crate::store::{outbound, Store, StoreError};

/// What the outbound worker needs to know.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    pub node_id: i64,
    /// `host:port`; `None`: MX lookup.
    pub smart_host: Option<String>,
    /// The name in EHLO.
    pub helo: String,
    pub retry_days: i64,
    /// Seconds before the first retry; each next one waits twice as long, at most an hour.
    pub retry_first: i64,
    /// Deliveries at a time.
    pub workers: usize,
    pub lease: Duration,
    pub poll: Duration,
    pub limits: Limits,
}

/// The delay before the next attempt after `attempts` earlier attempts: `first`, then twice
/// as long each time, at most an hour.
pub fn retry_delay(first: i64, attempts: i64) -> chrono::Duration {
    let secs = first.max(1).saturating_mul(1i64 << attempts.clamp(0, 20));
    chrono::Duration::seconds(secs.min(3600))
}

/// Runs until `stop` says so.
pub async fn run(
    store: Arc<Store>,
    cfg: OutboundConfig,
    worker: String,
    mut stop: watch::Receiver<bool>,
) {
    let resolver = hickory_resolver::TokioResolver::builder_tokio()
        .map(|b| b.build())
        .map_err(|e| log::warn!("no DNS resolver ({e}): without a smart_host, outbound mail waits"))
        .ok();
    let resolver = Arc::new(resolver);
    let slots = Arc::new(Semaphore::new(cfg.workers.max(1)));
    let cfg = Arc::new(cfg);
    log::info!(
        "outbound: {} (retry for {} days, {} at a time)",
        cfg.smart_host
            .as_deref()
            .map(|h| format!("smart host {h}"))
            .unwrap_or_else(|| "MX lookup".into()),
        cfg.retry_days,
        cfg.workers
    );
    loop {
        if *stop.borrow() {
            break;
        }
        let claimed = {
            let (store, cfg, worker) = (store.clone(), cfg.clone(), worker.clone());
            tokio::task::spawn_blocking(move || -> Result<Vec<i64>, StoreError> {
                let now = Utc::now();
                let until = now + chrono::Duration::from_std(cfg.lease).unwrap_or_default();
                store.write(|c| {
                    outbound::claim_batch(
                        c,
                        cfg.node_id,
                        &worker,
                        now,
                        until,
                        cfg.workers as i64 * 2,
                    )
                })
            })
            .await
        };
        let claimed = match claimed {
            Ok(Ok(ids)) => ids,
            Ok(Err(e)) => {
                log::warn!("outbound: cannot claim: {e}");
                Vec::new()
            }
            Err(e) => {
                log::error!("outbound: {e}");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(cfg.poll) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for id in claimed {
            let permit = slots.clone().acquire_owned().await;
            let (store, cfg, worker, resolver) =
                (store.clone(), cfg.clone(), worker.clone(), resolver.clone());
            tasks.spawn(async move {
                let _permit = permit;
                if let Err(e) = deliver(&store, &cfg, &worker, &resolver, id).await {
                    log::warn!("outbound entry {id}: {e}");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
    log::info!("outbound: stopped");
}

/// Where mail for `domain` goes: the smart host, or the domain's MX hosts by preference (the
/// domain itself when it has none), port 25.
async fn route(
    cfg: &OutboundConfig,
    resolver: &Option<hickory_resolver::TokioResolver>,
    domain: &str,
) -> Result<Vec<String>, String> {
    if let Some(h) = &cfg.smart_host {
        return Ok(vec![h.clone()]);
    }
    let Some(r) = resolver else {
        return Err("no smart_host and no DNS resolver".into());
    };
    match r.mx_lookup(format!("{domain}.")).await {
        Ok(mx) => {
            let mut hosts: Vec<(u16, String)> = mx
                .iter()
                .map(|m| {
                    (
                        m.preference(),
                        m.exchange().to_utf8().trim_end_matches('.').to_string(),
                    )
                })
                .filter(|(_, h)| !h.is_empty())
                .collect();
            hosts.sort();
            if hosts.is_empty() {
                return Ok(vec![format!("{domain}:25")]);
            }
            Ok(hosts.into_iter().map(|(_, h)| format!("{h}:25")).collect())
        }
        Err(e) if e.is_no_records_found() => Ok(vec![format!("{domain}:25")]),
        Err(e) => Err(format!("MX lookup for {domain}: {e}")),
    }
}

fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default()
}

async fn deliver(
    store: &Arc<Store>,
    cfg: &Arc<OutboundConfig>,
    worker: &str,
    resolver: &Option<hickory_resolver::TokioResolver>,
    entry_id: i64,
) -> Result<(), String> {
    let loaded = {
        let (store, worker) = (store.clone(), worker.to_string());
        tokio::task::spawn_blocking(move || {
            store.read(|c| -> Result<_, StoreError> {
                let Some(e) = repo::entry(c, entry_id, &worker)? else {
                    return Ok(None);
                };
                let rcpts = repo::recipients(c, entry_id)?;
                let content = match e.message_id {
                    Some(m) => repo::message_content(c, m)?,
                    None => None,
                };
                Ok(Some((e, rcpts, content)))
            })
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?
    };
    let Some((entry, rcpts, content)) = loaded else {
        return Ok(()); // the claim is gone
    };
    let Some(content) = content else {
        return Err("the message content is gone".into());
    };
    let pending: Vec<(i64, String)> = rcpts
        .iter()
        .filter(|r| matches!(r.status, RcptStatus::Pending | RcptStatus::Deferred))
        .map(|r| (r.pos, r.address.clone()))
        .collect();
    let mut by_domain: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for (pos, a) in pending {
        by_domain.entry(domain_of(&a)).or_default().push((pos, a));
    }
    let mut results: Vec<(i64, String, Fate)> = Vec::new();
    for (domain, group) in by_domain {
        let addresses: Vec<String> = group.iter().map(|(_, a)| a.clone()).collect();
        let fates = match route(cfg, resolver, &domain).await {
            Err(e) => addresses
                .iter()
                .map(|a| (a.clone(), Fate::Transient(e.clone())))
                .collect(),
            Ok(hosts) => {
                let mut fates = Vec::new();
                for host in hosts {
                    fates = client::send(
                        &host,
                        &cfg.helo,
                        entry.sender.as_deref(),
                        &addresses,
                        &content,
                        cfg.limits,
                    )
                    .await;
                    // try the next MX only when this one could not be reached at all
                    let unreachable = fates
                        .iter()
                        .all(|(_, f)| matches!(f, Fate::Transient(t) if !t.contains(" 4")));
                    if !unreachable {
                        break;
                    }
                }
                fates
            }
        };
        // the client answers recipient by recipient, not in the order asked
        for (pos, addr) in &group {
            let fate = fates
                .iter()
                .find(|(a, _)| a == addr)
                .map(|(_, f)| f.clone())
                .unwrap_or_else(|| Fate::Transient("no answer for this recipient".into()));
            results.push((*pos, addr.clone(), fate));
        }
    }
    let (store, cfg2, worker) = (store.clone(), cfg.clone(), worker.to_string());
    tokio::task::spawn_blocking(move || record(&store, &cfg2, &worker, &entry, results))
        .await
        .map_err(|e| e.to_string())?
}

/// Records what became of each recipient, in one transaction, and finishes or reschedules
/// the entry.
fn record(
    store: &Store,
    cfg: &OutboundConfig,
    worker: &str,
    entry: &repo::Entry,
    results: Vec<(i64, String, Fate)>,
) -> Result<(), String> {
    let now = Utc::now();
    let expired = entry
        .created_at
        .map(|t| now - t > chrono::Duration::days(cfg.retry_days))
        .unwrap_or(false);
    store
        .write(|c| -> Result<(), StoreError> {
            for (pos, addr, fate) in &results {
                let (status, why) = match fate {
                    Fate::Delivered(t) => {
                        log::info!("outbound {}: {addr} delivered ({t})", entry.guid);
                        (RcptStatus::Done, None)
                    }
                    Fate::Permanent(t) => {
                        log::info!("outbound {}: {addr} refused ({t})", entry.guid);
                        (RcptStatus::Failed, Some(format!("5.0.0 {t}")))
                    }
                    Fate::Transient(t) if expired => {
                        log::info!("outbound {}: {addr} given up ({t})", entry.guid);
                        (
                            RcptStatus::Failed,
                            Some(format!(
                                "5.4.7 delivery time expired after {} days: {t}",
                                cfg.retry_days
                            )),
                        )
                    }
                    Fate::Transient(t) => {
                        log::info!("outbound {}: {addr} deferred ({t})", entry.guid);
                        (RcptStatus::Deferred, Some(t.clone()))
                    }
                };
                repo::set_recipient_status(c, entry.entry_id, *pos, status, why.as_deref())?;
            }
            let rows = repo::recipients(c, entry.entry_id)?;
            if rows
                .iter()
                .any(|r| matches!(r.status, RcptStatus::Pending | RcptStatus::Deferred))
            {
                let next = now + retry_delay(cfg.retry_first, entry.attempts);
                let why = rows
                    .iter()
                    .find_map(|r| {
                        (r.status == RcptStatus::Deferred)
                            .then(|| r.last_error.clone())
                            .flatten()
                    })
                    .unwrap_or_default();
                repo::retry_later(c, entry.entry_id, worker, next, &why)?;
                return Ok(());
            }
            crate::postman::finish_gateway_entry(c, cfg.node_id, worker, entry, &cfg.helo)?;
            Ok(())
        })
        .map_err(|e| e.to_string())
}
