//! Splitting the client's bytes into messages (a command line with its literals, a line of
//! AUTHENTICATE data, IDLE's DONE) with imap-codec's [`Fragmentizer`], and the limits: a line
//! longer than allowed, or a literal bigger than allowed, makes the message unusable (it is
//! still read to its end, without keeping what exceeds the limit, so that the session goes on
//! with the next message). Nothing here does I/O.

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

pub struct Framer {
    frag: Fragmentizer,
    max_line: usize,
    max_literal: u64,
    /// Where the line being read started in the message (`None`: in a literal).
    line_start: Option<usize>,
    problem: Option<Problem>,
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
            max_line: max_line.max(64),
            max_literal,
            line_start: Some(0),
            problem: None,
        }
    }

    /// Bytes read from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        self.frag.enqueue_bytes(bytes);
    }

    /// The next event, or `None` when more bytes are needed.
    pub fn next(&mut self) -> Option<Frame> {
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
                            return Some(Frame::Complete);
                        }
                        Some(LiteralAnnouncement { mode, length }) => {
                            self.line_start = None;
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
        self.line_start = Some(0);
        self.problem = None;
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
        assert_eq!(f.next(), Some(Frame::Literal { length: 3, sync: true }));
        assert!(f.literal_allowed(3));
        assert_eq!(f.next(), None);
        f.push(b"bob {3+}\r\npw!\r\n");
        assert_eq!(f.next(), Some(Frame::Literal { length: 3, sync: false }));
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), None);
        assert_eq!(f.message(), b"a2 LOGIN {3}\r\nbob {3+}\r\npw!\r\n");
        assert_eq!(f.tag().as_deref(), Some("a2"));
    }

    #[test]
    fn rejected_literal_is_skipped() {
        let mut f = Framer::new(100, 10);
        f.push(b"a1 APPEND x {11}\r\n");
        assert_eq!(f.next(), Some(Frame::Literal { length: 11, sync: true }));
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
        assert_eq!(f.next(), Some(Frame::Literal { length: 20, sync: false }));
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), Some(Problem::LiteralTooBig));
        assert_eq!(f.next(), Some(Frame::Complete));
        assert_eq!(f.problem(), None);
        assert_eq!(f.message(), b"a2 NOOP\r\n");
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
