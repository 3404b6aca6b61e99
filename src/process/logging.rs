//! One log file per process instance (`<node>_<host>_<type><NN>.log` in its `logdir`), at the
//! instance's `loglevel`, which a refresh may change while the process runs. On a terminal the
//! same lines also go to standard error.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::Utc;
use log::{LevelFilter, Log, Metadata, Record};

pub struct ProcessLogger {
    name: String,
    file: Mutex<Option<File>>,
    stderr: bool,
}

static LOGGER: std::sync::OnceLock<ProcessLogger> = std::sync::OnceLock::new();

/// The file name of an instance's log, as the original named them.
pub fn file_name(node: &str, host: &str, type_name: &str, instance: i64) -> String {
    let host = host.split('.').next().unwrap_or(host);
    format!("{node}_{host}_{type_name}{instance:02}.log")
}

pub fn parse_level(s: &str) -> LevelFilter {
    match s.to_ascii_lowercase().as_str() {
        "error" => LevelFilter::Error,
        "warn" => LevelFilter::Warn,
        "debug" => LevelFilter::Debug,
        "trace" => LevelFilter::Trace,
        _ => LevelFilter::Info,
    }
}

/// Installs the process's logger (once per process). Returns the log file's path.
pub fn install(name: &str, dir: &Path, file: &str, level: LevelFilter) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the log directory {}: {e}", dir.display()))?;
    let path = dir.join(file);
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot open the log file {}: {e}", path.display()))?;
    let logger = LOGGER.get_or_init(|| ProcessLogger {
        name: name.to_string(),
        file: Mutex::new(None),
        stderr: std::io::stderr().is_terminal(),
    });
    if let Ok(mut g) = logger.file.lock() {
        *g = Some(f);
    }
    // a second install (never in practice) keeps the first logger
    let _ = log::set_logger(logger);
    log::set_max_level(level);
    Ok(path)
}

/// Changes the level of a running process (refresh).
pub fn set_level(level: LevelFilter) {
    log::set_max_level(level);
}

impl Log for ProcessLogger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        // dependencies log at their own modules; keep their chatter to warnings and worse
        if !r.target().starts_with("esmail") && r.level() > log::Level::Warn {
            return;
        }
        let line = format!(
            "{} {:<5} {}[{}]: {}\n",
            Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            r.level(),
            self.name,
            std::process::id(),
            r.args()
        );
        if let Ok(mut g) = self.file.lock() {
            if let Some(f) = g.as_mut() {
                let _ = f.write_all(line.as_bytes());
            }
        }
        if self.stderr {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {
        if let Ok(mut g) = self.file.lock() {
            if let Some(f) = g.as_mut() {
                let _ = f.flush();
            }
        }
    }
}
