"""Shared by the POP3 client scripts of the tests: a login that waits out a maildrop still
locked by a session that has just ended, and a raw line client."""
import poplib
import socket
import time

poplib._MAXLINE = 1 << 20


def login(port, user, password, retry_secs=30):
    deadline = time.time() + retry_secs
    while True:
        p = poplib.POP3("127.0.0.1", port, timeout=60)
        try:
            p.user(user)
            p.pass_(password)
            return p
        except poplib.error_proto as e:
            text = e.args[0] if e.args else b""
            try:
                p.close()
            except Exception:
                pass
            # RFC 2449 [IN-USE]: the maildrop is still locked by a session that is ending
            if b"IN-USE" in text and time.time() < deadline:
                time.sleep(0.3)
                continue
            raise


def message_bytes(lines):
    return b"".join(l + b"\r\n" for l in lines)


class Raw:
    """A line client that sends exactly what it is given."""

    def __init__(self, port, host="127.0.0.1", sock=None):
        self.s = sock or socket.create_connection((host, port), timeout=60)
        self.f = self.s.makefile("rb")

    def line(self):
        l = self.f.readline(1 << 20)
        assert l, "the server closed the connection"
        return l.rstrip(b"\r\n").decode("latin-1")

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, c):
        if isinstance(c, str):
            c = c.encode("latin-1")
        self.s.sendall(c + b"\r\n")
        return self.line()

    def multi(self):
        out = []
        while True:
            l = self.line()
            if l == ".":
                return out
            out.append(l[1:] if l.startswith("..") else l)

    def close(self):
        self.s.close()


def raw_login(port, user, password, retry_secs=30):
    """A Raw client logged in with USER/PASS (waiting out [IN-USE] like login())."""
    deadline = time.time() + retry_secs
    while True:
        r = Raw(port)
        assert r.line().startswith("+OK"), "greeting"
        assert r.cmd("USER " + user).startswith("+OK"), "USER"
        resp = r.cmd("PASS " + password)
        if resp.startswith("+OK"):
            return r
        r.close()
        if "IN-USE" in resp and time.time() < deadline:
            time.sleep(0.3)
            continue
        raise AssertionError(f"PASS: {resp}")
