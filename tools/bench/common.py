"""Shared parts of the side-by-side benchmarks (tools/bench-imap, bench-pop3, bench-idle):
an esmail node and a Dovecot instance in temporary directories on this machine, the same
message generator for both, a minimal asyncio IMAP client, memory readings and the tables.

Nothing here asserts anything: the tools print figures.
"""
import asyncio
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOMAIN = "acme.com"
PASSWORD = "bench-secret"


# ---------------------------------------------------------------------------------------------
# machine

def raise_nofile(want=65536):
    """Raises the open-file limit of this process (and so of the servers it starts) as far as
    the hard limit allows (root may raise the hard limit too); returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            pass
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_greeting(port, prefix, secs=90):
    deadline = time.time() + secs
    last = None
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.settimeout(5)
                line = s.recv(4096).decode(errors="replace")
                if line.startswith(prefix):
                    return line.strip()
                last = line
        except OSError as e:
            last = repr(e)
        time.sleep(0.25)
    raise RuntimeError(f"no {prefix!r} greeting on port {port} within {secs} s (last: {last})")


def rss_pss_kib(pid):
    """(RSS, PSS) in KiB of one process, 0s if it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def processes():
    """{pid: (ppid, comm, cmdline)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            comm = st[st.index("(") + 1:st.rindex(")")]
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            out[int(d)] = (ppid, comm, cmd)
        except (OSError, ValueError):
            pass
    return out


def descendants(root_pid, procs=None):
    procs = procs if procs is not None else processes()
    kids = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in procs.items():
            if ppid in kids and pid not in kids:
                kids.add(pid)
                changed = True
    kids.discard(root_pid)
    return {p: procs[p] for p in kids}


def cpu_seconds(pid):
    """user+system CPU seconds of a process and its waited-for children."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        fields = st[st.rindex(")") + 2:].split()
        tick = os.sysconf("SC_CLK_TCK")
        return sum(int(x) for x in fields[11:15]) / tick
    except (OSError, ValueError):
        return 0.0


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


# ---------------------------------------------------------------------------------------------
# the same mailbox data for both servers

FIRST = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
         "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David"]
WORDS = ("the meeting budget report quarterly project review draft contract invoice schedule "
         "customer release server database backup migration network storage planning update "
         "please find attached regards thanks question answer proposal deadline office team "
         "weekly summary figures travel agenda minutes action items follow up next steps").split()
SUBJECTS = ["Quarterly report", "Meeting tomorrow", "Invoice {n}", "Re: project review",
            "Fwd: contract draft", "Backup schedule", "Release notes {n}", "Lunch?",
            "Re: Re: budget", "Travel plans", "Weekly summary", "Action items {n}"]


def _text(rng, size):
    out, n = [], 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12)))
        line = line[0].upper() + line[1:] + "."
        out.append(line)
        n += len(line) + 2
    return "\r\n".join(out) + "\r\n"


