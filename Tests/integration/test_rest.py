"""The REST rows of DESIGN.md §1 that need the real binary or depend on the store.

The rest of the REST rows (status codes, documents, headers, conditions, routing,
CORS, error bodies) run in process: Tests/BackboneSSETests (RESTTests,
ConditionalRequestTests, RoutingTests, CORSTests, ErrorBodyTests). What stays here
runs on every store (BACKBONE_SSE_STORE=mongodb too): stream cursors, list answers,
unique fields, the store's write counter; or needs the HTTP server itself: HEAD
bodies, chunked bodies, its 413.
"""

import json
import random
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
import requests

from conftest import assert_error, not_on_the_double, sqlite_only, unique
from sse_client import metric, open_stream

CURSOR_RE = re.compile(r"^[0-9a-f]+-\d+$")


def cursor_seq(header):
    assert CURSOR_RE.match(header), header
    return int(header.rsplit("-", 1)[1])


# --- list ------------------------------------------------------------------------


def test_stream_cursor_advances_with_each_write_and_keeps_its_epoch(server):
    before = server.get("/todos").headers["X-Stream-Cursor"]
    doc = server.create(title="cursor")
    after = server.get("/todos").headers["X-Stream-Cursor"]
    assert before.rsplit("-", 1)[0] == after.rsplit("-", 1)[0]
    assert cursor_seq(after) > cursor_seq(before)
    # The list taken at that cursor shows the write.
    r = server.get("/todos", params={"where": '{"id": "%s"}' % doc["id"]})
    assert r.json() == [doc]
    assert cursor_seq(r.headers["X-Stream-Cursor"]) >= cursor_seq(after)


def test_the_same_list_url_shows_every_write_at_once(server):
    """Answers to the same list URL are reused while nothing is written: each write,
    through any route, must show in the very next answer (and a refused one must not)."""
    tag = unique("same-url")
    url = "/todos"
    params = {"where": '{"tags": "%s"}' % tag, "sort": "title"}
    assert server.get(url, params=params).json() == []
    first = server.create(title="b", tags=[tag])
    assert [d["id"] for d in server.get(url, params=params).json()] == [first["id"]]
    second = server.create(title="a", tags=["other"])  # not in the filter yet
    r = server.put(f"/todos/{second['id']}", json={"title": "a", "tags": [tag], "_v": 1})
    assert r.status_code == 200, r.text
    assert [d["title"] for d in server.get(url, params=params).json()] == ["a", "b"]
    r = server.patch(f"/todos/{first['id']}", json={"title": "c"})
    assert r.status_code == 200, r.text
    answer = server.get(url, params=params)
    assert [d["title"] for d in answer.json()] == ["a", "c"]
    refused = server.post("/todos", json={"title": "", "tags": [tag]})  # fails the schema
    assert refused.status_code == 422
    again = server.get(url, params=params)
    assert again.json() == answer.json()
    assert again.headers["X-Stream-Cursor"] == answer.headers["X-Stream-Cursor"]
    assert server.delete(f"/todos/{second['id']}").status_code == 200
    assert [d["title"] for d in server.get(url, params=params).json()] == ["c"]


def test_lists_run_on_the_slow_list_thread_answer_as_inline_ones(make_server):
    """`--list-budget 0` sends every list not answered from memory to the thread for
    slow lists, on either store: pages, totals, links and cursors are those of a list
    run inline, a client's own write shows in its next list, a bad query is still a
    400, and the same URL still streams."""
    srv = make_server("--list-budget", "0")
    moved = metric(srv, "backbone_sse_slow_lists_total") or 0
    tag = unique("lane")
    for i in range(12):
        srv.create(title=f"t{i:02d}", tags=[tag], done=i % 2 == 0)
    params = {"where": json.dumps({"tags": tag, "done": True}), "sort": "-title", "limit": "4"}
    r = srv.get("/todos", params=params)
    assert r.status_code == 200, r.text
    assert [d["title"] for d in r.json()] == ["t10", "t08", "t06", "t04"]
    assert r.headers["X-Total-Count"] == "6"
    assert 'rel="next"' in r.headers["Link"]
    head = cursor_seq(r.headers["X-Stream-Cursor"])
    mine = srv.create(title="t99", tags=[tag], done=True)
    r = srv.get("/todos", params=params)
    assert [d["id"] for d in r.json()][0] == mine["id"]
    assert r.headers["X-Total-Count"] == "7"
    assert cursor_seq(r.headers["X-Stream-Cursor"]) > head
    # Many at once: each answered, in full.
    pages = [{**params, "skip": str(k)} for k in range(7)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda p: requests.get(srv.url + "/todos", params=p, timeout=30), pages))
    assert [a.status_code for a in answers] == [200] * 7
    assert [a.json()[0]["title"] for a in answers] == ["t99", "t10", "t08", "t06", "t04", "t02", "t00"]
    assert_error(srv.get("/todos", params={"where": "{not json"}), 400)
    assert metric(srv, "backbone_sse_slow_lists_total") >= moved + 9
    stream = open_stream(srv.port, "/todos?where=" + quote(json.dumps({"tags": tag})))
    assert stream.status == 200, (stream.status, stream.body)
    stream.hello()
    with stream:
        made = srv.create(title="t100", tags=[tag])
        event = stream.next()
        assert (event.event, event.json["id"]) == ("create", made["id"])


