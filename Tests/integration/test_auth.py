"""Authorisation on the wire (DESIGN.md §5), with the real binary: a bad `auth` config
stops the start with exit 2 naming the key; 401 carries `WWW-Authenticate`; owners see
their own documents; and no token (nor the secret) ever reaches the server's log.
The route × rule matrix and the forged tokens are the in-process Swift tests'
(Tests/BackboneSSETests/AccessMatrixTests.swift, TokenVerificationTests.swift)."""

import base64
import hashlib
import hmac
import json
import os
import pathlib
import re
import subprocess
import time

import pytest
import requests

from conftest import BIN, LISTEN_RE, assert_error

FIXTURE_KEYS = pathlib.Path(__file__).resolve().parents[1] / "BackboneSSETests" / "Fixtures" / "keys"
SECRET = "integration-secret-of-sixty-four-bytes-0123456789abcdefghijklmnop"
SECRET_VAR = "BACKBONE_SSE_IT_JWT_SECRET"

AUTH_CONFIG = f"""
auth:
  jwt:
    secret_env: {SECRET_VAR}
    issuer: https://id.test
collections:
  todos:
    owner: owner
    access:
      read: owner
      create: user
      update: owner
      delete: owner
"""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub, secret=SECRET, exp_in=3600, iss="https://id.test"):
    """An HS256 JWT, made by hand (the standard library has all it takes)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": sub, "iss": iss, "exp": int(time.time()) + exp_in}).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def bearer(t):
    return {"Authorization": f"Bearer {t}"}


def run_serve(tmp_path, config_text, env=None, extra=()):
    """Starts `serve` on a config; returns (process, stderr text so far) once it has
    either exited or said it listens."""
    config = tmp_path / "collections.yaml"
    config.write_text(config_text)
    log = tmp_path / "stderr.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [BIN, "serve", "--config", str(config), "--port", "0", "--store", f"sqlite:{tmp_path / 'app.sqlite'}",
             *extra],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=tmp_path, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if proc.poll() is not None or LISTEN_RE.search(text):
            return proc, text
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"serve neither exited nor listened:\n{log.read_text(errors='replace')}")


@pytest.mark.parametrize("config, env, named", [
    (AUTH_CONFIG, {}, f"auth.jwt.secret_env: the environment variable {SECRET_VAR} is not set"),
    (AUTH_CONFIG, {SECRET_VAR: "short"}, "auth.jwt.secret_env"),
    ("auth:\n  jwt:\n    public_keys: [keys/missing.pem]\ncollections: {todos: {}}", {}, "auth.jwt.public_keys[0]: cannot read"),
    ("auth:\n  jwt: {}\ncollections: {todos: {}}", {}, "auth.jwt: names no key"),
    ("auth:\n  jwt: {secret_env: X}\ncollections:\n  todos: {access: {read: owner}}", {"X": SECRET},
     "collections.todos.access.read: 'owner' needs the collection's 'owner' field"),
    ("collections:\n  todos: {access: {read: anyone}}", {}, "collections.todos.access: needs the top-level 'auth' block"),
])
def test_a_bad_auth_config_stops_the_start_with_exit_2_naming_the_key(tmp_path, config, env, named):
    env = {SECRET_VAR: "", **env} if SECRET_VAR not in env else env
    proc, _ = run_serve(tmp_path, config, env)
    assert proc.wait(timeout=10) == 2
    text = (tmp_path / "stderr.log").read_text(errors="replace")
    assert named in text, text
    assert SECRET not in text


@pytest.mark.parametrize("config", [
    "collections: {todos: {}}",                                              # no auth block
    "auth:\n  jwt:\n    public_keys: [keys/rsa.pem]\ncollections: {todos: {}}",  # no HMAC key
])
def test_dev_tokens_without_an_hmac_key_stop_the_start(tmp_path, config):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "rsa.pem").write_bytes((FIXTURE_KEYS / "rsa.pem").read_bytes())
    proc, _ = run_serve(tmp_path, config, extra=("--dev-tokens",))
    assert proc.wait(timeout=10) == 2
    text = (tmp_path / "stderr.log").read_text(errors="replace")
    assert "--dev-tokens needs an auth block with auth.jwt.secret_env" in text, text


def test_dev_tokens_are_announced_and_accepted(tmp_path):
    proc, text = run_serve(tmp_path, AUTH_CONFIG, {SECRET_VAR: SECRET}, extra=("--dev-tokens",))
    try:
        assert "--dev-tokens: POST /auth/dev-token signs a token for any name" in text, text
        base = "http://127.0.0.1:" + LISTEN_RE.search(text).group(2)
        issued = requests.post(base + "/auth/dev-token", json={"sub": "alice"}, timeout=10)
        assert issued.status_code == 201, issued.text
        t = issued.json()["token"]
        created = requests.post(base + "/todos", json={"title": "x"}, headers=bearer(t), timeout=10)
        assert created.status_code == 201 and created.json()["owner"] == "alice", created.text
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    # The issued token is never logged.
    assert t not in (tmp_path / "stderr.log").read_text(errors="replace")


def test_without_auth_a_non_loopback_address_warns(tmp_path):
    proc, text = run_serve(tmp_path, "collections: {todos: {}}", extra=("--host", "0.0.0.0"))
    try:
        assert proc.poll() is None, text
        assert "no 'auth' block" in text, text
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    proc, text = run_serve(tmp_path, "collections: {todos: {}}")
    try:
        assert "no 'auth' block" not in text, text
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def auth_server(make_server, monkeypatch):
    monkeypatch.setenv(SECRET_VAR, SECRET)
    return make_server("--log-level", "trace", config_text=AUTH_CONFIG)


def test_401_on_the_wire_and_owners_see_their_own(auth_server):
    srv = auth_server
    r = srv.get("/todos")
    assert_error(r, 401, "unauthenticated")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    bad = token("alice", secret="another-secret-of-sixty-four-bytes-0123456789abcdefghijklmnopqr")
    r = srv.get("/todos", headers=bearer(bad))
    assert_error(r, 401, "unauthenticated")
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    r = srv.get("/todos", headers=bearer(token("alice", exp_in=-120)))
    assert r.status_code == 401
    assert srv.get("/healthz").status_code == 200

    alice, bob = token("alice"), token("bob")
    created = srv.post("/todos", json={"title": "a"}, headers=bearer(alice))
    assert created.status_code == 201, created.text
    assert created.json()["owner"] == "alice"
    doc_id = created.json()["id"]
    assert srv.get(f"/todos/{doc_id}", headers=bearer(bob)).status_code == 404
    assert srv.get("/todos", headers=bearer(bob)).json() == []
    assert [d["id"] for d in srv.get("/todos", headers=bearer(alice)).json()] == [doc_id]
    r = srv.patch(f"/todos/{doc_id}", json={"owner": "bob"}, headers=bearer(alice))
    assert_error(r, 403, "forbidden")


def test_no_token_reaches_the_log(auth_server):
    srv = auth_server
    good, bad = token("carol"), token("carol", secret="x" * 64)
    for t in (good, bad, "not.a.jwt"):
        srv.get("/todos", headers=bearer(t))
        srv.post("/todos", json={"title": "t"}, headers=bearer(t))
        # Never taken from a URL (401), and never logged from one either.
        assert srv.get(f"/todos?access_token={t}").status_code == 401
        srv.get(f"/todos?limit=1&ticket={t}", headers=bearer(good))
    log = srv.stderr()
    assert re.search(r"http\.status=401", log), "the trace log should show the answers"
    assert "access_token=REDACTED" in log and "ticket=REDACTED" in log, "the targets should be logged, redacted"
    for t in (good, bad):
        for part in t.split("."):
            assert part not in log, "a token's part is in the log"
    assert SECRET not in log


def test_lists_stay_within_the_callers_documents_on_this_store(auth_server):
    """The owner condition joins the store's own query (SQL or MongoDB's): counts, pages
    and a client's `$or` stay within the caller's documents."""
    srv = auth_server
    dave, erin = token("dave"), token("erin")
    for i in range(3):
        assert srv.post("/todos", json={"title": f"d{i}"}, headers=bearer(dave)).status_code == 201
    for i in range(4):
        assert srv.post("/todos", json={"title": f"e{i}"}, headers=bearer(erin)).status_code == 201
    widen = json.dumps({"$or": [{"owner": "erin"}, {"owner": {"$ne": "nobody"}}]})
    r = srv.get("/todos", params={"where": widen}, headers=bearer(dave))
    assert r.status_code == 200, r.text
    assert sorted(d["title"] for d in r.json()) == ["d0", "d1", "d2"]
    page = srv.get("/todos", params={"sort": "title", "limit": 2}, headers=bearer(erin))
    assert [d["title"] for d in page.json()] == ["e0", "e1"]
    assert page.headers["X-Total-Count"] == "4"
    assert "skip=2" in page.headers["Link"]


RATE_CONFIG = f"""
auth:
  jwt:
    secret_env: {SECRET_VAR}
    issuer: https://id.test
  rate_limit: {{reads: 5, writes: 100}}
collections:
  board:
    access: {{read: anyone}}
"""


def get_from(address, port, path, headers=None):
    """A GET whose connection comes from `address` (a loopback address)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(address, 0))
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        r.read()
        return r.status, r.getheader("Retry-After")
    finally:
        conn.close()


def test_rate_limits_per_address_and_per_user(make_server, monkeypatch):
    monkeypatch.setenv(SECRET_VAR, SECRET)
    srv = make_server(config_text=RATE_CONFIG)
    statuses = [get_from("127.0.0.1", srv.port, "/board")[0] for _ in range(5)]
    assert statuses == [200] * 5
    status, retry_after = get_from("127.0.0.1", srv.port, "/board")
    assert status == 429 and int(retry_after) >= 1
    # Another address, and a user from the same address, have their own allowance.
    assert get_from("127.0.0.2", srv.port, "/board")[0] == 200
    assert get_from("127.0.0.1", srv.port, "/board", headers=bearer(token("frank")))[0] == 200
    assert srv.get("/healthz").status_code == 200
