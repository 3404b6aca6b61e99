"""A client that goes offline and comes back with QRESYNC (RFC 7162), in steps the test runs
one after the other (mail arrives by SMTP between them). Every step prints one JSON line.

    imap_sync.py record PORT USER PASSWORD
        Session A: ENABLE QRESYNC, SELECT INBOX; prints what a client keeps: UIDVALIDITY,
        HIGHESTMODSEQ, and the UIDs with their flags and MODSEQs.
    imap_sync.py change PORT USER PASSWORD
        Session B, a plain client (nothing enabled, its responses must not change): flags
        some messages, expunges two, moves one to Trash; prints what it did.
    imap_sync.py resync PORT USER PASSWORD RECORD CHANGE NEW
        Session A again, with the RECORD of `record`: SELECT INBOX (QRESYNC (v m uids)) must
        report exactly the UIDs CHANGE removed as VANISHED (EARLIER) and exactly the changed
        and the NEW (count) new messages as FETCH (UID FLAGS MODSEQ); then UID FETCH
        (CHANGEDSINCE m VANISHED) must say the same.
"""
import json
import sys

from imapcommon import Client, ProtocolError, s


def uid_set(text):
    out = set()
    for part in text.split(","):
        a, _, b = part.partition(":")
        lo, hi = int(a), int(b or a)
        out.update(range(min(lo, hi), max(lo, hi) + 1))
    return out


def set_text(nums):
    nums = sorted(nums)
    parts, i = [], 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(str(nums[i]) if i == j else f"{nums[i]}:{nums[j]}")
        i = j + 1
    return ",".join(parts)


def check(cond, what, r=None):
    if not cond:
        raise ProtocolError(f"{what}\n{r!r}" if r is not None else what)


def code_value(r, name):
    v = r.code(name)
    check(v is not None and len(v) == 1, f"no [{name} n]", r)
    return int(v[0])


def fetch_items(u):
    items = u.values[2]
    return {k.upper(): v for k, v in zip(items[0::2], items[1::2])}


def login(port, user, password):
    c = Client(port)
    c.login(user, password)
    return c


def record(port, user, password):
    c = login(port, user, password)
    caps = c.ok("CAPABILITY").all("CAPABILITY")[0].values
    for cap in ("CONDSTORE", "QRESYNC", "ESEARCH", "SEARCHRES"):
        check(cap in caps, f"{cap} is not advertised: {caps}")
    r = c.ok("ENABLE", "QRESYNC")
    check(r.all("ENABLED")[0].values[1:] == ["QRESYNC"], "ENABLED QRESYNC", r)
    # one message goes before the client's snapshot: its tombstone is older than the MODSEQ
    r = c.ok("SELECT", "INBOX")
    first = int(c.ok("FETCH", "1", "(UID)").fetches()[1]["UID"])
    c.ok("UID", "STORE", str(first), "+FLAGS.SILENT", "(\\Deleted)")
    r = c.ok("UID", "EXPUNGE", str(first))
    check(r.all("VANISHED") and s(r.all("VANISHED")[0].values[1]) == str(first),
          "EXPUNGE after ENABLE QRESYNC says VANISHED", r)
    check(not r.all("EXPUNGE"), "no EXPUNGE after ENABLE QRESYNC", r)
    after_expunge = code_value(r, "HIGHESTMODSEQ")
    r = c.ok("SELECT", "INBOX")
    uidvalidity = code_value(r, "UIDVALIDITY")
    modseq = code_value(r, "HIGHESTMODSEQ")
    check(modseq >= after_expunge, "HIGHESTMODSEQ went down", r)
    r = c.ok("FETCH", "1:*", "(UID FLAGS MODSEQ)")
    msgs = {}
    for u in r.all("FETCH"):
        it = fetch_items(u)
        ms = int(it["MODSEQ"][0])
        check(0 < ms <= modseq, "a MODSEQ above HIGHESTMODSEQ", r)
        msgs[int(it["UID"])] = {"flags": sorted(it["FLAGS"]), "modseq": ms}
    check(first not in msgs, "the expunged message is still there", r)
    c.ok("LOGOUT")
    print(json.dumps({"uidvalidity": uidvalidity, "modseq": modseq, "msgs": msgs,
                      "before": first}))


