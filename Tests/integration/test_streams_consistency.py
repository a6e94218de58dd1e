"""Gap-free start (DESIGN.md §1): fetch the list, read X-Stream-Cursor, subscribe with
?since=, and keep the fetched state in step by applying events idempotently by `v`,
while other clients write concurrently. At the end the state must equal a fresh
fetch, exactly."""

import random
import threading
import time

import requests

from sse_client import cursor_seq, head_cursor, parse_cursor, stream_path, subscribe

WRITES = 1200
WRITER_THREADS = 2
SEED = 60


class Writer(threading.Thread):
    """Creates, patches, replaces and deletes its own documents (so threads never race
    on one document), counting what it did."""

    def __init__(self, srv, k, seed_docs, progress):
        super().__init__(daemon=True)
        self.srv = srv
        self.k = k
        self.rng = random.Random(1000 + k)
        self.live = {d["id"]: d for d in seed_docs}
        self.progress = progress
        self.error = None
        self.done = 0
        self.ops = {"create": 0, "patch": 0, "put": 0, "delete": 0}

    def run(self):
        session = requests.Session()
        url = self.srv.url
        try:
            for i in range(WRITES // WRITER_THREADS):
                r = self.rng.random()
                if r < 0.4 or len(self.live) < 5:
                    resp = session.post(url + "/todos", json={"title": f"w{self.k}-{i}", "priority": i % 7},
                                        headers={"X-Client-Id": f"writer-{self.k}"}, timeout=30)
                    assert resp.status_code == 201, resp.text
                    doc = resp.json()
                    self.live[doc["id"]] = doc
                    self.ops["create"] += 1
                elif r < 0.75:
                    doc_id = self.rng.choice(list(self.live))
                    resp = session.patch(f"{url}/todos/{doc_id}", json={"done": self.rng.random() < 0.5, "priority": i % 11},
                                         timeout=30)
                    assert resp.status_code == 200, resp.text
                    self.live[doc_id] = resp.json()
                    self.ops["patch"] += 1
                elif r < 0.85:
                    doc_id = self.rng.choice(list(self.live))
                    resp = session.put(f"{url}/todos/{doc_id}", json={"title": f"replaced {i}", "tags": ["x", str(i)]},
                                       timeout=30)
                    assert resp.status_code == 200, resp.text
                    self.live[doc_id] = resp.json()
                    self.ops["put"] += 1
                else:
                    doc_id = self.rng.choice(list(self.live))
                    resp = session.delete(f"{url}/todos/{doc_id}", timeout=30)
                    assert resp.status_code == 200, resp.text
                    del self.live[doc_id]
                    self.ops["delete"] += 1
                self.done += 1
                with self.progress:
                    self.progress.notify_all()
        except BaseException as e:  # reported by the test
            self.error = e
        finally:
            session.close()


def apply(state, tombstones, ev):
    """Applies one event to {id: doc}; idempotent by v (stale or repeated events are
    no-ops). Returns True when it changed the state."""
    data = ev.json
    doc_id, v = data["id"], data["v"]
    if ev.event in ("create", "update", "enter"):
        doc = data["doc"]
        assert doc["id"] == doc_id and doc["_v"] == v, data
        if tombstones.get(doc_id, 0) >= v or (doc_id in state and state[doc_id]["_v"] >= v):
            return False
        state[doc_id] = doc
        return True
    if ev.event in ("delete", "leave"):
        if tombstones.get(doc_id, 0) >= v:
            return False
        tombstones[doc_id] = v
        if doc_id in state and state[doc_id]["_v"] < v:
            del state[doc_id]
            return True
        return False
    raise AssertionError(f"unexpected event {ev!r}")


def fetch_all(srv):
    r = srv.get("/todos", params={"limit": "10000"})
    assert r.status_code == 200
    assert "Link" not in r.headers, "list truncated"
    return r.json(), r.headers["X-Stream-Cursor"]


def test_fetch_then_subscribe_with_concurrent_writers_converges_exactly(make_server):
    srv = make_server("--max-limit", "10000")
    seed = [srv.create(title=f"seed {i}", priority=i % 5) for i in range(SEED)]
    progress = threading.Condition()
    writers = [Writer(srv, k, seed[k::WRITER_THREADS], progress) for k in range(WRITER_THREADS)]
    for w in writers:
        w.start()

    # Fetch in the middle of the writes ...
    with progress:
        assert progress.wait_for(lambda: sum(w.done for w in writers) >= 150, timeout=60)
    docs, cursor = fetch_all(srv)
    state = {d["id"]: d for d in docs}
    assert len(state) == len(docs)
    # ... and subscribe a little later, so the replay has a gap to fill.
    time.sleep(0.3)
    s, hello = subscribe(srv.port, stream_path("/todos", since=cursor))
    assert hello.id == cursor

    tombstones = {}
    events = []
    with s:
        # Apply while the writers go on.
        while any(w.is_alive() for w in writers):
            try:
                ev = s.next(timeout=0.5)
            except AssertionError:
                continue
            events.append(ev)
            apply(state, tombstones, ev)
        for w in writers:
            w.join()
            assert w.error is None, w.error
        final = head_cursor(srv)
        final_seq = cursor_seq(final)
        while not events or events[-1].seq < final_seq:
            ev = s.next(timeout=10)
            events.append(ev)
            apply(state, tombstones, ev)
        s.expect_quiet(0.3)

    total = sum(w.done for w in writers)
    assert total >= 1000
    assert all(w.ops[k] > 50 for w in writers for k in ("create", "patch", "delete")), [w.ops for w in writers]

    # No gap, no duplicate: this server saw only these todos writes, so the stream
    # carries every sequence number after the cursor exactly once, in order.
    seqs = [e.seq for e in events]
    assert seqs == list(range(cursor_seq(cursor) + 1, final_seq + 1)), (seqs[:5], seqs[-5:], len(seqs))
    assert {parse_cursor(e.id)[0] for e in events} == {parse_cursor(cursor)[0]}
    # Per document, versions go up by exactly one from event to event.
    last_v = {}
    for e in events:
        d = e.json
        if d["id"] in last_v:
            assert d["v"] == last_v[d["id"]] + 1, (d["id"], last_v[d["id"]], d["v"])
        last_v[d["id"]] = d["v"]
    origins = {e.json.get("origin") for e in events if e.event == "create"}
    assert origins <= {f"writer-{k}" for k in range(WRITER_THREADS)}, origins

    fresh, fresh_cursor = fetch_all(srv)
    assert fresh_cursor == final
    fresh_state = {d["id"]: d for d in fresh}
    assert state.keys() == fresh_state.keys(), (len(state), len(fresh_state),
                                                sorted(state.keys() ^ fresh_state.keys())[:5])
    diffs = [k for k in fresh_state if fresh_state[k] != state[k]]
    assert not diffs, (diffs[:3], [(state[k], fresh_state[k]) for k in diffs[:1]])
    # And what the writers think is there is there.
    expected_live = {}
    for w in writers:
        expected_live.update(w.live)
    assert fresh_state == expected_live


def _hammer(srv, n, threads=2):
    """n creates from background threads; returns (threads, errors list)."""
    errors = []

    def work(k):
        s = requests.Session()
        try:
            for i in range(k, n, threads):
                r = s.post(srv.url + "/todos", json={"title": f"hammer {i}"}, timeout=30)
                assert r.status_code == 201, r.text
        except BaseException as e:
            errors.append(e)
        finally:
            s.close()

    ts = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
    for t in ts:
        t.start()
    return ts, errors


def test_streams_opened_during_writes_start_exactly_at_their_hello(make_server):
    """"The start is fixed before the response headers go out: every change committed
    after it is delivered" — and nothing before it."""
    srv = make_server()
    threads, errors = _hammer(srv, 800)
    streams = []
    while any(t.is_alive() for t in threads) and len(streams) < 25:
        s, hello = subscribe(srv.port, "/todos")
        streams.append((s, hello))
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(streams) >= 10, "the writes ended too soon to open streams during them"
    final_seq = cursor_seq(head_cursor(srv))
    for s, hello in streams:
        with s:
            start = cursor_seq(hello.id)
            got = s.take(final_seq - start, timeout=20) if final_seq > start else []
            assert [e.seq for e in got] == list(range(start + 1, final_seq + 1))
            s.expect_quiet(0.1)


def test_reconnect_storm_with_last_event_id_loses_and_repeats_nothing(make_server):
    """An EventSource that keeps dropping and reconnecting (Last-Event-ID) while writes
    go on sees every change exactly once."""
    srv = make_server()
    rng = random.Random(7)
    first, hello = subscribe(srv.port, "/todos")
    start = cursor_seq(hello.id)
    last = hello.id
    first.close()
    threads, errors = _hammer(srv, 800)
    seen = []
    reconnects = 0
    while any(t.is_alive() for t in threads):
        s, h = subscribe(srv.port, "/todos", last_event_id=last)
        assert h.id == last
        try:
            for _ in range(rng.randint(1, 40)):
                ev = s.next(timeout=0.5)
                seen.append(ev)
                last = ev.id
        except AssertionError:
            pass
        s.close()
        reconnects += 1
    for t in threads:
        t.join()
    assert not errors, errors
    final_seq = cursor_seq(head_cursor(srv))
    s, h = subscribe(srv.port, "/todos", last_event_id=last)
    with s:
        remaining = final_seq - cursor_seq(last)
        if remaining:
            seen += s.take(remaining, timeout=20)
        s.expect_quiet(0.2)
    assert reconnects >= 10, reconnects
    seqs = [e.seq for e in seen]
    assert seqs == list(range(start + 1, final_seq + 1)), (len(seqs), final_seq - start)
    assert all(e.event == "create" for e in seen)