def _b64(rng, size):
    import base64
    raw = rng.randbytes(size * 3 // 4)
    enc = base64.b64encode(raw).decode()
    return "\r\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + "\r\n"


def message(i, rng=None, to="user@acme.com"):
    """Message number `i` of the corpus: a realistic mix (deterministic for a given i) --
    60 % plain text of 1-8 KB, 25 % text+HTML alternatives of 8-40 KB, 12 % with a 30-150 KB
    attachment, 3 % with a 200-600 KB one. Mean about 35 KB. CRLF line ends."""
    rng = rng or random.Random(1000003 * i + 17)
    kind = rng.random()
    fn, ln = rng.choice(FIRST), rng.choice(LAST)
    sender = f"{fn} {ln} <{fn.lower()}.{ln.lower()}@example.org>"
    subj = rng.choice(SUBJECTS).format(n=rng.randint(100, 999))
    day = 1 + i % 28
    hdr = (f"Return-Path: <{fn.lower()}.{ln.lower()}@example.org>\r\n"
           f"Received: from mx{rng.randint(1, 9)}.example.org (mx.example.org [192.0.2.{rng.randint(1, 254)}])\r\n"
           f"\tby mail.acme.com with ESMTPS id {rng.getrandbits(48):012x}\r\n"
           f"\tfor <{to}>; Mon, {day} Nov 2026 10:{i % 60:02d}:00 +0000\r\n"
           f"Message-ID: <{rng.getrandbits(64):016x}.{i}@example.org>\r\n"
           f"Date: Mon, {day} Nov 2026 10:{i % 60:02d}:{rng.randint(0, 59):02d} +0000\r\n"
           f"From: {sender}\r\n"
           f"To: {to}\r\n"
           + (f"Cc: {rng.choice(FIRST).lower()}@example.org\r\n" if rng.random() < 0.3 else "")
           + f"Subject: {subj}\r\nMIME-Version: 1.0\r\n")
    if kind < 0.60:
        body = _text(rng, rng.randint(1000, 8000))
        return (hdr + "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n" + body).encode()
    b = f"=_b{rng.getrandbits(40):010x}"
    if kind < 0.85:
        t = _text(rng, rng.randint(3000, 15000))
        html = "<html><body><p>" + t.replace("\r\n", "</p>\r\n<p>") + "</p></body></html>\r\n"
        return (hdr + f'Content-Type: multipart/alternative; boundary="{b}"\r\n\r\n'
                f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{t}"
                f"--{b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}--{b}--\r\n").encode()
    size = rng.randint(30000, 150000) if kind < 0.97 else rng.randint(200000, 600000)
    t = _text(rng, rng.randint(500, 3000))
    name = f"{rng.choice(WORDS)}-{i}.pdf"
    return (hdr + f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n'
            f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{t}"
            f"--{b}\r\nContent-Type: application/pdf; name=\"{name}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{name}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{_b64(rng, size)}--{b}--\r\n").encode()


def corpus(n, to="user@acme.com"):
    return [message(i, to=to) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# a minimal IMAP client (asyncio)

LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")


class ImapError(Exception):
    pass


class Imap:
    """One IMAP connection. `cmd` sends a tagged command and reads every response up to its
    tagged completion; literals in responses are read whole."""

    def __init__(self, reader, writer):
        self.r, self.w = reader, writer
        self.n = 0
        self.literal_plus = False

    @classmethod
    async def connect(cls, port, host="127.0.0.1"):
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        c = cls(reader, writer)
        g = await reader.readline()
        if not g.startswith(b"* OK"):
            raise ImapError(f"greeting {g!r}")
        c.literal_plus = b"LITERAL+" in g.upper()
        return c

    async def read_response(self):
        """One response (a line with any literals inside it), as bytes without the final CRLF."""
        line = await self.r.readline()
        if not line:
            raise ImapError("connection closed")
        if not line.endswith(b"}\r\n"):
            return line[:-2]
        parts = []
        while True:
            m = LITERAL.search(line)
            if not m:
                parts.append(line[:-2])
                return b"".join(parts)
            parts.append(line)
            parts.append(await self.r.readexactly(int(m.group(1))))
            line = await self.r.readline()

    async def cmd(self, text, literal=None):
        """Runs one command; returns (ok, untagged responses, tagged line)."""
        self.n += 1
        tag = b"a%d" % self.n
        head = tag + b" " + (text if isinstance(text, bytes) else text.encode())
        untagged = []
        if literal is None:
            self.w.write(head + b"\r\n")
        elif self.literal_plus:
            self.w.write(head + b" {%d+}\r\n" % len(literal) + literal + b"\r\n")
        else:
            self.w.write(head + b" {%d}\r\n" % len(literal))
            while True:
                line = await self.read_response()
                if line.startswith(b"+"):
                    break
                if line.startswith(tag + b" "):
                    return False, untagged, line
                untagged.append(line)
            self.w.write(literal + b"\r\n")
        await self.w.drain()
        while True:
            line = await self.read_response()
            if line.startswith(tag + b" "):
                return line[len(tag) + 1:len(tag) + 3] == b"OK", untagged, line
            untagged.append(line)

    async def login(self, user, password):
        ok, _, line = await self.cmd(f'LOGIN "{user}" "{password}"')
        if not ok:
            raise ImapError(f"LOGIN {user}: {line!r}")
        ok, caps, _ = await self.cmd("CAPABILITY")
        self.literal_plus = any(b"LITERAL+" in c.upper() for c in caps)

    async def close(self):
        try:
            self.w.close()
            await self.w.wait_closed()
        except Exception:  # noqa: BLE001 - closing anyway
            pass


async def load_mailboxes(port, users, messages, connections=4):
    """APPENDs `messages` (bytes) into the INBOX of every user, by IMAP; at most `connections`
    users at a time, each over its own connection. Returns (seconds, messages appended)."""
    sem = asyncio.Semaphore(connections)
    count = 0

    async def one(user):
        nonlocal count
        async with sem:
            c = await Imap.connect(port)
            await c.login(user, PASSWORD)
            for m in messages:
                ok, _, line = await c.cmd("APPEND INBOX", m)
                if not ok:
                    raise ImapError(f"APPEND for {user}: {line!r}")
                count += 1
            await c.cmd("LOGOUT")
            await c.close()

    t0 = time.time()
    await asyncio.gather(*(one(u) for u in users))
    return time.time() - t0, count


# ---------------------------------------------------------------------------------------------
# esmail

def build_esmail():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "esmail", "--bin", "iofcmgr"],
                   cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release")


def esmail_commit():
    if os.environ.get("BENCH_ESMAIL_COMMIT"):  # a build from an exported tree (git archive)
        return os.environ["BENCH_ESMAIL_COMMIT"]
    try:
        c = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "sql", "Cargo.toml"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return (c or "unknown") + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


class Esmail:
    """An esmail node on a new embedded store in a temporary directory."""

    def __init__(self, bin_dir, users, params="", workdir=None, start_script="",
                 password_hash=None):
        self.bin = bin_dir
        self.work = tempfile.mkdtemp(prefix="esmail-bench-", dir=workdir)
        self.smtp, self.imap, self.pop3 = free_port(), free_port(), free_port()
        self.node = None
        subprocess.run([self.exe("esmail"), "init", "--domain", DOMAIN], cwd=self.work,
                       check=True, capture_output=True)
        # one argon2id hash made by esmail (its own parameters), given to every user and to
        # Dovecot's passwd-file: both servers verify the very same hash
        self.iofcmgr(f"create person username=hashseed domain={DOMAIN} password={PASSWORD};")
        db = sqlite3.connect(self.db())
        self.hash = db.execute(
            "SELECT password_hash FROM es_account a JOIN es_dir_object o ON o.object_id = a.object_id "
            "WHERE o.name_key = 'hashseed'").fetchone()[0]
        db.close()
        self.hash = password_hash or self.hash
        script = "".join(
            f'create person username={u.split("@")[0]} domain={DOMAIN} firstname=Bench '
            f'lastname={u.split("@")[0]} passwordhash="{self.hash}" quota=0;\n' for u in users)
        script += (
            f"register paramvalue server=smtpgw instance=1 parameter=port value={self.smtp};\n"
            f"register paramvalue server=iolistener instance=1 parameter=imap_port value={self.imap};\n"
            f"register paramvalue server=iolistener instance=1 parameter=pop3_port value={self.pop3};\n"
            "register paramvalue server=iolistener instance=1 parameter=imaps_port value=0;\n"
            "register paramvalue server=iolistener instance=1 parameter=pop3s_port value=0;\n"
            + params)
        self.iofcmgr(script)
        if start_script:
            self.iofcmgr(start_script)

    def exe(self, name):
        return os.path.join(self.bin, name)

    def db(self):
        return os.path.join(self.work, "esmail-data", "esmail.db")

    def iofcmgr(self, script):
        r = subprocess.run([self.exe("iofcmgr")], input=script.encode(), cwd=self.work,
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"iofcmgr failed: {r.stderr.decode()} {r.stdout.decode()[-2000:]}")
        return r.stdout.decode()

    def start(self):
        out = open(os.path.join(self.work, "start.out"), "ab")
        self.node = subprocess.Popen([self.exe("esmail"), "start"], cwd=self.work, stdout=out,
                                     stderr=out, start_new_session=True)
        wait_greeting(self.smtp, "220")
        wait_greeting(self.imap, "* OK")
        wait_greeting(self.pop3, "+OK")

    def entries(self, statement):
        """Entries of an iofcmgr answer as dicts."""
        text = self.iofcmgr(statement)
        out, cur = [], {}
        for line in text.splitlines():
            line = line.strip()
            if not line:
                if cur:
                    out.append(cur)
                    cur = {}
                continue
            if "=" in line:
                k, v = line.split("=", 1)
                cur[k.strip()] = v.strip()
        if cur:
            out.append(cur)
        return out

    def pids(self, server):
        """pids of the running instances of `server` (imap4srv, pop3srv, iolistener...)."""
        procs = descendants(self.node.pid)
        return [p for p, (_, _, cmd) in procs.items()
                if f" {server}" in cmd and "esmail" in cmd.split(" ")[0]]

    def probe(self):
        return self.entries("probe;")

    def log_tail(self, n=3000):
        text = ""
        logdir = os.path.join(self.work, "esmail-data", "log")
        for f in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            with open(os.path.join(logdir, f), errors="replace") as fh:
                t = fh.read()
            text += f"== {f}\n{t[-n:]}\n"
        return text

    def stop(self):
        if self.node and self.node.poll() is None:
            self.node.send_signal(signal.SIGTERM)
            try:
                self.node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.node.pid, signal.SIGKILL)
                self.node.wait()

    def cleanup(self, keep=False):
        self.stop()
        if not keep:
            shutil.rmtree(self.work, ignore_errors=True)


