"""Streams across the server's life: an expired cursor after the change log was
pruned, resume after kill -9, and a clean SIGTERM (`bye`, exit 0, resume after the
restart). Each test has its own server and data directory."""

import signal
import socket
import time

from sse_client import (StreamClosed, build_request, cursor_seq, head_cursor, make_cursor, metric, open_stream, parse_cursor,
                        stream_path, subscribe)


def creates(srv, n, tag, collection="todos"):
    return [srv.create(collection, title=f"{tag} {i}") if collection == "todos" else srv.create(collection, name=f"{tag} {i}")
            for i in range(n)]


def ids_of(events):
    return [e.json["id"] for e in events]


def wait_for_reset(port, path, timeout=10.0):
    """Pruning runs in the background right after the start: retry until the cursor is
    refused. Returns (stream, hello, reset event)."""
    deadline = time.monotonic() + timeout
    while True:
        s, hello = subscribe(port, path)
        try:
            ev = s.next(timeout=1.0)
        except AssertionError:
            ev = None
        if ev is not None and ev.event == "reset":
            return s, hello, ev
        s.close()
        assert time.monotonic() < deadline, f"{path}: no reset within {timeout}s (got {ev!r})"
        time.sleep(0.1)


def test_expired_cursor_after_pruning_gets_reset_and_retention_is_exact(make_server):
    keep = 5
    srv = make_server("--retain-count", str(keep))
    docs = creates(srv, 20, "old")
    head = head_cursor(srv)
    epoch, head_seq = parse_cursor(head)
    # The log is pruned at start (and every 60 s): a restart makes it deterministic.
    assert srv.restart() == 0
    assert head_cursor(srv) == head  # same store, same epoch, same head

    s, hello, reset = wait_for_reset(srv.port, stream_path("/todos", since=make_cursor(epoch, 0)))
    with s:
        assert reset.json["reason"] == "expired"
        assert reset.id == head
        # The restarted server pruned all but the newest `keep`, and says so.
        assert metric(srv, "backbone_sse_stream_log_pruned_total") == 20 - keep
        assert hello.json["cursor"] == hello.id
        live = srv.create(title="live after reset")
        ev = s.next()
        assert (ev.event, ev.json["id"], ev.id) == ("create", live["id"], make_cursor(epoch, head_seq + 1))
    head_seq += 1
    docs.append(live)

    # Exactly the newest `keep` entries remain: resuming `keep` back works...
    s, hello = subscribe(srv.port, stream_path("/todos", since=make_cursor(epoch, head_seq - 1 - keep)))
    with s:
        got = s.take(keep + 1)
        assert [e.event for e in got] == ["create"] * (keep + 1)
        assert ids_of(got) == [d["id"] for d in docs[-(keep + 1):]]
        s.expect_quiet(0.2)
    # ... one further back does not (checked with Last-Event-ID, as EventSource resumes).
    s, hello = subscribe(srv.port, "/todos", last_event_id=make_cursor(epoch, head_seq - 2 - keep))
    with s:
        reset = s.next()
        assert reset.event == "reset" and reset.json["reason"] == "expired", reset
        assert reset.id == make_cursor(epoch, head_seq)


def test_resume_after_kill_9(make_server):
    srv = make_server()
    s, _ = subscribe(srv.port, "/todos")
    seen_docs = creates(srv, 3, "seen")
    seen = s.take(3)
    assert ids_of(seen) == [d["id"] for d in seen_docs]
    last = s.last_event_id
    # Acknowledged but never read by this client, then the crash.
    unread = creates(srv, 2, "unread")
    srv.kill()
    # The stream ends: the connection is closed or reset, no clean chunked end needed.
    try:
        s.read_to_end(timeout=5)
    except AssertionError as e:
        raise AssertionError("the stream of a killed server did not end") from e
    s.close()

    srv.start()
    after = creates(srv, 3, "after")
    after.append(srv.patch(f"/todos/{after[0]['id']}", json={"done": True}).json())
    s2, hello = subscribe(srv.port, "/todos", last_event_id=last)
    with s2:
        assert hello.id == last
        got = s2.take(len(unread) + len(after))
        assert ids_of(got) == [d["id"] for d in unread + after]
        assert [e.event for e in got] == ["create"] * 5 + ["update"]
        assert [e.json["v"] for e in got] == [d["_v"] for d in unread + after]
        seqs = [cursor_seq(e.id) for e in got]
        assert seqs == list(range(cursor_seq(last) + 1, cursor_seq(last) + 1 + len(got))), seqs
        s2.expect_quiet(0.3)


