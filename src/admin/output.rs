use crate::directory::Entry;

/// Writes a value so that IOFCMGR reads it back unchanged: bare when it can be, otherwise in
/// double quotes with `"` doubled.
pub fn quote(v: &str) -> String {
    let bare = !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == ';' || c == '=' || c == '\\')
        && !v.contains("--");
    if bare {
        v.to_string()
    } else {
        format!("\"{}\"", v.replace('"', "\"\""))
    }
}

/// One object: an `attr=value` line per attribute.
pub fn format_entry(e: &Entry) -> String {
    let mut s = String::new();
    for (k, v) in e {
        s.push_str(k);
        s.push('=');
        s.push_str(&quote(v));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("John"), "John");
        assert_eq!(quote("John Q"), "\"John Q\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("$argon2id$v=19"), "\"$argon2id$v=19\"");
    }
}
