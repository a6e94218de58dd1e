"""A 5xx tells the client nothing of its cause, so the log must: once per failed
request, at error level, with the request's method and route."""

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

    err = assert_error(srv.get(f"/todos/{created['id']}"), 500, "internal_error")
    assert "no such table" not in err["message"]  # nothing internal reaches the client
    assert_error(srv.post("/todos", json={"title": "after"}), 500, "internal_error")

    lines = error_lines(srv)
    assert len(lines) == 2, srv.stderr_tail()
    read, write = lines
    assert "http.method=GET" in read and "http.route=/{collection}/{id}" in read and "no such table" in read, read
    assert "http.method=POST" in write and "http.route=/{collection}" in write and "no such table" in write, write
