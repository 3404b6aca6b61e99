//! How a command finds its store: `--store URL`, else `ESMAIL_STORE`, else `[store] url` in
//! the config file (`--config PATH`, else `./esmail.toml` when it exists), else
//! `sqlite:./esmail-data/esmail.db`. The config file only says how to reach the store; every
//! other setting lives in the store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::store::schema::Defines;
use crate::store::{OpenOptions, PasswordSource, StoreUrl};

pub const DEFAULT_STORE: &str = "sqlite:./esmail-data/esmail.db";
pub const STORE_ENV: &str = "ESMAIL_STORE";
pub const DEFAULT_CONFIG: &str = "esmail.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    store: StoreSection,
    #[serde(default)]
    oracle: OracleSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreSection {
    url: Option<String>,
    password_file: Option<PathBuf>,
    pool_size: Option<u32>,
    wait_seconds: Option<u64>,
    schema: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OracleSection {
    data_tablespace: Option<String>,
    index_tablespace: Option<String>,
    lob_tablespace: Option<String>,
}

/// Everything needed to open the store.
#[derive(Debug, Clone)]
pub struct Config {
    pub url: StoreUrl,
    /// Where the URL came from (for messages).
    pub source: String,
    pub open: OpenOptions,
    /// Substitution variables for the Oracle install scripts.
    pub defines: Defines,
}

impl Config {
    /// The node's own directory on this host: the embedded store's directory, or
    /// `./esmail-data` with an Oracle store. Logs go below it.
    pub fn data_dir(&self) -> PathBuf {
        match &self.url {
            StoreUrl::Sqlite(p) => match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            },
            StoreUrl::Oracle { .. } => PathBuf::from("./esmail-data"),
        }
    }
}

/// Limits on the pool that a config file may ask for.
const MAX_POOL: u32 = 256;

pub fn resolve(cli_store: Option<&str>, cli_config: Option<&Path>) -> Result<Config, String> {
    let (file, file_name) = match cli_config {
        Some(p) => (Some(read(p)?), p.display().to_string()),
        None => {
            let p = Path::new(DEFAULT_CONFIG);
            if p.exists() {
                (Some(read(p)?), DEFAULT_CONFIG.to_string())
            } else {
                (None, String::new())
            }
        }
    };
    let file = file.unwrap_or_default();
    let env = std::env::var(STORE_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty());
    let (url, source) = if let Some(s) = cli_store {
        (s.to_string(), "--store".to_string())
    } else if let Some(s) = env {
        (s, STORE_ENV.to_string())
    } else if let Some(s) = &file.store.url {
        (s.clone(), format!("{file_name} [store] url"))
    } else {
        (DEFAULT_STORE.to_string(), "the default".to_string())
    };
    let url = StoreUrl::parse(&url).map_err(|e| format!("{e} (from {source})"))?;
    let mut open = OpenOptions::default();
    if let Some(n) = file.store.pool_size {
        if n == 0 || n > MAX_POOL {
            return Err(format!(
                "{file_name}: [store] pool_size must be 1 to {MAX_POOL}"
            ));
        }
        open.pool_size = n;
    }
    if let Some(s) = file.store.wait_seconds {
        if s == 0 || s > 3600 {
            return Err(format!(
                "{file_name}: [store] wait_seconds must be 1 to 3600"
            ));
        }
        open.wait = Duration::from_secs(s);
    }
    open.schema = file.store.schema.filter(|s| !s.trim().is_empty());
    if let Some(p) = file.store.password_file {
        open.password = PasswordSource::File(p);
    }
    // tablespaces not named here default, on Oracle, to the schema owner's default
    // tablespace (as in install.sql); see store::schema::upgrade
    let mut defines = Defines::new();
    for (k, v) in [
        ("data_tablespace", file.oracle.data_tablespace),
        ("index_tablespace", file.oracle.index_tablespace),
        ("lob_tablespace", file.oracle.lob_tablespace),
    ] {
        if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
            defines.insert(k.to_string(), v);
        }
    }
    Ok(Config {
        url,
        source,
        open,
        defines,
    })
}

fn read(p: &Path) -> Result<File, String> {
    let text = std::fs::read_to_string(p)
        .map_err(|e| format!("cannot read the config file {}: {e}", p.display()))?;
    toml::from_str(&text).map_err(|e| {
        // the parser's text is several lines: where, the line itself, then what is wrong
        let t = e.to_string();
        let mut lines = t.lines().map(str::trim).filter(|l| !l.is_empty());
        let at = lines.next().unwrap_or("invalid");
        let what = t
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("");
        format!("config file {}: {at}: {what}", p.display())
    })
}

/// The machine's host name, in lower case.
pub fn host_name() -> String {
    hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
