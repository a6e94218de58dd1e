#!/usr/bin/env bash
# The benchmark of issue 2 (`make bench`): each figure of the release server beside a
# baseline measured in the same run, because the machine is shared and noisy.
#
#   GET /todos/{id}, GET /todos?where=...&limit=20   vs  a bare libmicrohttpd server (bare_mhd.c),
#                                                    taking turns (BENCH_ROUNDS), medians
#   POST /todos (--durability normal / full)         vs  raw SQLite single-row inserts (sqlite_insert.c),
#                                                    taking turns too, with the bare server's
#                                                    POSTs answered at once and handed off
#                                                    (bare_mhd --hand-off): a POST's floor
#   POSTs and list GETs at once (half the connections each)   vs  each alone
#   p99 latency of the GETs; idle RSS after start-up and after the load.
#
# Prints the table and writes it to bench/out/results.txt (raw wrk output beside it).
# Expects the release binary (`swift build -c release`; `make bench` builds it first).
#
# Environment (all optional):
#   BENCH_SECONDS=10          duration of each wrk run
#   BENCH_ROUNDS=3            turns the reads, the POSTs and their baselines take (medians)
#   BENCH_INSERT_SECONDS=     duration of each raw SQLite run (default: BENCH_SECONDS)
#   BENCH_THREADS=2           wrk threads
#   BENCH_CONNECTIONS=64      wrk connections
#   BENCH_SEED=100000         documents seeded before the reads
#   BENCH_SEED_CONNECTIONS=64 connections used for seeding
#   BENCH_TIMEOUT=10s         wrk --timeout (a request slower than this counts as a timeout
#                             and is left out of the latency figures)
#   BENCH_SERVER=.build/release/backbone-sse
#   BENCH_STRICT=1            exit 3 when a target is missed (default: report only)
#   BENCH_KEEP_TMP=1          keep the temporary folder (store files, server logs)
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH=bench
OUT=$BENCH/out
SECS=${BENCH_SECONDS:-10}
INSERT_SECS=${BENCH_INSERT_SECONDS:-$SECS}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
SEED=${BENCH_SEED:-100000}
SEED_CONNS=${BENCH_SEED_CONNECTIONS:-64}
TIMEOUT=${BENCH_TIMEOUT:-10s}
BIN=${BENCH_SERVER:-.build/release/backbone-sse}
HOST=127.0.0.1

say() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
command -v wrk >/dev/null 2>&1 || die "wrk is not installed (scripts/install-deps.sh bench, or apt-get install wrk)"
command -v gcc >/dev/null 2>&1 || die "gcc is not installed (scripts/install-deps.sh bench)"
command -v python3 >/dev/null 2>&1 || die "python3 is needed for the report"
pkg-config --exists libmicrohttpd || die "libmicrohttpd not found by pkg-config (apt-get install libmicrohttpd-dev)"
[ -x "$BIN" ] || die "no server binary at $BIN: run 'swift build -c release' first (or make bench)"
for n in "$SECS" "$INSERT_SECS" "$THREADS" "$CONNS" "$SEED" "$SEED_CONNS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "bad number in the BENCH_* settings: '$n'"
done
((CONNS >= THREADS)) || die "BENCH_CONNECTIONS must be at least BENCH_THREADS"

mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/backbone-bench.XXXXXX")
RESULTS=$OUT/results.env
: >"$RESULTS"
rm -f "$OUT"/wrk-*.txt "$OUT"/sqlite-*.txt "$OUT"/results.txt

# ---------------------------------------------------------------- processes and clean-up
STOP_SECONDS=10
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
record() { echo "$1=$2" >>"$RESULTS"; }
# Ports, CPU and memory of a process, run_wrk, median_round, seed_docs.
# shellcheck source=lib/wrk.sh
source "$(dirname "$0")/lib/wrk.sh"

