#!/usr/bin/env bash
# tests/pg/test_schema_pg.sh MAPD PRINT_PG_SCHEMA SAMPLE_DIR — the store's
# PostgreSQL schema (geodata/store/schema_pg.c) against the SQLite store's.
#
# A real SQLite store is made by `mapd import neighbourhoods` from the Paris
# sample; a private PostgreSQL 15 (pg_private.sh) gets geodata_pg_schema in
# one transaction. Then: the same tables, columns (names, order, types,
# nullability, presence of a default), keys, unique sets, foreign keys and
# their ON DELETE rules, named indexes, geometry columns and triggers; the
# same results of the same SQL run on both (tests/pg/portable_scenario.sql:
# change feed, counters, streets_pending, cascades), the same accepted and
# refused writes (CHECK, UNIQUE, foreign keys, geometry types), the same
# keyword searches; and what only PostgreSQL has: the NOTIFY of the change
# feed, its numbers without gaps and in commit order, its pruning.
# shellcheck disable=SC1112  # the typographic apostrophes below are data: French text
MAPD=$1
PRINT_PG_SCHEMA=$2
SAMPLE=$3
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../cli/lib.sh"
source "$HERE/pg_private.sh"
pg_private_test_work

die() { echo "FAIL - $*"; echo "$PASSES passed, $((FAILS + 1)) failed"; exit 1; }

# ---- the two stores ------------------------------------------------------------
LITE=$WORK/store.sqlite
"$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$LITE" >/dev/null \
    || die "mapd import neighbourhoods"
lite() { sqlite3 -bail -batch -cmd ".load mod_spatialite" -cmd "PRAGMA foreign_keys=ON" "$LITE" "$@"; }
lite "SELECT 1" >/dev/null || die "sqlite3 cannot load mod_spatialite"

pg_private_start "$WORK/pg" || die "no private PostgreSQL"
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
pg() { "${PSQL[@]}" "$PG_CONNINFO" "$@"; }
ADMIN="host=$WORK/pg port=5432 dbname=postgres user=postgres"

"$PRINT_PG_SCHEMA" >"$WORK/schema.sql" || die "print_pg_schema"
if pg -1 -f "$WORK/schema.sql" >"$WORK/load.out" 2>&1; then
    pass "the schema loads in one transaction, stopping at any error"
else
    cat "$WORK/load.out"
    die "the schema does not load"
fi

# One transaction indeed: the same text followed by an error leaves nothing.
"${PSQL[@]}" "$ADMIN" -c "CREATE DATABASE atomic" || die "CREATE DATABASE atomic"
ATOMIC="host=$WORK/pg port=5432 dbname=atomic user=postgres"
{ cat "$WORK/schema.sql"; echo "SELECT 1/0;"; } | "${PSQL[@]}" "$ATOMIC" -1 -f - >/dev/null 2>&1 \
    && fail "the schema followed by an error loaded"
check "the schema holds no COMMIT: an error after it leaves no table, function or extension" \
    [ "$("${PSQL[@]}" "$ATOMIC" -c "SELECT (SELECT count(*) FROM pg_class WHERE relname IN ('posts', 'changes'))
        + (SELECT count(*) FROM pg_proc WHERE proname = 'unixepoch')
        + (SELECT count(*) FROM pg_extension WHERE extname IN ('postgis', 'citext', 'unaccent'))")" = 0 ]

check "the version is the SQLite store's, in one row" \
    [ "$(pg -c "SELECT string_agg(version::text, ',') FROM geodata_schema")" = "$(lite "PRAGMA user_version")" ]
check "print_pg_schema --version says the same" \
    [ "$("$PRINT_PG_SCHEMA" --version)" = "$(lite "PRAGMA user_version")" ]

# ---- structure -------------------------------------------------------------------
# The store's own tables: not SpatiaLite's (those of an empty SpatiaLite
# database), nor virtual tables (R*Tree, FTS5, SpatiaLite's) and their shadows.
sqlite3 -batch -cmd ".load mod_spatialite" "$WORK/bare.sqlite" "SELECT InitSpatialMetadata(1, 'WGS84')" >/dev/null
BARE=$(sqlite3 -batch "$WORK/bare.sqlite" \
    "SELECT group_concat(quote(name), ',') FROM sqlite_schema WHERE type = 'table'")
