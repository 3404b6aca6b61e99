//! Sequence sets (`1:3,5,7:*`) resolved against a mailbox: `*` is the largest number in use,
//! a range may be given either way round, and numbers are checked without overflow.

use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

/// A sequence set as sorted, merged, inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranges(Vec<(u32, u32)>);

/// A message sequence number beyond the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange;

fn value(s: &SeqOrUid, star: u32) -> u32 {
    match s {
        SeqOrUid::Value(n) => n.get(),
        SeqOrUid::Asterisk => star,
    }
}

impl Ranges {
    /// `star` is the value of `*`: the number of messages, or the highest UID (0 when the
    /// mailbox is empty: `*` then matches nothing).
    pub fn new(set: &SequenceSet, star: u32) -> Ranges {
        let v: Vec<(u32, u32)> = set
            .0
            .as_ref()
            .iter()
            .map(|s| match s {
                Sequence::Single(a) => {
                    let a = value(a, star);
                    (a, a)
                }
                Sequence::Range(a, b) => {
                    let (a, b) = (value(a, star), value(b, star));
                    (a.min(b), a.max(b))
                }
            })
            .collect();
        Ranges(merge(v))
    }

    /// The highest number of the set.
    pub fn last(&self) -> Option<u32> {
        self.0.last().map(|r| r.1)
    }

    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.0
    }

    pub fn contains(&self, n: u32) -> bool {
        if n == 0 {
            return false;
        }
        // the last range starting at or before n
        let i = self.0.partition_point(|&(a, _)| a <= n);
        i > 0 && self.0[i - 1].1 >= n
    }
}

/// Inclusive ranges sorted and merged (overlapping or adjacent ones become one).
pub fn merge(mut v: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    v.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Sorted, disjoint ranges as a set: `1:3,5,9:10`.
pub fn ranges_text(r: &[(u32, u32)]) -> String {
    let parts: Vec<String> = r
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}:{b}")
            }
        })
        .collect();
    parts.join(",")
}

/// The numbers of `within` (sorted, disjoint ranges) up to `limit` that are not in `present`
/// (ascending), as ranges; never enumerates the numbers one by one.
pub fn gaps(within: &[(u32, u32)], present: &[u32], limit: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for &(a, b) in within {
        let b = b.min(limit);
        if a == 0 || a > b {
            continue;
        }
        let mut cur = a;
        let mut i = present.partition_point(|&p| p < a);
        let mut done = false;
        while i < present.len() && present[i] <= b {
            let p = present[i];
            if p > cur {
                out.push((cur, p - 1));
            }
            match p.checked_add(1) {
                Some(n) => cur = n,
                None => {
                    done = true;
                    break;
                }
            }
            i += 1;
        }
        if !done && cur <= b {
            out.push((cur, b));
        }
    }
    out
}

/// Checks message sequence numbers against a mailbox of `count` messages: a number beyond it
/// is an error, and so is a range that lies wholly beyond it (`6:*` in a mailbox of 5 is
/// taken as `5`); `*` in an empty mailbox matches nothing.
pub fn check_seq(set: &SequenceSet, count: u32) -> Result<(), OutOfRange> {
    for s in set.0.as_ref() {
        let bad = match s {
            Sequence::Single(SeqOrUid::Value(n)) => n.get() > count,
            Sequence::Single(SeqOrUid::Asterisk) => false,
            Sequence::Range(a, b) => {
                let (a, b) = (value(a, count), value(b, count));
                a.min(b) > count
            }
        };
        if bad {
            return Err(OutOfRange);
        }
    }
    Ok(())
}

/// The message sequence numbers of a set (1-based, ascending) in a mailbox of `count`.
pub fn seqs(set: &SequenceSet, count: u32) -> Result<Vec<u32>, OutOfRange> {
    check_seq(set, count)?;
    let r = Ranges::new(set, count);
    let mut out = Vec::new();
    for &(a, b) in &r.0 {
        let (a, b) = (a.max(1), b.min(count));
        if a <= b {
            out.extend(a..=b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> SequenceSet {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_and_star() {
        let r = Ranges::new(&set("1:3,5,7:*"), 10);
        assert!(r.contains(1) && r.contains(3) && r.contains(5) && r.contains(10));
        assert!(!r.contains(4) && !r.contains(6) && !r.contains(0) && !r.contains(11));
        // reversed ranges
        let r = Ranges::new(&set("4:2"), 10);
        assert!(r.contains(2) && r.contains(4) && !r.contains(5));
        // `*` below the start: 559:* includes the last UID
        let r = Ranges::new(&set("559:*"), 300);
        assert!(r.contains(300) && r.contains(559) && !r.contains(299));
        // empty mailbox: `*` is 0 and matches nothing
        let r = Ranges::new(&set("*"), 0);
        assert!(!r.contains(1));
        assert!(Ranges::new(&set("1:4294967295"), 5).contains(u32::MAX));
        let r = Ranges::new(&set("1,2,3,4:6,2:3"), 9);
        assert_eq!(r.0, vec![(1, 6)]);
    }

    #[test]
    fn gaps_and_text() {
        let r = Ranges::new(&set("1:10,20:30"), 100);
        assert_eq!(r.last(), Some(30));
        let g = gaps(r.ranges(), &[2, 3, 7, 10, 20, 25], 28);
        assert_eq!(g, vec![(1, 1), (4, 6), (8, 9), (21, 24), (26, 28)]);
        assert_eq!(ranges_text(&g), "1,4:6,8:9,21:24,26:28");
        assert_eq!(
            gaps(&[(1, u32::MAX)], &[1, u32::MAX], u32::MAX),
            vec![(2, u32::MAX - 1)]
        );
        assert_eq!(gaps(&[(5, 9)], &[], 3), vec![]);
        assert_eq!(
            merge(vec![(5, 6), (1, 2), (3, 3), (9, 9)]),
            vec![(1, 3), (5, 6), (9, 9)]
        );
    }

    #[test]
    fn sequence_numbers() {
        assert_eq!(seqs(&set("1:3,5"), 5).unwrap(), vec![1, 2, 3, 5]);
        assert_eq!(seqs(&set("*:3"), 5).unwrap(), vec![3, 4, 5]);
        assert_eq!(seqs(&set("1,*"), 3).unwrap(), vec![1, 3]);
        assert_eq!(seqs(&set("6:*"), 5).unwrap(), vec![5]);
        assert_eq!(seqs(&set("6"), 5), Err(OutOfRange));
        assert_eq!(seqs(&set("6:7"), 5), Err(OutOfRange));
        assert_eq!(seqs(&set("4294967295"), 5), Err(OutOfRange));
        assert_eq!(seqs(&set("1:*"), 0).unwrap(), Vec::<u32>::new());
        assert_eq!(seqs(&set("*"), 0).unwrap(), Vec::<u32>::new());
        assert_eq!(seqs(&set("1"), 0), Err(OutOfRange));
        assert!("0".parse::<SequenceSet>().is_err());
    }
}
