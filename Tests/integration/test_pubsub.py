"""Several servers on one MongoDB database sharing changes through Redis (`--pubsub`,
issue 14). The change log stays the truth: Redis only tells the other servers, at once,
that it has grown. Most tests run only with BACKBONE_SSE_STORE=mongodb (one SQLite file
is one server's); the flag checks run in both suites.

`--mongo-poll 0` turns the safety-net poll of the log off where a test must show that a
change came through Redis; the tests of Redis going away keep it on (the fallback)."""

import os
import subprocess
import threading
import time

import pytest
import requests

from backbone_server import BIN, RedisServer, scratch_dir
from conftest import CONFIG_YAML, STORE
from sse_client import parse_cursor, subscribe

mongodb_only = pytest.mark.skipif(STORE != "mongodb", reason="several servers share a MongoDB store, never a SQLite file")


@pytest.fixture
def redis():
    with scratch_dir("redis-") as d:
        r = RedisServer(d)
        yield r
        r.stop()


def servers_on_one_database(make_server, n, *flags):
    """`n` servers on one MongoDB database, each started with `flags`."""
    first = make_server(*flags)
    rest = []
    for _ in range(n - 1):
        s = make_server(*flags, start=False)
        s.mongo_database = first.mongo_database
        rest.append(s.start())
    return [first] + rest


def health(srv):
    r = srv.get("/healthz")
    assert r.status_code == 200, r.text
    return r.json()


def wait_for(predicate, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def metric(srv, name):
    for line in srv.get("/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


# --- bad configuration ------------------------------------------------------------

def run_serve(*args, timeout=20):
    with scratch_dir("pubsub-flags-") as d:
        config = os.path.join(d, "collections.yaml")
        with open(config, "w") as f:
            f.write(CONFIG_YAML)
        return subprocess.run([BIN, "serve", "--config", config, "--port", "0", *args],
                              capture_output=True, text=True, timeout=timeout, cwd=d)


def test_pubsub_with_the_sqlite_store_is_refused():
    p = run_serve("--store", "sqlite:app.sqlite", "--pubsub", "redis://127.0.0.1:6379")
    assert p.returncode == 2, p.stderr
    assert "--pubsub" in p.stderr and "MongoDB" in p.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://", "redis://127.0.0.1:notaport",
                                 "redis://127.0.0.1:6379/x", "127.0.0.1:6379"])
def test_a_malformed_pubsub_url_is_refused_before_anything_starts(url):
    # The store is never reached: nothing listens on port 1.
    p = run_serve("--store", "mongodb://127.0.0.1:1/db", "--pubsub", url)
    assert p.returncode == 2, p.stderr
    assert "--pubsub" in p.stderr, p.stderr


def test_the_password_of_a_pubsub_url_is_never_logged():
    p = run_serve("--store", "sqlite:app.sqlite", "--pubsub", "redis://:s3cret-pw@127.0.0.1:6379")
    assert "s3cret-pw" not in p.stderr + p.stdout


# --- changes across servers -------------------------------------------------------

@mongodb_only
def test_a_write_on_one_server_reaches_a_stream_on_another_through_redis(make_server, redis):
    a, b = servers_on_one_database(make_server, 2, "--pubsub", redis.url, "--mongo-poll", "0")
    assert health(a)["pubsub"] == "ok" and health(b)["pubsub"] == "ok"
    stream, _ = subscribe(b.port, "/todos")
    with stream:
        written = [a.create(title=f"on a {i}") for i in range(3)]
        got = stream.take(3, timeout=10)  # no poll: only Redis can have told b
    assert [e.json["doc"] for e in got] == written
    assert metric(a, "backbone_sse_pubsub_published_total") >= 1
    assert metric(b, "backbone_sse_pubsub_received_total") >= 1
    assert metric(b, "backbone_sse_pubsub_delivery_lag_seconds_count") >= 1  # timed on b, as b handed them over
    assert metric(a, "backbone_sse_pubsub_delivery_lag_seconds_count") in (None, 0)  # a heard only itself


