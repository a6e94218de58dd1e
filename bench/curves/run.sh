#!/usr/bin/env bash
# How cost grows (issue 18): the curves behind the README's single figures, measured on
# the release server beside a baseline taken in the same run, then drawn as PNGs in
# docs/bench/ by bench/curves/plot.py.
#
#   reads    GET /todos/{id} (random ids) and a filtered, indexed list of 20
#            (GET /todos?where={"created":{"$gte":A,"$lt":A+100s}}&limit=20, the window
#            drawn at random each request: no answer from the list cache; its one-URL
#            repeat, answered from the cache, beside it) at each size of CURVES_SIZES,
#            the store seeded with `backbone-sse import` (bench/curves/make_docs.py);
#            the bare libmicrohttpd server (bench/bare_mhd.c) runs the same wrk scripts.
#   writes   POST /todos at each writer count of CURVES_WRITERS (wrk connections),
#            --durability normal and full, each on a fresh empty store, beside raw
#            SQLite inserts (bench/sqlite_insert.c: one thread, one transaction per row).
#   streams  bench/streams/run.sh with STREAMS_N=CURVES_STREAMS_N: one write reaching N
#            idle streams, and RSS, BackboneSSE beside nginx + Nchan. Its files in
#            bench/out (those of bench/run.sh's stream run) are set aside while it runs
#            and put back after; this run's go to bench/out/curves/streams/.
#
# Each wrk run lasts CURVES_SECONDS; the runs of a part take CURVES_TURNS turns, the
# server and its baseline alternately (the machine is shared and noisy); plot.py keeps
# the median turn. Every run is one CSV row in bench/out/curves/{reads,writes,streams}.csv;
# the machine, date and commit of each part go to bench/out/curves/<part>.meta.env; the raw wrk output to
# bench/out/curves/wrk-*.txt. Then plot.py draws docs/bench/*.png and writes
# bench/out/curves/summary.txt.
#
# Environment (all optional):
#   CURVES_SIZES="10000 100000 1000000"        documents, for the reads
#   CURVES_WRITERS="1 4 16 64 256"             wrk connections, for the writes
#   CURVES_STREAMS_N="1000 2500 5000 7500 10000"
#   CURVES_SECONDS=5      duration of each wrk run (and of each raw SQLite run)
#   CURVES_TURNS=2        turns per part (medians)
#   CURVES_PARTS="reads writes streams"        the parts to run (plot.py draws those with a CSV)
#   CURVES_PLOT=1         0: measure only
#   BENCH_THREADS=2       wrk threads (fewer when there are fewer connections)
#   BENCH_CONNECTIONS=64  wrk connections for the reads
#   BENCH_TIMEOUT=10s     wrk --timeout
#   BENCH_SERVER=.build/release/backbone-sse
#   BENCH_KEEP_TMP=1      keep the temporary folder (stores, server logs)
set -euo pipefail

cd "$(dirname "$0")/../.."
BENCH=bench
CURVES=bench/curves
OUT=bench/out/curves
SIZES=${CURVES_SIZES:-10000 100000 1000000}
WRITERS=${CURVES_WRITERS:-1 4 16 64 256}
STREAMS_NS=${CURVES_STREAMS_N:-1000 2500 5000 7500 10000}
SECS=${CURVES_SECONDS:-5}
TURNS=${CURVES_TURNS:-2}
PARTS=${CURVES_PARTS:-reads writes streams}
MAX_THREADS=${BENCH_THREADS:-2}
READ_CONNS=${BENCH_CONNECTIONS:-64}
TIMEOUT=${BENCH_TIMEOUT:-10s}
BIN=${BENCH_SERVER:-.build/release/backbone-sse}
export BENCH_SERVER=$BIN
HOST=127.0.0.1
WINDOW=100   # documents in a list's created window (list_window.lua)