# ---------------------------------------------------------------- the C baselines
say "building bench/out/bare_mhd and bench/out/sqlite_insert"
# shellcheck disable=SC2046
gcc -O2 -Wall -o "$OUT/bare_mhd" "$BENCH/bare_mhd.c" $(pkg-config --cflags --libs libmicrohttpd) -lpthread \
  || die "cannot compile bench/bare_mhd.c"
gcc -O2 -Wall -o "$OUT/sqlite_insert" "$BENCH/sqlite_insert.c" -lsqlite3 \
  || die "cannot compile bench/sqlite_insert.c (libsqlite3-dev installed?)"

record date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
record cores "$(nproc)"
record threads "$THREADS"
record connections "$CONNS"
record seconds "$SECS"
record insert_seconds "$INSERT_SECS"
record_binary

# ---------------------------------------------------------------- servers
start_server() { # DURABILITY
  start_backbone "$TMP/app.sqlite" "$1" "$TMP/server-$1.log"
}

stop_server() {
  stop_pid "$SERVER_PID"
  if [ -s "$SERVER_LOG" ]; then
    cp "$SERVER_LOG" "$OUT/$(basename "$SERVER_LOG")"
    local lines
    lines=$(wc -l <"$SERVER_LOG")
    record "note_log_$(basename "$SERVER_LOG" .log)" "the server logged $lines line(s) at warning or above: see $OUT/$(basename "$SERVER_LOG")"
  fi
}

BARE_PORT=$(free_port)
"$OUT/bare_mhd" "$BARE_PORT" >"$TMP/bare.log" 2>&1 &
BARE_PID=$!
PIDS+=("$BARE_PID")
wait_port "$BARE_PORT" "$BARE_PID" "$TMP/bare.log" "bare_mhd"

start_server normal
sleep 1
record rss_start_mb "$(rss_mb "$SERVER_PID")"
say "idle RSS after start-up: $(rss_mb "$SERVER_PID") MB"

# ---------------------------------------------------------------- seeding
seed_docs "" "$SERVER_PORT" "$SERVER_PID" "$SERVER_LOG"
created=$SEEDED

# Check that the read URLs answer what they should before timing them.
check_url() { # PATH EXPECTED_STATUS
  local status
  status=$(python3 - "$HOST" "$SERVER_PORT" "$1" <<'PY'
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=30)
c.request("GET", sys.argv[3])
r = c.getresponse()
body = r.read()
print(r.status, len(body), r.getheader("Connection") or "-")
PY
) || status="error"
  say "  check GET $1: $status"
  case "$status" in
    "$2 "*) ;;
    *) record "note_check_$(echo "$1" | tr -c 'a-z0-9' '_' | cut -c1-20)" "GET $1 answered '$status', expected $2" ;;
  esac
  case "$status" in
    *" close") record "note_close_$(echo "$1" | tr -c 'a-z0-9' '_' | cut -c1-20)" "GET $1 answered with Connection: close (keep-alive lost)" ;;
  esac
}
LIST_PATH='/todos?where=%7B%22done%22%3Afalse%2C%22priority%22%3A%7B%22%24gte%22%3A2%7D%7D&limit=20'
check_url "/todos/seed000000" 200
check_url "$LIST_PATH" 200

# ---------------------------------------------------------------- reads

sleep 1
wait_idle "$SERVER_PID" backbone-sse
# The reads and their baselines take turns, ROUNDS times, and each keeps its median
# round: the load of this shared machine changes from one second to the next, and a
# baseline measured once, at another moment, carries that moment's load.
# GET by id and its baseline run the same wrk script (random /todos/seedNNNNNN paths;
# the bare server answers any path the same): wrk's Lua costs CPU on the same cores.
# The list and its baseline both ask one fixed URL, without Lua.
ROUNDS=${BENCH_ROUNDS:-3}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "bad BENCH_ROUNDS: '$ROUNDS'"
record rounds "$ROUNDS"
for r in $(seq "$ROUNDS"); do
  say "round $r of $ROUNDS"
  TARGET_PID=$BARE_PID
  run_wrk "bare_r$r" "http://$HOST:$BARE_PORT/todos/seed000000"
  run_wrk "bare_ids_r$r" "http://$HOST:$BARE_PORT" -s "$BENCH/lua/get_by_id.lua" -- "$created"
  alive_or_die "$BARE_PID" "$TMP/bare.log" "bare_mhd"
  TARGET_PID=$SERVER_PID
  run_wrk "get_id_r$r" "http://$HOST:$SERVER_PORT" -s "$BENCH/lua/get_by_id.lua" -- "$created"
  alive_or_die "$SERVER_PID" "$SERVER_LOG" "backbone-sse"
  wait_idle "$SERVER_PID" backbone-sse
  # One URL over and over: after the first, answered from the list cache (no write meanwhile).
  run_wrk "list_r$r" "http://$HOST:$SERVER_PORT$LIST_PATH"
  alive_or_die "$SERVER_PID" "$SERVER_LOG" "backbone-sse"
  wait_idle "$SERVER_PID" backbone-sse
