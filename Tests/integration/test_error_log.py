"""A 5xx tells the client nothing of its cause, so the log must: once per failed
request, at error level, with the request's method and route, and the request id that
the answer carries (X-Request-Id)."""

import sqlite3

from conftest import assert_error, sqlite_only


def error_lines(srv):
    return [line for line in srv.stderr().splitlines() if " error " in line and "http.route=" in line]


@sqlite_only("drops a table from the store's file behind the server's back")
def test_a_500_logs_its_cause_once_with_method_and_route(make_server):
    srv = make_server()
    created = srv.create(title="before")
    db = sqlite3.connect(srv.db_path)
    table = next(name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") if "todos" in name)
    db.execute(f'DROP TABLE "{table}"')
    db.commit()
    db.close()

    read_answer = srv.get(f"/todos/{created['id']}")
    err = assert_error(read_answer, 500, "internal_error")
    assert "no such table" not in err["message"]  # nothing internal reaches the client
    write_answer = srv.post("/todos", json={"title": "after"})
    assert_error(write_answer, 500, "internal_error")

    lines = error_lines(srv)
    assert len(lines) == 2, srv.stderr_tail()
    read, write = lines
    assert "http.method=GET" in read and "http.route=/{collection}/{id}" in read and "no such table" in read, read
    assert "http.method=POST" in write and "http.route=/{collection}" in write and "no such table" in write, write
    assert f"request.id={read_answer.headers['X-Request-Id']} " in read, read
    assert f"request.id={write_answer.headers['X-Request-Id']} " in write, write