say() { printf '[curves] %s\n' "$*" >&2; }
die() { printf '[curves] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
command -v wrk >/dev/null 2>&1 || die "wrk is not installed (scripts/install-deps.sh bench)"
command -v gcc >/dev/null 2>&1 || die "gcc is not installed (scripts/install-deps.sh bench)"
pkg-config --exists libmicrohttpd || die "libmicrohttpd not found by pkg-config (apt-get install libmicrohttpd-dev)"
[ -x "$BIN" ] || die "no server binary at $BIN: run 'swift build -c release' first (or make bench)"
for n in $SIZES $WRITERS $STREAMS_NS "$SECS" "$TURNS" "$MAX_THREADS" "$READ_CONNS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "bad number in the CURVES_*/BENCH_* settings: '$n'"
done
# matplotlib: the python3 on the PATH, else Debian's (python3-matplotlib).
PY=python3
if [ "${CURVES_PLOT:-1}" = 1 ] && ! $PY -c 'import matplotlib' 2>/dev/null; then
  PY=/usr/bin/python3
  $PY -c 'import matplotlib' 2>/dev/null || die "matplotlib not found (apt-get install python3-matplotlib)"
fi
has_part() { [[ " $PARTS " == *" $1 "* ]]; }

mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/backbone-curves.XXXXXX")
RESULTS=$OUT/curves.env   # run_wrk's key=value records, read back into the CSVs
: >"$RESULTS"
record() { echo "$1=$2" >>"$RESULTS"; }

# ---------------------------------------------------------------- processes and clean-up
STOP_SECONDS=10
# shellcheck source=../lib/common.sh
source "$BENCH/lib/common.sh"
# shellcheck source=../lib/wrk.sh
source "$BENCH/lib/wrk.sh"

# The stream part sets bench/run.sh's stream files aside (STASH) while it runs; they go
# back on any exit, before common.sh's cleanup.
STASH=
restore_streams() {
  [ -n "$STASH" ] || return 0
  local f
  for f in "$STASH"/*; do
    if [ -e "$f" ]; then mv -f "$f" bench/out/; fi
  done
  rmdir "$STASH" 2>/dev/null || true
  STASH=
}
trap 'st=$?; restore_streams; (exit $st); cleanup' EXIT

# ---------------------------------------------------------------- the machine and the build
# write_meta PART: OUT/PART.meta.env, what plot.py prints on PART's plot (a part run
# alone later keeps the other parts' CSVs and their own meta files).
write_meta() {
  {
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cores=$(nproc)"
    echo "cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "kernel=$(uname -r)"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo '+dirty')"
    echo "binary=$BIN, built $(date -u -d "@$(stat -c %Y "$BIN")" +%Y-%m-%dT%H:%M:%SZ)"
    echo "binary_built=$(date -u -d "@$(stat -c %Y "$BIN")" +%Y-%m-%dT%H:%MZ)"
    # -quit, not head: under pipefail a find cut short by head fails (SIGPIPE).
    echo "stale_source=$(find Sources Package.swift -type f -newer "$BIN" -print -quit 2>/dev/null || true)"
    echo "seconds=$SECS"
    echo "turns=$TURNS"
    echo "read_connections=$READ_CONNS"
    echo "window=$WINDOW"
    echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  } >"$OUT/$1.meta.env"
}
end_meta() { echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/$1.meta.env"; }

# The C baselines (bench/run.sh builds them too; built here when missing or older).
build_c() { # OUTPUT SOURCE gcc-args...
  local out=$1 src=$2
  shift 2
  [ -x "$out" ] && [ "$out" -nt "$src" ] && return 0
  say "building $out"
  gcc -O2 -Wall -o "$out" "$src" "$@" || die "cannot compile $src"
}
# shellcheck disable=SC2046
build_c bench/out/bare_mhd "$BENCH/bare_mhd.c" $(pkg-config --cflags --libs libmicrohttpd) -lpthread
build_c bench/out/sqlite_insert "$BENCH/sqlite_insert.c" -lsqlite3

# ---------------------------------------------------------------- helpers
start_server() { # STORE_FILE DURABILITY
  start_backbone "$1" "$2" "$TMP/server-$(basename "$1" .sqlite)-$2.log"
}

stop_server() {
  stop_pid "$SERVER_PID"
  if [ -s "$SERVER_LOG" ]; then
    cp "$SERVER_LOG" "$OUT/"
    say "WARNING: the server logged $(wc -l <"$SERVER_LOG") line(s): see $OUT/$(basename "$SERVER_LOG")"
  fi
}

value() { # KEY: the last value recorded under KEY (empty when none)
  awk -F= -v k="$1" '$1 == k { v = substr($0, length(k) + 2) } END { print v }' "$RESULTS"
}

# measure CSV PREFIX NAME PID LOG URL [wrk options] [-- script args]: one wrk run against
# the process PID (its log: LOG); appends "PREFIX,rps,p99_ms,non2xx" to CSV (PREFIX: the
# row's leading columns).
measure() {
  local csv=$1 prefix=$2 name=$3 log=$5
  TARGET_PID=$4
  shift 5
  run_wrk "$name" "$@"
  alive_or_die "$TARGET_PID" "$log" "$name's server"
  local non2xx
  non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$OUT/wrk-$name.txt")
  echo "$prefix,$(value "${name}_rps"),$(value "${name}_p99_ms"),${non2xx:-0}" >>"$csv"
  wait_idle "$TARGET_PID" "$name"
}

# ---------------------------------------------------------------- reads
if has_part reads; then
  write_meta reads
  CSV=$OUT/reads.csv
  echo "docs,series,turn,rps,p99_ms,non2xx" >"$CSV"
  BARE_PORT=$(free_port)
  bench/out/bare_mhd "$BARE_PORT" >"$TMP/bare.log" 2>&1 &
  BARE_PID=$!
  PIDS+=("$BARE_PID")
  wait_port "$BARE_PORT" "$BARE_PID" "$TMP/bare.log" "bare_mhd"
  THREADS=$MAX_THREADS CONNS=$READ_CONNS
  ((CONNS >= THREADS)) || THREADS=$CONNS
  for docs in $SIZES; do
    store=$TMP/reads-$docs.sqlite
    say "reads at $docs documents: seeding with backbone-sse import"
    $PY "$CURVES/make_docs.py" "$docs" "$TMP/docs.jsonl"
    started=$(date +%s.%N)
    "$BIN" import --store "sqlite:$store" --config "$BENCH/todos.yaml" --file "$TMP/docs.jsonl" >"$TMP/import.log" 2>&1 \
      || { cat "$TMP/import.log" >&2; die "backbone-sse import failed"; }
    say "  imported $docs documents in $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
    rm -f "$TMP/docs.jsonl"
    start_server "$store" normal
    sleep 1
    wait_idle "$SERVER_PID" backbone-sse
    fixed="/todos?where=%7B%22created%22%3A%7B%22%24gte%22%3A%222026-01-01T00%3A00%3A00.000Z%22%2C%22%24lt%22%3A%222026-01-01T00%3A01%3A40.000Z%22%7D%7D&limit=20"
    for t in $(seq "$TURNS"); do
      say "reads at $docs documents, turn $t of $TURNS"
      base="http://$HOST:$BARE_PORT" srv="http://$HOST:$SERVER_PORT"
      measure "$CSV" "$docs,bare_id,$t" "r${docs}_bare_id_t$t" "$BARE_PID" "$TMP/bare.log" "$base" -s "$BENCH/lua/get_by_id.lua" -- "$docs"
      measure "$CSV" "$docs,get_id,$t" "r${docs}_get_id_t$t" "$SERVER_PID" "$SERVER_LOG" "$srv" -s "$BENCH/lua/get_by_id.lua" -- "$docs"
      measure "$CSV" "$docs,bare_list,$t" "r${docs}_bare_list_t$t" "$BARE_PID" "$TMP/bare.log" "$base" -s "$CURVES/list_window.lua" -- "$docs" "$WINDOW"
      measure "$CSV" "$docs,list,$t" "r${docs}_list_t$t" "$SERVER_PID" "$SERVER_LOG" "$srv" -s "$CURVES/list_window.lua" -- "$docs" "$WINDOW"
      measure "$CSV" "$docs,list_repeated,$t" "r${docs}_list_repeated_t$t" "$SERVER_PID" "$SERVER_LOG" "$srv$fixed"
    done
    record "rss_after_reads_${docs}_mb" "$(rss_mb "$SERVER_PID")"
    stop_server
    rm -f "$store" "$store"-wal "$store"-shm "$store".lock
  done
  stop_pid "$BARE_PID"
  end_meta reads
fi

# ---------------------------------------------------------------- writes
if has_part writes; then
  write_meta writes
  CSV=$OUT/writes.csv
  echo "durability,writers,series,turn,rps,p99_ms,non2xx" >"$CSV"
  for durability in normal full; do
    store=$TMP/writes-$durability.sqlite
    start_server "$store" "$durability"
    sleep 1
    for t in $(seq "$TURNS"); do
      say "writes, --durability $durability, turn $t of $TURNS: raw SQLite, ${SECS}s"
      file=$OUT/sqlite-$durability-t$t.txt
      bench/out/sqlite_insert "$durability" "$SECS" "$TMP/raw.sqlite" >"$file" 2>&1 \
        || { cat "$file" >&2; die "sqlite_insert $durability failed"; }
      echo "$durability,1,sqlite,$t,$(sed -n 's/.*inserts_per_sec=\([0-9.]*\).*/\1/p' "$file"),," >>"$CSV"
      say "  $(cat "$file")"
      for w in $WRITERS; do
        CONNS=$w THREADS=$MAX_THREADS
        ((CONNS >= THREADS)) || THREADS=$CONNS
        measure "$CSV" "$durability,$w,post,$t" "w_${durability}_c${w}_t$t" "$SERVER_PID" "$SERVER_LOG" \
          "http://$HOST:$SERVER_PORT/todos" -s "$BENCH/lua/post.lua"
      done
    done
    stop_server
    rm -f "$store" "$store"-wal "$store"-shm "$store".lock "$TMP"/raw.sqlite*
  done
  end_meta writes
fi

# ---------------------------------------------------------------- streams
if has_part streams; then
  write_meta streams
  STASH=$TMP/streams-stash
  mkdir -p "$STASH"
  for f in bench/out/streams.env bench/out/streams.txt bench/out/streams-*; do
    if [ -e "$f" ]; then mv "$f" "$STASH/"; fi
  done
  say "streams: bench/streams/run.sh with STREAMS_N=\"$STREAMS_NS\""
  status=0
  STREAMS_N=$STREAMS_NS BENCH_STRICT=0 bench/streams/run.sh || status=$?
  rm -rf "$OUT/streams"
  mkdir -p "$OUT/streams"
  for f in bench/out/streams.env bench/out/streams.txt bench/out/streams-*; do
    if [ -e "$f" ]; then mv "$f" "$OUT/streams/"; fi
  done
  restore_streams
  ((status == 0)) || die "bench/streams/run.sh failed (status $status)"
  # One row per server and N, from the stream run's key=value lines.
  $PY - "$OUT/streams/streams.env" "$OUT/streams.csv" $STREAMS_NS <<'PY'
import sys
env = {}
for line in open(sys.argv[1]):
    if "=" in line:
        k, v = line.rstrip("\n").split("=", 1)
        env[k] = v
keys = ["held", "tta_median_ms", "tta_p90_ms", "rss_before_kb", "rss_after_kb", "rss_per_sub_kib", "events_missing"]
with open(sys.argv[2], "w") as out:
    out.write("server,n," + ",".join(keys) + "\n")
    for server in ("backbone", "nchan"):
        for n in sys.argv[3:]:
            out.write(f"{server},{n}," + ",".join(env.get(f"{server}_{n}_{k}", "") for k in keys) + "\n")
PY
  grep -E '^(writes|interval_ms|nginx)=' "$OUT/streams/streams.env" >>"$OUT/streams.meta.env" || true
  end_meta streams
fi

# ---------------------------------------------------------------- plots
if [ "${CURVES_PLOT:-1}" = 1 ]; then
  $PY "$CURVES/plot.py" "$OUT" docs/bench
fi
say "done: CSVs in $OUT, plots in docs/bench, summary in $OUT/summary.txt"
