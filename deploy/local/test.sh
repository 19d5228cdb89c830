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

# --- issue 15: Kubernetes manifests validated offline -----------------------------------
echo "==> Kubernetes manifests (kustomize + kubernetes-validate, offline)"
deploy/k8s/validate.sh
# --- end issue 15 ------------------------------------------------------------------------
echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> no service links test-only code (no \"testing\" feature in their dependency trees)"
if cargo tree --locked -e normal,build,features -p gts-auth -p gts-shootout -p gts-worker \
    -p gts-gateway -p gts-render -p gts-media -p gts-render-cli | grep 'feature "testing"'; then
    echo "a service's build enables a testing feature (see the line above)" >&2
    exit 1
fi
echo "==> the render engine is the lower layer (gts-render does not depend on gts-media)"
if cargo tree --locked -e normal -p gts-render | grep -E '^[^a-z]*gts-media '; then
    echo "gts-render depends on gts-media; the files are written a layer up" >&2
    exit 1
fi
echo "==> libraries link only what they use (gts-storage: no database, Redis or JWT crates)"
if cargo tree --locked -e normal -p gts-storage | grep -E '^[^a-z]*(sqlx|redis|jsonwebtoken) '; then
    echo "gts-storage depends on the crates above; it should need only gts-config" >&2
    exit 1
fi
echo "==> building the binaries the end-to-end tests run"
cargo build --workspace --bins --locked
echo "==> Dockerfile and docker-compose.yml (static, and compose's environment through the real binaries)"
python3 deploy/validate-containers.py "$CARGO_TARGET_DIR/debug"

# Throw-away databases of earlier, interrupted runs: those nobody is connected to (a soak
# or another run still using its database keeps it).
stale=$(psql "postgres://gts:gts@127.0.0.1:${GTS_PG_PORT:-5432}/gts" -qAt \
    -c "SELECT datname FROM pg_database WHERE datname LIKE 'gts\_test\_%'
        AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)" \
    2>/dev/null || true)
for db in $stale; do
    psql "postgres://gts:gts@127.0.0.1:${GTS_PG_PORT:-5432}/gts" -qAt \
        -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
done

# Every test binary's summary goes to one log too, so the run ends on one total.
results=$(mktemp)
trap 'rm -f "$results"' EXIT

echo "==> cargo test"
cargo test --workspace --locked "$@" 2>&1 | tee -a "$results"

# Release builds turn overflow checks off: hostile headers must be refused the same way
# there (docs/render-engine.md, "Hostile inputs").
if [ "$#" -eq 0 ]; then
    echo "==> hostile inputs against a release build"
    cargo test --release --locked -p gts-render --test hostile 2>&1 | tee -a "$results"
fi

# Fuzzing: every cargo-fuzz target briefly (docs/fuzzing.md). GTS_FUZZ_SECONDS=0 skips.
if [ "$#" -eq 0 ] && [ "${GTS_FUZZ_SECONDS:-5}" != "0" ]; then
    echo "==> fuzzing: each target for ${GTS_FUZZ_SECONDS:-5} s (deploy/local/fuzz.sh)"
    deploy/local/fuzz.sh "${GTS_FUZZ_SECONDS:-5}" 2>&1 | tee -a "$results"
fi

# "test result: ok. 12 passed; 0 failed; 1 ignored; ..." per binary (doc tests included),
# and fuzz.sh's "fuzz: 5 passed, 0 failed".
awk '/^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i + 1) ~ /^passed/) passed += $i
            if ($(i + 1) ~ /^failed/) failed += $i
            if ($(i + 1) ~ /^ignored/) ignored += $i
        }
    }
    /^fuzz: [0-9]+ passed/ { fuzzed += $2 }
    END {
        printf "==> all tests: %d passed, %d failed, %d ignored; %d fuzz targets without a crash\n",
            passed, failed, ignored, fuzzed
    }' "$results"
