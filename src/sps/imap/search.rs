//! SEARCH: the criteria of a command as a tree of keys, evaluated over the messages of the
//! selected mailbox. Keys on flags, dates, sizes, UIDs, sequence numbers and MODSEQs (RFC 7162)
//! are decided from the session's snapshot; keys on the content (headers, body, text, sent date) need the
//! message, which the caller loads in batches only for the messages the other keys leave
//! undecided.

use chrono::{DateTime, NaiveDate, Utc};
use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::SequenceSet;

use super::flags::Flags;
use super::mime;
use super::sequence::Ranges;
use super::store::Need;

/// One search key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    All,
    Seq(SequenceSet),
    Uid(SequenceSet),
    /// A flag or keyword is set.
    Flag(String),
    Recent,
    New,
    Old,
    Larger(u64),
    Smaller(u64),
    /// The message's MODSEQ is at least this (RFC 7162, 3.1.5). The store keeps one MODSEQ
    /// per message, not one per flag: an entry name, when given, is not looked at.
    ModSeq(u64),
    /// On the INTERNALDATE (its UTC date).
    Before(NaiveDate),
    On(NaiveDate),
    Since(NaiveDate),
    /// On the Date: header.
    SentBefore(NaiveDate),
    SentOn(NaiveDate),
    SentSince(NaiveDate),
    /// A header field contains a string (the empty string: the field exists).
    Header(String, String),
    Body(String),
    Text(String),
    Not(Box<Key>),
    And(Vec<Key>),
    Or(Box<Key>, Box<Key>),
}

/// A key this server does not implement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

fn text(a: &impl AsRef<[u8]>) -> String {
    String::from_utf8_lossy(a.as_ref()).into_owned()
}

