//! Header searches and header fetches read only the first bytes of the messages
//! ([`crate::store::mailbox::heads`]), and the whole message when its header goes on past
//! them: they must answer exactly as when they read every message whole. Checked on a real
//! embedded store, through whole IMAP sessions over an in-memory connection, against the
//! answers computed from the whole messages (what the server did before).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use imap_codec::imap_types::command::CommandBody;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::watch;

use super::fetch::Plan;
use super::flags::Flags;
use super::search::{Bounds, Candidate, Compiled, Key};
use super::selected::Msg;
use super::store::{self, Need};
use super::{mime, parse};
use crate::sps::feed::Feed;
use crate::sps::registry::Registry;
use crate::sps::{io, Ctx, Db, ServerConfig};
use crate::store::mailbox::{self, HEAD_BYTES};
use crate::store::{queue, system, OpenOptions, Store, StoreUrl, TxMode};

struct World {
    _dir: tempfile::TempDir,
    ctx: Arc<Ctx>,
    _stop: watch::Sender<bool>,
}

/// A store with jdoe@acme.com (password `secret`).
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::parse(&format!("sqlite:{}", dir.path().join("t.db").display())).unwrap();
    let store = Store::open(
        &url,
        &OpenOptions {
            pool_size: 2,
            create: true,
            ..Default::default()
        },
    )
    .unwrap();
    crate::admin::init::init(&store, &Default::default(), Some("acme.com")).unwrap();
    let session = crate::admin::Session::open(&store).unwrap();
    let (mut o, mut n) = (Vec::new(), Vec::new());
    let r = crate::admin::run_script(
        session,
        "create person username=jdoe domain=acme.com firstname=J lastname=D password=secret;",
        &mut o,
        &mut n,
        false,
    );
    assert!(r.error.is_none(), "{:?}", r.error);
    let (_cfg_tx, cfg) = watch::channel(Arc::new(ServerConfig::for_tests(1)));
    let (stop, stop_rx) = watch::channel(false);
    let ctx = Arc::new(Ctx {
        db: Db::new(Arc::new(store)),
        feed: Feed::new(),
        registry: Registry::new("test"),
        cfg,
        stop: stop_rx,
    });
    World {
        _dir: dir,
        ctx,
        _stop: stop,
    }
}

// ------------------------------------------------------------------ the messages

/// A header of about 15 KB: From, To, Subject and Date come after the first HEAD_BYTES bytes.
fn long_header() -> Vec<u8> {
    let mut m = String::new();
    for i in 0..120 {
        m.push_str(&format!(
            "Received: from relay{i}.example.net (relay{i}.example.net [192.0.2.{}])\r\n\
             \tby mx.acme.com with ESMTP id {i:08x}; Mon, 2 Nov 2026 10:00:{:02} +0000\r\n",
            i % 250,
            i % 60
        ));
    }
    m.push_str(
        "From: Late Sender <late@example.org>\r\nTo: jdoe@acme.com\r\n\
         Subject: found only past the first bytes\r\nDate: Tue, 3 Nov 2026 09:00:00 +0000\r\n\
         X-Tail: folded\r\n  continuation line\r\n\r\nbody text\r\n",
    );
    assert!(m.len() > HEAD_BYTES + 4000);
    m.into_bytes()
}

/// A short header and a 300 KB attachment.
fn with_attachment() -> Vec<u8> {
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let mut m = String::from(
        "From: Att Person <att@example.org>\r\nTo: jdoe@acme.com\r\n\
         Subject: report with attachment\r\nDate: Wed, 4 Nov 2026 12:00:00 +0100\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nsee the body text attached\r\n\
         --b1\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    while m.len() < 300_000 {
        m.push_str(line);
    }
    m.push_str("--b1--\r\n");
    m.into_bytes()
}

/// A header whose empty line ends exactly `end` bytes into the message.
fn header_ending_at(end: usize, subject: &str) -> Vec<u8> {
    let head = format!("From: Edge <edge@example.org>\r\nSubject: {subject}\r\nX-Pad: ");
    let pad = end - head.len() - 4; // "\r\n\r\n"
    let mut m = head.into_bytes();
    m.extend(std::iter::repeat_n(b'p', pad));
    m.extend_from_slice(b"\r\n\r\nedge body\r\n");
    assert_eq!(mime::header_end(&m), Some(end));
    m
}

