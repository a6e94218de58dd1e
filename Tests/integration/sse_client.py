"""A real Server-Sent Events client for the stream tests: raw sockets, HTTP/1.1,
chunked transfer decoding, and the SSE parsing rules of the HTML standard (`id:`,
`event:`, `data:`, `retry:` fields, comments, blank-line frame ends, any of CRLF / LF /
CR as line ends). No mocks, no third-party SSE library.

- `SSEParser`, `ChunkedDecoder`, `ResponseHead`: incremental, sans-I/O pieces.
- `SSEStream`: one blocking connection with timeouts (`open_stream(...)`).
- `NonBlockingStream`: the same pieces driven by `selectors`, for thousands of
  streams in one thread (`open_many`, `pump`).
- Helpers: cursor parsing, write helpers that return the stored document, RSS.
"""

import json
import re
import resource
import selectors
import socket
import time
import urllib.parse

CURSOR_RE = re.compile(r"^([0-9a-f]+)-(\d+)$")
_EOL = re.compile(rb"\r\n|\r|\n")


def parse_cursor(text):
    """`<epochhex>-<seq>` → (epoch, seq); AssertionError when malformed."""
    m = CURSOR_RE.match(text or "")
    assert m, f"not a cursor: {text!r}"
    return m.group(1), int(m.group(2))


def cursor_seq(text):
    return parse_cursor(text)[1]


def make_cursor(epoch, seq):
    return f"{epoch}-{seq}"


class StreamClosed(Exception):
    """The server ended the stream (chunked terminator, EOF or reset)."""


class StreamTimeout(AssertionError):
    """No complete event arrived in time (an AssertionError so pytest shows it plainly)."""


# --- sans-I/O pieces ----------------------------------------------------------------


class Event:
    """One dispatched SSE event. `id` is the event's own `id:` field (None when the frame
    had none); `last_event_id` is the stream's last event id after it (what an
    EventSource would send as Last-Event-ID)."""

    __slots__ = ("event", "data", "id", "last_event_id", "retry", "received_at", "raw")

    def __init__(self, event, data, id, last_event_id, retry, raw):
        self.event = event
        self.data = data
        self.id = id
        self.last_event_id = last_event_id
        self.retry = retry
        self.raw = raw
        self.received_at = time.monotonic()

    @property
    def json(self):
        return json.loads(self.data)

    @property
    def seq(self):
        return cursor_seq(self.id)

    def __repr__(self):
        return f"Event({self.event!r}, id={self.id!r}, data={self.data[:120]!r})"


class SSEParser:
    """Incremental parser following the HTML standard's event-stream interpretation.

    Differences from EventSource, on purpose: a frame whose data is empty is still
    reported when it has an `event:` or `id:` field (the server always sends data, and
    a test wants to see anything it sends); retry-only frames only update `retry`.
    Every field line must be well formed; anything odd is recorded in `anomalies`."""

    def __init__(self):
        self._buf = b""
        self._pending_cr = False
        self.last_event_id = ""
        self.retry = None
        self.retries = []  # every retry: value seen, in order
        self.anomalies = []
        self._reset_frame()

    def _reset_frame(self):
        self._event = ""
        self._data = []
        self._id = None
        self._has_fields = False
        self._raw = []

    def feed(self, data):
        """Bytes in; list of complete Events out."""
        out = []
        if not data:
            return out
        if self._pending_cr and data[:1] == b"\n":
            data = data[1:]  # the LF of a CRLF split across reads
        self._pending_cr = False
        buf = self._buf + data
        start = 0
        n = len(buf)
        for m in _EOL.finditer(buf):
            ev = self._line(buf[start:m.start()])
            if ev is not None:
                out.append(ev)
            start = m.end()
            # A CR ends its line at once; remember it, its LF may come in the next read.
            self._pending_cr = m.group() == b"\r" and start == n
        self._buf = buf[start:]
        return out

    def _line(self, raw_line):
        line = raw_line.decode("utf-8")  # SSE is UTF-8 only; a decode error fails the test
        if line == "":
            return self._dispatch()
        self._raw.append(line)
        if line.startswith(":"):
            return None  # comment
        if ":" in line:
            field, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            field, value = line, ""
        if field == "event":
            self._event = value
            self._has_fields = True
        elif field == "data":
            self._data.append(value)
            self._has_fields = True
        elif field == "id":
            if "\x00" not in value:
                self._id = value
                self.last_event_id = value
            self._has_fields = True
        elif field == "retry":
            if value.isdigit():
                self.retry = int(value)
                self.retries.append(int(value))
            else:
                self.anomalies.append(f"bad retry line {line!r}")
        else:
            self.anomalies.append(f"unknown field line {line!r}")
        return None

    def _dispatch(self):
        if not self._has_fields:
            self._reset_frame()
            return None
        ev = Event(self._event or "message", "\n".join(self._data), self._id, self.last_event_id, self.retry,
                   "\n".join(self._raw))
        self._reset_frame()
        return ev


