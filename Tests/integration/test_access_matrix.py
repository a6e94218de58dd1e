"""Who may do what (DESIGN.md §5), on the wire, on whichever store the suite runs on
(`BACKBONE_SSE_STORE=mongodb` for the MongoDB one): issue 15 item 8.

The in-process Swift tests (AccessMatrixTests, AccessTableTests, TokenVerificationTests,
AuthStreamTests) check the rules on SQLite only and without HTTP. Here the real binary
answers, so what they cannot see is covered too: the owner condition as each store runs
it (SQL or a MongoDB query, counts and pages included), the list-answer cache in front of
it, the stream fan-out and the change log replay of each store (where a delete's owner
is read from the document the change removed), the verified-token cache, and the exact
headers a browser gets.

One server per config for the whole module: every test makes its own documents, and the
tests that read lists or streams use users of their own (`fresh_users`), so no test
depends on another's data or order. Streams are checked with a *sentinel*: after the
writes under test, the subscriber's own last write must arrive, and everything that came
before it is compared exactly; a change that should not reach a subscriber would have
come first (the fan-out follows commit order), so no test waits on a silence longer
than a fraction of a second.
"""

import datetime
import hashlib
import hmac
import json
import pathlib
import shutil
import time
import urllib.parse
import uuid

import pytest

from conftest import STORE, ServerFactory
from sse_client import StreamClosed, open_stream
from test_auth import FIXTURE_KEYS, SECRET, SECRET_VAR, b64url
from test_tickets import with_ticket

ISSUER = "https://id.test"
AUDIENCE = "todos-app"
OTHER_SECRET = "another-secret-of-sixty-four-bytes-0123456789abcdefghijklmnopqrs"

# AuthTestConfig.swift's collections (one kind of rule each), an `inbox` for `anyone`
# and `nobody` as reading rules, an RSA key beside the HMAC secret (so that an HMAC
# token "signed" with that public key's bytes is the forgery it is meant to be), and a
# list of rules for /metrics.
MATRIX_CONFIG = f"""
auth:
  jwt:
    secret_env: {SECRET_VAR}
    public_keys: [rsa.pem]
    issuer: {ISSUER}
    audience: {AUDIENCE}
  metrics: [role:ops, role:admin]
collections:
  todos:
    owner: owner
    access:
      read: owner
      create: user
      update: [owner, role:admin]
      delete: [owner, role:admin]
  notes:
    owner: owner
    access:
      read: [owner, role:admin]
      create: user
      update: owner
      delete: role:admin
  shared: {{}}
  audit:
    access:
      read: role:auditor
      create: role:auditor
      update: nobody
      delete: nobody
  board:
    access:
      read: anyone
      create: role:editor
      update: nobody
      delete: nobody
  inbox:
    owner: owner
    access:
      read: nobody
      create: anyone
      update: nobody
      delete: [owner, role:admin]
"""

CHANGE_EVENTS = ("create", "update", "delete", "enter", "leave")


# --- tokens -------------------------------------------------------------------------


def segment(obj):
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def jwt(claims, header=None, secret=SECRET, digest=hashlib.sha256):
    """A JWT over `claims` with `header` (default HS256), HMAC-signed with `secret`."""
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{segment(header)}.{segment(claims)}"
    key = secret if isinstance(secret, bytes) else secret.encode()
    return f"{signing_input}.{b64url(hmac.new(key, signing_input.encode(), digest).digest())}"


def claims(sub, roles=None, exp_in=3600, **extra):
    """The claims of a good token for the matrix config; `extra` adds or (with None)
    drops claims: `claims("a", aud=None)` has no audience."""
    now = int(time.time())
    out = {"sub": sub, "iss": ISSUER, "aud": [AUDIENCE], "exp": now + exp_in, "iat": now}
    if roles is not None:
        out["roles"] = roles
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


def token(sub, roles=None, exp_in=3600):
    return jwt(claims(sub, roles, exp_in))


def rs256(claims_):
    """An RS256 token signed with the fixture's private RSA key (the config names its
    public half): the control that shows the RSA key is live."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    key = serialization.load_pem_private_key((FIXTURE_KEYS / "rsa.key").read_bytes(), password=None)
    signing_input = f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(claims_)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))}"


def with_header(tok, header):
    """`tok` with its header replaced and its signature kept."""
    return ".".join([segment(header)] + tok.split(".")[1:])


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"} if tok else {}


# The fixed users of the matrix (statuses only; lists and streams use fresh_users).
CALLERS = ("anonymous", "creator", "other", "admin")
OTHER, ADMIN = token("bob"), token("root", ["admin"])


def fresh_users():
    """Users no other test has written as: (alice, bob, admin) tokens and subs."""
    tag = uuid.uuid4().hex[:8]
    subs = (f"alice-{tag}", f"bob-{tag}", f"root-{tag}")
    return (token(subs[0]), token(subs[1]), token(subs[2], ["admin"])), subs


# --- the servers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def factory(session_dir):
    """Module-scoped servers whose environment holds the JWT secret."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SECRET_VAR, SECRET)
        f = ServerFactory(session_dir)
        yield f
        f.stop_all()


@pytest.fixture(scope="module")
def srv(factory):
    s = factory(config_text=MATRIX_CONFIG, start=False)
    shutil.copy(FIXTURE_KEYS / "rsa.pem", pathlib.Path(s.work_dir) / "rsa.pem")
    return s.start()


# --- requests -------------------------------------------------------------------------


