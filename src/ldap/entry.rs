//! Directory objects as LDAP entries: persons, rooms, equipment, public aliases and public
//! distribution lists, each an `inetOrgPerson` under `ou=<domain>,<base DN>`. The input is an
//! object's class and its values as the directory change log records them (lower-case names,
//! flat string values). Secrets and mailbox bookkeeping (password hashes, quota, usage,
//! status, home node) are never exported, nor are private objects.

use std::collections::BTreeMap;

/// An LDAP entry: its DN and its attributes (names as in the schema, values in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dn: String,
    pub attrs: Vec<(String, Vec<String>)>,
}

impl Entry {
    /// The values of an attribute (case-insensitive name), empty if absent.
    pub fn get(&self, name: &str) -> &[String] {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }

    /// Adds an attribute with one value, unless the value is empty.
    fn push(&mut self, name: &str, value: &str) {
        if !value.is_empty() {
            self.attrs.push((name.to_string(), vec![value.to_string()]));
        }
    }
}

/// Every attribute an exported entry may have besides `objectClass`, in the order entries list
/// them (a person's; the others use some of them): the attributes esmail manages in LDAP.
pub const MANAGED: [&str; 17] = [
    "uid",
    "cn",
    "sn",
    "givenName",
    "initials",
    "displayName",
    "title",
    "departmentNumber",
    "employeeNumber",
    "telephoneNumber",
    "mobile",
    "facsimileTelephoneNumber",
    "description",
    "o",
    "l",
    "mail",
    "employeeType",
];

/// Object classes of every exported entry.
const PERSON_CLASSES: [&str; 4] = ["top", "person", "organizationalPerson", "inetOrgPerson"];

/// The container of a domain's entries: `ou=<domain>,<base_dn>` (objectClass top,
/// organizationalUnit; ou=<domain>; description "esmail domain <domain>").
pub fn domain_entry(domain: &str, base_dn: &str) -> Entry {
    let domain = domain.trim();
    let mut e = Entry {
        dn: join_dn(&format!("ou={}", escape_dn_value(domain)), base_dn),
        attrs: vec![(
            "objectClass".to_string(),
            vec!["top".to_string(), "organizationalUnit".to_string()],
        )],
    };
    e.push("ou", domain);
    e.push("description", &format!("esmail domain {domain}"));
    e
}

/// The DN an object has in LDAP, from its class and values; None for what is not exported
/// (see [`map`]).
pub fn dn_of(class: &str, values: &BTreeMap<String, String>, base_dn: &str) -> Option<String> {
    let kind = Kind::of(class)?;
    let v = Values(values);
    if !v.get("owner").is_empty() {
        return None;
    }
    let domain = v.get("domain");
    if domain.is_empty() {
        return None;
    }
    let (attr, name) = match kind {
        Kind::Person => ("uid", v.get("username")),
        _ => ("cn", v.get("name")),
    };
    if name.is_empty() {
        return None;
    }
    let rdn = format!(
        "{attr}={},ou={}",
        escape_dn_value(name),
        escape_dn_value(domain)
    );
    Some(join_dn(&rdn, base_dn))
}