class ChunkedDecoder:
    """Incremental decoder of HTTP/1.1 chunked transfer coding."""

    def __init__(self):
        self._buf = b""
        self._remaining = None  # bytes left in the current chunk, None when a size line is due
        self._need_crlf = False
        self.done = False

    def feed(self, data):
        self._buf += data
        out = []
        while not self.done:
            if self._need_crlf:
                if len(self._buf) < 2:
                    break
                if self._buf[:2] != b"\r\n":
                    raise AssertionError(f"bad chunk framing: {self._buf[:20]!r}")
                self._buf = self._buf[2:]
                self._need_crlf = False
            if self._remaining is None:
                nl = self._buf.find(b"\r\n")
                if nl < 0:
                    break
                size_text = self._buf[:nl].split(b";", 1)[0].strip()
                size = int(size_text, 16)
                self._buf = self._buf[nl + 2:]
                if size == 0:
                    self.done = True  # trailers are ignored
                    break
                self._remaining = size
            take = min(self._remaining, len(self._buf))
            if take == 0:
                break
            out.append(self._buf[:take])
            self._buf = self._buf[take:]
            self._remaining -= take
            if self._remaining == 0:
                self._remaining = None
                self._need_crlf = True
        return b"".join(out)


class ResponseHead:
    """Status line and headers of an HTTP/1.1 response."""

    def __init__(self, raw):
        text = raw.decode("latin-1")
        lines = text.split("\r\n")
        parts = lines[0].split(" ", 2)
        assert parts[0].startswith("HTTP/1."), f"not an HTTP response: {lines[0]!r}"
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        self.header_list = []
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.partition(":")
            self.header_list.append((k.strip(), v.strip()))
        self.headers = {}
        for k, v in self.header_list:
            self.headers[k.lower()] = v

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    @property
    def chunked(self):
        return "chunked" in self.header("Transfer-Encoding", "").lower()

    @property
    def content_length(self):
        v = self.header("Content-Length")
        return int(v) if v is not None else None


def build_request(path, headers=None, method="GET", accept="text/event-stream", host="127.0.0.1"):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    hdrs = dict(headers or {})
    if accept is not None and not any(k.lower() == "accept" for k in hdrs):
        hdrs["Accept"] = accept
    for k, v in hdrs.items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def stream_path(base, **params):
    """`/todos` + query parameters (None values dropped; values url-encoded)."""
    items = [(k, v) for k, v in params.items() if v is not None]
    if not items:
        return base
    return base + ("&" if "?" in base else "?") + urllib.parse.urlencode(items, safe=",[]$")


# --- blocking client ----------------------------------------------------------------


