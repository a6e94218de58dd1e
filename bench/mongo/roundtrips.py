#!/usr/bin/env python3
"""MongoDB round trips per request (`make bench`, issue 5).

Against the MongoDB *test double* (Tests/mongo: mockupdb + mongomock, in memory), a
speed figure would be the double's, not BackboneSSE's; what is measured instead is how
many MongoDB commands each REST request costs, read from the server's own counters in
/metrics (`backbone_sse_store_commands_total` and one counter per command name) before
and after each request. Every request is repeated; the table gives the median and the
range. With MONGODB_URI set, the same runs against that server.

    bench/mongo/roundtrips.py [--server .build/release/backbone-sse] [--repeat 20]

Writes the table to stdout and to bench/out/mongo-roundtrips.txt.
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Tests", "support"))
from backbone_server import MongoDouble  # noqa: E402

COMMANDS = ["find", "getMore", "insert", "update", "delete", "count"]
METRIC_RE = re.compile(r"^backbone_sse_store_command(?:s|_(\w+))_total (\d+)$", re.M)


def counters(url):
    text = requests.get(url + "/metrics", timeout=10).text
    out = {}
    for name, value in METRIC_RE.findall(text):
        out[name or "total"] = int(value)
    return out


def measure(url, request):
    """Commands the request cost: (total, {command: n}). /metrics itself costs none."""
    before = counters(url)
    request()
    after = counters(url)
    by_name = {k: after.get(k, 0) - before.get(k, 0) for k in after if k != "total"}
    return after["total"] - before["total"], {k: v for k, v in by_name.items() if v}


def start_server(binary, store, work):
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary, "serve", "--config", os.path.join(HERE, "todos.yaml"), "--port", "0",
                             "--store", store, "--log-level", "notice",
                             # No periodic read of the log for other servers' changes: only
                             # the requests' own commands are counted.
                             "--mongo-poll", "0"], stdout=log, stderr=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(log_path, errors="replace") as f:
            m = re.search(r"listening on http://[0-9.]+:(\d+)", f.read())
        if m:
            return proc, f"http://127.0.0.1:{m.group(1)}"
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    with open(log_path, errors="replace") as f:
        raise SystemExit(f"backbone-sse did not start:\n{f.read()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("BENCH_SERVER", os.path.join(REPO, ".build", "release", "backbone-sse")))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_MONGO_REPEAT", "20")))
    args = parser.parse_args()
    if not os.access(args.server, os.X_OK):
        raise SystemExit(f"no server binary at {args.server} (swift build -c release, or make bench)")

    work = tempfile.mkdtemp(prefix="bench-mongo-")
    double = None
    real = os.environ.get("MONGODB_URI")
    if real:
        target, kind = real.rstrip("/"), "MONGODB_URI"
    else:
        double = MongoDouble(work)
        target, kind = double.uri, "the MongoDB test double (Tests/mongo)"
    database = f"bench_roundtrips_{os.getpid()}"
    if "?" in target:  # options go after the database
        base, options = target.split("?", 1)
        store = f"{base.rstrip('/')}/{database}?{options}"
    else:
        store = f"{target}/{database}"
    try:
        proc, url = start_server(args.server, store, work)
    except BaseException:
        if double is not None:
            double.stop()
        raise
    s = requests.Session()
    results = {}
    try:
        def post(body):
            r = s.post(url + "/todos", json=body, timeout=30)
            assert r.status_code == 201, r.text
            return r.json()

        def record(name, request):
            results.setdefault(name, []).append(measure(url, request))

        for i in range(20):  # exactly 20 documents: a list of 20 is the whole collection
            post({"title": f"seed {i}", "priority": i})
        for i in range(args.repeat):
            record("GET /todos?limit=20 (20 documents: the whole list)", lambda: s.get(url + "/todos?limit=20", timeout=30))
        docs = []
        for i in range(args.repeat):
            record("POST /todos (create)", lambda: docs.append(post({"title": f"bench {len(docs)}"})))
        def ok(r, check=lambda r: True):
            assert r.status_code == 200 and check(r), r.text

        for name, call in [
            ("PUT /todos/{id} (replace, with _v)",
             lambda d: s.put(f"{url}/todos/{d['id']}", json={"title": d["title"] + "!", "_v": d["_v"]}, timeout=30)),
            ("PATCH /todos/{id}", lambda d: s.patch(f"{url}/todos/{d['id']}", json={"done": True}, timeout=30)),
            ("GET /todos/{id} (read)", lambda d: s.get(f"{url}/todos/{d['id']}", timeout=30)),
        ]:
            for d in docs:
                record(name, lambda d=d, call=call: ok(call(d)))
        for i in range(args.repeat):
            record("GET /todos?limit=20 (a page of 20 of more: + count)",
                   lambda: ok(s.get(url + "/todos?limit=20", timeout=30), lambda r: len(r.json()) == 20))
        for d in docs:
            record("DELETE /todos/{id}", lambda d=d: ok(s.delete(f"{url}/todos/{d['id']}", timeout=30)))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if double is not None:
            double.stop()

    lines = [f"MongoDB commands per request, against {kind}; {args.repeat} of each, server {args.server}", ""]
    lines.append(f"{'request':<56} {'median':>6} {'range':>7}  commands (median request)")
    for name, samples in results.items():
        totals = [t for t, _ in samples]
        median = statistics.median(totals)
        typical = next(by for t, by in samples if t == sorted(totals)[len(totals) // 2])
        spread = f"{min(totals)}-{max(totals)}" if min(totals) != max(totals) else f"{min(totals)}"
        detail = ", ".join(f"{k} {v}" for k, v in sorted(typical.items(), key=lambda kv: COMMANDS.index(kv[0]) if kv[0] in COMMANDS else 99))
        lines.append(f"{name:<56} {median:>6g} {spread:>7}  {detail}")
    get_mores = sum(by.get("getMore", 0) for samples in results.values() for _, by in samples)
    lines += ["", f"getMore commands over all {sum(len(v) for v in results.values())} requests: {get_mores}"]
    lines += ["", "A list is one find (no getMore) after one find on the change log (its head, the stream",
              "cursor); a truncated page adds a count for X-Total-Count. A write: find the document,",
              "claim a change-log entry (insert), write the document on its _v (insert/update/delete),",
              "mark the entry done (update). Change-log heads are finds on _changes."]
    text = "\n".join(lines)
    print(text)
    out = os.path.join(REPO, "bench", "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "mongo-roundtrips.txt"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
