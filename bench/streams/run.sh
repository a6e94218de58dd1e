#!/usr/bin/env bash
# The stream benchmark: idle EventSource subscribers, one write, the time until every
# subscriber has it, and the server's memory per subscriber. BackboneSSE beside nginx
# with the Nchan module, measured in the same run by the same client (sse_load.c).
#
# For each N in STREAMS_N and each server, a fresh server process:
#   - W warm-up writes, then B writes with no subscriber (their round trip is the
#     "no subscriber" write latency);
#   - RSS (VmRSS; for nginx the master and the worker summed), N subscribers opened
#     (held = answered 200 and sent a first frame), settle, RSS again: per-subscriber
#     RSS = delta / held;
#   - M writes spaced STREAMS_INTERVAL_MS after the previous one has reached everyone:
#     median and p90 time-to-all, and the write's own round trip with N subscribers.
#   Writes are sent and timed by a client thread at SCHED_FIFO when permitted (as root;
#   sse_load.c says why; STREAMS_PUB_PRIORITY=normal for a normal-priority one).
# BackboneSSE: GET /todos (Accept: text/event-stream), POST /todos {"title": ...}.
# Nchan: GET /sub (EventSource), POST /pub (bench/streams/nginx.conf).
#
# Prints the table with PASS/FAIL per target and writes it to bench/out/streams.txt
# (raw client output: bench/out/streams-<server>-<N>.txt).
#
# Environment (all optional):
#   STREAMS_N="1000 5000 10000"  subscriber counts
#   STREAMS_WRITES=40            measured writes per N (the round trips are medians of as many)
#   STREAMS_BASELINE_WRITES=20   writes with no subscriber per N
#   STREAMS_INTERVAL_MS=200      pause between writes
#   STREAMS_SETTLE_MS=2000       idle time between opening the subscribers and reading RSS
#   STREAMS_MAX_STREAMS=12000    BackboneSSE --max-streams
#   STREAMS_SERVER_FLAGS=        more flags for BackboneSSE and its twin, e.g.
#                                "--connection-memory 8KiB" (the pool trade-off's figure)
#   BENCH_SERVER=.build/release/backbone-sse
#   BENCH_STRICT=1               exit 3 when a target is missed (default: report only)
#   BENCH_KEEP_TMP=1             keep the temporary folder (store files, server logs)
#   STREAMS_PUB_PRIORITY=fifo    the publisher thread's priority: fifo or normal
#   STREAMS_LOG_LEVEL=warning    the servers' --log-level (info: a line per request, with
#                                its microseconds, in bench/out/streams-backbone-N.log)
#   BENCH_STREAMS_CROSS=1        several instances (issue 14) instead of one SQLite server:
#                                the subscribers on server B, every write on server A, both
#                                on one MongoDB database with --pubsub through a redis-server
#                                the script starts (--save '' --appendonly no); beside it, in
#                                the same run, B alone (subscribers and writes on B, same
#                                store, same flags), then Nchan. STREAMS_N defaults to 5000.
#                                The store is the MongoDB test double (Tests/mongo, Python,
#                                one command at a time), or MONGODB_URI when set (a database
#                                per run, left behind).
#   BENCH_STREAMS_AUTH=1         authorised streams (issue 15): BackboneSSE with an auth block
#                                (bench/auth/todos-auth.yaml; its twin too) in three cases,
#                                beside BackboneSSE without one and Nchan, in STREAMS_TURNS turns
#                                (default 3; the starting server rotates), medians of the turns:
#                                  one   N streams of one user on /todos (read: owner), writes by
#                                        that user: every stream may read each write (the case
#                                        comparable with Nchan's broadcast);
#                                  news  N streams of N distinct users on /news (read: user),
#                                        writes by one of them: every stream gets each write;
#                                  own   N streams of STREAMS_AUTH_USERS users (default 1000),
#                                        N/users each, on /todos (read: owner); write k by user
#                                        k % users reaches only that user's streams (the others
#                                        are checked and skipped); events_foreign counts leaks.
#                                Streams open with ?ticket= (POST /auth/ticket, one ticket per
#                                stream, fetched just before they open), or with the bearer
#                                header when STREAMS_AUTH_CRED=bearer. STREAMS_N defaults to 10000.
set -euo pipefail

