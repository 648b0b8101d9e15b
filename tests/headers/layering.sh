#!/usr/bin/env bash
# tests/headers/layering.sh ROOT — dependencies point one way: mapd -> tiles,
# mapd -> geodata. tiles knows nothing of SQL, HTTP or geodata; geodata
# nothing of HTTP, tiles or mapd.
ROOT=$1
bad=0
if grep -rnE '#include [<"](geodata/|mapd|microhttpd|sqlite3|spatialite|gdal|ogr_)' "$ROOT/tiles"; then
    echo "tiles includes what it must not"; bad=1
fi
if grep -rnE '#include [<"](tiles/|mapd|microhttpd)' "$ROOT/geodata"; then
    echo "geodata includes what it must not"; bad=1
fi
[ "$bad" -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit "$bad"
