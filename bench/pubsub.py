#!/usr/bin/env python3
"""A write on one server reaching a stream on another through Redis (`make bench`, issue 14).

Two release servers, A and B, on one MongoDB database with `--pubsub redis://…` (and the
default `--mongo-poll 0.5` beside it, the safety net), a `redis-server` this script
starts on a free port (`--save '' --appendonly no`) and stops; and, in the same run, two
more servers, A' and B', on a second database with no Redis (`--mongo-poll 0.5` only).
Each pair has an `EventSource`-style stream (a raw socket, `Accept: text/event-stream`)
open on both of its servers.

Each round: a POST on A, then waiting until its answer is in and its event has reached
the stream on B (cross-instance) and the one on A (same-instance, the baseline);
a pause; the same on A' (Redis off: the second baseline) after a random pause of 0 to
0.5 s (the poll's interval: a write that always came at the same time after the previous
poll would always wait as long for the next one); a pause. One thread reads every
socket through `select` and stamps each event as its bytes arrive, from the moment the
POST was sent. Median and p99 (nearest rank) of each, the targets beside them, and what
the MongoDB store costs per command in the same run: against the MongoDB *test double*
(Tests/mongo, Python, one command at a time) that cost dominates every figure here.

    bench/pubsub.py [--server .build/release/backbone-sse] [--writes 200] [--pause-ms 20]

Environment: BENCH_SERVER (the binary), BENCH_PUBSUB_WRITES, MONGODB_URI (a real MongoDB
instead of the double; each run makes two databases and leaves them behind).
Writes the report to stdout and bench/out/pubsub.txt, one line per write to
bench/out/pubsub-writes.csv.
"""

import argparse
import datetime
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import random
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(REPO, "Tests", "support"))
from backbone_server import MongoDouble, RedisServer  # noqa: E402

CONFIG = os.path.join(HERE, "mongo", "todos.yaml")
TIMEOUT = 5.0  # an event not seen this long after its write counts as lost (and as TIMEOUT)
POLL = 0.5  # the poll-only pair's --mongo-poll, and the default the Redis pair keeps as its safety net


def now():
    return time.monotonic()


def pct(values, p):
    """Nearest rank, as bench/streams/sse_load.c."""
    v = sorted(values)
    if not v:
        return float("nan")
    r = max(1, min(len(v), int(p * len(v) + 0.999999)))
    return v[r - 1]


# --- servers ------------------------------------------------------------------------

