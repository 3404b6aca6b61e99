//! IDLE (RFC 2177): the session waits on the change feed of its account (and polls every few
//! seconds in case a wake-up was missed), pushes the selected mailbox's changes as they come,
//! and ends on `DONE`.

use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::framing::Frame;
use super::parse;
use super::response::{self, Done};
use super::session::{stopped, Reply, Session, Stop};

/// How often an idling session looks at the store without being woken.
const FALLBACK_POLL: Duration = Duration::from_secs(5);

/// Why IDLE ended.
enum Ended {
    Done,
    Bad,
    Stop(Stop),
}

impl Session {
    pub(super) async fn idle(&mut self, tag: &str) -> Reply {
        let mut feed = self.ctx.feed.subscribe(self.account_id());
        self.sync(true).await;
        self.out.extend_from_slice(b"+ idling\r\n");
        if self.flush().await.is_err() {
            return Reply::Close;
        }
        let before = match &self.selected {
            Some(s) => format!("SELECTED {}", s.name),
            None => "AUTHENTICATED".to_string(),
        };
        self.handle.set_state("IDLE");
        let deadline = tokio::time::Instant::now() + self.cfg.idle_timeout;
        let mut tick = tokio::time::interval(FALLBACK_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.reset();
        let mut buf = vec![0u8; 4096];
        let ended = loop {
            match self.framer.next() {
                Some(Frame::Complete) => {
                    let ok =
                        self.framer.problem().is_none() && parse::idle_done(self.framer.message());
                    break if ok { Ended::Done } else { Ended::Bad };
                }
                Some(Frame::Literal { sync, .. }) => {
                    if sync {
                        self.framer.reject_literal();
                    }
                    break Ended::Bad;
                }
                Some(Frame::Overflow) => break Ended::Stop(Stop::Closed),
                None => {}
            }
            let Session {
                stream,
                stop,
                framer,
                ..
            } = self;
            let Some(s) = stream.as_mut() else {
                break Ended::Stop(Stop::Closed);
            };
            let wake = tokio::select! {
                r = s.read(&mut buf) => match r {
                    Ok(0) | Err(_) => break Ended::Stop(Stop::Closed),
                    Ok(n) => {
                        framer.push(&buf[..n]);
                        false
                    }
                },
                _ = feed.changed() => true,
                _ = tick.tick() => true,
                _ = tokio::time::sleep_until(deadline) => break Ended::Stop(Stop::Timeout),
                _ = stopped(stop) => break Ended::Stop(Stop::Shutdown),
            };
            if wake {
                self.sync(true).await;
                if self.flush().await.is_err() {
                    return Reply::Close;
                }
            }
        };
        self.handle.set_state(&before);
        match ended {
            Ended::Done => {
                response::tagged(&mut self.out, tag, &Done::ok("IDLE terminated"));
                Reply::Sent
            }
            Ended::Bad => {
                response::tagged(&mut self.out, tag, &Done::bad("Expected DONE"));
                Reply::Sent
            }
            Ended::Stop(s) => {
                self.goodbye(s).await;
                Reply::Close
            }
        }
    }
}
