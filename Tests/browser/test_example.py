"""The example app (the shipped index.html, app.js and the server's /backbone-sse.js) in
two independent browser sessions: what one user does (add, toggle, edit, delete, clear
completed) shows up in the other page within a second; a burst of 100 changes leaves
both pages and the server with the same list, the one the user meant; a change made
elsewhere does not disturb an edit in progress."""

import random

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser_support import CLIENT_MODE, LIBRARY_SOURCE, now_ms, wait_until
from todo_page import TodoPage

PROPAGATION_MS = 1000  # from the write leaving one page to the other page showing it


def server_rows(server):
    return [{"id": d["id"], "title": d["title"], "done": d["done"]} for d in server.list(sort="created")]


def same(rows):
    return sorted((r["id"], r["title"], r["done"]) for r in rows)


def propagates(source, target, predicate, t0, what):
    """The user's action in `source` (made at t0, epoch ms) shows in `target` within
    PROPAGATION_MS of its write leaving `source`; both times are taken in the pages."""
    rows = target.wait_rows(predicate, timeout=5, message=what)
    sent = source.sent_since(t0)
    assert sent, f"{what}: page {source.b.name} sent nothing"
    shown = target.first_shown(predicate, t0)
    assert shown is not None, f"{what}: page {target.b.name} never showed it"
    assert shown - sent[0] < PROPAGATION_MS, f"{what}: took {shown - sent[0]} ms to reach page {target.b.name}"
    return rows


def count_text(page):
    return page.b.js("return document.getElementById('todo-count').textContent")