cd "$(dirname "$0")/../.."
DIR=bench/streams
OUT=bench/out
CROSS=${BENCH_STREAMS_CROSS:-0}
AUTH=${BENCH_STREAMS_AUTH:-0}
read -r -a SERVER_FLAGS <<<"${STREAMS_SERVER_FLAGS:-}"
if [ "$CROSS" = 1 ]; then NS=${STREAMS_N:-5000}; elif [ "$AUTH" = 1 ]; then NS=${STREAMS_N:-10000}; else NS=${STREAMS_N:-1000 5000 10000}; fi
TURNS=${STREAMS_TURNS:-1}
[ "$AUTH" = 1 ] && TURNS=${STREAMS_TURNS:-3}
AUTH_USERS=${STREAMS_AUTH_USERS:-1000}
AUTH_CRED=${STREAMS_AUTH_CRED:-ticket}
# The authorised run keeps its files apart: bench/out/streams-auth/streams.txt and the rest.
[ "$AUTH" = 1 ] && OUT=bench/out/streams-auth
WRITES=${STREAMS_WRITES:-40}
BASE_WRITES=${STREAMS_BASELINE_WRITES:-20}
INTERVAL=${STREAMS_INTERVAL_MS:-200}
SETTLE=${STREAMS_SETTLE_MS:-2000}
MAX_STREAMS=${STREAMS_MAX_STREAMS:-12000}
LOG_LEVEL=${STREAMS_LOG_LEVEL:-warning}
PUB_PRIORITY=${STREAMS_PUB_PRIORITY:-fifo}
BIN=${BENCH_SERVER:-.build/release/backbone-sse}
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
HOST=127.0.0.1

say() { printf '[streams] %s\n' "$*" >&2; }
die() { printf '[streams] ERROR: %s\n' "$*" >&2; exit 1; }

command -v gcc >/dev/null 2>&1 || die "gcc is not installed (scripts/install-deps.sh bench)"
command -v python3 >/dev/null 2>&1 || die "python3 is needed for the report"
command -v nginx >/dev/null 2>&1 || die "nginx is not installed (scripts/install-deps.sh bench: nginx-light libnginx-mod-nchan)"
[ -f "$NCHAN_MODULE" ] || die "no Nchan module at $NCHAN_MODULE (apt-get install libnginx-mod-nchan)"
[ -x "$BIN" ] || die "no server binary at $BIN: run 'swift build -c release' first (or make bench)"
if [ "$CROSS" = 1 ]; then
  command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed (scripts/install-deps.sh bench)"
  [ -x "$(dirname "$BIN")/backbone-sse-mongodb" ] || die "no backbone-sse-mongodb beside $BIN (the MongoDB store's executable)"
fi
[ "$CROSS" = 1 ] && [ "$AUTH" = 1 ] && die "BENCH_STREAMS_CROSS and BENCH_STREAMS_AUTH do not go together"
case $AUTH_CRED in ticket | bearer) ;; *) die "STREAMS_AUTH_CRED must be ticket or bearer" ;; esac
for n in $NS "$WRITES" "$BASE_WRITES" "$INTERVAL" "$SETTLE" "$MAX_STREAMS" "$TURNS" "$AUTH_USERS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "bad number in the STREAMS_* settings: '$n'"
done

# Both servers and the client hold one descriptor per subscriber.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
for n in $NS; do
  ((n + 64 <= nofile)) || die "the open-file limit ($nofile) is too low for $n subscribers"
done

mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/backbone-streams.XXXXXX")
RESULTS=$OUT/streams.env
: >"$RESULTS"
rm -f "$OUT"/streams-*.txt "$OUT/streams.txt"
record() { echo "$1=$2" >>"$RESULTS"; }

# ---------------------------------------------------------------- processes and clean-up
STOP_SECONDS=15
# shellcheck source=lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # PORT PID LOG NAME
  local port=$1 pid=$2 log=$3 name=$4
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2 || true; die "$name exited during start-up (log above)"; }
    if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  cat "$log" >&2 || true
  die "$name does not accept connections on port $port after 30 s"
}

# ---------------------------------------------------------------- the client
say "building $OUT/sse_load"
gcc -O2 -Wall -o "$OUT/sse_load" "$DIR/sse_load.c" -lpthread || die "cannot compile $DIR/sse_load.c"

record date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
record cores "$(nproc)"
record loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
record writes "$WRITES"
record baseline_writes "$BASE_WRITES"
record interval_ms "$INTERVAL"
record ns "$NS"
record nginx "$(nginx -v 2>&1 | sed 's/^nginx version: //'), nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null || echo '?')"
record cross "$CROSS"
record auth "$AUTH"
record server_flags "${STREAMS_SERVER_FLAGS:-}"
record_binary

# run_client NAME N PORT SUB PUB KIND EXPECT_EVENT PID...: the client's key=value lines
# go to the results as NAME_N_key. CLIENT_ARGS: more sse_load options (credentials).
# TWIN_PORT, when set, is a twin of the server with no
# subscriber, written to between the measured writes (sse_load --twin-port).
run_client() {
  local name=$1 n=$2 port=$3 sub=$4 pub=$5 kind=$6 expect=$7
  shift 7
  local twin_args=()
  [ -n "${TWIN_PORT:-}" ] && twin_args=(--twin-port "$TWIN_PORT")
  [ -n "${PUB_PORT:-}" ] && twin_args+=(--pub-port "$PUB_PORT")
  twin_args+=("${CLIENT_ARGS[@]}")
  local pid_args=() p
  for p in "$@"; do pid_args+=(--pid "$p"); done
  local raw=$OUT/streams-$name-$n.txt
  say "$name, N=$n: pids $*, port $port"
  if ! "$OUT/sse_load" --host "$HOST" --port "$port" --sub-path "$sub" --pub-path "$pub" --pub-kind "$kind" \
      --expect-event "$expect" -n "$n" -m "$WRITES" --baseline-writes "$BASE_WRITES" --interval-ms "$INTERVAL" \
      --settle-ms "$SETTLE" --open-timeout-s $((60 + n / 100)) --pub-priority "$PUB_PRIORITY" "${pid_args[@]}" "${twin_args[@]}" >"$raw" 2>"$TMP/client.err"; then
    cat "$TMP/client.err" >&2
    record "note_client_${name}_$n" "the load client failed against $name at N=$n (see $raw)"
    say "WARNING: the client failed against $name at N=$n"
    return 0
  fi
  sed 's/^/    /' "$TMP/client.err" >&2
  grep -E '^[a-z_0-9]+=' "$raw" | sed "s/^/${name}_${n}_/" >>"$RESULTS"
  local line
  line=$(grep -E '^(held|rss_per_sub_kib|tta_median_ms|post_median_ms|base_post_median_ms|twin_post_median_ms|events_missing)=' "$raw" | tr '\n' ' ' || true)
  say "  $line"
}

