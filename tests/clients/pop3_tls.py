"""POP3 over TLS: STLS on the plain port, and the implicit-TLS port.
Arguments: port tls-port user password expected-count."""
import poplib
import ssl
import sys

port, tls_port, user, password, count = (
    int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
ctx = ssl._create_unverified_context()

p = poplib.POP3("127.0.0.1", port, timeout=60)
resp = p.stls(context=ctx)
assert resp.startswith(b"+OK"), resp
assert p.sock.cipher(), "no cipher after STLS"
caps = p.capa()
assert "UIDL" in caps, caps
p.user(user)
p.pass_(password)
assert p.stat()[0] == count
lines = p.retr(1)[1]
assert any(l.lower().startswith(b"subject:") for l in lines), lines
p.quit()

p = poplib.POP3_SSL("127.0.0.1", tls_port, timeout=60, context=ctx)
assert p.sock.cipher(), "no cipher on the implicit-TLS port"
p.user(user)
p.pass_(password)
assert p.stat()[0] == count
lines = p.retr(1)[1]
assert any(l.lower().startswith(b"subject:") for l in lines), lines
p.quit()
print("ok")
