"""One client must not take every connection (issue 13, finding 2): a per-address cap
on connections (`--max-connections-per-ip`) and a bound on the time a request takes
to arrive, however slowly its bytes trickle (`--request-timeout`). Both log a line
when they bite, rate-limited. Raw sockets: the clients here misbehave on purpose."""

import socket
import subprocess
import time

from conftest import BIN, REPO, raw_exchange

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
STREAM = b"GET /todos HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"


def _closed_by_server(s, within):
    """True when the server closes (EOF or reset) `s` within `within` seconds."""
    s.settimeout(within)
    try:
        return s.recv(1024) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def _wait_for_log(srv, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in srv.stderr_tail(200):
            return srv.stderr_tail(200)
        time.sleep(0.1)
    return srv.stderr_tail(200)


def _answered(sockets, request, failure):
    """Sends `request` on each of `sockets`, then asserts each gets a 200 (the server
    has accepted them all once it has: accepting is asynchronous)."""
    for s in sockets:
        s.sendall(request)
    for s in sockets:
        s.settimeout(5)
        assert s.recv(4096).startswith(b"HTTP/1.1 200"), failure


def test_the_connection_past_the_per_address_cap_is_closed_while_the_others_work(make_server):
    srv = make_server("--max-connections-per-ip", "20")
    # 15 held, each answering a request. Not 20: the start-up probe's connections from this
    # address may still be open on the server's side for a moment, and count.
    held = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(15)]
    unserved = "a connection within the cap was not served"
    more = []
    try:
        _answered(held, HEALTHZ, unserved)
        # Ten more: at most five fit under the cap, the rest are closed at once.
        more = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(10)]
        closed = sum(_closed_by_server(s, 1) for s in more)
        assert 5 <= closed <= 10, f"{10 - closed} connections past 15 were kept with a cap of 20"
        _answered(held, HEALTHZ, unserved)
        log = _wait_for_log(srv, "connection_limit")
        assert "connections refused" in log and "limit.count" in log, log
    finally:
        for s in held + more:
            s.close()
    # Closed ones free their places.
    time.sleep(0.5)
    r = raw_exchange(srv.port, HEALTHZ)
    assert r is not None and r.startswith(b"HTTP/1.1 200"), r


def test_open_streams_count_against_the_per_address_cap(make_server):
    # A stream leaves libmicrohttpd once its head is out (the server writes it on its
    # own socket from then on); it must still hold one of its client's places.
    # 15 streams under a cap of 20, as above: the start-up probe's connections from this
    # address may still be open on the server's side for a moment, and count.
    srv = make_server("--max-connections-per-ip", "20")
    streams = []
    more = []
    try:
        streams = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(15)]
        _answered(streams, STREAM, "a stream within the cap was refused")
        time.sleep(0.3)  # the probe's connections close; the streams are handed off
        more = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(10)]
        closed = sum(_closed_by_server(s, 1) for s in more)
        assert 5 <= closed <= 10, f"{10 - closed} connections past 15 open streams were kept with a cap of 20"
        for s in more:
            s.close()
        more = []
        # A stream that ends gives its place back.
        for s in streams[:5]:
            s.close()
        time.sleep(0.5)
        r = raw_exchange(srv.port, HEALTHZ)
        assert r is not None and r.startswith(b"HTTP/1.1 200"), r
        log = _wait_for_log(srv, "connection_limit")
        assert "connections refused" in log, log
        # Every stream gone, the places are exactly the cap again: none kept by a
        # stream that ended, none given back twice.
        for s in streams:
            s.close()
        streams = []
        time.sleep(0.5)
        more = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(20)]
        _answered(more, HEALTHZ, "a place of an ended stream was not given back")
        past = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(3)]
        more += past
        assert all(_closed_by_server(s, 1) for s in past), "a connection past the cap was kept"
    finally:
        for s in streams + more:
            s.close()