@mongodb_only
def test_three_servers_see_interleaved_writes_once_in_one_order(make_server, redis):
    servers = servers_on_one_database(make_server, 3, "--pubsub", redis.url, "--mongo-poll", "0")
    streams = [subscribe(s.port, "/todos")[0] for s in servers]
    try:
        written = []
        lock = threading.Lock()

        def write(srv, k):
            for i in range(10):
                doc = srv.create(title=f"s{k}-{i}")
                with lock:
                    written.append(doc["id"])

        threads = [threading.Thread(target=write, args=(s, k)) for k, s in enumerate(servers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seen = [[(e.id, e.json["doc"]["id"], e.json["doc"]["title"]) for e in s.take(30, timeout=20)]
                for s in streams]
    finally:
        for s in streams:
            s.close()
    assert seen[0] == seen[1] == seen[2]  # same ids, same order, same payload everywhere
    assert sorted(doc for _, doc, _ in seen[0]) == sorted(written)  # each once
    seqs = [parse_cursor(i)[1] for i, _, _ in seen[0]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 30


@mongodb_only
def test_a_cursor_from_one_server_resumes_on_another_with_pubsub(make_server, redis):
    a, b = servers_on_one_database(make_server, 2, "--pubsub", redis.url, "--mongo-poll", "0")
    stream, _ = subscribe(a.port, "/todos")
    with stream:
        first = a.create(title="before")
        cursor = stream.take(1, timeout=10)[0].id
    later = [a.create(title="after 1"), b.create(title="after 2")]
    stream, _ = subscribe(b.port, "/todos", last_event_id=cursor)
    with stream:
        got = stream.take(2, timeout=10)
    assert [e.json["doc"] for e in got] == later
    assert first["id"] not in [e.json["doc"]["id"] for e in got]


@mongodb_only
def test_two_stores_on_one_redis_never_mix(make_server, redis):
    a = make_server("--pubsub", redis.url, "--mongo-poll", "0")
    other = make_server("--pubsub", redis.url, "--mongo-poll", "0")  # its own database, its own epoch
    stream, _ = subscribe(other.port, "/todos")
    with stream:
        a.create(title="only in a")
        mine = other.create(title="only in other")
        got = stream.take(1, timeout=10)
        assert [e.json["doc"] for e in got] == [mine]
        with pytest.raises(AssertionError):
            stream.take(1, timeout=1.5)


# --- Redis going away -------------------------------------------------------------

@mongodb_only
def test_redis_killed_loses_nothing_and_comes_back(make_server, redis):
    a, b = servers_on_one_database(make_server, 2, "--pubsub", redis.url, "--mongo-poll", "0.5")
    stream, _ = subscribe(b.port, "/todos")
    with stream:
        before = a.create(title="before")
        redis.stop()
        wait_for(lambda: health(b)["pubsub"] == "unavailable", what="b to see Redis gone")
        assert a.get("/healthz").status_code == 200
        during = [a.create(title=f"during {i}") for i in range(3)]  # writes go on
        redis.start()
        wait_for(lambda: health(a)["pubsub"] == "ok" and health(b)["pubsub"] == "ok", what="Redis back")
        after = a.create(title="after")
        got = stream.take(5, timeout=15)
    assert [e.json["doc"] for e in got] == [before] + during + [after]
    assert metric(b, "backbone_sse_pubsub_reconnects_total") >= 1
    for srv in (a, b):
        log = srv.stderr()
        assert log.count("unavailable (") == 1, log  # one warning for the outage, not one per retry
        assert log.count("is back after") == 1, log


@mongodb_only
def test_redis_paused_costs_no_event_and_no_duplicate(make_server, redis):
    a, b = servers_on_one_database(make_server, 2, "--pubsub", redis.url, "--mongo-poll", "0.5")
    stream, _ = subscribe(b.port, "/todos")
    with stream:
        written = [a.create(title="before pause")]
        redis.pause()
        try:
            t0 = time.monotonic()
            written += [a.create(title=f"paused {i}") for i in range(5)]
            assert time.monotonic() - t0 < 5  # a write never waits on Redis
            wait_for(lambda: health(b)["pubsub"] == "unavailable", what="b to see Redis hang")
        finally:
            redis.resume()
        wait_for(lambda: health(b)["pubsub"] == "ok", what="Redis back")
        written.append(a.create(title="after pause"))
        got = stream.take(len(written), timeout=15)
        with pytest.raises(AssertionError):
            stream.take(1, timeout=1.0)  # and nothing twice
    assert [e.json["doc"] for e in got] == written


@mongodb_only
def test_an_unreachable_redis_at_start_is_a_warning_not_a_hang(make_server):
    with scratch_dir("redis-gone-") as d:
        absent = RedisServer(d)
        url = absent.url
        absent.stop()
    t0 = time.monotonic()
    a = make_server("--pubsub", url)
    assert time.monotonic() - t0 < 10
    assert health(a)["pubsub"] == "unavailable"
    assert "unavailable (" in a.stderr()
    doc = a.create(title="served without Redis")
    assert a.get(f"/todos/{doc['id']}").json() == doc


@mongodb_only
@pytest.mark.parametrize("outage", ["kill", "pause"])
def test_writes_under_load_through_a_redis_outage_arrive_once_in_order_everywhere(make_server, redis, outage):
    from conftest import WritersUnderLoad
    servers = servers_on_one_database(make_server, 3, "--pubsub", redis.url, "--mongo-poll", "0.5")
    streams = [subscribe(s.port, "/todos")[0] for s in servers]
    acknowledged = []
    try:
        writers = [WritersUnderLoad(s, 2, lambda r: acknowledged.append(r.json()["id"]) if r.status_code == 201 else None)
                   for s in servers[:2]]
        time.sleep(1.0)
        if outage == "kill":
            redis.stop()
        else:
            redis.pause()
        time.sleep(2.0)
        if outage == "kill":
            redis.start()
        else:
            redis.resume()
        wait_for(lambda: all(health(s)["pubsub"] == "ok" for s in servers), what="Redis back on every server")
        time.sleep(1.0)
        for w in writers:
            w.stop()
        n = len(acknowledged)
        assert n > 20, n  # the load went on through the outage
        seen = [[(e.id, e.json["doc"]["id"]) for e in s.take(n, timeout=30)] for s in streams]
        for s in streams:
            with pytest.raises(AssertionError):
                s.take(1, timeout=1.0)  # nothing more: no duplicate
    finally:
        for s in streams:
            s.close()
    assert seen[0] == seen[1] == seen[2]
    assert sorted(doc for _, doc in seen[0]) == sorted(acknowledged)
