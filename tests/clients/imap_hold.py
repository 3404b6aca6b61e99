"""Opens `count` IMAP sessions at once (all connected, then all LOGINs sent before any answer
is read), logs each in as one of the users in turn, prints 'READY <logged-in> <failed>'
and keeps them open until standard input closes; then LOGOUT on each, 'CLOSED'.
Arguments: port count password user[,user...] [select]"""
import socket
import sys

port, count, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
users = sys.argv[4].split(",")
select = len(sys.argv) > 5 and sys.argv[5] == "select"

conns = []
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    f = s.makefile("rb")
    g = f.readline()
    assert g.startswith(b"* OK"), (i, g)
    conns.append((s, f))
for i, (s, f) in enumerate(conns):
    s.sendall(b'a LOGIN "%s" "%s"\r\n' % (users[i % len(users)].encode(), password.encode()))
ok = failed = 0
for i, (s, f) in enumerate(conns):
    while True:
        l = f.readline()
        assert l, f"session {i} closed during LOGIN"
        if l.startswith(b"a "):
            if l.startswith(b"a OK"):
                ok += 1
            else:
                failed += 1
                print("failed", i, l, flush=True)
            break
if select:
    for s, f in conns:
        s.sendall(b"b SELECT INBOX\r\n")
    for i, (s, f) in enumerate(conns):
        while True:
            l = f.readline()
            assert l, f"session {i} closed during SELECT"
            if l.startswith(b"b "):
                assert l.startswith(b"b OK"), (i, l)
                break
print("READY", ok, failed, flush=True)
sys.stdin.read()
for s, f in conns:
    try:
        s.sendall(b"z LOGOUT\r\n")
    except OSError:
        pass
for s, f in conns:
    s.settimeout(30)
    try:
        while True:
            l = f.readline()
            if not l or l.startswith(b"z "):
                break
    except OSError:
        pass
    s.close()
print("CLOSED", flush=True)
