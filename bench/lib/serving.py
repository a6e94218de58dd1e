"""Starting `backbone-sse serve` for a benchmark and reading wrk's figures: shared by
the Python benchmarks that drive one server at a time with wrk."""

import os
import re
import socket
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("BACKBONE_SSE_BIN", os.path.join(REPO, ".build", "release", "backbone-sse"))
CONFIG = os.path.join(REPO, "bench", "todos.yaml")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(store, *extra, log_level="warning"):
    """`backbone-sse serve` on `store` (a SQLite path) and a free port, once it listens:
    (process, port). Its log goes to `store` + ".log"."""
    port = free_port()
    with open(store + ".log", "w") as log:
        server = subprocess.Popen(
            [BIN, "serve", "--config", CONFIG, "--host", "127.0.0.1", "--port", str(port), "--store", "sqlite:" + store,
             "--max-connections-per-ip", "0", "--log-level", log_level, *extra],
            stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    with open(store + ".log") as log:
        raise RuntimeError("backbone-sse did not start listening: " + log.read())


def wrk(url, seconds, connections=16, threads=1, script=None):
    """wrk's latency p50 / p99 / max (ms) and rate for `seconds` against `url`."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", os.path.join(REPO, "bench", "lua", script)]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    ms = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(pattern):
        m = re.search(pattern, out, re.MULTILINE)
        return float(m.group(1)) * ms[m.group(2)]
    return {
        "p50": latency(r"^\s+50%\s+([\d.]+)(us|ms|s)$"),
        "p99": latency(r"^\s+99%\s+([\d.]+)(us|ms|s)$"),
        "max": latency(r"^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)"),
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
    }


def commit():
    return subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
