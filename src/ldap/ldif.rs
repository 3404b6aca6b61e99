//! LDIF content records (RFC 2849) of LDAP entries. A value or DN that is not a SAFE-STRING
//! (it starts with a space, `:` or `<`, ends with a space, or holds NUL, CR, LF or a
//! non-ASCII byte) is written base64-encoded after `::`. Lines longer than 76 bytes are
//! folded: each continuation line starts with one space.

use std::io::{self, Write};

use base64::Engine;

use super::entry::Entry;

/// Longest line written, in bytes.
const MAX_LINE: usize = 76;

/// Writes the version line `version: 1` followed by a blank line.
pub fn header(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"version: 1\n\n")
}

/// Writes one entry as an LDIF content record (`dn:` line, then one `name: value` line per
/// value, then a blank line). An attribute name that is not a valid attribute description
/// (letters, digits, `-`, `.` and `;` options) is refused with `InvalidInput` before anything
/// is written.
pub fn write_entry(out: &mut impl Write, e: &Entry) -> io::Result<()> {
    if let Some((name, _)) = e.attrs.iter().find(|(n, _)| !valid_name(n)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid LDIF attribute name {name:?}"),
        ));
    }
    let mut buf = Vec::new();
    line(&mut buf, "dn", &e.dn);
    for (name, values) in &e.attrs {
        for v in values {
            line(&mut buf, name, v);
        }
    }
    buf.push(b'\n');
    out.write_all(&buf)
}

/// Appends `name: value` (or `name:: base64`), folded, with its line end.
fn line(buf: &mut Vec<u8>, name: &str, value: &str) {
    let mut l = Vec::with_capacity(name.len() + value.len() + 3);
    l.extend_from_slice(name.as_bytes());
    if value.is_empty() {
        l.push(b':');
    } else if is_safe(value) {
        l.extend_from_slice(b": ");
        l.extend_from_slice(value.as_bytes());
    } else {
        l.extend_from_slice(b":: ");
        let b64 = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
        l.extend_from_slice(b64.as_bytes());
    }
    let (first, mut rest) = l.split_at(l.len().min(MAX_LINE));
    buf.extend_from_slice(first);
    buf.push(b'\n');
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(MAX_LINE - 1));
        buf.push(b' ');
        buf.extend_from_slice(chunk);
        buf.push(b'\n');
        rest = tail;
    }
}

/// Whether a non-empty value may be written as it is (RFC 2849 SAFE-STRING, and no trailing
/// space).
fn is_safe(v: &str) -> bool {
    let b = v.as_bytes();
    let safe_char = |c: &u8| matches!(c, 0x01..=0x09 | 0x0b..=0x0c | 0x0e..=0x7f);
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            !matches!(f, b' ' | b':' | b'<') && *l != b' ' && b.iter().all(safe_char)
        }
        _ => true,
    }
}