lite "SELECT name FROM sqlite_schema t
      WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT IN ($BARE)
        AND NOT EXISTS (SELECT 1 FROM sqlite_schema v WHERE v.type = 'table'
                        AND v.sql LIKE 'CREATE VIRTUAL TABLE%'
                        AND (t.name = v.name OR t.name LIKE v.name || '\_%' ESCAPE '\'))
      ORDER BY name" >"$WORK/lite.tables"
[ "$(wc -l <"$WORK/lite.tables")" -ge 20 ] || die "only $(wc -l <"$WORK/lite.tables") store tables found in SQLite"
TABLES=$(sed "s/.*/'&'/" "$WORK/lite.tables" | paste -sd,)
pg -c "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
       AND table_type = 'BASE TABLE' ORDER BY table_name" >"$WORK/pg.tables"
check "every SQLite table exists in PostgreSQL" \
    diff <(comm -23 "$WORK/lite.tables" "$WORK/pg.tables") /dev/null
# PostgreSQL's own: the FTS tables, the feed's counter, the version,
# PostGIS's reference systems, and the rate limits that replicas share
# (domain/rate_limits.c; a SQLite store's one server keeps them in memory).
check "PostgreSQL's other tables are the expected ones" \
    [ "$(comm -13 "$WORK/lite.tables" "$WORK/pg.tables" | paste -sd' ')" \
      = "changes_seq comments_fts geodata_schema posts_fts rate_limits spatial_ref_sys" ]

# Columns: table|position|name|type|nullability ('pk' for key columns, which
# SQLite lets be NULL in rowid tables)|has a default ('-' for geom: SpatiaLite
# gives registered columns a default of '', PostGIS none). BLOBs that hold
# SpatiaLite geometries are geometries in PostgreSQL; citext is text.
GEOM_BLOBS="'changes.old_geom', 'changes.new_geom', 'subscriptions.area'"
GEOM_TYPES="'POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON'"
lite "SELECT t.name, c.cid, c.name,
        CASE WHEN c.type IN ($GEOM_TYPES) THEN 'geometry'
             WHEN c.type = 'INTEGER' THEN 'bigint' WHEN c.type = 'REAL' THEN 'double precision'
             WHEN c.type = 'TEXT' THEN 'text'
             WHEN c.type = 'BLOB' AND t.name || '.' || c.name IN ($GEOM_BLOBS) THEN 'geometry'
             WHEN c.type = 'BLOB' THEN 'bytea' ELSE 'unknown ' || c.type END,
        CASE WHEN c.pk > 0 THEN 'pk' ELSE c.\"notnull\" END,
        CASE WHEN c.name = 'geom' AND c.type IN ($GEOM_TYPES) THEN '-'
             ELSE c.dflt_value IS NOT NULL END
      FROM sqlite_schema t, pragma_table_info(t.name) c WHERE t.type = 'table' AND t.name IN ($TABLES)
      ORDER BY 1, 2" >"$WORK/lite.columns"
pg -c "SELECT c.table_name, c.ordinal_position - 1, c.column_name,
         CASE WHEN c.udt_name = 'citext' THEN 'text'
              WHEN c.data_type = 'USER-DEFINED' THEN c.udt_name ELSE c.data_type END,
         CASE WHEN EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
                           AND a.attnum = ANY (i.indkey::int2[])
                           WHERE i.indisprimary AND i.indrelid = quote_ident(c.table_name)::regclass
                           AND a.attname = c.column_name) THEN 'pk'
              ELSE (c.is_nullable = 'NO')::int::text END,
         CASE WHEN c.column_name = 'geom' AND c.udt_name = 'geometry' THEN '-'
              ELSE (c.column_default IS NOT NULL)::int::text END
       FROM information_schema.columns c
       WHERE c.table_schema = current_schema() AND c.table_name IN ($TABLES) ORDER BY 1, 2" \
    >"$WORK/pg.columns"
if diff "$WORK/lite.columns" "$WORK/pg.columns" >"$WORK/columns.diff"; then
    pass "the same columns in the same order, types, nullability and defaults ($(wc -l <"$WORK/pg.columns") columns)"
else
    fail "columns differ (< SQLite, > PostgreSQL)"; sed 's/^/    /' "$WORK/columns.diff"
fi

# Keys and unique sets: table|columns|partial.
lite "SELECT t.name, (SELECT group_concat(name, ',') FROM
                        (SELECT name FROM pragma_table_info(t.name) WHERE pk > 0 ORDER BY pk)), 0
      FROM sqlite_schema t WHERE t.type = 'table' AND t.name IN ($TABLES)
      UNION ALL
      SELECT t.name, (SELECT group_concat(name, ',') FROM
                        (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)), il.partial
      FROM sqlite_schema t, pragma_index_list(t.name) il
      WHERE t.type = 'table' AND t.name IN ($TABLES) AND il.\"unique\" AND il.origin <> 'pk'
      ORDER BY 1, 2, 3" >"$WORK/lite.unique"
