"""IMAP over TLS with imaplib: STARTTLS on the plain port and the implicit-TLS port.
Arguments: port tls-port user password expected-count."""
import imaplib
import ssl
import sys

port, tls_port, user, password, count = (
    int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
ctx = ssl._create_unverified_context()

M = imaplib.IMAP4("127.0.0.1", port, timeout=60)
assert "STARTTLS" in M.capabilities, M.capabilities
typ, _ = M.starttls(ssl_context=ctx)
assert typ == "OK"
assert M.sock.cipher(), "no cipher after STARTTLS"
assert "STARTTLS" not in M.capabilities, f"STARTTLS offered again over TLS: {M.capabilities}"
M.login(user, password)
typ, data = M.select("INBOX")
assert typ == "OK" and int(data[0]) == count, (typ, data)
typ, data = M.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert typ == "OK" and b"Subject:" in data[0][1], data
M.logout()

M = imaplib.IMAP4_SSL("127.0.0.1", tls_port, ssl_context=ctx, timeout=60)
assert M.sock.cipher(), "no cipher on the implicit-TLS port"
assert "STARTTLS" not in M.capabilities, M.capabilities
M.login(user, password)
typ, data = M.select("INBOX")
assert typ == "OK" and int(data[0]) == count, (typ, data)
typ, data = M.fetch("1:*", "(UID)")
assert typ == "OK" and len(data) == count, data
M.logout()
print("ok")
