"""backbone-sse.js and stock Backbone 1.4 (jQuery 3 `$.ajax`) against the real server,
from a test page (Tests/browser/pages/lib.html) that loads the library the server
serves. Queries through `$.param`, the four writes, Backbone's emulation flags, error
callbacks, subscriptions (filtered with enter/leave, model, several collections on one
connection), the echo of the page's own create, and writes to a model whose create is
unanswered."""

import json
import re
import urllib.parse
import uuid

import pytest

from browser_support import LIB_CONFIG, wait_until
from lib_page import decoded_query, ids, open_lib_page, snap, wait_snap


def tag():
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def srv(servers):
    return servers(config_text=LIB_CONFIG)


@pytest.fixture
def page(srv, browser_a):
    return open_lib_page(browser_a, srv)


# --- REST through stock Backbone ----------------------------------------------------


def test_fetch_with_where_sort_limit_through_param(srv, page):
    t = tag()
    docs = [srv.create(title=f"{t} {i}", order=i, done=i % 2 == 1, tags=[t, f"n{i}"]) for i in range(6)]
    srv.create(title=f"{t} other", order=4, tags=["elsewhere"])
    results = page.run("fetch", {"queries": [
        {"where": {"tags": t, "order": {"$gte": 2}}, "sort": "-order", "limit": 3},
        {"where": {"tags": t, "order": {"$in": [1, 3, 9]}}, "sort": "order"},
        {"where": {"tags": t, "done": False}, "sort": "-order"},
        {"where": {"tags": {"$in": ["n0", "n5"]}}, "sort": "order"},
        {"where": {"tags": t, "$or": [{"order": 0}, {"order": {"$gt": 4}}]}, "sort": "order"},
        {"tags": t, "done": True, "sort": "order", "skip": 1},
        {"where": {"tags": t, "order": {"$bogus": 1}}},
    ]})
    by_query = [r["orders"] for r in results]
    assert by_query[0] == [5, 4, 3]
    assert "where[tags]=" + t in decoded_query(results[0]["url"])
    assert "where[order][$gte]=2" in decoded_query(results[0]["url"])  # the bracket form $.param writes
    assert "sort=-order" in decoded_query(results[0]["url"]) and "limit=3" in decoded_query(results[0]["url"])
    assert by_query[1] == [1, 3]
    assert "where[order][$in][]=1" in decoded_query(results[1]["url"])
    assert by_query[2] == [4, 2, 0]  # "false" typed as the schema's boolean
    assert by_query[3] == [0, 5]
    assert by_query[4] == [0, 5]
    assert re.search(r"where\[\$or\]\[0\]\[order\]=0", decoded_query(results[4]["url"]))
    assert by_query[5] == [3, 5]
    assert all(r["ok"] and r["cursor"] for r in results[:6])
    bad = results[6]
    assert not bad["ok"] and bad["status"] == 400 and bad["body"]["error"]["status"] == 400
    page.excuse_http_error("/todos?", 400)
    assert {d["id"] for d in docs} >= set(results[0]["ids"])


def test_save_with_and_without_patch_and_destroy(srv, page):
    t = tag()
    out = page.run("crud", {"title": f"{t} doc", "tag": t})
    create, update, patch = out["create"], out["update"], out["patch"]
    assert create["ok"] and re.fullmatch(r"[0-9a-f]{24}", create["attrs"]["id"])
    assert create["attrs"]["_v"] == 1 and create["attrs"]["done"] is False and create["attrs"]["created"]
    assert update["ok"] and update["attrs"]["_v"] == 2 and update["attrs"]["title"] == f"{t} doc (renamed)"
    assert patch["ok"] and patch["attrs"]["_v"] == 3 and patch["attrs"]["done"] is True
    assert patch["attrs"]["order"] == 3 and patch["attrs"]["title"] == f"{t} doc (renamed)"
    assert out["read"]["ok"] and out["read"]["attrs"] == patch["attrs"]
    assert out["destroy"]["ok"] and out["destroy"]["resp"] == {}
    assert (out["inCollectionBefore"], out["inCollectionAfter"]) == (1, 0)
    assert out["pendingLength"] == 0 and out["collectionLength"] == 1 and out["collectionCreate"]["ok"]

    doc_id = create["attrs"]["id"]
    reqs = [(r["method"], r["url"]) for r in out["requests"]]
    assert reqs[:5] == [("POST", "/todos"), ("PUT", f"/todos/{doc_id}"), ("PATCH", f"/todos/{doc_id}"),
                        ("GET", f"/todos/{doc_id}"), ("DELETE", f"/todos/{doc_id}")]
    put_body = json.loads(out["requests"][1]["data"])
    assert put_body["_v"] == 1 and put_body["id"] == doc_id  # stock Backbone sends the whole model
    patch_body = json.loads(out["requests"][2]["data"])
    assert patch_body == {"done": True}  # patch: only the changed attributes
    assert all(r["headers"].get("X-Client-Id") for r in out["requests"])
    assert srv.request("GET", f"/todos/{doc_id}").status_code == 404
    assert [d["title"] for d in srv.list(tags=t)] == [f"{t} doc (collection)"]


