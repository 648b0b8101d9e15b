#!/usr/bin/env bash
# tests/cli/install.sh MAPD BUILD_DIR SAMPLE_DIR — `make install`'s layout and
# the web map `mapd serve` finds without --web.
#
# Installs BUILD_DIR with `cmake --install` under a temporary prefix (and once
# more with DESTDIR), checks the layout (bin/mapd, share/entraide/web with its
# precompressed copies and nothing pointing at node_modules,
# share/doc/entraide), then serves a database made from SAMPLE_DIR: the
# installed mapd without --web serves the installed web map, the build tree's
# mapd serves BUILD_DIR/web, --web DIR overrides both, --no-web serves no file,
# and a mapd with no web map beside it says so and serves none.
MAPD=$1
BUILD=$2
SAMPLE=$3
source "$(dirname "$0")/lib.sh"

# all TEST... — every test (a command line in one string) succeeds.
all() {
    local t
    for t; do eval "$t" || return 1; done
}

DB=$WORK/city.sqlite
"$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$DB" >/dev/null

# ---- the installed layout ----
PREFIX=$WORK/prefix
check "cmake --install --prefix succeeds" \
    bash -c 'cmake --install "$1" --prefix "$2" >"$3" 2>&1 || { cat "$3"; false; }' _ "$BUILD" "$PREFIX" "$WORK/install.log"
SITE=$PREFIX/share/entraide/web
DOC=$PREFIX/share/doc/entraide
check "bin/mapd is installed and executable" [ -x "$PREFIX/bin/mapd" ]
check "share/entraide/web holds the built site" all '[ -f "$SITE/index.html" ]' '[ -f "$SITE/sw.js" ]' '[ -d "$SITE/assets" ]'
check "the installed site is the build's, file for file" diff -r "$BUILD/web" "$SITE"
check "the installed site has its brotli and gzip copies" all '[ -f "$SITE/index.html.br" ]' '[ -f "$SITE/index.html.gz" ]'
check "nothing in the installed site points at node_modules" \
    all '[ -d "$SITE" ]' '! grep -rlI node_modules "$SITE"'
check "README.md and the guides are in share/doc/entraide" \
    all '[ -f "$DOC/README.md" ]' '[ -f "$DOC/docs/operations.md" ]' '[ -f "$DOC/docs/api.md" ]'
check "the screenshots are beside the guides that show them" \
    [ "$(ls "$DOC/docs/screenshots/"*.png | wc -l)" -ge 1 ]

STAGE=$WORK/stage
check "cmake --install with DESTDIR succeeds" \
    bash -c 'DESTDIR="$1" cmake --install "$2" --prefix /opt/entraide >"$3" 2>&1 || { cat "$3"; false; }' \
    _ "$STAGE" "$BUILD" "$WORK/install-destdir.log"
check "DESTDIR is honoured" \
    all '[ -x "$STAGE/opt/entraide/bin/mapd" ]' '[ -f "$STAGE/opt/entraide/share/entraide/web/index.html" ]'

# ---- serving ----
pid=
# start NAME MAPD ARGS... — MAPD serve on an ephemeral port, its stdout in
# $WORK/NAME.out; sets pid and base.
start() {
    local name=$1 bin=$2
    shift 2
    "$bin" serve --db "$DB" --listen 127.0.0.1:0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
    pid=$!
    for _ in $(seq 1 200); do
        grep -q "web map" "$WORK/$name.out" 2>/dev/null && break
        sleep 0.05
    done
    base=$(sed -nE '1s/.*serving (http:\/\/[0-9.]+:[0-9]+)\/.*/\1/p' "$WORK/$name.out")
}
stop() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
}
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; rm -rf "$WORK"' EXIT

status() { curl -s -o "$WORK/body" -w '%{http_code} %{content_type}' "$@"; }
# The page's first script under /assets/ (its name carries a hash).
asset_of() { grep -oE 'assets/[A-Za-z0-9_.-]+\.js' "$1" | head -n 1; }

start installed "$PREFIX/bin/mapd"
check "installed mapd announces its address ($base)" [ -n "$base" ]
check "installed mapd says it serves the installed web map" \
    grep -qF "mapd: web map from $(realpath "$SITE") (found beside the executable)" "$WORK/installed.out"