class SSEStream:
    """One stream over a raw socket. `open_stream` returns it once the response head is
    in; `status` / `headers` say what came back. For a non-200 answer, `body` holds the
    whole body (Content-Length) and there are no events."""

    def __init__(self, port, path, headers=None, accept="text/event-stream", timeout=10.0,
                 rcvbuf=None, host="127.0.0.1"):
        self.port = port
        self.path = path
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.sendall(build_request(path, headers, accept=accept))
        self.parser = SSEParser()
        self.decoder = None
        self.closed = False  # the server ended the body / connection
        self.events = []  # every event received so far (pings included)
        self._queue = []  # events not yet handed out by next()
        self.bytes_received = 0
        self._raw = b""
        self.head = None
        self.body = b""
        self._read_head(timeout)

    # head ---------------------------------------------------------------------------

    def _read_head(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self._raw:
            chunk = self._recv(deadline)
            if not chunk:
                raise StreamClosed(f"connection closed before the response head: {self._raw!r}")
            self._raw += chunk
        head, _, rest = self._raw.partition(b"\r\n\r\n")
        self._raw = b""
        self.head = ResponseHead(head)
        if self.head.status != 200 or not self.head.header("Content-Type", "").startswith("text/event-stream"):
            # An ordinary response: read its body whole.
            length = self.head.content_length
            if self.head.chunked:
                self.decoder = ChunkedDecoder()
                body = self.decoder.feed(rest)
                while not self.decoder.done:
                    chunk = self._recv(deadline)
                    if not chunk:
                        break
                    body += self.decoder.feed(chunk)
            else:
                body = rest
                while length is not None and len(body) < length:
                    chunk = self._recv(deadline)
                    if not chunk:
                        break
                    body += chunk
            self.body = body
            self.close()
            self.closed = True
            return
        if self.head.chunked:
            self.decoder = ChunkedDecoder()
        self._absorb(rest)

    @property
    def status(self):
        return self.head.status

    @property
    def headers(self):
        return self.head.headers

    def json_body(self):
        return json.loads(self.body)

    # reading ------------------------------------------------------------------------

    def _recv(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(262144)
        except (ConnectionResetError, BrokenPipeError):
            return b""
        self.bytes_received += len(data)
        return data

    def _absorb(self, data):
        if self.decoder is not None:
            payload = self.decoder.feed(data)
            if self.decoder.done:
                self.closed = True
        else:
            payload = data
        evs = self.parser.feed(payload)
        self.events.extend(evs)
        self._queue.extend(evs)

    def _fill(self, deadline):
        """Reads once; returns False when the stream has ended."""
        if self.closed:
            return False
        try:
            data = self._recv(deadline)
        except socket.timeout:
            raise
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        self._absorb(data)
        return not self.closed or bool(self._queue)

    def next(self, timeout=10.0, skip_pings=True):
        """The next event (pings skipped unless asked). Raises StreamTimeout, or
        StreamClosed when the stream ends first."""
        deadline = time.monotonic() + timeout
        while True:
            while self._queue:
                ev = self._queue.pop(0)
                if skip_pings and ev.event == "ping":
                    continue
                return ev
            if self.closed:
                raise StreamClosed(f"stream {self.path} ended; last event id {self.parser.last_event_id!r}")
            try:
                self._fill(deadline)
            except socket.timeout:
                raise StreamTimeout(f"no event on {self.path} within {timeout}s "
                                    f"(last event id {self.parser.last_event_id!r})") from None

    def take(self, n, timeout=10.0, skip_pings=True):
        """The next n events; the timeout covers all of them."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            remaining = deadline - time.monotonic()
            try:
                out.append(self.next(timeout=max(remaining, 0.001), skip_pings=skip_pings))
            except StreamTimeout:
                raise StreamTimeout(f"got {len(out)} of {n} events on {self.path} in {timeout}s: "
                                    f"{[(e.event, e.id) for e in out][-5:]}") from None
        return out

    def take_until(self, predicate, timeout=10.0, skip_pings=True):
        """Events up to and including the first that satisfies predicate."""
        deadline = time.monotonic() + timeout
        out = []
        while True:
            remaining = deadline - time.monotonic()
            try:
                ev = self.next(timeout=max(remaining, 0.001), skip_pings=skip_pings)
            except StreamTimeout:
                raise StreamTimeout(f"condition not met on {self.path} in {timeout}s after {len(out)} events: "
                                    f"{[(e.event, e.id) for e in out][-5:]}") from None
            out.append(ev)
            if predicate(ev):
                return out

    def expect_quiet(self, seconds, skip_pings=True):
        """Asserts no (non-ping) event arrives within `seconds`; returns nothing."""
        try:
            ev = self.next(timeout=seconds, skip_pings=skip_pings)
        except StreamTimeout:
            return
        raise AssertionError(f"unexpected event on {self.path}: {ev!r}")

    def read_to_end(self, timeout=10.0):
        """Every remaining event until the server ends the stream (pings included)."""
        deadline = time.monotonic() + timeout
        out = []
        while True:
            try:
                out.append(self.next(timeout=max(deadline - time.monotonic(), 0.001), skip_pings=False))
            except StreamClosed:
                return out

    def hello(self, timeout=10.0):
        """The first event, which must be `hello`."""
        ev = self.next(timeout=timeout)
        assert ev.event == "hello", f"first event is {ev!r}, not hello"
        return ev

    @property
    def last_event_id(self):
        return self.parser.last_event_id

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_stream(port, path, last_event_id=None, headers=None, timeout=10.0, **kw):
    hdrs = dict(headers or {})
    if last_event_id is not None:
        hdrs["Last-Event-ID"] = last_event_id
    return SSEStream(port, path, headers=hdrs, timeout=timeout, **kw)


def subscribe(port, path, last_event_id=None, headers=None, timeout=10.0, **kw):
    """Opens a stream, asserts 200 and returns (stream, hello event)."""
    s = open_stream(port, path, last_event_id=last_event_id, headers=headers, timeout=timeout, **kw)
    assert s.status == 200, (s.status, s.body)
    return s, s.hello(timeout=timeout)


# --- many streams in one thread -----------------------------------------------------


class NonBlockingStream:
    """A stream driven by a selector: connect, send, parse whatever arrives."""

    def __init__(self, port, path, headers=None, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.request = build_request(path, headers)
        self.sent = 0
        self.head = None
        self._raw = b""
        self.decoder = None
        self.parser = SSEParser()
        self.events = []
        self.closed = False
        self.error = None
        err = self.sock.connect_ex((host, port))
        if err not in (0, 115, 11):  # EINPROGRESS / EAGAIN
            raise OSError(err, "connect failed")

    def fileno(self):
        return self.sock.fileno()

    def on_writable(self):
        try:
            n = self.sock.send(self.request[self.sent:])
        except BlockingIOError:
            return
        self.sent += n

    @property
    def wants_write(self):
        return self.sent < len(self.request)

    def on_readable(self):
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as e:
            self.error = e
            self.closed = True
            return
        if not data:
            self.closed = True
            return
        if self.head is None:
            self._raw += data
            if b"\r\n\r\n" not in self._raw:
                return
            head, _, data = self._raw.partition(b"\r\n\r\n")
            self._raw = b""
            self.head = ResponseHead(head)
            if self.head.chunked:
                self.decoder = ChunkedDecoder()
        if self.decoder is not None:
            data = self.decoder.feed(data)
            if self.decoder.done:
                self.closed = True
        self.events.extend(e for e in self.parser.feed(data) if e.event != "ping")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def pump(streams, until, timeout, sel=None):
    """Drives `streams` with one selector until `until()` is true or `timeout` passes.
    Returns True when the condition was met."""
    own = sel is None
    if own:
        sel = selectors.DefaultSelector()
        for s in streams:
            if not s.closed:
                sel.register(s.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if s.wants_write else 0), s)
    deadline = time.monotonic() + timeout
    try:
        while not until():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            for key, mask in sel.select(timeout=min(remaining, 0.5)):
                s = key.data
                if mask & selectors.EVENT_WRITE:
                    s.on_writable()
                    if not s.wants_write:
                        sel.modify(s.sock, selectors.EVENT_READ, s)
                if mask & selectors.EVENT_READ:
                    s.on_readable()
                    if s.closed:
                        sel.unregister(s.sock)
        return True
    finally:
        if own:
            sel.close()


def raise_nofile(wanted):
    """Raises this process's open-file limit as far as the hard limit allows; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- odds and ends ------------------------------------------------------------------


def rss_kib(pid):
    """VmRSS of a process, in KiB, from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def metric(srv, name):
    """The value of an unlabelled metric on /metrics, or None when not (yet) emitted."""
    r = srv.get("/metrics")
    assert r.status_code == 200
    for line in r.text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{}"):
            return float(line.rsplit(" ", 1)[1])
    return None


def head_cursor(srv, collection="todos"):
    """The store's current head, from X-Stream-Cursor of an empty page."""
    r = srv.get(f"/{collection}", params={"limit": "1"})
    assert r.status_code == 200, r.text
    return r.headers["X-Stream-Cursor"]
