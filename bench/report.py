#!/usr/bin/env python3
"""Turns bench/out/results.env (key=value lines written by run.sh) into the table.

Usage: report.py RESULTS_ENV OUTPUT_TXT
Prints the table and writes it to OUTPUT_TXT. Exit status 3 when a target failed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from results import load, num  # noqa: E402


def fmt(x, unit=""):
    if x is None:
        return "n/a"
    if unit == "/s":
        return f"{x:,.0f}/s"
    if unit == "ms":
        return f"{x:.2f} ms"
    if unit == "MB":
        return f"{x:.1f} MB"
    return f"{x:g}"


def cpu_key(key):
    """The CPU-per-request figure recorded beside a wrk or sqlite_insert figure."""
    for suffix in ("_rps", "_p99_ms", "_ips"):
        if key and key.endswith(suffix):
            return key[: -len(suffix)] + "_cpu_us"
    return None


def main():
    values = load(sys.argv[1])
    rows = []  # (figure, value, baseline, ratio, target, verdict, cpu)
    failed = False

    def cpu(key, base_key=None):
        a = num(values, cpu_key(key)) if cpu_key(key) else None
        b = num(values, cpu_key(base_key)) if base_key and cpu_key(base_key) else None
        if a is None and b is None:
            return "-"
        text = "n/a" if a is None else f"{a:.0f} us"
        if base_key:
            text += " vs " + ("n/a" if b is None else f"{b:.0f} us")
        return text

    def ratio_row(figure, key, base_label, base_key, minimum):
        nonlocal failed
        v, b = num(values, key), num(values, base_key)
        r = v / b if v is not None and b else None
        ok = r is not None and r >= minimum
        failed |= not ok
        target = f">= {minimum:.0%} of baseline" if minimum < 1 else f">= {minimum:g}x baseline"
        rows.append((figure, fmt(v, "/s"), f"{fmt(b, '/s')} {base_label}", "n/a" if r is None else f"{r:.2f}",
                     target, "PASS" if ok else "FAIL", cpu(key, base_key)))

    def limit_row(figure, key, unit, limit, base_label=None, base_key=None):
        nonlocal failed
        v = num(values, key)
        b = num(values, base_key) if base_key else None
        ok = v is not None and v < limit
        failed |= not ok
        baseline = f"{fmt(b, unit)} {base_label}" if base_key else "-"
        r = f"{v / b:.2f}" if v is not None and b else "-"
        rows.append((figure, fmt(v, unit), baseline, r, f"< {limit:g} {unit}", "PASS" if ok else "FAIL", "-"))

    def info_row(figure, key, unit, base_label=None, base_key=None):
        v = num(values, key)
        b = num(values, base_key) if base_key else None
        baseline = f"{fmt(b, unit)} {base_label}" if base_key else "-"
        r = f"{v / b:.2f}" if v is not None and b else "-"
        rows.append((figure, fmt(v, unit), baseline, r, "-", "info", cpu(key, base_key) if unit == "/s" else "-"))

    # The targets of issue 18 (README "Performance").
    ratio_row("GET /todos/{id}", "get_id_rps", "bare MHD, same script", "bare_ids_rps", 0.60)
    ratio_row("GET /todos?where=...&limit=20 (repeated URL)", "list_rps", "bare MHD", "bare_rps", 0.20)
    ratio_row("POST /todos (durability normal)", "post_normal_rps", "raw SQLite NORMAL", "sqlite_normal_ips", 1.0)
    ratio_row("POST /todos (durability full)", "post_full_rps", "raw SQLite FULL", "sqlite_full_ips", 5.0)
    limit_row("GET /todos/{id} p99", "get_id_p99_ms", "ms", 5, "bare MHD", "bare_ids_p99_ms")
    limit_row("GET /todos?where=... p99", "list_p99_ms", "ms", 10, "bare MHD", "bare_p99_ms")
    limit_row("idle RSS after start-up", "rss_start_mb", "MB", 20)
    info_row("idle RSS after the load", "rss_after_mb", "MB")
    info_row("bare MHD GET, one URL", "bare_rps", "/s")
    info_row("bare MHD GET, random-id script", "bare_ids_rps", "/s")
    info_row("GET /todos/{id}, one fixed id, no Lua", "get_fixed_rps", "/s", "bare MHD", "bare_rps")
    info_row("GET /todos/{id}, one fixed id, p99", "get_fixed_p99_ms", "ms", "bare MHD", "bare_p99_ms")
    info_row("GET /todos?where=..., Cache-Control: no-cache", "list_fresh_rps", "/s", "bare MHD", "bare_rps")
    info_row("GET /todos?where=..., no-cache, p99", "list_fresh_p99_ms", "ms", "bare MHD", "bare_p99_ms")
    info_row("POST /todos normal p99", "post_normal_p99_ms", "ms")
    info_row("bare MHD POST, answered at once", "bare_post_rps", "/s", "raw SQLite NORMAL", "sqlite_normal_ips")
    info_row("bare MHD POST, answered from another thread", "bare_hand_off_post_rps", "/s", "raw SQLite NORMAL",
             "sqlite_normal_ips")
    info_row("POST /todos normal, against that bare floor", "post_normal_rps", "/s", "bare MHD, handed off",
             "bare_hand_off_post_rps")
    info_row("mixed: the first list after the POSTs (counts them all)", "mixed_first_list_ms", "ms")
    info_row("mixed: GET /todos?where=... while POSTs run", "mixed_list_rps", "/s", "alone, no-cache", "list_fresh_rps")
    info_row("mixed: its p99", "mixed_list_p99_ms", "ms", "alone, no-cache", "list_fresh_p99_ms")
    info_row("mixed: POST /todos while lists run", "mixed_post_rps", "/s", "POST alone", "post_normal_rps")
    info_row("mixed: POST p99", "mixed_post_p99_ms", "ms", "POST alone", "post_normal_p99_ms")
    info_row("POST /todos full p99", "post_full_p99_ms", "ms")
    info_row("seeding PUT /todos/{id}", "seed_rps", "/s")

    header = ("figure", "value", "baseline (same run)", "ratio", "target", "result", "CPU/request (vs baseline)")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    out = []
    out.append(f"BackboneSSE benchmark  {values.get('date', '')}")
    out.append(f"host: {values.get('cores', '?')} cores; wrk -t{values.get('threads', '?')} -c{values.get('connections', '?')} "
               f"-d{values.get('seconds', '?')}s; sqlite_insert {values.get('insert_seconds', '?')}s; "
               f"{values.get('seeded', '?')} documents seeded")
    out.append(f"server: {values.get('binary', '?')}; source commit {values.get('commit', '?')}")
    out.append("")
    out.append(line(header))
    out.append(line(tuple("-" * w for w in widths)))
    out.extend(line(r) for r in rows)
    rounds = [(label, values.get(key)) for label, key in (
        ("bare MHD, one URL", "bare_rounds"), ("bare MHD, random-id script", "bare_ids_rounds"),
        ("GET /todos/{id}", "get_id_rounds"), ("GET /todos?where=...", "list_rounds"),
        ("raw SQLite inserts, NORMAL", "sqlite_normal_rounds"), ("POST /todos, normal", "post_normal_rounds"),
        ("bare MHD POST", "bare_post_rounds"), ("bare MHD POST, handed off", "bare_hand_off_post_rounds"),
        ("raw SQLite inserts, FULL", "sqlite_full_rounds"), ("POST /todos, full", "post_full_rounds"))
        if values.get(key)]
    if rounds:
        out.append("")
        out.append(f"The reads, the POSTs and their baselines took {values.get('rounds', '?')} turns each; the")
        out.append("table shows each one's median turn. Requests (or inserts) per second of every turn:")
        out.extend(f"  {label}: {text.strip()}" for label, text in rounds)
    out.append("")
    out.append("CPU/request: CPU time (user + system, all threads) of the server process, or of")
    out.append("sqlite_insert, divided by the requests or inserts done; wrk runs on the same cores.")
    notes = [v for k, v in sorted(values.items()) if k.startswith("note_")]
    if notes:
        out.append("")
        out.append("notes:")
        out.extend(f"  - {n}" for n in notes)
    out.append("")
    out.append("overall: " + ("FAIL (at least one target missed)" if failed else "PASS"))
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(sys.argv[2], "w") as f:
        f.write(text)
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