check "installed: GET / is the page" [ "$(status "$base/")" = "200 text/html; charset=utf-8" ]
check "installed: the page is the installed index.html" cmp -s "$WORK/body" "$SITE/index.html"
ASSET=$(asset_of "$SITE/index.html" || true)
check "the page names a script under /assets/ ($ASSET)" [ -n "$ASSET" ]
check "installed: GET /$ASSET is the file" \
    all '[ "$(status "$base/$ASSET")" = "200 text/javascript; charset=utf-8" ]' 'cmp -s "$WORK/body" "$SITE/$ASSET"'
check "installed: its brotli copy is served (not older than the file once installed)" \
    bash -c "curl -s -D - -o /dev/null -H 'Accept-Encoding: br' '$base/$ASSET' | grep -qi '^content-encoding: br'"
check "installed: the API answers too" [ "$(status "$base/healthz" | cut -d' ' -f1)" = 200 ]
stop

start staged "$STAGE/opt/entraide/bin/mapd"
check "a DESTDIR copy finds the web map beside itself, wherever it lies" \
    grep -qF "mapd: web map from $(realpath "$STAGE/opt/entraide/share/entraide/web") (found beside the executable)" "$WORK/staged.out"
check "staged: GET / is the page" [ "$(status "$base/" | cut -d' ' -f1)" = 200 ]
stop

start buildtree "$MAPD"
check "build tree: mapd says it serves BUILD/web" \
    grep -qF "mapd: web map from $(realpath "$BUILD/web") (found beside the executable)" "$WORK/buildtree.out"
check "build tree: GET / is the built page" \
    all '[ "$(status "$base/" | cut -d" " -f1)" = 200 ]' 'cmp -s "$WORK/body" "$BUILD/web/index.html"'
check "build tree: GET /$ASSET is the file" \
    all '[ "$(status "$base/$ASSET" | cut -d" " -f1)" = 200 ]' 'cmp -s "$WORK/body" "$BUILD/web/$ASSET"'
stop

OTHER=$WORK/other-site
mkdir -p "$OTHER"
echo '<!doctype html><title>Another site</title>' >"$OTHER/index.html"
start override "$PREFIX/bin/mapd" --web "$OTHER"
check "--web DIR overrides the default, and says so" grep -qF "mapd: web map from $OTHER (--web)" "$WORK/override.out"
check "--web DIR: GET / is that directory's page" \
    all '[ "$(status "$base/" | cut -d" " -f1)" = 200 ]' 'grep -q "Another site" "$WORK/body"'
check "--web DIR: the installed assets are not served" [ "$(status "$base/$ASSET" | cut -d' ' -f1)" = 404 ]
stop

start noweb "$PREFIX/bin/mapd" --no-web
check "--no-web says no web map is served" grep -qF "mapd: no web map (--no-web)" "$WORK/noweb.out"
check "--no-web: GET / is a problem+json 404" [ "$(status "$base/")" = "404 application/problem+json" ]
check "--no-web: the API still answers" [ "$(status "$base/healthz" | cut -d' ' -f1)" = 200 ]
stop

# A copy of the executable with no web map beside it (and no build tree).
mkdir -p "$WORK/lonely/bin"
cp "$PREFIX/bin/mapd" "$WORK/lonely/bin/mapd" || true
start lonely "$WORK/lonely/bin/mapd"
check "with no web map beside it, mapd says where it looked" \
    grep -qF "mapd: no web map found beside $(realpath "$WORK/lonely/bin")" "$WORK/lonely.out"
check "with no web map beside it: GET / is a 404" [ "$(status "$base/" | cut -d' ' -f1)" = 404 ]
stop

# usage_error NAME ARGS...: mapd serve ARGS exits 2 with one line on stderr.
usage_error() {
    local name=$1 rc=0
    shift
    timeout 10 "$PREFIX/bin/mapd" serve --db "$DB" --listen 127.0.0.1:0 "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$WORK/err")" -eq 1 ]; then pass "$name: $(cat "$WORK/err")"
    else fail "$name: exit $rc, $(wc -l <"$WORK/err") stderr lines"; fi
}
usage_error "--web '' is refused (--no-web says it)" --web ''
usage_error "--web DIR and --no-web together are refused" --web "$OTHER" --no-web

finish
