"""openapi.yaml: a valid OpenAPI 3.1 document, listing exactly the server's routes, and
agreeing with what the server answers, event streams (text/event-stream) included. What
GET /openapi.yaml serves is generated from it and the server's config: valid too, with
the generic paths kept and a path pair and schemas per configured collection, and
complete enough that a client generated from it (openapi-python-client) keeps every
operation.

Self-contained: it starts its own server and uses no fixture of conftest.py.
"""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
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
    assert ("GET", "/events") in routes, f"the route table has no GET /events: {sorted(routes)}"
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

    def stream(self, path, headers=None, until=lambda frames: False, read_timeout=2.0, total=10.0):
        """Opens `path` as an event stream (`Accept: text/event-stream`) and reads frames
        until `until(frames)` holds, the server ends the stream, a read waits longer
        than `read_timeout`, or `total` seconds pass; then hangs up.
        Returns (status, headers, frames, body): frames (a list of {field: value}
        dicts, in order) for a 200 text/event-stream answer, else the body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=read_timeout)
        try:
            conn.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
            resp = conn.getresponse()
            if resp.status != 200 or not resp.headers.get("Content-Type", "").startswith("text/event-stream"):
                return resp.status, resp.headers, None, resp.read()
            buffer, frames = b"", []
            deadline = time.monotonic() + total
            while time.monotonic() < deadline and not until(frames):
                try:
                    chunk = resp.read1(65536)
                except (socket.timeout, TimeoutError):
                    break
                if not chunk:
                    break
                buffer += chunk
                *complete, buffer = buffer.split(b"\n\n")
                frames.extend(parse_sse_frame(frame) for frame in complete)
            return resp.status, resp.headers, frames, buffer
        finally:
            conn.close()

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


def parse_sse_frame(frame):
    """One text/event-stream frame (the lines before a blank line) as {field: value}.
    The server writes each field at most once (data is one line of JSON)."""
    fields = {}
    for line in frame.decode("utf-8").split("\n"):
        assert line and not line.startswith(":"), f"unexpected line {line!r} in frame {frame!r}"
        name, _, value = line.partition(":")
        assert name not in fields, f"field {name!r} twice in frame {frame!r}"
        fields[name] = value[1:] if value.startswith(" ") else value
    return fields


@pytest.fixture(scope="module")
def openapi_server():
    server = Server()
    yield server
    server.stop()


# --- (c) GET /openapi.yaml serves the document generated from the config -----------

GENERIC_PATHS = ("/{collection}", "/{collection}/{id}")


def bundled_copy():
    """The resource bundle's openapi.yaml next to the binary, and what it points at."""
    bundle = BINARY.resolve().parent / "backbone-sse_BackboneSSE.resources" / "Resources" / "openapi.yaml"
    if bundle.is_symlink():
        return bundle, f"a symlink to {os.readlink(bundle)!r}, which {'resolves' if bundle.exists() else 'DANGLES'}"
    return bundle, "a file" if bundle.exists() else "missing"


@pytest.fixture(scope="module")
def served(openapi_server):
    """The served document's bytes."""
    status, headers, body = openapi_server.request("GET", "/openapi.yaml")
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
    return body


def test_served_openapi_yaml_is_generated_from_the_config(served):
    spec, generic = yaml.safe_load(served), load_spec()
    validate(spec)
    assert spec["info"]["version"] == generic["info"]["version"]
    with open(CONFIG, encoding="utf-8") as f:
        collections = yaml.safe_load(f)["collections"]
    # The generic paths are kept as they are; each collection has the generic pair's.
    kept = {path: item for path, item in generic["paths"].items() if path not in GENERIC_PATHS}
    own = {f"/{name}{suffix}" for name in collections for suffix in ("", "/{id}")}
    assert set(spec["paths"]) == set(kept) | own, sorted(spec["paths"])
    for path, item in kept.items():
        assert spec["paths"][path] == item, path
    for name in collections:
        for template, path in zip(GENERIC_PATHS, (f"/{name}", f"/{name}/{{id}}")):
            assert set(spec["paths"][path]) - {"parameters"} == set(generic["paths"][template]) - {"parameters"}, path
            for method, operation in spec["paths"][path].items():
                if method in HTTP_METHODS:
                    assert operation["tags"] == [name]
                    assert set(operation["responses"]) == set(generic["paths"][template][method]["responses"])
    # The collection's schema is its component, with the server's fields.
    stored = spec["components"]["schemas"]["TodosDocument"]
    configured = collections["todos"]["schema"]
    for field, schema in configured["properties"].items():
        assert stored["properties"][field] == schema, field
    assert {"id", "_v", "created", "updated"} <= set(stored["properties"])
    assert set(stored["required"]) == {"id", "_v", *configured["required"]}
    assert "required" not in spec["components"]["schemas"]["TodosPatch"]
    assert spec["components"]["parameters"]["collections"]["schema"]["items"]["enum"] == list(collections)