# ---------------------------------------------------------------- BackboneSSE
# The write round trip with no subscriber is measured on a twin: the same binary and
# flags on a store of its own, written to just before each measured write, so that both
# round trips share the machine's load of the same seconds (this 2-core VM's idle round
# trips vary from 0.3 to 3 ms from one minute to the next).
CLIENT_ARGS=()
bench_backbone() { # N [NAME CASE]: CASE one, news or own (BENCH_STREAMS_AUTH=1); none: no auth block
  local n=$1 name=${2:-backbone} case=${3:-} port log dir pid twin_port twin_dir twin_pid
  local config=bench/todos.yaml path=/todos
  if [ -n "$case" ]; then config=bench/auth/todos-auth.yaml; fi
  [ "$case" = news ] && path=/news
  port=$(free_port)
  dir=$TMP/$name-$n
  mkdir -p "$dir"
  log=$dir/server.log
  "$BIN" serve --config "$config" --host "$HOST" --port "$port" --store "sqlite:$dir/app.sqlite" \
    --log-level "$LOG_LEVEL" --max-streams "$MAX_STREAMS" --max-connections-per-ip 0 ${SERVER_FLAGS[@]+"${SERVER_FLAGS[@]}"} >"$log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_port "$port" "$pid" "$log" "backbone-sse"
  twin_port=$(free_port)
  twin_dir=$TMP/$name-twin-$n
  mkdir -p "$twin_dir"
  "$BIN" serve --config "$config" --host "$HOST" --port "$twin_port" --store "sqlite:$twin_dir/app.sqlite" \
    --log-level "$LOG_LEVEL" --max-streams "$MAX_STREAMS" --max-connections-per-ip 0 ${SERVER_FLAGS[@]+"${SERVER_FLAGS[@]}"} >"$twin_dir/server.log" 2>&1 &
  twin_pid=$!
  PIDS+=("$twin_pid")
  wait_port "$twin_port" "$twin_pid" "$twin_dir/server.log" "backbone-sse (twin)"
  sleep 0.5
  CLIENT_ARGS=()
  [ -n "$case" ] && auth_client_args "$case" "$n" "$port" "$dir"
  TWIN_PORT=$twin_port run_client "$name" "$n" "$port" "$path" "$path" json create "$pid"
  CLIENT_ARGS=()
  stop_pid "$twin_pid"
  if [ -s "$twin_dir/server.log" ]; then cp "$twin_dir/server.log" "$OUT/streams-$name-twin-$n.log"; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    record "note_died_${name}_$n" "backbone-sse died during the run at N=$n (log: $OUT/streams-$name-$n.log)"
  fi
  sleep 0.5 # the client has closed its sockets; let the server see it before stopping it
  stop_pid "$pid"
  if [ -s "$log" ]; then
    cp "$log" "$OUT/streams-$name-$n.log"
    if [ "$LOG_LEVEL" = warning ]; then
      record "note_log_${name}_$n" "backbone-sse ($name) logged $(wc -l <"$log") line(s) at warning or above at N=$n: see $OUT/streams-$name-$n.log"
    fi
  fi
}

# ---------------------------------------------------------------- authorised streams
# BENCH_STREAMS_AUTH=1: the tokens of each case are made once (a secret of this run);
# the tickets, which live 60 s and only where they were issued, per server, just before
# the client opens the streams. Sets CLIENT_ARGS.
auth_tokens() { # N: writes $TMP/tokens-{one,news,own}-N.txt
  local n=$1
  [ -s "$TMP/tokens-own-$n.txt" ] && return 0
  python3 bench/auth/creds.py tokens --users 1 --count 1 --out "$TMP/tokens-one-$n.txt"
  python3 bench/auth/creds.py tokens --users "$n" --count "$n" --out "$TMP/tokens-news-$n.txt"
  python3 bench/auth/creds.py tokens --users "$AUTH_USERS" --count "$AUTH_USERS" --out "$TMP/tokens-own-$n.txt"
}

