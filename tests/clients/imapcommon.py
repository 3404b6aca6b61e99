"""A small, strict IMAP client for the tests: it sends exactly what it is given (literals
wait for the server's continuation) and parses every response, literals included, into
Python values: lists for parenthesised lists, str for atoms, bytes for quoted strings and
literals, None for NIL."""
import re
import socket
import ssl
import time

_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}$")


class Literal(bytes):
    """Bytes to send as an IMAP literal."""


class ProtocolError(AssertionError):
    pass


def s(x):
    """An atom, string or literal as text."""
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    return x


def tokenize(parts):
    toks = []
    for p in parts:
        if isinstance(p, Literal):
            toks.append(("S", bytes(p)))
            continue
        i, n = 0, len(p)
        while i < n:
            c = p[i : i + 1]
            if c == b" ":
                i += 1
            elif c == b"(":
                toks.append(("(", None))
                i += 1
            elif c == b")":
                toks.append((")", None))
                i += 1
            elif c == b'"':
                i += 1
                out = bytearray()
                while i < n and p[i : i + 1] != b'"':
                    if p[i : i + 1] == b"\\":
                        i += 1
                    out += p[i : i + 1]
                    i += 1
                i += 1
                toks.append(("S", bytes(out)))
            else:
                j = i
                depth = 0
                while j < n:
                    ch = p[j : j + 1]
                    if ch == b"[":
                        depth += 1
                    elif ch == b"]":
                        depth -= 1
                    elif depth == 0 and ch in (b" ", b"(", b")"):
                        break
                    j += 1
                atom = p[i:j].decode("utf-8", "replace")
                toks.append(("N", None) if atom.upper() == "NIL" else ("A", atom))
                i = j
    return toks


def build(toks):
    stack = [[]]
    for kind, val in toks:
        if kind == "(":
            stack.append([])
        elif kind == ")":
            if len(stack) == 1:
                raise ProtocolError("unbalanced )")
            inner = stack.pop()
            stack[-1].append(inner)
        elif kind == "A":
            stack[-1].append(val)
        else:
            stack[-1].append(val)
    while len(stack) > 1:
        inner = stack.pop()
        stack[-1].append(inner)
    return stack[0]


STATUS_WORDS = ("OK", "NO", "BAD", "BYE", "PREAUTH")


class Untagged:
    def __init__(self, parts):
        self.parts = parts
        first = parts[0]
        assert first.startswith(b"* "), first
        words = first[2:].split(b" ", 2)
        w0 = words[0].decode("latin-1").upper()
        if w0 in STATUS_WORDS:
            self.name = w0
            self.text = first[2 + len(words[0]) + 1 :].decode("utf-8", "replace")
            self.values = None
        else:
            self.values = build(tokenize([first[2:]] + parts[1:]))
            if w0.isdigit():
                self.name = str(self.values[1]).upper()
                self.number = int(w0)
            else:
                self.name = w0
            self.text = None

    def __repr__(self):
        if self.values is None:
            return f"* {self.name} {self.text}"
        return f"* {self.values!r}"


class Result:
    def __init__(self, tag, line, untagged):
        self.tag = tag
        rest = line[len(tag) + 1 :].decode("utf-8", "replace")
        self.status, _, self.text = rest.partition(" ")
        self.status = self.status.upper()
        self.untagged = untagged

    @property
    def ok(self):
        return self.status == "OK"

    def __repr__(self):
        u = "\n".join(repr(x) for x in self.untagged)
        return f"{u}\n{self.tag} {self.status} {self.text}"

    def all(self, name):
        return [u for u in self.untagged if u.name == name.upper()]

    def code(self, name):
        """The words of response code [NAME ...] in the tagged or an untagged status."""
        texts = [self.text] + [u.text for u in self.untagged if u.text is not None]
        for t in texts:
            m = re.match(r"\[([^\]]*)\]", t)
            if m:
                words = m.group(1).split()
                if words and words[0].upper() == name.upper():
                    return words[1:]
        return None

    def fetches(self):
        """{sequence number: {ITEM NAME: value}} of the FETCH responses."""
        out = {}
        for u in self.all("FETCH"):
            items = u.values[2]
            d = out.setdefault(u.number, {})
            for k, v in zip(items[0::2], items[1::2]):
                d[k.upper()] = v
        return out

    def numbers(self, name):
        """The numbers of `* NAME n n n` (SEARCH) responses."""
        out = []
        for u in self.all(name):
            out += [int(x) for x in u.values[1:] if isinstance(x, str) and x.isdigit()]
        return out


