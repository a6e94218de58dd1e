#!/usr/bin/env python3
"""Draws the curves measured by bench/curves/run.sh (issue 18, "How cost grows").

    python3 bench/curves/plot.py [OUT_DIR [PNG_DIR]]     (bench/out/curves, docs/bench)

Reads whichever of reads.csv, writes.csv and streams.csv are in OUT_DIR (each with its
PART.meta.env: date, machine, commit); writes PNG_DIR/reads.png, writes.png and streams.png (matplotlib, Agg backend)
and OUT_DIR/summary.txt (the same figures as text). Rates are the median of the turns
(the error bars span the slowest to the fastest turn). Each plot names the date, the
machine and the commit of its run.
"""

import csv
import os
import statistics
import sys
import textwrap
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                key, value = line.rstrip("\n").split("=", 1)
                env[key] = value
    return env


def read_csv(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return list(csv.DictReader(f))


def finish(fig, meta, extra, png):
    """Writes the run's date, machine and commit (and `extra`, wrapped) at the foot of the
    figure, fits the plots above it and saves the PNG."""
    text = (f"{meta.get('date', '?').replace('T', ' ').replace('Z', ' UTC')} · {meta.get('cores', '?')} cores, "
            f"{meta.get('cpu', '?')} · Linux {meta.get('kernel', '?')} · commit {meta.get('commit', '?')}, "
            f"binary built {meta.get('binary_built', '?').replace('T', ' ')}")
    if meta.get("stale_source"):
        text += f" (older than {meta['stale_source']}: the figures are of an older build)"
    if extra:
        text += "\n" + "\n".join(textwrap.wrap(extra, width=int(fig.get_figwidth() * 16.5)))
    fig.text(0.01, 0.01, text, fontsize=7.5, color="#444444", va="bottom", ha="left")
    bottom = (0.15 * (text.count("\n") + 1) + 0.1) / fig.get_figheight()
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(png, dpi=110)
    plt.close(fig)


def turns_of(rows, key_fields, value="rps"):
    """{key: [values of the turns]} for rows grouped by key_fields."""
    out = defaultdict(list)
    for r in rows:
        if r.get(value):
            out[tuple(r[k] for k in key_fields)].append(float(r[value]))
    return out


def spread(values):
    """(median, below, above): the error bar from the slowest to the fastest turn."""
    m = statistics.median(values)
    return m, m - min(values), max(values) - m


def points(xs_all, turns_at):
    """The plotted points: (xs, medians, below, above) over the x values that have turns
    (`turns_at(x)` gives the turns' values at x, or nothing)."""
    xs, ys, lo, hi = [], [], [], []
    for x in xs_all:
        vals = turns_at(x)
        if not vals:
            continue
        m, below, above = spread(vals)
        xs.append(x)
        ys.append(m)
        lo.append(below)
        hi.append(above)
    return xs, ys, lo, hi


def rate(x):
    return f"{x / 1000:.1f}k" if x >= 1000 else f"{x:.0f}"


# ------------------------------------------------------------------------ reads
READ_PANELS = [
    # title, [(series, label, colour, line style)]
    ("GET /todos/{id}, random ids", [
        ("get_id", "BackboneSSE", "tab:blue", "-"),
        ("bare_id", "bare libmicrohttpd, same wrk script", "tab:gray", "--"),
    ]),
    ("GET /todos?where=<created window>&limit=20", [
        ("list", "BackboneSSE, window drawn at random each request", "tab:orange", "-"),
        ("list_repeated", "BackboneSSE, one URL repeated (list cache)", "tab:green", ":"),
        ("bare_list", "bare libmicrohttpd, same wrk script as the random window", "tab:gray", "--"),
    ]),
]


def plot_reads(rows, meta, png, lines):
    turns = turns_of(rows, ("series", "docs"))
    sizes = sorted({int(r["docs"]) for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5), sharey=True)
    table = {}
    for ax, (title, series_list) in zip(axes, READ_PANELS):
        for series, label, colour, style in series_list:
            xs, ys, lo, hi = points(sizes, lambda n: turns.get((series, str(n))))
            for n, m in zip(xs, ys):
                table[(series, n)] = m
            if not xs:
                continue
            ax.errorbar(xs, ys, yerr=[lo, hi], label=label, color=colour, linestyle=style, marker="o", capsize=3)
            for x, y in zip(xs, ys):
                ax.annotate(rate(y), (x, y), textcoords="offset points", xytext=(6, 4), fontsize=8, color=colour)
        ax.set_xscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([f"{n:,}" for n in sizes])
        ax.minorticks_off()
        ax.set_xlim(min(sizes) / 1.6, max(sizes) * 1.8)
        ax.set_xlabel("documents in the collection")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top = max(axes[0].get_ylim()[1], axes[1].get_ylim()[1])
    axes[0].set_ylim(0, top * 1.3)  # room for the legends above the curves (the y axis is shared)
    axes[0].set_ylabel("requests/s")
    finish(fig, meta, f"wrk -t2 -c{meta.get('read_connections', '?')}, {meta.get('seconds', '?')} s runs, median of "
                      f"{meta.get('turns', '?')} turns taken alternately with the baseline (bars: slowest to fastest "
                      f"turn); each store seeded with backbone-sse import; --durability normal, default --read-cache. "
                      f"The list: 20 of the {meta.get('window', '?')} documents in a window of the indexed field "
                      f"created (X-Total-Count {meta.get('window', '?')}); bare_mhd answers every path with the same "
                      f"small body.", png)

    lines.append("Reads vs documents (requests/s, median of the turns; % of the bare server with the same script)")
    lines.append(f"{'documents':>10} {'GET by id':>10} {'bare':>10} {'%':>5} {'list':>10} {'bare':>10} {'%':>5} {'repeated':>10}")
    for n in sizes:
        def v(s):
            return table.get((s, n))

        def pct(a, b):
            return f"{100 * a / b:.0f}" if a and b else "-"

        def num(x):
            return f"{x:,.0f}" if x else "-"

        lines.append(f"{n:>10,} {num(v('get_id')):>10} {num(v('bare_id')):>10} {pct(v('get_id'), v('bare_id')):>5} "
                     f"{num(v('list')):>10} {num(v('bare_list')):>10} {pct(v('list'), v('bare_list')):>5} "
                     f"{num(v('list_repeated')):>10}")
    lines.append("")


# ------------------------------------------------------------------------ writes
def plot_writes(rows, meta, png, lines):
    turns = turns_of(rows, ("durability", "series", "writers"))
    writers = sorted({int(r["writers"]) for r in rows if r["series"] == "post"})
    colours = {"normal": "tab:blue", "full": "tab:red"}
    fig, ax = plt.subplots(figsize=(9, 6))
    summary = []
    for durability in ("normal", "full"):
        xs, ys, lo, hi = points(writers, lambda w: turns.get((durability, "post", str(w))))
        raw = turns.get((durability, "sqlite", "1"))
        raw_m = statistics.median(raw) if raw else None
        if xs:
            ax.errorbar(xs, ys, yerr=[lo, hi], color=colours[durability], marker="o", capsize=3,
                        label=f"POST /todos, --durability {durability}")
            for x, y in zip(xs, ys):  # normal's figures above its points, full's below
                ax.annotate(rate(y), (x, y), textcoords="offset points", fontsize=8, color=colours[durability],
                            xytext=(6, 4) if durability == "normal" else (6, -11))
        if raw_m:
            ax.axhline(raw_m, color=colours[durability], linestyle="--", linewidth=1.2,
                       label=f"raw SQLite, synchronous={durability.upper()}, 1 thread: {rate(raw_m)}/s")
        summary.append((durability, dict(zip(xs, ys)), raw_m))
    ax.set_xscale("log", base=2)
    ax.set_xticks(writers)
    ax.set_xticklabels([str(w) for w in writers])
    ax.minorticks_off()
    ax.set_xlim(min(writers) / 1.5, max(writers) * 1.6)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.set_xlabel("concurrent writers (wrk connections, each one POST at a time)")
    ax.set_ylabel("documents created/s")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title("POST /todos vs concurrent writers, beside raw SQLite inserts")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    finish(fig, meta, f"wrk -t1 for one writer, else -t2; {meta.get('seconds', '?')} s runs, median of {meta.get('turns', '?')} turns "
                      f"(bars: slowest–fastest turn); each durability on a fresh store that grows through the runs. "
                      f"Dashed: bench/sqlite_insert.c, one thread inserting ~300-byte rows, one transaction per row "
                      f"(WAL): drawn flat, as it has one writer whatever the server's count; the server commits the "
                      f"writes that arrive together in one transaction, so with several writers it may pass it.", png)

    lines.append("POST /todos vs concurrent writers (documents/s, median of the turns; raw SQLite: one thread)")
    lines.append(f"{'durability':>10} {'raw SQLite':>10} " + " ".join(f"{w:>8}" for w in writers))
    for durability, by_w, raw_m in summary:
        lines.append(f"{durability:>10} {raw_m or 0:>10,.0f} " + " ".join(
            f"{by_w[w]:>8,.0f}" if w in by_w else f"{'-':>8}" for w in writers))
    lines.append("")


# ------------------------------------------------------------------------ streams
STREAM_SERVERS = [("backbone", "BackboneSSE", "tab:blue"), ("nchan", "nginx + Nchan", "tab:gray")]


def fit(xs, ys):
    """Least-squares line: (slope, intercept); None with fewer than two points."""
    if len(xs) < 2:
        return None
    slope, intercept = np.polyfit(np.array(xs, float), np.array(ys, float), 1)
    return slope, intercept


def plot_streams(rows, meta, png, lines):
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(12, 5.5))
    table = []
    for server, label, colour in STREAM_SERVERS:
        pts = [r for r in rows if r["server"] == server and r.get("tta_median_ms")]
        pts.sort(key=lambda r: int(r["n"]))
        if not pts:
            continue
        ns = [int(r["n"]) for r in pts]
        med = [float(r["tta_median_ms"]) for r in pts]
        p90 = [float(r["tta_p90_ms"]) if r.get("tta_p90_ms") else None for r in pts]
        rss = [float(r["rss_after_kb"]) / 1024 for r in pts]  # MB with the streams open
        line_t = fit(ns, med)
        line_m = fit(ns, [float(r["rss_after_kb"]) for r in pts])  # KiB vs N: slope = KiB per stream
        tlabel = f"{label}, median"
        if line_t:
            tlabel += f": {line_t[0] * 1000:.1f} ms per 1,000 streams"
        ax_t.plot(ns, med, "o-", color=colour, label=tlabel)
        if any(p is not None for p in p90):
            ax_t.plot([n for n, p in zip(ns, p90) if p is not None], [p for p in p90 if p is not None], "^--",
                      color=colour, alpha=0.6, label=f"{label}, p90")
        mlabel = label
        if line_m:
            mlabel += f": {line_m[0]:.1f} KiB per stream"
        ax_m.plot(ns, rss, "o-", color=colour, label=mlabel)
        grid = np.linspace(0, max(ns), 50)
        if line_t:
            ax_t.plot(grid, line_t[0] * grid + line_t[1], ":", color=colour, linewidth=1)
        if line_m:
            ax_m.plot(grid, (line_m[0] * grid + line_m[1]) / 1024, ":", color=colour, linewidth=1)
        table.append((label, pts, line_t, line_m))
    ax_t.set_title("One write reaching N idle streams")
    ax_t.set_xlabel("idle EventSource streams (N)")
    ax_t.set_ylabel("time until every stream has the write (ms)")
    ax_m.set_title("Server RSS with N idle streams open")
    ax_m.set_xlabel("idle EventSource streams (N)")
    ax_m.set_ylabel("RSS (MB; nginx: master + worker)")
    for ax in (ax_t, ax_m):
        ax.set_xlim(left=0)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_ylim(0, ax.get_ylim()[1] * 1.15)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    finish(fig, meta, f"bench/streams/run.sh (sse_load.c): a fresh server per N, {meta.get('writes', '?')} writes "
                      f"per N, each {meta.get('interval_ms', '?')} ms after the previous one reached everyone; "
                      f"dotted: least-squares lines, whose slopes the legends give (the RSS slope is the memory each "
                      f"stream adds); {meta.get('nginx', 'nginx ?')}. The client, the servers and the publisher "
                      f"share the machine's cores.", png)

    lines.append("One write reaching N idle streams; RSS with them open (one run per N)")
    lines.append(f"{'server':>14} {'N':>6} {'held':>6} {'median ms':>10} {'p90 ms':>8} {'RSS MB':>8} {'KiB/stream':>10}")
    for label, pts, line_t, line_m in table:
        for r in pts:
            lines.append(f"{label:>14} {int(r['n']):>6} {r['held'] or '-':>6} {float(r['tta_median_ms']):>10.1f} "
                         f"{float(r['tta_p90_ms']) if r.get('tta_p90_ms') else 0:>8.1f} "
                         f"{float(r['rss_after_kb']) / 1024:>8.1f} {r.get('rss_per_sub_kib') or '-':>10}")
        if line_t and line_m:
            lines.append(f"{label:>14} linear fit: time-to-all {line_t[0] * 1000:.2f} ms per 1,000 streams "
                         f"({line_t[1]:+.1f} ms), RSS {line_m[0]:.2f} KiB per stream ({line_m[1] / 1024:+.1f} MB)")
    lines.append("")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench/out/curves"
    pngs = sys.argv[2] if len(sys.argv) > 2 else "docs/bench"
    os.makedirs(pngs, exist_ok=True)
    lines = []
    drawn = []
    for name, draw in (("reads", plot_reads), ("writes", plot_writes), ("streams", plot_streams)):
        rows = read_csv(os.path.join(out, f"{name}.csv"))
        if not rows:
            continue
        meta_file = os.path.join(out, f"{name}.meta.env")
        meta = read_env(meta_file) if os.path.exists(meta_file) else {}
        lines.append(f"[{name}] bench/curves/run.sh, {meta.get('date', '?')}: {meta.get('cores', '?')} cores, "
                     f"{meta.get('cpu', '?')}, Linux {meta.get('kernel', '?')}, commit {meta.get('commit', '?')}")
        lines.append(f"binary {meta.get('binary', '?')}; load average {meta.get('loadavg_start', '?')} at the "
                     f"start, {meta.get('loadavg_end', '?')} at the end")
        png = os.path.join(pngs, f"{name}.png")
        draw(rows, meta, png, lines)
        drawn.append(png)
        bad = [r for r in rows if r.get("non2xx") not in (None, "", "0")]
        bad += [r for r in rows if r.get("events_missing") not in (None, "", "0")]
        if bad:
            lines.append(f"NOTE {name}: {len(bad)} run(s) with non-2xx answers or missing events: see {out}/{name}.csv")
            lines.append("")
    text = "\n".join(lines)
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    print(text)
    print("plots: " + ", ".join(drawn))


if __name__ == "__main__":
    main()