impl Key {
    /// The criteria of a SEARCH command (all must match).
    pub fn from_criteria(criteria: &[SearchKey<'_>]) -> Result<Key, Unsupported> {
        let keys = criteria
            .iter()
            .map(Key::from_imap)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(if keys.len() == 1 {
            keys.into_iter().next().unwrap_or(Key::All)
        } else {
            Key::And(keys)
        })
    }

    fn from_imap(k: &SearchKey<'_>) -> Result<Key, Unsupported> {
        use SearchKey as S;
        let flag = |f: &str| Key::Flag(f.to_string());
        let not = |k: Key| Key::Not(Box::new(k));
        Ok(match k {
            S::And(keys) => Key::And(
                keys.as_ref()
                    .iter()
                    .map(Key::from_imap)
                    .collect::<Result<_, _>>()?,
            ),
            S::SequenceSet(s) => Key::Seq(s.clone()),
            S::All => Key::All,
            S::Answered => flag("\\Answered"),
            S::Deleted => flag("\\Deleted"),
            S::Draft => flag("\\Draft"),
            S::Flagged => flag("\\Flagged"),
            S::Seen => flag("\\Seen"),
            S::Unanswered => not(flag("\\Answered")),
            S::Undeleted => not(flag("\\Deleted")),
            S::Undraft => not(flag("\\Draft")),
            S::Unflagged => not(flag("\\Flagged")),
            S::Unseen => not(flag("\\Seen")),
            S::Keyword(a) => flag(a.as_ref()),
            S::Unkeyword(a) => not(flag(a.as_ref())),
            S::New => Key::New,
            S::Old => Key::Old,
            S::Recent => Key::Recent,
            S::Larger(n) => Key::Larger(*n as u64),
            S::Smaller(n) => Key::Smaller(*n as u64),
            S::Before(d) => Key::Before(*d.as_ref()),
            S::On(d) => Key::On(*d.as_ref()),
            S::Since(d) => Key::Since(*d.as_ref()),
            S::SentBefore(d) => Key::SentBefore(*d.as_ref()),
            S::SentOn(d) => Key::SentOn(*d.as_ref()),
            S::SentSince(d) => Key::SentSince(*d.as_ref()),
            S::Bcc(s) => Key::Header("Bcc".into(), text(s)),
            S::Cc(s) => Key::Header("Cc".into(), text(s)),
            S::From(s) => Key::Header("From".into(), text(s)),
            S::To(s) => Key::Header("To".into(), text(s)),
            S::Subject(s) => Key::Header("Subject".into(), text(s)),
            S::Header(name, value) => Key::Header(text(name), text(value)),
            S::Body(s) => Key::Body(text(s)),
            S::Text(s) => Key::Text(text(s)),
            S::Not(k) => not(Key::from_imap(k)?),
            S::Or(a, b) => Key::Or(Box::new(Key::from_imap(a)?), Box::new(Key::from_imap(b)?)),
            S::Uid(s) => Key::Uid(s.clone()),
            S::ModSequence { modseq, .. } => Key::ModSeq(*modseq),
            #[allow(unreachable_patterns)]
            _ => return Err(Unsupported("this search key is not supported")),
        })
    }
}

impl Key {
    /// Whether a MODSEQ key is among the criteria (its results then carry a MODSEQ).
    pub fn has_modseq(&self) -> bool {
        match self {
            Key::ModSeq(_) => true,
            Key::Not(k) => k.has_modseq(),
            Key::And(ks) => ks.iter().any(Key::has_modseq),
            Key::Or(a, b) => a.has_modseq() || b.has_modseq(),
            _ => false,
        }
    }
}

impl Key {
    /// What of the message's content the key looks at: the header fields and the sent date
    /// are in the header; BODY and TEXT need the whole message.
    pub fn need(&self) -> Need {
        match self {
            Key::SentBefore(_) | Key::SentOn(_) | Key::SentSince(_) | Key::Header(..) => {
                Need::Header
            }
            Key::Body(_) | Key::Text(_) => Need::Whole,
            Key::Not(k) => k.need(),
            Key::And(ks) => ks.iter().map(Key::need).max().unwrap_or(Need::Nothing),
            Key::Or(a, b) => a.need().max(b.need()),
            Key::All
            | Key::Seq(_)
            | Key::Uid(_)
            | Key::Flag(_)
            | Key::Recent
            | Key::New
            | Key::Old
            | Key::Larger(_)
            | Key::Smaller(_)
            | Key::ModSeq(_)
            | Key::Before(_)
            | Key::On(_)
            | Key::Since(_) => Need::Nothing,
        }
    }
}

/// A message as SEARCH sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub seq: u32,
    pub uid: u32,
    pub flags: &'a Flags,
    pub recent: bool,
    pub modseq: i64,
    pub internal_date: DateTime<Utc>,
    pub size: i64,
    /// The message, when loaded (its header only, when the keys look at no more).
    pub content: Option<&'a [u8]>,
}

/// What `*` stands for.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Messages in the mailbox.
    pub count: u32,
    /// The highest UID in the mailbox (0 when empty).
    pub max_uid: u32,
}

/// Sequence sets resolved once per search, not per message.
pub struct Compiled {
    key: Key,
    sets: Vec<Ranges>,
}

impl Compiled {
    pub fn new(key: Key, b: Bounds) -> Compiled {
        let mut sets = Vec::new();
        collect_sets(&key, b, &mut sets);
        Compiled { key, sets }
    }

    /// What of the content the keys look at (for the messages the snapshot leaves undecided).
    pub fn need(&self) -> Need {
        self.key.need()
    }

    /// `Some(matches)`, or `None` when the content is needed and not given.
    pub fn eval(&self, m: &Candidate<'_>) -> Option<bool> {
        let mut i = 0;
        eval(&self.key, m, &self.sets, &mut i)
    }
}

fn collect_sets(k: &Key, b: Bounds, out: &mut Vec<Ranges>) {
    match k {
        Key::Seq(s) => out.push(Ranges::new(s, b.count)),
        Key::Uid(s) => out.push(Ranges::new(s, b.max_uid)),
        Key::Not(k) => collect_sets(k, b, out),
        Key::And(ks) => ks.iter().for_each(|k| collect_sets(k, b, out)),
        Key::Or(a, c) => {
            collect_sets(a, b, out);
            collect_sets(c, b, out);
        }
        _ => {}
    }
}