class Answer:
    """A status, lower-cased headers and the JSON body (None when there is none), from
    a plain request or from a stream's opening."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, {k.lower(): v for k, v in headers.items()}, body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"Answer({self.status}, {self.body[:300]!r})"


def send(srv, method, path, tok=None, body=None, headers=None):
    r = srv.request(method, path, json=body, headers={**bearer(tok), **(headers or {})})
    return Answer(r.status_code, dict(r.headers), r.content)


def open_as(srv, path, tok=None, headers=None, **kw):
    """Opens a stream; the caller closes it (a refused one is closed already)."""
    return open_stream(srv.port, path, headers={**bearer(tok), **(headers or {})}, timeout=10, **kw)


def stream_answer(srv, path, tok=None, headers=None):
    """How a stream opening is answered: 200 only with `hello` first."""
    s = open_as(srv, path, tok, headers)
    try:
        if s.status == 200:
            s.hello(timeout=5)
        return Answer(s.status, s.headers, s.body)
    finally:
        s.close()


def issue_ticket(srv, tok):
    r = srv.post("/auth/ticket", headers=bearer(tok))
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


def created(srv, collection, tok, **doc):
    r = srv.post(f"/{collection}", json=doc, headers=bearer(tok))
    assert r.status_code == 201, (collection, r.status_code, r.text)
    return r.json()


def expect_refusal(a, status, invalid_token=False):
    """The error of DESIGN.md §1 with the code §5 gives each refusal, and the
    challenge a client needs to know what to do next."""
    code = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}[status]
    assert a.status == status, a
    assert a.json and set(a.json) == {"error"} and a.json["error"]["code"] == code, a
    assert a.json["error"]["status"] == status, a
    if status == 401:
        want = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
        assert a.headers.get("www-authenticate") == want, a.headers
    else:
        assert "www-authenticate" not in a.headers, a.headers


def expect(a, status, tok_was_bad=False):
    if status in (200, 201):
        assert a.status == status, a
    else:
        expect_refusal(a, status, invalid_token=tok_was_bad)


# --- the matrix -------------------------------------------------------------------------

# Per collection: who creates the cell's document (a sub that has the role of its name),
# and per route the statuses for anonymous, the creator, another user, an admin. The
# Swift AccessTableTests' table, plus HEAD, /events, tickets and `inbox`.
MATRIX = {
    # read: owner; create: user; update and delete: [owner, role:admin]
    "todos": ("alice", {
        "list": [401, 200, 200, 200], "read": [401, 200, 404, 404], "create": [401, 201, 201, 201],
        "replace": [401, 200, 404, 200], "put_new": [401, 201, 201, 201], "patch": [401, 200, 404, 200],
        "delete": [401, 200, 404, 200], "list_stream": [401, 200, 200, 200], "read_stream": [401, 200, 404, 404],
    }),
    # read: [owner, role:admin]; create: user; update: owner; delete: role:admin
    "notes": ("alice", {
        "list": [401, 200, 200, 200], "read": [401, 200, 404, 200], "create": [401, 201, 201, 201],
        "replace": [401, 200, 404, 403], "put_new": [401, 201, 201, 201], "patch": [401, 200, 404, 403],
        "delete": [401, 403, 403, 200], "list_stream": [401, 200, 200, 200], "read_stream": [401, 200, 404, 200],
    }),
    # no access block: user for everything
    "shared": ("alice", {
        "list": [401, 200, 200, 200], "read": [401, 200, 200, 200], "create": [401, 201, 201, 201],
        "replace": [401, 200, 200, 200], "put_new": [401, 201, 201, 201], "patch": [401, 200, 200, 200],
        "delete": [401, 200, 200, 200], "list_stream": [401, 200, 200, 200], "read_stream": [401, 200, 200, 200],
    }),
    # read and create: role:auditor; update and delete: nobody
    "audit": ("auditor", {
        "list": [401, 200, 403, 403], "read": [401, 200, 404, 404], "create": [401, 201, 403, 403],
        "replace": [401, 403, 403, 403], "put_new": [401, 201, 403, 403], "patch": [403, 403, 403, 403],
        "delete": [403, 403, 403, 403], "list_stream": [401, 200, 403, 403], "read_stream": [401, 200, 404, 404],
    }),
    # read: anyone; create: role:editor; update and delete: nobody
    "board": ("editor", {
        "list": [200, 200, 200, 200], "read": [200, 200, 200, 200], "create": [401, 201, 403, 403],
        "replace": [401, 403, 403, 403], "put_new": [401, 201, 403, 403], "patch": [403, 403, 403, 403],
        "delete": [403, 403, 403, 403], "list_stream": [200, 200, 200, 200], "read_stream": [200, 200, 200, 200],
    }),
    # read: nobody; create: anyone; update: nobody; delete: [owner, role:admin]. `nobody`
    # is 403 (404 for one document) even without a token, since none would help; a PUT
    # on an existing id passes the door (`anyone` may create) and is then a write on a
    # document no one may see: 404.
    "inbox": ("alice", {
        "list": [403, 403, 403, 403], "read": [404, 404, 404, 404], "create": [201, 201, 201, 201],
        "replace": [404, 404, 404, 404], "put_new": [201, 201, 201, 201], "patch": [403, 403, 403, 403],
        "delete": [401, 200, 404, 200], "list_stream": [403, 403, 403, 403], "read_stream": [404, 404, 404, 404],
    }),
}

# Routes that share a row: HEAD is a GET without a body; /events of one collection
# needs what its stream needs; a ticket opens streams under the same rules.
ROUTES = {
    "list": "list", "read": "read", "head": "read", "create": "create", "replace": "replace", "put_new": "put_new",
    "patch": "patch", "delete": "delete", "list_stream": "list_stream", "list_stream_ticket": "list_stream",
    "read_stream": "read_stream", "read_stream_ticket": "read_stream", "events": "list_stream",
    "events_ticket": "list_stream",
}


def caller_token(collection, who):
    creator = MATRIX[collection][0]
    return {"anonymous": None, "creator": token(creator, [creator]), "other": OTHER, "admin": ADMIN}[who]


def perform(srv, route, c, doc_id, tok):
    new_id = f"new-{uuid.uuid4().hex[:12]}"
    ticketed = route.endswith("_ticket")
    if ticketed and tok is not None:
        ticket, tok = issue_ticket(srv, tok), None
    else:
        ticket = None

    def stream(path):
        return stream_answer(srv, with_ticket(path, ticket) if ticket else path, tok)

    if route == "list":
        return send(srv, "GET", f"/{c}", tok)
    if route == "read":
        return send(srv, "GET", f"/{c}/{doc_id}", tok)
    if route == "head":
        return send(srv, "HEAD", f"/{c}/{doc_id}", tok)
    if route == "create":
        return send(srv, "POST", f"/{c}", tok, {"n": 0})
    if route == "replace":
        return send(srv, "PUT", f"/{c}/{doc_id}", tok, {"n": 1})
    if route == "put_new":
        return send(srv, "PUT", f"/{c}/{new_id}", tok, {"n": 1})
    if route == "patch":
        return send(srv, "PATCH", f"/{c}/{doc_id}", tok, {"n": 2})
    if route == "delete":
        return send(srv, "DELETE", f"/{c}/{doc_id}", tok)
    if route.startswith("list_stream"):
        return stream(f"/{c}")
    if route.startswith("read_stream"):
        return stream(f"/{c}/{doc_id}")
    if route.startswith("events"):
        return stream(f"/events?collections={c}")
    raise AssertionError(route)


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("collection", list(MATRIX))
def test_every_route_rule_and_caller(srv, collection, route, who):
    """Each cell acts on a document of its own, made by the collection's creator, so a
    delete in one cell cannot turn another's 200 into a 404. 401 only where a token
    could help; a read of one document one may not read is 404, not 403, so an id
    reveals nothing; a write without the right is 403 when the caller may see the
    document, else 404."""
    creator = MATRIX[collection][0]
    doc = created(srv, collection, token(creator, [creator]), n=-1)
    expected = MATRIX[collection][1][ROUTES[route]][CALLERS.index(who)]
    a = perform(srv, route, collection, doc["id"], caller_token(collection, who))
    if route == "head":
        assert a.status == expected, a  # no body to read the code from
        if expected == 401:
            assert a.headers.get("www-authenticate") == "Bearer"
        return
    expect(a, expected)
    if route in ("replace", "patch", "delete") and collection != "inbox":  # (no one may read the inbox)
        # A refused write wrote nothing; an allowed update kept the owner.
        after = send(srv, "GET", f"/{collection}/{doc['id']}", token(creator, [creator]))
        if a.status >= 400:
            assert after.status == 200 and after.json["_v"] == 1, after
        elif route != "delete":
            assert after.json["_v"] == 2 and after.json.get("owner") == doc.get("owner"), after


def test_the_owner_of_an_inbox_document_may_delete_it_but_an_anonymous_ones_is_nobodys(srv):
    """`create: anyone` lets an anonymous caller in: the document then has no owner,
    so `owner` rules match no one on it and only the role may act."""
    doc = created(srv, "inbox", None, text="from nobody")
    assert "owner" not in doc, doc
    # Nor can an anonymous caller plant a document in someone's name.
    expect(send(srv, "POST", "/inbox", None, {"text": "x", "owner": "carl"}), 403)
    assert created(srv, "inbox", token("carl"), text="signed")["owner"] == "carl"
    expect(send(srv, "DELETE", f"/inbox/{doc['id']}", token("carl")), 404)
    expect(send(srv, "DELETE", f"/inbox/{doc['id']}", ADMIN), 200)


@pytest.mark.parametrize("via", ["header", "query", "form"])
@pytest.mark.parametrize("override, who, expected", [
    ("DELETE", "other", 404),   # bob may not see alice's todo
    ("DELETE", None, 401),
    ("PATCH", "owner", 403),    # the body changes the owner
    ("PUT", "other", 404),
])
def test_overridden_methods_meet_the_rules_of_the_method_they_stand_for(srv, via, override, who, expected):
    """Backbone's emulateHTTP (`X-HTTP-Method-Override`, or `_method` in the query or,
    with emulateJSON, a form body) must not be a side door: the rules of the method a
    POST stands for apply, not those of POST (`create: user`)."""
    alice = token("alice")
    doc = created(srv, "todos", alice, title="a")
    tok = {"owner": alice, "other": OTHER, None: None}[who]
    body = {"owner": "bob"} if override == "PATCH" else {"title": "x"}
    path = f"/todos/{doc['id']}"
    if via == "header":
        a = send(srv, "POST", path, tok, body, headers={"X-HTTP-Method-Override": override})
    elif via == "query":
        a = send(srv, "POST", f"{path}?_method={override}", tok, body)
    else:
        r = srv.post(path, data={"_method": override, "model": json.dumps(body)}, headers=bearer(tok))
        a = Answer(r.status_code, dict(r.headers), r.content)
    expect(a, expected)
    kept = send(srv, "GET", f"/todos/{doc['id']}", alice)
    assert kept.status == 200 and kept.json["owner"] == "alice" and kept.json["title"] == "a", kept


# --- /events, /auth/ticket, /metrics -----------------------------------------------------


@pytest.mark.parametrize("collections, who, expected", [
    ("board", None, 200),
    ("board,todos", None, 401),        # todos needs a user
    ("board,audit", "alice", 403),     # every collection named needs the read right
    ("audit,board", "alice", 403),
    ("audit,board", "auditor", 200),
    ("todos,notes,shared", "alice", 200),
    ("board,inbox", None, 403),        # `nobody`: no token would help
    ("board,inbox", "admin", 403),
    ("board,nosuch", "alice", 404),
])
def test_events_needs_the_read_right_on_every_collection_it_names(srv, collections, who, expected):
    """One stream of several collections must not be a way round the rules of any of
    them: a single collection the caller may not read refuses the whole stream, with
    the answer that collection's rule gives (401 if a token could help)."""
    tok = {None: None, "alice": token("alice"), "auditor": token("auditor", ["auditor"]), "admin": ADMIN}[who]
    expect(stream_answer(srv, f"/events?collections={collections}", tok), expected)


