"""CONDSTORE (RFC 7162), ESEARCH (RFC 4731) and SEARCHRES (RFC 5182) with two strict
sessions on an INBOX of at least 6 messages (and none flagged). Prints OK at the end.
Arguments: port user password."""
import sys

from imapcommon import Client, ProtocolError, s


def check(cond, what, r=None):
    if not cond:
        raise ProtocolError(f"{what}\n{r!r}" if r is not None else what)


def fl(v):
    """Flags without \\Recent."""
    return [f for f in v if f != "\\Recent"]


def items(u):
    it = u.values[2]
    return {k.upper(): v for k, v in zip(it[0::2], it[1::2])}


def by_uid(r):
    """The FETCH responses with a UID (those of a UID command), by UID."""
    return {int(items(u)["UID"]): items(u) for u in r.all("FETCH") if "UID" in items(u)}


def esearch(r):
    """The words after (TAG "x") of the one ESEARCH response, and its tag."""
    e = r.all("ESEARCH")
    check(len(e) == 1, "one ESEARCH", r)
    v = e[0].values
    check(isinstance(v[1], list) and v[1][0].upper() == "TAG", "(TAG ...)", r)
    return s(v[1][1]), [x.upper() if x.isalpha() else x for x in v[2:]]


port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
a, b = Client(port), Client(port)
a.login(user, password)
b.login(user, password)

# ---- nothing enabled: no MODSEQ anywhere
r = a.ok("SELECT", "INBOX")
check(r.code("HIGHESTMODSEQ") is None, "HIGHESTMODSEQ without CONDSTORE", r)
n = [u for u in r.untagged if u.name == "EXISTS"][0].number
check(n >= 6, f"{n} messages")
r = a.ok("FETCH", "1:*", "(UID FLAGS)")
uids = [int(v["UID"]) for _, v in sorted(r.fetches().items())]
check(all("MODSEQ" not in v for v in r.fetches().values()), "MODSEQ without CONDSTORE", r)
r = a.ok("STORE", "1", "+FLAGS", "(\\Seen)")
check(all("MODSEQ" not in v for v in r.fetches().values()), "MODSEQ without CONDSTORE", r)
b.ok("SELECT", "INBOX")
b.ok("STORE", "1", "-FLAGS.SILENT", "(\\Seen)")
r = a.ok("NOOP")
check(r.fetches().get(1) and "MODSEQ" not in r.fetches()[1], "an unsolicited FETCH (FLAGS)", r)

# ---- FETCH MODSEQ enables CONDSTORE in the selected state
r = a.ok("FETCH", "1:*", "(MODSEQ)")
highest = r.code("HIGHESTMODSEQ")
check(highest is not None, "* OK [HIGHESTMODSEQ n] when CONDSTORE is enabled", r)
highest = int(highest[0])
modseqs = {uids[seq - 1]: int(v["MODSEQ"][0]) for seq, v in r.fetches().items()}
check(len(modseqs) == n and max(modseqs.values()) <= highest, "MODSEQs", r)
# from now on FLAGS come with the MODSEQ, and another session's changes too
r = b.ok("UID", "STORE", str(uids[1]), "+FLAGS", "($Label1)")
check("MODSEQ" not in r.fetches()[2], "B enabled nothing", r)
r = a.ok("NOOP")
f = r.fetches()[2]
check(fl(f["FLAGS"]) == ["$Label1"] and int(f["MODSEQ"][0]) > modseqs[uids[1]],
      "an unsolicited FETCH with the new MODSEQ", r)
modseqs[uids[1]] = int(f["MODSEQ"][0])
r = a.ok("STATUS", "INBOX", "(HIGHESTMODSEQ MESSAGES)")
st = r.all("STATUS")[0].values[2]
check(int(st[st.index("HIGHESTMODSEQ") + 1]) == modseqs[uids[1]], "STATUS HIGHESTMODSEQ", r)

