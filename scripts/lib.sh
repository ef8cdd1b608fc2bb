# Shell helpers shared by scripts/test and scripts/native-stack (source it; needs $work).

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Runs a command as the postgres user when we are root (initdb refuses root).
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Installs the Debian packages that are missing (as root).
need_apt() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return
    say "installing ${missing[*]}"
    if [ "$(id -u)" != 0 ]; then echo "missing packages: ${missing[*]} (run as root or install them)" >&2; exit 1; fi
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1
}

# start_cluster NAME WAL_LEVEL [EXTRA_SETTINGS] -> prints the superuser URL
# A throwaway cluster in $work/pg-NAME on a free 127.0.0.1 port, password auth over TCP.
start_cluster() {
    local dir="$work/pg-$1" port bin
    port=$(free_port)
    bin=$(pg_bin)
    mkdir -p "$dir"
    chmod 755 "$work"
    echo postgres >"$dir/pwfile"
    [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c wal_level=$2 \
            -c max_replication_slots=10 -c max_wal_senders=10 -c max_connections=300 ${3:-}" start >/dev/null \
        || { cat "$dir/postgres.log" >&2; return 1; }
    echo "postgres://postgres:postgres@127.0.0.1:$port/postgres"
}

# Stops every cluster start_cluster made under $work.
stop_clusters() {
    local bin
    bin=$(pg_bin)
    for dir in "$work"/pg-*; do
        [ -d "$dir/data" ] && as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1
    done
}
