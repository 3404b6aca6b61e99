//! Oracle error codes: what they mean for the store, and one-line explanations for an
//! administrator when the store cannot be reached.

/// An error code found in a driver message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// `ORA-nnnnn`
    Ora(i32),
    /// `DPI-nnnn` (ODPI-C, the layer between the crate and the Oracle client library)
    Dpi(i32),
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Code::Ora(n) => write!(f, "ORA-{n:05}"),
            Code::Dpi(n) => write!(f, "DPI-{n:04}"),
        }
    }
}

/// What an error means to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Unique,
    ForeignKey,
    Check,
    NoSuchTable,
    Busy,
    Unavailable,
    Other,
}

pub(crate) fn classify(code: Option<Code>) -> Class {
    match code {
        Some(Code::Ora(n)) => match n {
            1 => Class::Unique,
            2291 | 2292 => Class::ForeignKey,
            // check constraint, NOT NULL on insert / update, value too large, precision;
            // ORA-01461: text over 4000 bytes (bound as LONG) for a VARCHAR2 column.
            2290 | 1400 | 1407 | 12899 | 1438 | 1401 | 1461 => Class::Check,
            942 => Class::NoSuchTable,
            // resource busy (NOWAIT), timeout waiting for a lock, deadlock, DDL lock timeout.
            54 | 30006 | 60 | 4021 => Class::Busy,
            // session killed, not logged on, end-of-file on channel, not connected, lost
            // contact, instance shut down / starting / not available, max idle/connect time.
            28 | 1012 | 1033 | 1034 | 1089 | 1090 | 1092 | 2396 | 2399 | 3113 | 3114 | 3135
            | 27101 => Class::Unavailable,
            // Oracle Net (TNS) errors.
            12150..=12699 => Class::Unavailable,
            _ => Class::Other,
        },
        // not connected, client library missing / unsupported, connection closed by ORA-...
        Some(Code::Dpi(n)) => match n {
            1010 | 1047 | 1072 | 1080 => Class::Unavailable,
            1067 => Class::Busy, // call timeout
            _ => Class::Other,
        },
        None => Class::Other,
    }
}

/// The first `ORA-nnnnn` or `DPI-nnnn` in a message.
pub(crate) fn find_code(msg: &str) -> Option<Code> {
    let b = msg.as_bytes();
    let mut i = 0;
    while i + 4 <= b.len() {
        let prefix = &b[i..i + 4];
        let ora = prefix.eq_ignore_ascii_case(b"ORA-");
        let dpi = prefix.eq_ignore_ascii_case(b"DPI-");
        if ora || dpi {
            let digits: String = msg[i + 4..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if !digits.is_empty() && digits.len() <= 5 {
                if let Ok(n) = digits.parse() {
                    return Some(if ora { Code::Ora(n) } else { Code::Dpi(n) });
                }
            }
        }
        i += 1;
    }
    None
}

/// The first line of a (possibly multi-line) driver message, without the crate's
/// `OCI Error: ` / `DPI Error: ` prefix, trimmed and bounded in length.
pub(crate) fn first_line(msg: &str) -> String {
    let line = msg
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let line = line
        .strip_prefix("OCI Error: ")
        .or_else(|| line.strip_prefix("DPI Error: "))
        .unwrap_or(line)
        .trim();
    const MAX: usize = 400;
    if line.len() <= MAX {
        return line.to_string();
    }
    let mut end = MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &line[..end])
}

