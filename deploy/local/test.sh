#!/usr/bin/env bash
# The whole test suite, as CI runs it: dependencies, formatting, lints, every test.
#   deploy/local/test.sh            # everything
#   deploy/local/test.sh -p gts-e2e # extra arguments go to `cargo test`
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# shellcheck source=deploy/local/cargo-env.sh
. deploy/local/cargo-env.sh
deploy/local/ensure-deps.sh
gts_clean_if_checkout_moved

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> building the binaries the end-to-end tests run"
cargo build --workspace --bins --locked

# Throw-away databases of earlier, interrupted runs.
stale=$(psql "postgres://gts:gts@127.0.0.1:${GTS_PG_PORT:-5432}/gts" -qAt \
    -c "SELECT datname FROM pg_database WHERE datname LIKE 'gts\_test\_%'" 2>/dev/null || true)
for db in $stale; do
    psql "postgres://gts:gts@127.0.0.1:${GTS_PG_PORT:-5432}/gts" -qAt \
        -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
done

echo "==> cargo test"
cargo test --workspace --locked "$@"

# Release builds turn overflow checks off: hostile headers must be refused the same way
# there (docs/render-engine.md, "Hostile inputs").
if [ "$#" -eq 0 ]; then
    echo "==> hostile inputs against a release build"
    cargo test --release --locked -p gts-render --test hostile
fi

# Fuzzing, last: every cargo-fuzz target briefly (docs/fuzzing.md). GTS_FUZZ_SECONDS=0 skips.
if [ "$#" -eq 0 ] && [ "${GTS_FUZZ_SECONDS:-5}" != "0" ]; then
    echo "==> fuzzing: each target for ${GTS_FUZZ_SECONDS:-5} s (deploy/local/fuzz.sh)"
    deploy/local/fuzz.sh "${GTS_FUZZ_SECONDS:-5}"
fi
