"""Two servers on one MongoDB database (only with BACKBONE_SSE_STORE=mongodb: one
SQLite file belongs to one server): they share the documents, the epoch and the
change log's sequence, so a cursor handed out by one resumes on the other."""

import pytest

from conftest import STORE
from sse_client import head_cursor, parse_cursor, subscribe

pytestmark = pytest.mark.skipif(STORE != "mongodb", reason="one SQLite file is one server's; MongoDB only")


def test_a_cursor_from_one_server_resumes_on_another(make_server):
    a = make_server()
    b = make_server(start=False)
    b.mongo_database = a.mongo_database
    b.start()
    first = [a.create(title=f"on a {i}") for i in range(3)]
    cursor = head_cursor(a)
    assert parse_cursor(head_cursor(b)) == parse_cursor(cursor)  # one epoch, one head
    later = [b.create(title="on b 0"), a.create(title="on a 3"), b.create(title="on b 1")]
    assert b.get(f"/todos/{first[0]['id']}").json() == first[0]
    assert a.get(f"/todos/{later[0]['id']}").json() == later[0]

    events = {}
    for name, srv in (("a", a), ("b", b)):
        stream, hello = subscribe(srv.port, f"/todos?since={cursor}")
        with stream:
            assert hello.id == cursor
            got = stream.take(3, timeout=10)
        assert [e.event for e in got] == ["create"] * 3, got
        assert [e.json["doc"] for e in got] == later
        events[name] = [(e.id, e.json["doc"]["id"]) for e in got]
    assert events["a"] == events["b"]  # the same changes under the same ids, in the same order
    seqs = [parse_cursor(i)[1] for i, _ in events["a"]]
    assert seqs == sorted(seqs) and seqs[0] > parse_cursor(cursor)[1]


def test_a_stream_on_one_server_gets_the_other_servers_writes_live(make_server):
    a = make_server()
    b = make_server(start=False)
    b.mongo_database = a.mongo_database
    b.start()
    stream, _ = subscribe(a.port, "/todos")
    with stream:
        written = [b.create(title="on b"), a.create(title="on a"), b.create(title="on b again")]
        got = stream.take(3, timeout=10)  # b's reach a by its poll of the log (0.5 s)
    assert [e.json["doc"] for e in got] == written
    seqs = [parse_cursor(e.id)[1] for e in got]
    assert seqs == sorted(seqs)
