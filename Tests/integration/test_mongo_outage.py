"""MongoDB away and back (only with BACKBONE_SSE_STORE=mongodb, and only against the
test double: a real server named by MONGODB_URI cannot be stopped from here).

Each test has a double of its own, so the rest of the suite never sees the outage.
The double keeps its data in memory: stopped and started again, it comes back empty,
so "nothing acknowledged is lost" can only be checked within one lifetime of the
double — by pausing it (SIGSTOP: connected but silent, as a hung server or a dropped
network looks) instead of stopping it.
"""

import os
import time

import pytest
import requests

from conftest import STORE, MongoDouble, WritersUnderLoad, assert_error
from sse_client import open_stream

pytestmark = pytest.mark.skipif(
    STORE != "mongodb" or bool(os.environ.get("MONGODB_URI")),
    reason="needs BACKBONE_SSE_STORE=mongodb and the test double (a real server cannot be stopped by the test)")


@pytest.fixture
def double(tmp_path):
    d = MongoDouble(str(tmp_path))
    yield d
    if d.proc is not None:
        d.resume()  # a paused double would not stop on SIGTERM
    d.stop()


def server_on(make_server, uri):
    srv = make_server("--max-limit", "5000", start=False)
    srv.mongo_server = uri
    return srv.start()


def wait_healthy(srv, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(srv.url + "/healthz", timeout=10)
        if r.status_code == 200:
            return r
        time.sleep(0.2)
    raise AssertionError(f"not healthy again within {timeout}s:\n{srv.stderr_tail()}")


def assert_unavailable(r):
    err = assert_error(r, 503, "store_unavailable")
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    return err


def test_double_stopped_mid_run_gives_503s_then_recovers_without_a_restart(make_server, double):
    srv = server_on(make_server, double.uri)
    pid = srv.proc.pid
    acked = [srv.create(title=f"before {i}") for i in range(20)]
    listed = {d["id"]: d for d in srv.get("/todos").json()}
    assert all(listed[d["id"]] == d for d in acked)  # nothing acknowledged lost (this lifetime)

    double.stop()
    started = time.monotonic()
    assert_unavailable(srv.post("/todos", json={"title": "while away"}))
    assert time.monotonic() - started < 10, "a request waited too long for a server that is away"
    assert_unavailable(srv.get("/todos"))
    assert_unavailable(srv.get(f"/todos/{acked[0]['id']}"))
    assert_unavailable(srv.put(f"/todos/{acked[0]['id']}", json={"title": "x"}))
    assert_unavailable(srv.delete(f"/todos/{acked[0]['id']}"))
    health = requests.get(srv.url + "/healthz", timeout=10)
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert health.headers.get("Retry-After", "").isdigit()
    # A load balancer sends no more requests here; a supervisor leaves the process be.
    ready = requests.get(srv.url + "/readyz", timeout=10)
    assert (ready.status_code, ready.json()) == (503, {"status": "unavailable"})
    assert requests.get(srv.url + "/livez", timeout=10).status_code == 200
    assert srv.running and srv.proc.pid == pid

    double.start()  # the same port; empty (the double keeps nothing)
    assert double.port == int(srv.store.split(":")[2].split("/")[0])
    wait_healthy(srv)
    assert requests.get(srv.url + "/readyz", timeout=10).status_code == 200
    assert srv.proc.pid == pid, "the server must recover by itself, not restart"
    with open_stream(srv.port, "/todos") as stream:
        stream.hello()
        doc = srv.create(title="after", slug="after")
        event = stream.next(timeout=10)
        assert event.event == "create" and event.json["doc"] == doc
    assert srv.get(f"/todos/{doc['id']}").json() == doc
    assert [d["id"] for d in srv.get("/todos").json()] == [doc["id"]]
    # The unique index is back too.
    r = srv.post("/todos", json={"title": "again", "slug": "after"})
    assert_error(r, 409, "unique_violation")


def test_double_paused_under_load_loses_no_acknowledged_write(make_server, double):
    # A short socket timeout, so that requests caught by the pause answer 503 quickly.
    srv = server_on(make_server, double.uri + "?socketTimeoutMS=1500")
    acked, unavailable, other = [], [], []

    def sort(r):
        if r.status_code == 201:
            acked.append(r.json())
        elif r.status_code == 503 and r.headers.get("Retry-After"):
            unavailable.append(r.json())
        else:
            other.append((r.status_code, r.text))

    writers = WritersUnderLoad(srv, 3, sort)
    time.sleep(1.0)
    before_pause = len(acked)
    double.pause()
    time.sleep(4.0)
    during = len(unavailable)
    double.resume()
    wait_healthy(srv)
    time.sleep(1.0)
    writers.stop()
    assert not other, other[:3]
    assert before_pause > 5
    assert during > 0, "no request noticed the pause"
    assert len(acked) > before_pause, "no write succeeded after the pause"

    listed = {d["id"]: d for d in srv.get("/todos", params={"limit": "5000"}).json()}
    missing = [d for d in acked if listed.get(d["id"]) != d]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:2]}"
