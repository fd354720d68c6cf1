#!/usr/bin/env bash
# Fuzzes warta-render's sanitiser and warta-guard's page reading for a bounded time per target and fails on any crash: a
# panic, which is how the targets report sanitised output that is not inert (checked by
# warta_render::inert) or not stable, a timeout or running out of memory.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60 s, every target)
#
# Environment:
#   FUZZ_SANITIZER  none (default) or address. Our crates forbid unsafe code, so AddressSanitizer
#                   only watches dependencies, at about a third of the speed; with `address`
#                   the -Z flag it needs is allowed on the stable toolchain via RUSTC_BOOTSTRAP=1.
#
# Installs cargo-fuzz if it is missing. Works from a clean checkout: fuzz/Cargo.lock is copied
# from the workspace's Cargo.lock so the fuzzed sanitiser has the same dependency versions as
# the product (then completed with libfuzzer-sys). What libFuzzer learns goes to fuzz/corpus/
# (kept between local runs, not committed); committed seeds are fuzz/seeds/ and the dictionary
# fuzz/html.dict. A crashing input is saved under fuzz/artifacts/TARGET/; replay it with
#   cargo fuzz run -s none TARGET fuzz/artifacts/TARGET/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(render_markdown sanitise_html structured guard_page)
fi
sanitizer=${FUZZ_SANITIZER:-none}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> cargo install cargo-fuzz --locked"
    cargo install cargo-fuzz --locked
fi
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi

cp Cargo.lock fuzz/Cargo.lock
# cargo fuzz looks for its binaries in fuzz/target, whatever CARGO_TARGET_DIR says.
build=(-s "$sanitizer" --target-dir fuzz/target)
started=$(date +%s)
cargo fuzz build "${build[@]}"
echo "==> fuzz targets built in $(($(date +%s) - started)) s"

passed=0
failed=0
summary=()
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    log=$(mktemp)
    echo "==> fuzzing $target for ${seconds} s (sanitizer: $sanitizer)"
    status=0
    cargo fuzz run "${build[@]}" "$target" "fuzz/corpus/$target" fuzz/seeds -- \
        -max_total_time="$seconds" -dict=fuzz/html.dict -max_len=4096 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        summary+=("$target: ok, $runs inputs, $speed per second")
    else
        failed=$((failed + 1))
        summary+=("$target: FAILED (exit $status)")
        # The panic message names the violation, the input and the output; cargo fuzz then
        # names the saved input and how to replay it.
        sed -n '/panicked at/,/^note: \|^stack backtrace:/p' "$log" >&2
        sed -n '/^Failing input:/,/^Minimize/p' "$log" >&2
        grep '^Error: ' "$log" >&2 || true
    fi
    rm -f "$log"
done

printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