auth_client_args() { # CASE N PORT DIR
  local case=$1 n=$2 port=$3 dir=$4 groups=1 out
  auth_tokens "$n"
  local tokens=$TMP/tokens-$case-$n.txt
  [ "$case" = own ] && groups=$AUTH_USERS
  # Stream i is the user of token line i % lines (the one user, user i, user i % users).
  out=$(python3 bench/auth/creds.py tickets --port "$port" --tokens "$tokens" --count "$n" --out "$dir/sub-lines.txt" \
    --format "$([ "$AUTH_CRED" = ticket ] && echo query || echo header)") || die "could not fetch the stream tickets"
  [ -n "$out" ] && say "  $case: $out"
  # Write k as the user of line k % lines: the one user; user 0 (news); user k % users (own).
  head -n "$groups" "$tokens" | sed 's/^/Authorization: Bearer /' >"$dir/pub-lines.txt"
  CLIENT_ARGS=(--sub-lines "$dir/sub-lines.txt" --pub-lines "$dir/pub-lines.txt" --groups "$groups")
}

# ---------------------------------------------------------------- nginx + Nchan
bench_nchan() { # N [NAME]
  local n=$1 name=${2:-nchan} port prefix log pid worker=
  port=$(free_port)
  prefix=$TMP/nginx-$n
  mkdir -p "$prefix/tmp"
  sed "s/@PORT@/$port/" "$DIR/nginx.conf" >"$prefix/nginx.conf"
  log=$prefix/error.log
  nginx -c "$prefix/nginx.conf" -p "$prefix/" >"$log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_port "$port" "$pid" "$log" "nginx"
  for _ in $(seq 50); do
    worker=$(pgrep -P "$pid" | head -n 1 || true)
    [ -n "$worker" ] && break
    sleep 0.1
  done
  [ -n "$worker" ] || die "no nginx worker process under $pid"
  sleep 0.5
  run_client "$name" "$n" "$port" /sub /pub text "" "$pid" "$worker"
  sleep 0.5
  stop_pid "$pid"
  if grep -qv '^\s*$' "$log" 2>/dev/null; then
    cp "$log" "$OUT/streams-nchan-$n.log"
    record "note_log_nchan_$n" "nginx logged $(grep -c . "$log") line(s) at N=$n: see $OUT/streams-nchan-$n.log"
  fi
}

# ---------------------------------------------------------------- several instances
# BENCH_STREAMS_CROSS=1: a MongoDB store (the test double unless MONGODB_URI) and a
# redis-server, both started once for the run.
MONGO_BASE=
REDIS_URL=
start_store_and_redis() {
  if [ -n "${MONGODB_URI:-}" ]; then
    MONGO_BASE=${MONGODB_URI%/}
    record store "MONGODB_URI"
  else
    local port_file=$TMP/mongo-double.port pid
    python3 Tests/mongo/mongo_double.py --port 0 --port-file "$port_file" >"$TMP/mongo-double.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 300); do
      [ -s "$port_file" ] && break
      kill -0 "$pid" 2>/dev/null || { cat "$TMP/mongo-double.log" >&2; die "the MongoDB test double exited at start"; }
      sleep 0.1
    done
    [ -s "$port_file" ] || die "the MongoDB test double did not start in 30 s"
    MONGO_BASE=mongodb://$HOST:$(cat "$port_file")
    record store "the MongoDB test double (Tests/mongo/mongo_double.py: Python, one command at a time)"
  fi
  local rport rpid
  rport=$(free_port)
  redis-server --port "$rport" --bind "$HOST" --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
  rpid=$!
  PIDS+=("$rpid")
  wait_port "$rport" "$rpid" "$TMP/redis.log" "redis-server"
  REDIS_URL=redis://$HOST:$rport
  record redis "$(redis-server --version | sed 's/^Redis server //; s/ sha=.*//')"
}

mongo_store() { # DATABASE: the --store URL (options, if any, after the database)
  local base=$MONGO_BASE
  if [[ "$base" == *\?* ]]; then echo "${base%%\?*}/$1?${base#*\?}"; else echo "$base/$1"; fi
}

