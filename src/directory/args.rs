//! The `name=value` arguments of one statement, consumed as they are understood: whatever is
//! left at the end is an unknown attribute.

use super::error::{invalid, Result};

#[derive(Debug, Clone, Default)]
pub struct Args {
    items: Vec<(String, String)>,
}

impl Args {
    /// Names must already be lower case. A name given twice is an error.
    pub fn new(items: Vec<(String, String)>) -> Result<Args> {
        for (i, (n, _)) in items.iter().enumerate() {
            if items[..i].iter().any(|(m, _)| m == n) {
                return invalid(format!("attribute {n} is given twice"));
            }
        }
        Ok(Args { items })
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Args {
        Args {
            items: pairs
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
                .collect(),
        }
    }

    /// Takes an argument out (trying each name in turn, for synonyms).
    pub fn take(&mut self, names: &[&str]) -> Option<String> {
        for n in names {
            if let Some(i) = self.items.iter().position(|(m, _)| m == n) {
                return Some(self.items.remove(i).1);
            }
        }
        None
    }

    pub fn has(&self, name: &str) -> bool {
        self.items.iter().any(|(m, _)| m == name)
    }

    /// Takes a required argument.
    pub fn require(&mut self, names: &[&str], what: &str) -> Result<String> {
        match self.take(names) {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => invalid(format!("{what} needs {}=", names[0])),
        }
    }

    /// Whatever was not taken: refused, naming the attributes the class knows.
    pub fn finish(self, class: &str, known: &[&str]) -> Result<()> {
        if let Some((n, _)) = self.items.first() {
            return invalid(format!(
                "unknown attribute {n} for {class} (known: {})",
                known.join(", ")
            ));
        }
        Ok(())
    }

    /// Everything left, for use as filters.
    pub fn into_items(self) -> Vec<(String, String)> {
        self.items
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(n, _)| n.as_str())
    }
}
