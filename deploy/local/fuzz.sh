#!/usr/bin/env bash
# Runs the cargo-fuzz (libFuzzer) targets in fuzz/ for a bounded time each.
#   deploy/local/fuzz.sh                      # every target, GTS_FUZZ_SECONDS (5) each
#   deploy/local/fuzz.sh 600 nam_json         # one target for 10 minutes
#   GTS_FUZZ_RUNS=10000000 deploy/local/fuzz.sh 7200 audio_decode
#                                             # 10 million executions, 2 h at most
# Installs cargo-fuzz from crates.io when it is missing. cargo-fuzz passes nightly-only
# flags; on the stable toolchain RUSTC_BOOTSTRAP=1 lets rustc accept them. Targets are
# built without a sanitizer (-s none): the code under test is safe Rust, what is looked for
# is panics (debug assertions and overflow checks are on), timeouts and memory growth;
# GTS_FUZZ_SANITIZER=address turns AddressSanitizer on. The working corpus (seeds plus
# what libFuzzer finds) and crash artifacts live under GTS_FUZZ_WORK_DIR, never in the
# repository's seeds. Exits non-zero on the first target that finds a crash, a timeout or
# an out-of-memory input, after printing the input's path.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${1:-${GTS_FUZZ_SECONDS:-5}}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(nam_json audio_decode upload_chunks grpc_web signed_url)
fi
export RUSTC_BOOTSTRAP=1
export CARGO_INCREMENTAL=0
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
target_dir="${GTS_FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/gts/target}/fuzz}"
work="${GTS_FUZZ_WORK_DIR:-$HOME/.cache/gts/fuzz}"
sanitizer="${GTS_FUZZ_SANITIZER:-none}"
build=(--fuzz-dir fuzz --sanitizer "$sanitizer" --target-dir "$target_dir" --codegen-units 16)

echo "==> building the fuzz targets"
cargo fuzz build "${build[@]}"

summary=()
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    artifacts="$work/artifacts/$target"
    # A long run by count keeps its own log, so a short run meanwhile does not clobber it.
    log="$work/$target${GTS_FUZZ_RUNS:+-$GTS_FUZZ_RUNS-runs}.log"
    mkdir -p "$corpus" "$artifacts"
    runs=()
    if [ -n "${GTS_FUZZ_RUNS:-}" ]; then
        runs=(-runs="$GTS_FUZZ_RUNS")
        echo "==> fuzzing $target for ${GTS_FUZZ_RUNS} executions (${seconds} s at most)"
    else
        echo "==> fuzzing $target for ${seconds} s"
    fi
    status=0
    started=$(date +%s)
    cargo fuzz run "${build[@]}" "$target" "$corpus" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" "${runs[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz target $target FAILED (exit $status); inputs in $artifacts, log $log"
        echo "fuzz: ${#summary[@]} passed, 1 failed"
        exit 1
    fi
    elapsed=$(($(date +%s) - started))
    summary+=("$target: ${execs:-?} executions in ${elapsed} s, peak RSS ${rss:-?} MB, no crash")
done
echo "==> fuzz summary"
printf '  %s\n' "${summary[@]}"
echo "fuzz: ${#summary[@]} passed, 0 failed"