def test_totals_stay_exact_while_writes_and_reads_interleave(server):
    """X-Total-Count is carried from write to write (the SQLite store moves a count
    taken at an earlier head by the writes since, rather than counting again): with
    two writers creating, updating and deleting documents in and out of three filters
    while a reader asks for their totals at every head it sees, each total afterwards
    is the number of documents its list holds."""
    tag = unique("totals")
    filters = [{"tags": tag}, {"tags": tag, "done": False}, {"tags": tag, "priority": {"$gte": 2}}]
    wheres = [json.dumps(f) for f in filters]
    writing = threading.Event()
    writing.set()
    failures = []

    def writer(seed):
        rng = random.Random(seed)
        session = requests.Session()
        mine = []
        try:
            for _ in range(60):
                op = rng.choice(("create", "create", "update", "delete")) if mine else "create"
                if op == "create":
                    doc = {"title": "t", "tags": [tag], "done": rng.random() < 0.5, "priority": rng.randrange(4)}
                    r = session.post(server.url + "/todos", json=doc, timeout=30)
                    assert r.status_code == 201, r.text
                    mine.append(r.json()["id"])
                elif op == "update":
                    change = {"done": rng.random() < 0.5, "priority": rng.randrange(4)}
                    r = session.patch(f"{server.url}/todos/{rng.choice(mine)}", json=change, timeout=30)
                    assert r.status_code == 200, r.text
                else:
                    doomed = mine.pop(rng.randrange(len(mine)))
                    assert session.delete(f"{server.url}/todos/{doomed}", timeout=30).status_code == 200
        except Exception as e:  # reported by the test's own thread
            failures.append(e)

    def reader():
        session = requests.Session()
        while writing.is_set():
            for where in wheres:
                r = session.get(server.url + "/todos", params={"where": where, "limit": "1"}, timeout=30)
                if r.status_code != 200:
                    failures.append(AssertionError(r.text))

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in (1, 2)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    writing.clear()
    watcher.join()
    assert not failures, failures
    for where in wheres:
        held = server.get("/todos", params={"where": where, "limit": "1000"}).json()
        total = server.get("/todos", params={"where": where, "limit": "0"}).headers.get("X-Total-Count", "0")
        assert int(total) == len(held), where
        assert len(held) > 0, where  # the filters still hold documents: the totals were counted


# --- conflicts -------------------------------------------------------------------


def test_unique_slug_clash_is_409(server):
    slug = unique("slug")
    first = server.create(title="one", slug=slug)
    n = server.count()
    err = assert_error(server.post("/todos", json={"title": "two", "slug": slug}), 409)
    assert err["code"] == "unique_violation"
    assert server.count() == n
    # Through an update too.
    other = server.create(title="three", slug=unique("slug"))
    assert_error(server.patch(f"/todos/{other['id']}", json={"slug": slug}), 409)
    assert server.get(f"/todos/{other['id']}").json() == other
    assert server.get(f"/todos/{first['id']}").json() == first
    # Freed by a delete.
    assert server.delete(f"/todos/{first['id']}").status_code == 200
    assert server.post("/todos", json={"title": "four", "slug": slug}).status_code == 201


TYPED_UNIQUE_CONFIG = """\
collections:
  things:
    unique: [code]
"""