def test_emulate_http_and_emulate_json(srv, page):
    t = tag()
    out = page.run("emulate", {"title": f"{t} emu", "tag": t})
    steps = {s["name"]: s for s in out["steps"]}
    for name, s in steps.items():
        assert s["outcome"]["ok"], (name, s)
        assert len(s["requests"]) == 1, (name, s["requests"])
    req = {name: s["requests"][0] for name, s in steps.items()}

    assert req["create json"]["method"] == "POST"
    assert req["create json"]["contentType"] == "application/x-www-form-urlencoded"
    assert json.loads(urllib.parse.parse_qs(req["create json"]["data"])["model"][0])["title"] == f"{t} emu"
    assert req["update json"]["method"] == "PUT"
    assert json.loads(urllib.parse.parse_qs(req["update json"]["data"])["model"][0])["title"] == f"{t} emu 1"
    for name, real in (("update http", "PUT"), ("patch http", "PATCH"), ("destroy http", "DELETE")):
        assert req[name]["method"] == "POST", name
        assert req[name]["headers"]["X-HTTP-Method-Override"] == real, name
    for name, real in (("update both", "PUT"), ("patch both", "PATCH"), ("destroy both", "DELETE")):
        assert req[name]["method"] == "POST", name
        assert urllib.parse.parse_qs(req[name]["data"])["_method"] == [real], name
        assert req[name]["contentType"] == "application/x-www-form-urlencoded", name

    vs = [steps[n]["outcome"]["attrs"].get("_v") for n in ("create json", "update json", "update http", "patch http",
                                                           "update both", "patch both")]
    assert vs == [1, 2, 3, 4, 5, 6]
    final = steps["patch both"]["outcome"]["attrs"]
    assert (final["title"], final["done"], final["order"]) == (f"{t} emu 3", True, 7)
    assert srv.request("GET", f"/todos/{out['id']}").status_code == 404  # deleted through POST + override
    assert srv.list(tags=t) == []


def test_422_and_409_reach_the_error_callbacks(srv, page):
    t = tag()
    doc = srv.create(title=f"{t} contested", tags=[t])
    out = page.run("errors", {"id": doc["id"]})
    bad = out["invalidCreate"]
    assert not bad["ok"] and bad["status"] == 422
    assert bad["body"]["error"]["code"] == "validation_failed"
    assert any(d["path"] == "/title" for d in bad["body"]["error"]["details"])
    assert out["lengthAfterInvalid"] == 0  # wait: true adds nothing
    assert out["versionsRead"] == [1, 1]
    assert out["firstSave"]["ok"] and out["firstSave"]["attrs"]["_v"] == 2
    stale = out["staleSave"]
    assert not stale["ok"] and stale["status"] == 409
    assert stale["body"]["error"]["current"]["_v"] == 2
    assert stale["body"]["error"]["current"]["title"] == "saved by a"
    assert out["invalidPatch"]["status"] == 422
    assert srv.request("GET", f"/todos/{doc['id']}").json()["title"] == "saved by a"
    page.excuse_http_error("/todos", 422)
    page.excuse_http_error(f"/todos/{doc['id']}", 409)
    page.excuse_http_error(f"/todos/{doc['id']}", 422)


# --- subscriptions -------------------------------------------------------------------


