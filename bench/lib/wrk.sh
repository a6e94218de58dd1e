# Shared by bench/run.sh and bench/auth/run.sh: ports, process CPU and memory, wrk runs
# and their medians, and seeding a server with documents. The sourcing script defines
# say, die, record, RESULTS, OUT, TMP, HOST, THREADS, CONNS, SECS and TIMEOUT first,
# and sources lib/common.sh.

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
  record_wrk_output "$name" "$file"
  # CPU time the server process spent per request (user + system, all its threads).
  if ((WRK_TOTAL > 0)); then
    record "${name}_cpu_us" "$(awk -v d=$((ticks1 - ticks0)) -v hz="$hz" -v n="$WRK_TOTAL" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')"
  fi
}

# record_wrk_output NAME FILE: records NAME_rps, NAME_p99_ms and NAME_requests from wrk's
# output in FILE (run with --latency), notes non-2xx responses and socket errors, and
# leaves the request count in WRK_TOTAL.
WRK_TOTAL=0
record_wrk_output() {
  local name=$1 file=$2
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
  WRK_TOTAL=${total:-0}
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

# server_count PORT [TOKENS_FILE USERS]: documents in todos (X-Total-Count of a
# truncated page); with a tokens file, the sum over its first USERS tokens' users
# (`read: owner` counts only the caller's documents).
server_count() {
  python3 - "$HOST" "$@" <<'PY' || echo "?"
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=60)
tokens = [None]
if len(sys.argv) > 4:
    with open(sys.argv[3]) as f:
        tokens = [line.strip() for line in f if line.strip()][: int(sys.argv[4])]
total = 0
for t in tokens:
    c.request("GET", "/todos?limit=1", headers={"Authorization": f"Bearer {t}"} if t else {})
    r = c.getresponse()
    r.read()
    n = r.getheader("X-Total-Count")
    if n is None:
        print("?")
        sys.exit(0)
    total += int(n)
print(total)
PY
}

# seed_docs NAME PORT PID LOG [TOKENS_FILE USERS]: PUTs SEED documents seed000000 ..
# (bench/lua/seed.lua, SEED_CONNS connections, THREADS threads); with a tokens file,
# document i as the user of line i % lines. Sets SEEDED (documents created) and records
# NAMEseed_rps, NAMEseeded and notes. Dies when the seeding stalls.
SEEDED=0
seed_docs() {
  local name=$1 port=$2 pid=$3 log=$4 tokens=${5:-} users=${6:-}
  local markers=$TMP/markers-$name seed_threads=$THREADS conns=$SEED_CONNS wrk_out=$OUT/wrk-${name}seed.txt
  local count_args=("$port")
  [ -n "$tokens" ] && count_args+=("$tokens" "$users")
  say "seeding $SEED documents ${name:+into ${name%_} }(PUT /todos/{id}, $conns connections${tokens:+, as $users users})"
  mkdir -p "$markers"
  ((conns >= seed_threads)) || conns=$seed_threads
  local seed_start seed_end seed_pid
  seed_start=$(date +%s.%N)
  wrk -t"$seed_threads" -c"$conns" -d3600s -s bench/lua/seed.lua "http://$HOST:$port" \
    -- "$SEED" "$seed_threads" "$markers" ${tokens:+"$tokens"} >"$wrk_out" 2>&1 &
  seed_pid=$!
  PIDS+=("$seed_pid")
  local seed_deadline=$((SECONDS + 900)) next_probe=$((SECONDS + 30)) last_count= n count
  while :; do
    n=$(find "$markers" -name 'seed-*' | wc -l)
    ((n >= seed_threads)) && break
    kill -0 "$seed_pid" 2>/dev/null || { cat "$wrk_out" >&2; die "wrk (seeding) exited before the seeding was done"; }
    alive_or_die "$pid" "$log" "backbone-sse"
    ((SECONDS < seed_deadline)) || die "seeding did not finish within 900 s"
    if ((SECONDS >= next_probe)); then   # a lost answer would keep wrk waiting forever
      count=$(server_count "${count_args[@]}")
      say "  $count documents stored"
      if [ "$count" = "$last_count" ]; then
        die "seeding stalled at $count documents ($n of $seed_threads wrk threads done): see $wrk_out"
      fi
      last_count=$count
      next_probe=$((SECONDS + 30))
    fi
    sleep 0.2
  done
  seed_end=$(date +%s.%N)
  kill -INT "$seed_pid" 2>/dev/null || true   # wrk ends early, with its summary, on SIGINT
  for _ in $(seq 50); do kill -0 "$seed_pid" 2>/dev/null || break; sleep 0.1; done
  stop_pid "$seed_pid"
  local created seed_errors seed_rps stored
  created=$(cat "$markers"/seed-* | awk '{ s += $1 } END { print s + 0 }')
  seed_errors=$(cat "$markers"/seed-* | awk '{ s += $2 } END { print s + 0 }')
  seed_rps=$(awk -v n="$created" -v a="$seed_start" -v b="$seed_end" 'BEGIN { printf "%.0f", n / (b - a) }')
  record "${name}seed_rps" "$seed_rps"
  record "${name}seeded" "$created"
  say "seeded $created documents in $(awk -v a="$seed_start" -v b="$seed_end" 'BEGIN { printf "%.1f", b - a }') s ($seed_rps/s), $seed_errors failed"
  ((seed_errors == 0)) || record "note_${name}seed_errors" "seeding: $seed_errors PUTs were not answered 201 (see $wrk_out)"
  # What the server says it holds.
  stored=$(server_count "${count_args[@]}")
  say "the server reports $stored documents"
  [ "$stored" = "$created" ] || record "note_${name}seed_count" "seeding: $created PUTs answered 201 but the server lists $stored documents"
  ((created > 0)) || die "no document was seeded"
  SEEDED=$created
}

# ---------------------------------------------------------------- the server under test
# start_backbone STORE_FILE DURABILITY LOG: the release server on bench/todos.yaml and a
# free port, as bench/run.sh and bench/curves/run.sh run it; sets SERVER_PID, SERVER_PORT
# and SERVER_LOG. Needs BIN, BENCH, HOST and PIDS.
SERVER_PID=
SERVER_PORT=
SERVER_LOG=
start_backbone() {
  local store=$1 durability=$2
  SERVER_PORT=$(free_port)
  SERVER_LOG=$3
  "$BIN" serve --config "$BENCH/todos.yaml" --host "$HOST" --port "$SERVER_PORT" \
    --store "sqlite:$store" --durability "$durability" --log-level warning --max-connections-per-ip 0 >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_port "$SERVER_PORT" "$SERVER_PID" "$SERVER_LOG" "backbone-sse ($store, --durability $durability)"
  say "backbone-sse ($store, --durability $durability): pid $SERVER_PID, port $SERVER_PORT"
}