pg -c "SELECT i.indrelid::regclass::text, string_agg(a.attname, ',' ORDER BY k.ord),
              (i.indpred IS NOT NULL)::int
       FROM pg_index i CROSS JOIN unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
       WHERE i.indisunique AND i.indrelid::regclass::text IN ($TABLES)
       GROUP BY i.indexrelid, i.indrelid, i.indpred ORDER BY 1, 2, 3" >"$WORK/pg.unique"
check "the same primary keys and unique sets ($(wc -l <"$WORK/pg.unique"))" \
    diff "$WORK/lite.unique" "$WORK/pg.unique"

# Foreign keys: table|column|parent|parent column|ON UPDATE|ON DELETE.
lite "SELECT t.name, f.\"from\", f.\"table\", f.\"to\", f.on_update, f.on_delete
      FROM sqlite_schema t, pragma_foreign_key_list(t.name) f WHERE t.type = 'table' AND t.name IN ($TABLES)
      ORDER BY 1, 2" >"$WORK/lite.fk"
pg -c "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname,
         CASE c.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
              WHEN 'r' THEN 'RESTRICT' ELSE 'SET DEFAULT' END,
         CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
              WHEN 'r' THEN 'RESTRICT' ELSE 'SET DEFAULT' END
       FROM pg_constraint c
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
       JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
       WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
         AND cardinality(c.conkey) = 1 ORDER BY 1, 2" >"$WORK/pg.fk"
check "the same foreign keys and ON DELETE rules ($(wc -l <"$WORK/pg.fk"))" diff "$WORK/lite.fk" "$WORK/pg.fk"

# Named indexes, with their columns, uniqueness and partiality; the R*Tree of
# every registered geometry column is a GiST index of the same name.
lite "SELECT s.tbl_name, s.name, (SELECT group_concat(name, ',') FROM
                                    (SELECT name FROM pragma_index_info(s.name) ORDER BY seqno)),
             il.\"unique\", il.partial
      FROM sqlite_schema s JOIN pragma_index_list(s.tbl_name) il ON il.name = s.name
      WHERE s.type = 'index' AND s.sql IS NOT NULL AND s.tbl_name IN ($TABLES)
      UNION ALL
      SELECT f_table_name, 'idx_' || f_table_name || '_' || f_geometry_column, f_geometry_column, 0, 0
      FROM geometry_columns WHERE spatial_index_enabled = 1
      ORDER BY 1, 2" >"$WORK/lite.indexes"
pg -c "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text,
              string_agg(a.attname, ',' ORDER BY k.ord), i.indisunique::int, (i.indpred IS NOT NULL)::int
       FROM pg_index i CROSS JOIN unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
       WHERE NOT i.indisprimary AND i.indrelid::regclass::text IN ($TABLES)
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
       GROUP BY i.indexrelid, i.indrelid, i.indisunique, i.indpred ORDER BY 1, 2" >"$WORK/pg.indexes"
