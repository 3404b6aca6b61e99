"""IDLE with imaplib: prints IDLING once the server said '+', then 'EXISTS <epoch> <n>' the
moment `* n EXISTS` arrives, then DONE OK. Arguments: port user password."""
import imaplib
import re
import sys
import time

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
M = imaplib.IMAP4("127.0.0.1", port, timeout=120)
M.login(user, password)
typ, data = M.select("INBOX")
assert typ == "OK", (typ, data)
before = int(data[0])
tag = M._new_tag()
M.send(tag + b" IDLE\r\n")
line = M.readline()
assert line.startswith(b"+"), line
print("IDLING", before, flush=True)
while True:
    line = M.readline()
    assert line, "the server closed the connection"
    m = re.match(rb"\* (\d+) EXISTS", line)
    if m:
        print("EXISTS", repr(time.time()), int(m.group(1)), flush=True)
        break
    print("other", line, flush=True)
M.send(b"DONE\r\n")
while True:
    line = M.readline()
    assert line, "closed after DONE"
    if line.startswith(tag + b" "):
        assert line.startswith(tag + b" OK"), line
        break
M.logout()
print("DONE OK", flush=True)