/// What to do about a connection error, by code.
fn hint(code: Code) -> &'static str {
    match code {
        Code::Dpi(1047) => "",
        Code::Dpi(1072) => {
            "the Oracle client library is too old for this driver; install a current Oracle Instant Client"
        }
        Code::Ora(12541) => {
            "nothing listens at that host and port: check the connect string's host and port and that the listener runs (lsnrctl status)"
        }
        Code::Ora(12514) => {
            "the listener does not know that service: check the service name after the '/' (lsnrctl services lists them)"
        }
        Code::Ora(12505) => {
            "the listener does not know that SID: use //host:port/SERVICE_NAME or check the SID"
        }
        Code::Ora(1017) => {
            "wrong user or password: check the user in the store URL and ESMAIL_DB_PASSWORD or the password_file"
        }
        Code::Ora(28000) => "the account is locked: ask the DBA to unlock it (ALTER USER ... ACCOUNT UNLOCK)",
        Code::Ora(28001) => "the password has expired: ask the DBA to set a new one, then update the password file",
        Code::Ora(1045) => "the user lacks CREATE SESSION: ask the DBA to grant it",
        Code::Ora(12154) | Code::Ora(12262) => {
            "the connect identifier cannot be resolved: check the TNS alias and tnsnames.ora (TNS_ADMIN), or use //host:port/service"
        }
        Code::Ora(12545) => "the host name cannot be resolved: check the connect string's host",
        Code::Ora(12543) | Code::Ora(12170) | Code::Ora(12535) => {
            "the database host cannot be reached in time: check the network path and firewalls to the listener port"
        }
        Code::Ora(12516) | Code::Ora(12518) | Code::Ora(12519) | Code::Ora(12520) => {
            "the database refuses new sessions (processes or sessions limit?): ask the DBA, or lower pool_size"
        }
        Code::Ora(12526) | Code::Ora(12527) | Code::Ora(12528) => {
            "the database is restricted or not open for this service: ask the DBA"
        }
        Code::Ora(1033) => "the database is starting or shutting down: retry in a moment",
        Code::Ora(1034) | Code::Ora(27101) => "the database instance is not started: ask the DBA to start it",
        Code::Ora(1089) | Code::Ora(1092) => "the database is shutting down: retry once it is open",
        Code::Ora(28040) => {
            "no matching authentication protocol: the Oracle client is too old for this database, or SQLNET.ALLOWED_LOGON_VERSION_SERVER refuses it"
        }
        Code::Ora(3113) | Code::Ora(3114) | Code::Ora(3135) | Code::Ora(12537) | Code::Ora(12547) => {
            "the connection was cut: check the network and the database alert log"
        }
        Code::Ora(n) if (12150..=12699).contains(&n) => {
            "Oracle Net refused the connection: check the connect string and the listener"
        }
        _ => "check the store URL's connect string and that the database is open",
    }
}

/// The one-line text for a connection failure. `driver` is the driver's message (any
/// number of lines).
pub(crate) fn explain_connect(what: &str, url: &str, driver: &str) -> String {
    let line = first_line(driver);
    match find_code(&line) {
        Some(Code::Dpi(1047)) => {
            let mut s = format!(
                "{what} {url}: DPI-1047: the Oracle client library (libclntsh.so) was not found; \
                 install Oracle Instant Client and set LD_LIBRARY_PATH, or use the embedded store (sqlite:PATH)"
            );
            // The loader's reason, when it is not the plain "libclntsh.so: cannot open ..."
            // (e.g. a missing libaio or a 32-bit library).
            if let Some(reason) = line.split('"').nth(1) {
                if !reason.starts_with("libclntsh.so: cannot open shared object file") {
                    s.push_str(&format!(" (loader: {reason})"));
                }
            }
            s
        }
        Some(code) => format!("{what} {url}: {line}; {}", hint(code)),
        None if line.is_empty() => format!("{what} {url}: {}", hint(Code::Ora(0))),
        None => format!("{what} {url}: {line}; {}", hint(Code::Ora(0))),
    }
}

