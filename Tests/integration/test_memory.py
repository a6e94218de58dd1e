"""What keeps an idle server and an idle stream small (issue 18), checked for the
behaviour a user relies on; the figures themselves are `make bench`'s."""

import re
import socket
import time


def test_start_up_pages_are_given_back_and_requests_still_run(make_server):
    """Once listening, the server gives back the executable's pages that only starting
    touched (MADV_PAGEOUT); the code a request needs comes back on first use."""
    srv = make_server("--log-level", "debug")
    deadline = time.monotonic() + 5
    while not (m := re.search(r"bytes=(\d+) .*start-up pages of the executable given back", srv.stderr())):
        assert time.monotonic() < deadline, srv.stderr_tail()
        time.sleep(0.02)
    assert int(m.group(1)) > 1 << 20, m.group(0)  # the text of the binary, megabytes of it
    created = srv.post("/todos", json={"title": "after the page-out"})
    assert created.status_code == 201, created.text
    assert srv.get(f"/todos/{created.json()['id']}").json() == created.json()


def test_an_http_1_0_stream_carries_events_larger_than_its_copy_block(server):
    """Over HTTP/1.0 (no chunked encoding) libmicrohttpd copies a stream through the
    response's own block, 512 bytes: an event of several kilobytes arrives whole."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall(b"GET /lists HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n")
        received = b""
        while b"event: hello" not in received:
            received += s.recv(65536)
        blob = "x" * 6000
        created = server.post("/lists", json={"name": "large", "blob": blob})
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 10
        while created.json()["id"].encode() not in received or not received.endswith(b"\n\n"):
            assert time.monotonic() < deadline, received[-300:]
            received += s.recv(65536)
    finally:
        s.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0], head
    assert b"Transfer-Encoding: chunked" not in head, head
    event = body[body.index(b"event: create"):]
    assert blob.encode() in event, event[:200]


def test_without_a_document_cache_reads_follow_writes(make_server):
    """`--document-cache 0` keeps no document: every read goes to the store."""
    srv = make_server("--document-cache", "0")
    created = srv.post("/todos", json={"title": "one"}).json()
    assert srv.get(f"/todos/{created['id']}").json()["title"] == "one"
    changed = srv.put(f"/todos/{created['id']}", json={**created, "title": "two"})
    assert changed.status_code == 200, changed.text
    assert srv.get(f"/todos/{created['id']}").json()["title"] == "two"


def test_with_a_document_cache_reads_follow_writes(server):
    """The cached document goes with the commit that changes it, before the answer."""
    created = server.post("/todos", json={"title": "first"}).json()
    for i in range(20):
        assert server.get(f"/todos/{created['id']}").json()["_v"] == i + 1
        current = server.put(f"/todos/{created['id']}", json={"title": f"v{i + 2}", "_v": i + 1})
        assert current.status_code == 200, current.text
    assert server.get(f"/todos/{created['id']}").json()["title"] == "v21"
    server.delete(f"/todos/{created['id']}")
    assert server.get(f"/todos/{created['id']}").status_code == 404
