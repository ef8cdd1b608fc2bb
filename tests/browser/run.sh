#!/usr/bin/env bash
# Browser tests of the embedded UI, in headless Chromium driven by playwright-core.
#
#   DATABASE_URL=postgres://postgres:…@127.0.0.1:5432/postgres tests/browser/run.sh
#   tests/browser/run.sh --serve    # start everything, print the URL, wait for Ctrl-C
#   tests/browser/run.sh 17 18      # only tests/NN-*.test.mjs whose name starts with 17 or 18
#                                   # (01-first-run always runs first: it makes the admin)
#   NOTEBOX_BROWSER_PROFILE=dev …   # a debug build, which reads assets/ from disk: edit the
#                                   # UI and rerun without rebuilding (not what releases embed)
#   tests/browser/run.sh --bench    # the 10,000-note bench (bench-10k.mjs) instead of the tests
#
# DATABASE_URL is a superuser URL (scripts/test provides one). This script installs what it
# needs (npm packages, Debian's chromium), builds the release-like notebox (profile
# ci-release: no debug assertions, so the web UI is embedded in the binary exactly as in a
# release; no LTO, so it builds in minutes) into target/ci-release/notebox, creates a
# fresh database, starts the PowerSync test double (sync-double.mjs) and `notebox serve` on
# free 127.0.0.1 ports, runs tests/*.test.mjs with node's test runner, and stops everything
# on exit, failure included. Its last lines are node's TAP summary ("# pass N", "# fail N");
# when the setup itself fails it prints "# pass 0" / "# fail 1" so the failure is counted.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/notebox-browser.XXXXXX)
pids=()
database=""
serve_only=false
bench=false
filters=()
for arg in "$@"; do
    case "$arg" in
        --serve) serve_only=true ;;
        --bench) bench=true ;;
        *) filters+=("$arg") ;;
    esac