def test_a_ticket_is_for_users_only(srv):
    """POST /auth/ticket trades a token for a ticket: nothing to trade without one, and
    a ticket (in the query or as a bearer) buys no other ticket."""
    expect_refusal(send(srv, "POST", "/auth/ticket"), 401)
    ticket = issue_ticket(srv, token("alice"))
    expect_refusal(send(srv, "POST", "/auth/ticket", ticket), 401, invalid_token=True)
    expect_refusal(send(srv, "POST", with_ticket("/auth/ticket", ticket)), 401)
    # Any valid user may have one, whatever the collections' rules.
    assert issue_ticket(srv, token("nobody-special", []))


@pytest.mark.parametrize("who, expected", [(None, 401), ("alice", 403), ("ops", 200), ("admin", 200)])
def test_metrics_follow_a_list_of_rules(srv, who, expected):
    """/metrics tells about every collection's traffic; a list of rules lets either
    role in, and no one else."""
    tok = {None: None, "alice": token("alice"), "ops": token("ops", ["ops"]), "admin": ADMIN}[who]
    a = send(srv, "GET", "/metrics", tok)
    expect(a, expected)
    if expected == 200:
        assert b"# TYPE" in a.body


@pytest.mark.parametrize("rule, expected", [
    (None, [200, 200]),          # the default: anyone
    ("user", [401, 200]),
    ("nobody", [403, 403]),
])
def test_metrics_rules_on_their_own(factory, rule, expected):
    """The default, and the rules the matrix server does not use for /metrics: a
    config of its own each (one small server)."""
    config = f"auth:\n  jwt:\n    secret_env: {SECRET_VAR}\n    issuer: {ISSUER}\n"
    if rule:
        config += f"  metrics: {rule}\n"
    s = factory(config_text=config + "collections:\n  lists: {}\n")
    try:
        for tok, status in zip((None, jwt({"sub": "u", "iss": ISSUER, "exp": int(time.time()) + 600})), expected):
            expect(send(s, "GET", "/metrics", tok), status)
        expect_refusal(send(s, "GET", "/lists"), 401)
    finally:
        s.stop()


def test_healthz_and_the_spec_stay_open_whatever_the_token(srv):
    """Load balancers send no tokens, and a stale one must not take an instance out."""
    for path in ("/healthz", "/openapi.yaml", "/backbone-sse.js"):
        for tok in (None, "garbage", token("alice", exp_in=-300)):
            assert send(srv, "GET", path, tok).status == 200, (path, tok)


