"""IMAP on INBOX and folders: capabilities, LIST with special-use, SELECT, FETCH, STORE,
SEARCH, COPY, UID MOVE, EXPUNGE, APPEND, RENAME, DELETE, STATUS.
Arguments: port address bare-name password json{subject: hex of the message sent}."""
import imaplib
import json
import sys

from imapcommon import Client, Literal, list_names, s, status_items

port, address, bare, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
sent = {k: bytes.fromhex(v) for k, v in json.loads(sys.argv[5]).items()}
assert sorted(sent) == ["alpha", "beta", "gamma"]

# imaplib: the address and the bare name log in
for name in (address, bare):
    M = imaplib.IMAP4("127.0.0.1", port, timeout=60)
    typ, _ = M.login(name, password)
    assert typ == "OK", (name, typ)
    typ, data = M.select("INBOX")
    assert typ == "OK" and data == [b"3"], (name, typ, data)
    M.logout()

c = Client(port)
assert c.greeting[0].startswith(b"* OK"), c.greeting
r = c.ok("CAPABILITY")
pre = [x.upper() for x in r.all("CAPABILITY")[0].values[1:]]
assert "IMAP4REV1" in pre and "STARTTLS" in pre, pre
assert "LOGINDISABLED" not in pre, f"loopback clients may log in without TLS: {pre}"
r = c.cmd("LOGIN", f'"{address}"', '"not-the-password"')
assert r.status == "NO", f"a wrong password: {r!r}"
c.login(address, password)
r = c.ok("CAPABILITY")
caps = [x.upper() for x in r.all("CAPABILITY")[0].values[1:]]
for want in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "SPECIAL-USE", "QUOTA"):
    assert want in caps, f"CAPABILITY lacks {want}: {caps}"
r = c.ok("NAMESPACE")
assert r.all("NAMESPACE"), r

# LIST: the five folders of a new account with their special uses
r = c.ok("LIST", '""', '"*"')
names = list_names(r)
print("LIST", names)
for f in ("INBOX", "Sent", "Drafts", "Trash", "Junk"):
    assert f in names, f"LIST lacks {f}: {names}"
for f, use in (("Sent", "\\sent"), ("Drafts", "\\drafts"), ("Trash", "\\trash"), ("Junk", "\\junk")):
    assert use in names[f], f"{f} is not marked {use}: {names}"
