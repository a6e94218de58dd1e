#!/usr/bin/env bash
# The REST side of the authorisation benchmark (issue 15; `make bench`): requests with
# `Authorization: Bearer <HS256 JWT>` against a server with an `auth` block, beside the
# same requests without a token against a server with the same collection and none,
# measured in the same run, taking turns.
#
# Three release servers, started once, each on a SQLite store of its own:
#   none     bench/todos.yaml: no auth block;
#   auth     bench/auth/todos-auth.yaml: todos with owner: owner, read/update/delete:
#            owner, create: user; no rate limit (the server has none unless configured);
#   auth_rl  the same with `auth.rate_limit: {reads: 1000000000, writes: 1000000000}`:
#            the limiter counts every request but never refuses one (its own cost);
#   none_idx bench/todos.yaml with `owner` added to its indexes, no auth: a server with
#            an owner field indexes it (for `read: owner` lists); POSTs here name the owner
#            in the body, so it stores the documents auth stores, in the same indexes:
#            what the documents cost, told from what the auth path costs.
# Each is seeded with BENCH_SEED documents (PUT /todos/{id}); on the auth servers
# document i is PUT by user i % BENCH_AUTH_USERS, so it is theirs.
#
# Then ROUNDS turns of (the starting server rotating from one turn to the next):
#   GET /todos/{id}  bench/lua/auth_get.lua: each request a random user and one of that
#                    user's documents; on none the same draws with no header. Tokens:
#                    one per user (BENCH_AUTH_USERS), so after the first request each is
#                    answered from the server's token cache (the common case);
#   GET, uncached    on auth: each request a token the server has not seen (more
#                    distinct tokens than its cache holds, taken in turn): the signature
#                    check of every request (a client's first request);
#   GET, header only on none, with the tokens sent (and ignored): what the header's bytes
#                    cost wrk and the server, without any auth;
# then ROUNDS turns of
#   POST /todos      bench/lua/auth_post.lua: post.lua's body, a random user's token
#                    (none: no token; none_idx: no token, the owner in the body).
# Medians of the turns; the server's CPU time per request beside each rate.
#
# Prints the table with PASS/MISS per target (with auth >= 0.90x without) and writes it
# to bench/out/auth.txt (raw wrk output: bench/out/wrk-auth-*.txt).
#
# Environment (all optional; bench/run.sh's meanings):
#   BENCH_SECONDS=10  BENCH_ROUNDS=3  BENCH_THREADS=2  BENCH_CONNECTIONS=64
#   BENCH_SEED=100000  BENCH_SEED_CONNECTIONS=64  BENCH_TIMEOUT=10s
#   BENCH_AUTH_USERS=16           distinct users (and tokens) of the cached runs
#   BENCH_AUTH_DISTINCT=50000     distinct tokens of the uncached run (the server caches
#                                 10,000: taken in turn, none is in the cache when it comes)
#   BENCH_SERVER=.build/release/backbone-sse
#   BENCH_STRICT=1                exit 3 when a target is missed (default: report only)
#   BENCH_KEEP_TMP=1              keep the temporary folder (stores, server logs, tokens)
set -euo pipefail

cd "$(dirname "$0")/../.."
OUT=bench/out
SECS=${BENCH_SECONDS:-10}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
SEED=${BENCH_SEED:-100000}
SEED_CONNS=${BENCH_SEED_CONNECTIONS:-64}
TIMEOUT=${BENCH_TIMEOUT:-10s}
ROUNDS=${BENCH_ROUNDS:-3}
USERS=${BENCH_AUTH_USERS:-16}
DISTINCT=${BENCH_AUTH_DISTINCT:-50000}
BIN=${BENCH_SERVER:-.build/release/backbone-sse}
HOST=127.0.0.1

say() { printf '[auth] %s\n' "$*" >&2; }
die() { printf '[auth] ERROR: %s\n' "$*" >&2; exit 1; }

command -v wrk >/dev/null 2>&1 || die "wrk is not installed (scripts/install-deps.sh bench)"
command -v python3 >/dev/null 2>&1 || die "python3 is needed for the tokens and the report"
[ -x "$BIN" ] || die "no server binary at $BIN: run 'swift build -c release' first (or make bench)"
for n in "$SECS" "$THREADS" "$CONNS" "$SEED" "$SEED_CONNS" "$ROUNDS" "$USERS" "$DISTINCT"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "bad number in the BENCH_* settings: '$n'"
done
((CONNS >= THREADS)) || die "BENCH_CONNECTIONS must be at least BENCH_THREADS"
((SEED >= USERS)) || die "BENCH_SEED must be at least BENCH_AUTH_USERS (each user needs a document)"
((DISTINCT >= 20000)) || die "BENCH_AUTH_DISTINCT must be at least 20000 (twice the server's token cache)"

mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/backbone-auth.XXXXXX")
RESULTS=$OUT/auth.env
: >"$RESULTS"
rm -f "$OUT"/wrk-auth-*.txt "$OUT/auth.txt"

STOP_SECONDS=10
# shellcheck source=../lib/common.sh
source bench/lib/common.sh
record() { echo "$1=$2" >>"$RESULTS"; }
# shellcheck source=../lib/wrk.sh
source bench/lib/wrk.sh

record date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
record cores "$(nproc)"
record loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
record threads "$THREADS"
record connections "$CONNS"
record seconds "$SECS"
record rounds "$ROUNDS"
record users "$USERS"
record distinct "$DISTINCT"
record_binary

# ---------------------------------------------------------------- tokens and configs
# A secret of this run only; the tokens expire in 2 hours (the cache keeps them that long).
BENCH_AUTH_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export BENCH_AUTH_JWT_SECRET
TOKENS=$TMP/tokens.txt
DISTINCT_TOKENS=$TMP/tokens-distinct.txt
python3 bench/auth/creds.py tokens --users "$USERS" --count "$USERS" --out "$TOKENS"
python3 bench/auth/creds.py tokens --users "$USERS" --count "$DISTINCT" --out "$DISTINCT_TOKENS"
record token_bytes "$(head -n 1 "$TOKENS" | tr -d '\n' | wc -c)"
# The auth config with a rate limit far above anything this load reaches.
sed 's/^auth:$/auth:\n  rate_limit: {reads: 1000000000, writes: 1000000000}/' bench/auth/todos-auth.yaml >"$TMP/todos-auth-rl.yaml"
grep -q 'rate_limit:' "$TMP/todos-auth-rl.yaml" || die "could not add rate_limit to the auth config"
sed 's/^    indexes: \[done, created\]$/    indexes: [done, created, owner]/' bench/todos.yaml >"$TMP/todos-owner-index.yaml"
grep -q 'created, owner' "$TMP/todos-owner-index.yaml" || die "could not add the owner index to bench/todos.yaml's copy"

# ---------------------------------------------------------------- servers
declare -A PORT PID LOG
start_server() { # NAME CONFIG
  local name=$1 config=$2
  PORT[$name]=$(free_port)
  LOG[$name]=$TMP/server-$name.log
  "$BIN" serve --config "$config" --host "$HOST" --port "${PORT[$name]}" --store "sqlite:$TMP/$name.sqlite" \
    --log-level warning --max-connections-per-ip 0 >"${LOG[$name]}" 2>&1 &
  PID[$name]=$!
  PIDS+=("${PID[$name]}")
  wait_port "${PORT[$name]}" "${PID[$name]}" "${LOG[$name]}" "backbone-sse ($name)"
  say "backbone-sse $name ($config): pid ${PID[$name]}, port ${PORT[$name]}"
}
start_server none bench/todos.yaml
start_server auth bench/auth/todos-auth.yaml
start_server auth_rl "$TMP/todos-auth-rl.yaml"
start_server none_idx "$TMP/todos-owner-index.yaml"
SERVERS=(none auth auth_rl none_idx)
sleep 1
for s in "${SERVERS[@]}"; do record "rss_start_${s}_mb" "$(rss_mb "${PID[$s]}")"; done

seed_docs none_ "${PORT[none]}" "${PID[none]}" "${LOG[none]}"
seeded=$SEEDED
seed_docs none_idx_ "${PORT[none_idx]}" "${PID[none_idx]}" "${LOG[none_idx]}"
((SEEDED == seeded)) || record "note_seed_none_idx" "none_idx holds $SEEDED seeded documents, none $seeded"
for s in auth auth_rl; do
  seed_docs "${s}_" "${PORT[$s]}" "${PID[$s]}" "${LOG[$s]}" "$TOKENS" "$USERS"
  ((SEEDED == seeded)) || record "note_seed_$s" "$s holds $SEEDED seeded documents, none $seeded"
done