def test_served_library_is_the_source(servers):
    """The page loads /backbone-sse.js from the server's bundled copy: it must be the
    library in the repository (a stale build would test old code)."""
    if CLIENT_MODE == "source":
        pytest.skip("BACKBONE_SSE_CLIENT=source: pages load the library from the source tree")
    srv = servers()
    r = requests.get(srv.url + "/backbone-sse.js", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/javascript")
    with open(LIBRARY_SOURCE, "rb") as f:
        assert r.content == f.read(), "the server's bundled backbone-sse.js is stale: rebuild (swift build)"
    index = requests.get(srv.url + "/", timeout=10).text
    assert '<script src="/backbone-sse.js"></script>' in index


def test_two_pages_see_each_others_changes_within_a_second(make_server, browser_a, browser_b):
    srv = make_server()
    existing = srv.create(title="Already there")
    a = TodoPage(browser_a, srv).open()
    b = TodoPage(browser_b, srv).open()
    assert a.titles() == b.titles() == ["Already there"]
    assert a.status() == ["live", "live"]

    # add, in A, typed into the box
    for title in ["Milk", "Bread", "Eggs"]:
        t0 = now_ms()
        a.add(title)
        propagates(a, b, lambda rows: title in [r["title"] for r in rows], t0, f"add {title!r}")
    want = ["Already there", "Milk", "Bread", "Eggs"]
    a.wait_titles(want)
    b.wait_titles(want)
    assert count_text(a) == count_text(b) == "4 items left"

    # toggle, in B
    t0 = now_ms()
    b.toggle("Bread")
    propagates(b, a, lambda rows: any(r["title"] == "Bread" and r["done"] and r["completed"] for r in rows), t0, "toggle")
    assert count_text(a) == "3 items left"

    # edit, in A: double-click, retype, Enter
    t0 = now_ms()
    a.edit("Eggs", "Free-range eggs")
    propagates(a, b, lambda rows: "Free-range eggs" in [r["title"] for r in rows] and "Eggs" not in [r["title"] for r in rows],
               t0, "edit")

    # delete, in B
    t0 = now_ms()
    b.delete("Milk")
    propagates(b, a, lambda rows: "Milk" not in [r["title"] for r in rows], t0, "delete")

    # clear completed, in B, after A completes one more
    t0 = now_ms()
    a.toggle("Already there")
    propagates(a, b, lambda rows: any(r["title"] == "Already there" and r["done"] for r in rows), t0, "toggle back")
    t0 = now_ms()
    b.clear_completed()
    propagates(b, a, lambda rows: [r["title"] for r in rows] == ["Free-range eggs"], t0, "clear completed")
    b.wait_titles(["Free-range eggs"])
    assert count_text(a) == count_text(b) == "1 item left"

    wait_until(lambda: [d["title"] for d in srv.list()] == ["Free-range eggs"], message="server list")
    assert same(server_rows(srv)) == same(a.rows()) == same(b.rows()) == same(a.models()) == same(b.models())
    assert existing["id"] not in [r["id"] for r in a.rows()]


# One burst of UI events, all dispatched in one go: the POSTs, PATCHes and DELETEs are
# in flight together, and toggles, edits and deletes hit todos whose POST has not
# been answered yet.
BURST_JS = """
var ops = arguments[0];
function row(title) {
  return $('#todo-list > li').filter(function () { return $(this).find('label').text() === title; }).first();
}
ops.forEach(function (op) {
  var li;
  if (op[0] === 'add') {
    $('#new-todo').val(op[1]).trigger($.Event('keypress', {which: 13}));
    return;
  }
  li = row(op[1]);
  if (!li.length) throw new Error('no row ' + op[1]);
  if (op[0] === 'toggle') li.find('.toggle').click();
  else if (op[0] === 'delete') li.find('.destroy').click();
  else if (op[0] === 'edit') {
    li.find('label').trigger('dblclick');
    li.find('.edit').val(op[2]).trigger($.Event('keydown', {which: 13}));
  }
});
return ops.length;
"""


def burst(n, seed):
    """n operations a user could do in the app, and the list they mean to end with."""
    rnd = random.Random(seed)
    live = {}  # title -> done
    ops = []
    made = 0
    while len(ops) < n:
        roll = rnd.random()
        if not live or roll < 0.45:
            made += 1
            title = f"item {made:03d}"
            ops.append(["add", title])
            live[title] = False
            continue
        title = rnd.choice(sorted(live))
        if roll < 0.72:
            ops.append(["toggle", title])
            live[title] = not live[title]
        elif roll < 0.85:
            new = title + "+"
            ops.append(["edit", title, new])
            live[new] = live.pop(title)
        else:
            ops.append(["delete", title])
            del live[title]
    return ops, sorted(live.items())


def test_hundred_rapid_changes_leave_pages_and_server_identical(make_server, browser_a, browser_b):
    srv = make_server()
    a = TodoPage(browser_a, srv).open()
    b = TodoPage(browser_b, srv).open()
    ops, intended = burst(100, seed=7)
    kinds = {k: sum(1 for op in ops if op[0] == k) for k in ("add", "toggle", "edit", "delete")}
    assert all(kinds.values()), kinds
    assert a.b.js(BURST_JS, ops) == 100

    def settled():
        s = same(server_rows(srv))
        return s if s == same(a.models()) == same(b.models()) == same(a.rows()) == same(b.rows()) \
            and sorted((t, d) for _, t, d in s) == intended else None

    try:
        wait_until(settled, timeout=15, interval=0.2, message="both pages and the server to hold the intended list")
    except AssertionError:
        raise AssertionError(
            f"after {kinds}:\nintended {intended}\nserver   {sorted((r['title'], r['done']) for r in server_rows(srv))}\n"
            f"page A   {sorted((r['title'], r['done']) for r in a.models())}\n"
            f"page B   {sorted((r['title'], r['done']) for r in b.models())}")
    rows = a.rows()
    assert len({r["id"] for r in rows}) == len(rows) == len(intended)
    assert all(r["id"] for r in a.models())  # no model left unsaved
    # Both pages keep the app's order: by creation time.
    for p in (a, b):
        created = p.b.js("return todos.pluck('created')")
        assert created == sorted(created), p.b.name
    assert [r["id"] for r in a.rows()] == a.b.js("return todos.pluck('id')")
    assert [r["id"] for r in b.rows()] == b.b.js("return todos.pluck('id')")


@pytest.mark.parametrize("choice", ["keep-mine", "take-theirs"])
def test_a_change_from_elsewhere_does_not_disturb_an_edit_in_progress(make_server, browser_a, choice):
    """The title changed elsewhere while this page edits it: the edit is not disturbed
    while it is typed, and is not saved over the other one unseen either: the row asks
    which to keep (a 409 in Backbone's terms, `conflict`)."""
    srv = make_server()
    browser_a.excuse_http_error(srv.url + "/todos/", 409)
    doc = srv.create(title="Draft")
    a = TodoPage(browser_a, srv).open()
    li = a.row("Draft")
    ActionChains(a.driver).double_click(li.find_element(By.CSS_SELECTOR, "label")).perform()
    box = li.find_element(By.CSS_SELECTOR, ".edit")
    box.send_keys(Keys.END, " being typed")
    srv.patch(f"/todos/{doc['id']}", title="Renamed elsewhere", done=True)
    a.b.wait("return todos.get(arguments[0]).get('title') === 'Renamed elsewhere'", doc["id"])
    # The row is still being edited, with what the user typed.
    assert a.b.js("var li = $('#todo-list li').first(); return [li.hasClass('editing'), li.find('.edit').val(),"
                  " document.activeElement === li.find('.edit')[0]]") == [True, "Draft being typed", True]
    box.send_keys(Keys.ENTER)
    a.b.wait("return $('#todo-list li .conflict .theirs').text() === 'Renamed elsewhere'", message="the question")
    assert a.titles() == ["Draft being typed"]  # the page's value, until the user says
    assert srv.list()[0]["title"] == "Renamed elsewhere"
    a.driver.find_element(By.CSS_SELECTOR, f"#todo-list li .{choice}").click()
    kept = "Draft being typed" if choice == "keep-mine" else "Renamed elsewhere"
    wait_until(lambda: srv.list()[0]["title"] == kept, message="the choice saved")
    # The other change (done) stays, whichever title is kept; the question is gone.
    a.wait_rows(lambda rows: rows == [{"id": doc["id"], "title": kept, "done": True, "completed": True}])
    assert a.b.js("return $('#todo-list li .conflict').length") == 0


def test_a_value_the_server_refuses_shows_under_its_row_and_the_row_keeps_the_stored_one(make_server, browser_a):
    """A save the schema refuses (here from the console: the inputs' own limits keep a
    user from typing one) is an `invalid` in Backbone's terms: the row says why, and
    shows what the server holds."""
    srv = make_server()
    browser_a.excuse_http_error(srv.url + "/todos/", 422)
    doc = srv.create(title="Stored")
    a = TodoPage(browser_a, srv).open()
    a.b.js("todos.get(arguments[0]).save({title: 'x'.repeat(201)})", doc["id"])
    a.b.wait("return $('#todo-list li .problem').text().indexOf('title: ') === 0", message="the problem shown")
    assert a.titles() == ["Stored"]
    assert srv.list()[0]["title"] == "Stored"
