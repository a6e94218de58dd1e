"""SIGHUP reads the config file again (issue 16): collections added, schemas and rules
changed take effect without a restart (streams stay open, unless their rules changed:
then they get `bye` and their clients come back under the new rules); a change that
cannot apply live, or a file that does not load, is refused with the reason in the log
and the old config stays. SIGHUP used to kill the server (exit 129) without `bye`."""

import signal
import time

import pytest

from conftest import CONFIG_YAML, assert_error
from sse_client import open_stream
from test_auth import SECRET, SECRET_VAR, bearer, token


def reload(srv, config_text, expect):
    """Writes the config, sends SIGHUP, waits for the log line that says `expect`."""
    with open(srv.config_path, "w") as f:
        f.write(config_text)
    seen = srv.stderr().count(expect)
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while srv.stderr().count(expect) == seen:
        assert srv.proc.poll() is None, f"the server exited on SIGHUP:\n{srv.stderr_tail()}"
        assert time.monotonic() < deadline, f"no {expect!r} in the log:\n{srv.stderr_tail()}"
        time.sleep(0.05)
    return [line for line in srv.stderr().splitlines() if expect in line][-1]


WITH_NOTES = CONFIG_YAML + """
  notes:
    schema:
      type: object
      required: [text]
      properties:
        text: {type: string}
"""


def test_a_collection_added_and_a_schema_changed_apply_without_a_restart(make_server):
    srv = make_server()
    pid = srv.proc.pid
    assert_error(srv.post("/notes", json={"text": "x"}), 404)
    with open_stream(srv.port, "/todos") as stream:
        stream.hello()
        line = reload(srv, WITH_NOTES, "config reloaded")
        assert "added=notes" in line, line
        assert srv.post("/notes", json={"text": "now served"}).status_code == 201
        # The stream of an unchanged collection lives on, and hears what follows.
        doc = srv.create(title="after the reload")
        event = stream.next(timeout=10)
        assert (event.event, event.json["doc"]["id"]) == ("create", doc["id"])

        stricter = WITH_NOTES.replace("required: [text]", "required: [text, by]")
        line = reload(srv, stricter, "config reloaded")
        assert "changed=notes" in line, line
        assert_error(srv.post("/notes", json={"text": "no by"}), 422)
        assert srv.post("/notes", json={"text": "x", "by": "me"}).status_code == 201
    assert srv.proc.pid == pid


@pytest.mark.parametrize("edit, reason", [
    (lambda text: text.replace("collections:", "collections: [", 1), "the file is not good"),
    (lambda text: text.split("\n  lists:")[0] + "\n", "collections.lists: removed"),
    (lambda text: text.replace("unique: [slug]", "unique: [title]"), "collections.todos.unique"),
])
def test_a_change_that_cannot_apply_is_refused_and_the_old_config_stays(make_server, edit, reason):
    srv = make_server()
    line = reload(srv, edit(CONFIG_YAML), "config not reloaded")
    assert reason in line, line
    assert srv.post("/lists", json={"name": "still served"}).status_code == 201
    srv.create(title="a", slug="same")
    assert_error(srv.post("/todos", json={"title": "b", "slug": "same"}), 409, "unique_violation")
    assert srv.running


AUTH_USER = f"""
auth:
  jwt:
    secret_env: {SECRET_VAR}
    issuer: https://id.test
collections:
  todos:
    owner: owner
    access: {{read: user, create: user, update: owner, delete: owner}}
"""


def test_stricter_rules_end_the_streams_they_concern_and_apply_to_the_next(make_server, monkeypatch):
    monkeypatch.setenv(SECRET_VAR, SECRET)
    srv = make_server(config_text=AUTH_USER)
    alice, bob = token("alice"), token("bob")
    srv.post("/todos", json={"title": "alice's"}, headers=bearer(alice)).raise_for_status()
    assert len(srv.get("/todos", headers=bearer(bob)).json()) == 1  # read: user

    with open_stream(srv.port, "/todos", headers=bearer(bob)) as stream:
        stream.hello()
        reload(srv, AUTH_USER.replace("read: user", "read: owner"), "config reloaded")
        events = stream.read_to_end(timeout=10)
        assert [e.event for e in events if e.event != "ping"] == ["bye"]
    # Back under the new rules: bob sees none of alice's, live or listed.
    assert srv.get("/todos", headers=bearer(bob)).json() == []
    with open_stream(srv.port, "/todos", headers=bearer(bob)) as stream:
        stream.hello()
        srv.post("/todos", json={"title": "alice's second"}, headers=bearer(alice)).raise_for_status()
        srv.post("/todos", json={"title": "bob's"}, headers=bearer(bob)).raise_for_status()
        event = stream.next(timeout=10)
        assert event.json["doc"]["title"] == "bob's"