class Proc:
    def __init__(self, name, args, work):
        self.name = name
        self.log_path = os.path.join(work, f"{name}.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = now() + 30
        while now() < deadline:
            m = re.search(r"listening on http://[0-9.]+:(\d+)", self.text())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise SystemExit(f"{name} did not start:\n{self.text()}")

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_server(binary, name, store, work, extra):
    return Proc(name, [binary, "serve", "--config", CONFIG, "--host", "127.0.0.1", "--port", "0",
                       "--store", store, "--log-level", "notice", "--max-connections-per-ip", "0", *extra], work)


def http(port, method, path, body=None, timeout=10):
    """One request on a new connection: (status, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        data = body.encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        s.sendall(head.encode() + b"\r\n" + data)
        chunks = []
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    raw = b"".join(chunks)
    head, _, rest = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def metrics(port):
    _, body = http(port, "GET", "/metrics")
    out = {}
    for line in body.decode(errors="replace").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


# --- a stream and a writer, read by one select loop ------------------------------------

class Connection:
    """A non-blocking socket the bench's select loop reads: `receive()` appends what
    arrived to `buf` and says whether anything did (`closed` once the peer has)."""

    sock = None
    buf = b""
    closed = False

    def fileno(self):
        return self.sock.fileno()

    def receive(self):
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return False
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True


class Stream(Connection):
    """GET /todos as text/event-stream on a raw socket; chunked decoding and SSE frames.
    `seen[marker]` = the monotonic time the frame carrying it was complete."""

    def __init__(self, port, name):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(b"GET /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                          b"Cache-Control: no-cache\r\n\r\n")
        self.sock.setblocking(False)
        self.buf = b""
        self.headers_done = False
        self.chunked = False
        self.body = b""  # de-chunked bytes not yet split into lines
        self.frame = []
        self.seen = {}
        self.sequence = {}  # marker -> the change's sequence (from the event id)
        self.events = 0
        self.hello = False
        self.closed = False

    def on_readable(self, t):
        if not self.receive():
            return
        if not self.headers_done:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if not sep:
                return
            status = head.split(b"\r\n", 1)[0]
            if b" 200" not in status:
                raise SystemExit(f"stream {self.name}: {status.decode(errors='replace')}")
            self.chunked = b"transfer-encoding: chunked" in head.lower()
            self.headers_done = True
            self.buf = rest
        if self.chunked:
            while True:
                line, sep, rest = self.buf.partition(b"\r\n")
                if not sep:
                    break
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    self.closed = True
                    break
                if len(rest) < size + 2:
                    break
                self.body += rest[:size]
                self.buf = rest[size + 2:]
        else:
            self.body, self.buf = self.body + self.buf, b""
        while b"\n" in self.body:
            line, _, self.body = self.body.partition(b"\n")
            line = line.rstrip(b"\r")
            if line:
                self.frame.append(line)
                continue
            self.frame_end(t)

    def frame_end(self, t):
        event = next((l[6:].strip() for l in self.frame if l.startswith(b"event:")), b"")
        data = b"".join(l[5:] for l in self.frame if l.startswith(b"data:"))
        ident = next((l[3:].strip() for l in self.frame if l.startswith(b"id:")), b"")
        self.frame = []
        if event == b"hello":
            self.hello = True
        elif event == b"create":
            self.events += 1
            m = re.search(rb"@@(\w+)@@", data)
            if m:
                self.seen.setdefault(m.group(1).decode(), t)
                if ident.rpartition(b"-")[2].isdigit():
                    self.sequence[m.group(1).decode()] = int(ident.rpartition(b"-")[2])

    def close(self):
        self.sock.close()


class Announcements(Connection):
    """A Redis subscriber of the bench's own (PSUBSCRIBE backbone-sse:*): when each
    server's announcement "<server> <sequence> <ms>" went past on Redis. `seen[sequence]`
    = the monotonic time it arrived here."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(b"PSUBSCRIBE backbone-sse:*\r\n")
        self.sock.setblocking(False)
        self.buf = b""
        self.seen = {}
        self.closed = False
        self.hello = True

    def on_readable(self, t):
        if not self.receive():
            return
        while True:
            item, rest = resp_parse(self.buf)
            if item is None:
                return
            self.buf = rest
            if isinstance(item, list) and len(item) == 4 and item[0] == b"pmessage":
                parts = item[3].split()
                if len(parts) == 3 and parts[1].isdigit():
                    self.seen.setdefault(int(parts[1]), t)

    def close(self):
        self.sock.close()


def resp_parse(buf):
    """One RESP value from the front of buf: (value, rest), or (None, buf) if incomplete."""
    line, sep, rest = buf.partition(b"\r\n")
    if not sep:
        return None, buf
    kind, body = line[:1], line[1:]
    if kind in (b"+", b"-"):
        return body, rest
    if kind == b":":
        return int(body), rest
    if kind == b"$":
        n = int(body)
        if n < 0:
            return b"", rest
        if len(rest) < n + 2:
            return None, buf
        return rest[:n], rest[n + 2:]
    if kind == b"*":
        items = []
        for _ in range(int(body)):
            item, rest = resp_parse(rest)
            if item is None:
                return None, buf
            items.append(item)
        return items, rest
    raise SystemExit(f"unexpected reply from Redis: {line!r}")


class Post(Connection):
    """One POST on a keep-alive connection of its own; `done` = when the answer was whole."""

    def __init__(self, port):
        self.port = port
        self.sock = None

    def send(self, marker):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = ('{"title":"@@%s@@"}' % marker).encode()
        req = (f"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        self.buf = b""
        self.done = None
        self.status = None
        t = now()
        self.sock.sendall(req)
        self.sock.setblocking(False)
        return t

    def on_readable(self, t):
        if not self.receive():
            if self.closed:
                raise SystemExit("the server closed the writer's connection")
            return
        head, sep, rest = self.buf.partition(b"\r\n\r\n")
        if not sep:
            return
        m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        if m and len(rest) >= int(m.group(1)):
            self.status = int(head.split()[1])
            self.done = t
            self.sock.setblocking(True)


def one_write(post, streams, marker, timeout=TIMEOUT, also=()):
    """Sends the POST; returns (t_send, answer time, {stream name: arrival time or None}).
    `also`: more sockets to read meanwhile (the Redis observer)."""
    t0 = post.send(marker)
    deadline = t0 + timeout
    watch = [post] + streams + list(also)
    while True:
        waiting = post.done is None or any(marker not in s.seen for s in streams)
        if not waiting or now() >= deadline:
            break
        ready, _, _ = select.select([w for w in watch if not (w is post and post.done)], [], [],
                                    max(0.0, deadline - now()))
        t = now()
        for w in ready:
            w.on_readable(t)
        for s in streams:
            if s.closed:
                raise SystemExit(f"stream {s.name} closed by the server")
    if post.done is None:
        raise SystemExit(f"no answer to the POST of {marker} within {timeout} s")
    if post.status != 201:
        raise SystemExit(f"POST {marker}: status {post.status}")
    return t0, post.done, {s.name: s.seen.get(marker) for s in streams}


def drain(streams, seconds):
    """Reads whatever arrives for `seconds` (pauses between writes)."""
    end = now() + seconds
    while True:
        left = end - now()
        if left <= 0:
            return
        ready, _, _ = select.select(streams, [], [], left)
        t = now()
        for w in ready:
            w.on_readable(t)


def open_streams(pairs):
    streams = [Stream(port, name) for name, port in pairs]
    deadline = now() + 10
    while not all(s.hello for s in streams):
        if now() > deadline:
            raise SystemExit("no hello on " + ", ".join(s.name for s in streams if not s.hello))
        drain(streams, 0.05)
    return streams


def command_ms(uri, database, samples):
    """The store's own cost: one find on the change log (`_changes`, by _id), timed from
    Python with pymongo, median and p99 in ms."""
    import pymongo
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    coll = client[database]["_changes"]
    times = []
    for _ in range(samples):
        t = now()
        coll.find_one({"_id": {"$gt": 0}}, sort=[("_id", -1)])
        times.append((now() - t) * 1000)
    client.close()
    return times


def database_uri(base, database):
    if "?" in base:
        b, options = base.split("?", 1)
        return f"{b.rstrip('/')}/{database}?{options}"
    return f"{base.rstrip('/')}/{database}"


# --- main ---------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("BENCH_SERVER", os.path.join(REPO, ".build", "release", "backbone-sse")))
    parser.add_argument("--writes", type=int, default=int(os.environ.get("BENCH_PUBSUB_WRITES", "200")))
    parser.add_argument("--pause-ms", type=float, default=20.0, help="pause after each write")
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    if not os.access(args.server, os.X_OK):
        raise SystemExit(f"no server binary at {args.server} (swift build -c release --static-swift-stdlib, or make bench)")

    work = tempfile.mkdtemp(prefix="bench-pubsub-")
    started = []
    double = None
    real = os.environ.get("MONGODB_URI")
    try:
        if real:
            base, kind = real.rstrip("/"), "MONGODB_URI"
        else:
            double = MongoDouble(work)
            base, kind = double.uri, "the MongoDB test double (Tests/mongo: Python, one command at a time)"
        redis = RedisServer(work)
        run = uuid.uuid4().hex[:8]
        db_redis, db_poll = f"bench_pubsub_{run}", f"bench_poll_{run}"
        with_redis = ["--pubsub", redis.url]  # --mongo-poll 0.5 (the default) stays on: the safety net
        poll_only = ["--mongo-poll", str(POLL)]
        a = start_server(args.server, "A", database_uri(base, db_redis), work, with_redis); started.append(a)
        b = start_server(args.server, "B", database_uri(base, db_redis), work, with_redis); started.append(b)
        pa = start_server(args.server, "A-poll", database_uri(base, db_poll), work, poll_only); started.append(pa)
        pb = start_server(args.server, "B-poll", database_uri(base, db_poll), work, poll_only); started.append(pb)
        for srv in (a, b):
            deadline = now() + 10
            while b'"pubsub":"ok"' not in http(srv.port, "GET", "/healthz")[1].replace(b" ", b""):
                if now() > deadline:
                    raise SystemExit(f"{srv.name}: /healthz never said pubsub ok: {http(srv.port, 'GET', '/healthz')}")
                time.sleep(0.05)

        streams = open_streams([("A", a.port), ("B", b.port), ("A-poll", pa.port), ("B-poll", pb.port)])
        sa, sb, spa, spb = streams
        observer = Announcements(redis.port)
        streams.append(observer)  # read in every pause too
        post_a, post_pa = Post(a.port), Post(pa.port)
        pause = args.pause_ms / 1000
        for i in range(args.warmup):
            one_write(post_a, [sa, sb], f"w{i}", also=[observer])
            drain(streams, pause + random.uniform(0, POLL))
            one_write(post_pa, [spa, spb], f"v{i}")
            drain(streams, pause)
        m0 = {srv.name: metrics(srv.port) for srv in (a, b)}
        rows = []
        cmd = []
        loadavg0 = open("/proc/loadavg").read().split()[:3]
        t_start = now()
        for k in range(args.writes):
            t0, answered, got = one_write(post_a, [sa, sb], f"k{k}", also=[observer])
            drain(streams, pause + random.uniform(0, POLL))
            p0, p_answered, p_got = one_write(post_pa, [spa, spb], f"p{k}")
            drain(streams, pause)
            ms = lambda t, base: (t - base) * 1000 if t is not None else None  # noqa: E731
            # The announcement may come after B's event (the poll can be first): read on.
            announced = observer.seen.get(sa.sequence.get(f"k{k}"))
            rows.append({"k": k, "post_ms": ms(answered, t0), "same_ms": ms(got["A"], t0), "cross_ms": ms(got["B"], t0),
                         "announced_ms": ms(announced, t0),
                         "poll_post_ms": ms(p_answered, p0), "poll_same_ms": ms(p_got["A-poll"], p0),
                         "poll_cross_ms": ms(p_got["B-poll"], p0)})
            if k % 10 == 5:  # the store's own cost per command, sampled through the run
                cmd += command_ms(base, db_redis, 3)
        elapsed = now() - t_start
        loadavg1 = open("/proc/loadavg").read().split()[:3]
        m1 = {srv.name: metrics(srv.port) for srv in (a, b)}
        for s in streams:
            s.close()
    finally:
        for p in reversed(started):
            p.stop()
        if "redis" in locals():
            redis.stop()
        if double is not None:
            double.stop()

    report(args, kind, rows, cmd, m0, m1, elapsed, loadavg0, loadavg1)


def report(args, kind, rows, cmd, m0, m1, elapsed, loadavg0, loadavg1):
    def col(key):
        return [r[key] if r[key] is not None else TIMEOUT * 1000 for r in rows]

    def missing(key):
        return sum(1 for r in rows if r[key] is None)

    def delta(server, name):
        return m1[server].get(name, 0) - m0[server].get(name, 0)

    n = len(rows)
    same, cross = col("same_ms"), col("cross_ms")
    p_same, p_cross = col("poll_same_ms"), col("poll_cross_ms")
    ratio = pct(cross, 0.5) / pct(same, 0.5)
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPO, "diff", "--quiet", "HEAD", "--", "Sources", "Package.swift"]).returncode
    built = datetime.datetime.fromtimestamp(os.stat(args.server).st_mtime, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def line(name, v, target=""):
        return f"{name:<52} {pct(v, 0.5):>8.2f} {pct(v, 0.99):>8.2f}  {target}"

    ok = lambda c: "PASS" if c else "FAIL"  # noqa: E731
    lines = [
        f"pubsub: a write on A reaching a stream on B through Redis; {n} writes, each {args.pause_ms:g} ms after the",
        f"previous one arrived, alternating with the same on the poll-only pair (sent at a random time in the",
        f"poll's {POLL:g} s); {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC,",
        f"commit {commit}{'+dirty' if dirty else ''}, {args.server} built {built}, {os.cpu_count()} cores,",
        f"load average {' '.join(loadavg0)} -> {' '.join(loadavg1)}, {elapsed:.0f} s; store: {kind}",
        "",
        f"{'ms from sending the POST on A':<52} {'median':>8} {'p99':>8}  target",
        line("the POST's answer on A", col("post_ms")),
        line("the event on a stream on A (same instance)", same),
        line("  its announcement, seen by a Redis subscriber", col("announced_ms")),
        line("the event on a stream on B (cross instance, Redis)", cross,
             f"p50 <= 3x same: {ratio:.2f}x {ok(ratio <= 3)}; p99 < 20 ms: {ok(pct(cross, 0.99) < 20)}"),
        line(f"Redis off (--mongo-poll {POLL:g}): the POST's answer", col("poll_post_ms")),
        line("Redis off: the event on A (same instance)", p_same),
        line("Redis off: the event on B (cross instance, poll)", p_cross,
             f"{pct(p_cross, 0.5) / pct(p_same, 0.5):.1f}x same"),
        "",
        f"events lost (not seen within {TIMEOUT:g} s): same {missing('same_ms')}, cross {missing('cross_ms')}, "
        f"poll same {missing('poll_same_ms')}, poll cross {missing('poll_cross_ms')}",
        f"cross minus same, per write: median {pct([c - s for c, s in zip(cross, same)], 0.5):.2f} ms, "
        f"p99 {pct([c - s for c, s in zip(cross, same)], 0.99):.2f} ms",
    ]
    pairs = [(r["announced_ms"], r["same_ms"], r["cross_ms"]) for r in rows
             if None not in (r["announced_ms"], r["same_ms"], r["cross_ms"])]
    if pairs:
        lines += [
            f"  of which the announcement after A's own event (PUBLISH, Redis, a subscriber): median "
            f"{pct([x - s for x, s, _ in pairs], 0.5):.2f} ms, p99 {pct([x - s for x, s, _ in pairs], 0.99):.2f} ms;",
            f"  and B's event after the announcement (B reads the log, hands over): median "
            f"{pct([c - x for x, _, c in pairs], 0.5):.2f} ms, p99 {pct([c - x for x, _, c in pairs], 0.99):.2f} ms",
        ]
    cmds_a = delta("A", "backbone_sse_store_commands_total")
    cmds_b = delta("B", "backbone_sse_store_commands_total")
    lag_n = delta("B", "backbone_sse_pubsub_delivery_lag_seconds_count")
    lag_s = delta("B", "backbone_sse_pubsub_delivery_lag_seconds_sum")
    lines += [
        f"the store's own cost: one find on _changes from Python (pymongo), median {pct(cmd, 0.5):.2f} ms, "
        f"p99 {pct(cmd, 0.99):.2f} ms ({len(cmd)} samples through the run);",
        f"  store commands per write, each server's polls of the log included: on A {cmds_a / n:.1f}, on B {cmds_b / n:.1f}",
        f"  announcements: A published {delta('A', 'backbone_sse_pubsub_published_total'):g}, "
        f"B received {delta('B', 'backbone_sse_pubsub_received_total'):g}; "
        f"B's polls that found what no announcement had brought: {delta('B', 'backbone_sse_pubsub_log_fallbacks_total'):g}",
    ]
    if lag_n:
        lines.append(f"  B's delivery lag (announcement to hand-over, its histogram): mean {lag_s / lag_n * 1000:.2f} ms over {lag_n:g}")
    if "double" in kind:
        lines += [
            "",
            "Against the MongoDB test double every figure above is mostly the double's: a write is four",
            "commands on A before any stream hears of it, and B's event waits for one more, B's read of",
            "the log, on a Python server that runs one command at a time (the find timed above; its p99",
            "is the machine's noise as much as the double's). Redis's own part is the announcement after",
            "A's event (PUBLISH, to a subscriber). Re-run with MONGODB_URI for a real server's figures.",
        ]
    text = "\n".join(lines)
    print(text)
    out = os.path.join(REPO, "bench", "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "pubsub.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "pubsub-writes.csv"), "w") as f:
        keys = list(rows[0].keys()) if rows else []
        f.write(",".join(keys) + "\n")
        for r in rows:
            f.write(",".join("" if r[k] is None else (f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k])) for k in keys) + "\n")


if __name__ == "__main__":
    main()