fn messages() -> Vec<Vec<u8>> {
    vec![
        long_header(),
        with_attachment(),
        b"From: Alice <alice@example.org>\nSubject: lf only\nDate: Sun, 1 Nov 2026 08:00:00 +0000\n\nbody\n"
            .to_vec(),
        // no empty line: all header
        b"From: nobody@example.org\r\nSubject: no body at all".to_vec(),
        // a white-space line inside the header, then a folded Subject
        b"From: ws@example.org\r\n \r\nSubject: after a\r\n blank-ish line\r\n\r\nbody text\r\n"
            .to_vec(),
        header_ending_at(HEAD_BYTES, "ends at the limit"),
        // the empty line's CRLF is cut by the limit
        header_ending_at(HEAD_BYTES + 1, "ends one past the limit"),
        b"\r\nno header at all\r\n".to_vec(),
    ]
}

// ------------------------------------------------------------------ a client

struct Client {
    r: BufReader<tokio::io::ReadHalf<DuplexStream>>,
    w: tokio::io::WriteHalf<DuplexStream>,
    n: u32,
}

impl Client {
    fn connect(w: &World) -> Client {
        let (client, server) = tokio::io::duplex(1 << 20);
        let stream: io::Stream = tokio::io::BufReader::new(Box::new(server) as Box<dyn io::Io>);
        tokio::spawn(super::serve_stream(
            w.ctx.clone(),
            stream,
            w.ctx
                .registry
                .open("IMAP4", "192.0.2.9:1143".parse().unwrap()),
            false,
        ));
        let (r, w) = tokio::io::split(client);
        Client {
            r: BufReader::new(r),
            w,
            n: 0,
        }
    }

    async fn line(&mut self) -> Vec<u8> {
        let mut l = Vec::new();
        tokio::time::timeout(Duration::from_secs(60), self.r.read_until(b'\n', &mut l))
            .await
            .expect("an answer")
            .unwrap();
        assert!(!l.is_empty(), "connection closed");
        l
    }

    /// Sends a command (and a literal); returns the untagged responses, byte-exact, and the
    /// tagged line.
    async fn cmd(&mut self, text: &str, literal: Option<&[u8]>) -> (Vec<u8>, String) {
        self.n += 1;
        let tag = format!("t{}", self.n);
        let mut out = format!("{tag} {text}").into_bytes();
        if let Some(l) = literal {
            out.extend_from_slice(format!(" {{{}+}}\r\n", l.len()).as_bytes());
            out.extend_from_slice(l);
        }
        out.extend_from_slice(b"\r\n");
        self.w.write_all(&out).await.unwrap();
        let mut untagged = Vec::new();
        loop {
            let mut l = self.line().await;
            if l.starts_with(format!("{tag} ").as_bytes()) {
                return (untagged, String::from_utf8_lossy(&l).into_owned());
            }
            // literals inside the response
            while let Some(n) = literal_len(&l) {
                let mut data = vec![0; n];
                self.r.read_exact(&mut data).await.unwrap();
                l.extend_from_slice(&data);
                l.extend(self.line().await);
            }
            untagged.extend_from_slice(&l);
        }
    }

    async fn ok(&mut self, text: &str) -> Vec<u8> {
        let (u, done) = self.cmd(text, None).await;
        assert!(done.contains(" OK "), "{text}: {done}");
        u
    }
}

fn literal_len(line: &[u8]) -> Option<usize> {
    let l = line.strip_suffix(b"}\r\n")?;
    let open = l.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(&l[open + 1..]).ok()?.parse().ok()
}

// ------------------------------------------------------------------ the answers before

fn candidate<'a>(seq: u32, flags: &'a Flags, raw: &'a [u8]) -> Candidate<'a> {
    Candidate {
        seq,
        uid: seq,
        flags,
        recent: false,
        modseq: 1,
        internal_date: Utc::now(),
        size: raw.len() as i64,
        content: Some(raw),
    }
}

/// `* SEARCH ...` as the whole messages answer it.
fn search_from_whole(command: &str, msgs: &[Vec<u8>]) -> Vec<u8> {
    let d = parse::command(format!("x {command}\r\n").as_bytes()).unwrap();
    let CommandBody::Search { criteria, .. } = d.command.body else {
        panic!("{command}");
    };
    let key = Key::from_criteria(criteria.as_ref()).unwrap();
    let c = Compiled::new(
        key,
        Bounds {
            count: msgs.len() as u32,
            max_uid: msgs.len() as u32,
        },
    );
    let flags = Flags::default();
    let mut line = String::from("* SEARCH");
    for (i, m) in msgs.iter().enumerate() {
        if c.eval(&candidate(i as u32 + 1, &flags, m)).unwrap() {
            line.push_str(&format!(" {}", i + 1));
        }
    }
    line.push_str("\r\n");
    line.into_bytes()
}