def argon2_hash(bin_dir):
    """An argon2id hash of PASSWORD made by esmail (its own parameters, m=19456 t=2 p=1)."""
    e = Esmail(bin_dir, [])
    e.cleanup()
    return e.hash


# ---------------------------------------------------------------------------------------------
# Dovecot

def dovecot_version():
    try:
        return subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return None


def require_dovecot():
    if not shutil.which("dovecot") or not os.path.exists("/usr/lib/dovecot/imap") \
            or not os.path.exists("/usr/lib/dovecot/pop3"):
        sys.exit("Dovecot is not installed: apt-get install -y dovecot-imapd dovecot-pop3d "
                 "(then stop the system one: service dovecot stop)")


class Dovecot:
    """A Dovecot of its own in a temporary directory: unprivileged ports on 127.0.0.1, no TLS,
    a passwd-file with the same argon2id hash as esmail's users, maildir (or sdbox)."""

    def __init__(self, users, password_hash, sessions=100, mail_format="maildir", workdir=None):
        self.work = tempfile.mkdtemp(prefix="dovecot-bench-", dir=workdir)
        os.chmod(self.work, 0o755)
        self.imap, self.pop3 = free_port(), free_port()
        self.master = None
        self.conf = os.path.join(self.work, "dovecot.conf")
        root = os.geteuid() == 0
        if root:
            # the package's own users: dovecot (internal), dovenull (login), and mail stored
            # as dovecot too (a dedicated "vmail" user in real life)
            import pwd
            internal, login = "dovecot", "dovenull"
            mail_uid, mail_gid = pwd.getpwnam("dovecot").pw_uid, pwd.getpwnam("dovecot").pw_gid
        else:
            import pwd
            me = pwd.getpwuid(os.getuid()).pw_name
            internal = login = me
            mail_uid, mail_gid = os.getuid(), os.getgid()
        home = os.path.join(self.work, "home")
        os.makedirs(home)
        os.makedirs(os.path.join(self.work, "run"))
        if root:
            os.chown(home, mail_uid, mail_gid)
        with open(os.path.join(self.work, "passwd"), "w") as f:
            for u in users:
                f.write(f"{u}:{{ARGON2ID}}{password_hash}:{mail_uid}:{mail_gid}::{home}/{u}::\n")
        os.chmod(os.path.join(self.work, "passwd"), 0o644)
        loc = {"maildir": "maildir:~/Maildir", "sdbox": "sdbox:~/sdbox"}[mail_format]
        limit = max(sessions + 50, 100)
        conf = f"""# written by tools/bench/common.py
base_dir = {self.work}/run
state_dir = {self.work}/state
instance_name = bench-{os.path.basename(self.work)}
log_path = {self.work}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.0/8
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = {min(mail_uid, 500)}
mail_location = {loc}
mail_max_userip_connections = {limit}
mail_privileged_group =
default_process_limit = {limit}
default_client_limit = {limit * 2}
default_vsz_limit = 512M
mail_fsync = optimized
shutdown_clients = yes
passdb {{
  driver = passwd-file
  args = scheme=ARGON2ID {self.work}/passwd
}}
userdb {{
  driver = passwd-file
  args = {self.work}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
  process_limit = {limit}
  client_limit = {limit * 2}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
  process_limit = {limit}
}}
service imap {{
  process_limit = {limit}
}}
service pop3 {{
  process_limit = {limit}
}}
service anvil {{
  client_limit = {limit * 4}
}}
service auth {{
  client_limit = {limit * 4}
}}
service stats {{
  client_limit = {limit * 4}
}}
service imap-hibernate {{
  client_limit = {limit * 2}
}}
protocol imap {{
  mail_max_userip_connections = {limit}
}}
protocol pop3 {{
  mail_max_userip_connections = {limit}
}}
"""
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self):
        out = open(os.path.join(self.work, "master.out"), "ab")
        self.master = subprocess.Popen(["dovecot", "-F", "-c", self.conf], stdout=out, stderr=out,
                                       start_new_session=True)
        try:
            wait_greeting(self.imap, "* OK", 30)
            wait_greeting(self.pop3, "+OK", 30)
        except RuntimeError:
            sys.stderr.write(self.log_tail())
            raise

    def children(self):
        return descendants(self.master.pid)

    def log_tail(self, n=3000):
        text = ""
        for f in ("master.out", "dovecot.log"):
            p = os.path.join(self.work, f)
            if os.path.exists(p):
                with open(p, errors="replace") as fh:
                    text += f"== {f}\n{fh.read()[-n:]}\n"
        return text

    def stop(self):
        if self.master and self.master.poll() is None:
            self.master.send_signal(signal.SIGTERM)
            try:
                self.master.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.master.pid, signal.SIGKILL)
                self.master.wait()

    def cleanup(self, keep=False):
        self.stop()
        if not keep:
            shutil.rmtree(self.work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# output

def table(rows, head):
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "  " + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                      for i, (c, w) in enumerate(zip(r, widths)))
    print(line(head))
    print("  " + "  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"


def loadavg():
    """The 1-minute load average: other work on the machine skews every figure but the CPU
    per command."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def header(title):
    print(f"{title}: esmail {esmail_commit()} against Dovecot {dovecot_version()} "
          f"({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, load average {loadavg():.1f})")