@not_on_the_double("mongomock's unique index compares in Python, where True == 1")
def test_unique_values_of_different_json_types_do_not_clash(make_server):
    """true is not 1, false is not 0, an object is not the string of its JSON text:
    queries keep them apart, so must the unique check. 1 and 1.0 are one number."""
    srv = make_server(config_text=TYPED_UNIQUE_CONFIG)
    for code in [1, True, 0, False, {"x": 1}, '{"x":1}', ["q"], '["q"]', "1", None, None]:
        r = srv.post("/things", json={"code": code})
        assert r.status_code == 201, (code, r.text)
    for code in [1, 1.0, True, {"x": 1}, '{"x":1}']:
        err = assert_error(srv.post("/things", json={"code": code}), 409)
        assert err["code"] == "unique_violation" and err["details"][0]["path"] == "/code", err


@sqlite_only("the index of a store file written by an earlier version")
def test_a_store_indexed_by_the_value_alone_is_reindexed_with_the_type(make_server):
    srv = make_server(config_text=TYPED_UNIQUE_CONFIG)
    srv.stop()
    with sqlite3.connect(srv.db_path) as db:  # the unique index as earlier versions made it
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ux.%'")]
        for name in names:
            db.execute(f'DROP INDEX "{name}"')
        db.execute('CREATE UNIQUE INDEX "ux.things.code" ON "doc.things"(json_extract(body, \'$.code\'))')
    srv.start()
    assert srv.post("/things", json={"code": 1}).status_code == 201
    assert srv.post("/things", json={"code": True}).status_code == 201
    assert_error(srv.post("/things", json={"code": 1}), 409)


@sqlite_only("the SQLite store's start-up message")
def test_making_a_field_unique_over_duplicates_stops_the_start_and_says_why(make_server):
    srv = make_server(config_text="collections:\n  things: {}\n")
    for _ in range(2):
        assert srv.post("/things", json={"code": "same"}).status_code == 201
    srv.stop()
    with open(srv.config_path, "w") as f:
        f.write(TYPED_UNIQUE_CONFIG)
    with pytest.raises(RuntimeError, match=r"things\.code cannot be unique: documents already share a value"):
        srv.start()


def test_documents_without_a_slug_do_not_clash(server):
    server.create(title="no slug 1")
    server.create(title="no slug 2")


# --- HEAD (the HTTP server drops the body) --------------------------------------


def test_head_on_list_and_document(server):
    doc = server.create(title="head")
    r = server.session.head(server.url + f"/todos/{doc['id']}")
    assert r.status_code == 200
    assert r.headers["ETag"] == '"1"'
    assert r.content == b""
    r = server.session.head(server.url + "/todos")
    assert r.status_code == 200
    assert CURSOR_RE.match(r.headers["X-Stream-Cursor"])
    assert r.content == b""
    assert server.session.head(server.url + "/todos/missing-doc").status_code == 404


# --- CORS ------------------------------------------------------------------------


def test_cors_headers_on_413(cors_server):
    """A cross-origin page can only see the 413 (and its error body) if the answer
    carries Access-Control-Allow-Origin; without it the browser reports a network error."""
    try:
        r = cors_server.post("/todos", data=b"x" * (2 * 1024 * 1024),
                             headers={"Origin": "http://example.test", "Content-Type": "application/json"})
    except requests.ConnectionError:
        pytest.skip("connection reset before the 413 could be read")
    assert_error(r, 413)
    assert r.headers.get("Access-Control-Allow-Origin") == "http://example.test", r.headers


# --- bodies and counters ---------------------------------------------------------


def test_chunked_request_body_is_read(server):
    def gen():
        yield b'{"title": '
        yield b'"chunked"}'
    r = server.post("/todos", data=gen(), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "chunked"


def test_the_store_write_counter_counts_only_committed_writes(server):
    """`backbone_sse_store_writes_total` says "writes committed": a refused write (409,
    422, 404) commits nothing and must not count."""
    before = metric(server, "backbone_sse_store_writes_total") or 0
    doc = server.create(title="counted")
    assert_error(server.post("/todos", json={"id": doc["id"], "title": "taken"}), 409)
    assert_error(server.patch(f"/todos/{doc['id']}", json={"title": ""}), 422)
    assert_error(server.delete(f"/todos/{unique('gone')}"), 404)
    assert metric(server, "backbone_sse_store_writes_total") == before + 1
