"""New IMAP clients one after another until standard input closes: each connects, logs in,
SELECTs INBOX and logs out; one line per attempt: '<start epoch> ok' or '<start epoch> fail
<why>'. Arguments: port user password."""
import socket
import sys
import threading
import time

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()


def attempt():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        f = s.makefile("rb")
        g = f.readline()
        if not g.startswith(b"* OK"):
            return f"greeting {g!r}"
        for tag, cmd in ((b"a", b'LOGIN "%s" "%s"' % (user.encode(), password.encode())),
                         (b"b", b"SELECT INBOX"), (b"c", b"LOGOUT")):
            s.sendall(tag + b" " + cmd + b"\r\n")
            while True:
                l = f.readline()
                if not l:
                    return f"closed during {tag.decode()}"
                if l.startswith(tag + b" "):
                    if not l.startswith(tag + b" OK"):
                        return f"{l!r}"
                    break
        return None
    finally:
        s.close()


while not stop.is_set():
    t0 = time.time()
    try:
        why = attempt()
    except Exception as e:
        why = repr(e)
    if why is None:
        print(repr(t0), "ok", flush=True)
    else:
        print(repr(t0), "fail", why, flush=True)
        time.sleep(0.05)
