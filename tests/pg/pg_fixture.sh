#!/bin/bash
# tests/pg/pg_fixture.sh start|stop DIR — the private PostgreSQL that the API
# tests use when they run against the PostgreSQL store (ctest fixture
# pg_server, tests/pg/CMakeLists.txt): started once before them, in DIR
# (its socket directory, which ENTRAIDE_TEST_PG names), stopped after.
# Each test makes its own database there (tests/api/harness.py).
set -eu
. "$(dirname "$0")/pg_private.sh"
case ${1:?start or stop} in
    start)
        dir=${2:?DIR}
        [ -d "$dir/data" ] && pg_private_stop "$dir" 2>/dev/null || true
        rm -rf "$dir"
        mkdir -p "$dir"
        chmod 755 "$dir"
        pg_private_start "$dir" ;;
    stop)
        dir=${2:?DIR}
        pg_private_stop "$dir"
        rm -rf "$dir" ;;
esac
