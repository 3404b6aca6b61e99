//! The fuzz targets of `esmail::fuzz` over the committed corpus (`tests/fuzz/corpus/<target>/`)
//! and over random mutations of it: no input may panic, and none may make a target allocate
//! more than a bounded multiple of its size. `ESMAIL_FUZZ_CASES` sets the number of mutated
//! inputs per target (default 2,000 here; `tools/fuzz` runs many more in release mode and
//! prints the rate). A failing input is written to `target/fuzz-failures/` to be added to the
//! corpus once fixed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts the bytes allocated now and the peak since the last reset.
struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = NOW.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        NOW.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static A: Counting = Counting;

/// A small deterministic generator (xorshift64*), so a failure can be replayed by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens that matter to the parsers, spliced into inputs.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"{4294967295}\r\n",
    b"{5+}\r\n",
    b"{0}\r\n",
    b"\"",
    b"\\",
    b"(",
    b")",
    b"[",
    b"]<0.4294967295>",
    b"*",
    b"1:*",
    b"4294967295",
    b"BODY[1.2.3.HEADER.FIELDS (A B)]",
    b"=?utf-8?b?w6k=?=",
    b"=?iso-8859-1?q?=E9?=",
    b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n",
    b"--b--\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"\x00",
    b"\xff\xfe",
    b"MAIL FROM:<",
    b"RCPT TO:<",
    b"AUTH PLAIN ",
    b";",
    b"--",
    b"=\"",
];

fn mutate(rng: &mut Rng, base: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.insert(at, rng.next() as u8),
            2 if !v.is_empty() => {
                let end = (at + rng.below(64)).min(v.len());
                v.drain(at.min(end)..end);
            }
            3 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..at, t.iter().copied());
            }
            4 if !other.is_empty() => {
                let s = rng.below(other.len());
                let e = (s + rng.below(256)).min(other.len());
                v.splice(at..at, other[s..e].iter().copied());
            }
            5 if !v.is_empty() => {
                // repeat a stretch (nesting, long lines)
                let s = rng.below(v.len());
                let e = (s + rng.below(32)).min(v.len());
                let piece = v[s..e].to_vec();
                for _ in 0..rng.below(50) {
                    v.splice(at..at, piece.iter().copied());
                }
            }
            _ => v.truncate(at),
        }
    }
    v.truncate(1 << 20);
    v
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).expect("corpus file");
            (p, b)
        })
        .collect()
}

fn cases() -> usize {
    std::env::var("ESMAIL_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Runs one input, checking the allocation bound; on failure the input is saved.
fn one(target: &str, input: &[u8], what: &str) {
    check(target, input, what, |b| esmail::fuzz::run(target, b))
}

fn check(target: &str, input: &[u8], what: &str, f: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    // one measurement at a time: the tests of this file run on several threads
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = std::panic::catch_unwind(|| f(input));
    let used = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let limit = 64 * input.len() + (16 << 20);
    if r.is_err() || used > limit {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("{target}-{}", input.len()));
        let _ = std::fs::write(&file, input);
        panic!(
            "{target}: {what}: {} (input saved to {})",
            if r.is_err() {
                "panicked".to_string()
            } else {
                format!("allocated {used} bytes for {} bytes of input", input.len())
            },
            file.display()
        );
    }
}

fn fuzz(target: &str) {
    let files = corpus(target);
    assert!(!files.is_empty(), "the corpus of {target} is empty");
    for (p, b) in &files {
        one(target, b, &p.display().to_string());
    }
    let n = cases();
    let seed = 0x9e37_79b9_7f4a_7c15 ^ target.len() as u64;
    let mut rng = Rng(seed);
    let started = Instant::now();
    for i in 0..n {
        let (_, base) = &files[rng.below(files.len())];
        let (_, other) = &files[rng.below(files.len())];
        let input = mutate(&mut rng, base, other);
        one(target, &input, &format!("mutation {i} of seed {seed:#x}"));
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    println!(
        "fuzz {target}: {} corpus inputs + {n} mutations clean, {:.0} executions/s",
        files.len(),
        n as f64 / secs
    );
}

/// One test for all the targets, so that no other test allocates while one is measured.
#[test]
fn no_input_panics_or_allocates_without_bound() {
    for t in esmail::fuzz::TARGETS {
        fuzz(t);
    }
}

#[test]
#[should_panic(expected = "panicked")]
fn a_panicking_target_is_caught() {
    check("selftest", b"boom", "self test", |b| {
        if b == b"boom" {
            panic!("boom");
        }
    });
}

#[test]
#[should_panic(expected = "allocated")]
fn an_unbounded_allocation_is_caught() {
    check("selftest", b"x", "self test", |_| {
        let v = vec![1u8; 64 << 20];
        std::hint::black_box(&v);
    });
}