check "the same named indexes, columns, uniqueness and partiality ($(wc -l <"$WORK/pg.indexes"))" \
    diff "$WORK/lite.indexes" "$WORK/pg.indexes"
check "the geometry indexes are GiST" \
    [ "$(pg -c "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
               AND indexname LIKE 'idx\_%\_geom' AND indexdef LIKE '%USING gist (geom)'")" \
      = "$(lite "SELECT count(*) FROM geometry_columns WHERE spatial_index_enabled = 1")" ]

# Geometry columns: table|column|type|SRID, as registered by SpatiaLite and PostGIS.
lite "SELECT f_table_name, f_geometry_column,
             CASE geometry_type WHEN 1 THEN 'POINT' WHEN 2 THEN 'LINESTRING' WHEN 3 THEN 'POLYGON'
               WHEN 4 THEN 'MULTIPOINT' WHEN 5 THEN 'MULTILINESTRING' WHEN 6 THEN 'MULTIPOLYGON'
               ELSE 'code ' || geometry_type END, srid
      FROM geometry_columns ORDER BY 1, 2" >"$WORK/lite.geom"
pg -c "SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns
       WHERE f_table_schema = current_schema() AND f_geometry_column = 'geom' ORDER BY 1, 2" \
    >"$WORK/pg.geom"
check "the same geometry columns, types and SRIDs ($(wc -l <"$WORK/pg.geom"))" \
    diff "$WORK/lite.geom" "$WORK/pg.geom"

# Triggers: table|name|timing, event and columns — all of the store's but
# SpatiaLite's check and R*Tree ones (g[gi][iud]_<table>_geom), whose work
# the geometry type and GiST do; PostgreSQL adds the change feed's counter
# and NOTIFY.
norm_trigger() { sed -E 's/[[:space:]]+/ /g; s/ ?, ?/,/g; s/ +$//' | tr '[:lower:]' '[:upper:]'; }
lite "SELECT tbl_name || '|' || name || '|' || replace(sql, char(10), ' ') FROM sqlite_schema
      WHERE type = 'trigger' AND tbl_name IN ($TABLES) AND name NOT GLOB 'g[gi][iud]_*_geom'
      ORDER BY 1" \
    | sed -E 's/^([^|]*\|[^|]*)\|.*\b(BEFORE|AFTER) +(INSERT|DELETE|UPDATE( +OF +[a-z_, ]+)?) +ON .*/\1|\2 \3/I' \
    | norm_trigger | sort >"$WORK/lite.triggers"
pg -c "SELECT c.relname || '|' || t.tgname || '|' || pg_get_triggerdef(t.oid)
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace ORDER BY 1" \
    | sed -E 's/^([^|]*\|[^|]*)\|.*\b(BEFORE|AFTER) +(INSERT|DELETE|UPDATE( +OF +[a-z_, ]+)?) +ON .*/\1|\2 \3/I' \
    | norm_trigger | sort >"$WORK/pg.triggers"
[ "$(wc -l <"$WORK/lite.triggers")" -ge 25 ] || fail "only $(wc -l <"$WORK/lite.triggers") SQLite triggers found"
check "every SQLite trigger, with its timing, event and columns ($(wc -l <"$WORK/lite.triggers"))" \
    diff <(comm -23 "$WORK/lite.triggers" "$WORK/pg.triggers") /dev/null
check "PostgreSQL's own triggers: the feed's counter (taken, saved at commit) and NOTIFY" \
    [ "$(comm -13 "$WORK/lite.triggers" "$WORK/pg.triggers" | LC_ALL=C sort | paste -sd' ')" \
      = "CHANGES|CHANGES_NOTIFY|AFTER INSERT CHANGES|CHANGES_SEQ_SAVE|AFTER INSERT CHANGES|CHANGES_SEQ|BEFORE INSERT" ]

# ---- the same SQL, the same results --------------------------------------------------
# The Paris neighbourhoods of the SQLite store, copied as they are.
lite -csv "SELECT id, name, label_lon, label_lat, area_m2, hex(ST_AsBinary(geom))
           FROM neighbourhoods ORDER BY id" >"$WORK/nb.csv"