done
for name in bare bare_ids get_id list; do median_round "$name" "$ROUNDS"; done
# The same read with one fixed URL and no Lua: tells wrk's own cost from the server's.
run_wrk get_fixed "http://$HOST:$SERVER_PORT/todos/seed000000"
alive_or_die "$SERVER_PID" "$SERVER_LOG" "backbone-sse"
wait_idle "$SERVER_PID" backbone-sse
# The same URL with Cache-Control: no-cache: the server runs the query every time (the
# total for X-Total-Count still comes from the store's count cache).
run_wrk list_fresh "http://$HOST:$SERVER_PORT$LIST_PATH" -H "Cache-Control: no-cache"
alive_or_die "$SERVER_PID" "$SERVER_LOG" "backbone-sse"
wait_idle "$SERVER_PID" backbone-sse

# The floor under a POST, before any JSON or SQLite: the bare server answering the same
# POSTs at once, and answering them the way the server answers a write (suspended,
# handed to another thread, resumed from there: bare_mhd --hand-off).
HANDOFF_PORT=$(free_port)
"$OUT/bare_mhd" "$HANDOFF_PORT" --hand-off >"$TMP/bare-hand-off.log" 2>&1 &
HANDOFF_PID=$!
PIDS+=("$HANDOFF_PID")
wait_port "$HANDOFF_PORT" "$HANDOFF_PID" "$TMP/bare-hand-off.log" "bare_mhd --hand-off"
bare_posts() { # ROUND
  TARGET_PID=$BARE_PID
  run_wrk "bare_post_r$1" "http://$HOST:$BARE_PORT/todos" -s "$BENCH/lua/post.lua"
  alive_or_die "$BARE_PID" "$TMP/bare.log" "bare_mhd"
  TARGET_PID=$HANDOFF_PID
  run_wrk "bare_hand_off_post_r$1" "http://$HOST:$HANDOFF_PORT/todos" -s "$BENCH/lua/post.lua"
  alive_or_die "$HANDOFF_PID" "$TMP/bare-hand-off.log" "bare_mhd --hand-off"
  TARGET_PID=$SERVER_PID
}

# ---------------------------------------------------------------- writes, durability normal
# writes_in_turns DURABILITY: like the reads, raw SQLite's inserts and the server's
# POSTs take ROUNDS turns; medians kept as sqlite_DURABILITY_ips and post_DURABILITY_rps.
# With `normal`, the bare server's POSTs (above) take their turns too.
writes_in_turns() {
  local durability=$1 r file
  file=$OUT/sqlite-$durability.txt
  for r in $(seq "$ROUNDS"); do
    [ "$durability" = normal ] && bare_posts "$r"
    say "round $r of $ROUNDS: raw SQLite inserts, synchronous=${durability^^}, ${INSERT_SECS}s"
    "$OUT/sqlite_insert" "$durability" "$INSERT_SECS" "$TMP/raw.sqlite" >"$file" 2>&1 \
      || { cat "$file" >&2; die "sqlite_insert $durability failed"; }
    record "sqlite_${durability}_r${r}_ips" "$(sed -n 's/.*inserts_per_sec=\([0-9.]*\).*/\1/p' "$file")"
    record "sqlite_${durability}_r${r}_cpu_us" "$(sed -n 's/.*cpu_us_per_insert=\([0-9.]*\).*/\1/p' "$file")"
    say "  $(grep inserts_per_sec "$file")"
    run_wrk "post_${durability}_r$r" "http://$HOST:$SERVER_PORT/todos" -s "$BENCH/lua/post.lua"
    alive_or_die "$SERVER_PID" "$SERVER_LOG" "backbone-sse"
    wait_idle "$SERVER_PID" backbone-sse
  done
  median_round "sqlite_$durability" "$ROUNDS" ips
  median_round "post_$durability" "$ROUNDS"
}
writes_in_turns normal
median_round bare_post "$ROUNDS"
median_round bare_hand_off_post "$ROUNDS"
stop_pid "$BARE_PID"
stop_pid "$HANDOFF_PID"