def test_served_operations_are_the_route_table_for_each_collection(served):
    with open(CONFIG, encoding="utf-8") as f:
        names = list(yaml.safe_load(f)["collections"])
    expected = set()
    for method, path in routes_of_binary():
        if path.startswith(GENERIC_PATHS[0]):
            expected |= {(method, path.replace("{collection}", name)) for name in names}
        else:
            expected.add((method, path))
    assert operations_of_spec(yaml.safe_load(served)) == expected


def test_a_generated_client_keeps_every_operation(served, tmp_path):
    """openapi-python-client drops an operation it cannot describe (a parameter given
    with `content`, an array without `items`): every one must come through, one module
    with `sync_detailed` per operation."""
    (tmp_path / "openapi.yaml").write_bytes(served)
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")  # no ruff run over the output
    out = tmp_path / "client"
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", "openapi.yaml", "--config", "config.yaml",
         "--meta", "none", "--output-path", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    modules = [m for m in (out / "api").rglob("*.py") if m.name != "__init__.py"]
    operations = operations_of_spec(yaml.safe_load(served))
    assert all("def sync_detailed(" in m.read_text() for m in modules)
    assert len(modules) == len(operations), (
        f"{len(modules)} endpoint modules for {len(operations)} operations: "
        f"{sorted(m.relative_to(out).as_posix() for m in modules)}\n{done.stdout}")
    assert {m.parent.name for m in modules} >= {"todos", "system", "streams"}


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


def validator(spec, schema):
    """A JSON Schema 2020-12 validator for `schema`, whose `#/...` refs name parts of the spec."""
    schema = json.loads(json.dumps(schema).replace('"#/', '"urn:openapi#/'))
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(spec, default_specification=DRAFT202012))
    return jsonschema.Draft202012Validator(schema, registry=registry)


def schema_errors(spec, schema, instance):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(spec, schema).iter_errors(instance)]


def media_type(headers):
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


def documented_response(spec, method, template, status, body=b""):
    operation = spec["paths"][template][method.lower()]
    documented = operation["responses"]
    assert str(status) in documented, f"{method} {template} answered {status}, not among {sorted(documented)}: {body[:300]!r}"
    return deref(spec, documented[str(status)])


def check_headers(spec, method, template, status, response, headers, media):
    """Every documented header that is required -- always, or (`x-required-for-content`)
    with the answer's media type -- is present; every documented header present has a
    value its schema allows."""
    for name, header in (response.get("headers") or {}).items():
        header = deref(spec, header)
        value = headers.get(name)
        if header.get("required") or header.get("x-required-for-content") == media:
            assert value is not None, f"{method} {template} {status} ({media or 'no body'}): no {name} header"
        if value is not None and "schema" in header:
            schema = deref(spec, header["schema"])
            instance = int(value) if schema.get("type") == "integer" and value.isdigit() else value
            errors = schema_errors(spec, header["schema"], instance)
            assert not errors, f"{method} {template} {status}: header {name}: {value!r}: {errors}"


def check_conforms(spec, method, template, status, headers, body):
    """The answer's status is documented for the operation, its media type is one the
    response documents, its JSON body matches the documented schema, and its documented
    headers are present when required (for its media type) and valid when present."""
    response = documented_response(spec, method, template, status, body)
    content = response.get("content")
    media = media_type(headers) if content else None
    check_headers(spec, method, template, status, response, headers, media)
    if not content:
        assert body == b"", f"{method} {template} {status}: undocumented body {body[:200]!r}"
        return
    assert media in content, f"{method} {template} {status}: Content-Type {headers.get('Content-Type')!r}, documented: {sorted(content)}"
    if media == "application/json":
        errors = schema_errors(spec, content[media]["schema"], json.loads(body))
        assert not errors, f"{method} {template} {status}: {errors} in {body[:300]!r}"