pg -c "CREATE TEMP TABLE nb (id text, name text, lon float8, lat float8, area float8, wkb text)" \
   -c "\\copy nb FROM '$WORK/nb.csv' CSV" \
   -c "INSERT INTO neighbourhoods SELECT id, name, lon, lat, area, ST_GeomFromWKB(decode(wkb, 'hex'), 4326)
       FROM nb ORDER BY id" || die "copying the neighbourhoods"
check "the neighbourhoods' import fired the feed on PostgreSQL too" \
    [ "$(pg -c "SELECT count(*) FROM changes WHERE layer = 'neighbourhoods'")" = "$(lite "SELECT count(*) FROM neighbourhoods")" ]

lite <"$HERE/portable_scenario.sql" >"$WORK/lite.report" 2>&1 || { cat "$WORK/lite.report"; die "the scenario on SQLite"; }
pg -f "$HERE/portable_scenario.sql" >"$WORK/pg.report" 2>&1 || { cat "$WORK/pg.report"; die "the scenario on PostgreSQL"; }
if diff "$WORK/lite.report" "$WORK/pg.report" >"$WORK/report.diff"; then
    pass "the portable scenario reports the same on both ($(grep -c '^change|' "$WORK/pg.report") feed entries)"
else
    fail "the portable scenario differs (< SQLite, > PostgreSQL)"; sed 's/^/    /' "$WORK/report.diff"
fi
check "the scenario's report is not empty: the feed saw the claim, the move and the cascade" \
    grep -qxF 'change|needs|2|POINT(2.3425 48.8615)|' "$WORK/pg.report"
check "a hidden comment is not counted" grep -qxF 'post|1|claimed||1|0|1|Courses à l’épicerie du quartier' "$WORK/pg.report"
check "streets_pending lists both communes of a moved address" \
    [ "$(grep '^pending|' "$WORK/pg.report" | paste -sd' ')" = "pending|75101 pending|75102" ]
check "email lookups ignore case" grep -qxF 'email|1' "$WORK/pg.report"
check "unixepoch() is now, as a default" grep -qxF 'recent|1' "$WORK/pg.report"

# Writes both engines accept or refuse, in order (each refused one changes nothing).
E2000=$(printf 'é%.0s' $(seq 2000))    # 2000 characters, 4000 bytes
both() { # ok|refused WHAT SQL (@BLOB@: a two-byte blob, spelt as each engine does)
    local want=$1 what=$2 sql=$3 l=ok p=ok
    local lite_blob="X'00ff'" pg_blob="'\\x00ff'::bytea"
    lite "${sql//@BLOB@/$lite_blob}" >/dev/null 2>"$WORK/both.err" || l=refused
    pg -c "${sql//@BLOB@/$pg_blob}" >/dev/null 2>>"$WORK/both.err" || p=refused
    if [ "$l" = "$want" ] && [ "$p" = "$want" ]; then
        pass "$want on both: $what"
    else
        fail "$what: SQLite $l, PostgreSQL $p, expected $want"; sed 's/^/    /' "$WORK/both.err"
    fi
}
NB="(SELECT min(id) FROM neighbourhoods)"
CHLOE="(SELECT id FROM members WHERE display_name = 'Chloé')"   # ids made after deletions differ
PT="ST_GeomFromText('POINT(2.3412 48.8602)', 4326)"
both refused "an email differing only in case" \
    "INSERT INTO members(email, password_hash, display_name) VALUES ('ELOISE.MARTIN@example.org', 'x', 'x')"
both refused "a role outside the list" \
    "INSERT INTO members(email, password_hash, display_name, role) VALUES ('c@example.org', 'x', 'x', 'boss')"
both ok "a third member" \
    "INSERT INTO members(email, password_hash, display_name) VALUES ('Chloe@example.org', 'x', 'Chloé')"
both refused "a post by nobody" \
    "INSERT INTO posts(author_id, kind, category, title, expires_at, geom) VALUES (999, 'offer', 'other', 't', 0, $PT)"
