"""The server restarts under two open pages of the example app: SIGTERM (the streams
get `bye`), then kill -9 (they just break), on the same data and the same port. Both
pages come back by themselves and catch up with what was written while they were
away (through the REST API, as curl would) and after, with no duplicate and no loss.

Page B is kept off the network (DevTools network emulation) across the SIGTERM restart
and while the first writes are made, so that "written while a page was disconnected"
is certain rather than a matter of timing; after kill -9 both pages reconnect on
their own schedule, while the writes are made right after the restart."""

from browser_support import now_ms, wait_until
from todo_page import TodoPage

# Installed in each page: every change of the subscription's state, with a timestamp.
WATCH_JS = """
window.__links = [];
todos.on('subscribe:open', function () { __links.push(['open', Date.now()]); });
todos.on('subscribe:error', function () { __links.push(['error', Date.now()]); });
"""


def links_since(page, t_ms):
    return [kind for kind, at in page.b.js("return window.__links") if at >= t_ms]


def reconnected_since(page, t_ms):
    """The stream went down (error) and came back (open) since t_ms, and is up."""
    kinds = links_since(page, t_ms)
    return "error" in kinds and kinds[-1] == "open"


def state(server):
    return sorted((d["id"], d["title"], d["done"]) for d in server.list())


def page_state(page):
    return sorted((r["id"], r["title"], r["done"]) for r in page.rows())


def assert_same_everywhere(server, *pages, timeout=10.0):
    def check():
        want = state(server)
        return want if all(page_state(p) == want and sorted((m["id"], m["title"], m["done"]) for m in p.models()) == want
                           for p in pages) else None
    try:
        want = wait_until(check, timeout=timeout, interval=0.1, message="pages to match the server")
    except AssertionError:
        raise AssertionError(f"server {state(server)}\n" + "\n".join(f"page {p.b.name} {page_state(p)}" for p in pages))
    for p in pages:
        rows = p.rows()
        assert len({r["id"] for r in rows}) == len(rows), f"duplicate rows in page {p.b.name}"
    return want


def test_sigterm_then_kill_9_restarts_under_two_open_pages(make_server, browser_a, browser_b):
    srv = make_server()
    docs = [srv.create(title=f"before {i}") for i in range(4)]
    a = TodoPage(browser_a, srv).open()
    b = TodoPage(browser_b, srv).open()
    for p in (a, b):
        p.b.js(WATCH_JS)
        p.wait_titles([d["title"] for d in docs])

    # --- SIGTERM, page B off the network meanwhile ---------------------------------
    t_down = now_ms()
    browser_b.set_offline(True)
    assert srv.stop() == 0
    srv.start()  # the same data directory, the same --port

    # A comes back by itself; B cannot.
    wait_until(lambda: reconnected_since(a, t_down), timeout=15, message="page A to reconnect after SIGTERM")
    away = srv.create(title="while B was away")
    srv.patch(f"/todos/{docs[0]['id']}", done=True)
    srv.delete(f"/todos/{docs[1]['id']}")
    titles = ["before 0", "before 2", "before 3", "while B was away"]
    a.wait_titles(titles)
    assert b.titles() == ["before 0", "before 1", "before 2", "before 3"]
    assert b.status()[0] == "down"

    # B back on the network: it reconnects on its own and catches up.
    t_up = now_ms()
    browser_b.set_offline(False)
    wait_until(lambda: links_since(b, t_up)[-1:] == ["open"], timeout=15, message="page B to reconnect")
    b.wait_titles(titles)
    assert_same_everywhere(srv, a, b)

    # Live again, both ways.
    a.add("typed in A")
    titles.append("typed in A")
    b.wait_titles(titles, timeout=3)
    srv.patch(f"/todos/{away['id']}", title="renamed by curl")
    titles[titles.index("while B was away")] = "renamed by curl"
    b.toggle("before 2")
    a.wait_rows(lambda rows: [r["title"] for r in rows] == titles and rows[1]["done"], message="rename and toggle")
    assert len(assert_same_everywhere(srv, a, b)) == 5
    browser_a.excuse_stream_failures(srv, t_down, now_ms(), ["ERR_CONNECTION_REFUSED"])
    browser_b.excuse_stream_failures(srv, t_down, now_ms(), ["ERR_INTERNET_DISCONNECTED"])

    # --- kill -9, both pages online: writes right after the restart ----------------
    t_down = now_ms()
    assert srv.kill() == -9
    srv.start()
    # Written at once: the pages are still waiting for their retry (2-4 s).
    srv.create(title="right after the crash")
    srv.patch(f"/todos/{docs[0]['id']}", title="before 0, done")
    srv.delete(f"/todos/{docs[3]['id']}")
    behind = [p.b.name for p in (a, b) if not reconnected_since(p, t_down)]
    titles = ["before 0, done", "before 2", "renamed by curl", "typed in A", "right after the crash"]

    for p in (a, b):
        wait_until(lambda: reconnected_since(p, t_down), timeout=15, message=f"page {p.b.name} to reconnect after kill -9")
    a.wait_titles(titles)
    b.wait_titles(titles)
    assert_same_everywhere(srv, a, b)
    assert behind, "both pages reconnected before the writes: nothing was caught up from the log"

    b.toggle("typed in A")
    srv.create(title="after both returned")
    titles.append("after both returned")
    a.wait_rows(lambda rows: [r["title"] for r in rows] == titles and rows[3]["done"], message="toggle and create")
    final = assert_same_everywhere(srv, a, b)
    assert len(final) == 6
    assert [(t, d) for _, t, d in sorted(final, key=lambda x: titles.index(x[1]))] == [
        ("before 0, done", True), ("before 2", True), ("renamed by curl", False), ("typed in A", True),
        ("right after the crash", False), ("after both returned", False)]

    for p in (a, b):
        p.b.excuse_stream_failures(srv, t_down, now_ms(), ["ERR_CONNECTION_REFUSED", "ERR_INCOMPLETE_CHUNKED_ENCODING",
                                                           "ERR_EMPTY_RESPONSE", "ERR_CONNECTION_RESET"])
