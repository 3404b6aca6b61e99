"""QUOTA (RFC 9208): GETQUOTAROOT reflects the account's usage and limit; an APPEND beyond
the limit fails with [OVERQUOTA], one within it succeeds and counts.
Arguments: port user password limit-bytes used-bytes."""
import sys

from imapcommon import Client, Literal

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
limit, used = int(sys.argv[4]), int(sys.argv[5])


def close_to(kib, nbytes):
    # usage and limits are in units of 1024 octets; allow either rounding
    return nbytes // 1024 <= kib <= (nbytes + 1023) // 1024


def storage(r):
    q = r.all("QUOTA")
    assert q, f"no QUOTA response: {r!r}"
    res = q[0].values[2]
    d = {k.upper(): (int(a), int(b)) for k, a, b in zip(res[0::3], res[1::3], res[2::3])}
    assert "STORAGE" in d, r
    return q[0].values[1], d["STORAGE"]


c = Client(port)
c.login(user, password)
r = c.ok("GETQUOTAROOT", "INBOX")
qr = r.all("QUOTAROOT")
assert qr and len(qr[0].values) >= 3, f"INBOX has no quota root: {r!r}"
root, (u, l) = storage(r)
assert qr[0].values[2] == root, r
print("quota", root, u, l, "expected", used, limit)
assert close_to(l, limit), f"limit {l} KiB, quota is {limit} bytes"
assert close_to(u, used), f"usage {u} KiB, the account uses {used} bytes"
r = c.ok("GETQUOTA", f'"{root.decode() if isinstance(root, bytes) else root}"')
assert storage(r)[1] == (u, l), r

big = b"Subject: big\r\n\r\n" + (b"x" * 76 + b"\r\n") * ((limit - used) // 78 + 40)
r = c.cmd("APPEND", "INBOX", Literal(big))
assert r.status == "NO" and r.code("OVERQUOTA") is not None, f"APPEND over quota: {r!r}"
small = b"Subject: small\r\n\r\n" + b"y" * 300 + b"\r\n"
assert used + len(small) < limit
c.ok("APPEND", "INBOX", Literal(small))
r = c.ok("GETQUOTAROOT", "INBOX")
_, (u2, l2) = storage(r)
assert close_to(u2, used + len(small)) and l2 == l, (u2, l2, used + len(small))
r = c.ok("STATUS", "INBOX", "(MESSAGES)")
c.ok("LOGOUT")
print("ok")