both refused "a line as a post's point" \
    "INSERT INTO posts(author_id, kind, category, title, expires_at, geom) VALUES (1, 'offer', 'other', 't', 0,
     ST_GeomFromText('LINESTRING(2.34 48.86, 2.35 48.86)', 4326))"
both refused "a point in another SRID" \
    "INSERT INTO posts(author_id, kind, category, title, expires_at, geom) VALUES (1, 'offer', 'other', 't', 0,
     ST_GeomFromText('POINT(260000 6250000)', 3857))"
both refused "a post without a point" \
    "INSERT INTO posts(author_id, kind, category, title, expires_at) VALUES (1, 'offer', 'other', 't', 0)"
both refused "an unknown category" \
    "INSERT INTO posts(author_id, kind, category, title, expires_at, geom) VALUES (1, 'offer', 'cars', 't', 0, $PT)"
both ok "more posts" \
    "INSERT INTO posts(author_id, kind, category, title, body, neighbourhood_id, expires_at, geom) VALUES
     ($CHLOE, 'offer', 'schooling', 'Cours de guitare pour enfants', 'Je prête une guitare', $NB, 0, $PT),
     ($CHLOE, 'request', 'pharmacy', 'Médicaments à la PHARMACIE', '', $NB, 0, $PT)"
both refused "an empty comment" "INSERT INTO comments(post_id, author_id, body, created_at) VALUES (1, 1, '', 0)"
both ok "a comment of 4000 bytes" \
    "INSERT INTO comments(post_id, author_id, body, created_at) VALUES (1, 1, '$E2000', 0)"
both refused "a comment of 4002 bytes (2001 characters)" \
    "INSERT INTO comments(post_id, author_id, body, created_at) VALUES (1, 1, '${E2000}é', 0)"
both ok "a message of 2000 characters" \
    "INSERT INTO post_messages(post_id, claimer_id, author_id, body, created_at) VALUES (1, 1, 1, '$E2000', 0)"
both refused "a message of 2001 characters" \
    "INSERT INTO post_messages(post_id, claimer_id, author_id, body, created_at) VALUES (1, 1, 1, '${E2000}é', 0)"
both ok "a report" "INSERT INTO post_reports(post_id, reporter_id) VALUES (1, 1)"
both refused "the same report again" "INSERT INTO post_reports(post_id, reporter_id) VALUES (1, 1)"
both ok "a shop claim" "INSERT INTO shop_claims(shop_id, member_id, created_at) VALUES (1, 1, 0)"
both refused "a second pending claim" "INSERT INTO shop_claims(shop_id, member_id, created_at) VALUES (1, 1, 0)"
both ok "a new claim once the first is withdrawn" \
    "UPDATE shop_claims SET status = 'withdrawn'; INSERT INTO shop_claims(shop_id, member_id, created_at) VALUES (1, 1, 0)"
both refused "negative stock" "UPDATE makers SET stock = -1"
both refused "a subscription with neither radius nor area" \
    "INSERT INTO subscriptions(member_id, kinds, mode, created_at, cursor) VALUES (1, 'request', 'immediate', 0, 0)"
both ok "a subscription with a radius" \
    "INSERT INTO subscriptions(member_id, kinds, radius_m, mode, created_at, cursor) VALUES (1, 'request', 500, 'immediate', 0, 0)"
both ok "a subscription with an area" \
    "INSERT INTO subscriptions(member_id, kinds, area, mode, created_at, cursor) VALUES (1, 'request',
     ST_GeomFromText('POLYGON((2.33 48.85, 2.35 48.85, 2.35 48.87, 2.33 48.85))', 4326), 'digest', 0, 0)"
both refused "a radius below 50 m" \
    "INSERT INTO subscriptions(member_id, kinds, radius_m, mode, created_at, cursor) VALUES (1, 'request', 10, 'immediate', 0, 0)"
both ok "a group" \
    "INSERT INTO groups(name, category, neighbourhood_id, creator_id, created_at) VALUES ('Couture', 'masks', $NB, 1, 0)"
