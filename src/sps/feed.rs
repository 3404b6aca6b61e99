//! The change feed, read once per instance: one task polls `es_mail_change` and wakes the
//! sessions of the accounts that changed. A session subscribes for its account and, when
//! woken, asks the store what changed in its folder since the MODSEQ it knows.
//!
//! On Oracle an identity value is taken at insert, not at commit: a row with a smaller number
//! may appear after a larger one was read. The poller therefore rereads a window below the
//! highest number it has seen and remembers which numbers it has handled.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;

use super::Db;
use crate::store::mailbox;

/// How far below the highest sequence seen the poller looks again.
const OVERLAP: i64 = 256;
/// Rows read per poll.
const BATCH: i64 = 2000;

type Subscribers = HashMap<i64, Weak<watch::Sender<u64>>>;

/// Wakes sessions when their account's mailboxes change.
#[derive(Clone, Default)]
pub struct Feed {
    subs: Arc<Mutex<Subscribers>>,
}

/// A session's subscription: `changed().await` returns when the account changed.
pub struct Subscription {
    rx: watch::Receiver<u64>,
    // keeps the account's sender alive while a session wants it
    _tx: Arc<watch::Sender<u64>>,
}

impl Subscription {
    /// Waits for the next change of the account (a change that came since the last call
    /// counts: none is missed).
    pub async fn changed(&mut self) {
        if self.rx.changed().await.is_err() {
            std::future::pending::<()>().await
        }
    }
}

impl Feed {
    pub fn new() -> Feed {
        Feed::default()
    }

    /// Follows the changes of an account.
    pub fn subscribe(&self, account_id: i64) -> Subscription {
        let mut subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        let tx = match subs.get(&account_id).and_then(Weak::upgrade) {
            Some(tx) => tx,
            None => {
                let tx = Arc::new(watch::channel(0u64).0);
                subs.insert(account_id, Arc::downgrade(&tx));
                tx
            }
        };
        let mut rx = tx.subscribe();
        rx.mark_unchanged();
        Subscription { rx, _tx: tx }
    }

    /// Sessions following the feed now.
    pub fn accounts(&self) -> usize {
        let subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        subs.values().filter(|w| w.strong_count() > 0).count()
    }

    /// Wakes the sessions of these accounts.
    pub fn notify(&self, accounts: impl IntoIterator<Item = i64>) {
        let mut subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        for a in accounts {
            match subs.get(&a).and_then(Weak::upgrade) {
                Some(tx) => {
                    tx.send_modify(|n| *n = n.wrapping_add(1));
                }
                None => {
                    subs.remove(&a);
                }
            }
        }
    }

    /// Polls the store every `every` until `stop` turns true.
    pub async fn run(self, db: Db, every: Duration, mut stop: watch::Receiver<bool>) {
        let mut high = match db.read("change feed", mailbox::last_change).await {
            Ok(h) => h,
            Err(_) => 0,
        };
        let mut seen: BTreeSet<i64> = BTreeSet::new();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
            let from = (high - OVERLAP).max(0);
            let Ok(rows) = db
                .read("change feed", move |c| {
                    mailbox::changes_after(c, from, BATCH)
                })
                .await
            else {
                continue;
            };
            let mut woken = BTreeSet::new();
            for ch in rows {
                if ch.seq <= high - OVERLAP || !seen.insert(ch.seq) {
                    continue;
                }
                high = high.max(ch.seq);
                woken.insert(ch.account_id);
            }
            // forget what is below the window
            let floor = high - OVERLAP;
            while let Some(&s) = seen.first() {
                if s > floor {
                    break;
                }
                seen.pop_first();
            }
            if !woken.is_empty() {
                self.notify(woken);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subscriber_is_woken_for_its_account_only() {
        let feed = Feed::new();
        let mut a = feed.subscribe(1);
        let mut b = feed.subscribe(2);
        feed.notify([1]);
        tokio::time::timeout(Duration::from_secs(1), a.changed())
            .await
            .expect("account 1 is woken");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), b.changed())
                .await
                .is_err(),
            "account 2 is not"
        );
        // a change while the session was busy is not lost
        feed.notify([2]);
        tokio::time::timeout(Duration::from_secs(1), b.changed())
            .await
            .expect("account 2 is woken later");
        assert_eq!(feed.accounts(), 2);
        drop(a);
        assert_eq!(feed.accounts(), 1);
    }
}
