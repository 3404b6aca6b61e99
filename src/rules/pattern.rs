//! The patterns of `op=matches`: globs, compared without regard to case with the whole value.
//! `*` matches any run of characters (none included), `?` exactly one character, and `\`
//! makes the next character literal (`\*`, `\?`, `\\`). Every text is a valid pattern, and
//! matching takes at most (pattern length × value length) steps: no pattern can make delivery
//! slow.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Any,
    One,
    Lit(char),
}

fn tokens(pattern: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().flat_map(char::to_lowercase);
    while let Some(c) = chars.next() {
        out.push(match c {
            '*' => {
                if out.last() == Some(&Tok::Any) {
                    continue;
                }
                Tok::Any
            }
            '?' => Tok::One,
            '\\' => match chars.next() {
                Some(n) => Tok::Lit(n),
                None => Tok::Lit('\\'),
            },
            c => Tok::Lit(c),
        });
    }
    out
}

/// Whether `value` matches the glob `pattern` as a whole, without regard to case.
pub fn glob_matches(pattern: &str, value: &str) -> bool {
    let p = tokens(pattern);
    let v: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
    // the classic single-backtrack algorithm: on a mismatch go back to the last `*`
    let (mut pi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match p.get(pi) {
            Some(Tok::Any) => {
                star = Some((pi, vi));
                pi += 1;
            }
            Some(Tok::One) => {
                pi += 1;
                vi += 1;
            }
            Some(Tok::Lit(c)) if *c == v[vi] => {
                pi += 1;
                vi += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    pi = sp + 1;
                    vi = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|t| *t == Tok::Any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn globs() {
        assert!(glob_matches("*", ""));
        assert!(glob_matches("*", "anything"));
        assert!(glob_matches("hello", "HeLLo"));
        assert!(!glob_matches("hello", "hello!"));
        assert!(glob_matches("*invoice*", "Your Invoice 42"));
        assert!(glob_matches("report-????", "report-2026"));
        assert!(!glob_matches("report-????", "report-202"));
        assert!(glob_matches("*.pdf", "a.b.PDF"));
        assert!(!glob_matches("*.pdf", "a.pdf.exe"));
        assert!(glob_matches("a*b*c", "aXbYc"));
        assert!(!glob_matches("a*b*c", "aXbY"));
        assert!(glob_matches("100\\%\\*", "100%*"));
        assert!(!glob_matches("100\\*", "1000"));
        assert!(glob_matches("what\\?", "what?"));
        assert!(!glob_matches("what\\?", "whatx"));
        assert!(glob_matches("trailing\\", "trailing\\"));
        assert!(glob_matches("ÉTÉ*", "été 2026"));
        // no exponential blow-up
        assert!(!glob_matches(&"*a".repeat(200), &"a".repeat(199)));
    }

    proptest! {
        #[test]
        fn a_value_matches_itself_escaped_and_star(v in "(?s).{0,40}") {
            let escaped: String = v.chars().flat_map(|c| match c {
                '*' | '?' | '\\' => vec!['\\', c],
                c => vec![c],
            }).collect();
            prop_assert!(glob_matches(&escaped, &v));
            prop_assert!(glob_matches("*", &v));
        }
    }
}
