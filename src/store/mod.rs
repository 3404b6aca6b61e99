//! The store: the only place that holds SQL. One facade over two dialects (embedded SQLite, the
//! default; Oracle, the production target), reached through r2d2 pools. The statements live in
//! `sql/oracle/queries/*.sql` (with SQLite overrides in `sql/sqlite/queries/` only where the
//! dialects force it); the code that runs them lives in the repositories below, shared by both
//! dialects.

mod error;
pub mod oracle;
pub mod schema;
pub mod sqlite;
mod url;
mod value;

pub mod backup;
pub mod blocklist;
pub mod collector;
pub mod delivery;
pub mod directory;
pub mod intake;
pub mod mailbox;
pub mod monitor;
pub mod outbound;
pub mod processes;
pub mod queue;
pub mod requests;
pub mod rules;
pub mod sps;
pub mod statistics;
pub mod subscribers;
pub mod system;
pub mod verify;

use std::time::Duration;

pub use error::StoreError;
pub use url::{PasswordSource, StoreUrl};
pub use value::{text_to_time, time_to_text, Row, Value};

/// Runs blocking store work on a blocking thread (for async servers); a failure is logged
/// with `what` and becomes `None`, which the server answers with its protocol's temporary
/// failure.
pub async fn run_blocking<T, F>(what: &'static str, f: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            log::error!("{what}: {e}");
            None
        }
        Err(e) => {
            log::error!("{what}: the task failed: {e}");
            None
        }
    }
}

/// The SQL dialect of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Oracle,
}

/// One named statement, in both dialects.
#[derive(Debug, Clone, Copy)]
pub struct Stmt {
    pub name: &'static str,
    pub oracle: &'static str,
    pub sqlite: &'static str,
}

impl Stmt {
    pub fn text(&self, d: Dialect) -> &'static str {
        match d {
            Dialect::Sqlite => self.sqlite,
            Dialect::Oracle => self.oracle,
        }
    }
}

/// Every statement the store runs, one constant per file of `sql/oracle/queries/`.
pub mod q {
    use super::Stmt;
    include!(concat!(env!("OUT_DIR"), "/queries.rs"));
}

/// Bind list: `(name, value)`; names are written without the leading colon.
pub type Binds<'a> = [(&'a str, Value)];

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Connections in the pool.
    pub pool_size: u32,
    /// How long to wait for a pooled connection (and, on SQLite, for a write lock).
    pub wait: Duration,
    /// Where the Oracle password comes from.
    pub password: PasswordSource,
    /// Create the embedded store's directory and file when absent (init); otherwise a missing
    /// file is an error.
    pub create: bool,
    /// Oracle: the schema owner, when connections log on as another user (`CURRENT_SCHEMA`).
    pub schema: Option<String>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            pool_size: 8,
            wait: Duration::from_secs(30),
            password: PasswordSource::Environment,
            create: false,
            schema: None,
        }
    }
}

enum Pool {
    Sqlite(r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>),
    Oracle(r2d2::Pool<r2d2_oracle::OracleConnectionManager>),
}

/// A pool of connections to one store.
pub struct Store {
    pool: Pool,
    url: StoreUrl,
    /// Threads waiting for a connection now.
    waiting: std::sync::atomic::AtomicI64,
}

/// How a store's pool is used now, whoever borrowed the connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// The most connections the pool opens.
    pub size: i64,
    /// Connections lent out.
    pub in_use: i64,
    /// Threads waiting for one.
    pub waiting: i64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.url)
    }
}

impl Store {
    /// Opens a pool on the store. A store that cannot be reached is an error whose text is one
    /// line saying what failed and what to do.
    pub fn open(url: &StoreUrl, opts: &OpenOptions) -> Result<Store, StoreError> {
        let pool = match url {
            StoreUrl::Sqlite(path) => Pool::Sqlite(sqlite::open_pool(path, opts)?),
            StoreUrl::Oracle { user, connect } => {
                Pool::Oracle(oracle::open_pool(user, connect, opts)?)
            }
        };
        Ok(Store {
            pool,
            url: url.clone(),
            waiting: std::sync::atomic::AtomicI64::new(0),
        })
    }

    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    pub fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Oracle(_) => Dialect::Oracle,
        }
    }

    /// How the pool is used now.
    pub fn usage(&self) -> PoolUsage {
        let (size, state) = match &self.pool {
            Pool::Sqlite(p) => (p.max_size(), p.state()),
            Pool::Oracle(p) => (p.max_size(), p.state()),
        };
        PoolUsage {
            size: size as i64,
            in_use: (state.connections as i64 - state.idle_connections as i64).max(0),
            waiting: self
                .waiting
                .load(std::sync::atomic::Ordering::SeqCst)
                .max(0),
        }
    }

    /// Borrows a connection from the pool; it goes back when dropped.
    pub fn conn(&self) -> Result<Conn, StoreError> {
        use std::sync::atomic::Ordering;
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let c = self.borrow();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        c
    }

    fn borrow(&self) -> Result<Conn, StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => p.get().map(Conn::Sqlite).map_err(|e| {
                StoreError::Unavailable(format!("no connection to {} available: {e}", self.url))
            }),
            Pool::Oracle(p) => p.get().map(Conn::Oracle).map_err(|e| {
                StoreError::Unavailable(oracle::explain_pool_error(&self.url, &e.to_string()))
            }),
        }
    }

    /// Runs `f` in one write transaction: committed when it returns `Ok`, rolled back otherwise.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut Conn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut c = self.conn()?;
        c.transaction(TxMode::Write, f)
    }

    /// Runs `f` in one read transaction: a consistent snapshot (SQLite: a deferred
    /// transaction; Oracle: `SET TRANSACTION READ ONLY`).
    pub fn read<T, E>(&self, f: impl FnOnce(&mut Conn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut c = self.conn()?;
        c.transaction(TxMode::Read, f)
    }
}