/// Counts the sets of a key, to keep `i` in step when a branch is not evaluated.
fn sets_in(k: &Key) -> usize {
    match k {
        Key::Seq(_) | Key::Uid(_) => 1,
        Key::Not(k) => sets_in(k),
        Key::And(ks) => ks.iter().map(sets_in).sum(),
        Key::Or(a, b) => sets_in(a) + sets_in(b),
        _ => 0,
    }
}

/// Three-valued evaluation: `None` = unknown without the content.
fn eval(k: &Key, m: &Candidate<'_>, sets: &[Ranges], i: &mut usize) -> Option<bool> {
    let content = |f: &dyn Fn(&[u8]) -> bool| m.content.map(f);
    match k {
        Key::All => Some(true),
        Key::Seq(_) | Key::Uid(_) => {
            let r = sets.get(*i)?;
            *i += 1;
            Some(if matches!(k, Key::Seq(_)) {
                r.contains(m.seq)
            } else {
                r.contains(m.uid)
            })
        }
        Key::Flag(f) => Some(m.flags.has(f)),
        Key::Recent => Some(m.recent),
        Key::New => Some(m.recent && !m.flags.has("\\Seen")),
        Key::Old => Some(!m.recent),
        Key::Larger(n) => Some(m.size > 0 && m.size as u64 > *n),
        Key::Smaller(n) => Some((m.size.max(0) as u64) < *n),
        Key::ModSeq(n) => Some(u64::try_from(m.modseq).unwrap_or(0) >= *n),
        Key::Before(d) => Some(m.internal_date.date_naive() < *d),
        Key::On(d) => Some(m.internal_date.date_naive() == *d),
        Key::Since(d) => Some(m.internal_date.date_naive() >= *d),
        Key::SentBefore(d) => content(&|raw| mime::sent_date(raw).is_some_and(|s| s < *d)),
        Key::SentOn(d) => content(&|raw| mime::sent_date(raw).is_some_and(|s| s == *d)),
        Key::SentSince(d) => content(&|raw| mime::sent_date(raw).is_some_and(|s| s >= *d)),
        Key::Header(name, needle) => content(&|raw| {
            if needle.is_empty() {
                mime::has_header(raw, name)
            } else {
                mime::header_contains(raw, name, needle)
            }
        }),
        Key::Body(s) => content(&|raw| mime::body_contains(raw, s)),
        Key::Text(s) => content(&|raw| mime::text_contains(raw, s)),
        Key::Not(k) => eval(k, m, sets, i).map(|b| !b),
        Key::And(ks) => {
            // false wins over unknown
            let mut unknown = false;
            let mut result = Some(true);
            for (n, k) in ks.iter().enumerate() {
                match eval(k, m, sets, i) {
                    Some(false) => {
                        *i += ks[n + 1..].iter().map(sets_in).sum::<usize>();
                        result = Some(false);
                        break;
                    }
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if result == Some(true) && unknown {
                None
            } else {
                result
            }
        }
        Key::Or(a, b) => {
            let x = eval(a, m, sets, i);
            if x == Some(true) {
                *i += sets_in(b);
                return Some(true);
            }
            match (x, eval(b, m, sets, i)) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use imap_codec::imap_types::core::Vec1;

    struct M {
        uid: u32,
        flags: Flags,
        recent: bool,
        date: DateTime<Utc>,
        size: i64,
    }

    fn mailbox() -> Vec<M> {
        let d = |day| Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0).unwrap();
        vec![
            M {
                uid: 3,
                flags: Flags::parse("\\Seen"),
                recent: false,
                date: d(1),
                size: 100,
            },
            M {
                uid: 7,
                flags: Flags::parse("\\Flagged $x"),
                recent: true,
                date: d(2),
                size: 200,
            },
            M {
                uid: 9,
                flags: Flags::parse(""),
                recent: true,
                date: d(3),
                size: 300,
            },
            M {
                uid: 12,
                flags: Flags::parse("\\Deleted \\Seen"),
                recent: false,
                date: d(3),
                size: 400,
            },
        ]
    }

    fn run(criteria: Vec<SearchKey<'static>>) -> Vec<u32> {
        let ms = mailbox();
        let key = Key::from_criteria(&criteria).unwrap();
        let c = Compiled::new(
            key,
            Bounds {
                count: ms.len() as u32,
                max_uid: 12,
            },
        );
        ms.iter()
            .enumerate()
            .filter(|(i, m)| {
                c.eval(&Candidate {
                    seq: *i as u32 + 1,
                    uid: m.uid,
                    flags: &m.flags,
                    recent: m.recent,
                    modseq: m.uid as i64 * 10,
                    internal_date: m.date,
                    size: m.size,
                    content: None,
                })
                .unwrap()
            })
            .map(|(i, _)| i as u32 + 1)
            .collect()
    }

    fn set(s: &str) -> SequenceSet {
        s.parse().unwrap()
    }

    fn date(d: u32) -> imap_codec::imap_types::datetime::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 1, d)
            .unwrap()
            .try_into()
            .unwrap()
    }

    #[test]
    fn flags_sizes_dates_and_sets() {
        use SearchKey as S;
        assert_eq!(run(vec![S::All]), vec![1, 2, 3, 4]);
        assert_eq!(run(vec![S::Seen]), vec![1, 4]);
        assert_eq!(run(vec![S::Unseen]), vec![2, 3]);
        assert_eq!(run(vec![S::New]), vec![2, 3]);
        assert_eq!(run(vec![S::Old]), vec![1, 4]);
        assert_eq!(run(vec![S::Recent, S::Flagged]), vec![2]);
        assert_eq!(run(vec![S::Keyword("$X".try_into().unwrap())]), vec![2]);
        assert_eq!(
            run(vec![S::Unkeyword("$x".try_into().unwrap())]),
            vec![1, 3, 4]
        );
        assert_eq!(run(vec![S::Larger(200)]), vec![3, 4]);
        // MODSEQs are 10 × the UID: 30, 70, 90, 120
        let modseq = |n| S::ModSequence {
            entry: None,
            modseq: n,
        };
        assert_eq!(run(vec![modseq(70)]), vec![2, 3, 4]);
        assert_eq!(run(vec![modseq(91), S::Deleted]), vec![4]);
        assert_eq!(run(vec![modseq(0)]), vec![1, 2, 3, 4]);
        assert!(Key::from_criteria(&[S::Not(Box::new(modseq(5)))])
            .unwrap()
            .has_modseq());
        assert!(!Key::from_criteria(&[S::Seen]).unwrap().has_modseq());
        assert_eq!(run(vec![S::Smaller(200)]), vec![1]);
        assert_eq!(run(vec![S::Before(date(2))]), vec![1]);
        assert_eq!(run(vec![S::On(date(3))]), vec![3, 4]);
        assert_eq!(run(vec![S::Since(date(2))]), vec![2, 3, 4]);
        assert_eq!(run(vec![S::SequenceSet(set("2:*"))]), vec![2, 3, 4]);
        assert_eq!(run(vec![S::SequenceSet(set("*:3"))]), vec![3, 4]);
        assert_eq!(run(vec![S::Uid(set("7:10"))]), vec![2, 3]);
        assert_eq!(run(vec![S::Uid(set("100:*"))]), vec![4]);
        assert_eq!(
            run(vec![S::Not(Box::new(S::SequenceSet(set("2,4"))))]),
            vec![1, 3]
        );
        assert_eq!(
            run(vec![S::Or(
                Box::new(S::SequenceSet(set("1"))),
                Box::new(S::Uid(set("9")))
            )]),
            vec![1, 3]
        );
        // the set counter stays in step across short-circuits
        assert_eq!(
            run(vec![
                S::Or(
                    Box::new(S::And(Vec1::from(S::Uid(set("3"))))),
                    Box::new(S::Uid(set("12")))
                ),
                S::SequenceSet(set("4"))
            ]),
            vec![4]
        );
        assert_eq!(
            run(vec![
                S::And(vec![S::Deleted, S::Uid(set("1:*"))].try_into().unwrap()),
                S::Uid(set("12"))
            ]),
            vec![4]
        );
    }

    #[test]
    fn content_keys() {
        let raw = b"From: Real Name <user@example.org>\r\nTo: a@b.c\r\n\
                    Subject: hello beautiful world\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\n\
                    X-Extra: some header\r\n\r\nThe body: asdfghjkl\r\n";
        let flags = Flags::default();
        let eval = |criteria: Vec<SearchKey<'static>>| {
            let c = Compiled::new(
                Key::from_criteria(&criteria).unwrap(),
                Bounds {
                    count: 1,
                    max_uid: 1,
                },
            );
            c.eval(&Candidate {
                seq: 1,
                uid: 1,
                flags: &flags,
                recent: false,
                modseq: 1,
                internal_date: Utc::now(),
                size: raw.len() as i64,
                content: Some(raw),
            })
            .unwrap()
        };
        let s = |v: &str| -> imap_codec::imap_types::core::AString<'static> {
            v.to_string().try_into().unwrap()
        };
        use SearchKey as S;
        assert!(eval(vec![S::Subject(s("eautiful worl"))]));
        assert!(!eval(vec![S::Subject(s("goodbye"))]));
        assert!(eval(vec![S::From(s("user@example.org"))]));
        assert!(eval(vec![S::From(s("real name"))]));
        assert!(eval(vec![S::Header(s("x-extra"), s(""))]));
        assert!(!eval(vec![S::Header(s("x-missing"), s(""))]));
        assert!(eval(vec![S::Body(s("sdfghj"))]));
        assert!(!eval(vec![S::Body(s("beautiful"))]));
        assert!(eval(vec![S::Text(s("beautiful"))]));
        assert!(eval(vec![S::SentOn(date_of(2007, 3, 24))]));
        assert!(eval(vec![S::SentBefore(date_of(2007, 3, 25))]));
        assert!(!eval(vec![S::SentSince(date_of(2007, 3, 25))]));
    }

    fn date_of(y: i32, m: u32, d: u32) -> imap_codec::imap_types::datetime::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .try_into()
            .unwrap()
    }

    #[test]
    fn what_the_keys_need_of_the_content() {
        let need =
            |criteria: Vec<SearchKey<'static>>| Key::from_criteria(&criteria).unwrap().need();
        let s = |v: &str| -> imap_codec::imap_types::core::AString<'static> {
            v.to_string().try_into().unwrap()
        };
        use SearchKey as S;
        assert_eq!(need(vec![S::Seen, S::Since(date(2))]), Need::Nothing);
        assert_eq!(need(vec![S::Seen, S::From(s("x"))]), Need::Header);
        assert_eq!(need(vec![S::Header(s("X-A"), s(""))]), Need::Header);
        assert_eq!(
            need(vec![S::Not(Box::new(S::SentOn(date(2))))]),
            Need::Header
        );
        assert_eq!(
            need(vec![S::Or(
                Box::new(S::Subject(s("x"))),
                Box::new(S::Body(s("y")))
            )]),
            Need::Whole
        );
        assert_eq!(need(vec![S::Text(s("x")), S::To(s("y"))]), Need::Whole);
    }

    #[test]
    fn content_keys_are_unknown_without_content() {
        let k = Key::from_criteria(&[SearchKey::Seen, SearchKey::Body("x".try_into().unwrap())])
            .unwrap();
        let c = Compiled::new(
            k,
            Bounds {
                count: 1,
                max_uid: 1,
            },
        );
        let unseen = Flags::default();
        let seen = Flags::parse("\\Seen");
        let m = |flags| Candidate {
            seq: 1,
            uid: 1,
            flags,
            recent: false,
            modseq: 1,
            internal_date: Utc::now(),
            size: 1,
            content: None,
        };
        // decided by the flag alone
        assert_eq!(c.eval(&m(&unseen)), Some(false));
        // needs the body
        assert_eq!(c.eval(&m(&seen)), None);
    }
}