def test_sigterm_sends_bye_exits_0_and_resume_after_restart(make_server):
    srv = make_server()
    streams = [subscribe(srv.port, p)[0] for p in ("/todos", "/events?collections=todos,lists", "/lists/xyz")]
    docs = creates(srv, 2, "before")
    s = streams[0]
    assert ids_of(s.take(2)) == [d["id"] for d in docs]
    assert ids_of(streams[1].take(2)) == [d["id"] for d in docs]
    last = s.last_event_id

    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    for st in streams:
        rest = st.read_to_end(timeout=5)
        names = [e.event for e in rest if e.event != "ping"]
        assert names == ["bye"], f"{st.path}: {names}"
        bye = [e for e in rest if e.event == "bye"][0]
        assert bye.id is None  # the last event id stays the last change seen
        assert st.closed
    assert s.last_event_id == last
    code = srv.proc.wait(timeout=max(0.1, 5 - (time.monotonic() - t0)))
    assert code == 0, srv.stderr_tail()
    assert time.monotonic() - t0 < 5
    assert srv.stop() == 0  # already exited: only collects the exit code
    for st in streams:
        st.close()

    srv.start()
    after = creates(srv, 3, "after")
    lst = srv.create("lists", name="list after")
    s2, hello = subscribe(srv.port, "/todos", last_event_id=last)
    m2, _ = subscribe(srv.port, "/events?collections=todos,lists", last_event_id=last)
    with s2, m2:
        assert hello.id == last
        got = s2.take(3)
        assert ids_of(got) == [d["id"] for d in after]
        assert cursor_seq(got[0].id) == cursor_seq(last) + 1
        s2.expect_quiet(0.3)
        assert ids_of(m2.take(4)) == [d["id"] for d in after] + [lst["id"]]


def test_new_stream_during_shutdown_is_not_left_hanging(make_server):
    """A stream opened right as the server stops gets `bye` or is refused: it never
    hangs, and the server still exits 0 in time."""
    srv = make_server()
    s, _ = subscribe(srv.port, "/todos")
    srv.proc.send_signal(signal.SIGTERM)
    try:
        late = open_stream(srv.port, "/todos", timeout=5)
    except (ConnectionError, StreamClosed, OSError):
        late = None
    if late is not None and late.status == 200:
        rest = late.read_to_end(timeout=5)
        assert [e.event for e in rest if e.event not in ("ping", "hello")] in (["bye"], []), rest
        late.close()
    assert [e.event for e in s.read_to_end(timeout=5) if e.event != "ping"] == ["bye"]
    s.close()
    assert srv.proc.wait(timeout=5) == 0
    assert srv.stop() == 0


def test_sigterm_with_a_reader_that_never_reads_still_exits_in_time(make_server):
    """A stream whose client stopped reading cannot drain its `bye`: shutdown must
    still end within 5 s, with exit code 0."""
    # The normal stream is read only after the 4 MB are posted: room for all of it, so
    # that only the stuck reader can fall behind (with the default 256 KiB it was
    # closed as too slow whenever the kernel's socket buffers had not grown to take
    # the rest, as on a busy machine).
    srv = make_server("--stream-buffer", "8MiB")
    stuck = socket.create_connection(("127.0.0.1", srv.port))
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(build_request("/todos"))
    normal, _ = subscribe(srv.port, "/todos")
    # ~4 MB of events: more than the kernel buffers for one loopback socket.
    big = ["z" * 100] * 1000
    for i in range(40):
        r = srv.post("/todos", json={"title": f"big {i}", "tags": big})
        assert r.status_code == 201
    normal.take(40, timeout=30)
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    assert [e.event for e in normal.read_to_end(timeout=5) if e.event != "ping"] == ["bye"]
    try:
        code = srv.proc.wait(timeout=5)
    except Exception:
        raise AssertionError(f"server still running 5 s after SIGTERM with a stuck reader\n{srv.stderr_tail()}")
    elapsed = time.monotonic() - t0
    print(f"exit {elapsed:.2f}s after SIGTERM with a stuck reader")
    stuck.close()
    normal.close()
    assert code == 0, srv.stderr_tail()
    assert elapsed < 5, elapsed
    assert srv.stop() == 0


def test_sigterm_finishes_an_upload_that_is_arriving(make_server):
    """A request whose body is still arriving when SIGTERM comes is in flight too: it
    is read, handled and answered (and its document kept) before the server exits."""
    import json
    srv = make_server()
    body = json.dumps({"title": "uploaded during shutdown", "tags": ["t" * 100] * 300}).encode()
    sock = socket.create_connection(("127.0.0.1", srv.port))
    try:
        sock.sendall(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body[:1000])
        time.sleep(0.3)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sock.sendall(body[1000:])
        sock.settimeout(5)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            assert chunk, f"no answer to the upload (got {answer!r})"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    finally:
        sock.close()
    assert srv.proc.wait(timeout=5) == 0, srv.stderr_tail()
    assert time.monotonic() - t0 < 5
    srv.stop()
    srv.start()
    titles = [d["title"] for d in srv.get("/todos").json()]
    assert titles == ["uploaded during shutdown"]
