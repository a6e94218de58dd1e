"""Streams under load: clients that never read must not slow the others or grow the
server's memory without bound, and thousands of concurrent streams all receive a
burst."""

import multiprocessing
import os
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import for_store
from sse_client import (ChunkedDecoder, NonBlockingStream, StreamClosed, ResponseHead, SSEParser, build_request, metric, pump,
                        raise_nofile, rss_kib, subscribe)

BURST = for_store(2000, 500)
SLOW_CLIENTS = int(os.environ.get("SSE_SLOW_CLIENTS", "40"))
PAD = ["x" * 60] * 4  # todos of about 400 bytes
# The slow readers also take `lists`, where big documents (~50 KB, each still under the
# 64 KiB stream buffer) go during the burst: ~4 MB more per slow stream, past what the
# kernel buffers for one loopback socket (tcp_wmem max 4 MiB, ~2.8 MB of payload), so
# the server's own per-stream buffer is what must give. The normal client takes only
# the todos, so a CPU hiccup on this shared machine does not fill its 64 KiB.
BIG_LISTS = 80
BIG_BLOB = "L" * 50_000


def post_burst(srv, n, threads=4, tag="burst"):
    """n creates from `threads` threads; returns {id: monotonic time of the 201}."""
    acked = {}
    lock = threading.Lock()

    def work(k):
        s = requests.Session()
        for i in range(k, n, threads):
            r = s.post(srv.url + "/todos", json={"title": f"{tag} {i}", "tags": PAD}, timeout=30)
            assert r.status_code == 201, r.text
            t = time.monotonic()
            with lock:
                acked[r.json()["id"]] = t
        s.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    return acked


def post_big_lists(srv, n, errors):
    s = requests.Session()
    try:
        for i in range(n):
            r = s.post(srv.url + "/lists", json={"name": f"big {i}", "blob": BIG_BLOB}, timeout=30)
            assert r.status_code == 201, r.text
    except BaseException as e:
        errors.append(e)
    finally:
        s.close()