# ---- STORE (UNCHANGEDSINCE): checked against the store, not against A's snapshot
x, y = uids[2], uids[3]
since = modseqs[uids[1]]  # the latest change: A's snapshot is up to date here
b.ok("UID", "STORE", str(x), "+FLAGS.SILENT", "(\\Answered)")  # A has not heard of it
r = a.ok("UID", "STORE", f"{x},{y}", f"(UNCHANGEDSINCE {since})", "+FLAGS", "(\\Flagged)")
check(r.code("MODIFIED") == [str(x)], f"[MODIFIED {x}]", r)
got = by_uid(r)
check(set(got) == {y}, f"a FETCH for {y} only", r)
check(fl(got[y]["FLAGS"]) == ["\\Flagged"] and int(got[y]["MODSEQ"][0]) > since, "the new MODSEQ", r)
modseqs[y] = int(got[y]["MODSEQ"][0])
r = b.ok("UID", "FETCH", f"{x},{y}", "(FLAGS)")
flags = {int(v["UID"]): fl(v["FLAGS"]) for v in r.fetches().values()}
check(flags[x] == ["\\Answered"] and flags[y] == ["\\Flagged"], "what the store holds", r)
# .SILENT still tells the MODSEQ; UNCHANGEDSINCE 0 always fails; sequence numbers
r = a.ok("UID", "STORE", str(y), f"(UNCHANGEDSINCE {modseqs[y]})", "-FLAGS.SILENT", "(\\Flagged)")
got = by_uid(r)
check(set(got) == {y} and set(got[y]) == {"UID", "MODSEQ"}, "FETCH (UID MODSEQ) after .SILENT", r)
check(r.code("MODIFIED") is None, "no conflict", r)
modseqs[y] = int(got[y]["MODSEQ"][0])
r = a.ok("STORE", "3:4", "(UNCHANGEDSINCE 0)", "+FLAGS", "(\\Deleted)")
check(r.code("MODIFIED") == ["3:4"] and not r.all("FETCH"), "[MODIFIED 3:4]", r)

# ---- CHANGEDSINCE and SEARCH MODSEQ
r = a.ok("FETCH", "1:*", "(FLAGS)", f"(CHANGEDSINCE {since})")
seen = {uids[seq - 1] for seq in r.fetches()}
check(seen == {x, y}, f"changed since {since}: {sorted(seen)}", r)
check(all("MODSEQ" in v for v in r.fetches().values()), "CHANGEDSINCE adds MODSEQ", r)
r = a.ok("UID", "SEARCH", "MODSEQ", str(since + 1))
sr = r.all("SEARCH")[0].values
check(sorted(int(v) for v in sr[1:-1]) == sorted([x, y]), "SEARCH MODSEQ", r)
check(sr[-1] == ["MODSEQ", str(modseqs[y])], "(MODSEQ n) of the highest", r)
r = a.ok("SEARCH", "MODSEQ", str(10**12))
check(r.all("SEARCH")[0].values == ["SEARCH"], "nothing above", r)
r = a.cmd("FETCH", "1", "(FLAGS)", "(CHANGEDSINCE 1 VANISHED)")
check(r.status == "BAD", "VANISHED is for UID FETCH after ENABLE QRESYNC", r)

# ---- ESEARCH
r = a.ok("SEARCH", "RETURN", "(MIN MAX COUNT ALL)", "ALL")
tag, words = esearch(r)
check(tag == r.tag and words == ["MIN", "1", "MAX", str(n), "COUNT", str(n), "ALL", f"1:{n}"],
      "ESEARCH MIN MAX COUNT ALL", r)
check(not r.all("SEARCH"), "no SEARCH with RETURN", r)
r = a.ok("UID", "SEARCH", "RETURN", "()", "UID", f"{x},{y}")
_, words = esearch(r)
check(words == ["UID", "ALL", f"{x},{y}" if y != x + 1 else f"{x}:{y}"], "UID ESEARCH ALL", r)
r = a.ok("SEARCH", "RETURN", "(MIN COUNT)", "KEYWORD", "NoSuchKeyword")
_, words = esearch(r)
check(words == ["COUNT", "0"], "no MIN when nothing matches", r)
r = a.cmd("SEARCH", "RETURN", "(PARTIAL 1:10)", "ALL")
check(r.status == "BAD", "an unknown RETURN option", r)