def test_collection_subscribe_with_where_filter_enter_and_leave(srv, page):
    t = tag()
    a = srv.create(title=f"{t} a", tags=[t])
    b = srv.create(title=f"{t} b", tags=[t], done=True)
    c = srv.create(title=f"{t} c", tags=["elsewhere"])
    first = page.run("subscribe", {"key": "open", "kind": "collection",
                                   "options": {"data": {"where": {"tags": t, "done": False}, "sort": "title", "limit": 50}}})
    assert ids(first) == [a["id"]]
    streams = page.js("return H.openStreams()")
    assert len(streams) == 1
    q = decoded_query(streams[0]["url"])
    assert f"where[tags]={t}" in q and "where[done]=false" in q and "since=" in q
    assert "sort" not in q and "limit" not in q  # streams take the filter only
    page.wait("return H.openStreams()[0].readyState === 1")

    d = srv.create(title=f"{t} d", tags=[t])                       # create, matching
    wait_snap(page, "open", lambda s: ids(s) == sorted([a["id"], d["id"]]), message="create")
    srv.create(title=f"{t} e", tags=[t], done=True)                # create, not matching
    srv.patch(f"/todos/{a['id']}", done=True)                      # leave
    wait_snap(page, "open", lambda s: ids(s) == [d["id"]], message="leave")
    srv.patch(f"/todos/{b['id']}", done=False)                     # enter
    s = wait_snap(page, "open", lambda s: ids(s) == sorted([b["id"], d["id"]]), message="enter")
    assert [m for m in s["models"] if m["id"] == b["id"]][0]["_v"] == 2
    srv.patch(f"/todos/{d['id']}", title=f"{t} d renamed")          # update
    wait_snap(page, "open", lambda s: any(m["title"] == f"{t} d renamed" for m in s["models"]), message="update")
    srv.patch(f"/todos/{c['id']}", title=f"{t} c renamed")          # elsewhere: nothing
    srv.delete(f"/todos/{d['id']}")                                 # delete
    s = wait_snap(page, "open", lambda s: ids(s) == [b["id"]], message="delete")
    types = page.js("return H.streams[0].events.map(function (e) { return e.type; })")
    assert "enter" in types and "leave" in types
    assert [m["title"] for m in s["models"]] == [f"{t} b"]
    assert s["unsaved"] == 0 and s["errors"] == []

    page.run("close", {"key": "open"})
    assert page.js("return H.openStreams()") == []


def test_model_subscribe_and_one_connection_for_several_collections(srv, page):
    t = tag()
    todo = srv.create(title=f"{t} followed", tags=[t])
    note = srv.create("notes", text=f"{t} note")
    m = page.run("subscribe", {"key": "m", "kind": "model", "id": todo["id"]})
    assert m["models"]["title"] == f"{t} followed"
    notes = page.run("subscribe", {"key": "notes", "kind": "collection", "name": "notes"})
    assert note["id"] in ids(notes)
    todos = page.run("subscribe", {"key": "todos", "kind": "collection"})
    assert todo["id"] in ids(todos)
    wait_until(lambda: [s["readyState"] for s in page.js("return H.openStreams()")] == [1], message="one live stream")
    [stream] = page.js("return H.openStreams()")
    assert stream["url"].startswith("/events?collections=")
    assert sorted(decoded_query(stream["url"]).split("&")[0].split("=")[1].split(",")) == ["notes", "todos"]

    srv.patch(f"/todos/{todo['id']}", title=f"{t} followed, renamed")
    wait_snap(page, "m", lambda s: s["models"]["title"] == f"{t} followed, renamed", message="model update")
    new_note = srv.create("notes", text=f"{t} second note")
    wait_snap(page, "notes", lambda s: new_note["id"] in ids(s), message="note create")
    page.run("close", {"key": "notes"})
    srv.patch(f"/todos/{todo['id']}", done=True)
    s = wait_snap(page, "m", lambda s: s["models"]["done"] is True, message="model update after another close")
    assert s["models"]["_v"] == 3
    wait_snap(page, "todos", lambda s: any(x["id"] == todo["id"] and x["done"] for x in s["models"]), message="todos")

    srv.delete(f"/todos/{todo['id']}")
    s = wait_snap(page, "m", lambda s: "destroy" in s["events"], message="model destroy")
    wait_snap(page, "todos", lambda s: todo["id"] not in ids(s), message="collection delete")
    page.run("close", {"key": "m"})
    page.run("close", {"key": "todos"})
    assert page.js("return H.openStreams()") == []


@pytest.mark.parametrize("wait", [False, True], ids=["optimistic", "wait"])
def test_echo_of_own_create_arriving_before_the_answer_adds_no_second_model(srv, page, wait):
    t = tag()
    page.run("subscribe", {"key": "c", "kind": "collection", "options": {"data": {"tags": t}}})
    page.wait("return H.openStreams().length === 1 && H.openStreams()[0].readyState === 1")

    out = page.run("echo", {"key": "c", "title": f"{t} mine", "tag": t, "hold": True, "wait": wait,
                            "other": f"{t} theirs"})
    assert out["otherStatus"] == 201 and out["otherShownWhileHeld"] is True  # others' events do not wait
    assert out["releasedAfterEcho"] is True       # the page had the event before the answer
    assert out["echo"]["origin"] == out["clientId"]
    assert out["beforeRelease"] == {"count": 0 if wait else 1, "withId": 0}
    assert out["result"]["ok"] and out["result"]["attrs"]["id"] == out["echo"]["id"]
    assert out["after"] == {"count": 1, "ids": [out["echo"]["id"]], "unsaved": 0}

    out = page.run("echo", {"key": "c", "title": f"{t} mine, answered first", "tag": t, "hold": False, "wait": wait})
    assert out["after"]["count"] == 1 and out["after"]["unsaved"] == 0

    s = snap(page, "c")
    assert sorted(m["title"] for m in s["models"]) == sorted([f"{t} mine", f"{t} mine, answered first", f"{t} theirs"])
    assert sorted(d["id"] for d in srv.list(tags=t)) == ids(s)
    page.run("close", {"key": "c"})


