#!/usr/bin/env python3
"""Slow lists beside fast requests: what a list too slow for a server thread costs the
other connections of that thread (`--list-budget`, docs/architecture.md#concurrency).

Imports DOCS documents (titles in no order) into a fresh SQLite store, then for each
turn starts `backbone-sse serve` (BACKBONE_SSE_BIN, default the release build) on it,
twice alternately:
  - lane off: `--list-budget 1000000` (a list runs whole on the thread that took it,
    as before the budget existed): the baseline, measured in the same run;
  - default: `--list-budget 5`.
In each: wrk opens 16 keep-alive connections for `GET /healthz` (spread over the
server's threads), and a second later one client loops `GET /todos?sort=title&limit=20`
(`Cache-Control: no-cache`: no index on title, so each list reads and sorts every
document) for SECONDS - 2 seconds. Reported: the latency of the /healthz requests
(p50, p99, max; wrk) and their rate, beside the same with no slow list (the first
seconds of a turn are not included: wrk runs again alone before the slow client), and
the slow lists' own count and median time.

Usage: bench/slow_lists.py [--docs 300000] [--seconds 9] [--turns 2]
Writes bench/out/slow_lists.txt.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from serving import BIN, CONFIG, REPO, commit, serve, wrk  # noqa: E402

OUT = os.path.join(REPO, "bench", "out", "slow_lists.txt")
SLOW_PATH = "/todos?sort=title&limit=20"


def seed(directory, docs):
    """A store of `docs` todos, through `backbone-sse import` (one transaction)."""
    dump = os.path.join(directory, "dump.jsonl")
    with open(dump, "w") as out:
        out.write(json.dumps({"format": "backbone-sse-export", "version": 1, "epoch": "0", "head": 0, "collections": {}}) + "\n")
        for i in range(docs):
            doc = {"id": "s%07d" % i, "_v": 1, "created": "2026-12-06T00:00:00.000Z", "updated": "2026-12-06T00:00:00.000Z",
                   "title": "todo number %d, about as long as a chore's title" % ((i * 7919) % docs),
                   "done": i % 3 == 0, "priority": i % 5}
            out.write(json.dumps({"collection": "todos", "doc": doc}) + "\n")
    store = os.path.join(directory, "app.sqlite")
    subprocess.run([BIN, "import", "--store", "sqlite:" + store, "--config", CONFIG, "--file", dump],
                   check=True, stdout=subprocess.DEVNULL)
    os.remove(dump)
    return store


def slow_client(port, seconds, times):
    deadline = time.monotonic() + seconds
    request = urllib.request.Request(f"http://127.0.0.1:{port}{SLOW_PATH}", headers={"Cache-Control": "no-cache"})
    while time.monotonic() < deadline:
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=60) as r:
            assert r.status == 200 and len(json.load(r)) == 20
        times.append(time.monotonic() - started)


def turn(store, budget, seconds):
    server, port = serve(store, "--list-budget", budget, log_level="error")
    healthz = f"http://127.0.0.1:{port}/healthz"
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/todos?limit=1", timeout=60).read()
        alone = wrk(healthz, seconds - 2)
        times = []
        beside = {}
        loader = threading.Thread(target=lambda: beside.update(wrk(healthz, seconds)))
        loader.start()
        time.sleep(1)  # wrk's connections are open, on every server thread
        slow_client(port, seconds - 2, times)
        loader.join()
        return {"alone": alone, "beside": beside, "slow_n": len(times), "slow_median": statistics.median(times) * 1000}
    finally:
        server.terminate()
        server.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=300_000)
    parser.add_argument("--seconds", type=int, default=9)
    parser.add_argument("--turns", type=int, default=2)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="bench-slow-lists-")
    try:
        started = time.time()
        store = seed(directory, args.docs)
        modes = [("lane off (--list-budget 1000000)", "1000000"), ("default (--list-budget 5)", "5")]
        results = {name: [] for name, _ in modes}
        for t in range(args.turns):
            for name, budget in modes:
                r = turn(store, budget, args.seconds)
                results[name].append(r)
                print(f"turn {t + 1}, {name}: /healthz beside slow lists p99 {r['beside']['p99']:.2f} ms, "
                      f"max {r['beside']['max']:.1f} ms; {r['slow_n']} slow lists", file=sys.stderr)
        lines = [
            f"Slow lists beside fast requests: {args.docs:,} documents, `GET {SLOW_PATH}` looped by one client while wrk",
            f"holds 16 connections of GET /healthz; {args.turns} turns per mode, alternating; medians of the turns.",
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, commit {commit()}, {BIN}",
            "",
            "| | /healthz alone p50 / p99 / max | beside slow lists p50 / p99 / max | rate alone / beside | slow lists | a slow list (median) |",
            "|---|---|---|---|---|---|",
        ]
        for name, _ in modes:
            rs = results[name]

            def med(part, key):
                return statistics.median(r[part][key] for r in rs)
            lines.append(
                f"| {name} | {med('alone', 'p50'):.2f} / {med('alone', 'p99'):.2f} / {med('alone', 'max'):.1f} ms "
                f"| {med('beside', 'p50'):.2f} / {med('beside', 'p99'):.2f} / {med('beside', 'max'):.1f} ms "
                f"| {med('alone', 'rate'):,.0f} / {med('beside', 'rate'):,.0f}/s "
                f"| {statistics.median(r['slow_n'] for r in rs):.0f} in {args.seconds - 2} s "
                f"| {statistics.median(r['slow_median'] for r in rs):.0f} ms |")
        text = "\n".join(lines) + "\n"
        print(text)
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w") as f:
            f.write(text)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
