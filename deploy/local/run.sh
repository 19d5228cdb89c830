#!/usr/bin/env bash
# Runs GTS on this machine: ensures PostgreSQL and Redis (installing them when missing),
# builds, starts the fake TONE3000 and the four services on loopback, waits until every
# service reports SERVING, prints the endpoints and runs the demo of the main job.
#   deploy/local/run.sh          # then keeps running until Ctrl-C, which stops everything
#   deploy/local/run.sh --demo   # runs the demo and stops everything (non-interactive)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MODE=serve
case "${1:-}" in
    --demo) MODE=demo ;;
    "") ;;
    *) echo "usage: $0 [--demo]" >&2; exit 2 ;;
esac

# shellcheck source=deploy/local/cargo-env.sh
. deploy/local/cargo-env.sh
deploy/local/ensure-deps.sh
gts_clean_if_checkout_moved
echo "==> building"
cargo build --workspace --bins --locked --quiet
BIN="$CARGO_TARGET_DIR/debug"

# The same variables the binaries read; override any of them in the environment.
export GTS_DATABASE_URL="${GTS_DATABASE_URL:-postgres://gts:gts@127.0.0.1:5432/gts}"
export GTS_REDIS_URL="${GTS_REDIS_URL:-redis://127.0.0.1:6379}"
export GTS_AUTH_LISTEN="${GTS_AUTH_LISTEN:-127.0.0.1:50051}"
export GTS_SHOOTOUT_LISTEN="${GTS_SHOOTOUT_LISTEN:-127.0.0.1:50052}"
export GTS_WORKER_LISTEN="${GTS_WORKER_LISTEN:-127.0.0.1:50053}"
export GTS_GATEWAY_LISTEN="${GTS_GATEWAY_LISTEN:-127.0.0.1:8080}"
export GTS_AUTH_URL="http://$GTS_AUTH_LISTEN"
export GTS_SHOOTOUT_URL="http://$GTS_SHOOTOUT_LISTEN"
export GTS_WORKER_URL="http://$GTS_WORKER_LISTEN"
export FAKE_T3K_ADDR="${FAKE_T3K_ADDR:-127.0.0.1:8787}"
export FAKE_T3K_FIXTURES_DIR="${FAKE_T3K_FIXTURES_DIR:-$ROOT/tests/fixtures}"
export GTS_TONE3000_URL="${GTS_TONE3000_URL:-http://$FAKE_T3K_ADDR/api/v1}"
# Secrets shared by the services for this run only (set them yourself to keep sessions).
random_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
export GTS_SERVICE_TOKEN="${GTS_SERVICE_TOKEN:-$(random_secret)}"
export GTS_ARTIFACT_URL_KEY="${GTS_ARTIFACT_URL_KEY:-$(random_secret)}"
export GTS_ARTIFACT_URL_BASE="${GTS_ARTIFACT_URL_BASE:-http://$GTS_GATEWAY_LISTEN}"
# Blobs (uploads, cached models, artifacts), upload staging and the worker's scratch space
# stay inside the clone, out of git's way.
export GTS_STORAGE_DIR="${GTS_STORAGE_DIR:-$ROOT/.local/data/blobs}"
export GTS_UPLOAD_STAGING_DIR="${GTS_UPLOAD_STAGING_DIR:-$ROOT/.local/data/uploads}"
export GTS_WORKER_SCRATCH_DIR="${GTS_WORKER_SCRATCH_DIR:-$ROOT/.local/data/scratch}"
export GTS_DEMO_OUT="${GTS_DEMO_OUT:-$ROOT/.local/demo-render}"

for addr in "$FAKE_T3K_ADDR" "$GTS_AUTH_LISTEN" "$GTS_SHOOTOUT_LISTEN" "$GTS_WORKER_LISTEN" "$GTS_GATEWAY_LISTEN"; do
    if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
        echo "error: $addr is already in use (another GTS still running?); stop it or set the *_LISTEN variables" >&2
        exit 1
    fi
done

LOGS="$ROOT/.local/logs"
mkdir -p "$LOGS"
PIDS=()
stop_all() {
    trap - EXIT INT TERM
    if [ "${#PIDS[@]}" -gt 0 ]; then
        echo "==> stopping (${#PIDS[@]} processes)"
        kill -TERM "${PIDS[@]}" 2>/dev/null || true
        wait "${PIDS[@]}" 2>/dev/null || true
    fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start() { # name, command...
    local name=$1; shift
    "$@" >"$LOGS/$name.log" 2>&1 &
    PIDS+=($!)
    echo "    started $name (pid $!, log .local/logs/$name.log)"
}

echo "==> starting"
start fake-tone3000 "$BIN/fake-tone3000"
start gts-auth "$BIN/gts-auth"
start gts-shootout "$BIN/gts-shootout"
start gts-worker "$BIN/gts-worker"
start gts-gateway "$BIN/gts-gateway"

echo "==> waiting for every service to report SERVING, then the demo: sign in, build, render, download"
if ! "$BIN/gts-demo"; then
    for log in "$LOGS"/*.log; do
        if grep -q '"level":"ERROR"' "$log"; then
            echo "--- $(basename "$log"):" >&2
            grep '"level":"ERROR"' "$log" | tail -n 2 >&2
        fi
    done
    exit 1
fi

cat <<INFO
==> GTS is up
    gateway (grpc-web, gRPC)  http://$GTS_GATEWAY_LISTEN
    auth                      http://$GTS_AUTH_LISTEN
    shootout                  http://$GTS_SHOOTOUT_LISTEN
    worker                    http://$GTS_WORKER_LISTEN
    fake TONE3000             $GTS_TONE3000_URL
    logs                      .local/logs/
    demo render (A/B, video)  ${GTS_DEMO_OUT#"$ROOT"/}/
INFO

if [ "$MODE" = serve ]; then
    echo "==> running; press Ctrl-C to stop everything"
    wait -n "${PIDS[@]}" || true
    echo "a process exited; see .local/logs/" >&2
    exit 1
fi