def test_writes_to_a_model_whose_create_is_unanswered_wait_for_its_id(srv, page):
    t = tag()
    page.run("subscribe", {"key": "c", "kind": "collection", "options": {"data": {"tags": t}}})
    out = page.run("writesWhileCreating", {"key": "c", "title": t, "tag": t})
    # Only the two POSTs go out while they are unanswered ...
    assert sorted(out["sentWhileHeld"]) == ["POST /todos", "POST /todos"]
    # ... then each model's writes, in the order the page made them.
    kept_id, gone_id = out["keep"]["id"], out["goneId"]
    kept = [(r["method"], r["url"]) for r in out["requests"] if r["url"].endswith(kept_id)]
    gone = [(r["method"], r["url"]) for r in out["requests"] if r["url"].endswith(gone_id)]
    assert kept == [("PATCH", f"/todos/{kept_id}"), ("PUT", f"/todos/{kept_id}")]
    assert gone == [("PATCH", f"/todos/{gone_id}"), ("DELETE", f"/todos/{gone_id}")]
    assert all(r["status"] in (200, 201) for r in out["requests"]), out["requests"]

    server = srv.list(tags=t)
    assert [(d["title"], d["done"], d["_v"]) for d in server] == [(f"{t} kept, renamed", True, 3)]
    assert srv.request("GET", f"/todos/{gone_id}").status_code == 404
    s = wait_snap(page, "c", lambda s: ids(s) == [kept_id], message="the page's list")
    assert s["models"][0]["title"] == f"{t} kept, renamed" and s["models"][0]["_v"] == 3
    assert "remove" in s["events"]
    page.run("close", {"key": "c"})


# --- backbone-dnode's forms ------------------------------------------------------------


def test_dnode_query_and_sorting_become_the_rest_query(srv, page):
    """A page moving from backbone-dnode keeps its calls: `fetch({query, sorting: {sort:
    [[field, -1]], limit, skip}})` and the array sort inside `data` mean what they meant
    there."""
    t = tag()
    for i in range(6):
        srv.create(title=f"{t} {i}", order=i, done=i % 2 == 1, tags=[t])
    r = page.run("fetchWith", {"options": {"query": {"tags": t, "done": False},
                                           "sorting": {"sort": [["order", -1]], "limit": 2, "skip": 1}}})
    assert r["ok"] and r["orders"] == [2, 0], r
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(r["url"]).query)
    assert json.loads(params["where"][0]) == {"tags": t, "done": False}, params  # JSON: false stays a boolean
    assert (params["sort"], params["limit"], params["skip"]) == (["-order"], ["2"], ["1"]), params
    r = page.run("fetchWith", {"options": {"data": {"where": {"tags": t}, "sort": [["done", 1], ["order", "desc"]]}}})
    assert r["ok"] and r["orders"] == [4, 2, 0, 5, 3, 1], r
    assert "sort=done,-order" in decoded_query(r["url"])
    # `query` beside a `where` in data: both hold.
    r = page.run("fetchWith", {"options": {"data": {"where": {"tags": t}}, "query": {"order": {"$lt": 2}},
                                           "sorting": {"sort": [["order", 1]]}}})
    assert r["ok"] and r["orders"] == [0, 1], r


def test_dnode_subscribe_callbacks_finished_and_error(srv, page):
    t = tag()
    srv.create(title=f"{t} a", order=1, tags=[t])
    r = page.run("subscribeDnode", {"key": "d", "options": {"query": {"tags": t}, "sorting": {"sort": [["order", 1]]}}})
    assert r == {"finished": True, "orders": [1]}
    # Live, through the filter the query made.
    srv.create(title=f"{t} b", order=2, tags=[t])
    srv.create(title="elsewhere", order=3, tags=["x"])
    wait_snap(page, "d", lambda s: sorted(m["order"] for m in s["models"]) == [1, 2], message="the live create")
    page.excuse_http_error("/nosuch", 404)
    assert page.run("subscribeDnode", {"key": "e", "url": "/nosuch"}) == {"error": 404, "finished": False}


