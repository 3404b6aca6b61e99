use std::fmt;
use std::path::PathBuf;

use super::StoreError;

/// Where the store is: `sqlite:PATH` (the embedded default) or `oracle://USER@CONNECT_STRING`.
/// A URL never carries a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Oracle { user: String, connect: String },
}

/// Where the Oracle password is read from: never a command line, never a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The environment variable `ESMAIL_DB_PASSWORD`.
    Environment,
    /// A file whose first line is the password (named in the config). The environment
    /// variable, when set, still wins: it is how a one-off command overrides the file.
    File(PathBuf),
}

pub const PASSWORD_ENV: &str = "ESMAIL_DB_PASSWORD";

impl PasswordSource {
    pub fn read(&self) -> Result<String, StoreError> {
        if let Ok(p) = std::env::var(PASSWORD_ENV) {
            if !p.is_empty() {
                return Ok(p);
            }
        }
        match self {
            PasswordSource::Environment => Err(StoreError::Unavailable(format!(
                "no Oracle password: set {PASSWORD_ENV} or name a password_file in [store] of esmail.toml"
            ))),
            PasswordSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    StoreError::Unavailable(format!(
                        "cannot read the password file {}: {e}",
                        path.display()
                    ))
                })?;
                let line = text.lines().next().unwrap_or("").trim_end().to_string();
                if line.is_empty() {
                    return Err(StoreError::Unavailable(format!(
                        "the password file {} is empty",
                        path.display()
                    )));
                }
                Ok(line)
            }
        }
    }
}

impl StoreUrl {
    pub fn parse(s: &str) -> Result<StoreUrl, String> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("oracle://") {
            let (user, connect) = rest
                .split_once('@')
                .ok_or_else(|| format!("store URL {s:?}: expected oracle://USER@CONNECT_STRING"))?;
            if user.contains(':') || user.contains('/') {
                return Err("store URL: a password does not belong in the URL; set ESMAIL_DB_PASSWORD or name a password_file in esmail.toml".into());
            }
            if user.is_empty() || connect.is_empty() {
                return Err(format!(
                    "store URL {s:?}: expected oracle://USER@CONNECT_STRING"
                ));
            }
            return Ok(StoreUrl::Oracle {
                user: user.to_string(),
                connect: connect.to_string(),
            });
        }
        if let Some(rest) = s.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(
                    "store URL sqlite: needs a file path, e.g. sqlite:./esmail-data/esmail.db"
                        .into(),
                );
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        Err(format!(
            "store URL {s:?}: expected sqlite:PATH or oracle://USER@CONNECT_STRING"
        ))
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            StoreUrl::Oracle { user, connect } => write!(f, "oracle://{user}@{connect}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds() {
        assert_eq!(
            StoreUrl::parse("sqlite:./x/y.db").unwrap(),
            StoreUrl::Sqlite("./x/y.db".into())
        );
        assert_eq!(
            StoreUrl::parse("oracle://esmail@//db:1521/orcl").unwrap(),
            StoreUrl::Oracle {
                user: "esmail".into(),
                connect: "//db:1521/orcl".into()
            }
        );
    }

    #[test]
    fn refuses_passwords_and_garbage() {
        assert!(StoreUrl::parse("oracle://u:pw@db")
            .unwrap_err()
            .contains("password"));
        assert!(StoreUrl::parse("mysql://x").is_err());
        assert!(StoreUrl::parse("sqlite:").is_err());
        assert!(StoreUrl::parse("oracle://db").is_err());
    }
}
