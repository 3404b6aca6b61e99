"""Two users: asmith cannot reach jdoe's folders by any name trick, and sees only her own.
Arguments: port jdoe-address asmith-address password jdoe-folder-ids(comma-separated)."""
import sys

from imapcommon import Client, Literal, list_names, quote, s

port, jdoe, asmith, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ids = [x for x in sys.argv[5].split(",") if x]
jdoe_local = jdoe.split("@")[0]
OWN = {"INBOX", "Sent", "Drafts", "Trash", "Junk"}

# jdoe makes a private folder with a secret in it
j = Client(port)
j.login(jdoe, password)
j.ok("CREATE", "Private")
j.ok("APPEND", "Private", Literal(b"Subject: SECRET-PRIVATE\r\n\r\nsecret\r\n"))
jdoe_before = list_names(j.ok("LIST", '""', '"*"'))
assert "Private" in jdoe_before, jdoe_before

a = Client(port)
a.login(asmith, password)
mine = list_names(a.ok("LIST", '""', '"*"'))
assert set(mine) == OWN, f"asmith's LIST: {mine}"
for ref, pat in (('""', '"%"'), ('""', '"*/*"'), ('"../"', '"*"'), ('""', '"../*"'),
                 ('""', f'"~{jdoe_local}*"'), ('""', '"#*"'), ('""', '"user/*"'),
                 ('""', '"Other Users/*"'), ('"~"', '"*"'), ('"/"', '"*"'),
                 ('""', f'"{jdoe_local}*"'), ('""', f'"*{jdoe_local}*"'), ('""', '"*Private*"')):
    r = a.cmd("LIST", ref, pat)
    names = list_names(r) if r.ok else {}
    assert set(names) <= OWN | {""}, f"LIST {ref} {pat} as asmith: {names}"
r = a.cmd("LSUB", '""', '"*"')
if r.ok:
    assert {s(u.values[3]) for u in r.all("LSUB")} <= OWN, f"asmith's LSUB: {r!r}"
r = a.ok("NAMESPACE")

tricks = []
for folder in ("INBOX", "Private", "Sent"):
    for fmt in ("../{u}/{f}", "../{a}/{f}", "~{u}/{f}", "~{a}/{f}", "user/{u}/{f}",
                "user.{u}.{f}", "user/{a}/{f}", "Other Users/{u}/{f}", "Shared/{u}/{f}",
                "#user/{u}/{f}", "{u}/{f}", "{a}/{f}", "/{u}/{f}", "INBOX/../../{u}/{f}",
                "./../{u}/{f}", "%2e%2e/{u}/{f}", "..\\{u}\\{f}", "{a}:{f}"):
        tricks.append(fmt.format(u=jdoe_local, a=jdoe, f=folder))
tricks += ["Private", "../Private", "INBOX/../Private", "/Private", "~/Private", "*", "%", "Private*"]
for i in ids:
    tricks += [i, "#" + i, "~" + i, "../" + i, "#id/" + i, "/" + i]

leaks = []
for name in tricks:
    q = quote(name)
    for cmd in (("SELECT", q), ("EXAMINE", q), ("STATUS", q, "(MESSAGES)"), ("DELETE", q),
                ("RENAME", q, '"Stolen"'), ("SUBSCRIBE", q)):
        r = a.cmd(*cmd)
        if r.ok and cmd[0] != "SUBSCRIBE":
            leaks.append(f"{' '.join(cmd)} -> {r!r}")
    r = a.cmd("APPEND", q, Literal(b"Subject: planted\r\n\r\nplanted by asmith\r\n"))
    if r.ok:
        leaks.append(f"APPEND {q} -> {r!r}")
    a.ok("SELECT", "INBOX")
    for cmd in (("COPY", "1", q), ("MOVE", "1", q)):
        r = a.cmd(*cmd)
        if r.ok:
            leaks.append(f"{' '.join(cmd)} -> {r!r}")
assert not leaks, "asmith reached another account:\n" + "\n".join(leaks)

# asmith's own mail holds nothing of jdoe's
r = a.ok("SELECT", "INBOX")
n = [u.number for u in r.all("EXISTS")][-1]
assert n == 1, f"asmith's INBOX holds {n} messages: {r!r}"
r = a.ok("UID", "FETCH", "1:*", "(BODY.PEEK[])")
for d in r.fetches().values():
    assert b"SECRET" not in d["BODY[]"], d
assert a.ok("SEARCH", "TEXT", "SECRET").numbers("SEARCH") == [], "SEARCH found jdoe's mail"
for f in sorted(OWN):
    r = a.ok("STATUS", f, "(MESSAGES)")
mine_after = list_names(a.ok("LIST", '""', '"*"'))
assert set(mine_after) == OWN, f"asmith's folders changed: {mine_after}"
a.ok("LOGOUT")

# jdoe's folders are intact
jdoe_after = list_names(j.ok("LIST", '""', '"*"'))
assert set(jdoe_after) == set(jdoe_before), (jdoe_before, jdoe_after)
r = j.ok("SELECT", "Private")
assert [u.number for u in r.all("EXISTS")] == [1], r
r = j.ok("SELECT", "INBOX")
assert [u.number for u in r.all("EXISTS")] == [2], r
r = j.ok("FETCH", "1:*", "(BODY.PEEK[])")
assert all(b"planted" not in d["BODY[]"] for d in r.fetches().values()), r
j.ok("LOGOUT")
print("ok")
