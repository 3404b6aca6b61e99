//! The IOFCMGR language, syntax only: splitting input into statements and statements into
//! words and `name=value` arguments. No I/O and no store here.
//!
//! ```text
//! create person username=jdoe domain=acme.com firstname="John Q" quota=10485760;
//! ```
//! Statements end with `;` and may span lines. Values may be double-quoted (`""` inside a
//! quoted value is one `"`; a backslash escapes `"` and `\`). `--` starts a comment that runs to
//! the end of the line, outside quotes.

use std::fmt;

/// Longest statement accepted, in bytes: a runaway quote cannot eat all memory.
pub const MAX_STATEMENT_BYTES: usize = 1 << 20;

/// A syntax error, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One statement's text as written, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStatement {
    pub line: usize,
    pub text: String,
}

/// Cuts a stream of lines into statements. Feed it lines; it hands back each statement as soon
/// as its `;` is read, so an interactive session can run it at once.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: String,
    start_line: usize,
    line: usize,
    in_quote: bool,
    escaped: bool,
}

impl Splitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// True while a statement has begun and not yet ended (the `2>` prompt).
    pub fn pending(&self) -> bool {
        !self.buf.trim().is_empty()
    }

    /// The number of lines read so far.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Reads one line (without its newline) and returns the statements it completes.
    pub fn feed_line(&mut self, line: &str) -> Result<Vec<RawStatement>, SyntaxError> {
        self.line += 1;
        let mut out = Vec::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if self.in_quote {
                self.buf.push(c);
                if self.escaped {
                    self.escaped = false;
                } else if c == '\\' {
                    self.escaped = true;
                } else if c == '"' {
                    self.in_quote = false;
                }
                continue;
            }
            match c {
                '-' if chars.peek() == Some(&'-') => break,
                ';' => {
                    let text = std::mem::take(&mut self.buf);
                    if !text.trim().is_empty() {
                        out.push(RawStatement {
                            line: self.start_line,
                            text: text.trim().to_string(),
                        });
                    }
                }
                _ => {
                    if self.buf.trim().is_empty() && !c.is_whitespace() {
                        self.buf.clear();
                        self.start_line = self.line;
                    }
                    if c == '"' {
                        self.in_quote = true;
                    }
                    self.buf.push(c);
                }
            }
        }
        if self.pending() {
            self.buf.push('\n');
        }
        if self.buf.len() > MAX_STATEMENT_BYTES {
            let line = self.start_line;
            *self = Splitter {
                line: self.line,
                ..Default::default()
            };
            return Err(SyntaxError {
                line,
                message: format!("statement longer than {MAX_STATEMENT_BYTES} bytes"),
            });
        }
        Ok(out)
    }

    /// At the end of input: a statement begun and never ended is an error.
    pub fn finish(&mut self) -> Result<(), SyntaxError> {
        if self.in_quote {
            return Err(SyntaxError {
                line: self.start_line,
                message: "a quoted value is never closed".into(),
            });
        }
        if self.pending() {
            return Err(SyntaxError {
                line: self.start_line,
                message: "the last statement does not end with ';'".into(),
            });
        }
        Ok(())
    }
}

/// A `name=value` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The name in lower case (names are case-insensitive).
    pub name: String,
    pub value: String,
}

/// A statement cut into its words (lower-cased) and its arguments (in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub line: usize,
    pub words: Vec<String>,
    pub args: Vec<Arg>,
}