start_mongo_server() { # NAME DATABASE: starts one, sets STARTED_PID and STARTED_PORT
  local name=$1 port dir
  port=$(free_port)
  dir=$TMP/$name
  mkdir -p "$dir"
  "$BIN" serve --config bench/todos.yaml --host "$HOST" --port "$port" --store "$(mongo_store "$2")" \
    --pubsub "$REDIS_URL" --log-level "$LOG_LEVEL" --max-streams "$MAX_STREAMS" --max-connections-per-ip 0 \
    >"$dir/server.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  wait_port "$port" "$STARTED_PID" "$dir/server.log" "backbone-sse ($name)"
  STARTED_PORT=$port
}

keep_log() { # NAME N PID
  local log=$TMP/$1/server.log
  kill -0 "$3" 2>/dev/null || record "note_died_${1}_$2" "backbone-sse ($1) died during the run at N=$2"
  stop_pid "$3"
  if [ -s "$log" ]; then
    cp "$log" "$OUT/streams-$1-$2.log"
    [ "$LOG_LEVEL" = warning ] && record "note_log_${1}_$2" "backbone-sse ($1) logged $(wc -l <"$log") line(s) at warning or above at N=$2: see $OUT/streams-$1-$2.log"
  fi
  return 0
}

# The subscribers on B, the writes on A: one MongoDB database, --pubsub on both.
bench_cross() { # N
  local n=$1 a_pid a_port b_pid b_port db=bench_cross_${n}_$$
  start_mongo_server "cross-a-$n" "$db"
  a_pid=$STARTED_PID a_port=$STARTED_PORT
  start_mongo_server "cross-b-$n" "$db"
  b_pid=$STARTED_PID b_port=$STARTED_PORT
  sleep 0.5
  PUB_PORT=$a_port run_client cross "$n" "$b_port" /todos /todos json create "$b_pid"
  sleep 0.5
  keep_log "cross-a-$n" "$n" "$a_pid"
  keep_log "cross-b-$n" "$n" "$b_pid"
}

# B alone: the same flags and store, the subscribers and the writes on it.
bench_mongo_alone() { # N
  local n=$1 db=bench_alone_${n}_$$
  start_mongo_server "alone-$n" "$db"
  sleep 0.5
  run_client alone "$n" "$STARTED_PORT" /todos /todos json create "$STARTED_PID"
  sleep 0.5
  keep_log "alone-$n" "$n" "$STARTED_PID"
}

if [ "$CROSS" = 1 ]; then
  start_store_and_redis
  record servers "cross:B, writes on A;alone:B alone;nchan:Nchan"
  for n in $NS; do
    bench_cross "$n"
    bench_mongo_alone "$n"
    bench_nchan "$n"
  done
elif [ "$AUTH" = 1 ]; then
  # Each turn every server once, a fresh process each time; the first of a turn rotates.
  BENCH_AUTH_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
  export BENCH_AUTH_JWT_SECRET
  record turns "$TURNS"
  record auth_users "$AUTH_USERS"
  record auth_cred "$AUTH_CRED"
  record servers "backbone:no auth;one:one user;news:read user;own:owners;nchan:Nchan"
  order=(backbone one news own nchan)
  for t in $(seq "$TURNS"); do
    for n in $NS; do
      for ((i = 0; i < ${#order[@]}; i++)); do
        s=${order[$(((i + t - 1) % ${#order[@]}))]}
        say "turn $t of $TURNS: $s"
        case $s in
          backbone) bench_backbone "$n" "backbone_t$t" ;;
          nchan) bench_nchan "$n" "nchan_t$t" ;;
          *) bench_backbone "$n" "${s}_t$t" "$s" ;;
        esac
      done
    done
  done
else
  for n in $NS; do
    bench_backbone "$n"
    bench_nchan "$n"
  done
fi
record loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- report
echo
status=0
python3 "$DIR/report.py" "$RESULTS" "$OUT/streams.txt" || status=$?
((status == 0 || status == 3)) || die "report.py failed"
say "table written to $OUT/streams.txt (raw client output: $OUT/streams-*.txt)"
if [ "${BENCH_STRICT:-0}" = 1 ] && ((status == 3)); then exit 3; fi
exit 0
