"""A schema made stricter across a restart or a SIGHUP (issue 16): the stored documents
it would refuse are counted and reported as a warning at once, so that an operator
learns of them before a user's first 422 on a PATCH."""

import signal
import time

from conftest import CONFIG_YAML

STRICTER = CONFIG_YAML.replace("required: [title]", "required: [title, priority]")


def wait_for(srv, text, timeout=10):
    deadline = time.monotonic() + timeout
    while text not in srv.stderr():
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{srv.stderr_tail()}"
        time.sleep(0.05)
    return next(line for line in srv.stderr().splitlines() if text in line)


def test_documents_a_stricter_schema_refuses_are_reported_at_start_and_on_reload(make_server):
    assert STRICTER != CONFIG_YAML
    srv = make_server()
    assert "schema refuses" not in srv.stderr()
    for i in range(5):
        srv.create(title=f"t{i}", **({"priority": i} if i < 2 else {}))
    srv.stop()
    with open(srv.config_path, "w") as f:
        f.write(STRICTER)
    srv.start()
    line = wait_for(srv, "stored documents the collection's schema refuses")
    assert "collection=todos" in line and "refused=3" in line and "examined=5" in line, line
    assert "priority" in line  # the example says what is missing

    # Back to the loose schema, then stricter again by SIGHUP: the same count.
    with open(srv.config_path, "w") as f:
        f.write(CONFIG_YAML)
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(srv, "config reloaded")
    before = srv.stderr().count("schema refuses")
    with open(srv.config_path, "w") as f:
        f.write(STRICTER)
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while srv.stderr().count("schema refuses") == before:
        assert time.monotonic() < deadline, srv.stderr_tail()
        time.sleep(0.05)
    last = [line for line in srv.stderr().splitlines() if "schema refuses" in line][-1]
    assert "collection=todos" in last and "refused=3" in last, last
