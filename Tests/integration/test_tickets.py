"""Stream tickets on the wire (DESIGN.md §5): `POST /auth/ticket` with a bearer token,
`?ticket=` opening streams for `EventSource`, two instances sharing
`auth.ticket_secret_env`, and no ticket in the log. Forgery, tampering, expiry and the
stream kinds one by one are the in-process Swift tests'
(Tests/BackboneSSETests/StreamTicketTests.swift)."""

import re
import time
import urllib.parse

import pytest

from conftest import assert_error
from sse_client import open_stream, subscribe
from test_auth import AUTH_CONFIG, SECRET, SECRET_VAR, bearer, run_serve, token

TICKET_SECRET = "integration-ticket-secret-of-at-least-32-bytes"
TICKET_VAR = "BACKBONE_SSE_IT_TICKET_SECRET"

# The suite's auth config, with the ticket key the servers share.
TICKET_CONFIG = AUTH_CONFIG.replace(
    "    issuer: https://id.test\n", f"    issuer: https://id.test\n  ticket_secret_env: {TICKET_VAR}\n", 1)
assert TICKET_VAR in TICKET_CONFIG


@pytest.fixture
def shared_key(monkeypatch):
    monkeypatch.setenv(SECRET_VAR, SECRET)
    monkeypatch.setenv(TICKET_VAR, TICKET_SECRET)


def issue(srv, t):
    r = srv.post("/auth/ticket", headers=bearer(t))
    assert r.status_code == 201, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"ticket", "expires"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["expires"]), body
    return body["ticket"]


def with_ticket(path, ticket):
    return path + ("&" if "?" in path else "?") + urllib.parse.urlencode({"ticket": ticket})


def test_a_ticket_opens_a_stream_as_its_user_over_the_wire(make_server, shared_key):
    srv = make_server("--log-level", "trace", config_text=TICKET_CONFIG)
    alice, bob = token("alice"), token("bob")
    assert_error(srv.post("/auth/ticket"), 401, "unauthenticated")
    ticket = issue(srv, alice)
    stream, hello = subscribe(srv.port, with_ticket("/todos", ticket))
    events, _ = subscribe(srv.port, with_ticket("/events?collections=todos", ticket))
    try:
        theirs = srv.post("/todos", json={"title": "b"}, headers=bearer(bob))
        mine = srv.post("/todos", json={"title": "a"}, headers=bearer(alice))
        assert theirs.status_code == 201 and mine.status_code == 201
        for s in (stream, events):
            e = s.next(timeout=5)
            assert (e.event, e.json["id"]) == ("create", mine.json()["id"]), e
    finally:
        stream.close()
        events.close()
    # A write to streams whose client has gone: libmicrohttpd then logs its failed send
    # (naming the path, never the query).
    assert srv.post("/todos", json={"title": "c"}, headers=bearer(alice)).status_code == 201
    time.sleep(0.5)
    # A ticket is no bearer token, a token no ticket, and a JSON list reads no ticket.
    assert srv.get("/todos", headers=bearer(ticket)).headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    refused = open_stream(srv.port, with_ticket("/todos", alice))
    assert refused.status == 401 and alice not in str(refused.body)
    refused.close()
    r = srv.get(with_ticket("/todos", ticket))
    assert_error(r, 401, "unauthenticated")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    # The ticket, in a URL the log keeps, is never in the log; neither is the token.
    log = srv.stderr()
    assert "ticket=REDACTED" in log
    assert ticket not in log and ticket.split(".")[-1] not in log and ticket.split(".")[1] not in log
    assert TICKET_SECRET not in log
    for part in alice.split("."):
        assert part not in log


def test_two_instances_sharing_the_ticket_key_accept_each_others_tickets(make_server, shared_key):
    first = make_server(config_text=TICKET_CONFIG)
    second = make_server(config_text=TICKET_CONFIG)
    ticket = issue(first, token("alice"))
    stream, hello = subscribe(second.port, with_ticket("/todos", ticket))
    try:
        created = second.post("/todos", json={"title": "a"}, headers=bearer(token("alice")))
        assert created.status_code == 201
        e = stream.next(timeout=5)
        assert (e.event, e.json["id"]) == ("create", created.json()["id"])
    finally:
        stream.close()


def test_without_a_shared_key_a_ticket_opens_streams_only_where_it_was_issued(make_server, monkeypatch):
    monkeypatch.setenv(SECRET_VAR, SECRET)
    config = TICKET_CONFIG.replace(f"  ticket_secret_env: {TICKET_VAR}\n", "")
    first, second = make_server(config_text=config), make_server(config_text=config)
    ticket = issue(first, token("alice"))
    refused = open_stream(second.port, with_ticket("/todos", ticket))
    try:
        assert refused.status == 401
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    finally:
        refused.close()
    stream, _ = subscribe(first.port, with_ticket("/todos", ticket))
    stream.close()


def test_without_auth_there_are_no_tickets(make_server):
    srv = make_server(config_text="collections: {todos: {}}")
    assert_error(srv.post("/auth/ticket", headers=bearer(token("alice"))), 404, "not_found")


@pytest.mark.parametrize("value, named", [
    (None, f"auth.ticket_secret_env: the environment variable {TICKET_VAR} is not set"),
    ("too-short", "auth.ticket_secret_env: the secret in"),
    (SECRET, "auth.ticket_secret_env"),
])
def test_a_bad_ticket_key_stops_the_start_with_exit_2(tmp_path, value, named):
    env = {SECRET_VAR: SECRET, TICKET_VAR: value or ""}
    proc, _ = run_serve(tmp_path, TICKET_CONFIG, env)
    assert proc.wait(timeout=10) == 2
    text = (tmp_path / "stderr.log").read_text(errors="replace")
    assert named in text, text
    assert SECRET not in text and "too-short" not in text
