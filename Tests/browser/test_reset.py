"""`reset` from the library's point of view (library test page). A subscriber cannot
ask for a reset through the public API; a server can force one:

- its data directory wiped and the server restarted on the same port: a new store, a
  new epoch, so the page's cursor belongs to another store (`reset`, reason `epoch`);
- the page kept off the network while more changes than `--retain-count` keeps are
  made and the server restarts (it prunes its change log at start): the page's
  cursor has expired (`reset`, reason `expired`).

Either way every subscription must refetch, with `reset: true`, and go on live from
there: no stale model kept, none missing."""

import subprocess

from browser_support import BIN, LIB_CONFIG, now_ms
from lib_page import ids, open_lib_page, snap, wait_snap


def subscribe_all(page, model_id):
    page.run("subscribe", {"key": "all", "kind": "collection"})
    page.run("subscribe", {"key": "open", "kind": "collection", "options": {"data": {"where": {"done": False}}}})
    page.run("subscribe", {"key": "m", "kind": "model", "id": model_id})
    page.run("subscribe", {"key": "notes", "kind": "collection", "name": "notes"})
    # one multiplexed stream (todos, the model, notes) and the filtered one
    page.wait("var s = H.openStreams(); return s.length === 2 && s.every(function (x) { return x.readyState === 1; })",
              message="both streams live")


def server_ids(srv, collection="todos", **params):
    return sorted(d["id"] for d in srv.list(collection, **params))


def test_wiped_store_gives_an_epoch_reset_and_a_refetch(make_server, browser_a):
    srv = make_server(config_text=LIB_CONFIG)
    a = srv.create(title="old a")
    srv.create(title="old b", done=True)
    srv.create("notes", text="old note")
    page = open_lib_page(browser_a, srv)
    subscribe_all(page, a["id"])
    assert len(snap(page, "all")["models"]) == 2 and len(snap(page, "open")["models"]) == 1
    old_epoch = page.js("return H.streams[0].events[0].id").split("-")[0]

    t_down = now_ms()
    assert srv.stop() == 0
    srv.wipe()
    srv.start()
    # A new store: the same port, other documents, other ids.
    x = srv.create(title="new x")
    y = srv.create(title="new y", done=True)
    n = srv.create("notes", text="new note")

    wait_snap(page, "all", lambda s: ids(s) == sorted([x["id"], y["id"]]), timeout=15, message="todos refetched")
    wait_snap(page, "open", lambda s: ids(s) == [x["id"]], message="filtered refetched")
    wait_snap(page, "notes", lambda s: ids(s) == [n["id"]], message="notes refetched")
    wait_snap(page, "m", lambda s: "destroy" in s["events"], message="the followed model, gone with the old store")
    for key in ("all", "open", "notes"):
        s = snap(page, key)
        assert "subscribe:reset:epoch" in s["events"], (key, s["events"])
        assert "reset" in s["events"], (key, s["events"])  # fetched with reset: true
        assert s["unsaved"] == 0 and s["errors"] == []
    resets = page.js("return [].concat.apply([], H.streams.map(function (s) {"
                     " return s.events.filter(function (e) { return e.type === 'reset'; }); }))")
    assert resets and all(r["data"]["reason"] == "epoch" for r in resets)
    assert all(r["id"].split("-")[0] != old_epoch for r in resets)

    # Live from the new store.
    z = srv.create(title="new z")
    srv.patch(f"/todos/{y['id']}", done=False)
    srv.create("notes", text="newer note")
    wait_snap(page, "all", lambda s: ids(s) == sorted([x["id"], y["id"], z["id"]]), message="live create")
    wait_snap(page, "open", lambda s: ids(s) == sorted([x["id"], y["id"], z["id"]]), message="live enter")
    wait_snap(page, "notes", lambda s: len(s["models"]) == 2, message="live note")
    assert ids(snap(page, "all")) == server_ids(srv)
    assert ids(snap(page, "open")) == server_ids(srv, done="false")

    t_end = now_ms()
    page.excuse_stream_failures(srv, t_down, t_end, ["ERR_CONNECTION_REFUSED"])
    page.excuse_http_error(f"/todos/{a['id']}", 404)  # the followed model's refetch: gone


