"""One server per SQLite file (issue 16): a second server on the same file would never
see the first one's writes on its streams, and both would hand out the same sequence
numbers. It is refused at start, with the file and the other process named; the lock
goes with the process however it ends, so a server killed with -9 leaves nothing in
the way of the next one."""

import subprocess

from conftest import BIN, sqlite_only

pytestmark = sqlite_only("the lock is the SQLite file's: MongoDB stores take many servers")


def second_server(srv, store):
    return subprocess.run([BIN, "serve", "--config", srv.config_path, "--port", "0", "--store", store],
                          capture_output=True, text=True, timeout=30, cwd=srv.work_dir)


def test_a_second_server_on_the_same_file_exits_2_naming_the_file_and_the_first(make_server):
    srv = make_server()
    srv.create(title="written by the first")
    # The same file, spelt another way: the lock is the file's, not the spelling's.
    for store in (srv.store, "sqlite:" + srv.db_path.replace("/", "/./", 1)):
        p = second_server(srv, store)
        assert p.returncode == 2, p.stderr
        assert f"pid {srv.proc.pid}" in p.stderr, p.stderr
        assert "one server per SQLite file" in p.stderr and store[len("sqlite:"):] in p.stderr, p.stderr
        assert "listening" not in p.stderr
    # The first one serves on, undisturbed.
    assert [d["title"] for d in srv.get("/todos").json()] == ["written by the first"]


def test_the_lock_goes_with_a_killed_server(make_server):
    srv = make_server()
    srv.create(title="before the kill")
    srv.kill()
    srv.start()
    assert [d["title"] for d in srv.get("/todos").json()] == ["before the kill"]
