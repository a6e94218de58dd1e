# Shared by bench/run.sh and bench/streams/run.sh: process bookkeeping, and the build
# the figures are of. Process bookkeeping: every process a
# benchmark starts goes into PIDS and is stopped on exit, whatever happens. The sourcing
# script defines say, record and TMP first; STOP_SECONDS (default 10) bounds stop_pid.

PIDS=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { say "process $pid did not stop on SIGTERM: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP_TMP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

stop_pid() { # PID: SIGTERM, wait up to STOP_SECONDS, then SIGKILL
  local pid=$1 limit=${STOP_SECONDS:-10}
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((limit * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "process $pid ignored SIGTERM for $limit s: SIGKILL"
    record "note_stop_$pid" "process $pid did not stop within $limit s of SIGTERM"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

record_binary() { # which binary, built when, from which commit; warns when Sources are newer
  record binary "$BIN, built $(date -u -d "@$(stat -c %Y "$BIN")" +%Y-%m-%dT%H:%M:%SZ)"
  local stale
  # -quit, not head: under pipefail a find cut short by head fails the assignment (SIGPIPE).
  stale=$(find Sources Package.swift -type f -newer "$BIN" -print -quit 2>/dev/null || true)
  if [ -n "$stale" ]; then
    say "WARNING: $BIN is older than $stale: the figures are of an older build (swift build -c release)"
    record note_stale_binary "$BIN is older than $stale (and maybe more): figures are of an older build than the commit shown"
  fi
  record commit "$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || echo '+dirty')"
}
