"""`export`, `import` and `copy` (issue 16, item 1) on the real binary, on the store
under test (SQLite, or MongoDB with BACKBONE_SSE_STORE=mongodb): a round trip keeps
ids, `_v` and timestamps; a failing line is reported by number and nothing is written;
`--skip-invalid` writes the others; an import gives the store a new epoch, after which
a fresh client fetches and streams as usual and an old cursor resets; `copy` moves a
SQLite store to MongoDB (the test double of Tests/mongo, or MONGODB_URI).
"""

import json
import os
import subprocess
import uuid

from backbone_server import mongo_server
from conftest import BIN, unique
from sse_client import parse_cursor, subscribe


def cli(*args, stdin=None):
    """Runs `backbone-sse ARGS`; returns the CompletedProcess (text)."""
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=300)


def documents_of(export_text):
    """(header, [(collection, doc)]) of an export."""
    lines = [json.loads(line) for line in export_text.splitlines() if line.strip()]
    return lines[0], [(line["collection"], line["doc"]) for line in lines[1:]]


def export(store, config, *extra):
    """`export`; `config` None exports every collection the store holds."""
    r = cli("export", "--store", store, *(["--config", config] if config else []), *extra)
    assert r.returncode == 0, r.stderr
    return r


def line(doc, collection="todos"):
    return json.dumps({"collection": collection, "doc": doc})


def header(collections=None):
    return json.dumps({"format": "backbone-sse-export", "version": 1, "epoch": "abc", "head": 0,
                       "collections": collections or {"todos": {}, "lists": {}}})


def todo(title="t", v=1, **more):
    stamp = "2026-01-02T03:04:05.678Z"
    return {"id": unique("d"), "title": title, "done": False, "created": stamp, "updated": stamp, "_v": v, **more}


def test_round_trip_through_a_file_keeps_ids_versions_and_timestamps(make_server, tmp_path):
    a = make_server()
    made = [a.create(title=f"a{i}", slug=unique("s")) for i in range(5)]
    r = a.patch(f"/todos/{made[1]['id']}", json={"done": True})
    assert r.status_code == 200 and r.json()["_v"] == 2
    a.post("/lists", json={"name": "groceries"})
    listed = {c: a.get(f"/{c}", params={"limit": "1000"}).json() for c in ("todos", "lists")}
    a.stop()

    dump = tmp_path / "dump.jsonl"
    r = export(a.store, a.config_path, "--file", str(dump))
    assert "export: exported 6 documents" in r.stderr  # the summary line, stderr not a TTY
    head, docs = documents_of(dump.read_text())
    assert head["format"] == "backbone-sse-export" and head["version"] == 1
    assert set(head["collections"]) == {"todos", "lists"}
    assert head["collections"]["todos"]["unique"] == ["slug"]
    assert [d for c, d in docs if c == "todos"] == listed["todos"]
    assert [d for c, d in docs if c == "lists"] == listed["lists"]

    b = make_server(start=False)
    r = cli("import", "--store", b.store, "--config", b.config_path, "--file", str(dump))
    assert r.returncode == 0, r.stderr
    assert "import: imported 6 documents" in r.stderr
    b.start()
    for c in ("todos", "lists"):
        assert b.get(f"/{c}", params={"limit": "1000"}).json() == listed[c]
    assert b.get(f"/todos/{made[1]['id']}").headers["ETag"].strip('"W/') == "2"

    # A fresh client: fetch, then stream from the list's cursor; a write arrives once.
    cursor = b.get("/todos").headers["X-Stream-Cursor"]
    s, hello = subscribe(b.port, f"/todos?since={cursor}")
    with s:
        new = b.create(title="after the import")
        ev = s.next()
        assert (ev.event, ev.json["id"], ev.json["v"]) == ("create", new["id"], 1)
        assert parse_cursor(ev.id)[0] == parse_cursor(cursor)[0]
    # A write to an imported document goes on from its imported `_v`.
    r = b.patch(f"/todos/{made[1]['id']}", json={"title": "x"})
    assert r.status_code == 200 and r.json()["_v"] == 3


def test_export_without_a_config_reads_every_collection_the_store_holds(make_server):
    srv = make_server()
    made = srv.create(title="one")
    srv.post("/lists", json={"name": "two"})
    srv.stop()
    head, docs = documents_of(export(srv.store, None).stdout)
    assert head["collections"] == {"lists": {}, "todos": {}} or head["collections"] == {"todos": {}, "lists": {}}
    assert ("todos", made) in docs and sorted(c for c, _ in docs) == ["lists", "todos"]
    _, only = documents_of(export(srv.store, None, "--collections", "lists").stdout)
    assert [c for c, _ in only] == ["lists"]
    r = cli("export", "--store", srv.store, "--collections", "nope")
    assert r.returncode == 2 and "the store has no collection nope" in r.stderr, r.stderr


def test_export_runs_beside_a_live_server(make_server):
    """A read takes no server lock and changes nothing: the server goes on serving."""
    srv = make_server()
    made = [srv.create(title=f"live {i}") for i in range(3)]
    head, docs = documents_of(export(srv.store, srv.config_path).stdout)
    assert [d for c, d in docs if c == "todos"] == made
    assert head["head"] == int(srv.get("/todos").headers["X-Stream-Cursor"].split("-")[1])
    assert srv.create(title="after the export")["_v"] == 1


