"""Sends COUNT messages by SMTP over THREADS connections at once; one line per message the
server acknowledged: 'ACK <n> <epoch after the 250>'; 'ERR <n> <why>' for an attempt that
failed (the message is tried again on a new connection); 'DONE' at the end.
Message n has the Message-ID <bk-TAG-n@load.example> and a body of about BODY_BYTES bytes.
Arguments: port count threads recipients(comma-separated) body_bytes tag [hold]: with hold,
the messages after the first HOLD wait until standard input closes, so that a test can start
something between the two parts however fast the machine is."""
import smtplib
import sys
import threading
import time

port, count, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rcpts = sys.argv[4].split(",")
body_bytes, tag = int(sys.argv[5]), sys.argv[6]
hold = int(sys.argv[7]) if len(sys.argv) > 7 else None
released = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), released.set()), daemon=True).start()
lock = threading.Lock()
next_n = [0]


def say(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def take():
    with lock:
        if next_n[0] >= count:
            return None
        next_n[0] += 1
        n = next_n[0]
    if hold is not None and n > hold:
        released.wait()
    return n


def message(n):
    line = ("load %d " % n).ljust(76, "x")
    body = "\r\n".join(line for _ in range(max(1, body_bytes // 78)))
    return ("From: load@example.org\r\nTo: %s\r\nSubject: backup load %d\r\n"
            "Message-ID: <bk-%s-%d@load.example>\r\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n%s\r\n"
            % (", ".join(rcpts), n, tag, n, body)).encode()


def worker():
    s = None
    n = take()
    while n is not None:
        try:
            if s is None:
                s = smtplib.SMTP("127.0.0.1", port, local_hostname="load.example", timeout=120)
            refused = s.sendmail("load@example.org", rcpts, message(n))
            if refused:
                raise RuntimeError("refused %r" % (refused,))
            say("ACK %d %.6f" % (n, time.time()))
            n = take()
        except Exception as e:  # try the same message again on a new connection
            say("ERR %d %s" % (n, str(e).replace("\n", " ")))
            try:
                if s is not None:
                    s.close()
            except Exception:
                pass
            s = None
            time.sleep(0.2)
    if s is not None:
        try:
            s.quit()
        except Exception:
            pass


ts = [threading.Thread(target=worker) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
say("DONE")