class Client:
    def __init__(self, port, host="127.0.0.1", tls=None, timeout=60):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=host)
        self.f = self.sock.makefile("rb")
        self.n = 0
        self.greeting = self.read_parts()
        self.log = []

    # -- reading
    def read_line(self):
        line = self.f.readline(1 << 24)
        if not line:
            raise ProtocolError("the server closed the connection")
        if not line.endswith(b"\r\n"):
            raise ProtocolError(f"a line without CRLF: {line[:200]!r}")
        return line[:-2]

    def read_parts(self):
        parts = []
        while True:
            line = self.read_line()
            m = _LITERAL_AT_END.search(line)
            if m:
                parts.append(line[: m.start()])
                lit = self.f.read(int(m.group(1)))
                parts.append(Literal(lit))
                continue
            parts.append(line)
            return parts

    def read_until(self, tag):
        untagged = []
        while True:
            parts = self.read_parts()
            if parts[0].startswith(b"* "):
                untagged.append(Untagged(parts))
            elif parts[0].startswith(tag.encode() + b" "):
                return Result(tag, parts[0], untagged)
            else:
                raise ProtocolError(f"unexpected {parts!r}")

    # -- commands
    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, *args):
        """Sends `tag args...` (str pieces as they are, Literal pieces as literals) and
        returns the Result."""
        self.n += 1
        tag = f"T{self.n}"
        buf = tag.encode()
        for a in args:
            if isinstance(a, Literal):
                buf += b" {" + str(len(a)).encode() + b"}\r\n"
                self.send(buf)
                while True:
                    parts = self.read_parts()
                    if parts[0].startswith(b"+"):
                        break
                    if parts[0].startswith(tag.encode() + b" "):
                        return Result(tag, parts[0], [])
                    if not parts[0].startswith(b"* "):
                        raise ProtocolError(f"no continuation for a literal: {parts!r}")
                buf = bytes(a)
            else:
                if isinstance(a, str):
                    a = a.encode()
                buf += b" " + a
        self.send(buf + b"\r\n")
        r = self.read_until(tag)
        self.log.append((args, r))
        return r

    def ok(self, *args):
        r = self.cmd(*args)
        if not r.ok:
            raise ProtocolError(f"{' '.join(str(a)[:80] for a in args)}: {r!r}")
        return r

    def login(self, user, password):
        return self.ok("LOGIN", quote(user), quote(password))

    def starttls(self, ctx):
        self.ok("STARTTLS")
        self.sock = ctx.wrap_socket(self.sock, server_hostname="127.0.0.1")
        self.f = self.sock.makefile("rb")

    def close(self):
        try:
            self.sock.close()
        except Exception:
            pass


def quote(x):
    return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unverified():
    return ssl._create_unverified_context()


def list_names(r):
    """{name: [attributes]} of the LIST responses in `r`."""
    out = {}
    for u in r.all("LIST"):
        attrs, _delim, name = u.values[1], u.values[2], u.values[3]
        out[s(name)] = [a.lower() for a in attrs]
    return out


def status_items(r):
    u = r.all("STATUS")
    assert u, r
    items = u[0].values[2]
    return {k.upper(): int(v) for k, v in zip(items[0::2], items[1::2])}
