# shellcheck shell=bash
# tests/pg/pg_private.sh — a private PostgreSQL 15 cluster for the tests of
# the store's PostgreSQL engine. Sourced (bash), it defines these functions:
#
#   pg_private_start DIR   initdb into DIR/data, start the server with its Unix
#                          socket in DIR (no TCP at all), create the database
#                          `entraide`, and export PG_CONNINFO (libpq's
#                          "host=DIR port=5432 dbname=entraide user=postgres",
#                          DIR quoted if it must be) and PG_URL (postgresql://
#                          postgres@/entraide?host=<DIR, %-encoded>&port=5432).
#                          The port only names the socket file (DIR/.s.PGSQL.5432);
#                          it is spelt out so that a PGPORT in the environment
#                          cannot lead a client elsewhere.
#   pg_private_stop DIR    stop it (fast mode: sessions are cut, what was
#                          committed stays). Harmless when nothing runs there.
#   pg_private_test_work   for a test with a $WORK directory: the server of
#                          $WORK/pg stopped and $WORK removed at its exit.
#
# DIR must exist or be creatable; the caller removes it afterwards. As root
# the server runs as the `postgres` user (initdb refuses root): DIR is given
# to that user and every directory above it must let it through (mode 755
# on a mktemp -d directory, say). As anyone else it runs as the caller. The
# superuser is named `postgres` either way, with trust authentication on
# the socket, so the connection strings are the same.
#
# The cluster is made as tests/bench/tiles_lib.sh's pg_start makes its own
# (initdb as postgres when root, trust, no TCP, socket in the directory), but
# durability is the production one (fsync=on, synchronous_commit=on, where
# the benchmark turns them off): a test that kills the server must find
# every acknowledged write. It is UTF8 with the C locale, as the
# benchmark's: lower(), hence citext's case-insensitive emails, then folds
# ASCII letters only, like SQLite's NOCASE of the embedded store.
#
# The database has the extensions postgis, citext and unaccent, created by
# the superuser as an operator would (the store's schema, schema_pg.c, only
# creates those missing, and the store refuses a database without PostGIS).

PG_PRIVATE_BIN=${PG_PRIVATE_BIN:-/usr/lib/postgresql/15/bin}

# Runs a command as the cluster's owner: postgres when we are root.
pg_private_as() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# "%2Ftmp%2Fx" for "/tmp/x": every byte but RFC 3986's unreserved ones.
pg_private_urlencode() {
    local s=$1 out='' c i
    local LC_ALL=C
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
            [A-Za-z0-9._~-]) out+=$c ;;
            *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

pg_private_start() {
    local dir=${1:?pg_private_start DIR}
    local bin=$PG_PRIVATE_BIN
    if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
        echo "pg_private_start: no PostgreSQL 15 in $bin (apt-get install postgresql-15)" >&2
        return 1
    fi
    command -v psql >/dev/null \
        || { echo "pg_private_start: no psql (apt-get install postgresql-client-15)" >&2; return 1; }
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd) || return 1
    # The socket's path is DIR/.s.PGSQL.5432, and a Unix socket's path holds
    # at most 107 bytes.
    if [ $((${#dir} + 15)) -gt 107 ]; then
        echo "pg_private_start: $dir is too long a path for a Unix socket" >&2
        return 1
    fi
    if [ -e "$dir/data" ]; then
        echo "pg_private_start: $dir/data already exists" >&2
        return 1
    fi
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 \
            || { echo "pg_private_start: no postgres user (apt-get install postgresql-15)" >&2; return 1; }
        chown postgres "$dir" || return 1
        runuser -u postgres -- test -w "$dir" \
            || { echo "pg_private_start: the postgres user cannot reach $dir (a directory above it is closed: chmod 755 it)" >&2; return 1; }
    fi
    pg_private_as "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C \
        >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; echo "pg_private_start: initdb failed" >&2; return 1; }
    pg_private_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -s \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c port=5432 \
            -c fsync=on -c synchronous_commit=on" start \
        || { cat "$dir/log" >&2; echo "pg_private_start: PostgreSQL did not start" >&2; return 1; }
    local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p 5432 -U postgres)
    "${psql[@]}" -d postgres -c "CREATE DATABASE entraide" \
        || { echo "pg_private_start: cannot create the database entraide" >&2; return 1; }
    local missing
    missing=$("${psql[@]}" -d entraide -At -c \
        "SELECT string_agg(x, ' ') FROM unnest(ARRAY['postgis', 'citext', 'unaccent']) x
         WHERE x NOT IN (SELECT name FROM pg_available_extensions)") || return 1
    if [ -n "$missing" ]; then
        echo "pg_private_start: extensions not installed: $missing (apt-get install postgresql-15 postgresql-15-postgis-3)" >&2
        return 1
    fi
    "${psql[@]}" -d entraide -c "CREATE EXTENSION postgis; CREATE EXTENSION citext;
                                 CREATE EXTENSION unaccent" \
        || { echo "pg_private_start: cannot create the extensions" >&2; return 1; }
    local host=$dir
    # libpq's quoting, 'value' with \' and \\, for a DIR with spaces or quotes:
    # the quotes are meant literally (SC2089/SC2090).
    # shellcheck disable=SC2089,SC2090
    case $dir in *[[:space:]\'\\]*)
        host=${dir//\\/\\\\}; host="'${host//\'/\\\'}'" ;;
    esac
    PG_CONNINFO="host=$host port=5432 dbname=entraide user=postgres"
    PG_URL="postgresql://postgres@/entraide?host=$(pg_private_urlencode "$dir")&port=5432"
    # shellcheck disable=SC2090
    export PG_CONNINFO PG_URL
}

pg_private_stop() {
    local dir=${1:?pg_private_stop DIR}
    [ -f "$dir/data/postmaster.pid" ] || return 0
    pg_private_as "$PG_PRIVATE_BIN/pg_ctl" -D "$dir/data" -m fast -w -s stop
}

# For a test script that sourced tests/cli/lib.sh (its $WORK) and starts its
# server with pg_private_start "$WORK/pg": that server is stopped and $WORK
# removed however the script ends.
pg_private_test_work() {
    chmod 755 "$WORK"   # the postgres user runs the server below it when we are root
    trap 'pg_private_stop "$WORK/pg" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
    trap 'exit 130' INT TERM   # through the EXIT trap: no server left running
}