def test_a_failing_line_is_reported_with_its_number_and_nothing_is_written(make_server):
    srv = make_server(start=False)
    good = todo("fine")
    text = "\n".join([
        header(),
        line(good),                                     # 2
        line({**todo(), "title": ""}),                  # 3: minLength
        line(todo(), collection="nope"),                # 4: not in the config
        line({**todo(), "_v": 0}),                      # 5: _v
        "{not json",                                    # 6
        line(good),                                     # 7: the id of line 2 again
    ]) + "\n"
    r = cli("import", "--store", srv.store, "--config", srv.config_path, stdin=text)
    assert r.returncode == 1, r.stderr
    for n, words in [(3, "/title must not be empty"), (4, 'collection "nope" is not in the config'),
                     (5, "/_v must be an integer"), (6, "not JSON"), (7, "the id is on an earlier line too")]:
        assert f"line {n}: " in r.stderr and words in r.stderr, (n, r.stderr)
    assert "line 2:" not in r.stderr
    assert "nothing was written" in r.stderr
    srv.start()
    assert srv.count("todos") == 0


def test_skip_invalid_imports_the_lines_that_pass(make_server):
    srv = make_server(start=False)
    good = [todo(f"g{i}", v=i + 1) for i in range(3)]
    text = "\n".join([header(), line(good[0]), line({"id": "bad", "_v": 1}), line(good[1]), line(good[2])])
    r = cli("import", "--store", srv.store, "--config", srv.config_path, "--skip-invalid", stdin=text)
    assert r.returncode == 0, r.stderr
    assert "line 3: todos/bad:" in r.stderr and "/title is required" in r.stderr
    assert "import: imported 3 documents" in r.stderr
    srv.start()
    assert srv.get("/todos").json() == good


def test_a_write_that_fails_takes_back_the_whole_import(make_server):
    """A unique value two lines share passes the checks (each line is fine alone) and
    fails the write: everything already written goes (a rollback on SQLite; on MongoDB,
    whose inserts go 1000 at a time, the first batch is deleted again)."""
    srv = make_server(start=False)
    docs = [todo(f"u{i}", slug=f"slug-{i}") for i in range(1100)]
    docs[1050]["slug"] = "slug-3"
    r = cli("import", "--store", srv.store, "--config", srv.config_path,
            stdin="\n".join([header()] + [line(d) for d in docs]))
    assert r.returncode == 1, r.stderr
    assert f"line 1052: todos/{docs[1050]['id']}: unique field slug already holds this value" in r.stderr, r.stderr
    srv.start()
    assert srv.count("todos") == 0


def test_import_into_a_store_in_use_refuses_its_ids_and_resets_cursors(make_server):
    srv = make_server()
    mine = srv.create(title="already here")
    old_cursor = srv.get("/todos").headers["X-Stream-Cursor"]
    srv.stop()
    taken = {**todo(), "id": mine["id"]}
    r = cli("import", "--store", srv.store, "--config", srv.config_path, stdin="\n".join([header(), line(taken)]))
    assert r.returncode == 1 and "the store already holds a document with this id" in r.stderr, r.stderr

    fresh = todo("imported")
    r = cli("import", "--store", srv.store, "--config", srv.config_path, stdin="\n".join([header(), line(fresh)]))
    assert r.returncode == 0, r.stderr
    srv.start()
    assert [d["id"] for d in srv.get("/todos").json()] == [mine["id"], fresh["id"]]
    s, hello = subscribe(srv.port, "/todos", last_event_id=old_cursor)
    with s:
        ev = s.next()
        assert ev.event == "reset" and ev.json["reason"] == "epoch", ev


def test_a_file_that_is_no_export_is_refused(make_server):
    srv = make_server(start=False)
    r = cli("import", "--store", srv.store, "--config", srv.config_path, stdin=line(todo()) + "\n")
    assert r.returncode == 1 and "line 1: not a backbone-sse export" in r.stderr, r.stderr


def test_copy_moves_a_sqlite_store_to_mongodb(make_server, tmp_path):
    srv = make_server(start=False)
    source = f"sqlite:{tmp_path / 'source.sqlite'}"
    docs = [todo(f"c{i}", v=i % 3 + 1, tags=["x", "y"], priority=i) for i in range(25)]
    r = cli("import", "--store", source, "--config", srv.config_path,
            stdin="\n".join([header()] + [line(d) for d in docs] + [line({"id": "l1", "_v": 4}, "lists")]))
    assert r.returncode == 0, r.stderr

    target = f"{mongo_server().split('?')[0].rstrip('/')}/bsse_copy_{uuid.uuid4().hex[:8]}"
    r = cli("copy", "--from", source, "--to", target, "--config", srv.config_path)
    assert r.returncode == 0, r.stderr
    assert "copy: copied 26 documents" in r.stderr

    _, copied = documents_of(export(target, srv.config_path).stdout)
    assert copied == [("todos", d) for d in docs] + [("lists", {"id": "l1", "_v": 4})]
    # And back: both stores' exports hold the same documents.
    back = f"sqlite:{tmp_path / 'back.sqlite'}"
    r = cli("copy", "--from", target, "--to", back, "--config", srv.config_path)
    assert r.returncode == 0, r.stderr
    assert documents_of(export(back, srv.config_path).stdout)[1] == copied
