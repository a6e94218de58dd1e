"""The request log line (issue 16): one line per request once it is over, with what an
operator needs to find it (request id, the route it matched, status, duration, client
address, the page's `X-Client-Id`), and `--log-format json` for log shippers: every
line one JSON object with its time to the millisecond. Credentials stay out of it in
either format."""

import json
import re
import time

from conftest import LISTEN_RE


def logged(srv, *needles, timeout=5.0):
    """The log once it holds every needle: a request's line is written when the request
    is over, just after its answer has gone out."""
    deadline = time.monotonic() + timeout
    while not all(n in srv.stderr() for n in needles):
        assert time.monotonic() < deadline, f"{needles} not logged:\n{srv.stderr_tail()}"
        time.sleep(0.02)
    return srv.stderr()


def test_json_lines_carry_the_request_fields_and_parse_one_by_one(make_server):
    srv = make_server("--log-format", "json")
    assert LISTEN_RE.search(srv.stderr())  # scripts still find the address
    created = srv.post("/todos", json={"title": "logged"}, headers={"X-Client-Id": "page-42"})
    request_id = created.headers["X-Request-Id"]
    srv.get("/todos/no-such-id")
    last = srv.get("/todos?ticket=bbst1.secret.mac&where[title]=x").headers["X-Request-Id"]
    lines = logged(srv, request_id, last).splitlines()
    records = [json.loads(line) for line in lines]  # every line, not only the requests
    for r in records:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"]), r
        assert r["level"] in ("trace", "debug", "info", "notice", "warning", "error", "critical")
    answered = [r for r in records if r["message"] == "request answered"]
    post = next(r for r in answered if r.get("request.id") == request_id)
    assert post["http.method"] == "POST" and post["http.route"] == "/{collection}" and post["http.status"] == 201
    assert isinstance(post["http.duration_us"], int) and post["http.duration_us"] > 0
    assert post["client.address"] == "127.0.0.1" and post["client.id"] == "page-42"
    missing = next(r for r in answered if r["http.target"] == "/todos/no-such-id")
    assert (missing["http.route"], missing["http.status"]) == ("/{collection}/{id}", 404)
    assert "secret" not in srv.stderr()
    assert any(r["http.target"].startswith("/todos?ticket=REDACTED") for r in answered)


def test_text_lines_carry_the_same_fields(make_server):
    srv = make_server()
    r = srv.get("/todos", headers={"X-Client-Id": "page-7"})
    line = next(line for line in logged(srv, r.headers["X-Request-Id"]).splitlines() if r.headers["X-Request-Id"] in line)
    for field in ("http.route=/{collection}", "http.status=200", "client.address=127.0.0.1", "client.id=page-7",
                  "http.method=GET", "http.duration_us="):
        assert field in line, line


def test_a_stream_s_line_carries_its_client_id_when_it_ends(make_server):
    """A stream lets go of its request's headers once it is under way (memory per idle
    stream): what its log line needs is kept."""
    import socket
    srv = make_server()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"GET /todos HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nX-Client-Id: page-stream-9\r\n\r\n")
    received = b""
    while b"event: hello" not in received:
        received += s.recv(4096)
    s.close()
    line = next(line for line in logged(srv, "client.id=page-stream-9").splitlines() if "page-stream-9" in line)
    assert "http.route=/{collection}" in line and "http.method=GET" in line, line