both refused "a group without a name" \
    "INSERT INTO groups(name, category, neighbourhood_id, creator_id, created_at) VALUES ('', 'masks', $NB, 1, 0)"
both refused "deleting the neighbourhood of a group (no ON DELETE rule)" \
    "DELETE FROM neighbourhoods WHERE id = $NB"
both ok "a session" \
    "INSERT INTO sessions(token_hash, member_id, csrf, expires_at) VALUES (@BLOB@, $CHLOE, 'c', 0)"
check "the session is there on both" \
    [ "$(lite "SELECT count(*) FROM sessions") $(pg -c "SELECT count(*) FROM sessions")" = "1 1" ]
both ok "deleting its member" "DELETE FROM members WHERE id = $CHLOE"
check "the deleted member's session and posts are gone on both" \
    [ "$(lite "SELECT count(*) FROM sessions") $(pg -c "SELECT count(*) FROM sessions")" = "0 0" ] \
    && [ "$(lite "SELECT count(*) FROM posts") $(pg -c "SELECT count(*) FROM posts")" = "1 1" ]

# Keyword search: FTS5's MATCH and PostgreSQL's documented query shape
# (schema_pg.c), fed the same text, in geodata_fts_query's form (fts.c).
both ok "posts for the keyword search" \
    "INSERT INTO posts(author_id, kind, category, title, body, neighbourhood_id, expires_at, geom) VALUES
     (1, 'offer', 'schooling', 'Cours de guitare pour enfants', 'Je prête une guitare', $NB, 0, $PT),
     (1, 'request', 'pharmacy', 'Médicaments à la PHARMACIE', '', $NB, 0, $PT)"
