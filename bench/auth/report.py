#!/usr/bin/env python3
"""Turns bench/out/auth.env (key=value lines written by bench/auth/run.sh) into the REST
authorisation benchmark's table: each figure with a bearer token beside the same
requests without one (a server with no auth block), measured in the same run.

Usage: report.py AUTH_ENV OUTPUT_TXT
Prints the table and writes it to OUTPUT_TXT. Exit status 3 when a target was missed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from results import load, num  # noqa: E402

TARGET = 0.90


def f_rps(x):
    return "n/a" if x is None else f"{x:,.0f}/s"


def f_us(x):
    return "n/a" if x is None else f"{x:.0f} us"


def f_ms(x):
    return "n/a" if x is None else f"{x:.2f} ms"


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(r))  # noqa: E731
    return [fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows]


def main():
    v = load(sys.argv[1])
    out = [
        "Authorisation, REST: requests with a bearer token (HS256) beside the same requests without one",
        f"run {v.get('date', '?')}, commit {v.get('commit', '?')}, binary {v.get('binary', '?')}",
        f"{v.get('cores', '?')} cores shared with other work; load average {v.get('loadavg_start', '?')} at the start, "
        f"{v.get('loadavg_end', '?')} at the end",
        f"wrk -t{v.get('threads', '?')} -c{v.get('connections', '?')}, {v.get('seconds', '?')} s a run, "
        f"{v.get('rounds', '?')} turns, medians; {v.get('users', '?')} users, one token each "
        f"({v.get('token_bytes', '?')} bytes); the uncached run cycles through {int(num(v, 'distinct') or 0):,} distinct tokens",
        "servers: none = bench/todos.yaml (no auth); auth = bench/auth/todos-auth.yaml (read: owner, create: user, no rate limit);",
        "         auth_rl = auth + rate_limit {reads, writes: 1e9} (the limiter counts, never refuses);",
        "         none_idx = none + an index on owner, POSTs naming their owner in the body (auth's documents, no auth)",
        "CPU: the server's user+system time per request over the run (all its threads)",
        "",
    ]
    failed = False
    rows = []

    def row(figure, key, base_key, target):
        nonlocal failed
        a, b = num(v, key + "_rps"), num(v, base_key + "_rps")
        r = a / b if a is not None and b else None
        if target:
            ok = r is not None and r >= TARGET
            failed |= not ok
            verdict = "PASS" if ok else "MISS"
            limit = f">= {TARGET:.2f}x"
        else:
            verdict, limit = "info", "-"
        ca, cb = num(v, key + "_cpu_us"), num(v, base_key + "_cpu_us")
        rows.append([figure, f_rps(a), f_rps(b), "n/a" if r is None else f"{r:.2f}x", limit, verdict,
                     f"{f_us(ca)} vs {f_us(cb)}", f"{f_ms(num(v, key + '_p99_ms'))} vs {f_ms(num(v, base_key + '_p99_ms'))}"])

    row("GET /todos/{id}, own documents, cached token", "auth-get_auth", "auth-get_none", True)
    row("POST /todos", "auth-post_auth", "auth-post_none", True)
    row("GET /todos/{id}, with rate_limit on (1e9/min)", "auth-get_auth_rl", "auth-get_none", False)
    row("POST /todos, with rate_limit on (1e9/min)", "auth-post_auth_rl", "auth-post_none", False)
    row("GET /todos/{id}, a new token each request", "auth-get_uncached", "auth-get_none", False)
    row("GET /todos/{id}, token sent to the no-auth server", "auth-get_header", "auth-get_none", False)
    row("POST /todos, no auth, owner in body + index", "auth-post_none_idx", "auth-post_none", False)
    row("POST /todos, auth vs that (same documents)", "auth-post_auth", "auth-post_none_idx", False)
    out += table(rows, ["figure", "with auth", "without", "ratio", "target", "result", "server CPU/request", "p99"])
    out.append("")

    # The first request of a token: what verifying it costs over a cached one.
    cu, cc = num(v, "auth-get_uncached_cpu_us"), num(v, "auth-get_auth_cpu_us")
    if cu is not None and cc is not None:
        out.append(f"verifying a token (first request): {cu - cc:.0f} us of server CPU over a cached one "
                   f"({cu:.0f} vs {cc:.0f} us per GET)")
    out.append("turns (req/s, in order):")
    for name in ("auth-get_none", "auth-get_auth", "auth-get_auth_rl", "auth-get_uncached", "auth-get_header",
                 "auth-post_none", "auth-post_auth", "auth-post_auth_rl", "auth-post_none_idx"):
        out.append(f"  {name[5:]:<18} {v.get(name + '_rounds', 'n/a')}")
    rss = []
    for s in ("none", "auth", "auth_rl", "none_idx"):
        rss.append(f"{s} {v.get(f'rss_start_{s}_mb', '?')} -> {v.get(f'rss_after_{s}_mb', '?')} MB")
    out.append("RSS at start -> after the load: " + "; ".join(rss))
    notes = [value for key, value in sorted(v.items()) if key.startswith("note_")]
    if notes:
        out.append("")
        out.append("Notes")
        out += [f"- {x}" for x in notes]
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(sys.argv[2], "w") as f:
        f.write(text)
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
