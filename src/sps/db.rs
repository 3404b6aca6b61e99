//! Connection sharing: the sessions of an instance borrow one of a few pooled connections for
//! each request, on a blocking thread, and give it back at once. The pool's use (connections
//! lent, threads waiting) is shown by `probe;`.

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

/// A shared pool of store connections; its use is read from the pool itself, so that every
/// borrower (requests, logins) counts.
#[derive(Clone)]
pub struct Db {
    store: Arc<Store>,
}

impl Db {
    pub fn new(store: Arc<Store>) -> Db {
        Db { store }
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
        let store = self.store.clone();
        self.blocking(what, move || store.conn()?.transaction(mode, f))
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
        let u = self.store.usage();
        Load {
            sessions: 0,
            pool_size: u.size,
            in_use: u.in_use,
            idle: (u.size - u.in_use).max(0),
            waiting: u.waiting,
        }
    }
}