# --- forged, stale and foreign tokens -----------------------------------------------------


def forgeries():
    good = token("alice")
    h, p, s = good.split(".")
    admin_payload = segment(claims("root", ["admin"]))
    return {
        "alg none": f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims('alice'))}.",
        "alg none over a good signature": with_header(good, {"alg": "none", "typ": "JWT"}),
        "another secret": jwt(claims("alice"), secret=OTHER_SECRET),
        "HMAC signed with the RSA public key's bytes": jwt(
            claims("alice"), secret=(FIXTURE_KEYS / "rsa.pem").read_bytes()),
        "an HS256 signature under an HS512 header": with_header(good, {"alg": "HS512", "typ": "JWT"}),
        "an HS256 signature under an RS256 header": with_header(good, {"alg": "RS256", "typ": "JWT"}),
        "an unknown algorithm": with_header(good, {"alg": "PS256", "typ": "JWT"}),
        "a critical header": jwt(claims("alice"), header={"alg": "HS256", "crit": ["x"], "x": 1}),
        "expired": token("alice", exp_in=-120),
        "not yet valid": jwt(claims("alice", nbf=int(time.time()) + 300)),
        "another issuer": jwt(claims("alice", iss="https://evil.test")),
        "no issuer": jwt(claims("alice", iss=None)),
        "another audience": jwt(claims("alice", aud=["other-app"])),
        "no audience": jwt(claims("alice", aud=None)),
        "no subject": jwt(claims(None)),
        "no expiry": jwt(claims("alice", exp=None)),
        "a payload swapped under a good signature": f"{h}.{admin_payload}.{s}",
        "a signature of another token": f"{h}.{p}.{token('bob').split('.')[2]}",
        "malformed": "not-a-jwt",
        "two parts": f"{h}.{p}",
        "a bad base64 header": f"%%%.{p}.{s}",
    }


FORGERIES = list(forgeries())


@pytest.mark.parametrize("kind", FORGERIES)
def test_every_forged_stale_or_foreign_token_is_401_everywhere(srv, kind):
    """A bad token is refused wherever identity matters, even where no token is needed
    (`board` reads are `anyone`): a client that sends one has a problem it must hear
    about, and an `anyone` route must not become a place to probe forgeries. The answer
    never quotes the token."""
    bad = forgeries()[kind]
    targets = [
        send(srv, "GET", "/board", bad),
        send(srv, "GET", "/todos", bad),
        send(srv, "POST", "/todos", bad, {"title": "x"}),
        send(srv, "POST", "/auth/ticket", bad),
        send(srv, "GET", "/metrics", bad),
        stream_answer(srv, "/board", bad),
        stream_answer(srv, "/events?collections=board", bad),
    ]
    for a in targets:
        expect_refusal(a, 401, invalid_token=True)
        assert bad.encode() not in a.body


def test_the_controls_of_the_forgeries_are_accepted(srv):
    """The forgeries differ from these by the one thing each breaks: HS256/384/512 with
    the configured secret, RS256 with the configured public key, a role from the roles
    claim, `nbf` in the past."""
    for digest, alg in ((hashlib.sha256, "HS256"), (hashlib.sha384, "HS384"), (hashlib.sha512, "HS512")):
        t = jwt(claims("alice"), header={"alg": alg, "typ": "JWT"}, digest=digest)
        assert send(srv, "GET", "/shared", t).status == 200, alg
    assert send(srv, "GET", "/shared", rs256(claims("alice"))).status == 200
    assert send(srv, "GET", "/shared", jwt(claims("alice", aud=AUDIENCE))).status == 200  # aud as a string
    assert send(srv, "GET", "/shared", jwt(claims("alice", nbf=int(time.time()) - 5))).status == 200
    assert send(srv, "POST", "/board", rs256(claims("ed", ["editor"])), {"msg": "rsa"}).status == 201


@pytest.mark.parametrize("header", ["Basic YWxpY2U6cHc=", "Bearer", "Bearer a b", "Token abc"])
def test_an_authorization_that_is_not_a_bearer_token_is_an_invalid_token(srv, header):
    """A credential was sent, so the client must hear it is wrong (invalid_token), not
    be told to send one."""
    a = send(srv, "GET", "/shared", headers={"Authorization": header})
    expect_refusal(a, 401, invalid_token=True)