/// The `* n FETCH` responses of the messages `seqs` as the whole messages answer them.
fn fetch_from_whole(command: &str, msgs: &[Vec<u8>], seqs: &[u32]) -> Vec<u8> {
    let d = parse::command(format!("x {command}\r\n").as_bytes()).unwrap();
    let CommandBody::Fetch {
        macro_or_item_names,
        ..
    } = d.command.body
    else {
        panic!("{command}");
    };
    let plan = Plan::new(&macro_or_item_names, false).unwrap();
    let mut out = Vec::new();
    for &seq in seqs {
        let m = &msgs[seq as usize - 1];
        let msg = Msg {
            uid: seq,
            message_id: 0,
            flags: Flags::default(),
            modseq: 1,
            internal_date: Utc::now(),
            size: m.len() as i64,
            recent: false,
            expunged: false,
        };
        let s = mime::parse(m);
        plan.render(&mut out, seq, &msg, false, Some(&s), Some(m));
    }
    out
}

const SEARCHES: &[&str] = &[
    "SEARCH FROM \"late@example.org\"",
    "SEARCH FROM \"Late Sender\"",
    "SEARCH SUBJECT \"past the first\"",
    "SEARCH HEADER X-Tail \"continuation\"",
    "SEARCH HEADER Received \"relay119\"",
    "SEARCH FROM \"att person\" SUBJECT \"attachment\"",
    "SEARCH FROM \"alice\"",
    "SEARCH SUBJECT \"lf only\"",
    "SEARCH SUBJECT \"no body\"",
    "SEARCH FROM \"nobody\"",
    "SEARCH SUBJECT \"blank-ish\"",
    "SEARCH SUBJECT \"limit\"",
    "SEARCH HEADER X-Pad \"\"",
    "SEARCH HEADER Subject \"\"",
    "SEARCH SENTSINCE 3-Nov-2026",
    "SEARCH SENTON 4-Nov-2026",
    "SEARCH SENTBEFORE 3-Nov-2026",
    "SEARCH NOT FROM \"example.org\"",
    "SEARCH OR SUBJECT \"attachment\" FROM \"edge\"",
    "SEARCH FROM \"zzz-nobody\"",
    // keys that need the whole message, alone and mixed with header keys
    "SEARCH OR SUBJECT \"lf only\" BODY \"body text\"",
    "SEARCH TEXT \"continuation\"",
    "SEARCH BODY \"edge body\" FROM \"edge\"",
];

