"""Fixtures for the integration suite: the real `backbone-sse` binary, started on an
ephemeral port with its own config file and a fresh data directory.

- `server`: one server for the whole session (most tests share it; they create
  their own documents and never assume the collection is empty).
- `cors_server`, `small_limit_server`, `big_limit_server`: session servers started
  with other flags.
- `make_server`: a factory for function-scoped servers (restart and crash tests);
  every server it starts is stopped when the test ends.

Every server's stderr goes to a file in its data directory; when a test fails, the
tail of the stderr of every server still running is attached to the report.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("BACKBONE_SSE_BIN", os.path.join(REPO, ".build", "debug", "backbone-sse"))

# The config of DESIGN.md §3, as the brief specifies it (JSON is valid YAML; the
# loader also takes .json files, but the test writes YAML to exercise that path).
CONFIG_YAML = """\
collections:
  todos:
    timestamps: true
    indexes: [done, created]
    unique: [slug]
    schema:
      type: object
      required: [title]
      properties:
        title: {type: string, minLength: 1, maxLength: 200}
        done: {type: boolean, default: false}
        priority: {type: integer}
        slug: {type: string}
        tags: {type: array, items: {type: string}}
  lists: {}
"""

LISTEN_RE = re.compile(r"listening on http://([0-9.]+):(\d+)")
START_TIMEOUT = 20.0

_running = []  # every Server currently running, for failure reports


class Server:
    """One backbone-sse process on one data directory; can be restarted on it."""

    def __init__(self, data_dir, extra_args=(), config_text=CONFIG_YAML):
        self.data_dir = data_dir
        os.makedirs(data_dir, exist_ok=True)
        self.config_path = os.path.join(data_dir, "collections.yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.db_path = os.path.join(data_dir, "app.sqlite")
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.generation = 0
        self.log_path = None
        self._log = None
        self.session = requests.Session()

    # --- process control -------------------------------------------------------

    def start(self):
        assert self.proc is None, "already running"
        if not os.access(BIN, os.X_OK):
            pytest.fail(f"backbone-sse binary not found at {BIN} (set BACKBONE_SSE_BIN)")
        self.generation += 1
        self.log_path = os.path.join(self.data_dir, f"stderr.{self.generation}.log")
        self._log = open(self.log_path, "wb")
        cmd = [BIN, "serve", "--config", self.config_path, "--port", "0",
               "--store", f"sqlite:{self.db_path}"] + self.extra_args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     cwd=self.data_dir)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            m = LISTEN_RE.search(self.stderr())
            if m:
                self.port = int(m.group(2))
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"backbone-sse exited with {self.proc.returncode} at start:\n{self.stderr()}")
            time.sleep(0.02)
        else:
            self.kill()
            raise RuntimeError(f"backbone-sse did not report its port in {START_TIMEOUT}s:\n{self.stderr()}")
        _running.append(self)
        self.session = requests.Session()
        # The start-up line comes after the daemon is listening; check anyway.
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                r = requests.get(self.url + "/healthz", timeout=2)
                if r.status_code == 200:
                    return r
                last = r.status_code
            except requests.RequestException as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"server not healthy: {last}\n{self.stderr_tail()}")

    def stop(self, timeout=15.0):
        """Clean shutdown: SIGTERM, wait for exit. Returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._forget()
            raise AssertionError(f"server did not exit within {timeout}s of SIGTERM\n{self.stderr_tail()}")
        self._forget()
        return code

    def kill(self):
        """kill -9: no chance to flush or clean up."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGKILL)
        code = self.proc.wait()
        self._forget()
        return code

    def restart(self, hard=False):
        """Stop (SIGTERM, or SIGKILL with hard=True) and start again on the same data."""
        code = self.kill() if hard else self.stop()
        self.start()
        return code

    def _forget(self):
        self.session.close()
        self.proc = None
        if self in _running:
            _running.remove(self)
        if self._log:
            self._log.close()
            self._log = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # --- diagnostics -----------------------------------------------------------

    def stderr(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr_tail(self, lines=40):
        return "\n".join(self.stderr().splitlines()[-lines:])

    # --- HTTP ------------------------------------------------------------------

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.url + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def create(self, collection="todos", **doc):
        r = self.post(f"/{collection}", json=doc)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()

    def count(self, collection="todos"):
        """Documents in a collection. `limit=0` returns no rows but, when any exist,
        says how many in X-Total-Count (the list is "truncated")."""
        r = self.get(f"/{collection}", params={"limit": "0"})
        assert r.status_code == 200, (r.status_code, r.text)
        assert r.json() == []
        return int(r.headers.get("X-Total-Count", "0"))

    def healthy(self):
        r = requests.get(self.url + "/healthz", timeout=10)
        return r.status_code == 200

    def raw(self, data, timeout=10.0, shutdown_write=False):
        """Sends raw bytes on a new connection; returns everything read until the
        server closes it or `timeout` passes (b"" if nothing, None on a reset before
        any byte)."""
        return raw_exchange(self.port, data, timeout=timeout, shutdown_write=shutdown_write)


def raw_exchange(port, data, timeout=10.0, shutdown_write=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    chunks = []
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if shutdown_write:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                return b"".join(chunks) if chunks else None
            if not chunk:
                break
            chunks.append(chunk)
            # A complete response with Content-Length: stop reading (keep-alive).
            whole = b"".join(chunks)
            head, sep, body = whole.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(body) >= int(m.group(1)):
                    break
    finally:
        s.close()
    return b"".join(chunks)


def parse_raw_response(raw):
    """(status, headers dict lower-cased, body bytes) of the first response in `raw`."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return status, headers, body


