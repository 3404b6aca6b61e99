"""POP3 logins and errors: a wrong password, a bare name, CAPA, AUTH PLAIN (both forms),
malformed commands and an over-long line, each answered with -ERR while the session goes on.
Arguments: port address bare-name password expected-count."""
import base64
import poplib
import sys

from popcommon import Raw, login, raw_login

port, address, bare, password, count = (
    int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))

# CAPA before login
p = poplib.POP3("127.0.0.1", port, timeout=60)
caps = p.capa()
print("CAPA", caps)
for c in ("UIDL", "TOP", "SASL", "STLS", "USER"):
    assert c in caps, f"CAPA lacks {c}: {caps}"
assert "PLAIN" in [m.upper() for m in caps["SASL"]], f"SASL without PLAIN: {caps}"
# a wrong password
p.user(address)
try:
    p.pass_("wrong-" + password)
    raise SystemExit("a wrong password was accepted")
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR"), e
try:
    p.close()
except Exception:
    pass
# an unknown user
p = poplib.POP3("127.0.0.1", port, timeout=60)
try:
    p.user("nobody@acme.com")
    p.pass_(password)
    raise SystemExit("an unknown user was accepted")
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR"), e
try:
    p.close()
except Exception:
    pass
# right after, from the same address, the right password works (even if slowed down)
p = login(port, address, password)
assert p.stat()[0] == count
p.quit()
# the bare name
p = login(port, bare, password)
assert p.stat()[0] == count, "bare name login"
p.quit()

# AUTH PLAIN with an initial response
r = Raw(port)
assert r.line().startswith("+OK"), "greeting"
cred = base64.b64encode(b"\0" + address.encode() + b"\0" + password.encode()).decode()
resp = r.cmd("AUTH PLAIN " + cred)
assert resp.startswith("+OK"), f"AUTH PLAIN: {resp}"
resp = r.cmd("STAT")
assert resp.startswith(f"+OK {count} "), resp
assert r.cmd("QUIT").startswith("+OK")
r.close()

# AUTH PLAIN with the credentials after a continuation; a wrong one first
r = Raw(port)
r.line()
bad = base64.b64encode(b"\0" + address.encode() + b"\0nope").decode()
resp = r.cmd("AUTH PLAIN " + bad)
assert resp.startswith("-ERR"), f"AUTH PLAIN with a wrong password: {resp}"
resp = r.cmd("AUTH PLAIN")
assert resp.startswith("+"), f"AUTH PLAIN without a response: {resp}"
resp = r.cmd(cred)
assert resp.startswith("+OK"), f"AUTH PLAIN continued: {resp}"
assert r.cmd("STAT").startswith(f"+OK {count} ")
assert r.cmd("QUIT").startswith("+OK")
r.close()

# malformed commands in the AUTHORIZATION state
r = Raw(port)
r.line()
for bad in ("STAT", "XYZZY", "USER"):
    resp = r.cmd(bad)
    assert resp.startswith("-ERR"), f"{bad!r} before login: {resp}"
resp = r.cmd("CAPA")
assert resp.startswith("+OK"), resp
r.multi()
# an over-long line, then the session goes on
resp = r.cmd("USER " + "a" * 20000)
assert resp.startswith("-ERR"), f"over-long USER: {resp}"
assert r.cmd("USER " + address).startswith("+OK"), "USER after an over-long line"
assert r.cmd("PASS " + password).startswith("+OK"), "PASS after an over-long line"
assert r.cmd("STAT").startswith(f"+OK {count} ")
assert r.cmd("QUIT").startswith("+OK")
r.close()

# malformed commands in the TRANSACTION state (a few per session: a session may end after
# many errors)
r = raw_login(port, address, password)
for bad in ("RETR", "RETR abc", f"RETR {count + 1}", "TOP 1"):
    resp = r.cmd(bad)
    assert resp.startswith("-ERR"), f"{bad!r}: {resp}"
assert r.cmd("NOOP").startswith("+OK"), "NOOP after errors"
assert r.cmd("QUIT").startswith("+OK")
r.close()

r = raw_login(port, address, password)
for bad in ("DELE 0", "LIST -1", "FROB 1 2"):
    resp = r.cmd(bad)
    assert resp.startswith("-ERR"), f"{bad!r}: {resp}"
resp = r.cmd("NOOP " + "x" * 20000)
assert resp.startswith("-ERR"), f"over-long NOOP: {resp}"
assert r.cmd("NOOP").startswith("+OK"), "NOOP after an over-long line"
resp = r.cmd("STAT")
assert resp.startswith(f"+OK {count} "), f"errors deleted something: {resp}"
assert r.cmd("QUIT").startswith("+OK")
r.close()
print("ok")
