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
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\"\""))
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
    use super::super::script::{tokenize, Splitter};
    use super::*;
    use proptest::prelude::*;

    fn parse_one(text: &str) -> Vec<(String, String)> {
        let mut sp = Splitter::new();
        let mut raws = Vec::new();
        for l in text.split('\n') {
            raws.extend(sp.feed_line(l).expect("splits"));
        }
        sp.finish().expect("complete");
        assert_eq!(raws.len(), 1, "{text:?}");
        tokenize(&raws[0])
            .expect("tokenizes")
            .args
            .into_iter()
            .map(|a| (a.name, a.value))
            .collect()
    }

    proptest! {
        /// Whatever fetch prints reads back as the same values.
        #[test]
        fn printed_values_read_back(v in "[^\\r\\u{0}]{0,60}") {
            let text = format!("modify person username=x description={};", quote(&v));
            let args = parse_one(&text);
            prop_assert_eq!(&args[1].1, &v);
        }

        /// No input makes the splitter or the tokenizer panic.
        #[test]
        fn any_input_is_an_answer_not_a_crash(text in "(?s).{0,200}") {
            let mut sp = Splitter::new();
            for l in text.split('\n') {
                if let Ok(raws) = sp.feed_line(l) {
                    for r in raws {
                        let _ = tokenize(&r);
                    }
                }
            }
            let _ = sp.finish();
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("John"), "John");
        assert_eq!(quote("John Q"), "\"John Q\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("$argon2id$v=19"), "\"$argon2id$v=19\"");
    }
}