# --- errors in Backbone's terms -----------------------------------------------------------


@pytest.mark.parametrize("choice, final", [("server", "theirs"), ("mine", "mine"), ("merge", "mine + theirs")])
def test_422_is_invalid_with_fields_and_a_rollback_and_409_a_conflict_to_settle(srv, page, choice, final):
    page.excuse_http_error("/todos/", 422)
    page.excuse_http_error("/todos/", 409)
    t = tag()
    out = page.run("errorsInBackboneTerms", {"title": t, "choice": choice})
    assert out["invalidStatus"] == 422
    # Keyed by attribute for a form; the details as the server gave them.
    assert set(out["invalid"]["fields"]) == {"title", "tags"}, out["invalid"]
    assert {d["path"] for d in out["invalid"]["details"]} == {"/title", "/tags"}
    # Without `wait`, the refused values do not stay: the model is the server's again.
    assert out["afterInvalid"] == {"title": t, "tags": ["keep"], "_v": 1}
    assert out["conflictStatus"] == 409
    [conflict] = out["conflicts"]
    assert conflict["source"] == "save" and conflict["current"]["title"] == "theirs" and conflict["current"]["_v"] == 2
    assert conflict["local"]["title"] == "mine"
    assert out["beforeResolve"] == {"title": "mine", "_v": 1}  # the page's values stay until settled
    assert out["afterResolve"]["_v"] == 2
    assert out["finalSave"] == {"ok": True, "status": None, "title": final}, out["finalSave"]


def test_another_pages_update_does_not_overwrite_unsaved_changes_unseen(srv, page):
    t = tag()
    doc = srv.create(title=t, tags=[t])
    page.run("subscribe", {"key": "u", "kind": "collection", "name": "todos", "options": {"data": {"tags": t}}})
    wait_snap(page, "u", lambda s: "subscribe:open" in s["events"], message="live")
    out = page.run("unsavedMeetsRemote", {"key": "u", "id": doc["id"]})
    [seen] = out["seen"]
    assert seen["source"] == "remote" and seen["current"]["title"] == "typed elsewhere"
    assert seen["local"] == {"title": "typed here"}
    assert out["kept"] == "typed here"
    assert (out["afterServer"], out["v"]) == ("typed elsewhere", 2)


# --- live windows ---------------------------------------------------------------------------


def test_a_sorted_limited_subscription_stays_the_window_a_fresh_fetch_would_give(srv, page):
    """subscribe({data: {sort, limit}}): the collection keeps the fetch's order as events
    arrive, and its window: it never grows past the limit, and a model that leaves it
    is replaced from the server."""
    t = tag()
    docs = {i: srv.create(title=f"{t} {i}", order=i, tags=[t]) for i in range(1, 6)}
    s = page.run("subscribe", {"key": "w", "kind": "collection", "name": "todos",
                               "options": {"data": {"where": {"tags": t}, "sort": "-order", "limit": 2}}})
    assert s["order"] == [5, 4]

    def window(expected, what):
        return wait_snap(page, "w", lambda s: s["order"] == expected, message=what)

    docs[6] = srv.create(title=f"{t} 6", order=6, tags=[t])
    window([6, 5], "a create at the top pushes 4 out")
    srv.create(title=f"{t} 0", order=0, tags=[t])
    marker = srv.create(title=f"{t} 7", order=7, tags=[t])  # after the 0: seen means the 0 was too
    window([7, 6], "a create below the window stays out, one above comes in")
    srv.delete(f"/todos/{marker['id']}")
    srv.delete(f"/todos/{docs[6]['id']}")
    window([5, 4], "two leave the full window: the next ones move in from the server")
    srv.patch(f"/todos/{docs[5]['id']}", order=1)
    window([4, 3], "an update sends 5 below the edge: the window is fetched again")
    assert snap(page, "w")["errors"] == []


def test_a_sorted_subscription_inserts_live_creates_in_order(srv, page):
    t = tag()
    for i in (4, 2, 1):
        srv.create(title=f"{t} {i}", order=i, tags=[t])
    s = page.run("subscribe", {"key": "o", "kind": "collection", "name": "todos",
                               "options": {"data": {"where": {"tags": t}, "sort": {"order": -1}}}})
    assert s["order"] == [4, 2, 1]
    srv.create(title=f"{t} 3", order=3, tags=[t])
    srv.create(title=f"{t} 5", order=5, tags=[t])
    wait_snap(page, "o", lambda s: s["order"] == [5, 4, 3, 2, 1], message="creates in their place, not appended")
