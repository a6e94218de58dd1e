"""`backup` and `restore` (issue 16, item 2) on the real binary: a backup taken from
another process while the server writes holds every document acknowledged before it
began, and is a sound SQLite file; a restore gives the store a new epoch, so a client
whose cursor is from before gets `reset` instead of resuming silently over sequence
numbers the restored log hands out again; `restore --epoch-only` does the same in
place (the step after mongorestore, so it runs on either store).
"""

import os
import sqlite3
import threading
import time

from backbone_server import sqlite_only
from conftest import WritersUnderLoad
from sse_client import parse_cursor, subscribe
from test_export_import import cli


@sqlite_only("backup copies a SQLite file; MongoDB is backed up with mongodump")
def test_a_backup_under_writes_holds_every_acknowledged_document(make_server, tmp_path):
    srv = make_server()
    acked = []  # (monotonic time of the answer, id)
    lock = threading.Lock()

    def on_answer(r):
        assert r.status_code == 201, (r.status_code, r.text)
        with lock:
            acked.append((time.monotonic(), r.json()["id"]))

    writers = WritersUnderLoad(srv, 3, on_answer)
    try:
        time.sleep(1.5)
        started = time.monotonic()
        backup = tmp_path / "backup.sqlite"
        r = cli("backup", "--store", srv.store, "--to", str(backup))
        finished = time.monotonic()
        time.sleep(0.5)
    finally:
        writers.stop()
    assert r.returncode == 0, r.stderr
    assert "backup: wrote" in r.stderr
    before = {i for t, i in acked if t < started}
    during = [i for t, i in acked if started <= t <= finished]
    assert len(before) > 50
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        held = {row[0] for row in db.execute('SELECT id FROM "doc.todos"')}
        logged = {row[0] for row in db.execute("SELECT doc_id FROM changes WHERE op = 'create'")}
    assert before <= held, f"{len(before - held)} acknowledged documents missing"
    assert held <= {i for _, i in acked} and held <= logged
    assert not os.path.exists(str(backup) + ".partial")
    print(f"backup: {len(held)} documents, {len(during)} writes acknowledged while it ran")
    # The server never stopped: it still answers, and a backup over an existing file is refused.
    assert srv.healthy()
    r = cli("backup", "--store", srv.store, "--to", str(backup))
    assert r.returncode == 1 and "already exists" in r.stderr


@sqlite_only("restore --from copies a SQLite backup; MongoDB uses mongorestore and --epoch-only")
def test_restore_gives_a_new_epoch_so_an_old_cursor_resets(make_server, tmp_path):
    srv = make_server()
    kept = srv.create(title="before the backup")
    backup = tmp_path / "backup.sqlite"
    r = cli("backup", "--store", srv.store, "--to", str(backup))
    assert r.returncode == 0, r.stderr
    lost = [srv.create(title=f"after the backup {i}") for i in range(3)]
    old_cursor = srv.get("/todos").headers["X-Stream-Cursor"]
    srv.stop()

    r = cli("restore", "--from", str(backup), "--store", srv.store)
    assert r.returncode == 0, r.stderr
    assert "epoch is now" in r.stderr
    srv.start()
    assert [d["id"] for d in srv.get("/todos").json()] == [kept["id"]]
    # New writes take the sequence numbers the lost ones had.
    again = [srv.create(title=f"after the restore {i}") for i in range(3)]
    new_cursor = srv.get("/todos").headers["X-Stream-Cursor"]
    assert parse_cursor(new_cursor)[1] == parse_cursor(old_cursor)[1]
    assert parse_cursor(new_cursor)[0] != parse_cursor(old_cursor)[0]

    s, hello = subscribe(srv.port, "/todos", last_event_id=old_cursor)
    with s:
        ev = s.next()
        assert ev.event == "reset" and ev.json["reason"] == "epoch", ev
        assert ev.id == new_cursor
        srv.delete(f"/todos/{again[0]['id']}")
        ev = s.next()
        assert ev.event == "delete" and ev.json["id"] == again[0]["id"]
    assert lost[0]["id"] not in {d["id"] for d in srv.get("/todos").json()}


def test_restore_epoch_only_resets_cursors_in_place(make_server):
    srv = make_server()
    srv.create(title="stays")
    old_cursor = srv.get("/todos").headers["X-Stream-Cursor"]
    srv.stop()
    r = cli("restore", "--epoch-only", "--store", srv.store)
    assert r.returncode == 0, r.stderr
    srv.start()
    assert srv.count("todos") == 1
    s, hello = subscribe(srv.port, "/todos", last_event_id=old_cursor)
    with s:
        ev = s.next()
        assert ev.event == "reset" and ev.json["reason"] == "epoch", ev
        assert parse_cursor(ev.id)[1] == parse_cursor(old_cursor)[1]


@sqlite_only("restore --from is for SQLite stores")
def test_restore_refuses_a_file_that_is_no_backup(make_server, tmp_path):
    srv = make_server(start=False)
    bogus = tmp_path / "bogus.sqlite"
    with sqlite3.connect(bogus) as db:
        db.execute("CREATE TABLE t (x)")
    r = cli("restore", "--from", str(bogus), "--store", srv.store)
    assert r.returncode == 1 and "is not a backbone-sse SQLite store" in r.stderr, r.stderr
    assert not os.path.exists(srv.db_path)


@sqlite_only("the check looks at SQLite's own locks; MongoDB has no file to look at")
def test_restore_and_import_refuse_a_store_a_server_has_open(make_server, tmp_path):
    srv = make_server()
    backup = tmp_path / "backup.sqlite"
    assert cli("backup", "--store", srv.store, "--to", str(backup)).returncode == 0
    pid = srv.proc.pid
    for args in (["restore", "--from", str(backup), "--store", srv.store],
                 ["restore", "--epoch-only", "--store", srv.store],
                 ["import", "--store", srv.store, "--config", srv.config_path]):
        r = cli(*args, stdin="")
        assert r.returncode == 2, (args, r.stderr)
        assert f"process {pid} has the file open (a server?): stop it first" in r.stderr, r.stderr
    srv.stop()
    assert cli("restore", "--from", str(backup), "--store", srv.store).returncode == 0