# What the rules answer, before timing anything: a user's own document 200, another
# user's 404, no token 401; on none, 200 without a token.
check() { # SERVER PATH TOKEN_LINE(0: none) EXPECTED
  local status
  status=$(python3 - "$HOST" "${PORT[$1]}" "$2" "$TOKENS" "$3" <<'PY'
import http.client, sys
host, port, path, tokens, line = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
headers = {}
if line:
    with open(tokens) as f:
        headers["Authorization"] = "Bearer " + f.read().split()[line - 1]
c = http.client.HTTPConnection(host, port, timeout=30)
c.request("GET", path, headers=headers)
r = c.getresponse()
r.read()
print(r.status)
PY
) || status=error
  say "  check $1 GET $2 as ${3/#0/nobody}: $status (expected $4)"
  [ "$status" = "$4" ] || record "note_check_$1_$3" "$1: GET $2 as token line $3 answered $status, expected $4"
}
check none /todos/seed000001 0 200
check auth /todos/seed000001 2 200   # document 1 is user 1's: line 2 of the tokens
check auth /todos/seed000001 1 404
check auth /todos/seed000001 0 401
check auth_rl /todos/seed000001 2 200

# ---------------------------------------------------------------- turns
# rotate ROUND ITEMS...: the items, starting at the (ROUND-1)-th: each turn another
# server goes first (the first run of a turn follows the previous turn's idle wait).
rotate() {
  local r=$1
  shift
  local items=("$@") i
  for ((i = 0; i < ${#items[@]}; i++)); do echo "${items[$(((i + r - 1) % ${#items[@]}))]}"; done
}
for name in "${SERVERS[@]}"; do wait_idle "${PID[$name]}" "$name"; done
for r in $(seq "$ROUNDS"); do
  say "GET round $r of $ROUNDS"
  for v in $(rotate "$r" none auth auth_rl uncached header); do
    case $v in
      none) s=none args=("$TOKENS" none "$USERS" "$THREADS") ;;
      header) s=none args=("$TOKENS" bearer "$USERS" "$THREADS") ;;
      uncached) s=auth args=("$DISTINCT_TOKENS" cycle "$USERS" "$THREADS") ;;
      *) s=$v args=("$TOKENS" bearer "$USERS" "$THREADS") ;;
    esac
    TARGET_PID=${PID[$s]}
    run_wrk "auth-get_${v}_r$r" "http://$HOST:${PORT[$s]}" -s bench/lua/auth_get.lua -- "$seeded" "${args[@]}"
    alive_or_die "${PID[$s]}" "${LOG[$s]}" "backbone-sse ($s)"
    wait_idle "${PID[$s]}" "$s"
  done
done
for v in none auth auth_rl uncached header; do median_round "auth-get_$v" "$ROUNDS"; done
for s in "${SERVERS[@]}"; do record "rss_after_get_${s}_mb" "$(rss_mb "${PID[$s]}")"; done

for r in $(seq "$ROUNDS"); do
  say "POST round $r of $ROUNDS"
  for s in $(rotate "$r" none auth auth_rl none_idx); do
    case $s in none) mode=none ;; none_idx) mode=owner ;; *) mode=bearer ;; esac
    TARGET_PID=${PID[$s]}
    run_wrk "auth-post_${s}_r$r" "http://$HOST:${PORT[$s]}/todos" -s bench/lua/auth_post.lua -- "$TOKENS" "$mode"
    alive_or_die "${PID[$s]}" "${LOG[$s]}" "backbone-sse ($s)"
    wait_idle "${PID[$s]}" "$s"
  done
done
for s in none auth auth_rl none_idx; do median_round "auth-post_$s" "$ROUNDS"; done
for s in "${SERVERS[@]}"; do record "rss_after_${s}_mb" "$(rss_mb "${PID[$s]}")"; done
record loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"

for s in "${SERVERS[@]}"; do
  stop_pid "${PID[$s]}"
  if [ -s "${LOG[$s]}" ]; then
    cp "${LOG[$s]}" "$OUT/auth-server-$s.log"
    record "note_log_$s" "$s logged $(wc -l <"${LOG[$s]}") line(s) at warning or above: see $OUT/auth-server-$s.log"
  fi
done

# ---------------------------------------------------------------- report
echo
status=0
python3 bench/auth/report.py "$RESULTS" "$OUT/auth.txt" || status=$?
((status == 0 || status == 3)) || die "report.py failed"
say "table written to $OUT/auth.txt (raw wrk output: $OUT/wrk-auth-*.txt)"
if [ "${BENCH_STRICT:-0}" = 1 ] && ((status == 3)); then exit 3; fi
exit 0
