#!/usr/bin/env bash
# The benchmark of issue 2 (`make bench`): each figure of the release server beside a
# baseline measured in the same run, because the machine is shared and noisy.
#
#   GET /todos/{id}, GET /todos?where=...&limit=20   vs  a bare libmicrohttpd server (bare_mhd.c),
#                                                    taking turns (BENCH_ROUNDS), medians
#   POST /todos (--durability normal / full)         vs  raw SQLite single-row inserts (sqlite_insert.c),
#                                                    taking turns too
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

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # PORT PID LOG NAME: until the port accepts connections (30 s)
  local port=$1 pid=$2 log=$3 name=$4
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2 || true; die "$name exited during start-up (log above)"; }
    if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  cat "$log" >&2 || true
  die "$name does not accept connections on port $port after 30 s"
}

rss_mb() { # PID -> VmRSS in MB
  awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

cpu_ticks() { # PID -> utime + stime, in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# wait_idle PID NAME: until the process uses under 5% of a core over half a second
# (at most 60 s). wrk abandons requests that time out, and the server may still be
# working on them: that work must not overlap the next measurement.
wait_idle() {
  local pid=$1 name=$2 hz before after waited=0
  hz=$(getconf CLK_TCK)
  before=$(cpu_ticks "$pid")
  while ((waited < 120)); do
    sleep 0.5
    waited=$((waited + 1))
    after=$(cpu_ticks "$pid")
    if (((after - before) * 100 < hz * 5 / 2)); then
      ((waited > 1)) && say "  $name went idle after $((waited / 2)) s"
      return 0
    fi
    before=$after
  done
  say "WARNING: $name still busy 60 s after the load"
  record "note_busy_${name}_${SECONDS}" "$name was still busy 60 s after a load ended"
}

alive_or_die() { # PID LOG NAME
  kill -0 "$1" 2>/dev/null || { tail -n 50 "$3" >&2 || true; die "$2 died (log above)"; }
}

record() { echo "$1=$2" >>"$RESULTS"; }

# ---------------------------------------------------------------- wrk and its output
to_ms() { # wrk latency (us, ms, s) -> milliseconds
  awk -v x="$1" 'BEGIN {
    v = x + 0
    if (x ~ /us$/) v = v / 1000; else if (x ~ /ms$/) v = v; else if (x ~ /m$/) v = v * 60000; else if (x ~ /s$/) v = v * 1000
    printf "%.3f", v }'
}

# run_wrk NAME URL [wrk options...] [-- script args...]: runs wrk against the process
# TARGET_PID; records NAME_rps, NAME_p99_ms and NAME_cpu_us (the server's CPU time per
# request), and notes non-2xx responses and socket errors.
TARGET_PID=
run_wrk() {
  local name=$1 url=$2
  shift 2
  local file=$OUT/wrk-$name.txt
  local opts=() script_args=()
  while (($#)); do   # wrk wants its options, then the URL, then -- and the script's args
    if [ "$1" = "--" ]; then shift; script_args=("--" "$@"); break; fi
    opts+=("$1"); shift
  done
  say "wrk $name: -t$THREADS -c$CONNS -d${SECS}s ${opts[*]} $url ${script_args[*]}"
  local ticks0
  ticks0=$(cpu_ticks "$TARGET_PID")
  if ! wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout "$TIMEOUT" --latency "${opts[@]}" "$url" "${script_args[@]}" >"$file" 2>&1; then
    cat "$file" >&2
    die "wrk failed for $name"
  fi
  local ticks1 hz
  ticks1=$(cpu_ticks "$TARGET_PID")
  hz=$(getconf CLK_TCK)
  local rps p99 total non2xx sockerr
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$file")
  p99=$(awk '/^ +99%/ { print $2 }' "$file")
  total=$(awk '/ requests in / { print $1 }' "$file")
  non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$file")
  sockerr=$(awk '/Socket errors:/ { sub(/^ *Socket errors: */, ""); print }' "$file")
  [ -n "$rps" ] || { cat "$file" >&2; die "no Requests/sec in the wrk output of $name"; }
  record "${name}_rps" "$rps"
  [ -n "$p99" ] && record "${name}_p99_ms" "$(to_ms "$p99")"
  record "${name}_requests" "${total:-0}"
  # CPU time the server process spent per request (user + system, all its threads).
  if ((${total:-0} > 0)); then
    record "${name}_cpu_us" "$(awk -v d=$((ticks1 - ticks0)) -v hz="$hz" -v n="$total" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')"
  fi
  if [ -n "$non2xx" ]; then
    record "note_${name}_non2xx" "$name: $non2xx of ${total:-?} responses were not 2xx/3xx"
    say "WARNING: $name: $non2xx non-2xx/3xx responses"
  fi
  if [ -n "$sockerr" ]; then
    record "note_${name}_sockerr" "$name: socket errors: $sockerr"
    say "WARNING: $name: socket errors: $sockerr"
  fi
  say "  $name: $rps req/s, p99 ${p99:-?}"
}

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
SERVER_PID=
SERVER_PORT=
SERVER_LOG=
start_server() { # DURABILITY
  local durability=$1
  SERVER_PORT=$(free_port)
  SERVER_LOG=$TMP/server-$durability.log
  "$BIN" serve --config "$BENCH/todos.yaml" --host "$HOST" --port "$SERVER_PORT" \
    --store "sqlite:$TMP/app.sqlite" --durability "$durability" --log-level warning --max-connections-per-ip 0 >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_port "$SERVER_PORT" "$SERVER_PID" "$SERVER_LOG" "backbone-sse (durability $durability)"
  say "backbone-sse --durability $durability: pid $SERVER_PID, port $SERVER_PORT"
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
server_count() { # documents in todos (X-Total-Count of a truncated page)
  python3 - "$HOST" "$SERVER_PORT" <<'PY' || echo "?"
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=60)
c.request("GET", "/todos?limit=1")
r = c.getresponse()
r.read()
print(r.getheader("X-Total-Count") or "?")
PY
}
say "seeding $SEED documents (PUT /todos/{id}, $SEED_CONNS connections)"
mkdir -p "$TMP/markers"
seed_threads=$THREADS
((SEED_CONNS >= seed_threads)) || SEED_CONNS=$seed_threads
seed_start=$(date +%s.%N)
wrk -t"$seed_threads" -c"$SEED_CONNS" -d3600s -s "$BENCH/lua/seed.lua" "http://$HOST:$SERVER_PORT" \
  -- "$SEED" "$seed_threads" "$TMP/markers" >"$OUT/wrk-seed.txt" 2>&1 &
SEED_PID=$!
PIDS+=("$SEED_PID")
seed_deadline=$((SECONDS + 900))
next_probe=$((SECONDS + 30))
last_count=
while :; do
  n=$(find "$TMP/markers" -name 'seed-*' | wc -l)
  ((n >= seed_threads)) && break
  kill -0 "$SEED_PID" 2>/dev/null || { cat "$OUT/wrk-seed.txt" >&2; die "wrk (seeding) exited before the seeding was done"; }
  alive_or_die "$SERVER_PID" "$SERVER_LOG" "backbone-sse"
  ((SECONDS < seed_deadline)) || die "seeding did not finish within 900 s"
  if ((SECONDS >= next_probe)); then   # a lost answer would keep wrk waiting forever
    count=$(server_count)
    say "  $count documents stored"
    if [ "$count" = "$last_count" ]; then
      die "seeding stalled at $count documents ($n of $seed_threads wrk threads done): see $OUT/wrk-seed.txt"
    fi
    last_count=$count
    next_probe=$((SECONDS + 30))
  fi
  sleep 0.2
done
seed_end=$(date +%s.%N)
kill -INT "$SEED_PID" 2>/dev/null || true   # wrk ends early, with its summary, on SIGINT
for _ in $(seq 50); do kill -0 "$SEED_PID" 2>/dev/null || break; sleep 0.1; done
stop_pid "$SEED_PID"
created=$(cat "$TMP"/markers/seed-* | awk '{ s += $1 } END { print s + 0 }')
seed_errors=$(cat "$TMP"/markers/seed-* | awk '{ s += $2 } END { print s + 0 }')
seed_rps=$(awk -v n="$created" -v a="$seed_start" -v b="$seed_end" 'BEGIN { printf "%.0f", n / (b - a) }')
record seed_rps "$seed_rps"
record seeded "$created"
say "seeded $created documents in $(awk -v a="$seed_start" -v b="$seed_end" 'BEGIN { printf "%.1f", b - a }') s ($seed_rps/s), $seed_errors failed"
((seed_errors == 0)) || record note_seed_errors "seeding: $seed_errors PUTs were not answered 201 (see $OUT/wrk-seed.txt)"
# What the server says it holds.
stored=$(server_count)
say "the server reports $stored documents"
[ "$stored" = "$created" ] || record note_seed_count "seeding: $created PUTs answered 201 but the server lists $stored documents"
((created > 0)) || die "no document was seeded"

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
# median_round NAME ROUNDS [RATE]: NAME_RATE (rps, or ips for sqlite_insert), NAME_p99_ms,
# NAME_cpu_us and NAME_requests become those of the round with the median rate (rounds
# recorded as NAME_r1 .. NAME_rROUNDS); NAME_rounds lists every round's rate.
median_round() {
  local name=$1 rounds=$2 rate=${3:-rps} pick
  pick=$(for r in $(seq "$rounds"); do
    awk -F= -v k="${name}_r${r}_${rate}" -v r="$r" '$1 == k { print $2, r }' "$RESULTS"
  done | sort -n | awk '{ a[NR] = $2 } END { print a[int((NR + 1) / 2)] }')
  [ -n "$pick" ] || die "no rounds recorded for $name"
  local suffix value
  for suffix in "$rate" p99_ms cpu_us requests; do
    value=$(awk -F= -v k="${name}_r${pick}_${suffix}" '$1 == k { print $2 }' "$RESULTS")
    [ -n "$value" ] && record "${name}_${suffix}" "$value"
  done
  record "${name}_rounds" "$(for r in $(seq "$rounds"); do
    awk -F= -v k="${name}_r${r}_${rate}" '$1 == k { printf "%.0f ", $2 }' "$RESULTS"; done)"
}

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
stop_pid "$BARE_PID"

# ---------------------------------------------------------------- writes, durability normal
# writes_in_turns DURABILITY: like the reads, raw SQLite's inserts and the server's
# POSTs take ROUNDS turns; medians kept as sqlite_DURABILITY_ips and post_DURABILITY_rps.
writes_in_turns() {
  local durability=$1 r file
  file=$OUT/sqlite-$durability.txt
  for r in $(seq "$ROUNDS"); do
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
