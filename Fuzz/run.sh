#!/usr/bin/env bash
# Builds the libFuzzer targets (ASan, on their own scratch path) and runs each for
# FUZZ_SECONDS, then compares the JSON parser with Python's `json` over everything the
# JSON fuzzer kept. Exits non-zero on a crash, a failed check or a disagreement.
# Corpora grow in .build-fuzz/corpus/TARGET (gitignored), seeded from Fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
scratch=.build-fuzz
build=("${SWIFT:-swift}" build --package-path Fuzz --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address)
mkdir -p "$scratch"
# ld.gold warns once per ASan helper symbol ("Cannot export local symbol"): shown only on failure.
if ! "${build[@]}" > "$scratch/build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$scratch/build.log" >&2
    exit 1
fi
bin=$("${build[@]}" --show-bin-path)

# Swift's own crash backtracer and ASan's handler together can hang a crashing fuzzer.
export SWIFT_BACKTRACE=enable=no
failed=0
for target in json query filter-sql cursor; do
    corpus=$scratch/corpus/$target
    artifacts=$scratch/artifacts/$target
    log=$scratch/fuzz-$target.log
    mkdir -p "$corpus" "$artifacts"
    seeds=()
    [ -d "Fuzz/corpus/$target" ] && seeds=("Fuzz/corpus/$target")
    # New inputs go to the first folder; the committed seeds are only read.
    if "$bin/fuzz-$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" "${seeds[@]}" > "$log" 2>&1; then
        executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz-$target: $executions executions in ${seconds} s, corpus $(ls "$corpus" | wc -l) inputs"
    else
        echo "fuzz-$target FAILED (log $log, input in $artifacts):" >&2
        grep -E "Fatal error|ERROR:|SUMMARY|^    #[0-9] " "$log" | head -30 >&2
        failed=1
    fi
done

# The oracle: the parser's verdict on every kept input against Python's.
ASAN_OPTIONS=detect_leaks=0 "$bin/fuzz-json" --print Fuzz/corpus/json "$scratch/corpus/json" \
    | python3 Fuzz/json_oracle.py Fuzz/corpus/json "$scratch/corpus/json" || failed=1
exit $failed
