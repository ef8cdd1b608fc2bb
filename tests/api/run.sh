#!/usr/bin/env bash
# Property-based tests of the HTTP API: schemathesis (pinned below, installed into a venv
# under $NOTEBOX_API_WORK or a temporary directory) generates requests for every
# operation of /api/openapi.json against the real binary and checks that none answers 5xx
# and that every answer (status, content type, body) is the documented one.
#
#   DATABASE_URL=postgres://postgres:…@127.0.0.1:5432/postgres tests/api/run.sh
#
# DATABASE_URL is a superuser URL (scripts/test provides one). This script builds the
# debug binary (which `cargo test` already made), creates a throwaway database, starts
# `notebox serve` on a free 127.0.0.1 port (no PowerSync: these operations do not need it),
# adds an admin account and logs in for a bearer session token, and runs schemathesis with
# EXAMPLES examples per operation (default 200). Logout ends that session, so it runs on its
# own at the end. Its last line is "api tests: N passed, N failed" (one per operation;
# a setup failure counts as one failed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${NOTEBOX_API_WORK:-$(mktemp -d /tmp/notebox-api.XXXXXX)}
mkdir -p "$work"
examples=${EXAMPLES:-200}
schemathesis_version=4.32.5
pids=()
database=""

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup_failed() {
    echo "API tests could not start: $*" >&2
    for log in "$work"/*.log; do
        [ -s "$log" ] && { echo "--- $(basename "$log") (last 30 lines)" >&2; tail -30 "$log" >&2; }
    done
    echo "api tests: 0 passed, 1 failed"
    exit 1
}

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    if [ -n "$database" ]; then
        psql "$DATABASE_URL" -qXc "drop database if exists \"$database\" with (force)" >/dev/null 2>&1
    fi
    [ -z "${NOTEBOX_API_WORK:-}" ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Polls until the URL answers; fails after $2 seconds, or at once when process $3 exited.
wait_for() {
    local deadline=$((SECONDS + $2))
    until curl -fsS -o /dev/null "$1" 2>/dev/null; do
        kill -0 "$3" 2>/dev/null || return 1
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

[ -n "${DATABASE_URL:-}" ] || setup_failed "DATABASE_URL is not set (a superuser URL of a Postgres server)"
command -v psql >/dev/null || setup_failed "psql is missing (apt-get install postgresql-client)"
command -v curl >/dev/null || setup_failed "curl is missing"

venv="$work/venv"
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $schemathesis_version" ]; then
    say "API tests: installing schemathesis $schemathesis_version"
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q "schemathesis==$schemathesis_version"; } >"$work/pip.log" 2>&1 \
        || setup_failed "pip install schemathesis failed (python3-venv installed?)"
fi

# Built as scripts/test's `cargo test` builds it (dev-dependency features included), so
# after that this is a no-op; `cargo build` alone would rebuild several crates.
# NOTEBOX_BIN: a binary to test instead (nothing is built).
notebox_bin=${NOTEBOX_BIN:-}
if [ -z "$notebox_bin" ]; then
    say "API tests: cargo test --no-run (target/debug/notebox)"
    (cd "$root" && cargo test --lib --bins --tests --no-run >"$work/cargo.log" 2>&1) || setup_failed "cargo build failed"
    notebox_bin="$root/target/debug/notebox"
fi

database="notebox_api_$(date +%s)_$$"
psql "$DATABASE_URL" -qXc "create database \"$database\"" >"$work/psql.log" 2>&1 || setup_failed "could not create a database"
app_database_url=$(python3 -c 'import sys, urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$DATABASE_URL" "$database")

port=$(free_port)
notebox_url="http://127.0.0.1:$port"
# Only the settings below: a stray NOTEBOX_* in the caller's environment would be read
# as config (and an unknown key stops notebox).
unset_notebox=()
for name in $(compgen -e | grep '^NOTEBOX_'); do unset_notebox+=(-u "$name"); done
notebox_env=(
    env "${unset_notebox[@]}"
    NOTEBOX_DATABASE__URL="$app_database_url"
    NOTEBOX_SERVER__BIND="127.0.0.1:$port"
    NOTEBOX_SERVER__PUBLIC_URL="$notebox_url"
    NOTEBOX_POWERSYNC__URL="http://127.0.0.1:9"
    NOTEBOX_POWERSYNC__STORAGE_DATABASE=""
    NOTEBOX_AUTH__SIGNUP=open
    NOTEBOX_LOG__LEVEL="${NOTEBOX_LOG__LEVEL:-warn}"
)
"${notebox_env[@]}" "$notebox_bin" serve >"$work/notebox.log" 2>&1 &
notebox_pid=$!
pids+=("$notebox_pid")
wait_for "$notebox_url/healthz" 90 "$notebox_pid" || setup_failed "notebox did not start"

password="api-test-$(date +%s%N)"
echo "$password" | "${notebox_env[@]}" "$notebox_bin" user add --email api-admin@example.com \
    --display-name "API admin" --admin --password-stdin >"$work/user.log" 2>&1 || setup_failed "notebox user add failed"
session=$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"email\":\"api-admin@example.com\",\"password\":\"$password\"}" "$notebox_url/api/auth/login" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["session_token"])') || setup_failed "login failed"

run_schemathesis() {
    local name=$1
    shift
    # From $work: schemathesis keeps a cache in the current directory.
    (cd "$work" && "$venv/bin/schemathesis" run "$notebox_url/api/openapi.json" --url "$notebox_url" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --phases examples,coverage,fuzzing \
        --max-examples "$examples" --workers 1 --max-redirects 0 --seed 1 \
        --header "Authorization: Bearer $session" \
        --report junit --report-junit-path "$work/$name.xml" \
        "$@") 2>&1 | tee "$work/$name.out"
}

say "API tests: schemathesis, $examples examples per operation"
started=$SECONDS
run_schemathesis main --exclude-path /api/auth/logout
run_schemathesis logout --include-path /api/auth/logout
say "API tests: schemathesis took $((SECONDS - started)) s"

# One test case per operation in each JUnit report.
python3 - "$work/main.xml" "$work/logout.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
passed = failed = 0
for path in sys.argv[1:]:
    try:
        cases = ET.parse(path).getroot().iter("testcase")
    except (OSError, ET.ParseError) as e:
        print(f"no report {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is None:
            passed += 1
print(f"api tests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
