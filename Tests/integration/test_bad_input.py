"""Hostile and broken input: never a crash, never a 500, never a partial write.

Every test here runs inside `unchanged`, which counts the documents of both
collections before and after the test and checks `GET /healthz` afterwards.

What the app alone decides (malformed JSON, bad ids, bad queries, percent-escapes,
content types) runs in process, in Tests/BackboneSSETests (BadInputTests,
BadQueryTests, under the same `unchanged` check). What stays here needs the real
binary: the HTTP server's limits and framing, raw sockets, dropped connections; or
depends on the store: values that must round-trip or stay plain values in it.
"""

import json
import socket
import threading
import time

import pytest
import requests

from conftest import assert_error, parse_raw_response

JSON_CT = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def existing(server):
    """A document that bad writes aim at; it must never change."""
    return server.create(title="target", priority=1, slug="bad-input-target", tags=["a"])


@pytest.fixture(autouse=True)
def unchanged(server, existing):
    before = (server.count("todos"), server.count("lists"))
    yield
    assert server.healthy(), server.stderr_tail()
    assert (server.count("todos"), server.count("lists")) == before, "a bad request wrote a document"
    assert server.get(f"/todos/{existing['id']}").json() == existing


def raw_request(method, path, body=b"", headers=None, http="HTTP/1.1"):
    head = [f"{method} {path} {http}", "Host: 127.0.0.1", "Connection: close"]
    headers = dict(headers or {})
    if body or method in ("POST", "PUT", "PATCH"):
        headers.setdefault("Content-Length", str(len(body)))
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def raw(server, *args, **kw):
    """A raw request; returns (status, headers, body) or None if the server closed
    the connection without answering."""
    data = server.raw(raw_request(*args, **kw))
    if not data:
        return None
    return parse_raw_response(data)


def assert_raw_error(resp, statuses):
    assert resp is not None, "connection closed without an answer"
    status, headers, body = resp
    assert status in statuses, (status, body)
    if status >= 400 and body:
        err = json.loads(body)["error"]
        assert err["status"] == status
        assert err["code"] and err["message"]


# --- bodies ----------------------------------------------------------------------


def test_null_character_in_a_string_round_trips_or_is_refused(server):
    r = server.post("/lists", data=b'{"name": "a\\u0000b"}', headers=JSON_CT)
    assert r.status_code in (201, 400), r.text
    if r.status_code == 201:
        doc = r.json()
        assert doc["name"] == "a\x00b"
        assert server.get(f"/lists/{doc['id']}").json() == doc
        assert server.delete(f"/lists/{doc['id']}").status_code == 200


@pytest.mark.parametrize("body", [
    b'{"name": "x", "a\\u0000b": 1}',
    b'{"name": "x", "meta": {"k\\u0000": {"c": 1}}}',
    b'{"name": "x", "list": [{"\\u0000": [1]}]}',
])
def test_a_nul_in_a_member_name_is_400_on_every_store(server, body):
    """BSON names are C strings: the MongoDB store lost such a field and, under an
    object or an array, aborted the server (found by schemathesis). Every store
    refuses it alike."""
    for method, path in (("POST", "/lists"), ("PUT", "/lists/nul-name"), ("PATCH", "/lists/nul-name")):
        assert_error(server.request(method, path, data=body, headers=JSON_CT), 400, "bad_json")
    assert server.running, server.stderr_tail()


@pytest.mark.parametrize("name", ["_id", "_c", "$x"])
def test_a_reserved_top_level_name_is_400_on_every_store(server, name):
    """The MongoDB store keeps `_id` and `_c` for itself: a client's `_id` lost the
    document (201, then 404), and `$x` was a 500. Every store refuses them alike."""
    body = json.dumps({"name": "x", name: 5})
    for method, path in (("POST", "/lists"), ("PUT", "/lists/reserved-name"), ("PATCH", "/lists/reserved-name")):
        assert_error(server.request(method, path, data=body, headers=JSON_CT), 400, "bad_json")


# --- sizes -----------------------------------------------------------------------