def change(port, user, password):
    c = login(port, user, password)
    r = c.ok("SELECT", "INBOX")
    check(r.code("HIGHESTMODSEQ") is None, "HIGHESTMODSEQ for a client that enabled nothing", r)
    uids = [int(v["UID"]) for _, v in sorted(c.ok("FETCH", "1:*", "(UID)").fetches().items())]
    check(len(uids) >= 6, f"{len(uids)} messages")
    flagged, seen, gone, moved = uids[0], uids[2], [uids[1], uids[3]], uids[4]
    r = c.ok("UID", "STORE", str(flagged), "+FLAGS", "(\\Flagged $Important)")
    check(all("MODSEQ" not in v for v in r.fetches().values()), "MODSEQ without CONDSTORE", r)
    c.ok("UID", "STORE", str(seen), "+FLAGS.SILENT", "(\\Seen)")
    c.ok("UID", "STORE", set_text(gone), "+FLAGS.SILENT", "(\\Deleted)")
    r = c.ok("EXPUNGE")
    check(len(r.all("EXPUNGE")) == 2 and not r.all("VANISHED"), "plain EXPUNGE responses", r)
    check(r.code("HIGHESTMODSEQ") is None, "HIGHESTMODSEQ for a client that enabled nothing", r)
    c.ok("UID", "MOVE", str(moved), "Trash")
    # a change made and undone is a change too (its MODSEQ moved)
    c.ok("UID", "STORE", str(uids[5]), "+FLAGS.SILENT", "(\\Answered)")
    c.ok("UID", "STORE", str(uids[5]), "-FLAGS.SILENT", "(\\Answered)")
    c.ok("LOGOUT")
    print(json.dumps({
        "changed": {str(flagged): ["$Important", "\\Flagged"], str(seen): ["\\Seen"],
                    str(uids[5]): []},
        "vanished": sorted(gone + [moved]),
    }))


def resync(port, user, password, rec, chg, new):
    rec, chg, new = json.loads(rec), json.loads(chg), int(new)
    known = {int(k): v for k, v in rec["msgs"].items()}
    m = rec["modseq"]
    c = login(port, user, password)
    r = c.cmd("SELECT", "INBOX", f"(QRESYNC ({rec['uidvalidity']} {m} {set_text(known)}))")
    check(r.status == "BAD", "QRESYNC before ENABLE QRESYNC must be refused", r)
    c.ok("ENABLE", "QRESYNC")
    r = c.ok("SELECT", "INBOX", f"(QRESYNC ({rec['uidvalidity']} {m} {set_text(known)}))")
    highest = code_value(r, "HIGHESTMODSEQ")
    check(highest > m, "HIGHESTMODSEQ did not move", r)
    van = r.all("VANISHED")
    check(len(van) == 1 and van[0].values[1] == ["EARLIER"], "one VANISHED (EARLIER)", r)
    vanished = uid_set(s(van[0].values[2]))
    check(vanished == set(chg["vanished"]),
          f"VANISHED (EARLIER) {sorted(vanished)}, expected {chg['vanished']}", r)
    fetched = {}
    for u in r.all("FETCH"):
        it = fetch_items(u)
        check(set(it) == {"UID", "FLAGS", "MODSEQ"}, "FETCH (UID FLAGS MODSEQ)", r)
        ms = int(it["MODSEQ"][0])
        check(m < ms <= highest, f"MODSEQ {ms} not in ({m}, {highest}]", r)
        fetched[int(it["UID"])] = (sorted(x for x in it["FLAGS"] if x != "\\Recent"), ms)
    changed = {int(k): sorted(v) for k, v in chg["changed"].items()}
    new_uids = sorted(u for u in fetched if u > max(known))
    check(len(new_uids) == new, f"new messages {new_uids}, expected {new}", r)
    check(set(fetched) == set(changed) | set(new_uids),
          f"FETCH for {sorted(fetched)}, expected {sorted(changed)} + {new_uids}", r)
    for u, flags in changed.items():
        check(fetched[u][0] == flags, f"UID {u}: flags {fetched[u][0]}, expected {flags}", r)
    exists = [u for u in r.untagged if u.name == "EXISTS"]
    check(exists and exists[0].number == len(known) - len(vanished) + new, "EXISTS", r)
    # the same from UID FETCH (CHANGEDSINCE m VANISHED) of the UIDs A knew
    r = c.ok("UID", "FETCH", set_text(known), "(FLAGS)", f"(CHANGEDSINCE {m} VANISHED)")
    van = r.all("VANISHED")
    check(len(van) == 1 and uid_set(s(van[0].values[2])) == vanished, "VANISHED again", r)
    again = {int(v["UID"]): int(v["MODSEQ"][0]) for v in r.fetches().values()}
    check(again == {u: fetched[u][1] for u in changed}, "CHANGEDSINCE again", r)
    # nothing changed since the new HIGHESTMODSEQ
    r = c.ok("UID", "FETCH", "1:*", "(FLAGS)", f"(CHANGEDSINCE {highest} VANISHED)")
    check(not r.untagged, "changes after the HIGHESTMODSEQ", r)
    c.ok("LOGOUT")
    print(json.dumps({"vanished": sorted(vanished), "fetched": sorted(fetched),
                      "highest": highest}))


if __name__ == "__main__":
    step, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    {"record": record, "change": change, "resync": resync}[step](
        port, user, password, *sys.argv[5:])
