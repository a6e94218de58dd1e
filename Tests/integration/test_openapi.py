"""openapi.yaml: a valid OpenAPI 3.1 document, listing exactly the server's routes,
served byte for byte at GET /openapi.yaml, and agreeing with what the server answers.

Self-contained: it starts its own server and uses no fixture of conftest.py.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO / "openapi.yaml"
BINARY = Path(os.environ.get("BACKBONE_SSE_BIN", REPO / ".build" / "debug" / "backbone-sse"))
CONFIG = REPO / "examples" / "todos" / "collections.yaml"

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "trace"}  # head and options ignored


def load_spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def require_binary():
    if not BINARY.is_file():
        pytest.fail(f"backbone-sse binary not found at {BINARY} (set BACKBONE_SSE_BIN)")


# --- (a) the document is valid -----------------------------------------------------


def test_openapi_yaml_is_valid_openapi_3_1():
    spec = load_spec()
    assert spec.get("openapi") == "3.1.0"
    validate(spec)  # raises on any violation of the OpenAPI 3.1 schema or bad $ref


# --- (b) the document lists exactly the route table --------------------------------


def routes_of_binary():
    require_binary()
    out = subprocess.run([str(BINARY), "routes"], capture_output=True, text=True, timeout=30, check=True).stdout
    routes = []
    for line in out.splitlines():
        if not line.strip():
            continue
        match = re.fullmatch(r"([A-Z]+) (/\S*)", line.strip())
        assert match, f"unexpected line in `backbone-sse routes`: {line!r}"
        routes.append((match.group(1), match.group(2)))
    assert len(routes) == len(set(routes)), f"duplicate routes: {routes}"
    return set(routes)


def operations_of_spec(spec):
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_openapi_operations_match_route_table():
    routes = routes_of_binary()
    operations = operations_of_spec(load_spec())
    assert routes, "`backbone-sse routes` printed nothing"
    assert operations == routes, (
        f"only in openapi.yaml: {sorted(operations - routes)}; only in the route table: {sorted(routes - operations)}"
    )


# --- a server of our own -------------------------------------------------------------


class Server:
    def __init__(self):
        require_binary()
        self.dir = tempfile.mkdtemp(prefix="bsse-openapi-")
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--config", str(CONFIG), "--host", "127.0.0.1", "--port", "0",
             "--store", f"sqlite:{self.dir}/app.sqlite"],
            stdout=subprocess.DEVNULL, stderr=self.log, cwd=self.dir)
        self.port = self._wait_for_port()

    def _wait_for_port(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = Path(self.log_path).read_text(errors="replace")
            match = re.search(r"listening on http://[^:\s]+:(\d+)", text)
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"backbone-sse did not start; stderr:\n{Path(self.log_path).read_text(errors='replace')}")

    def request(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        if isinstance(body, (dict, list)):
            req.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def openapi_server():
    server = Server()
    yield server
    server.stop()


# --- (c) GET /openapi.yaml serves the repository's file ------------------------------


def bundled_copy():
    """The resource bundle's openapi.yaml next to the binary, and what it points at."""
    bundle = BINARY.resolve().parent / "backbone-sse_BackboneSSE.resources" / "Resources" / "openapi.yaml"
    if bundle.is_symlink():
        return bundle, f"a symlink to {os.readlink(bundle)!r}, which {'resolves' if bundle.exists() else 'DANGLES'}"
    return bundle, "a file" if bundle.exists() else "missing"


def test_served_openapi_yaml_is_the_repository_file(openapi_server):
    status, headers, body = openapi_server.request("GET", "/openapi.yaml")
    expected = SPEC_PATH.read_bytes()
    if status == 404:
        bundle, what = bundled_copy()
        why = ""
        if "DANGLES" in what:
            why = (" SwiftPM's .copy(\"Resources\") copied the relative symlink"
                   " Sources/BackboneSSE/Resources/openapi.yaml -> ../../../openapi.yaml verbatim, so inside the"
                   " bundle it points at nothing; a rebuild alone will not fix this.")
        pytest.fail(
            f"GET /openapi.yaml is 404: the binary found no bundled openapi.yaml. The bundle's copy {bundle}"
            f" is {what}.{why} Body: {body[:200]!r}")
    assert status == 200, body[:300]
    assert headers.get("Content-Type", "").startswith("application/yaml")
    if body != expected:
        stale = BINARY.stat().st_mtime < SPEC_PATH.stat().st_mtime
        pytest.fail(
            "GET /openapi.yaml differs from the repository's openapi.yaml"
            + (" -- the binary is older than openapi.yaml: rebuild it (swift build)" if stale else ""))