/// What a transaction will do: on the embedded store a write transaction takes the write lock
/// at its start (`BEGIN IMMEDIATE`), so that concurrent writers wait instead of failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    Read,
    Write,
}

/// A connection borrowed from a pool.
pub enum Conn {
    Sqlite(r2d2::PooledConnection<r2d2_sqlite::SqliteConnectionManager>),
    Oracle(r2d2::PooledConnection<r2d2_oracle::OracleConnectionManager>),
}

impl Conn {
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Oracle(_) => Dialect::Oracle,
        }
    }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    pub fn execute(&mut self, stmt: &Stmt, binds: &Binds) -> Result<u64, StoreError> {
        match self {
            Conn::Sqlite(c) => sqlite::execute(c, stmt, binds),
            Conn::Oracle(c) => oracle::execute(c, stmt, binds),
        }
    }

    /// Runs a query and returns all its rows.
    pub fn query(&mut self, stmt: &Stmt, binds: &Binds) -> Result<Vec<Row>, StoreError> {
        match self {
            Conn::Sqlite(c) => sqlite::query(c, stmt, binds),
            Conn::Oracle(c) => oracle::query(c, stmt, binds),
        }
    }

    /// Runs a query expected to return at most one row.
    pub fn query_opt(&mut self, stmt: &Stmt, binds: &Binds) -> Result<Option<Row>, StoreError> {
        let mut rows = self.query(stmt, binds)?;
        if rows.len() > 1 {
            return Err(StoreError::Decode(format!(
                "{}: {} rows where at most one was expected",
                stmt.name,
                rows.len()
            )));
        }
        Ok(rows.pop())
    }

    /// Runs an `INSERT ... RETURNING col INTO :col` and returns the generated integer.
    pub fn insert_returning(
        &mut self,
        stmt: &Stmt,
        binds: &Binds,
        returning: &str,
    ) -> Result<i64, StoreError> {
        match self {
            Conn::Sqlite(c) => sqlite::insert_returning(c, stmt, binds, returning),
            Conn::Oracle(c) => oracle::insert_returning(c, stmt, binds, returning),
        }
    }

    pub fn begin(&mut self, mode: TxMode) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c) => sqlite::begin(c, mode),
            Conn::Oracle(c) => oracle::begin(c, mode),
        }
    }

    pub fn commit(&mut self) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c) => sqlite::commit(c),
            Conn::Oracle(c) => oracle::commit(c),
        }
    }

    pub fn rollback(&mut self) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c) => sqlite::rollback(c),
            Conn::Oracle(c) => oracle::rollback(c),
        }
    }

    /// Marks a point inside the transaction that `rollback_to_savepoint` returns to.
    pub fn savepoint(&mut self) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c) => sqlite::savepoint(c),
            Conn::Oracle(c) => oracle::savepoint(c),
        }
    }

    /// Forgets the savepoint (SQLite frees it; Oracle keeps savepoints until the commit).
    pub fn release_savepoint(&mut self) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c) => sqlite::release_savepoint(c),
            Conn::Oracle(_) => Ok(()),
        }
    }

    /// Undoes what was done since the savepoint; the transaction stays open.
    pub fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c) => sqlite::rollback_to_savepoint(c),
            Conn::Oracle(c) => oracle::rollback_to_savepoint(c),
        }
    }

    /// Limits how long each round trip to the database may take (`None`: no limit). Oracle
    /// only; the embedded store has no round trips and ignores it.
    pub fn set_call_timeout(&mut self, limit: Option<Duration>) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(_) => Ok(()),
            Conn::Oracle(c) => oracle::set_call_timeout(c, limit),
        }
    }

    /// Runs `f` in one transaction: committed on `Ok`, rolled back on `Err`.
    pub fn transaction<T, E>(
        &mut self,
        mode: TxMode,
        f: impl FnOnce(&mut Conn) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.begin(mode)?;
        match f(self) {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                if let Err(rb) = self.rollback() {
                    log::error!("rollback failed: {rb}");
                }
                Err(e)
            }
        }
    }
}
