//! Connection sharing: the sessions of an instance borrow one of a few pooled connections for
//! each request, on a blocking thread, and give it back at once. The counts of connections in
//! use and of requests waiting for one are kept for `probe;`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::store::{sps::Load, Conn, Store, StoreError, TxMode};

/// The store could not serve a request (logged where it happened); the session answers with
/// its protocol's temporary failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the mail store is not available")
    }
}

#[derive(Default)]
struct Counters {
    in_use: AtomicI64,
    waiting: AtomicI64,
}

/// A shared pool of store connections, with its use counted.
#[derive(Clone)]
pub struct Db {
    store: Arc<Store>,
    pool_size: i64,
    n: Arc<Counters>,
}

struct Using<'a>(&'a AtomicI64);

impl<'a> Using<'a> {
    fn new(a: &'a AtomicI64) -> Self {
        a.fetch_add(1, Ordering::SeqCst);
        Using(a)
    }
}

impl Drop for Using<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Db {
    /// `store` must have been opened with a pool of `pool_size` connections.
    pub fn new(store: Arc<Store>, pool_size: u32) -> Db {
        Db {
            store,
            pool_size: pool_size as i64,
            n: Arc::new(Counters::default()),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub async fn read<T, F>(&self, what: &'static str, f: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        self.tx(what, TxMode::Read, f).await
    }

    /// Runs `f` in one write transaction: committed when it returns `Ok`.
    pub async fn write<T, F>(&self, what: &'static str, f: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        self.tx(what, TxMode::Write, f).await
    }

    async fn tx<T, F>(&self, what: &'static str, mode: TxMode, f: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let (store, n) = (self.store.clone(), self.n.clone());
        self.blocking(what, move || {
            let mut c = {
                let _w = Using::new(&n.waiting);
                store.conn()?
            };
            let _u = Using::new(&n.in_use);
            c.transaction(mode, f)
        })
        .await
    }

    /// Runs blocking work that borrows connections itself (a login), on a blocking thread.
    pub async fn with_store<T, F>(&self, what: &'static str, f: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        self.blocking(what, move || f(&store)).await
    }

    async fn blocking<T, F>(&self, what: &'static str, f: F) -> Result<T, Unavailable>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    {
        crate::store::run_blocking(what, f).await.ok_or(Unavailable)
    }

    /// The pool's use now (sessions filled in by the caller).
    pub fn load(&self) -> Load {
        let in_use = self.n.in_use.load(Ordering::SeqCst).max(0);
        Load {
            sessions: 0,
            pool_size: self.pool_size,
            in_use,
            idle: (self.pool_size - in_use).max(0),
            waiting: self.n.waiting.load(Ordering::SeqCst).max(0),
        }
    }
}
