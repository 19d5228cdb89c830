#!/usr/bin/env bash
# Makes sure what GTS needs on this machine is installed and running on loopback:
# PostgreSQL (with the `gts` role and database), Redis and ffmpeg; installs the npm
# packages (deploy/local/tools, web/, tests/browser/), builds the web console into
# web/dist, installs the Python test tools (deploy/local/tools/requirements.txt) and
# Debian's Chromium for the browser test. Installs missing
# Debian packages when run as root; otherwise says exactly what to install.
# Idempotent: safe to run before every start and every test run.
set -euo pipefail
cd "$(dirname "$0")/../.."

PG_PORT="${GTS_PG_PORT:-5432}"
REDIS_PORT="${GTS_REDIS_PORT:-6379}"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

APT_UPDATED=""
apt_install() {
    if ! is_root; then
        die "missing $*; install it with: sudo apt-get install -y $*  (or run this script as root)"
    fi
    if [ -z "$APT_UPDATED" ]; then
        say "apt-get update"
        apt-get update -qq
        APT_UPDATED=1
    fi
    say "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

wait_for() { # description, seconds, command...
    local what=$1 seconds=$2; shift 2
    for _ in $(seq 1 $((seconds * 5))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    die "$what did not come up within ${seconds}s"
}

command -v cargo >/dev/null || die "cargo is missing: install Rust (rustup, stable >= 1.88) first"

# --- PostgreSQL -------------------------------------------------------------------
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || ! command -v psql >/dev/null; then
    apt_install postgresql postgresql-client
fi
if ! pg_isready -h 127.0.0.1 -p "$PG_PORT" -q; then
    is_root || die "PostgreSQL is not running on 127.0.0.1:$PG_PORT; start it (sudo pg_ctlcluster <version> main start)"
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
        say "creating PostgreSQL cluster $version/main"
        pg_createcluster "$version" main --port "$PG_PORT" >/dev/null
    fi
    cluster=$(pg_lsclusters -h | head -n 1 | awk '{print $1" "$2}')
    say "starting PostgreSQL $cluster"
    # shellcheck disable=SC2086
    pg_ctlcluster --skip-systemctl-redirect $cluster start
    wait_for "PostgreSQL" 30 pg_isready -h 127.0.0.1 -p "$PG_PORT" -q
fi

psql_admin() {
    if is_root; then
        runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qAt "$@"
    else
        psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"
    fi
}
# The `gts` role owns the app database and creates the tests' throw-away databases.
psql_admin -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gts') THEN
    CREATE ROLE gts LOGIN PASSWORD 'gts' CREATEDB;
  END IF;
END \$\$;"
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'gts'")" != "1" ]; then
    say "creating database gts"
    psql_admin -c "CREATE DATABASE gts OWNER gts"
fi

# --- Redis ------------------------------------------------------------------------
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || apt_install redis-server redis-tools
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    say "starting Redis on 127.0.0.1:$REDIS_PORT"
    mkdir -p /tmp/gts-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
        --appendonly no --dir /tmp/gts-redis --logfile /tmp/gts-redis/redis.log
    wait_for "Redis" 15 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
fi

# --- Media tools --------------------------------------------------------------------
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || apt_install ffmpeg

# --- Node tools (buf for `buf curl` over reflection), the web console and its browser test --
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
# npm ci again whenever package-lock.json is newer than the installed tree.
npm_ci() { # directory, file that proves the install
    local dir=$1 marker=$2
    if [ ! -e "$dir/$marker" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        say "installing $dir (npm ci)"
        npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
    fi
}
npm_ci deploy/local/tools node_modules/.bin/buf
npm_ci web node_modules/.bin/esbuild
npm_ci tests/browser node_modules/playwright-core

# The console the gateway serves (GTS_GATEWAY_CONSOLE_DIR, default web/dist): rebuilt when
# a source, a .proto or the lock file is newer than the last build.
if [ ! -f web/dist/index.html ] || [ ! -f web/dist/assets/app.js ] \
    || [ -n "$(find web/src web/public web/build.mjs web/buf.gen.yaml web/package-lock.json proto \
               -newer web/dist/assets/app.js -not -path 'web/src/gen/*' -print -quit)" ]; then
    say "building the web console (npm run build in web/)"
    npm run --prefix web build --silent >/dev/null
fi

# --- Python tools: moto's S3 server (the S3 tests) and kubernetes-validate (manifests) --
if ! python3 -c "import moto.server, flask_cors, yaml" 2>/dev/null || ! command -v kubernetes-validate >/dev/null; then
    command -v python3 >/dev/null || apt_install python3 python3-pip
    say "installing the Python test tools (pip install -r deploy/local/tools/requirements.txt)"
    python3 -m pip install --quiet --disable-pip-version-check -r deploy/local/tools/requirements.txt \
        || die "cannot install deploy/local/tools/requirements.txt with pip"
fi

# Debian's Chromium for the console's browser test (playwright-core drives it; no browser
# download).
[ -x /usr/bin/chromium ] || apt_install chromium

say "dependencies ready: PostgreSQL 127.0.0.1:$PG_PORT (role gts), Redis 127.0.0.1:$REDIS_PORT, ffmpeg, buf, the web console, moto, kubernetes-validate, Chromium"
