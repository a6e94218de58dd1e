"""backbone-sse.js on a server with an `auth` block (DESIGN.md §5): with a token source
(`BackboneSSE.auth`), every request carries the bearer token, streams open with a
ticket and never with the token, a 401 gets a fresh token and the request again, and a
stream ended at the token's expiry (`expired`) comes back with a new ticket from its
last cursor: nothing lost, nothing refetched. Tokens come from the server's development
issuer (`serve --dev-tokens`)."""

import os
import time
import urllib.parse
import uuid

import pytest
import requests

from lib_page import open_lib_page, snap, wait_snap

SECRET_VAR = "BACKBONE_SSE_BROWSER_JWT_SECRET"
os.environ.setdefault(SECRET_VAR, "browser-suite-secret-" + uuid.uuid4().hex)

AUTH_LIB_CONFIG = f"""\
auth:
  jwt:
    secret_env: {SECRET_VAR}
collections:
  todos:
    owner: owner
    access: {{read: owner, create: user, update: owner, delete: owner}}
    schema:
      type: object
      required: [title]
      properties:
        title: {{type: string, minLength: 1}}
        n: {{type: integer}}
  notes:
    access: {{read: user, create: user, update: user, delete: user}}
"""


@pytest.fixture(scope="module")
def srv(servers):
    return servers(config_text=AUTH_LIB_CONFIG, extra_args=["--dev-tokens"])


@pytest.fixture
def page(srv, browser_a):
    return open_lib_page(browser_a, srv)


def dev_token(server, user, ttl=3600):
    r = requests.post(server.url + "/auth/dev-token", json={"sub": user, "ttl": ttl}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["token"]


def user():
    return "u" + uuid.uuid4().hex[:8]


def requests_to(page, path):
    return page.js("var path = arguments[0];"
                   "return H.requests.filter(function (r) { return r.url.split('?')[0] === path; })"
                   ".map(function (r) { return {method: r.method, status: r.status, headers: r.headers}; });", path)


def test_every_request_carries_the_token_and_streams_open_with_a_ticket(srv, page):
    alice = user()
    page.run("signIn", {"user": alice})
    created = page.run("createAs", {"attrs": {"title": "hers"}})
    assert created["ok"] and created["attrs"]["owner"] == alice, created
    s = page.run("subscribe", {"key": "t", "kind": "collection", "name": "todos", "options": {}})
    assert [m["title"] for m in s["models"]] == ["hers"]
    wait_snap(page, "t", lambda s: "subscribe:open" in s["events"], message="the stream open")

    to_todos = requests_to(page, "/todos")
    assert [r["method"] for r in to_todos] == ["POST", "GET"]
    assert all(r["headers"].get("Authorization", "").startswith("Bearer ey") for r in to_todos), to_todos
    tickets = requests_to(page, "/auth/ticket")
    assert [(r["method"], r["status"]) for r in tickets] == [("POST", 201)]
    assert tickets[0]["headers"]["Authorization"].startswith("Bearer ey")
    # The token was asked for once, and never went into a URL.
    assert page.js("return H.tokensGiven") == ["issued"]
    streams = page.js("return H.streams.map(function (s) { return s.url; })")
    assert len(streams) == 1
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(streams[0]).query)
    assert query["ticket"][0].startswith("bbst1."), streams
    the_token = to_todos[0]["headers"]["Authorization"][len("Bearer "):]
    assert the_token not in urllib.parse.unquote(streams[0])

    # Live: another user's document never arrives, the owner's does.
    requests.post(srv.url + "/todos", json={"title": "not hers"}, timeout=10,
                  headers={"Authorization": "Bearer " + dev_token(srv, user())}).raise_for_status()
    requests.post(srv.url + "/todos", json={"title": "hers too"}, timeout=10,
                  headers={"Authorization": "Bearer " + dev_token(srv, alice)}).raise_for_status()
    s = wait_snap(page, "t", lambda s: len(s["models"]) == 2, message="the owner's second todo")
    assert sorted(m["title"] for m in s["models"]) == ["hers", "hers too"]


def test_a_401_asks_the_source_for_a_fresh_token_and_sends_the_request_again(srv, page, browser_a):
    browser_a.excuse_http_error(srv.url + "/todos", 401)
    alice = user()
    stale = dev_token(srv, alice, ttl=1)
    time.sleep(1.5)
    page.run("signIn", {"user": alice, "first": stale})
    out = page.run("fetchAs", {"name": "todos"})
    assert out["ok"], (out, page.js("return H.requests.map(function (r) { return [r.method, r.url, r.status, r.response]; })"))
    assert out["tokensGiven"] == ["first", "issued"]
    assert [(r["method"], r["status"]) for r in requests_to(page, "/todos")] == [("GET", 401), ("GET", 200)]


def test_a_source_whose_fresh_token_is_refused_too_fails_the_request_once(srv, page, browser_a):
    browser_a.excuse_http_error(srv.url + "/notes", 401)
    # A source that always gives a token signed with another key: one retry, then the error.
    page.js("BackboneSSE.auth(function () { H.asked = (H.asked || 0) + 1; "
            "return 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl'; });")
    out = page.run("fetchAs", {"name": "notes"})
    assert (out["ok"], out["status"]) == (False, 401)
    assert page.js("return H.asked") == 2
    assert [r["status"] for r in requests_to(page, "/notes")] == [401, 401]


def test_a_stream_ended_at_the_tokens_expiry_resumes_from_its_cursor_with_nothing_lost(srv, page):
    alice = user()
    writer = {"Authorization": "Bearer " + dev_token(srv, alice)}
    page.run("signIn", {"user": alice, "ttl": 2})
    page.run("subscribe", {"key": "t", "kind": "collection", "name": "todos", "options": {}})
    wait_snap(page, "t", lambda s: "subscribe:open" in s["events"], message="the stream open")

    # Writes every 100 ms for 5 s: across at least two expiries of the page's tokens.
    n = 50
    for i in range(n):
        requests.post(srv.url + "/todos", json={"title": f"w{i}", "n": i}, headers=writer, timeout=10).raise_for_status()
        time.sleep(0.1)
    s = wait_snap(page, "t", lambda s: len(s["models"]) == n, timeout=10, message="every write")
    assert sorted(m["n"] for m in s["models"]) == list(range(n))
    assert "subscribe:reset" not in " ".join(s["events"])

    streams = page.js("return H.streams.map(function (s) { return {url: s.url, events: s.events.map("
                      "function (e) { return [e.type, e.id]; })}; })")
    assert len(streams) >= 3, [x["url"] for x in streams]
    for before, after in zip(streams, streams[1:]):
        # Each stream but the last ended with `expired`; the next one started where it
        # stopped, with a new ticket (and never the token).
        assert before["events"][-1][0] == "expired", before["events"][-3:]
        last_id = [e[1] for e in before["events"] if e[1]][-1]
        q_before = urllib.parse.parse_qs(urllib.parse.urlsplit(before["url"]).query)
        q_after = urllib.parse.parse_qs(urllib.parse.urlsplit(after["url"]).query)
        assert q_after["since"] == [last_id], (after["url"], last_id)
        assert q_after["ticket"] != q_before["ticket"]
    # Events arrived once each: the creates seen over all the streams are the n writes.
    creates = [e for x in streams for e in x["events"] if e[0] == "create"]
    assert len(creates) == n
    # The one fetch was the first: resumes replay, they do not refetch.
    assert [r["method"] for r in requests_to(page, "/todos")] == ["GET"]
    assert snap(page, "t")["errors"] == []