/// The one-line text for a failure to get a pooled connection.
pub(crate) fn explain_pool(url: &str, msg: &str) -> String {
    if find_code(msg).is_some() {
        // "timed out waiting for connection: OCI Error: ORA-12541: ..."
        let inner = msg
            .strip_prefix("timed out waiting for connection: ")
            .unwrap_or(msg);
        return explain_connect("cannot reach the Oracle store", url, inner);
    }
    format!(
        "no connection to the Oracle store {url} became free within the wait ({}); raise pool_size or wait in [store] of esmail.toml, or look for sessions holding connections (long transactions)",
        first_line(msg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_codes() {
        assert_eq!(
            find_code("ORA-00001: unique constraint"),
            Some(Code::Ora(1))
        );
        assert_eq!(
            find_code("DPI Error: DPI-1080: connection was closed by ORA-03113"),
            Some(Code::Dpi(1080))
        );
        assert_eq!(find_code("no code here"), None);
        assert_eq!(Code::Ora(1).to_string(), "ORA-00001");
        assert_eq!(Code::Dpi(1047).to_string(), "DPI-1047");
    }

    #[test]
    fn classifies() {
        assert_eq!(classify(Some(Code::Ora(1))), Class::Unique);
        assert_eq!(classify(Some(Code::Ora(2291))), Class::ForeignKey);
        assert_eq!(classify(Some(Code::Ora(2292))), Class::ForeignKey);
        for n in [2290, 1400, 12899, 1438] {
            assert_eq!(classify(Some(Code::Ora(n))), Class::Check, "{n}");
        }
        assert_eq!(classify(Some(Code::Ora(942))), Class::NoSuchTable);
        assert_eq!(classify(Some(Code::Ora(54))), Class::Busy);
        assert_eq!(classify(Some(Code::Ora(30006))), Class::Busy);
        for n in [3113, 3114, 12541, 12514, 12170] {
            assert_eq!(classify(Some(Code::Ora(n))), Class::Unavailable, "{n}");
        }
        assert_eq!(classify(Some(Code::Dpi(1080))), Class::Unavailable);
        assert_eq!(classify(Some(Code::Ora(904))), Class::Other);
        assert_eq!(classify(None), Class::Other);
    }

    #[test]
    fn first_line_drops_prefix_and_help() {
        assert_eq!(
            first_line("OCI Error: ORA-12541: Cannot connect. No listener at host 127.0.0.1 port 1521.\nHelp: https://docs.oracle.com/error-help/db/ora-12541/"),
            "ORA-12541: Cannot connect. No listener at host 127.0.0.1 port 1521."
        );
        let long = "x".repeat(1000);
        assert!(first_line(&long).len() < 410);
    }

    #[test]
    fn explains_missing_client_library() {
        let msg = "DPI Error: DPI-1047: Cannot locate a 64-bit Oracle Client library: \"libclntsh.so: cannot open shared object file: No such file or directory\". See https://oracle.github.io/odpi/doc/installation.html#linux for help";
        assert_eq!(
            explain_connect("cannot reach the Oracle store", "oracle://x@//127.0.0.1:1521/none", msg),
            "cannot reach the Oracle store oracle://x@//127.0.0.1:1521/none: DPI-1047: the Oracle client library (libclntsh.so) was not found; install Oracle Instant Client and set LD_LIBRARY_PATH, or use the embedded store (sqlite:PATH)"
        );
        let msg = "DPI-1047: Cannot locate a 64-bit Oracle Client library: \"libaio.so.1: cannot open shared object file: No such file or directory\". See ...";
        let s = explain_connect("cannot reach the Oracle store", "oracle://x@db", msg);
        assert!(
            s.ends_with(
                "(loader: libaio.so.1: cannot open shared object file: No such file or directory)"
            ),
            "{s}"
        );
    }

    #[test]
    fn explains_ora_errors_in_one_line() {
        for (msg, needle) in [
            ("ORA-12541: TNS:no listener", "lsnrctl status"),
            ("ORA-12514: TNS:listener does not currently know of service requested in connect descriptor", "service name"),
            ("ORA-01017: invalid username/password; logon denied\nHelp: https://...", "ESMAIL_DB_PASSWORD"),
            ("ORA-28000: the account is locked", "unlock"),
            ("ORA-99999: something new", "connect string"),
        ] {
            let s = explain_connect("cannot reach the Oracle store", "oracle://u@db", msg);
            assert!(s.starts_with("cannot reach the Oracle store oracle://u@db: ORA-"), "{s}");
            assert!(s.contains(needle), "{s}");
            assert!(!s.contains('\n'), "{s}");
        }
    }

    #[test]
    fn explains_pool_errors() {
        let s = explain_pool(
            "oracle://u@db",
            "timed out waiting for connection: OCI Error: ORA-12541: TNS:no listener",
        );
        assert_eq!(
            s,
            "cannot reach the Oracle store oracle://u@db: ORA-12541: TNS:no listener; nothing listens at that host and port: check the connect string's host and port and that the listener runs (lsnrctl status)"
        );
        let s = explain_pool("oracle://u@db", "timed out waiting for connection");
        assert!(s.contains("pool_size") && !s.contains('\n'), "{s}");
    }
}