# --- what the server answers agrees with the document --------------------------------


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def deref(spec, node):
    """Follows local `$ref`s (`#/components/...`) to the node they name."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def check_conforms(spec, method, template, status, headers, body):
    """The answer's status is documented for the operation, its JSON body matches the
    documented schema, and its documented required headers are present."""
    operation = spec["paths"][template][method.lower()]
    documented = operation["responses"]
    assert str(status) in documented, f"{method} {template} answered {status}, not among {sorted(documented)}: {body[:300]!r}"
    response = deref(spec, documented[str(status)])
    for name, header in (response.get("headers") or {}).items():
        if deref(spec, header).get("required"):
            assert headers.get(name) is not None, f"{method} {template} {status}: no {name} header"
    content = response.get("content")
    if not content:
        assert body == b"", f"{method} {template} {status}: undocumented body {body[:200]!r}"
        return
    if "application/json" in content:
        assert headers.get("Content-Type", "").startswith("application/json")
        schema = json.loads(json.dumps(content["application/json"]["schema"]).replace('"#/', '"urn:openapi#/'))
        registry = Registry().with_resource("urn:openapi", Resource.from_contents(spec, default_specification=DRAFT202012))
        errors = list(jsonschema.Draft202012Validator(schema, registry=registry).iter_errors(json.loads(body)))
        assert not errors, f"{method} {template} {status}: {[e.message for e in errors]} in {body[:300]!r}"


def test_answers_match_the_document(openapi_server, spec):
    s = openapi_server

    def do(method, path, template, body=None, headers=None, expect=None, operation=None):
        status, got_headers, got_body = s.request(method, path, body, headers)
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {got_body[:300]!r}"
        check_conforms(spec, operation or method, template, status, got_headers, got_body)

    do("GET", "/healthz", "/healthz", expect=200)
    do("GET", "/healthz?x=%zz", "/healthz", expect=400)
    do("GET", "/metrics", "/metrics", expect=200)
    do("POST", "/todos", "/{collection}", {"title": "Milk"}, expect=201)
    do("POST", "/todos", "/{collection}", {}, expect=422)
    do("POST", "/todos", "/{collection}", b"[1]", {"Content-Type": "application/json"}, expect=400)
    do("POST", "/todos", "/{collection}", b"x", {"Content-Type": "text/plain"}, expect=415)
    do("POST", "/todos", "/{collection}", {"title": "x"}, {"X-HTTP-Method-Override": "PUT"}, expect=405)
    do("POST", "/todos", "/{collection}", {"id": "oa-1", "title": "One"}, expect=201)
    do("POST", "/todos", "/{collection}", {"id": "oa-1", "title": "Again"}, expect=409)
    do("GET", "/todos", "/{collection}", expect=200)
    do("GET", "/todos?limit=1&skip=1&sort=-created", "/{collection}", expect=200)
    do("GET", "/todos?where=%7B%22done%22%3A%7B%22%24regex%22%3A1%7D%7D", "/{collection}", expect=400)
    do("GET", "/nope", "/{collection}", expect=404)
    do("GET", "/todos/oa-1", "/{collection}/{id}", expect=200)
    do("GET", "/todos/oa-1", "/{collection}/{id}", headers={"If-None-Match": '"1"'}, expect=304)
    do("GET", "/todos/.hidden", "/{collection}/{id}", expect=400)
    do("GET", "/todos/oa-missing", "/{collection}/{id}", expect=404)
    do("PUT", "/todos/oa-2", "/{collection}/{id}", {"title": "Two"}, expect=201)
    do("PUT", "/todos/oa-2", "/{collection}/{id}", {"title": "Two", "_v": 1}, expect=200)
    do("PUT", "/todos/oa-2", "/{collection}/{id}", {"title": "Two", "_v": 1}, expect=409)
    do("PUT", "/todos/oa-2", "/{collection}/{id}", {"title": "Two"}, {"If-Match": '"9"'}, expect=412)
    do("PATCH", "/todos/oa-2", "/{collection}/{id}", {"done": True}, expect=200)
    do("PATCH", "/todos/oa-2", "/{collection}/{id}", {"done": "no"}, expect=422)
    do("PATCH", "/todos/oa-missing", "/{collection}/{id}", {"done": True}, expect=404)
    do("DELETE", "/todos/oa-2", "/{collection}/{id}", expect=200)
    # Backbone.emulateHTTP and emulateJSON: a POST standing for another method.
    do("POST", "/todos/oa-1", "/{collection}/{id}", {"done": True}, {"X-HTTP-Method-Override": "PATCH"},
       expect=200, operation="PATCH")
    form = b"model=%7B%22done%22%3Afalse%7D&_method=PATCH"
    do("POST", "/todos/oa-1", "/{collection}/{id}", form, {"Content-Type": "application/x-www-form-urlencoded"},
       expect=200, operation="PATCH")
    do("POST", "/todos/oa-1", "/{collection}/{id}", b"_method=DELETE",
       {"Content-Type": "application/x-www-form-urlencoded"}, expect=200, operation="DELETE")
    do("DELETE", "/todos/oa-2", "/{collection}/{id}", expect=404)
