//! What both binaries share: finding and opening the store, and reporting a failure in one line.

use std::path::PathBuf;

use clap::Args;

use crate::config::{self, Config};
use crate::store::{Store, StoreError};

/// Where the store is (see `esmail --help`).
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The store: sqlite:PATH or oracle://USER@CONNECT_STRING (default: $ESMAIL_STORE, then
    /// [store] url in the config file, then sqlite:./esmail-data/esmail.db)
    #[arg(long, global = true, value_name = "URL")]
    pub store: Option<String>,
    /// The config file (default: ./esmail.toml when it exists)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

impl StoreArgs {
    pub fn resolve(&self) -> Result<Config, String> {
        config::resolve(self.store.as_deref(), self.config.as_deref())
    }

    /// Opens the store; `create` allows a new embedded store file to be made.
    pub fn open(&self, create: bool) -> Result<(Store, Config), String> {
        let cfg = self.resolve()?;
        let mut open = cfg.open.clone();
        open.create = create;
        let store = Store::open(&cfg.url, &open).map_err(|e| match e {
            StoreError::Unavailable(m) => m,
            e => format!("{}: {e}", cfg.url),
        })?;
        Ok((store, cfg))
    }

    /// Opens the store with a pool of `pool_size` connections.
    pub fn open_with_pool(&self, pool_size: u32) -> Result<(Store, Config), String> {
        let cfg = self.resolve()?;
        let mut open = cfg.open.clone();
        open.pool_size = pool_size.max(1);
        let store = Store::open(&cfg.url, &open).map_err(|e| match e {
            StoreError::Unavailable(m) => m,
            e => format!("{}: {e}", cfg.url),
        })?;
        Ok((store, cfg))
    }
}

/// Logging to standard error; `RUST_LOG` chooses the level (default: warn).
pub fn init_logging() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format_timestamp_millis()
        .try_init();
}

/// Prints `prog: message` (one line) and exits non-zero.
pub fn fail(prog: &str, message: impl std::fmt::Display) -> ! {
    let text = message.to_string();
    let one_line = text.lines().next().unwrap_or("failed");
    eprintln!("{prog}: {one_line}");
    std::process::exit(1)
}
