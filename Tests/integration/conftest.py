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

Starting, stopping and restarting the binary is Tests/support/backbone_server.py,
shared with the browser suite; this file adds the HTTP helpers and the fixtures.

`BACKBONE_SSE_STORE=mongodb` runs the whole suite on MongoDB (the test double of
Tests/mongo, or MONGODB_URI): see backbone_server.py. `stored_changes` and
`stored_ids` read what a server's store holds, SQLite file or MongoDB database alike,
for the tests that check the store itself after the server has stopped.
"""

import json
import os
import re
import socket
import sqlite3
import sys
import threading
import time
import uuid

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

import backbone_server  # noqa: E402
from backbone_server import (  # noqa: E402,F401
    BIN, LISTEN_RE, REPO, START_TIMEOUT, STORE, MongoDouble, ServerSet, not_on_the_double, scratch_dir, sqlite_only)

# The collections every test server serves, shared with the in-process Swift tests
# (written to the server's folder as YAML, which is what the loader reads by default).
with open(os.path.join(REPO, "Tests", "support", "collections.yaml"), encoding="utf-8") as f:
    CONFIG_YAML = f.read()

_running = backbone_server.running  # every Server currently running, for failure reports


class Server(backbone_server.Server):
    """One backbone-sse process on one data directory (which also holds its config
    file and stderr logs); can be restarted on it, on a new port."""

    def __init__(self, data_dir, extra_args=(), config_text=CONFIG_YAML):
        super().__init__(data_dir, config_text=config_text, extra_args=extra_args)

    # --- HTTP ------------------------------------------------------------------

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


def for_store(sqlite, mongodb):
    """A size for the store under test: the MongoDB test double is a Python in-memory
    engine that scans whole collections (no indexes), so the heaviest loads are smaller
    against it. Against a real server (MONGODB_URI) the SQLite size is used."""
    return mongodb if STORE == "mongodb" and not os.environ.get("MONGODB_URI") else sqlite


def stored_changes(srv):
    """The change log as the store holds it, oldest first: dicts with seq, collection,
    id, op, v, doc (the JSON text, None for a delete), origin, at (ms)."""
    if STORE == "mongodb":
        import pymongo
        with pymongo.MongoClient(srv.store, serverSelectionTimeoutMS=5000) as client:
            entries = client.get_default_database()["_changes"].find({"s": "done"}).sort("_id", 1)
            return [{"seq": e["_id"], "collection": e["c"], "id": e["i"], "op": e["op"], "v": e["v"],
                     "doc": e.get("d"), "origin": e.get("o"), "at": e["at"]} for e in entries]
    with sqlite3.connect(f"file:{srv.db_path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT seq, collection, doc_id, op, v, doc, origin, at FROM changes ORDER BY seq").fetchall()
    return [dict(zip(("seq", "collection", "id", "op", "v", "doc", "origin", "at"), r)) for r in rows]


def stored_ids(srv, collection="todos"):
    """The ids of the documents the store holds in `collection`."""
    if STORE == "mongodb":
        import pymongo
        with pymongo.MongoClient(srv.store, serverSelectionTimeoutMS=5000) as client:
            return [str(d["_id"]) for d in client.get_default_database()[collection].find({}, {"_id": 1})]
    with sqlite3.connect(f"file:{srv.db_path}?mode=ro", uri=True) as db:
        return [r[0] for r in db.execute(f'SELECT id FROM "doc.{collection}"')]


class WritersUnderLoad:
    """`n` threads POSTing new todos to `srv` until `stop()`; every answer goes to
    `on_answer` (one at a time). A thread ends at its first connection error (the
    server was killed, say), or when `on_answer` returns False."""

    def __init__(self, srv, n, on_answer, timeout=30):
        self.srv, self.on_answer, self.timeout = srv, on_answer, timeout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._write, args=(k,)) for k in range(n)]
        for t in self._threads:
            t.start()

    def _write(self, k):
        s = requests.Session()
        i = 0
        while not self._stop.is_set():
            try:
                r = s.post(self.srv.url + "/todos", json={"title": f"w{k}-{i}"}, timeout=self.timeout)
            except requests.RequestException:
                return
            with self._lock:
                if self.on_answer(r) is False:
                    return
            i += 1

    def stop(self, join_timeout=30):
        self._stop.set()
        for t in self._threads:
            t.join(join_timeout)


def unique(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- fixtures --------------------------------------------------------------------


class ServerFactory(ServerSet):
    def __call__(self, *extra_args, data_dir=None, config_text=CONFIG_YAML, start=True):
        s = self.add(Server(data_dir or self.new_dir(), extra_args, config_text=config_text))
        if start:
            s.start()
        return s


@pytest.fixture(scope="session")
def session_dir():
    with scratch_dir("backbone-sse-it-") as d:
        yield d


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