/// Cuts one statement into words and `name=value` arguments.
pub fn tokenize(raw: &RawStatement) -> Result<Tokens, SyntaxError> {
    let err = |m: String| SyntaxError {
        line: raw.line,
        message: m,
    };
    let mut words = Vec::new();
    let mut args = Vec::new();
    let s: Vec<char> = raw.text.chars().collect();
    let mut i = 0;
    while i < s.len() {
        if s[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && !s[i].is_whitespace() && s[i] != '=' && s[i] != '"' {
            i += 1;
        }
        let word: String = s[start..i].iter().collect();
        // skip spaces around '='
        let mut j = i;
        while j < s.len() && s[j].is_whitespace() {
            j += 1;
        }
        if j < s.len() && s[j] == '=' {
            if word.is_empty() {
                return Err(err("'=' without an attribute name before it".into()));
            }
            j += 1;
            while j < s.len() && s[j].is_whitespace() {
                j += 1;
            }
            let (value, next) = read_value(&s, j).map_err(|m| err(format!("{word}: {m}")))?;
            args.push(Arg {
                name: word.to_ascii_lowercase(),
                value,
            });
            i = next;
        } else if word.is_empty() {
            return Err(err(format!(
                "unexpected '{}'; values are written name=value",
                s[i]
            )));
        } else {
            if !args.is_empty() {
                return Err(err(format!(
                    "unexpected word '{word}' after the arguments; write name=value"
                )));
            }
            words.push(word.to_ascii_lowercase());
        }
    }
    if words.is_empty() {
        return Err(err("a statement must begin with a command word".into()));
    }
    Ok(Tokens {
        line: raw.line,
        words,
        args,
    })
}

fn read_value(s: &[char], mut i: usize) -> Result<(String, usize), String> {
    if i >= s.len() || s[i].is_whitespace() {
        return Ok((String::new(), i));
    }
    if s[i] == '"' {
        let mut v = String::new();
        i += 1;
        loop {
            match s.get(i) {
                None => return Err("the quoted value is never closed".into()),
                Some('\\') => {
                    match s.get(i + 1) {
                        Some(c @ ('"' | '\\')) => v.push(*c),
                        Some(c) => {
                            v.push('\\');
                            v.push(*c);
                        }
                        None => return Err("the quoted value is never closed".into()),
                    }
                    i += 2;
                }
                Some('"') if s.get(i + 1) == Some(&'"') => {
                    v.push('"');
                    i += 2;
                }
                Some('"') => {
                    i += 1;
                    if i < s.len() && !s[i].is_whitespace() {
                        return Err("a quoted value must be followed by a space".into());
                    }
                    return Ok((v, i));
                }
                Some(c) => {
                    v.push(*c);
                    i += 1;
                }
            }
        }
    }
    let start = i;
    while i < s.len() && !s[i].is_whitespace() {
        if s[i] == '"' || s[i] == '=' {
            return Err(format!("unexpected '{}' in an unquoted value", s[i]));
        }
        i += 1;
    }
    Ok((s[start..i].iter().collect(), i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<Vec<RawStatement>, SyntaxError> {
        let mut sp = Splitter::new();
        let mut out = Vec::new();
        for l in text.lines() {
            out.extend(sp.feed_line(l)?);
        }
        sp.finish()?;
        Ok(out)
    }

    #[test]
    fn statements_span_lines_and_keep_their_first_line() {
        let st = split(
            "-- comment\ncreate person\n  username=jdoe;\n\nfetch person username=jdoe; commit;\n",
        )
        .unwrap();
        assert_eq!(st.len(), 3);
        assert_eq!(st[0].line, 2);
        assert_eq!(st[1].line, 5);
        assert_eq!(st[2].text, "commit");
    }

    #[test]
    fn semicolons_and_dashes_inside_quotes_are_values() {
        let st = split("create person lastname=\"a;b -- c\";").unwrap();
        let t = tokenize(&st[0]).unwrap();
        assert_eq!(t.words, vec!["create", "person"]);
        assert_eq!(t.args[0].value, "a;b -- c");
    }

    #[test]
    fn names_are_lowercased_values_are_kept() {
        let st = split("CREATE Person UserName=JDoe FirstName = \"John \"\"Q\"\"\";").unwrap();
        let t = tokenize(&st[0]).unwrap();
        assert_eq!(t.words, vec!["create", "person"]);
        assert_eq!(
            t.args[0],
            Arg {
                name: "username".into(),
                value: "JDoe".into()
            }
        );
        assert_eq!(t.args[1].value, "John \"Q\"");
    }

    #[test]
    fn argon2_hashes_survive_quoting() {
        let h = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
        let st = split(&format!("create person passwordhash=\"{h}\";")).unwrap();
        assert_eq!(tokenize(&st[0]).unwrap().args[0].value, h);
    }

    #[test]
    fn unterminated_things_are_errors_with_lines() {
        assert_eq!(
            split("commit;\ncreate person x=\"abc;\n").unwrap_err().line,
            2
        );
        assert_eq!(split("commit;\n\ncreate person x=1\n").unwrap_err().line, 3);
    }

    #[test]
    fn words_after_arguments_are_errors() {
        let st = split("create person a=1 b;").unwrap();
        assert!(tokenize(&st[0]).is_err());
        let st = split("create person a=1 =2;").unwrap();
        assert!(tokenize(&st[0]).is_err());
    }

    #[test]
    fn empty_value_is_allowed() {
        let st = split("modify person username=x description=;").unwrap();
        let t = tokenize(&st[0]).unwrap();
        assert_eq!(t.args[1].value, "");
    }
}
