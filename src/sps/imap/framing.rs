//! Splitting the client's bytes into messages (a command line with its literals, a line of
//! AUTHENTICATE data, IDLE's DONE) with imap-codec's [`Fragmentizer`], and the limits: a line
//! longer than allowed, or a literal bigger than allowed, makes the message unusable (it is
//! still read to its end, without keeping what exceeds the limit, so that the session goes on
//! with the next message). Nothing here does I/O.
//!
//! The fragmentizer is given the bytes of the current message only (up to the end of the
//! line, or of the literal), the rest waiting here: so between messages it holds nothing, and
//! after a large message it is replaced by a fresh one rather than keeping its large buffer.

use imap_codec::fragmentizer::{FragmentInfo, Fragmentizer, LiteralAnnouncement};
use imap_codec::imap_types::core::LiteralMode;

/// What the reader found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A literal was announced; for a synchronizing one the client waits for `+` (or for a
    /// rejection, see [`Framer::reject_literal`]).
    Literal { length: u32, sync: bool },
    /// A message is complete: see [`Framer::message`] and [`Framer::problem`].
    Complete,
    /// A line goes on far beyond the limit: the session should end rather than read it.
    Overflow,
}

/// Why a complete message cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    LineTooLong,
    LiteralTooBig,
}

/// A fragmentizer whose buffer grew past this is replaced after the message.
const SHRINK_AT: usize = 1024 * 1024;

pub struct Framer {
    frag: Fragmentizer,
    /// Its size limit.
    max_message: u32,
    /// Bytes read and not given to the fragmentizer yet, from `taken` on.
    pending: Vec<u8>,
    taken: usize,
    /// Bytes of the literal being read that the fragmentizer still needs.
    literal_left: Option<u32>,
    max_line: usize,
    max_literal: u64,
    /// Where the line being read started in the message (`None`: in a literal).
    line_start: Option<usize>,
    problem: Option<Problem>,
    /// Bytes of the literals announced in the current message.
    announced: u64,
}

impl Framer {
    /// `max_literal` is the largest literal the fragmentizer will ever keep (see
    /// [`Framer::set_max_literal`] for the limit of the moment).
    pub fn new(max_line: usize, max_literal: u64) -> Framer {
        // a message: its lines and one literal of the largest size
        let max = max_literal
            .saturating_add(max_line as u64)
            .saturating_add(1024)
            .min(u32::MAX as u64) as u32;
        Framer {
            frag: Fragmentizer::new(max),
            max_message: max,
            pending: Vec::new(),
            taken: 0,
            literal_left: None,
            max_line: max_line.max(64),
            max_literal,
            line_start: Some(0),
            problem: None,
            announced: 0,
        }
    }

    /// Whether some bytes of a message that is not complete yet have come: the client is in
    /// the middle of sending a command.
    pub fn started(&self) -> bool {
        self.taken < self.pending.len()
            || (!self.frag.is_message_complete() && !self.frag.message_bytes().is_empty())
    }

    /// The bytes of the literals announced so far in the message being read.
    pub fn announced(&self) -> u64 {
        self.announced
    }

