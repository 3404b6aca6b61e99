//! Schedules: the time slices in which an instance runs, written in its `schedule` parameter.
//!
//! ```text
//! mon-fri 08:00-18:00; sat 10:00+2h; daily 03:00:00+15m
//! ```
//! A slice is days of the week (`mon` .. `sun`, ranges `mon-fri`, lists `mon,wed,fri`, or
//! `daily` / `*`) and a start time with an end time or a duration (`+90` minutes, `+90m`,
//! `+2h`, `+30s`). Times are the Guardian host's local time; a slice may run past midnight.
//! An empty schedule means always.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone};

/// Longest slice: a week.
const MAX_SECONDS: i64 = 7 * 24 * 3600;
/// Most slices in one schedule.
const MAX_SLICES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// Bit 0 = Monday ... bit 6 = Sunday.
    days: u8,
    start: NaiveTime,
    seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    slices: Vec<Slice>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day(s: &str) -> Result<u32, String> {
    let l = s.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|d| l.starts_with(d) && d.len() >= 3)
        .map(|p| p as u32)
        .ok_or_else(|| format!("{s:?} is not a day (mon, tue, wed, thu, fri, sat, sun)"))
}

fn days(s: &str) -> Result<u8, String> {
    let l = s.trim().to_ascii_lowercase();
    if l == "daily" || l == "*" {
        return Ok(0x7f);
    }
    let mut mask = 0u8;
    for part in l.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                let mut d = a;
                loop {
                    mask |= 1 << d;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => mask |= 1 << day(part)?,
        }
    }
    Ok(mask)
}

fn time(s: &str) -> Result<NaiveTime, String> {
    let t = s.trim();
    NaiveTime::parse_from_str(t, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
        .map_err(|_| format!("{t:?} is not a time (HH:MM or HH:MM:SS)"))
}

fn duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "m"),
    };
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{t:?} is not a duration"))?;
    let secs = match unit {
        "s" => n,
        "m" | "min" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{t:?}: a duration ends in s, m or h")),
    };
    if secs <= 0 || secs > MAX_SECONDS {
        return Err(format!("{t:?}: a slice lasts from 1 second to 7 days"));
    }
    Ok(secs)
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let mut slices = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (d, range) = part.split_once(char::is_whitespace).ok_or_else(|| {
                format!("slice {part:?}: expected DAYS START-END or DAYS START+DURATION")
            })?;
            let days = days(d).map_err(|e| format!("slice {part:?}: {e}"))?;
            let range = range.trim();
            let (start, seconds) = if let Some((a, b)) = range.split_once('+') {
                (time(a)?, duration(b)?)
            } else if let Some((a, b)) = range.split_once('-') {
                let (a, b) = (time(a)?, time(b)?);
                let mut secs = (b - a).num_seconds();
                if secs <= 0 {
                    secs += 24 * 3600;
                }
                (a, secs)
            } else {
                return Err(format!(
                    "slice {part:?}: expected START-END or START+DURATION"
                ));
            };
            slices.push(Slice {
                days,
                start,
                seconds,
            });
            if slices.len() > MAX_SLICES {
                return Err(format!("a schedule has at most {MAX_SLICES} slices"));
            }
        }
        Ok(Schedule { slices })
    }

    /// An empty schedule: always on.
    pub fn always(&self) -> bool {
        self.slices.is_empty()
    }

    /// Is `now` inside one of the slices?
    pub fn active<Tz: TimeZone>(&self, now: &DateTime<Tz>) -> bool {
        if self.slices.is_empty() {
            return true;
        }
        let naive = now.naive_local();
        for s in &self.slices {
            // a slice that began on one of the last 7 days may still be running
            for back in 0..=7i64 {
                let date = naive.date() - Duration::days(back);
                let wd = date.weekday().num_days_from_monday();
                if s.days & (1 << wd) == 0 {
                    continue;
                }
                let start = date.and_time(s.start);
                let end = start + Duration::seconds(s.seconds);
                if start <= naive && naive < end {
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn at(s: &str) -> DateTime<Utc> {
        // 2026-11-30 is a Monday
        Utc.from_utc_datetime(
            &chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap(),
        )
    }

    #[test]
    fn weekdays_and_ranges() {
        let s = Schedule::parse("mon-fri 08:00-18:00; sat 10:00+2h").unwrap();
        assert!(s.active(&at("2026-11-30 08:00:00")));
        assert!(!s.active(&at("2026-11-30 18:00:00")));
        assert!(!s.active(&at("2026-11-29 12:00:00")), "sunday");
        assert!(s.active(&at("2026-12-05 11:59:59")), "saturday");
        assert!(!s.active(&at("2026-12-05 12:00:00")));
    }

    #[test]
    fn slices_cross_midnight_and_seconds_count() {
        let s = Schedule::parse("sun 23:00-01:00").unwrap();
        assert!(
            s.active(&at("2026-11-30 00:30:00")),
            "monday 00:30 is still sunday's slice"
        );
        let s = Schedule::parse("daily 10:00:05+20s").unwrap();
        assert!(!s.active(&at("2026-11-30 10:00:04")));
        assert!(s.active(&at("2026-11-30 10:00:05")));
        assert!(!s.active(&at("2026-11-30 10:00:25")));
        assert!(Schedule::parse("")
            .unwrap()
            .active(&at("2026-11-30 10:00:25")));
    }

    #[test]
    fn mistakes_are_named() {
        for bad in [
            "mon",
            "funday 10:00-11:00",
            "mon 25:00-26:00",
            "mon 10:00+0",
            "mon 10:00+9d",
            "mon 10:00",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
        assert!(Schedule::parse("mon,wed,fri 09:00+30").is_ok());
        assert!(Schedule::parse("fri-mon 09:00+30").is_ok());
    }
}