def assert_error(r, status, code=None):
    """The error body of DESIGN.md §1: {"error": {"status", "code", "message"}}."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["status"] == status, body
    assert isinstance(err["code"], str) and err["code"], body
    assert isinstance(err["message"], str) and err["message"], body
    if code is not None:
        assert err["code"] == code, body
    return err


def unique(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- fixtures --------------------------------------------------------------------


class ServerFactory:
    def __init__(self, base_dir):
        self.base_dir = base_dir
        self.servers = []

    def __call__(self, *extra_args, data_dir=None, config_text=CONFIG_YAML, start=True):
        if data_dir is None:
            data_dir = tempfile.mkdtemp(prefix="srv-", dir=self.base_dir)
        s = Server(data_dir, extra_args, config_text=config_text)
        self.servers.append(s)
        if start:
            s.start()
        return s

    def stop_all(self):
        for s in self.servers:
            if s.running:
                try:
                    s.stop(timeout=10)
                except AssertionError:
                    pass
            elif s.proc is not None:
                s._forget()


@pytest.fixture(scope="session")
def session_dir():
    d = tempfile.mkdtemp(prefix="backbone-sse-it-")
    yield d
    if os.environ.get("KEEP_TEST_DATA") != "1":
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def session_factory(session_dir):
    f = ServerFactory(session_dir)
    yield f
    f.stop_all()


@pytest.fixture(scope="session")
def server(session_factory):
    """The shared server: default flags."""
    return session_factory()


@pytest.fixture(scope="session")
def cors_server(session_factory):
    return session_factory("--cors-origin", "http://example.test")


@pytest.fixture(scope="session")
def small_limit_server(session_factory):
    return session_factory("--max-limit", "5")


@pytest.fixture
def make_server(session_dir):
    """Function-scoped servers: `make_server(*flags, data_dir=None)`; stopped at the end."""
    f = ServerFactory(session_dir)
    yield f
    f.stop_all()


@pytest.fixture(autouse=True)
def _no_server_crash(request):
    """After every test, each session server that was running must still be."""
    yield
    for s in list(_running):
        if s.proc is not None and s.proc.poll() is not None:
            code = s.proc.returncode
            tail = s.stderr_tail()
            s._forget()
            pytest.fail(f"server on port {s.port} died (exit {code}) during {request.node.nodeid}:\n{tail}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for s in list(_running):
            rep.sections.append((f"backbone-sse :{s.port} stderr (tail)", s.stderr_tail(30)))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes several seconds")
