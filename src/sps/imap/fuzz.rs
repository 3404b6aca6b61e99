//! An entry point for fuzzing the IMAP input path without I/O or store: the bytes a client
//! sends, cut into reads of the given sizes, go through the framer (line and literal limits)
//! and every complete message through the decoders (command, AUTHENTICATE data, DONE), then
//! the pure parts a command reaches (sequence sets, flags, mailbox names and LIST patterns).

use super::framing::{Frame, Framer};
use super::parse;

/// Feeds `data` in reads of `chunk` bytes (at least 1) to a framer with small limits; returns
/// the number of complete messages seen.
pub fn input(data: &[u8], chunk: usize) -> usize {
    let mut framer = Framer::new(1024, 64 * 1024);
    let mut complete = 0;
    for piece in data.chunks(chunk.max(1)) {
        framer.push(piece);
        while let Some(frame) = framer.next() {
            match frame {
                Frame::Literal { length, sync } => {
                    if sync && !framer.literal_allowed(length) {
                        framer.reject_literal();
                    }
                }
                Frame::Complete => {
                    complete += 1;
                    let problem = framer.problem();
                    let msg = framer.message().to_vec();
                    if problem.is_none() {
                        let _ = parse::command(&msg);
                        let _ = parse::authenticate_data(&msg);
                        let _ = parse::idle_done(&msg);
                    }
                }
                Frame::Overflow => return complete,
            }
        }
    }
    complete
}