def check_stream_conforms(spec, template, status, headers, frames):
    """A 200 text/event-stream answer: documented (media type, headers), opening with a
    `retry:` frame and a `hello` event whose data is a StreamHello, every complete event
    a StreamEvent. Returns the hello's data and the frames after the opening two."""
    assert status == 200, f"GET {template} as a stream: {status}"
    response = documented_response(spec, "GET", template, status)
    media = media_type(headers)
    assert media == "text/event-stream", f"GET {template} stream: Content-Type {headers.get('Content-Type')!r}"
    assert media in (response.get("content") or {}), f"GET {template} 200 documents no {media}"
    check_headers(spec, "GET", template, status, response, headers, media)
    assert len(frames) >= 2, f"GET {template} stream: too few frames {frames!r}"
    retry, hello, events = frames[0], frames[1], frames[2:]
    assert set(retry) == {"retry"} and retry["retry"].isdigit(), f"first frame is not `retry: <ms>`: {retry!r}"
    assert 2000 <= int(retry["retry"]) < 4000, retry
    assert hello.get("event") == "hello", f"second frame is not the hello event: {hello!r}"
    hello_data = json.loads(hello["data"])
    errors = schema_errors(spec, {"$ref": "#/components/schemas/StreamHello"}, hello_data)
    assert not errors, f"hello data {hello['data']!r}: {errors}"
    assert hello.get("id") == hello_data["cursor"], f"hello id is not its cursor: {hello!r}"
    for frame in [hello] + events:
        assert set(frame) <= {"id", "event", "data"}, f"unexpected fields in {frame!r}"
        event = {**frame, "data": json.loads(frame["data"])}
        errors = schema_errors(spec, {"$ref": "#/components/schemas/StreamEvent"}, event)
        assert not errors, f"event {frame!r}: {errors}"
    return hello_data, events


def test_answers_match_the_document(openapi_server, spec):
    s = openapi_server

    def do(method, path, template, body=None, headers=None, expect=None, operation=None):
        status, got_headers, got_body = s.request(method, path, body, headers)
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {got_body[:300]!r}"
        check_conforms(spec, operation or method, template, status, got_headers, got_body)
        return got_headers

    start = do("GET", "/todos", "/{collection}", expect=200)["X-Stream-Cursor"]  # before any write
    do("GET", "/healthz", "/healthz", expect=200)
    do("GET", "/healthz?x=%zz", "/healthz", expect=400)
    do("GET", "/metrics", "/metrics", expect=200)
    do("GET", "/backbone-sse.js", "/backbone-sse.js", expect=200)
    do("POST", "/todos", "/{collection}", {"title": "Milk"}, expect=201)
    do("POST", "/todos", "/{collection}", {}, expect=422)
    do("POST", "/todos", "/{collection}", b"[1]", {"Content-Type": "application/json"}, expect=400)
    do("POST", "/todos", "/{collection}", b"x", {"Content-Type": "text/plain"}, expect=415)
    do("POST", "/todos", "/{collection}", {"title": "x"}, {"X-HTTP-Method-Override": "PUT"}, expect=405)
    do("POST", "/todos", "/{collection}", {"id": "oa-1", "title": "One"}, {"X-Client-Id": "oa-tab"}, expect=201)
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

    # Streams: the errors, as JSON...
    stream = {"Accept": "text/event-stream"}
    do("GET", "/events", "/events", expect=400)
    do("GET", "/events?collections=todos,nope", "/events", expect=404)
    do("GET", "/events?collections=todos&since=not-a-cursor", "/events", expect=400)
    do("GET", "/todos?since=not-a-cursor", "/{collection}", headers=stream, expect=400)
    do("GET", "/nope", "/{collection}", headers=stream, expect=404)
    # ...and one stream: resumed from before the first write, it replays every change
    # of this test (up to the head, the list's cursor now), after `retry:` and `hello`.
    head = do("GET", "/todos", "/{collection}", expect=200)["X-Stream-Cursor"]
    status, headers, frames, rest = s.stream(
        f"/todos?since={start}", until=lambda frames: any(f.get("id") == head for f in frames[2:]))
    assert frames is not None, f"GET /todos as a stream: {status} {headers.get('Content-Type')!r} {rest[:300]!r}"
    hello, events = check_stream_conforms(spec, "/{collection}", status, headers, frames)
    assert hello["cursor"] == start, hello
    ids = [e["id"] for e in events if "id" in e]
    assert ids and ids[-1] == head, f"the replay did not reach the head {head}: {frames!r}"
    assert [int(i.rsplit("-", 1)[1]) for i in ids] == sorted({int(i.rsplit("-", 1)[1]) for i in ids}), ids
    created = [json.loads(e["data"]) for e in events if e.get("event") == "create"]
    assert {"collection": "todos", "id": "oa-1", "origin": "oa-tab"}.items() <= next(
        (d for d in created if d["id"] == "oa-1"), {}).items(), created