/// The FETCH commands and the messages they name (none: all).
const FETCHES: &[(&str, &[u32])] = &[
    (
        "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)] RFC822.HEADER)",
        &[],
    ),
    (
        "FETCH 1:* (BODY.PEEK[HEADER] BODY.PEEK[HEADER.FIELDS.NOT (RECEIVED X-PAD)]<10.300>)",
        &[],
    ),
    // the structures are not cached yet (the whole messages are read), then they are
    (
        "FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM X-TAIL)])",
        &[],
    ),
    (
        "FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM X-TAIL)])",
        &[],
    ),
    // header and other sections together: the whole messages
    (
        "FETCH 1:* (BODY.PEEK[HEADER]<0.20> BODY.PEEK[1.MIME] BODY.PEEK[TEXT]<0.40>)",
        &[],
    ),
    ("FETCH 2,4,6:7 (RFC822.HEADER)", &[2, 4, 6, 7]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_searches_and_fetches_answer_as_the_whole_messages_do() {
    let w = world();
    let msgs = messages();
    let mut c = Client::connect(&w);
    assert!(c.line().await.starts_with(b"* OK"));
    c.ok("LOGIN jdoe@acme.com secret").await;
    c.ok("CREATE heads").await;
    for m in &msgs {
        let (_, done) = c.cmd("APPEND heads", Some(m)).await;
        assert!(done.contains(" OK "), "{done}");
    }
    c.ok("SELECT heads").await;
    for s in SEARCHES {
        let got = c.ok(s).await;
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&search_from_whole(s, &msgs)),
            "{s}"
        );
    }
    let all: Vec<u32> = (1..=msgs.len() as u32).collect();
    for (f, seqs) in FETCHES {
        let got = c.ok(f).await;
        let want = fetch_from_whole(f, &msgs, if seqs.is_empty() { &all } else { seqs });
        assert!(got == want, "{f}:\n{}", String::from_utf8_lossy(&got));
    }
    // the example messages do not mark anything \Seen
    let flags = c.ok("FETCH 1:* (FLAGS)").await;
    assert!(!String::from_utf8_lossy(&flags).contains("\\Seen"));
    c.ok("LOGOUT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_loads_read_the_first_bytes_and_fall_back_on_the_whole_message() {
    let w = world();
    let msgs = messages();
    let ids: Vec<i64> = {
        let mut c = w.ctx.db.store().conn().unwrap();
        c.transaction(TxMode::Write, |c| {
            let node = system::local_node_id(c)?.unwrap();
            let mut ids = Vec::new();
            for (i, m) in msgs.iter().enumerate() {
                ids.push(queue::insert_message(
                    c,
                    &queue::NewMessage {
                        guid: &format!("h{i}"),
                        origin_node_id: node,
                        content: m,
                        sha256: "x",
                        rfc822_msgid: None,
                        received_at: Utc::now(),
                        structure: None,
                    },
                )?);
            }
            Ok::<_, crate::store::StoreError>(ids)
        })
        .unwrap()
    };
    // more than one statement's worth of ids, repeated ones, and missing ones first, in the
    // middle and last
    let mut asked: Vec<i64> = vec![-1];
    for round in 0..5 {
        asked.extend(&ids);
        if round == 2 {
            asked.push(-1);
        }
    }
    asked.push(-1);
    let msg_of = |k: usize| -> &Vec<u8> {
        let i = ids.iter().position(|&id| id == asked[k]).unwrap();
        &msgs[i]
    };
    let (heads, by_statement) = {
        let mut c = w.ctx.db.store().conn().unwrap();
        c.transaction(TxMode::Read, |c| {
            Ok::<_, crate::store::StoreError>((
                mailbox::heads(c, &asked)?,
                mailbox::statement_heads(c, &asked)?,
            ))
        })
        .unwrap()
    };
    assert_eq!(heads.len(), asked.len());
    assert_eq!(by_statement.len(), asked.len());
    for (k, (h, s)) in heads.iter().zip(&by_statement).enumerate() {
        if asked[k] == -1 {
            assert!(h.is_none() && s.is_none());
            continue;
        }
        let m = msg_of(k);
        // the statement (Oracle's way): HEAD_BYTES bytes, or the whole message
        let want = &m[..m.len().min(HEAD_BYTES)];
        assert!(
            s.as_deref() == Some(want),
            "{k}: {:?} bytes",
            s.as_ref().map(Vec::len)
        );
        // BLOB reads (the embedded store's way): as much, or less when the header ends before
        let h = h.as_deref().unwrap();
        assert!(want.starts_with(h), "{k}");
        assert!(
            h.len() == want.len() || mime::header_end(h).is_some(),
            "{k}: {} bytes",
            h.len()
        );
    }
    // the header of the message with an attachment is in its first 2 KB: no more was read
    assert!(heads[2].as_ref().unwrap().len() <= 2048);

    let loaded = store::load(&w.ctx.db, asked.clone(), false, Need::Header)
        .await
        .unwrap();
    let whole = store::load(&w.ctx.db, asked.clone(), false, Need::Whole)
        .await
        .unwrap();
    for (k, (l, full)) in loaded.iter().zip(&whole).enumerate() {
        if asked[k] == -1 {
            assert!(l.content.is_none() && full.content.is_none());
            continue;
        }
        let m = msg_of(k);
        assert!(full.content.as_deref() == Some(&m[..]), "{k}");
        let got = l.content.as_deref().unwrap();
        match ids.iter().position(|&id| id == asked[k]).unwrap() {
            // the header goes on past the first bytes: the whole message was read
            0 | 6 => assert!(got == &m[..], "{k}: {} bytes", got.len()),
            // no empty line, shorter than the first bytes: all of it
            3 => assert!(got == &m[..], "{k}: {} bytes", got.len()),
            // the header only, attachments left in the store
            _ => {
                let header = &m[..mime::header_end(m).unwrap()];
                assert!(got == header, "{k}: {} bytes", got.len());
                assert!(got.len() <= HEAD_BYTES);
            }
        }
    }
    assert!(loaded[2].content.as_ref().unwrap().len() < 300);

    // the structure not cached: the whole message is read to compute it
    let with_structure = store::load(&w.ctx.db, vec![ids[1]], true, Need::Header)
        .await
        .unwrap();
    assert!(with_structure[0].content.as_deref() == Some(&msgs[1][..]));
}