def test_expired_cursor_gives_a_reset_and_a_refetch(make_server, browser_a):
    srv = make_server(config_text=LIB_CONFIG, extra_args=["--retain-count", "3"])
    docs = [srv.create(title=f"doc {i}") for i in range(3)]
    page = open_lib_page(browser_a, srv)
    subscribe_all(page, docs[0]["id"])

    t_down = now_ms()
    page.set_offline(True)            # the page cannot follow ...
    assert srv.stop() == 0
    srv.start()
    srv.patch(f"/todos/{docs[0]['id']}", title="doc 0, renamed", done=True)
    srv.delete(f"/todos/{docs[1]['id']}")
    made = [srv.create(title=f"later {i}") for i in range(4)]
    assert srv.stop() == 0            # ... and the log keeps only the newest 3 changes
    srv.start()
    page.set_offline(False)

    want = sorted([docs[0]["id"], docs[2]["id"]] + [d["id"] for d in made])
    wait_snap(page, "all", lambda s: ids(s) == want, timeout=15, message="todos refetched")
    wait_snap(page, "open", lambda s: ids(s) == sorted([docs[2]["id"]] + [d["id"] for d in made]), message="filtered")
    m = wait_snap(page, "m", lambda s: s["models"].get("title") == "doc 0, renamed", message="model refetched")
    assert m["models"]["_v"] == 2 and m["models"]["done"] is True
    for key in ("all", "open", "m"):
        assert "subscribe:reset:expired" in snap(page, key)["events"], key
    s = snap(page, "all")
    assert "reset" in s["events"]
    assert [d["title"] for d in sorted(s["models"], key=lambda d: d["created"] if "created" in d else d["id"])] \
        == [d["title"] for d in srv.list(sort="created")]

    # and live
    srv.delete(f"/todos/{made[0]['id']}")
    wait_snap(page, "all", lambda s: made[0]["id"] not in ids(s), message="live delete")
    assert ids(snap(page, "all")) == server_ids(srv)

    page.excuse_stream_failures(srv, t_down, now_ms(), ["ERR_INTERNET_DISCONNECTED"])


def test_a_restored_backup_resets_every_page_instead_of_resuming_over_reused_sequences(make_server, browser_a, tmp_path):
    """The issue's lost data: a store restored from an older backup kept its epoch, so a
    page whose cursor was ahead resumed once new writes reused those sequence numbers,
    keeping a deleted document and missing a new one. `restore` gives the store a new
    epoch: the page's EventSource gets `reset` and refetches what the store now holds."""
    srv = make_server(config_text=LIB_CONFIG)
    a = srv.create(title="a")
    b = srv.create(title="b")
    backup = str(tmp_path / "backup.sqlite")
    taken = subprocess.run([BIN, "backup", "--store", srv.store, "--to", backup], capture_output=True, text=True,
                           timeout=60)
    assert taken.returncode == 0, taken.stderr
    c = srv.create(title="c")
    srv.delete(f"/todos/{a['id']}")
    page = open_lib_page(browser_a, srv)
    page.run("subscribe", {"key": "all", "kind": "collection"})
    wait_snap(page, "all", lambda s: ids(s) == sorted([b["id"], c["id"]]), message="the page before the restore")

    t_down = now_ms()
    assert srv.stop() == 0
    restored = subprocess.run([BIN, "restore", "--from", backup, "--store", srv.store], capture_output=True,
                              text=True, timeout=60)
    assert restored.returncode == 0, restored.stderr
    srv.start()
    d = srv.create(title="d")  # takes a sequence number the page has already seen
    want = sorted([a["id"], b["id"], d["id"]])
    s = wait_snap(page, "all", lambda s: ids(s) == want, timeout=15, message="the restored store, refetched")
    assert "subscribe:reset:epoch" in s["events"], s["events"]
    assert ids(s) == server_ids(srv)
    page.excuse_stream_failures(srv, t_down, now_ms(), ["ERR_CONNECTION_REFUSED"])