search() { # TABLE QUERY -> what SQLite found, ' / ', what PostgreSQL found (titles or comment ids)
    local q=${2//\'/\'\'} rows=posts key=title
    [ "$1" = comments_fts ] && rows=comments key=id
    printf '%s / %s' \
        "$(lite "SELECT group_concat(k, ';') FROM (SELECT $key AS k FROM $rows
                 WHERE id IN (SELECT rowid FROM $1 WHERE $1 MATCH '$q') ORDER BY 1)")" \
        "$(pg -c "SELECT string_agg(k::text, ';' ORDER BY k) FROM (SELECT $key AS k FROM $rows
                  WHERE id IN (SELECT rowid FROM $1
                               WHERE fts @@ websearch_to_tsquery('simple', unaccent('$q')))) s")"
}
expect_search() { # TABLE QUERY FOUND
    local got; got=$(search "$1" "$2")
    if [ "$got" = "$3 / $3" ]; then pass "search $1 for $2: [$3] on both"
    else fail "search $1 for $2: got $got (SQLite / PostgreSQL), expected [$3] on both"; fi
}
T1='Courses à l’épicerie du quartier'
T2='Cours de guitare pour enfants'
T3='Médicaments à la PHARMACIE'
expect_search posts_fts '"epicerie"' "$T1"
expect_search posts_fts '"ÉPICERIE"' "$T1"
expect_search posts_fts '"l’épicerie"' "$T1"
expect_search posts_fts '"pharmacie"' "$T1;$T3"
expect_search posts_fts '"pharmacie" "sacs"' "$T1"
expect_search posts_fts '"medicaments"' "$T3"
expect_search posts_fts '"guitare" "enfants"' "$T2"
expect_search posts_fts '"prete"' "$T2"
expect_search posts_fts '"cours"' "$T2"
expect_search posts_fts '"enfants"' "$T2"
expect_search posts_fts '"chien"' ""
expect_search posts_fts '"boulangerie"' ""
expect_search comments_fts '"tres" "gentil"' 2
expect_search comments_fts '"19h"' 1
expect_search comments_fts '"18h"' ""
expect_search comments_fts '"age"' ""

# ---- only on PostgreSQL: NOTIFY, numbers in commit order without gaps, pruning ------------
# A held session: psql reading a FIFO, its output in a file.
open_session() { # NAME
    mkfifo "$WORK/$1.in"
    "${PSQL[@]}" -v ON_ERROR_STOP=0 "$PG_CONNINFO" <"$WORK/$1.in" >"$WORK/$1.out" 2>&1 &
    eval "exec {FD_$1}>\"\$WORK/$1.in\""
}
say() { local fd="FD_$1"; printf '%s\n' "$2" >&"${!fd}"; }
wait_for() { # NAME LINE: until the session printed it, 10 s at most
    local _
    for _ in $(seq 100); do grep -qxF "$2" "$WORK/$1.out" && return 0; sleep 0.1; done
    echo "    $1 never printed $2:"; sed 's/^/    /' "$WORK/$1.out"; return 1
}
close_session() { local fd="FD_$1"; eval "exec ${!fd}>&-"; }

open_session listener
say listener "LISTEN geodata_changes; SELECT 'listening';"
wait_for listener listening || die "the listener does not start"
pg -c "INSERT INTO posts(author_id, kind, category, title, expires_at, geom)
       VALUES (1, 'request', 'errands', 'Poster une lettre', unixepoch() + 3600, $PT)"
SEQ=$(pg -c "SELECT max(seq) FROM changes")
check "inserting a post writes its change-feed entry" \
    [ "$(pg -c "SELECT layer || ' ' || ST_AsText(new_geom) || ' ' || (old_geom IS NULL)
                FROM changes WHERE seq = $SEQ AND ref_id = (SELECT max(id) FROM posts)")" \
      = "needs POINT(2.3412 48.8602) true" ]
say listener "SELECT 'after insert';"
wait_for listener "after insert" || true
check "another session LISTENing gets NOTIFY geodata_changes with the entry's number" \
    grep -q "^Asynchronous notification \"geodata_changes\" with payload \"$SEQ\" received" "$WORK/listener.out"
pg -c "BEGIN; UPDATE posts SET status = 'done' WHERE id = 1; ROLLBACK;"
pg -c "UPDATE posts SET status = 'cancelled' WHERE id = 1"
check "a rolled-back change takes its number back (no gap)" \
    [ "$(pg -c "SELECT max(seq) FROM changes")" = $((SEQ + 1)) ]
say listener "SELECT 'after rollback';"
wait_for listener "after rollback" || true
check "no NOTIFY for the rolled-back change, one for the next" \
    [ "$(grep -c 'Asynchronous notification "geodata_changes"' "$WORK/listener.out")" = 2 ] \
    && grep -q "payload \"$((SEQ + 1))\"" "$WORK/listener.out"
close_session listener

# Numbers in commit order: while a transaction holds an uncommitted change,
# another writer of the feed waits for it, then follows it.
open_session writer
say writer "BEGIN; UPDATE shops SET status = 'closed'; SELECT 'held';"
wait_for writer held || die "the first writer"
if pg -c "SET lock_timeout = '300ms'" -c "UPDATE posts SET status = 'open' WHERE id = 1" 2>"$WORK/wait.err"; then
    fail "a second writer of the feed did not wait for the first's commit"
else
    check "a second writer of the feed waits for the first's commit" grep -q "lock timeout" "$WORK/wait.err"
fi
say writer "COMMIT; SELECT 'committed';"
wait_for writer committed || die "the first writer's commit"
close_session writer
pg -c "UPDATE posts SET status = 'open' WHERE id = 1"
check "then takes the next number" \
    [ "$(pg -c "SELECT string_agg(layer, ' ' ORDER BY seq) FROM changes WHERE seq > $((SEQ + 1))")" = "shops needs" ]

# Pruning, and an explicit number moving the counter as AUTOINCREMENT does.
pg -c "INSERT INTO changes(seq, layer, ref_id) VALUES (200000, 'shops', 0)"
check "an entry numbered N*1000 prunes those 100,000 behind it" \
    [ "$(pg -c "SELECT count(*) || ' ' || min(seq) FROM changes")" = "1 200000" ]
pg -c "UPDATE shops SET status = 'open'"
check "the next number follows the explicit one" [ "$(pg -c "SELECT max(seq) FROM changes")" = 200001 ]

finish