# ---------------------------------------------------------------- reads and writes at once
# What a live app's server does: half the connections POST while the other half read
# the indexed list, whose answer and X-Total-Count every write changes (the store holds
# every document posted above by now). Beside: the list alone with no-cache (each
# request runs its query) and the POSTs alone, from the turns above.
mixed_load() {
  local half=$((CONNS / 2)) file=$OUT/wrk-mixed_post.txt post_pid first
  # One list first, timed: its count, last taken before the POSTs above, is counted
  # again over every document (too many writes since to carry it), as after a restart.
  # The load then measures the steady state, each count carried from write to write.
  first=$(curl -s -o /dev/null -w '%{time_total}' "http://$HOST:$SERVER_PORT$LIST_PATH") || die "the first list failed"
  record mixed_first_list_ms "$(awk -v t="$first" 'BEGIN { printf "%.1f", t * 1000 }')"
  say "mixed: POST /todos and GET the list at once, $half connections each"
  wrk -t1 -c"$half" -d"${SECS}s" --timeout "$TIMEOUT" --latency -s "$BENCH/lua/post.lua" \
    "http://$HOST:$SERVER_PORT/todos" >"$file" 2>&1 &
  post_pid=$!
  CONNS=$half THREADS=1 run_wrk mixed_list "http://$HOST:$SERVER_PORT$LIST_PATH"
  wait "$post_pid" || { cat "$file" >&2; die "wrk failed for the mixed POSTs"; }
  record_wrk_output mixed_post "$file"
}
mixed_load
alive_or_die "$SERVER_PID" "$SERVER_LOG" "backbone-sse"

wait_idle "$SERVER_PID" backbone-sse
sleep 2
record rss_after_mb "$(rss_mb "$SERVER_PID")"
say "idle RSS after the load: $(rss_mb "$SERVER_PID") MB"
stop_server

# ---------------------------------------------------------------- writes, durability full
start_server full
TARGET_PID=$SERVER_PID
writes_in_turns full
stop_server

# ---------------------------------------------------------------- report
echo
status=0
python3 "$BENCH/report.py" "$RESULTS" "$OUT/results.txt" || status=$?
((status == 0 || status == 3)) || die "report.py failed"
say "table written to $OUT/results.txt (raw wrk output: $OUT/wrk-*.txt)"

# The stream benchmark (bench/streams/run.sh: idle EventSource subscribers, time-to-all,
# RSS per subscriber, beside nginx + Nchan). BENCH_STREAMS=0 skips it.
if [ "${BENCH_STREAMS:-1}" = 1 ]; then
  say "stream benchmark: bench/streams/run.sh (BENCH_STREAMS=0 skips it)"
  streams_status=0
  BENCH_STRICT=1 bench/streams/run.sh || streams_status=$?   # 3: a stream target missed
  ((streams_status == 0 || streams_status == 3)) || die "bench/streams/run.sh failed (status $streams_status)"
  if ((streams_status == 3)); then status=3; fi
fi
if [ "${BENCH_STRICT:-0}" = 1 ] && ((status == 3)); then exit 3; fi
exit 0
