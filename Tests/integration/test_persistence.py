"""Durability and concurrency: documents survive restarts and kill -9, concurrent
writers lose nothing, and every write has exactly one change-log entry (checked in the
store itself — the SQLite file, or the MongoDB database — after the server has stopped)."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import STORE, WritersUnderLoad, for_store, stored_changes, stored_ids, unique


def post_many(srv, n, threads=4, client_id=None, prefix="doc"):
    """POSTs n todos from `threads` threads; returns the 201 bodies."""
    headers = {"X-Client-Id": client_id} if client_id else {}

    def work(k):
        s = requests.Session()
        out = []
        for i in range(k, n, threads):
            r = s.post(srv.url + "/todos", json={"title": f"{prefix} {i}", "priority": i}, headers=headers, timeout=30)
            assert r.status_code == 201, r.text
            out.append(r.json())
        s.close()
        return out

    with ThreadPoolExecutor(threads) as pool:
        return [d for part in pool.map(work, range(threads)) for d in part]


def list_all(srv, collection="todos"):
    r = srv.get(f"/{collection}", params={"limit": "5000"})
    assert r.status_code == 200
    docs = r.json()
    assert "Link" not in r.headers, "more documents than one page"
    return docs


def test_documents_survive_a_clean_restart(make_server):
    srv = make_server("--max-limit", "5000")
    docs = post_many(srv, 50)
    patched = srv.patch(f"/todos/{docs[0]['id']}", json={"done": True}).json()
    assert srv.delete(f"/todos/{docs[1]['id']}").status_code == 200
    cursor_before = srv.get("/todos").headers["X-Stream-Cursor"]
    before = {d["id"]: d for d in list_all(srv)}
    assert len(before) == 49

    log_before = srv.log_path
    code = srv.restart()  # SIGTERM, wait, start on the same data directory
    assert code == 0, srv.stderr_tail()
    assert "stopped" in open(log_before).read()

    after = {d["id"]: d for d in list_all(srv)}
    assert after == before
    assert after[docs[0]["id"]] == patched
    assert srv.get(f"/todos/{docs[1]['id']}").status_code == 404
    # Same store, same epoch, same head.
    assert srv.get("/todos").headers["X-Stream-Cursor"] == cursor_before
    # And it keeps working: versions continue, the log continues.
    r = srv.patch(f"/todos/{docs[0]['id']}", json={"priority": 99})
    assert r.status_code == 200 and r.json()["_v"] == 3
    new_cursor = srv.get("/todos").headers["X-Stream-Cursor"]
    assert new_cursor.rsplit("-", 1)[0] == cursor_before.rsplit("-", 1)[0]
    assert int(new_cursor.rsplit("-", 1)[1]) == int(cursor_before.rsplit("-", 1)[1]) + 1


def test_acknowledged_writes_survive_kill_9(make_server):
    srv = make_server("--max-limit", "5000")
    docs = post_many(srv, 200, threads=4)
    assert srv.restart(hard=True) == -9  # kill -9 right after the last 201, then start again
    after = {d["id"]: d for d in list_all(srv)}
    assert len(after) == 200
    for d in docs:
        assert after[d["id"]] == d
    srv.stop()
    assert len([c for c in stored_changes(srv) if c["collection"] == "todos" and c["op"] == "create"]) == 200
    assert len(stored_ids(srv)) == 200


def test_kill_9_under_load_loses_no_acknowledged_write_and_leaves_no_partial_one(make_server):
    srv = make_server("--max-limit", "5000", *(["--mongo-lease", "1"] if STORE == "mongodb" else []))
    acked = []
    writers = WritersUnderLoad(srv, 4, lambda r: acked.append(r.json()) if r.status_code == 201 else None, timeout=5)
    time.sleep(1.0)
    srv.kill()
    writers.stop(join_timeout=10)
    assert len(acked) > 10

    srv.start()
    if STORE == "mongodb":
        # A writer killed between its document write and marking its change-log entry
        # done leaves the entry pending; past the lease, the next reader settles it.
        time.sleep(1.5)
        srv.get("/todos")
    after = {d["id"]: d for d in list_all(srv)}
    for d in acked:
        assert after.get(d["id"]) == d
    srv.stop()
    # Document and change-log entry are written together or not at all.
    docs = set(stored_ids(srv))
    logged = {c["id"] for c in stored_changes(srv) if c["collection"] == "todos" and c["op"] == "create"}
    assert docs == logged == set(after)


def test_concurrent_writers_8_threads_x_500(make_server):
    srv = make_server("--max-limit", "5000")
    per_thread, n_threads = for_store(500, 100), 8
    total = per_thread * n_threads
    results = [[] for _ in range(n_threads)]
    errors = []

    def work(k):
        s = requests.Session()
        try:
            for i in range(per_thread):
                r = s.post(srv.url + "/todos", json={"title": f"t{k} #{i}", "priority": i},
                           headers={"X-Client-Id": f"writer-{k}"}, timeout=30)
                if r.status_code != 201:
                    errors.append((r.status_code, r.text))
                    return
                results[k].append(r.json())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            s.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:5]
    created = [d for part in results for d in part]
    assert len(created) == total
    ids = [d["id"] for d in created]
    assert len(set(ids)) == total, "duplicate ids handed out"
    assert all(d["_v"] == 1 for d in created)

    listed = list_all(srv)
    assert len(listed) == total
    assert len({d["id"] for d in listed}) == total
    assert {d["id"] for d in listed} == set(ids)
    assert srv.count() == total
    by_id = {d["id"]: d for d in listed}
    for d in created:
        assert by_id[d["id"]] == d

    assert srv.stop() == 0
    rows = [(c["seq"], c["collection"], c["id"], c["op"], c["v"], c["doc"], c["origin"], c["at"]) for c in stored_changes(srv)]
    assert len(stored_ids(srv)) == total
    creates = [r for r in rows if r[1] == "todos" and r[3] == "create"]
    assert len(rows) == total and len(creates) == total
    seqs = [r[0] for r in rows]
    assert all(a < b for a, b in zip(seqs, seqs[1:])), "seq not strictly increasing"
    assert {r[2] for r in creates} == set(ids)
    row_of = {r[2]: r for r in creates}
    for k, part in enumerate(results):
        # Each thread's writes were sequential: their log order is their send order.
        thread_seqs = [row_of[d["id"]][0] for d in part]
        assert all(a < b for a, b in zip(thread_seqs, thread_seqs[1:]))
        for d in part:
            seq, collection, doc_id, op, v, doc, origin, at = row_of[d["id"]]
            assert v == 1
            assert origin == f"writer-{k}"
            assert json.loads(doc) == d
            assert isinstance(at, int) and at > 1_600_000_000_000  # epoch milliseconds


def test_x_client_id_is_stored_as_origin(make_server):
    srv = make_server()
    a = srv.post("/todos", json={"title": "from tab"}, headers={"X-Client-Id": "tab-42"}).json()
    assert srv.patch(f"/todos/{a['id']}", json={"done": True}, headers={"X-Client-Id": "tab-7"}).status_code == 200
    b = srv.post("/todos", json={"title": "anonymous"}).json()
    assert srv.delete(f"/todos/{a['id']}", headers={"X-Client-Id": "tab-42"}).status_code == 200
    # emulateHTTP writes carry it too
    assert srv.post(f"/todos/{b['id']}", json={"priority": 1},
                    headers={"X-Client-Id": "old-browser", "X-HTTP-Method-Override": "PATCH"}).status_code == 200
    # A bad client id is refused, and writes nothing.
    n = srv.count()
    r = srv.post("/todos", json={"title": "bad origin"}, headers={"X-Client-Id": "x" * 200})
    assert r.status_code == 400
    assert srv.count() == n
    srv.stop()
    rows = [(c["id"], c["op"], c["v"], c["origin"], c["doc"]) for c in stored_changes(srv)]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (a["id"], "create", 1, "tab-42"),
        (a["id"], "update", 2, "tab-7"),
        (b["id"], "create", 1, None),
        (a["id"], "delete", 3, "tab-42"),
        (b["id"], "update", 2, "old-browser"),
    ]
    assert rows[3][4] is None  # a delete logs no document
    assert json.loads(rows[1][4])["done"] is True


def test_the_change_log_head_survives_kill_9(make_server):
    srv = make_server()
    post_many(srv, 20, threads=2)
    cursor = srv.get("/todos").headers["X-Stream-Cursor"]
    srv.restart(hard=True)
    assert srv.get("/todos").headers["X-Stream-Cursor"] == cursor


def test_clean_shutdown_under_load_answers_or_refuses_but_loses_nothing(make_server):
    """SIGTERM while writers are busy and idle/half-sent connections are open: the
    process exits 0 promptly, and every write that got its 201 is there afterwards."""
    srv = make_server("--max-limit", "5000")
    idle = requests.Session()
    assert idle.get(srv.url + "/healthz").status_code == 200  # an idle keep-alive connection
    import socket
    half = socket.create_connection(("127.0.0.1", srv.port))
    half.sendall(b"POST /todos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
    acked = []

    def answer(r):
        if r.status_code == 201:
            acked.append(r.json())
        return r.status_code in (201, 503)  # 503: refused while stopping

    writers = WritersUnderLoad(srv, 4, answer, timeout=10)
    time.sleep(0.5)
    t0 = time.monotonic()
    code = srv.stop(timeout=15)
    elapsed = time.monotonic() - t0
    writers.stop(join_timeout=10)
    half.close()
    idle.close()
    assert code == 0, srv.stderr_tail()
    assert elapsed < 10, f"shutdown took {elapsed:.1f}s"
    assert len(acked) > 10
    srv.start()
    after = {d["id"]: d for d in list_all(srv)}
    for d in acked:
        assert after.get(d["id"]) == d


def test_same_slug_race_has_exactly_one_winner(make_server):
    srv = make_server()
    slug = unique("race")
    barrier = threading.Barrier(8)

    def attempt(k):
        s = requests.Session()
        barrier.wait()
        return s.post(srv.url + "/todos", json={"title": f"racer {k}", "slug": slug}, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [201] + [409] * 7
    assert len(srv.get("/todos", params={"slug": slug}).json()) == 1


def test_optimistic_increments_lose_no_update(make_server):
    """Read-modify-write with `_v` from 4 threads: every increment lands exactly once."""
    srv = make_server()
    doc = srv.create(title="counter", priority=0)
    per_thread, n_threads = 25, 4
    conflicts = []

    def work(k):
        s = requests.Session()
        done = 0
        while done < per_thread:
            cur = s.get(f"{srv.url}/todos/{doc['id']}").json()
            r = s.patch(f"{srv.url}/todos/{doc['id']}", json={"priority": cur["priority"] + 1, "_v": cur["_v"]})
            if r.status_code == 200:
                done += 1
            else:
                assert r.status_code == 409, r.text
                assert r.json()["error"]["current"]["_v"] > cur["_v"]
                conflicts.append(1)

    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(work, range(n_threads)))
    final = srv.get(f"/todos/{doc['id']}").json()
    assert final["priority"] == per_thread * n_threads
    assert final["_v"] == 1 + per_thread * n_threads


def test_put_create_race_makes_one_create_and_updates(make_server):
    srv = make_server()
    cid = unique("put-race")
    barrier = threading.Barrier(8)

    def attempt(k):
        s = requests.Session()
        barrier.wait()
        return s.put(f"{srv.url}/todos/{cid}", json={"title": f"racer {k}"}, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [200] * 7 + [201]
    assert srv.get(f"/todos/{cid}").json()["_v"] == 8
    srv.stop()
    ops = [(c["op"], c["v"]) for c in stored_changes(srv) if c["id"] == cid]
    assert ops == [("create", 1)] + [("update", v) for v in range(2, 9)]


def test_post_same_id_race_has_exactly_one_winner(make_server):
    srv = make_server()
    cid = unique("post-race")
    barrier = threading.Barrier(8)

    def attempt(k):
        s = requests.Session()
        barrier.wait()
        return s.post(f"{srv.url}/todos", json={"id": cid, "title": f"racer {k}"}, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [201] + [409] * 7
    assert srv.get(f"/todos/{cid}").json()["_v"] == 1