# ---- SEARCHRES
r = a.ok("UID", "SEARCH", "RETURN", "(SAVE)", "KEYWORD", "$Label1")
check(not r.all("ESEARCH") and not r.all("SEARCH"), "SAVE alone says nothing", r)
r = a.ok("FETCH", "$", "(UID)")
check([int(v["UID"]) for v in r.fetches().values()] == [uids[1]], "FETCH $", r)
r = a.ok("UID", "STORE", "$", "+FLAGS", "(\\Flagged)")
check(list(by_uid(r)) == [uids[1]], "UID STORE $", r)
r = a.ok("SEARCH", "RETURN", "(SAVE MIN)", "OR", "UID", f"{uids[1]}", "UID", f"{uids[4]}")
check(esearch(r)[1] == ["MIN", "2"], "SAVE MIN", r)
r = a.ok("UID", "SEARCH", "$")
check([int(v) for v in r.all("SEARCH")[0].values[1:]] == [uids[1]], "MIN only was saved", r)
a.ok("UID", "SEARCH", "RETURN", "(SAVE)", "UID", f"{uids[1]},{uids[4]}")
r = a.ok("UID", "SEARCH", "UID", "$", "NOT", "FLAGGED")
check([int(v) for v in r.all("SEARCH")[0].values[1:]] == [uids[4]], "UID $ in SEARCH", r)
# the saved result follows expunges
b.ok("UID", "STORE", str(uids[1]), "+FLAGS.SILENT", "(\\Deleted)")
b.ok("UID", "EXPUNGE", str(uids[1]))
r = a.ok("NOOP")
check(len(r.all("EXPUNGE")) == 1, "the EXPUNGE", r)
r = a.ok("UID", "FETCH", "$", "(FLAGS)")
check(list(by_uid(r)) == [uids[4]], "$ without the expunged message", r)
r = a.ok("FETCH", "$", "(UID)")
check(list(r.fetches()) == [4], "$ as the new sequence number", r)
# a failed SEARCH with SAVE empties it
r = a.cmd("SEARCH", "RETURN", "(SAVE)", "CHARSET", "KOI8-R", "ALL")
check(r.status == "NO", "BADCHARSET", r)
r = a.ok("FETCH", "$", "(FLAGS)")
check(not r.all("FETCH"), "an empty $", r)
r = a.ok("SEARCH", "$")
check(r.all("SEARCH")[0].values == ["SEARCH"], "SEARCH $ empty", r)

# ---- ENABLE QRESYNC: VANISHED instead of EXPUNGE, [CLOSED], HIGHESTMODSEQ on EXPUNGE
c = Client(port)
c.login(user, password)
r = c.ok("ENABLE", "CONDSTORE", "QRESYNC", "X-UNKNOWN")
check(r.all("ENABLED")[0].values[1:] == ["CONDSTORE", "QRESYNC"], "ENABLED", r)
r = c.ok("EXAMINE", "INBOX")
check(r.code("HIGHESTMODSEQ") is not None and r.code("CLOSED") is None, "EXAMINE", r)
r = c.ok("SELECT", "INBOX")
check(r.code("CLOSED") is not None, "[CLOSED] when a SELECT replaces the mailbox", r)
check(r.untagged[0].name == "OK" and "[CLOSED]" in r.untagged[0].text, "[CLOSED] first", r)
r = c.ok("UID", "STORE", str(uids[4]), "+FLAGS", "(\\Deleted)")
f = list(r.fetches().values())[0]
check(int(f["UID"]) == uids[4] and "MODSEQ" in f, "UID and MODSEQ", r)
r = c.ok("EXPUNGE")
check(not r.all("EXPUNGE") and s(r.all("VANISHED")[0].values[1]) == str(uids[4]), "VANISHED", r)
check(r.code("HIGHESTMODSEQ") is not None, "OK [HIGHESTMODSEQ n] after EXPUNGE", r)
r = a.ok("NOOP")
check(len(r.all("EXPUNGE")) == 1 and not r.all("VANISHED"), "A still hears EXPUNGE", r)
r = c.ok("FETCH", "1", "(FLAGS)")
check("UID" in list(r.fetches().values())[0], "UID in every FETCH after QRESYNC", r)

for cl in (a, b, c):
    cl.ok("LOGOUT")
print("OK")
