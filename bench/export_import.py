#!/usr/bin/env python3
"""The export/import benchmark of issue 16 (`make bench`): N documents (1,000,000 by
default) written as an export file, imported into a new SQLite store, exported again,
copied to a second SQLite store, and the store backed up, each step timed on the
release binary. The target is under a minute for the import and the export of
1,000,000 documents on this machine (2 cores, shared).

    python3 bench/export_import.py [-n 1000000] [--bin .build/release/backbone-sse] [--strict]

Prints one line per step (documents, seconds, documents/s, peak RSS, sizes) and
writes them to bench/out/export_import.txt. `--strict` exits 3 when a step takes a
minute or more.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TARGET_SECONDS = 60.0

CONFIG = """collections:
  todos:
    timestamps: true
    indexes: [done, created]
    schema:
      type: object
      required: [title]
      properties:
        title: {type: string, minLength: 1, maxLength: 200}
        done: {type: boolean, default: false}
        priority: {type: integer}
        tags: {type: array, items: {type: string}}
"""


def write_export(path, n):
    """An export file of `n` todos, as the server writes them (about 200 bytes each)."""
    header = {"format": "backbone-sse-export", "version": 1, "epoch": "10000000", "head": n,
              "collections": {"todos": {"timestamps": True}}}
    with open(path, "w", buffering=1 << 20) as f:
        f.write(json.dumps(header, separators=(",", ":")) + "\n")
        for i in range(n):
            stamp = f"2026-12-05T{i // 3600000 % 24:02d}:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}Z"
            f.write('{"collection":"todos","doc":{"id":"%024x","title":"Buy item number %d","done":%s,'
                    '"priority":%d,"tags":["home","errand"],"created":"%s","updated":"%s","_v":%d}}\n'
                    % (0x65f000000000000000000000 + i, i, "true" if i % 3 == 0 else "false", i % 5, stamp, stamp,
                       1 + i % 4))


def timed(label, args):
    """Runs one step: (seconds, its peak RSS in MB)."""
    with tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"{label} failed ({proc.returncode}):\n{err.read().decode()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--bin", default=os.environ.get("BACKBONE_SSE_BIN",
                                                        os.path.join(REPO, ".build", "release", "backbone-sse")))
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    a = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-export-")
    try:
        config = os.path.join(work, "todos.yaml")
        with open(config, "w") as f:
            f.write(CONFIG)
        source = os.path.join(work, "source.jsonl")
        started = time.monotonic()
        write_export(source, a.n)
        print(f"wrote {a.n:,} documents ({os.path.getsize(source) / 1e6:.0f} MB) in {time.monotonic() - started:.1f} s",
              flush=True)

        results = []

        def report(step, timing, extra):
            seconds, rss = timing
            line = (f"{step:<8} {a.n:>10,} documents  {seconds:6.1f} s  {a.n / seconds:>9,.0f}/s  "
                    f"peak RSS {rss:5.0f} MB  {extra}")
            results.append((step, seconds, line))
            print(line, flush=True)

        store = os.path.join(work, "imported.sqlite")
        timing = timed("import", [a.bin, "import", "--store", f"sqlite:{store}", "--config", config, "--file", source])
        report("import", timing, f"store {os.path.getsize(store) / 1e6:.0f} MB")

        exported = os.path.join(work, "exported.jsonl")
        timing = timed("export", [a.bin, "export", "--store", f"sqlite:{store}", "--config", config, "--file", exported])
        with open(exported) as f:
            lines = sum(1 for _ in f) - 1
        assert lines == a.n, f"the export holds {lines} documents, not {a.n}"
        report("export", timing, f"file {os.path.getsize(exported) / 1e6:.0f} MB")

        copied = os.path.join(work, "copied.sqlite")
        timing = timed("copy", [a.bin, "copy", "--from", f"sqlite:{store}", "--to", f"sqlite:{copied}", "--config", config])
        report("copy", timing, "SQLite to SQLite")

        backup = os.path.join(work, "backup.sqlite")
        timing = timed("backup", [a.bin, "backup", "--store", f"sqlite:{store}", "--to", backup])
        report("backup", timing, f"backup {os.path.getsize(backup) / 1e6:.0f} MB")

        out = os.path.join(REPO, "bench", "out")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "export_import.txt"), "w") as f:
            f.write("\n".join(line for _, _, line in results) + "\n")
        slow = [step for step, seconds, _ in results if step in ("import", "export") and seconds >= TARGET_SECONDS]
        if slow:
            print(f"over the {TARGET_SECONDS:.0f} s target: {', '.join(slow)}")
            if a.strict:
                sys.exit(3)
    finally:
        if a.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
