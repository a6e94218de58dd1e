"""`backbone-sse --version` and `version` (issue 16): the release and the C libraries it
runs with, so that a bug report can say exactly what ran; the MongoDB sibling's
libmongoc included, though `backbone-sse` itself does not link it."""

import os
import re
import subprocess

import pytest

from conftest import BIN

SIBLING = os.path.join(os.path.dirname(BIN), "backbone-sse-mongodb")


@pytest.mark.parametrize("binary", [BIN, SIBLING])
@pytest.mark.parametrize("args", [["--version"], ["version"]])
def test_the_version_names_the_release_and_every_linked_library(binary, args):
    p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert re.fullmatch(r"backbone-sse \d+\.\d+\.\d+", lines[0]), p.stdout
    for library in ("libmicrohttpd", "SQLite", "libmongoc", "hiredis"):
        assert any(re.fullmatch(re.escape(library) + r" \d+\.\d+\.\d+", line) for line in lines), p.stdout
    # The one version everywhere: the served spec says the same.
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "openapi.yaml")) as f:
        assert f"\n  version: {lines[0].split()[1]}\n" in f.read()


def test_check_reads_a_config_as_serve_would(tmp_path):
    """`check --config`: exit 0 naming the collections, or 2 naming the key at fault,
    without starting anything; `routes --config` lists each collection's own paths."""
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "todos", "collections.yaml")
    ok = subprocess.run([BIN, "check", "--config", example], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and "ok: todos" in ok.stdout, ok.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("collections:\n  todos: {schema: {type: array}}\n")
    refused = subprocess.run([BIN, "check", "--config", str(bad)], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "collections.todos.schema.type" in refused.stderr, refused.stderr
    routes = subprocess.run([BIN, "routes", "--config", example], capture_output=True, text=True, timeout=30).stdout
    assert "GET /todos/{id}" in routes.splitlines() and "GET /{collection}" not in routes