def test_tickets_and_tokens_do_not_stand_in_for_each_other(srv):
    """A ticket lives 60 s and only opens streams; a JWT is long-lived and must never
    sit in a URL. Each is refused where the other belongs, with the answer of a bad
    credential; `?access_token=` is not read at all."""
    alice = token("alice")
    ticket = issue_ticket(srv, alice)
    # A ticket as a bearer token: on a list, a write, a stream.
    expect_refusal(send(srv, "GET", "/todos", ticket), 401, invalid_token=True)
    expect_refusal(send(srv, "POST", "/todos", ticket, {"title": "x"}), 401, invalid_token=True)
    expect_refusal(stream_answer(srv, "/todos", ticket), 401, invalid_token=True)
    # A JWT as ?ticket= on each stream kind.
    for path in ("/todos", "/shared/whatever", "/events?collections=shared"):
        expect_refusal(stream_answer(srv, with_ticket(path, alice)), 401, invalid_token=True)
    # A ticket tampered with: one character of it changed, wherever it falls.
    for i in (2, len(ticket) // 2, len(ticket) - 3):
        forged = ticket[:i] + ("A" if ticket[i] != "A" else "B") + ticket[i + 1:]
        expect_refusal(stream_answer(srv, with_ticket("/todos", forged)), 401, invalid_token=True)
    # A ticket on what is not a stream is as if no credential came.
    expect_refusal(send(srv, "GET", with_ticket("/todos", ticket)), 401)
    expect_refusal(send(srv, "POST", with_ticket("/todos", ticket), body={"title": "x"}), 401)
    # ?access_token= is never read.
    expect_refusal(send(srv, "GET", "/todos?" + urllib.parse.urlencode({"access_token": alice})), 401)
    expect_refusal(stream_answer(srv, "/todos?" + urllib.parse.urlencode({"access_token": alice})), 401)
    # A ticket beside a bearer header: one credential per request.
    two = stream_answer(srv, with_ticket("/todos", ticket), alice)
    assert two.status == 400 and two.json["error"]["code"] == "two_credentials", two
    assert two.headers["www-authenticate"] == 'Bearer error="invalid_request"', two.headers
    # And the good ticket, alone, opens the stream.
    assert stream_answer(srv, with_ticket("/todos", ticket)).status == 200


# --- cross-user leakage: lists ---------------------------------------------------------------


def titles(a):
    assert a.status == 200, a
    return sorted(d["title"] for d in a.json)


def test_lists_counts_and_pages_stay_within_the_callers_documents(srv):
    """The owner condition is part of the store's query (SQL, or MongoDB's filter), not
    a filter on a page after the fact: counts, `Link` pages and a page past the
    caller's last document must all be as if the others' documents did not exist."""
    (alice, bob, admin), _ = fresh_users()
    for i in range(3):
        created(srv, "todos", alice, title=f"a{i}")
    for i in range(5):
        created(srv, "todos", bob, title=f"b{i}")
    assert titles(send(srv, "GET", "/todos", alice)) == ["a0", "a1", "a2"]
    assert titles(send(srv, "GET", "/todos", bob)) == ["b0", "b1", "b2", "b3", "b4"]
    # An admin may update and delete todos, not read them: sees only its own (none).
    assert titles(send(srv, "GET", "/todos", admin)) == []
    page = send(srv, "GET", "/todos?sort=title&limit=2", alice)
    assert [d["title"] for d in page.json] == ["a0", "a1"]
    assert page.headers["x-total-count"] == "3"
    assert "skip=2" in page.headers["link"] and 'rel="next"' in page.headers["link"]
    last = send(srv, "GET", "/todos?sort=title&limit=2&skip=2", alice)
    assert [d["title"] for d in last.json] == ["a2"] and last.headers["x-total-count"] == "3"
    assert 'rel="next"' not in last.headers.get("link", ""), last.headers
    beyond = send(srv, "GET", "/todos?sort=title&limit=2&skip=4", alice)
    assert beyond.json == [] and beyond.headers["x-total-count"] == "3"
    counted = send(srv, "GET", "/todos?limit=0", bob)
    assert counted.json == [] and counted.headers["x-total-count"] == "5"


def test_filters_and_or_cannot_widen_a_list_to_other_owners(srv):
    """The caller's owner condition is ANDed to whatever the client asks for; no
    operator of the client's — `$or`, `$ne`, `$in`, `$exists`, a field filter on the
    owner — reaches past it."""
    (alice, bob, _), (a_sub, b_sub, _) = fresh_users()
    created(srv, "todos", alice, title="secret", priority=1)
    created(srv, "todos", bob, title="mine", priority=2)
    wheres = [
        {"owner": a_sub},
        {"$or": [{"owner": a_sub}, {"owner": {"$ne": "nobody"}}]},
        {"$or": [{"title": "secret"}, {"priority": {"$gte": 0}}]},
        {"owner": {"$in": [a_sub, b_sub]}},
        {"owner": {"$exists": True}},
        {"title": "secret"},
        {"$and": [{"$or": [{"owner": a_sub}]}]},
    ]
    for where in wheres:
        for q in ({"where": json.dumps(where)}, {"where": json.dumps(where), "limit": 1}):
            a = send(srv, "GET", "/todos?" + urllib.parse.urlencode(q), bob)
            assert a.status == 200, (where, a)
            assert all(d["owner"] == b_sub for d in a.json), (where, a.json)
            assert "secret" not in a.body.decode(), (where, a)
            assert int(a.headers.get("x-total-count", len(a.json))) <= 1, (where, a.headers)
    # The same in the other spellings of a query: `query=`, the bracket form, field
    # filters (the last value of a repeated one counts).
    widening = json.dumps({"$or": [{"owner": a_sub}, {"title": {"$ne": "z"}}]})
    for q in ("query=" + urllib.parse.quote(widening),
              f"where[$or][0][owner]={a_sub}&where[$or][1][title][$ne]=z",
              f"owner[$ne]={b_sub}", f"owner[$in][]={a_sub}&owner[$in][]={b_sub}", f"owner={b_sub}&owner={a_sub}"):
        a = send(srv, "GET", "/todos?" + q, bob)
        assert a.status == 200, (q, a)
        assert all(d["owner"] == b_sub for d in a.json) and "secret" not in a.body.decode(), (q, a)
    for q in ({"owner": a_sub}, {"title": "secret"}, {"owner": a_sub, "limit": "0"}):
        a = send(srv, "GET", "/todos?" + urllib.parse.urlencode(q), bob)
        assert a.status == 200 and a.json == [], (q, a)
        assert a.headers.get("x-total-count", "0") == "0", (q, a.headers)


def test_a_sub_that_differs_only_after_a_nul_is_another_user(srv):
    """Owners are compared whole everywhere: a sub is the IdP's opaque string, and
    one that merely starts with another's (up to a NUL, where C strings end) is
    someone else. The server may refuse such a token outright (401) or treat it as
    its own user, but never as the other."""
    (alice, _, _), (a_sub, _, _) = fresh_users()
    mine = created(srv, "todos", alice, title="alice's")["id"]
    impostor = token(a_sub + "\u0000x")
    first = send(srv, "GET", "/todos", impostor)
    if first.status == 401:
        expect_refusal(first, 401, invalid_token=True)
        return
    assert first.status == 200, first
    assert [d["id"] for d in first.json] == [], first
    counted = send(srv, "GET", "/todos?limit=0", impostor)
    assert counted.headers.get("x-total-count", "0") == "0", counted.headers
    expect_refusal(send(srv, "GET", f"/todos/{mine}", impostor), 404)
    theirs = created(srv, "todos", impostor, title="impostor's")["id"]
    assert [d["id"] for d in send(srv, "GET", "/todos", alice).json] == [mine]
    assert [d["id"] for d in send(srv, "GET", "/todos", impostor).json] == [theirs]


def test_a_sub_canonically_equivalent_to_anothers_is_another_user(srv):
    """A sub is an opaque string from the identity provider: two that are spelled
    differently are two users, even when Unicode calls them canonically equivalent
    (an IdP that lets people pick names may well let one pick the other's
    decomposed). Reads, writes and streams must agree with the lists, which the stores
    compare byte for byte."""
    tag = uuid.uuid4().hex[:8]
    owner_sub, impostor_sub = f"jos\u00e9-{tag}", f"jose\u0301-{tag}"
    assert owner_sub != impostor_sub
    owner, impostor = token(owner_sub), token(impostor_sub)
    doc = created(srv, "todos", owner, title="hers")["id"]
    path = f"/todos/{doc}"
    stream = open_as(srv, "/todos", impostor)
    try:
        stream.hello()
        assert send(srv, "PATCH", path, owner, {"title": "hers, changed"}).status == 200
        sentinel = created(srv, "todos", impostor, title="own")["id"]
        delivered = changes(stream, sentinel)
    finally:
        stream.close()
    outcomes = {
        "list": [d["id"] for d in send(srv, "GET", "/todos", impostor).json],
        "stream": delivered,
        "GET": send(srv, "GET", path, impostor).status,
        "stream of the document": stream_answer(srv, path, impostor).status,
        "PATCH": send(srv, "PATCH", path, impostor, {"title": "taken over"}).status,
        "PUT": send(srv, "PUT", path, impostor, {"title": "taken over"}).status,
        "DELETE": send(srv, "DELETE", path, impostor).status,
    }
    assert outcomes == {"list": [sentinel], "stream": [], "GET": 404, "stream of the document": 404, "PATCH": 404,
                        "PUT": 404, "DELETE": 404}, outcomes
    kept = send(srv, "GET", path, owner)
    assert kept.status == 200 and kept.json["title"] == "hers, changed", kept


def test_a_list_shows_only_documents_a_single_read_would(factory):
    """Documents can predate the `owner` rule (a collection that went from no auth to
    auth) and then hold anything in the owner field. Whatever they hold, a list must
    agree with a single read: a document is the caller's only when its owner field is
    exactly the caller's sub, on every store."""
    s = factory(config_text="collections:\n  todos: {}\n")
    try:
        odd = {}
        for owner in (["alice", "bob"], {"sub": "alice"}, "alice", None):
            r = s.post("/todos", json={"title": json.dumps(owner), "owner": owner})
            assert r.status_code == 201, r.text
            odd[r.json()["id"]] = owner
        s.stop()
        with open(s.config_path, "w") as f:
            f.write(MATRIX_CONFIG)
        shutil.copy(FIXTURE_KEYS / "rsa.pem", pathlib.Path(s.work_dir) / "rsa.pem")
        s.start()
        for sub in ("alice", "bob"):
            readable = sorted(i for i in odd if send(s, "GET", f"/todos/{i}", token(sub)).status == 200)
            assert readable == sorted(i for i, o in odd.items() if o == sub), (sub, readable)
            listed = sorted(d["id"] for d in send(s, "GET", "/todos", token(sub)).json)
            assert listed == readable, (sub, listed, odd)
    finally:
        s.stop()


def test_the_list_cache_keeps_each_callers_answers_apart(srv):
    """The same URL at the same head is answered from a cache: alice, bob, an admin
    who reads all notes, an anonymous caller and a bad token take turns on the very
    same target, with no write between them, and each gets its own answer (or its
    refusal), not the one before."""
    (alice, bob, admin), (a_sub, b_sub, root_sub) = fresh_users()
    tag = uuid.uuid4().hex[:8]
    created(srv, "notes", alice, title=f"{tag}-a")
    created(srv, "notes", bob, title=f"{tag}-b")
    target = "/notes?" + urllib.parse.urlencode({"sort": "title", "limit": 50, "where": json.dumps(
        {"title": {"$in": [f"{tag}-a", f"{tag}-b"]}})})
    turns = [(alice, [f"{tag}-a"]), (bob, [f"{tag}-b"]), (admin, [f"{tag}-a", f"{tag}-b"]), (alice, [f"{tag}-a"]),
             (None, 401), (token("x", exp_in=-300), 401), (bob, [f"{tag}-b"]), (admin, [f"{tag}-a", f"{tag}-b"]),
             (bob, [f"{tag}-b"])]
    for tok, want in turns:
        a = send(srv, "GET", target, tok)
        if want == 401:
            expect_refusal(a, 401, invalid_token=tok is not None)
        else:
            assert titles(a) == want, (tok, a)
    # Pages, whose X-Total-Count is counted (and the count cached) per query; a page
    # that holds the whole answer says no count, so one that does tells of more.
    paged = target.replace("limit=50", "limit=1")
    for tok, want in ((admin, "2"), (alice, None), (bob, None), (admin, "2"), (alice, None)):
        a = send(srv, "GET", paged, tok)
        assert a.status == 200 and len(a.json) == 1 and a.headers.get("x-total-count") == want, (a, a.headers)
    # And owners keep apart however their names line up with the target: subs that
    # are prefixes of each other, or look like a length prefix.
    odd = [token("1"), token("1:/notes"), token("11"), token("1:1")]
    for t in odd:
        created(srv, "notes", t, title=f"{tag}-odd")
    odd_target = "/notes?" + urllib.parse.urlencode({"where": json.dumps({"title": f"{tag}-odd"})})
    for _ in range(2):
        for t, sub in zip(odd, ["1", "1:/notes", "11", "1:1"]):
            a = send(srv, "GET", odd_target, t)
            assert [d["owner"] for d in a.json] == [sub], (sub, a)


def test_conditional_and_versioned_requests_reveal_nothing_of_anothers_document(srv):
    """A 304, a 412 or a 409 on someone else's document would tell that it exists
    (and a 409 carries the current document): whoever may not see it gets the 404 of a
    document that does not exist, whatever the conditions."""
    (alice, bob, _), _ = fresh_users()
    doc = created(srv, "todos", alice, title="hidden-title")
    path = f"/todos/{doc['id']}"
    for h in ({"If-None-Match": '"1"'}, {"If-None-Match": "*"}):
        expect_refusal(send(srv, "GET", path, bob, headers=h), 404)
        assert send(srv, "GET", path, alice, headers=h).status == 304
    for method, body in (("PUT", {"title": "x"}), ("PATCH", {"title": "x"}), ("DELETE", None)):
        for h in ({"If-Match": '"99"'}, {"If-Match": "*"}, {"If-None-Match": "*"}):
            expect_refusal(send(srv, method, path, bob, body, headers=h), 404)
    for method in ("PUT", "PATCH"):
        a = send(srv, method, path, bob, {"title": "x", "_v": 99})
        expect_refusal(a, 404)
        assert b"hidden-title" not in a.body
    # A create with the taken id may say it is taken (README), nothing of what it holds.
    a = send(srv, "POST", "/todos", bob, {"id": doc["id"], "title": "mine"})
    assert a.status == 409 and a.json["error"]["code"] == "id_taken", a
    assert b"hidden-title" not in a.body and b"alice" not in a.body, a
    # Nothing changed.
    kept = send(srv, "GET", path, alice)
    assert kept.json["title"] == "hidden-title" and kept.json["_v"] == 1, kept


@pytest.mark.parametrize("method, body, who, expected", [
    ("POST", {"owner": "{bob}"}, "alice", 403),
    ("POST", {"owner": "{alice}"}, "alice", 201),
    ("POST", {"owner": None}, "alice", 201),
    ("POST", {"owner": 7}, "alice", 403),
    ("POST", {"owner": ["{alice}"]}, "alice", 403),
    ("PUT new", {"owner": "{bob}"}, "alice", 403),
    ("PUT new", {"owner": "{alice}"}, "alice", 201),
    ("PATCH", {"owner": "{bob}"}, "alice", 403),
    ("PATCH", {"owner": "{bob}"}, "admin", 403),
    ("PATCH", {"owner": "{admin}"}, "admin", 403),
    ("PATCH", {"owner": "{alice}"}, "alice", 200),
    ("PATCH", {"owner": None}, "alice", 200),
    ("PATCH", {"owner": ""}, "alice", 403),
    ("PUT", {"owner": "{bob}"}, "alice", 403),
    ("PUT", {"owner": "{bob}"}, "admin", 403),
    ("PUT", {}, "admin", 200),
    ("PUT", {"owner": None}, "alice", 200),
])
def test_the_owner_field_is_the_servers(srv, method, body, who, expected):
    """The owner field is the creator's `sub`, set by the server: a body may leave it
    out, repeat it or send null; naming anyone else — on create, or later, an admin
    included — is 403, and the document keeps its owner."""
    (alice, bob, admin), (a_sub, b_sub, root_sub) = fresh_users()
    names = {"{alice}": a_sub, "{bob}": b_sub, "{admin}": root_sub}
    body = {k: names.get(v, v) if isinstance(v, str) else ([names.get(x, x) for x in v] if isinstance(v, list) else v)
            for k, v in body.items()}
    tok = {"alice": alice, "admin": admin}[who]
    doc = created(srv, "todos", alice, title="t")
    path = {"POST": "/todos", "PUT new": f"/todos/{uuid.uuid4().hex}", "PATCH": f"/todos/{doc['id']}",
            "PUT": f"/todos/{doc['id']}"}[method]
    a = send(srv, method.split()[0], path, tok, {"title": "t2", **body})
    expect(a, expected)
    if expected == 403:
        assert "owner" in a.json["error"]["message"], a
        if method in ("PATCH", "PUT"):
            kept = send(srv, "GET", path, alice)
            assert kept.json["owner"] == a_sub and kept.json["title"] == "t" and kept.json["_v"] == 1, kept
        assert titles(send(srv, "GET", "/todos", bob)) == []
    else:
        want_owner = a_sub  # an admin's write keeps alice's ownership
        assert a.json["owner"] == want_owner, a
        again = send(srv, "GET", f"/todos/{a.json['id']}", alice)
        assert again.status == 200 and again.json["owner"] == want_owner, again


# --- cross-user leakage: streams ------------------------------------------------------------


def changes(stream, until_id, timeout=8):
    """Every event up to the change of `until_id` (the subscriber's sentinel), as
    (event, id) pairs, the sentinel's excluded."""
    evs = stream.take_until(lambda e: e.event in CHANGE_EVENTS and e.json.get("id") == until_id, timeout=timeout)
    return [(e.event, e.json.get("id") if e.event in CHANGE_EVENTS else e.data) for e in evs[:-1]]


def test_streams_deliver_only_what_the_subscriber_may_read(srv):
    """Live fan-out, decided per subscriber on the change itself: the owner's stream,
    another user's, another user's `/events`, a filtered stream whose `$or` names the
    other owner, a stream of one document id the other user takes later, and an admin's
    stream of `notes` (which it may read whole). Updates and deletes by someone else
    (the admin) still reach the owner: the change carries the owner, deletes included."""
    (alice, bob, admin), (a_sub, b_sub, _) = fresh_users()
    later_id = f"taken-{uuid.uuid4().hex[:10]}"
    widen = json.dumps({"$or": [{"owner": a_sub}, {"title": {"$exists": True}}]})
    streams = {
        "alice": open_as(srv, "/todos", alice),
        "bob": open_as(srv, "/todos", bob),
        "bob_events": open_as(srv, "/events?collections=todos,shared,notes", bob),
        "bob_where": open_as(srv, "/todos?" + urllib.parse.urlencode({"where": widen}), bob),
        "bob_doc": open_as(srv, f"/todos/{later_id}", bob),
        "bob_ticket": open_as(srv, with_ticket("/todos", issue_ticket(srv, bob))),
        "admin_notes": open_as(srv, "/notes", admin),
        "admin_todos": open_as(srv, "/todos", admin),
    }
    try:
        for s in streams.values():
            assert s.status == 200, s.body
            s.hello()
        a = created(srv, "todos", alice, title="a")["id"]
        b = created(srv, "todos", bob, title="b")["id"]
        assert send(srv, "PATCH", f"/todos/{a}", alice, {"title": "a2"}).status == 200
        assert send(srv, "PUT", f"/todos/{later_id}", alice, {"title": "taken"}).status == 201
        assert send(srv, "PATCH", f"/todos/{a}", admin, {"done": True}).status == 200
        assert send(srv, "DELETE", f"/todos/{a}", admin).status == 200
        sh = created(srv, "shared", alice, n=1)["id"]
        na = created(srv, "notes", alice, title="na")["id"]
        nb = created(srv, "notes", bob, title="nb")["id"]
        # The sentinels, last: each subscriber's own write.
        end_a = created(srv, "todos", alice, title="end")["id"]
        end_b = created(srv, "todos", bob, title="end")["id"]
        end_n = created(srv, "notes", admin, title="end")["id"]
        end_t = created(srv, "todos", admin, title="end")["id"]
        assert changes(streams["alice"], end_a) == [
            ("create", a), ("update", a), ("create", later_id), ("update", a), ("delete", a)]
        assert changes(streams["bob"], end_b) == [("create", b)]
        assert changes(streams["bob_events"], end_b) == [("create", b), ("create", sh), ("create", nb)]
        assert changes(streams["bob_where"], end_b) == [("create", b)]
        assert changes(streams["bob_ticket"], end_b) == [("create", b)]
        assert changes(streams["admin_notes"], end_n) == [("create", na), ("create", nb)]
        assert changes(streams["admin_todos"], end_t) == []
        # The one-document stream has no sentinel of its own: by now every earlier
        # change has been fanned out; alice's write to that id must not have come.
        streams["bob_doc"].expect_quiet(0.3)
    finally:
        for s in streams.values():
            s.close()


def test_a_document_stream_of_anothers_document_is_404_and_of_ones_own_follows_it(srv):
    """A stream of one document is a read of it: 404 (by bearer or ticket) to whoever
    may not read it, an admin with only update rights included; its owner follows it
    through someone else's update and delete."""
    (alice, bob, admin), _ = fresh_users()
    doc = created(srv, "todos", alice, title="x")["id"]
    expect_refusal(stream_answer(srv, f"/todos/{doc}", bob), 404)
    expect_refusal(stream_answer(srv, with_ticket(f"/todos/{doc}", issue_ticket(srv, bob))), 404)
    expect_refusal(stream_answer(srv, f"/todos/{doc}", admin), 404)
    s = open_as(srv, f"/todos/{doc}", alice)
    try:
        s.hello()
        assert send(srv, "PATCH", f"/todos/{doc}", admin, {"title": "y"}).status == 200
        assert send(srv, "DELETE", f"/todos/{doc}", alice).status == 200
        evs = s.take(2, timeout=5)
        assert [(e.event, e.json["id"]) for e in evs] == [("update", doc), ("delete", doc)]
    finally:
        s.close()


@pytest.mark.parametrize("how", ["since", "last_event_id", "events_since", "events_mixed_since", "ticket_last_event_id",
                                 "filtered_since"])
def test_a_resume_replays_only_the_callers_changes(srv, how):
    """A resume reads the change log from the store, not the live fan-out: the owner
    condition must hold there too, deletes included (whose owner is in the document the
    change removed), for each way of resuming; an `/events` resume of an owned and a
    shared collection filters the one and not the other."""
    (alice, bob, _), (a_sub, b_sub, _) = fresh_users()
    cursor = send(srv, "GET", "/todos?limit=1", bob).headers["x-stream-cursor"]
    a = created(srv, "todos", alice, title="a")["id"]
    b = created(srv, "todos", bob, title="b")["id"]
    assert send(srv, "PATCH", f"/todos/{a}", alice, {"title": "a2"}).status == 200
    assert send(srv, "PATCH", f"/todos/{b}", bob, {"title": "b2"}).status == 200
    assert send(srv, "DELETE", f"/todos/{a}", alice).status == 200
    assert send(srv, "DELETE", f"/todos/{b}", bob).status == 200
    c = created(srv, "todos", alice, title="c")["id"]
    sh = created(srv, "shared", alice, n=1)["id"]
    q = urllib.parse.urlencode({"since": cursor})
    widening = {"$or": [{"owner": a_sub}, {"title": {"$ne": ""}}]}
    widen = urllib.parse.urlencode({"since": cursor, "where": json.dumps(widening)})
    for who, tok, want in (("bob", bob, [("create", b), ("update", b), ("delete", b)]),
                           ("alice", alice, [("create", a), ("update", a), ("delete", a), ("create", c)])):
        opened = {
            "since": lambda: open_as(srv, f"/todos?{q}", tok),
            "last_event_id": lambda: open_as(srv, "/todos", tok, headers={"Last-Event-ID": cursor}),
            "events_since": lambda: open_as(srv, f"/events?collections=todos&{q}", tok),
            "events_mixed_since": lambda: open_as(srv, f"/events?collections=todos,shared&{q}", tok),
            "ticket_last_event_id": lambda: open_as(
                srv, with_ticket("/todos", issue_ticket(srv, tok)), headers={"Last-Event-ID": cursor}),
            "filtered_since": lambda: open_as(srv, f"/todos?{widen}", tok),
        }[how]()
        try:
            assert opened.status == 200, opened.body
            opened.hello()
            sentinel = created(srv, "todos", tok, title="end")["id"]
            got = changes(opened, sentinel)
            assert got == want + ([("create", sh)] if how == "events_mixed_since" else []), (who, how, got)
        finally:
            opened.close()
    # Bob's resume on the id alice used: nothing of hers.
    s = open_as(srv, f"/todos/{a}?{q}", bob)
    try:
        assert s.status == 200, s.body
        s.hello()
        s.expect_quiet(0.3)
    finally:
        s.close()


# --- expiry mid-stream ------------------------------------------------------------------------


def test_a_stream_ends_with_expired_when_its_token_expires(srv):
    """A stream lives as long as the token that opened it (directly, or through a
    ticket): then `expired`, `{"reason":"token_expired"}`, and the connection closes, so
    a revoked or stale identity stops receiving. Until then it gets its changes; a
    stream of a lasting token goes on; and the verified-token cache must not keep the
    stale token working for plain requests, nor its ticket opening new streams."""
    tag = uuid.uuid4().hex[:8]
    sub = f"short-{tag}"
    exp = int(time.time()) + 4  # between 3 and 4 s from now: time to open six streams on a busy machine
    short = jwt(claims(sub, exp=exp))
    lasting = token(sub)
    doc = created(srv, "todos", short, title="mine")["id"]
    r = srv.post("/auth/ticket", headers=bearer(short))
    assert r.status_code == 201, r.text
    ticket = r.json()["ticket"]
    # A ticket outlives no token: it expires with it, not 60 s later.
    ticket_expires = datetime.datetime.fromisoformat(r.json()["expires"].replace("Z", "+00:00")).timestamp()
    assert ticket_expires <= exp + 0.001, (r.json(), exp)
    ending = [open_as(srv, "/todos", short), open_as(srv, f"/todos/{doc}", short),
              open_as(srv, "/events?collections=todos,board", short), open_as(srv, with_ticket("/todos", ticket)),
              open_as(srv, with_ticket("/events?collections=todos", ticket))]
    staying = open_as(srv, "/todos", lasting)
    try:
        for s in ending + [staying]:
            assert s.status == 200, s.body
            s.hello()
        # Still alive: each gets the owner's write.
        assert send(srv, "PATCH", f"/todos/{doc}", lasting, {"title": "still"}).status == 200
        for s in ending + [staying]:
            e = s.next(timeout=5)
            assert (e.event, e.json["id"]) == ("update", doc), e
        for s in ending:
            tail = s.read_to_end(timeout=exp - time.time() + 4)
            last = [e for e in tail if e.event != "ping"]
            assert [(e.event, e.data) for e in last] == [("expired", '{"reason":"token_expired"}')], tail
            assert time.time() >= exp - 0.5, "ended before the token expired"
            with pytest.raises(StreamClosed):
                s.next(timeout=1)
        # The lasting stream is still open and still delivers.
        assert send(srv, "PATCH", f"/todos/{doc}", lasting, {"title": "after"}).status == 200
        e = staying.next(timeout=5)
        assert (e.event, e.json["id"]) == ("update", doc), e
    finally:
        for s in ending + [staying]:
            s.close()
    # The token was verified and cached while good; past its exp it is refused.
    expect_refusal(send(srv, "GET", "/todos", short), 401, invalid_token=True)
    expect_refusal(send(srv, "POST", "/auth/ticket", short), 401, invalid_token=True)
    expect_refusal(stream_answer(srv, "/todos", short), 401, invalid_token=True)
    # The ticket, 60 s old at most, lives no longer than its token.
    expect_refusal(stream_answer(srv, with_ticket("/todos", ticket)), 401, invalid_token=True)