def send_big_body(port, head, body, timeout=15):
    """Writes `head` + `body` on one connection while a reader thread collects the
    answer, so that an early 413 is read even when the server then resets the
    connection. Returns (bytes read, whether the connection was reset)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = []
    reset = []

    def reader():
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, OSError):
                reset.append(True)
                return
            if not chunk:
                return
            got.append(chunk)

    t = threading.Thread(target=reader)
    t.start()
    try:
        s.sendall(head)
        view = memoryview(body)
        for i in range(0, len(view), 65536):
            s.sendall(view[i:i + 65536])
    except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
        pass
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    t.join(timeout)
    s.close()
    return b"".join(got), bool(reset)


def check_413(data, reset):
    if data:
        status, _, body = parse_raw_response(data)
        assert status == 413, (status, body[:200])
        err = json.loads(body)["error"]
        assert err["status"] == 413 and err["code"] and err["message"]
    else:
        # Only acceptable when the reset beat the answer.
        assert reset, "no answer and no reset"


def test_10mb_body_is_413(server):
    body = b'{"title": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    head = (f"POST /todos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    data, reset = send_big_body(server.port, head, body)
    check_413(data, reset)


def test_10mb_body_is_413_with_requests(server):
    try:
        r = server.post("/lists", data=b'{"a": "' + b"y" * (10 * 1024 * 1024) + b'"}', headers=JSON_CT)
    except requests.ConnectionError:
        return  # reset before the answer could be read: the guard checks health
    assert_error(r, 413)


def test_10mb_chunked_body_is_413(server):
    head = (b"POST /todos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"z" * 65536
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 160 + b"0\r\n\r\n"
    data, reset = send_big_body(server.port, head, body)
    check_413(data, reset)


def test_body_just_over_max_body_is_413(server):
    limit = 1024 * 1024
    body = b'{"name": "' + b"q" * (limit - 11) + b'"}'
    assert len(body) == limit + 1
    try:
        r = server.post("/lists", data=body, headers=JSON_CT)
    except requests.ConnectionError:
        return
    assert_error(r, 413)


def test_large_body_under_the_limit_is_fine(server):
    body = {"name": "big", "blob": "b" * (900 * 1024)}
    r = server.post("/lists", json=body)
    assert r.status_code == 201, r.text[:200]
    doc = r.json()
    assert server.get(f"/lists/{doc['id']}").json() == doc
    assert server.delete(f"/lists/{doc['id']}").status_code == 200


def test_huge_url_is_refused_cleanly(server):
    resp = raw(server, "GET", "/todos?title=" + "a" * 200_000)
    if resp is not None:
        assert resp[0] in (400, 413, 414, 431), resp[:2]


def test_huge_header_is_refused_cleanly(server):
    resp = raw(server, "GET", "/todos", headers={"X-Big": "h" * 100_000})
    if resp is not None:
        assert resp[0] in (400, 413, 431), resp[:2]


# --- queries ---------------------------------------------------------------------


def test_too_many_in_values_is_refused_cleanly(server):
    qs = "&".join(["where%5Btags%5D%5B%24in%5D%5B%5D=v"] * 10_001)
    r = server.get("/todos?" + qs)
    assert r.status_code in (400, 414, 431), r.status_code


def test_sql_in_values_is_just_a_value(server):
    for value in ["x' OR '1'='1", 'x") OR 1=1 --', "%", "_", "*"]:
        r = server.get("/todos", params={"title": value})
        assert r.status_code == 200 and r.json() == [], value
        r = server.get("/todos", params={"where": json.dumps({"title": {"$gte": value}, "slug": value})})
        assert r.status_code == 200 and r.json() == [], value


# --- the raw target --------------------------------------------------------------


def assert_encoding_error(resp, code, where):
    """A bad percent-escape or invalid UTF-8: the documented code, and a message that
    says where the fault is."""
    err = json.loads(resp[2])["error"]
    assert err["code"] == code, err
    assert where in err["message"], err


def test_the_server_hands_the_app_the_target_undecoded(server):
    """The app decodes each path segment and the query itself (Target.swift), so that
    `%2F` stays inside its id and a bad escape is reported where it is; the in-process
    tests send raw targets, this checks that the server passes them on as they came."""
    resp = raw(server, "GET", "/todos/a%2Fb")
    assert_raw_error(resp, {400})
    assert json.loads(resp[2])["error"]["code"] == "invalid_id"
    resp = raw(server, "GET", "/todos/%FF")
    assert_raw_error(resp, {400})
    assert_encoding_error(resp, "bad_request", "the path")
    resp = raw(server, "GET", "/todos?title=%FF")
    assert_raw_error(resp, {400})
    assert_encoding_error(resp, "bad_request", "the query string")


def test_a_raw_nul_byte_in_the_target_is_400_not_the_cut_path(server, existing):
    """libmicrohttpd hands the target on as a C string: `GET /index.html\\0.php` served
    index.html, `/todos/ID\\0xyz` reached the app as `/todos/ID`. The server measures the
    target in the request line and refuses one cut short."""
    doc = f"/todos/{existing['id']}"
    for method, target in [("GET", doc + "\x00xyz"), ("DELETE", doc + "\x00.json"), ("GET", "/todos?title=target\x00x")]:
        resp = raw(server, method, target)
        assert_raw_error(resp, {400})
        assert "NUL" in json.loads(resp[2])["error"]["message"], resp[2]
    resp = raw(server, "PUT", doc + "\x00", body=b'{"title": "changed"}', headers=JSON_CT)
    assert_raw_error(resp, {400})


@pytest.mark.parametrize(
    "target",
    [
        # jQuery's $.param of {where: {tags: {$in: [...]}}}: 131 values, about 5 KB.
        "/todos?" + "&".join(f"where%5Btags%5D%5B%24in%5D%5B%5D=tag-{i:04d}" for i in range(130))
        + "&where%5Btags%5D%5B%24in%5D%5B%5D=a",
        "/healthz?" + "&".join(f"p{i}" for i in range(185)),
        "/healthz?" + "&".join(["p"] * 5000),  # 10 KB
    ],
    ids=["130-in-values", "185-parameters", "5000-parameters"],
)
def test_a_long_url_with_many_parameters_is_answered(server, existing, target):
    """libmicrohttpd 0.9.75 split the query into a table in its per-connection pool;
    past about 150 parameters the pool ran out and the client got no answer until the
    connection timeout (120 s). The app parses the query itself: served."""
    start = time.monotonic()
    resp = raw(server, "GET", target)
    assert resp is not None and resp[0] == 200, resp and resp[:2]
    assert time.monotonic() - start < 5
    if target.startswith("/todos"):
        assert [d["id"] for d in json.loads(resp[2])] == [existing["id"]]


# --- broken connections ----------------------------------------------------------


@pytest.mark.parametrize("garbage", [
    b"\x00\xff\xfe\xfd garbage\r\n\r\n",
    bytes(range(256)) * 16,
    b"GET\r\n\r\n",
    b"GET /todos HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /todos\r\n\r\n",
    b"\r\n\r\n\r\n",
    b"POST /todos HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
    b"POST /todos HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    b"POST /todos HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n",
    b"POST /todos HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    b"GET /todos HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n",
])
def test_garbage_on_a_raw_socket(server, garbage):
    data = server.raw(garbage, timeout=5, shutdown_write=True)
    if data:
        status, _, _ = parse_raw_response(data)
        assert 400 <= status < 500 or status == 505, data[:300]


@pytest.mark.parametrize("order", ["full-first", "short-first", "one-header"])
def test_conflicting_content_lengths_are_400(server, order):
    """RFC 9112 §6.3: differing Content-Length values make the framing invalid; the
    server must answer 400 and close (else: request smuggling behind a proxy)."""
    title = f"smuggled-{order}"
    body = json.dumps({"title": title}).encode()
    full, short = str(len(body)), "2"
    lengths = {"full-first": [full, short], "short-first": [short, full], "one-header": [f"{full}, {short}"]}[order]
    head = "POST /todos HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
    head += "".join(f"Content-Length: {v}\r\n" for v in lengths)
    data = server.raw(head.encode() + b"\r\n" + body, timeout=5, shutdown_write=True)
    # Leave the store as found, so that only this test reports the problem.
    stray = server.get("/todos", params={"title": title}).json()
    for d in stray:
        server.delete(f"/todos/{d['id']}")
    status = parse_raw_response(data)[0] if data else None
    assert not stray, f"a document was written from an ambiguous request (answer {status}): {stray}"
    if data:
        assert status == 400, data[:300]


@pytest.mark.parametrize("framing", ["length-and-chunked", "gzip-then-chunked"])
def test_ambiguous_transfer_encodings_are_400_and_write_nothing(server, framing):
    """RFC 9112 §6.1: Content-Length beside Transfer-Encoding may be refused, and must
    close the connection; a coding this server cannot decode is refused too, rather
    than read as a chunked body a proxy in front might frame otherwise."""
    title = f"smuggled-{framing}"
    body = json.dumps({"title": title}).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    framings = {"length-and-chunked": f"Content-Length: {len(body)}\r\nTransfer-Encoding: chunked\r\n",
                "gzip-then-chunked": "Transfer-Encoding: gzip, chunked\r\n"}
    head = "POST /todos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + framings[framing]
    data = server.raw(head.encode() + b"\r\n" + chunked, timeout=5, shutdown_write=True)
    stray = server.get("/todos", params={"title": title}).json()
    for d in stray:
        server.delete(f"/todos/{d['id']}")
    assert not stray, f"a document was written from an ambiguous request: {stray}"
    status, _, body = parse_raw_response(data)
    assert status == 400, data[:300]
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_plain_chunked_body_is_read(server):
    body = json.dumps({"title": "chunked-ok"}).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    head = b"POST /todos HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
    data = server.raw(head + b"Transfer-Encoding: Chunked\r\n\r\n" + chunked, timeout=5)
    status, _, answer = parse_raw_response(data)
    assert status == 201, data[:300]
    server.delete(f"/todos/{json.loads(answer)['id']}")


@pytest.mark.parametrize("hosts", [[], ["a.example", "b.example"]])
def test_http11_needs_exactly_one_host(server, hosts):
    """RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host or
    with more than one."""
    head = "GET /healthz HTTP/1.1\r\nConnection: close\r\n" + "".join(f"Host: {h}\r\n" for h in hosts)
    status, _, body = parse_raw_response(server.raw(head.encode() + b"\r\n", timeout=5))
    assert status == 400
    assert "Host" in json.loads(body)["error"]["message"]


def test_http10_without_host_is_served(server):
    status, _, _ = parse_raw_response(server.raw(b"GET /healthz HTTP/1.0\r\n\r\n", timeout=5))
    assert status == 200


@pytest.mark.parametrize("sent", [b'{"title":"', b'{"title":"complete"}'])
def test_connection_dropped_mid_body_writes_nothing(server, sent):
    head = (f"POST /todos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: 1000\r\n\r\n").encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(head + sent)
    time.sleep(0.1)
    s.close()
    time.sleep(0.3)


def test_connection_dropped_mid_put_body_changes_nothing(server, existing):
    head = (f"PUT /todos/{existing['id']} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: 1000\r\n\r\n").encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.sendall(head + b'{"title":"changed"}')
    s.close()
    time.sleep(0.3)


def test_many_abandoned_connections_do_not_wedge_the_server(server):
    socks = []
    for i in range(50):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"POST /todos HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        socks.append(s)
    assert requests.get(server.url + "/todos", params={"limit": "1"}, timeout=5).status_code == 200
    for s in socks:
        s.close()


def test_keep_alive_survives_an_error(server):
    """A bad request on a keep-alive connection does not break the next one."""
    s = requests.Session()
    assert s.post(server.url + "/todos", data=b"{", headers=JSON_CT).status_code == 400
    assert s.get(server.url + "/todos", params={"limit": "1"}).status_code == 200
    assert s.post(server.url + "/todos", data=b"[]", headers=JSON_CT).status_code == 400
    assert s.get(server.url + "/healthz").status_code == 200