/// The entry of an object. Only persons, rooms, equipment, public aliases and public
/// distribution lists that have a domain and a user name (persons) or name (the others) are
/// exported; private objects (with an `owner`) and every other class give None.
pub fn map(class: &str, values: &BTreeMap<String, String>, base_dn: &str) -> Option<Entry> {
    let kind = Kind::of(class)?;
    let dn = dn_of(class, values, base_dn)?;
    let v = Values(values);
    let mut e = Entry {
        dn,
        attrs: vec![(
            "objectClass".to_string(),
            PERSON_CLASSES.iter().map(|c| c.to_string()).collect(),
        )],
    };
    match kind {
        Kind::Person => {
            let username = v.get("username");
            let (first, last) = (v.get("firstname"), v.get("lastname"));
            let display = v.get("displayname");
            let cn = if !display.is_empty() {
                display.to_string()
            } else if !first.is_empty() || !last.is_empty() {
                format!("{first} {last}").trim().to_string()
            } else {
                username.to_string()
            };
            e.push("uid", username);
            e.push("cn", &cn);
            e.push("sn", if last.is_empty() { username } else { last });
            e.push("givenName", first);
            e.push("initials", v.get("initials"));
            e.push("displayName", display);
            e.push("title", v.get("title"));
            e.push("departmentNumber", v.get("department"));
            e.push("employeeNumber", v.get("employeenumber"));
            e.push("telephoneNumber", v.get("telephonenumber"));
            e.push("mobile", v.get("mobile"));
            e.push("facsimileTelephoneNumber", v.get("fax"));
            e.push("description", v.get("description"));
            e.push("o", v.get("organization"));
            e.push("l", v.get("location"));
            e.push("mail", v.get("address"));
            e.push("employeeType", "person");
        }
        Kind::Room | Kind::Equipment => {
            let name = v.get("name");
            e.push("cn", name);
            e.push("sn", name);
            e.push("mail", v.get("address"));
            e.push("description", v.get("description"));
            e.push("l", v.get("location"));
            let t = if kind == Kind::Room {
                "room"
            } else {
                "equipment"
            };
            e.push("employeeType", t);
        }
        Kind::Alias => {
            let name = v.get("name");
            e.push("cn", name);
            e.push("sn", name);
            e.push("mail", v.get("address"));
            let target = v.get("target");
            if !target.is_empty() {
                e.push("description", &format!("alias of {target}"));
            }
            e.push("employeeType", "alias");
        }
        Kind::List => {
            let name = v.get("name");
            e.push("cn", name);
            e.push("sn", name);
            e.push("mail", v.get("address"));
            let n = v
                .get("members")
                .split(',')
                .filter(|m| !m.trim().is_empty())
                .count();
            e.push(
                "description",
                &format!(
                    "distribution list of {n} member{}",
                    if n == 1 { "" } else { "s" }
                ),
            );
            e.push("employeeType", "list");
        }
    }
    Some(e)
}

/// Escapes an attribute value for use in a DN (RFC 4514 section 2.4: `,+"\<>;` and a leading
/// space or `#`, a trailing space, NUL, escaped with a backslash; NUL as \00). Other
/// characters, non-ASCII ones included, are kept as they are.
pub fn escape_dn_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        match c {
            '\0' => out.push_str("\\00"),
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '#' if i == 0 => out.push_str("\\#"),
            _ => out.push(c),
        }
    }
    out
}

/// The exported classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Person,
    Room,
    Equipment,
    Alias,
    List,
}

impl Kind {
    fn of(class: &str) -> Option<Kind> {
        match class.trim().to_ascii_uppercase().as_str() {
            "PERSON" => Some(Kind::Person),
            "ROOM" => Some(Kind::Room),
            "EQUIPMENT" => Some(Kind::Equipment),
            "PUBLICALIAS" => Some(Kind::Alias),
            "PUBLICDL" => Some(Kind::List),
            _ => None,
        }
    }
}

/// An object's values, read trimmed; a missing value reads as empty.
struct Values<'a>(&'a BTreeMap<String, String>);

impl<'a> Values<'a> {
    fn get(&self, name: &str) -> &'a str {
        self.0.get(name).map(|s| s.trim()).unwrap_or("")
    }
}