    /// Bytes read from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.taken > 0 {
            self.pending.drain(..self.taken);
            self.taken = 0;
        }
        self.pending.extend_from_slice(bytes);
    }

    /// Gives the fragmentizer the next bytes of the current message; false when there are
    /// none.
    fn feed(&mut self) -> bool {
        let avail = &self.pending[self.taken..];
        if avail.is_empty() {
            self.pending.clear();
            self.taken = 0;
            return false;
        }
        let n = match self.literal_left {
            Some(left) => avail.len().min(left as usize),
            None => avail
                .iter()
                .position(|&b| b == b'\n')
                .map(|p| p + 1)
                .unwrap_or(avail.len()),
        };
        if n == 0 {
            return false;
        }
        self.frag.enqueue_bytes(&avail[..n]);
        self.taken += n;
        if let Some(left) = self.literal_left.as_mut() {
            *left -= n as u32;
        }
        true
    }

    /// The next event, or `None` when more bytes are needed.
    pub fn next(&mut self) -> Option<Frame> {
        if self.frag.is_message_complete() && self.frag.message_bytes().len() > SHRINK_AT {
            // between messages it holds no bytes of the next one
            self.frag = Fragmentizer::new(self.max_message);
        }
        loop {
            let Some(info) = self.frag.progress() else {
                // everything queued was taken into the current fragment
                if let Some(start) = self.line_start {
                    let len = self.frag.message_bytes().len().saturating_sub(start);
                    let capped = self.frag.is_max_message_size_exceeded()
                        && self.problem != Some(Problem::LiteralTooBig);
                    if len > 2 * self.max_line + 4096 || capped {
                        return Some(Frame::Overflow);
                    }
                    if len > self.max_line + 2 {
                        self.fail(Problem::LineTooLong);
                    }
                }
                if self.feed() {
                    continue;
                }
                return None;
            };
            match info {
                FragmentInfo::Line {
                    start,
                    end,
                    announcement,
                    ..
                } => {
                    if end.saturating_sub(start) > self.max_line + 2 {
                        self.fail(Problem::LineTooLong);
                    }
                    match announcement {
                        None => {
                            self.line_start = Some(0);
                            self.announced = 0;
                            return Some(Frame::Complete);
                        }
                        Some(LiteralAnnouncement { mode, length }) => {
                            self.line_start = None;
                            self.announced = self.announced.saturating_add(length as u64);
                            self.literal_left = Some(length);
                            let sync = mode == LiteralMode::Sync;
                            if !sync && length as u64 > self.max_literal {
                                // read and dropped; the command is refused when complete
                                self.fail(Problem::LiteralTooBig);
                            }
                            return Some(Frame::Literal { length, sync });
                        }
                    }
                }
                FragmentInfo::Literal { end, .. } => {
                    self.line_start = Some(end);
                    self.literal_left = None;
                }
            }
        }
    }

    /// The largest literal accepted from now on.
    pub fn set_max_literal(&mut self, max: u64) {
        self.max_literal = max;
    }

    /// Whether a literal of this size may be sent.
    pub fn literal_allowed(&self, length: u32) -> bool {
        length as u64 <= self.max_literal && self.problem.is_none()
    }

    /// Refuses the synchronizing literal just announced: the client will not send it, and
    /// the next bytes start a new message.
    pub fn reject_literal(&mut self) {
        self.frag.skip_message();
        self.literal_left = None;
        self.line_start = Some(0);
        self.problem = None;
        self.announced = 0;
    }

    fn fail(&mut self, p: Problem) {
        if self.problem.is_none() {
            self.problem = Some(p);
            self.frag.poison_message();
        }
    }

    /// What is wrong with the message just completed (taken: the next message starts clean).
    pub fn problem(&mut self) -> Option<Problem> {
        let p = self.problem.take();
        if p.is_none() && self.frag.is_max_message_size_exceeded() {
            return Some(Problem::LiteralTooBig);
        }
        p
    }

    /// The bytes of the message just completed.
    pub fn message(&self) -> &[u8] {
        self.frag.message_bytes()
    }

    /// The tag of the current message, if it has a usable one.
    pub fn tag(&self) -> Option<String> {
        self.frag.decode_tag().map(|t| t.inner().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_literals() {
        let mut f = Framer::new(100, 10);
        f.push(b"a1 NOOP\r\na2 LOGIN {3}\r\n");
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), None);
        assert_eq!(f.message(), b"a1 NOOP\r\n");
        assert_eq!(
            f.next(),
            Some(Frame::Literal {
                length: 3,
                sync: true
            })
        );
        assert!(f.literal_allowed(3));
        assert_eq!(f.next(), None);
        f.push(b"bob {3+}\r\npw!\r\n");
        assert_eq!(
            f.next(),
            Some(Frame::Literal {
                length: 3,
                sync: false
            })
        );
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), None);
        assert_eq!(f.message(), b"a2 LOGIN {3}\r\nbob {3+}\r\npw!\r\n");
        assert_eq!(f.tag().as_deref(), Some("a2"));
    }

    #[test]
    fn a_command_in_progress_and_its_literals_are_known() {
        let mut f = Framer::new(100, 100);
        assert!(!f.started());
        f.push(b"a1 NO");
        assert_eq!(f.next(), None);
        assert!(f.started(), "half a line");
        f.push(b"OP\r\n");
        assert_eq!(f.next(), Some(Frame::Complete));
        assert!(!f.started(), "a complete message");
        f.push(b"a2 APPEND x {5}\r\n");
        assert!(f.started());
        assert_eq!(
            f.next(),
            Some(Frame::Literal {
                length: 5,
                sync: true
            })
        );
        assert_eq!(f.next(), None);
        assert!(f.started(), "waiting for the literal");
        assert_eq!(f.announced(), 5);
        f.push(b"hello {3+}\r\nabc\r\n");
        assert_eq!(
            f.next(),
            Some(Frame::Literal {
                length: 3,
                sync: false
            })
        );
        assert_eq!(f.announced(), 8);
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.announced(), 0);
        assert!(!f.started());
    }

    #[test]
    fn rejected_literal_is_skipped() {
        let mut f = Framer::new(100, 10);
        f.push(b"a1 APPEND x {11}\r\n");
        assert_eq!(
            f.next(),
            Some(Frame::Literal {
                length: 11,
                sync: true
            })
        );
        assert!(!f.literal_allowed(11));
        assert_eq!(f.tag().as_deref(), Some("a1"));
        f.reject_literal();
        f.push(b"a2 NOOP\r\n");
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), None);
        assert_eq!(f.message(), b"a2 NOOP\r\n");
    }

    #[test]
    fn too_big_literal_plus_is_read_and_refused() {
        let mut f = Framer::new(100, 10);
        f.push(b"a1 APPEND x {20+}\r\n01234567890123456789\r\na2 NOOP\r\n");
        assert_eq!(
            f.next(),
            Some(Frame::Literal {
                length: 20,
                sync: false
            })
        );
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), Some(Problem::LiteralTooBig));
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), None);
        assert_eq!(f.message(), b"a2 NOOP\r\n");
    }

    #[test]
    fn pipelined_messages_and_a_fresh_fragmentizer_after_a_large_one() {
        let mut f = Framer::new(100, 4 * 1024 * 1024);
        let big = vec![b'x'; 2 * 1024 * 1024];
        let head = format!("a1 APPEND x {{{}+}}\r\n", big.len());
        let mut input = head.clone().into_bytes();
        input.extend_from_slice(&big);
        input.extend_from_slice(b"\r\na2 NOOP\r\na3 APPEND y {0+}\r\n\r\na4 NOOP\r\n");
        // in pieces, as the network gives them
        for chunk in input.chunks(16 * 1024) {
            f.push(chunk);
        }
        assert!(matches!(f.next(), Some(Frame::Literal { sync: false, .. })));
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), None);
        assert_eq!(f.message().len(), head.len() + big.len() + 2);
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.message(), b"a2 NOOP\r\n");
        assert_eq!(
            f.next(),
            Some(Frame::Literal {
                length: 0,
                sync: false
            })
        );
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.message(), b"a3 APPEND y {0+}\r\n\r\n");
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.message(), b"a4 NOOP\r\n");
        assert_eq!(f.next(), None);
    }

    #[test]
    fn endless_lines_overflow() {
        let mut f = Framer::new(64, 10);
        f.push(&[b'x'; 5000]);
        assert_eq!(f.next(), Some(Frame::Overflow));
    }

    #[test]
    fn long_lines_are_refused_and_the_session_goes_on() {
        let mut f = Framer::new(64, 10);
        f.push(b"a1 ");
        f.push(&[b'x'; 200]);
        assert_eq!(f.next(), None);
        f.push(&[b'x'; 200]);
        assert_eq!(f.next(), None);
        f.push(b"\r\na2 NOOP\r\n");
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), Some(Problem::LineTooLong));
        assert_eq!(f.tag().as_deref(), Some("a1"));
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), None);
    }
}
