#!/usr/bin/env python3
"""Writes while the change log is pruned: what pruning the log to `--retain-count`
(every 10 s) costs the POSTs around it (figures: bench/NOTES.md#prune).

Each turn starts `backbone-sse serve` (BACKBONE_SSE_BIN, default the release build) on a
fresh SQLite store, twice alternately:
  - nothing due: `--retain-count 100000000`, so no prune finds anything to drop: the
    baseline, measured in the same run;
  - default: `--retain-count 100000`.
wrk POSTs /todos on 16 connections for --fill seconds (not reported: the log grows past
the newest 100,000), then for --window seconds, in which the prunes drop what the
writes add. Reported for that window: the POST rate, latency p50 / p99 / max (wrk), and
the entries pruned in it (`backbone_sse_stream_log_pruned_total`), medians of the turns.

Usage: bench/prune_pause.py [--fill 20] [--window 20] [--turns 2]
Writes bench/out/prune_pause.txt.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from serving import BIN, REPO, commit, serve, wrk  # noqa: E402

OUT = os.path.join(REPO, "bench", "out", "prune_pause.txt")
PRUNE_EVERY = 10  # seconds (StreamHousekeeping.pruneEvery)


def pruned(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("backbone_sse_stream_log_pruned_total "):
                return float(line.split()[1])
    return 0.0


def turn(directory, retain, fill, window):
    store = os.path.join(directory, f"prune-{retain}.sqlite")
    server, port = serve(store, "--retain-count", str(retain))
    try:
        url = f"http://127.0.0.1:{port}/todos"
        wrk(url, fill, connections=16, threads=2, script="post.lua")
        before = pruned(port)
        figures = wrk(url, window, connections=16, threads=2, script="post.lua")
        figures["pruned"] = pruned(port) - before
        return figures
    finally:
        server.terminate()
        server.wait(20)
        with open(store + ".log") as log:
            sys.stderr.write(log.read())  # warnings (a slow commit) say where the time went
        for suffix in ("", "-wal", "-shm", ".log"):
            if os.path.exists(store + suffix):
                os.remove(store + suffix)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fill", type=int, default=20)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--turns", type=int, default=2)
    args = parser.parse_args()
    if args.window < PRUNE_EVERY:
        parser.error(f"the window must hold a prune: --window {PRUNE_EVERY} at least")
    directory = tempfile.mkdtemp(prefix="bench-prune-")
    modes = [("nothing due (--retain-count 100000000)", 100_000_000), ("default (--retain-count 100000)", 100_000)]
    results = {name: [] for name, _ in modes}
    try:
        started = time.time()
        for t in range(args.turns):
            for name, retain in modes:
                r = turn(directory, retain, args.fill, args.window)
                results[name].append(r)
                print(f"turn {t + 1}, {name}: {r['rate']:,.0f} POSTs/s, p99 {r['p99']:.2f} ms, max {r['max']:.1f} ms, "
                      f"{r['pruned']:,.0f} entries pruned in the window", file=sys.stderr)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    lines = [
        f"Writes while the change log is pruned (every {PRUNE_EVERY} s): POST /todos on 16 connections, a fresh store per turn;",
        (f"the window is {args.fill}-{args.fill + args.window} s after start; "
         f"{args.turns} turns per mode, alternating; medians of the turns."),
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, commit {commit()}, {BIN}",
        "",
        "| | POSTs/s | latency p50 / p99 / max | entries pruned in the window |",
        "|---|---|---|---|",
    ]
    for name, _ in modes:
        def med(key, rs=results[name]):
            return statistics.median(r[key] for r in rs)
        lines.append(f"| {name} | {med('rate'):,.0f} | {med('p50'):.2f} / {med('p99'):.2f} / {med('max'):.1f} ms "
                     f"| {med('pruned'):,.0f} |")
    if any(r["pruned"] == 0 for r in results[modes[1][0]]):
        lines.append("\nA default turn pruned nothing in its window: its figures do not show a prune.")
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
