"""The README's walk-through, run as a newcomer would paste it (issue 17): its first
shell block under "A walk through with curl", against a fresh server on the example
app's config (`make run`'s), with only the address changed. Every request it makes must
be answered as its comments say: no 404 for an id that was never there, filters that
find what the walk-through created, one 422 where it shows one."""

import os
import re
import subprocess
import time

from conftest import REPO

README = os.path.join(REPO, "README.md")
EXAMPLE_CONFIG = os.path.join(REPO, "examples", "todos", "collections.yaml")


def first_block(section):
    """The first shell block under a README heading."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return re.search(r"```sh\n(.*?)```", text.split(section, 1)[1], re.S).group(1)


def walk_through():
    return first_block("## A walk through with curl")


# A stream never ends by itself: `curl -N` is given two seconds of it (the README's
# lines stay as written).
BOUNDED_STREAMS = """curl() {
  if [[ " $* " == *" -N "* ]]; then timeout 2 "$(type -P curl)" "$@" || true; return 0; fi
  command curl "$@"
}
"""


def test_the_walk_through_runs_as_written(make_server):
    with open(EXAMPLE_CONFIG, encoding="utf-8") as f:
        srv = make_server(config_text=f.read())
    script = walk_through()
    assert "B=http://127.0.0.1:8080\n" in script
    script = script.replace("B=http://127.0.0.1:8080\n", f"B={srv.url}\n", 1)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    # A request's log line is written once it is over, just after its answer: the last
    # one (the 422) may still be on its way.
    deadline = time.monotonic() + 5
    while "http.status=422" not in srv.stderr() and time.monotonic() < deadline:
        time.sleep(0.02)
    statuses = [int(m) for m in re.findall(r"http\.status=(\d+) http\.target=/todos", srv.stderr())]
    assert statuses and set(statuses) <= {200, 201, 422}, statuses
    assert statuses.count(422) == 1
    # The list and both filters found Milk; skip=1 found Bread; the replace took.
    assert out.count('"title":"Milk"') >= 4, out
    assert '"title":"Bread"' in out and '"title":"Rye bread"' in out, out
    assert '"code":"validation_failed"' in out


def test_the_stream_examples_run_after_the_walk_through(make_server):
    with open(EXAMPLE_CONFIG, encoding="utf-8") as f:
        srv = make_server(config_text=f.read())
    script = walk_through().replace("B=http://127.0.0.1:8080\n", f"B={srv.url}\n", 1)
    script += BOUNDED_STREAMS + first_block("## Live streams (Server-Sent Events)")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr + done.stdout
    # Four streams opened (all, filtered, one document, resumed), each said hello.
    assert done.stdout.count("event: hello") == 4, done.stdout[-2000:]
    resumed = done.stdout.rsplit("event: hello", 1)[1]
    assert '"cursor"' in resumed or "id: " in resumed, resumed[:500]
    assert "event: reset" not in done.stdout  # the cursor the README takes is a good one