/// `rdn,base_dn`, or just `rdn` when the base DN is empty.
fn join_dn(rdn: &str, base_dn: &str) -> String {
    let base = base_dn.trim();
    if base.is_empty() {
        rdn.to_string()
    } else {
        format!("{rdn},{base}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "dc=acme,dc=com";

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn attrs(e: &Entry) -> Vec<(&str, Vec<&str>)> {
        e.attrs
            .iter()
            .map(|(n, v)| (n.as_str(), v.iter().map(|s| s.as_str()).collect()))
            .collect()
    }

    const OC: [&str; 4] = ["top", "person", "organizationalPerson", "inetOrgPerson"];

    fn person() -> BTreeMap<String, String> {
        values(&[
            ("address", "jdoe@acme.com"),
            ("domain", "acme.com"),
            ("firstname", "John"),
            ("homenode", "vm"),
            ("lastname", "Doe"),
            ("passwordhash", "$argon2id$v=19$m=19456,t=2,p=1$abc$def"),
            ("quota", "1000"),
            ("status", "enabled"),
            ("telephonenumber", "+1 555 1234"),
            ("title", "Engineer"),
            ("used", "0"),
            ("username", "jdoe"),
        ])
    }

    #[test]
    fn person_maps_to_inet_org_person() {
        let e = map("PERSON", &person(), BASE).expect("exported");
        assert_eq!(e.dn, "uid=jdoe,ou=acme.com,dc=acme,dc=com");
        assert_eq!(
            attrs(&e),
            vec![
                ("objectClass", OC.to_vec()),
                ("uid", vec!["jdoe"]),
                ("cn", vec!["John Doe"]),
                ("sn", vec!["Doe"]),
                ("givenName", vec!["John"]),
                ("title", vec!["Engineer"]),
                ("telephoneNumber", vec!["+1 555 1234"]),
                ("mail", vec!["jdoe@acme.com"]),
                ("employeeType", vec!["person"]),
            ]
        );
        assert_eq!(
            dn_of("PERSON", &person(), BASE).as_deref(),
            Some(e.dn.as_str())
        );
        assert_eq!(e.get("MAIL"), ["jdoe@acme.com".to_string()]);
        assert!(e.get("userPassword").is_empty());
    }

    #[test]
    fn person_with_every_attribute() {
        let mut v = person();
        for (k, x) in [
            ("initials", "JD"),
            ("displayname", "Johnny"),
            ("department", "R&D"),
            ("employeenumber", "42"),
            ("mobile", "+1 555 9999"),
            ("fax", "+1 555 0000"),
            ("description", "builds things"),
            ("manager", "boss@acme.com"),
            ("organization", "Acme"),
            ("role", "dev"),
            ("location", "Paris"),
            ("password", "secret"),
        ] {
            v.insert(k.to_string(), x.to_string());
        }
        let e = map("PERSON", &v, BASE).expect("exported");
        let names: Vec<&str> = e.attrs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "objectClass");
        assert_eq!(names[1..], MANAGED, "every attribute, in order");
        assert_eq!(e.get("cn"), ["Johnny".to_string()]);
        assert_eq!(e.get("departmentNumber"), ["R&D".to_string()]);
        assert_eq!(
            e.get("facsimileTelephoneNumber"),
            ["+1 555 0000".to_string()]
        );
        assert_eq!(e.get("o"), ["Acme".to_string()]);
        assert_eq!(e.get("l"), ["Paris".to_string()]);
        for (_, vals) in &e.attrs {
            for x in vals {
                assert!(!x.contains("secret") && !x.contains("argon2"), "{x}");
            }
        }
    }

    #[test]
    fn person_without_names() {
        let v = values(&[
            ("domain", "acme.com"),
            ("username", "jdoe"),
            ("lastname", ""),
        ]);
        let e = map("PERSON", &v, BASE).expect("exported");
        assert_eq!(
            attrs(&e),
            vec![
                ("objectClass", OC.to_vec()),
                ("uid", vec!["jdoe"]),
                ("cn", vec!["jdoe"]),
                ("sn", vec!["jdoe"]),
                ("employeeType", vec!["person"]),
            ]
        );
        let v = values(&[
            ("domain", "acme.com"),
            ("username", "jdoe"),
            ("firstname", "John"),
        ]);
        let e = map("PERSON", &v, BASE).expect("exported");
        assert_eq!(e.get("cn"), ["John".to_string()]);
        assert_eq!(e.get("sn"), ["jdoe".to_string()]);
        let v = values(&[
            ("domain", "acme.com"),
            ("username", "jdoe"),
            ("lastname", "Doe"),
        ]);
        let e = map("PERSON", &v, BASE).expect("exported");
        assert_eq!(e.get("cn"), ["Doe".to_string()]);
    }

    #[test]
    fn rooms_and_equipment() {
        let v = values(&[
            ("address", "board@acme.com"),
            ("domain", "acme.com"),
            ("homenode", "vm"),
            ("name", "board"),
            ("quota", "104857600"),
            ("status", "enabled"),
            ("used", "0"),
        ]);
        let e = map("ROOM", &v, BASE).expect("exported");
        assert_eq!(e.dn, "cn=board,ou=acme.com,dc=acme,dc=com");
        assert_eq!(
            attrs(&e),
            vec![
                ("objectClass", OC.to_vec()),
                ("cn", vec!["board"]),
                ("sn", vec!["board"]),
                ("mail", vec!["board@acme.com"]),
                ("employeeType", vec!["room"]),
            ]
        );
        let mut v = v;
        v.insert("description".into(), "the big one".into());
        v.insert("location".into(), "2nd floor".into());
        let e = map("EQUIPMENT", &v, BASE).expect("exported");
        assert_eq!(e.dn, "cn=board,ou=acme.com,dc=acme,dc=com");
        assert_eq!(
            attrs(&e),
            vec![
                ("objectClass", OC.to_vec()),
                ("cn", vec!["board"]),
                ("sn", vec!["board"]),
                ("mail", vec!["board@acme.com"]),
                ("description", vec!["the big one"]),
                ("l", vec!["2nd floor"]),
                ("employeeType", vec!["equipment"]),
            ]
        );
    }

    #[test]
    fn public_alias() {
        let v = values(&[
            ("address", "jd@acme.com"),
            ("domain", "acme.com"),
            ("name", "jd"),
            ("target", "jdoe@acme.com"),
        ]);
        let e = map("PUBLICALIAS", &v, BASE).expect("exported");
        assert_eq!(e.dn, "cn=jd,ou=acme.com,dc=acme,dc=com");
        assert_eq!(
            attrs(&e),
            vec![
                ("objectClass", OC.to_vec()),
                ("cn", vec!["jd"]),
                ("sn", vec!["jd"]),
                ("mail", vec!["jd@acme.com"]),
                ("description", vec!["alias of jdoe@acme.com"]),
                ("employeeType", vec!["alias"]),
            ]
        );
    }

    #[test]
    fn public_list() {
        let v = values(&[
            ("address", "team@acme.com"),
            ("domain", "acme.com"),
            ("members", "jdoe@acme.com,x@y.example"),
            ("name", "team"),
        ]);
        let e = map("PUBLICDL", &v, BASE).expect("exported");
        assert_eq!(e.dn, "cn=team,ou=acme.com,dc=acme,dc=com");
        assert_eq!(
            attrs(&e),
            vec![
                ("objectClass", OC.to_vec()),
                ("cn", vec!["team"]),
                ("sn", vec!["team"]),
                ("mail", vec!["team@acme.com"]),
                ("description", vec!["distribution list of 2 members"]),
                ("employeeType", vec!["list"]),
            ]
        );
        let v = values(&[
            ("domain", "acme.com"),
            ("members", ",, ,a@b.c,"),
            ("name", "t"),
        ]);
        let e = map("PUBLICDL", &v, BASE).expect("exported");
        assert_eq!(
            e.get("description"),
            ["distribution list of 1 member".to_string()]
        );
        assert!(e.get("mail").is_empty());
    }

    #[test]
    fn domain_container() {
        let e = domain_entry("acme.com", " dc=acme,dc=com ");
        assert_eq!(e.dn, "ou=acme.com,dc=acme,dc=com");
        assert_eq!(
            attrs(&e),
            vec![
                ("objectClass", vec!["top", "organizationalUnit"]),
                ("ou", vec!["acme.com"]),
                ("description", vec!["esmail domain acme.com"]),
            ]
        );
        assert_eq!(domain_entry("acme.com", "").dn, "ou=acme.com");
    }

    #[test]
    fn not_exported() {
        let mut v = person();
        v.insert("owner".into(), "jdoe@acme.com".into());
        assert_eq!(map("PERSON", &v, BASE), None);
        let v = values(&[
            ("domain", "acme.com"),
            ("name", "friends"),
            ("owner", "jdoe@acme.com"),
        ]);
        assert_eq!(map("PUBLICDL", &v, BASE), None);
        assert_eq!(dn_of("PUBLICDL", &v, BASE), None);
        assert_eq!(map("PRIVATEDL", &v, BASE), None);
        assert_eq!(map("PRIVATEALIAS", &v, BASE), None);
        for class in [
            "LOCATION",
            "ORGANIZATION",
            "ROLE",
            "PUBLICTEMPLATE",
            "",
            "BOGUS",
        ] {
            assert_eq!(map(class, &person(), BASE), None, "{class}");
            assert_eq!(dn_of(class, &person(), BASE), None, "{class}");
        }
        // An empty owner does not make an object private.
        let mut v = person();
        v.insert("owner".into(), " ".into());
        assert!(map("PERSON", &v, BASE).is_some());
        // Required values missing.
        let mut v = person();
        v.remove("username");
        assert_eq!(map("PERSON", &v, BASE), None);
        let mut v = person();
        v.insert("domain".into(), String::new());
        assert_eq!(map("PERSON", &v, BASE), None);
        let v = values(&[("domain", "acme.com"), ("username", "board")]);
        assert_eq!(map("ROOM", &v, BASE), None);
        assert_eq!(map("PERSON", &BTreeMap::new(), BASE), None);
    }

    #[test]
    fn names_in_dns_are_escaped() {
        let v = values(&[("domain", "a,b"), ("name", "#x+y"), ("address", "x@a")]);
        assert_eq!(
            dn_of("ROOM", &v, "o=t").as_deref(),
            Some("cn=\\#x\\+y,ou=a\\,b,o=t")
        );
        let e = map("ROOM", &v, "o=t").expect("exported");
        assert_eq!(e.get("cn"), ["#x+y".to_string()]);
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_dn_value("a,b"), "a\\,b");
        assert_eq!(escape_dn_value("#a#"), "\\#a#");
        assert_eq!(escape_dn_value(" a b "), "\\ a b\\ ");
        assert_eq!(escape_dn_value(" "), "\\ ");
        assert_eq!(escape_dn_value("a\\b"), "a\\\\b");
        assert_eq!(escape_dn_value("a\0b"), "a\\00b");
        assert_eq!(escape_dn_value("+\"<>;"), "\\+\\\"\\<\\>\\;");
        assert_eq!(escape_dn_value("Zoë Ünal"), "Zoë Ünal");
        assert_eq!(escape_dn_value("a=b"), "a=b");
        assert_eq!(escape_dn_value(""), "");
    }

    /// Undoes escape_dn_value (the escapes it writes only).
    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match it.next() {
                Some('0') => {
                    assert_eq!(it.next(), Some('0'));
                    out.push('\0');
                }
                Some(x) => out.push(x),
                None => panic!("dangling backslash in {s:?}"),
            }
        }
        out
    }

    #[test]
    fn escaping_pseudo_random_values() {
        const POOL: &[char] = &[
            'a', 'Z', '0', ' ', '#', ',', '+', '"', '\\', '<', '>', ';', '=', '\0', '\n', 'é', '€',
            '😀', ':',
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..500 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let len = (seed >> 33) as usize % 24;
            let mut v = String::new();
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                v.push(POOL[(seed >> 33) as usize % POOL.len()]);
            }
            let e = escape_dn_value(&v);
            assert_eq!(unescape(&e), v);
            assert!(!e.contains('\0'));
            assert!(!e.starts_with(' ') && !e.starts_with('#'), "{e:?}");
            // A trailing space is always escaped.
            if e.ends_with(' ') {
                assert!(e.ends_with("\\ "), "{e:?}");
            }
            let vals = values(&[("domain", &v), ("name", &v), ("username", &v)]);
            for class in ["PERSON", "ROOM", "PUBLICDL"] {
                let m = map(class, &vals, BASE);
                assert_eq!(m.is_some(), !v.trim().is_empty());
            }
        }
    }
}
