#!/usr/bin/env python3
"""Slow-header clients against one server (issue 13, finding 2). Not run by make test.

Starts `backbone-sse serve` (BACKBONE_SSE_BIN, default .build/debug/backbone-sse) on a
free port with the flags given after `--`, then:
  1. opens N connections from 127.0.0.1 that send a request's headers one byte per
     second (never finishing them), counting how many the server keeps open;
  2. times `GET /healthz` on fresh connections from 127.0.0.2 (another address, so
     the per-address cap does not apply to it; Linux routes all of 127/8 to loopback);
  3. closes the slow clients and samples, once a second, the server's sockets still
     in CLOSE-WAIT (`ss`) and its RSS, until none is left or --watch seconds pass.

Usage: bench/slow_clients.py [-n 16000] [--hold 12] [--watch 20] [-- serve flags...]
e.g.   bench/slow_clients.py -n 4000 -- --max-connections-per-ip 256 --request-timeout 30
       bench/slow_clients.py -n 4000 -- --max-connections-per-ip 0 --request-timeout 0  (as before)
"""

import argparse
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BACKBONE_SSE_BIN", os.path.join(REPO, ".build", "debug", "backbone-sse"))
HEADERS = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def close_wait(port):
    out = subprocess.run(["ss", "-Htan", "state", "close-wait", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def established(port):
    out = subprocess.run(["ss", "-Htan", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def healthz(port, source="127.0.0.2", timeout=10.0):
    """Seconds for one GET /healthz on a new connection from `source`, or None on timeout."""
    started = time.monotonic()
    try:
        s = socket.socket()
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        ok = s.recv(4096).startswith(b"HTTP/1.1 200")
        s.close()
        return time.monotonic() - started if ok else None
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=16_000, help="slow connections (default 16000)")
    ap.add_argument("--hold", type=float, default=12, help="seconds the slow clients trickle (default 12)")
    ap.add_argument("--watch", type=float, default=20, help="seconds to watch CLOSE-WAIT after closing (default 20)")
    ap.add_argument("--probe-after", type=float, default=None,
                    help="from this many seconds after closing, also open one new connection a second")
    ap.add_argument("serve_flags", nargs="*")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    work = tempfile.mkdtemp(prefix="slow-clients-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(os.path.join(work, "server.log"), "w+")
    proc = subprocess.Popen([BIN, "serve", "--config", os.path.join(REPO, "bench", "todos.yaml"), "--port", str(port),
                             "--store", f"sqlite:{work}/app.sqlite", "--log-level", "warning"] + args.serve_flags,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            if healthz(port, "127.0.0.1", 1) is not None:
                break
            time.sleep(0.1)
        print(f"server pid {proc.pid} port {port} flags {' '.join(args.serve_flags) or '(defaults)'}")
        print(f"healthz before: {healthz(port) * 1000:.1f} ms, RSS {rss_mib(proc.pid):.0f} MiB")

        sel = selectors.DefaultSelector()
        slow = []
        failed = 0
        started = time.monotonic()
        for _ in range(args.n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect_ex(("127.0.0.1", port))
            except OSError:
                failed += 1
                s.close()
                continue
            slow.append(s)
        print(f"opened {len(slow)} slow connections from 127.0.0.1 in {time.monotonic() - started:.1f} s"
              f" ({failed} failed locally)")
        sent = 0
        timings = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.hold:
            alive = 0
            for s in slow:
                if s.fileno() < 0:
                    continue
                try:
                    s.send(HEADERS[sent:sent + 1])
                    alive += 1
                except (BlockingIOError, InterruptedError):
                    alive += 1
                except OSError:
                    s.close()
            sent += 1
            h = healthz(port)
            timings.append(h)
            print(f"  t={time.monotonic() - t0:5.1f} s  slow connections the client still holds: {alive:6d}"
                  f"  server ESTABLISHED: {established(port):6d}"
                  f"  healthz from 127.0.0.2: {'TIMEOUT' if h is None else f'{h * 1000:.1f} ms'}"
                  f"  RSS {rss_mib(proc.pid):.0f} MiB")
            time.sleep(max(0, 1 - (h or 0)))
        answered = [t for t in timings if t is not None]
        print(f"healthz during: {len(answered)}/{len(timings)} answered"
              + (f", median {sorted(answered)[len(answered) // 2] * 1000:.1f} ms, max {max(answered) * 1000:.1f} ms"
                 if answered else ""))

        for s in slow:
            s.close()
        closed_at = time.monotonic()
        while True:
            cw = close_wait(port)
            elapsed = time.monotonic() - closed_at
            probe = ""
            if args.probe_after is not None and elapsed >= args.probe_after:
                h = healthz(port, timeout=2)
                probe = f", healthz {'TIMEOUT' if h is None else f'{h * 1000:.1f} ms'}"
            print(f"  {elapsed:5.1f} s after closing: server CLOSE-WAIT {cw:6d}, RSS {rss_mib(proc.pid):.0f} MiB{probe}")
            if cw == 0 or elapsed > args.watch:
                break
            time.sleep(1)
        print(f"healthz after: {healthz(port) * 1000:.1f} ms" if healthz(port) else "healthz after: TIMEOUT")
        log.seek(0)
        limits = [line.rstrip() for line in log if "limit=" in line or "limit.count" in line]
        print(f"limit lines in the server log: {len(limits)}")
        for line in limits[-4:]:
            print("  " + line[:300])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