def open_never_reading(port, path="/todos"):
    """Subscribes and never calls recv(); a small receive buffer so the server side
    fills quickly."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(build_request(path))
    return s


def drain(sock, timeout=10.0):
    """Reads everything a raw stream socket holds until the server ends it; returns
    (head, events, ended cleanly)."""
    sock.settimeout(timeout)
    raw = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in raw and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        raw += chunk
    head_bytes, _, rest = raw.partition(b"\r\n\r\n")
    head = ResponseHead(head_bytes)
    decoder, parser = ChunkedDecoder(), SSEParser()
    events = parser.feed(decoder.feed(rest))
    while not decoder.done and time.monotonic() < deadline:
        try:
            chunk = sock.recv(262144)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        events += parser.feed(decoder.feed(chunk))
    return head, events, decoder.done


def _normal_client(port, n, conn):
    """Runs in its own process (as a browser tab would), so that the test's writer
    threads cannot starve it of the GIL: subscribes, says ready, reads n events and
    sends back [(event, doc id, monotonic arrival)]."""
    try:
        # A receive buffer like a browser's: a moment without CPU on this busy machine
        # must not count as slowness (that is not what the test is about).
        s, hello = subscribe(port, "/todos", rcvbuf=4 * 1024 * 1024)
        conn.send(("ready", hello.id))
        out = []
        while len(out) < n:
            ev = s.next(timeout=30)
            out.append((ev.event, ev.json.get("id"), ev.received_at, ev.data[:200]))
            if ev.event != "create":
                break
        conn.send(("done", out))
    except BaseException as e:
        conn.send(("error", repr(e)))
    finally:
        conn.close()


def drain_raw(sock, timeout=10.0):
    """Every byte up to the end of the chunked body (the connection itself stays open:
    keep-alive). Returns (bytes, why the reading stopped)."""
    sock.settimeout(timeout)
    buf = bytearray()
    t0 = time.monotonic()
    why = "end of body"
    while not buf.endswith(b"\r\n0\r\n\r\n"):
        try:
            chunk = sock.recv(1 << 20)
        except (socket.timeout, ConnectionResetError) as e:
            why = f"{e!r} after {time.monotonic() - t0:.1f}s"
            break
        if not chunk:
            why = f"EOF after {time.monotonic() - t0:.1f}s"
            break
        buf += chunk
    return bytes(buf), why


def test_a_reader_that_never_reads_delays_no_one_and_memory_stays_bounded(make_server):
    srv = make_server("--stream-buffer", "64KiB")
    pid = srv.proc.pid
    # Warm up the write path and the allocator before the baseline.
    post_burst(srv, 100, tag="warmup")
    slow = [open_never_reading(srv.port, "/events?collections=todos,lists") for _ in range(SLOW_CLIENTS)]
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    reader = ctx.Process(target=_normal_client, args=(srv.port, BURST, child_end), daemon=True)
    reader.start()
    try:
        assert parent_end.poll(20), "the normal client did not subscribe"
        kind, _ = parent_end.recv()
        assert kind == "ready"
        time.sleep(0.3)
        rss_before = rss_kib(pid)
        t0 = time.monotonic()
        big_errors = []
        big = threading.Thread(target=post_big_lists, args=(srv, BIG_LISTS, big_errors), daemon=True)
        big.start()
        acked = post_burst(srv, BURST)
        t_writes = time.monotonic() - t0
        big.join(timeout=60)
        assert not big_errors, big_errors
        assert parent_end.poll(30), "the normal client did not finish"
        kind, result = parent_end.recv()
        rss_after = rss_kib(pid)
    finally:
        reader.join(timeout=5)
        if reader.is_alive():
            reader.kill()
    assert kind == "done", result
    names = [r[0] for r in result]
    assert names == ["create"] * BURST, f"the normal client got {result[-1]} after {len(result) - 1} creates"
    arrivals = {doc_id: at for _, doc_id, at, _ in result}
    assert arrivals.keys() == acked.keys()

    # Promptly: each event reaches the normal client soon after its write is acknowledged.
    lags = sorted(arrivals[i] - acked[i] for i in acked)
    p50, p99, worst = lags[len(lags) // 2], lags[int(len(lags) * 0.99)], lags[-1]
    grew_mib = (rss_after - rss_before) / 1024
    print(f"RSS {rss_before} -> {rss_after} KiB ({grew_mib:.1f} MiB); lag p50 {p50:.3f}s p99 {p99:.3f}s "
          f"max {worst:.3f}s; writes {t_writes:.1f}s")
    assert p99 < 1.0 and worst < 3.0, f"lag p50 {p50:.3f}s p99 {p99:.3f}s max {worst:.3f}s (writes took {t_writes:.1f}s)"

    # Bounded memory: unbounded, each slow stream would hold what the kernel did not
    # take, about 2 MB each (some 80 MB for 40); bounded, 64 KiB each.
    assert grew_mib < 32, f"RSS grew {grew_mib:.1f} MiB ({rss_before} → {rss_after} KiB)"

    # Each slow reader was cut off: a gap-free prefix of the events, then `reset`
    # (overflow), then the end of the body.
    for k, sock in enumerate(slow):
        if k >= 3:
            # The others: only that the body ends with the overflow reset (parsing
            # ~3 MB each in Python would be the slowest part of the suite).
            raw, why = drain_raw(sock)
            assert raw.startswith(b"HTTP/1.1 200"), raw[:100]
            assert raw.endswith(b"\r\n0\r\n\r\n"), \
                f"slow reader {k}: the overflowed body did not end ({why}; {len(raw)} bytes, ends {raw[-80:]!r})"
            tail = raw[-300:]
            assert b"event: reset" in tail and b'"reason":"overflow"' in tail, tail
            sock.close()
            continue
        head, events, ended = drain(sock)
        assert head.status == 200
        names = [e.event for e in events if e.event != "ping"]
        assert names[0] == "hello" and names[-1] == "reset", names[:3] + names[-3:]
        assert set(names[1:-1]) <= {"create"}, set(names[1:-1])
        assert events[-1].json["reason"] == "overflow"
        assert ended, "the overflowed stream's body did not end"
        # and the connection is closed, not kept alive with its full socket buffers
        sock.settimeout(5)
        assert sock.recv(1) == b"", "the overflowed stream's connection was kept open"
        seqs = [e.seq for e in events if e.event == "create"]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap in the slow reader's prefix"
        assert len(seqs) < BURST + BIG_LISTS
        sock.close()
    deadline = time.monotonic() + 5
    while metric(srv, "backbone_sse_streams_open") not in (0.0, None) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert metric(srv, "backbone_sse_streams_open") in (0.0, None)
    overflowed = metric(srv, "backbone_sse_streams_overflowed_total")
    assert overflowed == SLOW_CLIENTS, overflowed


def test_resume_catches_up_a_backlog_larger_than_the_stream_buffer(make_server):
    """A client that was away while ~2 MB of changes happened reconnects and reads
    promptly: the replay must be paced by its reading, not pushed into the stream
    buffer at once (which overflows, so the client could never catch up from the
    log). Default --stream-buffer (256 KiB)."""
    srv = make_server()
    s, hello = subscribe(srv.port, "/todos")
    s.close()
    pad = ["r" * 100] * 100  # ~10 KB a document
    sess = requests.Session()
    docs = []
    for i in range(200):
        r = sess.post(srv.url + "/todos", json={"title": f"backlog {i}", "tags": pad}, timeout=30)
        assert r.status_code == 201
        docs.append(r.json()["id"])
    sess.close()
    s2, hello2 = subscribe(srv.port, "/todos", last_event_id=hello.id)
    got = []
    with s2:
        try:
            while len(got) < len(docs):
                got.append(s2.next(timeout=30))
                if got[-1].event != "create":
                    break
        except StreamClosed:
            pass
    creates = [e for e in got if e.event == "create"]
    assert len(creates) == len(docs) and len(got) == len(docs), \
        f"replay of {len(docs)} changes ended after {len(creates)} with {got[-1] if got else None}"
    assert [e.json["id"] for e in got] == docs


def test_a_document_larger_than_the_stream_buffer_is_still_delivered(make_server):
    """A reader that keeps up must get every event, even one bigger than
    --stream-buffer (a 300 KB document is within the default 1 MiB --max-body);
    otherwise every stream of the collection is reset on it, and resuming past it
    resets again, forever."""
    srv = make_server()
    s, hello = subscribe(srv.port, "/todos")
    with s:
        r = srv.post("/todos", json={"title": "big", "tags": ["b" * 100] * 3000})
        assert r.status_code == 201
        doc = r.json()
        ev = s.next(timeout=10)
        assert (ev.event, ev.json.get("doc")) == ("create", doc), ev
    s2, _ = subscribe(srv.port, "/todos", last_event_id=hello.id)
    with s2:
        ev = s2.next(timeout=10)
        assert (ev.event, ev.json.get("doc")) == ("create", doc), ev


STREAMS = 2000
EVENTS = 20


def test_2000_concurrent_streams_all_receive_a_burst(make_server):
    assert raise_nofile(STREAMS + 512) >= STREAMS + 100
    srv = make_server()
    streams = []
    try:
        for _ in range(STREAMS):
            streams.append(NonBlockingStream(srv.port, "/todos"))
        ok = pump(streams, lambda: all(len(s.events) >= 1 or s.closed for s in streams), timeout=60)
        opened = sum(1 for s in streams if s.events and s.events[0].event == "hello")
        assert ok and opened == STREAMS, f"{opened} of {STREAMS} streams got their hello"
        assert all(s.head.status == 200 for s in streams)

        docs = [srv.create(title=f"fan-out {i}") for i in range(EVENTS)]
        ok = pump(streams, lambda: all(len(s.events) >= EVENTS + 1 or s.closed for s in streams), timeout=60)
        complete = sum(1 for s in streams if len(s.events) >= EVENTS + 1)
        assert ok and complete == STREAMS, f"{complete} of {STREAMS} streams got all {EVENTS} events"
        want = [(("create", d["id"])) for d in docs]
        ids = None
        for s in streams:
            got = s.events[1:]
            assert [(e.event, e.json["id"]) for e in got] == want
            if ids is None:
                ids = [e.id for e in got]
            assert [e.id for e in got] == ids
            assert not s.closed
        assert srv.healthy()
    finally:
        for s in streams:
            s.close()
    # The server notices they left.
    deadline = time.monotonic() + 10
    while (metric(srv, "backbone_sse_streams_open") or 0) > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (metric(srv, "backbone_sse_streams_open") or 0) == 0


def _sockets(pid):
    """Sockets the process holds open (its store's files come and go with its threads)."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def test_streams_dropped_while_writes_flow_leave_nothing_behind(make_server):
    """Once its head is out a stream is written on the server's own copy of its socket:
    whichever sees a client leave first (a write's send, or the server's watch on the
    socket), the stream must end once, and give back its descriptor and its place.
    Half the clients close, half reset; writes flow all along."""
    srv = make_server()
    pid = srv.proc.pid
    stop = threading.Event()
    errors = []

    def churn(rounds):
        for _ in range(rounds):
            socks = []
            for _ in range(60):
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
                s.sendall(b"GET /todos HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
                socks.append(s)
            for s in socks:
                s.settimeout(5)
                assert s.recv(4096).startswith(b"HTTP/1.1 200")
            time.sleep(0.05)
            for i, s in enumerate(socks):
                if i % 2:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()

    def settled(baseline):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (metric(srv, "backbone_sse_streams_open") or 0) == 0 and _sockets(pid) <= baseline:
                return True
            time.sleep(0.2)
        return False

    # A round of everything first (the server's own sockets settle), then the count the
    # churn must come back to.
    post_burst(srv, 20, tag="warmup")
    churn(1)
    settled(0)
    baseline = _sockets(pid)

    def write():
        s = requests.Session()
        try:
            while not stop.is_set():
                r = s.post(srv.url + "/todos", json={"title": "churn", "tags": PAD}, timeout=30)
                assert r.status_code == 201, r.text
        except BaseException as e:
            errors.append(e)
        finally:
            s.close()

    writers = [threading.Thread(target=write) for _ in range(2)]
    for w in writers:
        w.start()
    try:
        churn(8)
    finally:
        stop.set()
        for w in writers:
            w.join()
    assert not errors, errors
    assert settled(baseline + 2), (
        f"{metric(srv, 'backbone_sse_streams_open')} streams and {_sockets(pid)} sockets open, "
        f"{baseline} before")
    assert srv.healthy()