def test_a_slow_header_sender_is_cut_off_at_the_request_timeout(make_server):
    srv = make_server("--request-timeout", "2")
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        started = time.monotonic()
        # One byte every 0.5 s: the idle timeout (120 s) never fires, the request
        # timeout must.
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        cut = False
        for byte in request:
            try:
                slow.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            slow.settimeout(0.5)
            try:
                if slow.recv(1024) == b"":
                    cut = True
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                cut = True
                break
            if time.monotonic() - started > 10:
                break
        elapsed = time.monotonic() - started
        assert cut, f"a request still arriving after {elapsed:.1f} s was not cut off"
        assert 1.5 < elapsed < 5, elapsed
    finally:
        slow.close()
    r = raw_exchange(srv.port, HEALTHZ)
    assert r is not None and r.startswith(b"HTTP/1.1 200"), r
    log = _wait_for_log(srv, "request_timeout")
    assert "request not received within the request timeout" in log, log


def test_an_answered_stream_outlives_the_request_timeout(make_server):
    srv = make_server("--request-timeout", "1")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(STREAM)
        s.settimeout(5)
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        # Several request timeouts later the stream is still open.
        assert not _closed_by_server(s, 3.5), "the request timeout closed an answered stream"
    finally:
        s.close()


def test_a_keep_alive_connection_gets_a_fresh_request_timeout_per_request(make_server):
    srv = make_server("--request-timeout", "2")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        for _ in range(4):  # 4 requests spaced 1 s apart: 3 s in all, past the 2 s limit
            s.sendall(HEALTHZ)
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
            time.sleep(1)
    finally:
        s.close()


def _status(port, request):
    data = raw_exchange(port, request, timeout=10)
    assert data, "closed without an answer"
    return int(data.split(b" ", 2)[1])


def _with_cookie(n):
    return (b"GET /todos HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close\r\nCookie: c="
            + b"x" * n + b"\r\n\r\n")


def _with_url(n):
    return b"GET /todos?title=" + b"a" * n + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def test_connection_memory_bounds_the_request_head_as_the_readme_says(make_server):
    """README: by default a URL of up to about 10.9 KB and a `Cookie` of about 5.4 KB get
    through (a browser's 4 KB cookie with room to spare); `--connection-memory` moves
    both, and past them the answer is 414 or 431, not a dropped connection
    (test_request_head_room.py sweeps the sizes in between)."""
    default = make_server()
    assert _status(default.port, _with_cookie(5000)) == 200
    assert _status(default.port, _with_cookie(5600)) == 431
    assert _status(default.port, _with_url(10500)) == 200
    assert _status(default.port, _with_url(11500)) == 414
    assert _status(default.port, _with_url(13000)) == 414
    small = make_server("--connection-memory", "8KiB")
    assert _status(small.port, _with_cookie(3000)) == 200
    assert _status(small.port, _with_cookie(5000)) == 431
    assert _status(small.port, _with_url(11000)) == 414
    large = make_server("--connection-memory", "32KiB")
    assert _status(large.port, _with_cookie(12000)) == 200
    assert _status(large.port, _with_url(30000)) == 200


def test_a_list_budget_out_of_bounds_stops_the_start():
    for value in ("-1", "1e17", "nan", "soon"):
        config = f"{REPO}/Tests/support/collections.yaml"
        r = subprocess.run([BIN, "serve", "--config", config, f"--list-budget={value}", "--port", "0"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 64 and "--list-budget" in r.stderr, (value, r.returncode, r.stderr)


def test_a_connection_memory_out_of_bounds_stops_the_start():
    for value in ("1KiB", "2MiB", "lots"):
        config = f"{REPO}/Tests/support/collections.yaml"
        r = subprocess.run([BIN, "serve", "--config", config, "--connection-memory", value, "--port", "0"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "--connection-memory" in r.stderr, (value, r.returncode, r.stderr)
