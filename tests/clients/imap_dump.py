"""Dumps a mailbox through IMAP (python imaplib) as JSON on standard output: for every folder
that LIST shows, each message's UID, flags, the main header fields (decoded), the MIME types
of its parts and its raw text.
Arguments: port user password."""
import email
import email.policy
import imaplib
import json
import re
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]

c = imaplib.IMAP4("127.0.0.1", port)
c.login(user, password)
typ, listed = c.list()
assert typ == "OK", listed
names = []
for line in listed:
    line = line.decode() if isinstance(line, bytes) else str(line)
    m = re.match(r'\((?P<attrs>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.*)$', line)
    assert m, line
    if "\\Noselect" in m.group("attrs"):
        continue
    name = m.group("name")
    if name.startswith('"'):
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    names.append(name)

out = {}
for name in names:
    typ, data = c.select('"%s"' % name.replace("\\", "\\\\").replace('"', '\\"'), readonly=True)
    assert typ == "OK", (name, data)
    count = int(data[0])
    msgs = []
    if count:
        typ, data = c.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
        assert typ == "OK", data
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, raw = item
            head = head.decode()
            uid = int(re.search(r"UID (\d+)", head).group(1))
            flags = [f.decode() for f in imaplib.ParseFlags(head.encode()) if f != b"\\Recent"]
            msg = email.message_from_bytes(raw, policy=email.policy.default)

            def field(n):
                v = msg.get(n)
                return None if v is None else str(v)

            msgs.append(
                {
                    "uid": uid,
                    "flags": flags,
                    "subject": field("Subject"),
                    "from": field("From"),
                    "to": field("To"),
                    "message_id": field("Message-ID"),
                    "in_reply_to": field("In-Reply-To"),
                    "auto_submitted": field("Auto-Submitted"),
                    "loop": [str(v) for v in (msg.get_all("X-esmail-Loop") or [])],
                    "content_type": msg.get_content_type(),
                    "parts": [p.get_content_type() for p in msg.walk()],
                    "raw": raw.decode("utf-8", "replace"),
                }
            )
    out[name] = msgs
c.logout()
print(json.dumps(out))
