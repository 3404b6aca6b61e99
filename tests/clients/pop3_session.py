"""POP3 over poplib: STAT, LIST, UIDL, TOP, RETR, DELE with RSET, a dropped connection and
QUIT. Arguments: port user password expected-count dots-subject dots-bytes-hex."""
import poplib
import sys

from popcommon import login, message_bytes

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
count, dots_subject, dots = int(sys.argv[4]), sys.argv[5].encode(), bytes.fromhex(sys.argv[6])


def snapshot(p):
    n, total = p.stat()
    sizes = {}
    for l in p.list()[1]:
        num, size = l.split()
        sizes[int(num)] = int(size)
    uids = {}
    for l in p.uidl()[1]:
        num, uid = l.split()
        uids[int(num)] = uid
    return n, total, sizes, uids


p = login(port, user, password)
n, total, sizes, uids = snapshot(p)
print("session 1:", n, total, sizes, uids)
assert n == count, f"STAT says {n} messages, {count} were delivered"
assert sorted(sizes) == list(range(1, count + 1)), sizes
assert sum(sizes.values()) == total, f"STAT size {total} is not the sum of LIST {sizes}"
assert sorted(uids) == list(range(1, count + 1)), uids
assert len(set(uids.values())) == count, f"UIDL not unique: {uids}"
for u in uids.values():
    assert 1 <= len(u) <= 70 and all(0x21 <= c <= 0x7E for c in u), f"bad unique-id {u!r}"
# LIST n and UIDL n for one message agree with the listings
resp = p._shortcmd("LIST 2")
assert resp.split()[1:] == [b"2", str(sizes[2]).encode()], resp
resp = p._shortcmd("UIDL 2")
assert resp.split()[1:] == [b"2", uids[2]], resp

found = None
for i in range(1, count + 1):
    top = p.top(i, 0)[1]
    assert b"" in top, f"TOP {i} 0 has no blank line after the header: {top}"
    head = top[: top.index(b"")]
    assert any(l.lower().startswith(b"subject:") for l in head), f"TOP {i} 0: {top}"
    assert top[top.index(b"") + 1 :] == [], f"TOP {i} 0 returned body lines: {top}"
    retr = p.retr(i)[1]
    data = message_bytes(retr)
    assert len(data) == sizes[i], f"RETR {i}: {len(data)} octets, LIST said {sizes[i]}"
    if any(l == b"Subject: " + dots_subject for l in head):
        found = (i, data)
    # TOP n 2: the header and the first two body lines
    top2 = p.top(i, 2)[1]
    assert top2 == retr[: len(top2)] and len(top2) <= len(head) + 3, (top2, retr)
assert found, f"no message with subject {dots_subject!r}"
i, data = found
assert data.endswith(dots), f"RETR {i} is not the message sent:\n{data!r}\nsent:\n{dots!r}"
p.quit()

# a second session sees the same unique-ids
p = login(port, user, password)
n2, total2, sizes2, uids2 = snapshot(p)
assert (n2, total2, sizes2, uids2) == (n, total, sizes, uids), ("session 2", n2, sizes2, uids2)
# DELE then RSET keeps the message
p.dele(1)
assert p.stat()[0] == count - 1, "STAT counts a deleted message"
try:
    p.retr(1)
    raise SystemExit("RETR of a deleted message succeeded")
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR"), e
try:
    p.dele(1)
    raise SystemExit("DELE of a deleted message succeeded")
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR"), e
p.rset()
assert p.stat()[0] == count, "RSET did not undelete"
p.quit()

p = login(port, user, password)
assert p.stat()[0] == count, "RSET + QUIT deleted something"
# DELE then a dropped connection (no QUIT): nothing is deleted
p.dele(1)
p.file.close()
p.sock.close()

p = login(port, user, password)
n3, _, _, uids3 = snapshot(p)
assert n3 == count and uids3 == uids, f"a dropped connection deleted something: {n3} {uids3}"
# DELE then QUIT deletes it
p.dele(1)
resp = p.quit()
assert resp.startswith(b"+OK"), resp

p = login(port, user, password)
n4, _, _, uids4 = snapshot(p)
assert n4 == count - 1, f"STAT after DELE 1 + QUIT: {n4}"
assert sorted(uids4.values()) == sorted(uids[k] for k in range(2, count + 1)), (uids, uids4)
p.quit()
print("ok")