/// Whether a name is an attribute description LDIF can carry (RFC 2849 AttributeDescription:
/// a type name or numeric OID, with `;` options).
fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b';'))
        && n.as_bytes()[0].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, attrs: &[(&str, &[&str])]) -> Entry {
        Entry {
            dn: dn.to_string(),
            attrs: attrs
                .iter()
                .map(|(n, v)| (n.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    fn ldif(e: &Entry) -> String {
        let mut out = Vec::new();
        write_entry(&mut out, e).expect("written");
        String::from_utf8(out).expect("LDIF is ASCII")
    }

    /// A tiny LDIF reader: unfolds lines and splits records into (name, value) pairs, the
    /// `dn` first.
    fn parse(text: &str) -> Vec<Vec<(String, String)>> {
        let mut lines: Vec<String> = Vec::new();
        for l in text.split('\n') {
            match l.strip_prefix(' ') {
                Some(cont) => lines.last_mut().expect("continued line").push_str(cont),
                None => lines.push(l.to_string()),
            }
        }
        let mut records = Vec::new();
        let mut cur: Vec<(String, String)> = Vec::new();
        for l in lines {
            if l.is_empty() {
                if !cur.is_empty() {
                    records.push(std::mem::take(&mut cur));
                }
                continue;
            }
            let (name, rest) = l.split_once(':').expect("a colon");
            let value = if let Some(b64) = rest.strip_prefix(": ") {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .expect("base64");
                String::from_utf8(raw).expect("UTF-8")
            } else if let Some(v) = rest.strip_prefix(' ') {
                assert!(is_safe(v), "{v:?} written as is");
                v.to_string()
            } else {
                assert_eq!(rest, "");
                String::new()
            };
            cur.push((name.to_string(), value));
        }
        assert!(cur.is_empty(), "record not ended by a blank line");
        records
    }

    fn flatten(e: &Entry) -> Vec<(String, String)> {
        let mut v = vec![("dn".to_string(), e.dn.clone())];
        for (n, vals) in &e.attrs {
            for x in vals {
                v.push((n.clone(), x.clone()));
            }
        }
        v
    }

    #[test]
    fn header_and_plain_record() {
        let mut out = Vec::new();
        header(&mut out).expect("written");
        assert_eq!(out, b"version: 1\n\n");
        let e = entry(
            "uid=jdoe,ou=acme.com,dc=acme,dc=com",
            &[
                ("objectClass", &["top", "person"]),
                ("uid", &["jdoe"]),
                ("cn", &["John Doe"]),
            ],
        );
        assert_eq!(
            ldif(&e),
            "dn: uid=jdoe,ou=acme.com,dc=acme,dc=com\n\
             objectClass: top\n\
             objectClass: person\n\
             uid: jdoe\n\
             cn: John Doe\n\
             \n"
        );
    }

    #[test]
    fn unsafe_values_are_base64() {
        let e = entry(
            "cn=Zoë,o=t",
            &[
                ("cn", &["Zoë"]),
                (
                    "description",
                    &[" lead", ":colon", "<less", "trail ", "a\nb", "a\rb"],
                ),
                ("sn", &["a\0b", "mid: colon", "x<y", ""]),
            ],
        );
        let text = ldif(&e);
        assert_eq!(
            text,
            "dn:: Y249Wm/DqyxvPXQ=\n\
             cn:: Wm/Dqw==\n\
             description:: IGxlYWQ=\n\
             description:: OmNvbG9u\n\
             description:: PGxlc3M=\n\
             description:: dHJhaWwg\n\
             description:: YQpi\n\
             description:: YQ1i\n\
             sn:: YQBi\n\
             sn: mid: colon\n\
             sn: x<y\n\
             sn:\n\
             \n"
        );
        assert_eq!(parse(&text), vec![flatten(&e)]);
    }

    #[test]
    fn long_values_are_folded() {
        let long: String = (0..200).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        let e = entry("cn=x", &[("description", &[long.as_str()])]);
        let text = ldif(&e);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1].len(), 76);
        assert!(lines[1].starts_with("description: abc"));
        assert!(lines[2].starts_with(' '));
        assert!(lines.iter().all(|l| l.len() <= 76));
        let unfolded = text.replace("\n ", "");
        assert_eq!(unfolded, format!("dn: cn=x\ndescription: {long}\n\n"));
        assert_eq!(parse(&text), vec![flatten(&e)]);

        let long_utf8 = "é".repeat(150);
        let e = entry("cn=x", &[("description", &[long_utf8.as_str()])]);
        let text = ldif(&e);
        assert!(text.lines().all(|l| l.len() <= 76));
        assert_eq!(parse(&text), vec![flatten(&e)]);
    }

    #[test]
    fn mapped_entries_round_trip() {
        let values: std::collections::BTreeMap<String, String> = [
            ("address", "zoe@acme.com"),
            ("domain", "acme.com"),
            ("firstname", "Zoë"),
            ("lastname", "Ünal"),
            ("username", "zoe"),
            (
                "description",
                " starts with a space and is rather long, so that it gets folded",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let e = super::super::entry::map("PERSON", &values, "dc=acme,dc=com").expect("exported");
        let d = super::super::entry::domain_entry("acme.com", "dc=acme,dc=com");
        let mut out = Vec::new();
        header(&mut out).expect("written");
        write_entry(&mut out, &d).expect("written");
        write_entry(&mut out, &e).expect("written");
        let text = String::from_utf8(out).expect("ASCII");
        let text = text.strip_prefix("version: 1\n\n").expect("header");
        assert_eq!(parse(text), vec![flatten(&d), flatten(&e)]);
    }

    #[test]
    fn invalid_names_are_refused() {
        for bad in ["", "a b", "cn\n", "-x", "é"] {
            let e = entry("cn=x", &[("cn", &["x"]), (bad, &["v"])]);
            let mut out = Vec::new();
            let err = write_entry(&mut out, &e).expect_err("refused");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(out.is_empty());
        }
        let e = entry("cn=x", &[("cn;lang-en", &["x"]), ("2.5.4.3", &["y"])]);
        assert_eq!(ldif(&e), "dn: cn=x\ncn;lang-en: x\n2.5.4.3: y\n\n");
    }

    #[test]
    fn pseudo_random_values() {
        const POOL: &[char] = &[
            'a', 'Z', '0', ' ', '#', ',', '+', '"', '\\', '<', '>', ';', '=', ':', '\0', '\n',
            '\r', 'é', '€', '😀', '\u{7f}', '\t',
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        };
        for round in 0..400 {
            let len = next() % if round % 4 == 0 { 300 } else { 40 };
            let v: String = (0..len).map(|_| POOL[next() % POOL.len()]).collect();
            let name = if round % 7 == 0 {
                "x".repeat(next() % 120 + 1)
            } else {
                "description".to_string()
            };
            let dn = format!(
                "cn={},ou=acme.com,dc=acme,dc=com",
                super::super::entry::escape_dn_value(&v)
            );
            let e = entry(&dn, &[(name.as_str(), &[v.as_str(), ""]), ("cn", &[&v])]);
            let text = ldif(&e);
            for l in text.lines() {
                assert!(l.len() <= 76, "{l:?}");
            }
            assert!(text.ends_with("\n\n"));
            assert_eq!(parse(&text), vec![flatten(&e)]);
        }
    }
}