done
profile=${NOTEBOX_BROWSER_PROFILE:-ci-release}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup_failed() {
    echo "browser tests could not start: $*" >&2
    for log in "$work"/*.log; do
        [ -s "$log" ] && { echo "--- $(basename "$log") (last 30 lines)" >&2; tail -30 "$log" >&2; }
    done
    echo "# pass 0"
    echo "# fail 1"
    exit 1
}

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    if [ -n "$database" ]; then
        psql "$DATABASE_URL" -qXc "drop database if exists \"$database\" with (force)" >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Polls until the URL answers (any HTTP status); fails after $2 seconds, or at once when
# the process $3 (if given) has exited.
wait_for() {
    node -e '
        const [url, seconds, pid] = process.argv.slice(1);
        const deadline = Date.now() + seconds * 1000;
        const alive = () => { try { return !pid || process.kill(Number(pid), 0); } catch { return false; } };
        (async () => {
            for (;;) {
                try { await fetch(url); process.exit(0); } catch {}
                if (Date.now() > deadline || !alive()) process.exit(1);
                await new Promise((r) => setTimeout(r, 200));
            }
        })();' "$1" "$2" "${3:-}"
}

[ -n "${DATABASE_URL:-}" ] || setup_failed "DATABASE_URL is not set (a superuser URL of a Postgres server)"

say "browser tests: npm packages"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1) || setup_failed "npm ci failed"
# The OpenID provider 09-oidc starts for itself.
(cd "$root/tests/oidc" && npm ci --no-audit --no-fund --loglevel=error >>"$work/npm.log" 2>&1) || setup_failed "npm ci failed in tests/oidc"

chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
    say "installing Debian's chromium"
    [ "$(id -u)" = 0 ] || setup_failed "chromium is missing; install it (apt-get install chromium) or run as root"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$work/apt.log" 2>&1 \
        || setup_failed "apt-get install chromium failed"
    chromium=$(command -v chromium) || setup_failed "chromium is still missing"
fi
command -v psql >/dev/null || setup_failed "psql is missing (apt-get install postgresql-client)"

# The assets the tests load must be the ones embedded in the binary: debug builds read
# assets/ from disk, so they would hide an asset missing from the embed.
say "browser tests: cargo build --profile $profile --bin notebox"
(cd "$root" && cargo build --profile "$profile" --bin notebox >"$work/cargo.log" 2>&1) || setup_failed "cargo build failed"
notebox_bin="$root/target/$([ "$profile" = dev ] && echo debug || echo "$profile")/notebox"

database="notebox_browser_$(date +%s)_$$"
psql "$DATABASE_URL" -qXc "create database \"$database\"" >"$work/psql.log" 2>&1 || setup_failed "could not create a database"
app_database_url=$(node -e 'const u=new URL(process.argv[1]); u.pathname="/"+process.argv[2]; console.log(u.href)' "$DATABASE_URL" "$database")

port=$(free_port)
sync_port=$(free_port)
notebox_url="http://127.0.0.1:$port"
sync_url="http://127.0.0.1:$sync_port"

node "$here/sync-double.mjs" --port "$sync_port" --database-url "$app_database_url" \
    --jwks-url "$notebox_url/.well-known/jwks.json" ${NOTEBOX_BROWSER_VERBOSE:+--verbose} >"$work/sync-double.log" 2>&1 &
pids+=($!)

# Only the settings below: a stray NOTEBOX_* in the caller's environment would be read
# as config (and an unknown key stops notebox).
unset_notebox=()
for name in $(compgen -e | grep '^NOTEBOX_'); do unset_notebox+=(-u "$name"); done
notebox_env=(
    env "${unset_notebox[@]}"
    NOTEBOX_DATABASE__URL="$app_database_url"
    NOTEBOX_SERVER__BIND="127.0.0.1:$port"
    NOTEBOX_SERVER__PUBLIC_URL="$notebox_url"
    NOTEBOX_POWERSYNC__URL="$sync_url"
    NOTEBOX_POWERSYNC__INTERNAL_URL="$sync_url"
    NOTEBOX_POWERSYNC__STORAGE_DATABASE=""
    NOTEBOX_AUTH__SIGNUP=open
    NOTEBOX_LOG__LEVEL="${NOTEBOX_LOG__LEVEL:-warn}"
)
"${notebox_env[@]}" "$notebox_bin" serve >"$work/notebox.log" 2>&1 &
pids+=($!)

notebox_pid=$!
wait_for "$sync_url/probes/liveness" 30 || setup_failed "the sync double did not start"
wait_for "$notebox_url/healthz" 90 "$notebox_pid" || setup_failed "notebox did not start"

# The first-run test creates the admin through the one-time link, as a person would.
setup_link=$("${notebox_env[@]}" "$notebox_bin" setup-link 2>"$work/setup-link.log") \
    || setup_failed "notebox setup-link failed"

export NOTEBOX_URL="$notebox_url" SYNC_DOUBLE_URL="$sync_url" TEST_DATABASE_URL="$app_database_url" CHROMIUM="$chromium"
export SETUP_LINK="$setup_link"
export ARTIFACTS="$root/test-artifacts"
mkdir -p "$ARTIFACTS"

if $serve_only; then
    say "notebox: $notebox_url  (sync double: $sync_url, database: $database) — Ctrl-C stops"
    tail -f "$work/notebox.log" "$work/sync-double.log"
    exit 0
fi

if $bench; then
    say "bench: 10,000 notes"
    (cd "$here" && node bench-10k.mjs)
    exit $?
fi

say "browser tests: node --test"
# One file at a time, in name order: 01-first-run must meet an empty database.
mapfile -t files < <(ls "$here"/tests/*.test.mjs | sort)
if [ ${#filters[@]} -gt 0 ]; then
    chosen=()
    for file in "${files[@]}"; do
        name=$(basename "$file")
        keep=false
        [[ $name == 01-* ]] && keep=true
        for prefix in "${filters[@]}"; do [[ $name == "$prefix"* ]] && keep=true; done
        $keep && chosen+=("$file")
    done
    files=("${chosen[@]}")
fi
(cd "$here" && node --test --test-concurrency=1 --test-reporter=tap "${files[@]}") 2>&1 | tee "$work/tap.log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    for log in notebox sync-double; do
        echo "--- $log.log (last 40 lines)" >&2
        tail -40 "$work/$log.log" >&2
    done
fi
exit "$status"