if "LIST-EXTENDED" in caps:
    r = c.ok("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
    assert "\\sent" in list_names(r)["Sent"], r
r = c.ok("LIST", '""', '""')
assert r.all("LIST"), f'LIST "" "" gives the delimiter: {r!r}'

# SELECT
r = c.ok("SELECT", "INBOX")
exists = [u.number for u in r.all("EXISTS")]
assert exists == [3], f"SELECT INBOX: {r!r}"
assert r.code("UIDVALIDITY"), r
assert r.all("FLAGS"), r
assert r.code("READ-WRITE") is not None, r
r = c.ok("SEARCH", "UNSEEN")
assert r.numbers("SEARCH") == [1, 2, 3], f"new mail is unseen: {r!r}"

# FETCH everything
r = c.ok(
    "FETCH",
    "1:*",
    "(FLAGS UID RFC822.SIZE BODYSTRUCTURE ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY[])",
)
f = r.fetches()
assert sorted(f) == [1, 2, 3], r
seq, uid = {}, {}
for n, d in f.items():
    head = d["BODY[HEADER.FIELDS (SUBJECT)]"]
    assert head.startswith(b"Subject: ") and head.endswith(b"\r\n\r\n"), head
    subject = head[len(b"Subject: ") : -4].decode()
    seq[subject], uid[subject] = n, int(d["UID"])
    body = d["BODY[]"]
    assert body.endswith(sent[subject]), f"BODY[] of {subject}: {body!r}"
    assert int(d["RFC822.SIZE"]) == len(body), (subject, d["RFC822.SIZE"], len(body))
    env = d["ENVELOPE"]
    assert env[1] == subject.encode(), env
    frm = env[2][0]
    assert (frm[2], frm[3]) == (b"someone", b"example.org"), env
    to = env[5][0]
    assert (to[2], to[3]) == (b"jdoe", b"acme.com"), env
    bs = d["BODYSTRUCTURE"]
    assert s(bs[0]).upper() == "TEXT" and s(bs[1]).upper() == "PLAIN", bs
assert sorted(seq) == ["alpha", "beta", "gamma"], seq
assert len(set(uid.values())) == 3, uid
r = c.ok("FETCH", "1:*", "(FLAGS)")
for n, d in r.fetches().items():
    assert "\\Seen" in d["FLAGS"], f"BODY[] did not set \\Seen on {n}: {r!r}"
r = c.ok("SEARCH", "UNSEEN")
assert r.numbers("SEARCH") == [], r

# STORE
r = c.ok("STORE", str(seq["beta"]), "-FLAGS", "(\\Seen)")
r = c.ok("SEARCH", "UNSEEN")
assert r.numbers("SEARCH") == [seq["beta"]], r
r = c.ok("STORE", str(seq["alpha"]), "+FLAGS", "(\\Seen \\Flagged)")
got = r.fetches()[seq["alpha"]]["FLAGS"]
assert "\\Seen" in got and "\\Flagged" in got, r
r = c.ok("FETCH", str(seq["alpha"]), "(FLAGS)")
assert "\\Flagged" in r.fetches()[seq["alpha"]]["FLAGS"], r
r = c.ok("STORE", str(seq["gamma"]), "+FLAGS.SILENT", "(custom1)")
assert not r.all("FETCH"), f".SILENT: {r!r}"
r = c.ok("FETCH", str(seq["gamma"]), "(FLAGS)")
assert "custom1" in [x.lower() for x in r.fetches()[seq["gamma"]]["FLAGS"]], r
r = c.ok("SEARCH", "FLAGGED")
assert r.numbers("SEARCH") == [seq["alpha"]], r

# SEARCH
def search(*crit):
    return sorted(c.ok("SEARCH", *crit).numbers("SEARCH"))

assert search("ALL") == [1, 2, 3]
assert search("FROM", '"someone@example.org"') == [1, 2, 3]
assert search("FROM", '"nobody-here"') == []
assert search("SUBJECT", "beta") == [seq["beta"]]
assert search("BODY", '"findme-beta"') == [seq["beta"]]
assert search("TEXT", '"findme-beta"') == [seq["beta"]]
assert search("LARGER", "4000") == [seq["beta"]]
assert search("SMALLER", "4000") == sorted([seq["alpha"], seq["gamma"]])
assert search("NOT", "SEEN") == [seq["beta"]]
assert search("OR", "SUBJECT", "alpha", "SUBJECT", "gamma") == sorted([seq["alpha"], seq["gamma"]])
assert search("KEYWORD", "custom1") == [seq["gamma"]]
r = c.ok("UID", "SEARCH", "SUBJECT", "gamma")
assert r.numbers("SEARCH") == [uid["gamma"]], r

# COPY to a new folder
c.ok("CREATE", "Archive")
r = c.ok("COPY", f"{seq['alpha']},{seq['beta']}", "Archive")
cu = r.code("COPYUID")
assert cu and len(cu) == 3, f"COPY without COPYUID: {r!r}"
st = status_items(c.ok("STATUS", "Archive", "(MESSAGES UIDNEXT UNSEEN)"))
assert st["MESSAGES"] == 2 and st["UNSEEN"] == 1, st

# UID MOVE to Trash
r = c.ok("UID", "MOVE", str(uid["gamma"]), "Trash")
cu = r.code("COPYUID")
assert cu and cu[1] == str(uid["gamma"]), f"UID MOVE without COPYUID: {r!r}"
assert [u.number for u in r.all("EXPUNGE")] == [seq["gamma"]] or r.all("VANISHED"), r
st = status_items(c.ok("STATUS", "Trash", "(MESSAGES)"))
assert st["MESSAGES"] == 1, st
r = c.ok("FETCH", "1:*", "(UID)")
assert sorted(int(d["UID"]) for d in r.fetches().values()) == sorted([uid["alpha"], uid["beta"]]), r

# STORE \Deleted + EXPUNGE
r = c.ok("UID", "FETCH", str(uid["alpha"]), "(UID)")
(n_alpha,) = r.fetches().keys()
c.ok("STORE", str(n_alpha), "+FLAGS", "(\\Deleted)")
r = c.ok("EXPUNGE")
assert [u.number for u in r.all("EXPUNGE")] == [n_alpha], r
r = c.ok("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
left = [(int(d["UID"]), d["BODY[HEADER.FIELDS (SUBJECT)]"]) for d in r.fetches().values()]
assert left == [(uid["beta"], b"Subject: beta\r\n\r\n")], left

# APPEND to Drafts, then FETCH it back byte for byte
draft = (b"From: John Doe <jdoe@acme.com>\r\nTo: someone@example.org\r\nSubject: draft one\r\n"
         b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: 8bit\r\n\r\n"
         b"Draft body\r\n.leading dot\r\n\xc3\xa9t\xc3\xa9\r\n\r\n  trailing spaces  \r\n")
r = c.ok("APPEND", "Drafts", "(\\Draft \\Seen)", '"01-Jan-2024 10:00:00 +0000"', Literal(draft))
au = r.code("APPENDUID")
assert au and len(au) == 2, f"APPEND without APPENDUID: {r!r}"
draft_uid = int(au[1])
r = c.ok("SELECT", "Drafts")
assert [u.number for u in r.all("EXISTS")] == [1], r
assert r.code("UIDVALIDITY") == [au[0]], (r.code("UIDVALIDITY"), au)
r = c.ok("UID", "FETCH", str(draft_uid), "(BODY.PEEK[] FLAGS INTERNALDATE RFC822.SIZE)")
(d,) = r.fetches().values()
assert d["BODY[]"] == draft, f"APPENDed {draft!r}, fetched {d['BODY[]']!r}"
assert int(d["RFC822.SIZE"]) == len(draft), d
assert "\\Draft" in d["FLAGS"] and "\\Seen" in d["FLAGS"], d
# date-day-fixed: " 1" or "01"
assert d["INTERNALDATE"] in (b" 1-Jan-2024 10:00:00 +0000", b"01-Jan-2024 10:00:00 +0000"), d["INTERNALDATE"]
r = c.ok("APPEND", "Drafts", Literal(b"Subject: two\r\n\r\nsecond\r\n"))
assert int(r.code("APPENDUID")[1]) > draft_uid, r
r = c.cmd("APPEND", "NoSuchFolder", Literal(b"Subject: x\r\n\r\nx\r\n"))
assert r.status == "NO" and r.code("TRYCREATE") is not None, f"APPEND to a missing folder: {r!r}"

# RENAME and DELETE
c.ok("RENAME", "Archive", "Archive2")
names = list_names(c.ok("LIST", '""', '"*"'))
assert "Archive2" in names and "Archive" not in names, names
st = status_items(c.ok("STATUS", "Archive2", "(MESSAGES)"))
assert st["MESSAGES"] == 2, st
c.ok("DELETE", "Archive2")
names = list_names(c.ok("LIST", '""', '"*"'))
assert "Archive2" not in names, names
r = c.cmd("SELECT", "Archive2")
assert r.status == "NO", r
r = c.cmd("DELETE", "INBOX")
assert r.status == "NO", f"DELETE INBOX: {r!r}"

# STATUS
st = status_items(c.ok("STATUS", "INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)"))
assert st["MESSAGES"] == 1 and st["UNSEEN"] == 1, st
assert st["UIDNEXT"] > uid["gamma"], st
st = status_items(c.ok("STATUS", "Drafts", "(MESSAGES)"))
assert st["MESSAGES"] == 2, st
r = c.ok("LOGOUT")
assert r.all("BYE"), r
print("ok")
