#!/usr/bin/env python3
"""Writes an export file (JSON Lines, the format `backbone-sse export` writes) of N todos
for `backbone-sse import`: bench/curves/run.sh seeds its stores with it, far faster
than PUTs over HTTP.

    python3 bench/curves/make_docs.py N FILE

Document i is the one bench/lua/seed.lua would PUT (id seed%06d, the same title, done
and priority), with `created` (and `updated`) one second after document i - 1's, from
2026-01-01T00:00:00.000Z: bench/curves/list_window.lua asks for windows of `created`.
"""

import json
import sys
import time

BASE = 1767225600  # 2026-01-01T00:00:00Z
PAD = "abcdefghij" * 12


def stamp(i):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(BASE + i))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n, path = int(sys.argv[1]), sys.argv[2]
    header = {"format": "backbone-sse-export", "version": 1, "epoch": "10000000", "head": n,
              "collections": {"todos": {"timestamps": True}}}
    with open(path, "w", buffering=1 << 20) as f:
        f.write(json.dumps(header, separators=(",", ":")) + "\n")
        for i in range(n):
            t = stamp(i)
            f.write('{"collection":"todos","doc":{"id":"seed%06d","title":"seeded todo %06d %s","done":%s,'
                    '"priority":%d,"created":"%s","updated":"%s","_v":1}}\n'
                    % (i, i, PAD, "false" if i % 2 == 0 else "true", i % 5, t, t))


if __name__ == "__main__":
    main()
