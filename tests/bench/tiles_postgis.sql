-- tests/bench/tiles_postgis.sql — the PostGIS peer of `mapd tile --viewer all`
-- (the staff view), for tests/bench/tiles.sh.
--
-- The tables are the SpatiaLite store's, copied by ogr2ogr into EPSG:3857
-- (tiles.sh): neighbourhoods, addresses, shops, posts, makers, and members
-- (id, display_name) for the makers' names. Each geometry column has a GiST
-- index; neighbourhoods gain a `label` point column built once from
-- label_lon/label_lat.
--
-- bench_tile(z, x, y, now) draws one tile with one SQL statement: each layer
-- is ST_AsMVT over ST_AsMVTGeom(geom, ST_TileEnvelope(z, x, y), 4096, 64,
-- true), the layers concatenated in mapd's order. What each layer mirrors of
-- mapd/tile_render.c:
--
--   neighbourhoods  polygons {id, name} whose geometry meets the tile and its
--                   64-unit buffer, clipped to it; plus the label point
--                   {id, name, label: true} of each when it lies in the tile
--                   and buffer.
--   addresses       zoom >= 16 only: points {number (number + the rep word:
--                   b -> bis, t -> ter, q -> quater), street} in the tile and
--                   buffer, at most 10,000.
--   shops           up to zoom 14, the shops of the tile and one 256-unit
--                   cell around it are grouped by their cell of a 16 x 16
--                   grid aligned on the tile (GROUP BY the cell's column and
--                   row); a cell holding one shop draws it with its
--                   properties {id, name, shop, status, delivers, takeaway,
--                   gift_cards, confirmed, opening_hours (left out when
--                   empty)} and the shop id as feature id; a cell holding more
--                   draws {cluster: true, point_count, count_<status> for
--                   the statuses present} at the mean of its points. Points
--                   and clusters outside the tile and buffer are dropped by
--                   ST_AsMVTGeom. Above zoom 14 every shop of the tile and
--                   buffer is drawn with its properties.
--   needs           posts not hidden, open and not expired at `now`, or
--                   claimed (every neighbourhood: the staff view), grouped on
--                   the same grid at every zoom; lone {id, kind, category,
--                   status, title, neighbourhood} with the post id as feature
--                   id, clusters {cluster, point_count, count_<category>}.
--   makers          every maker, same grid at every zoom; lone {id,
--                   display_name, capacity_per_day, stock, materials (the
--                   JSON list joined with ", ")} with the member id as
--                   feature id, clusters {cluster, point_count}.
--
-- Where it differs, by construction: mapd rounds each point to the integer
-- tile grid before finding its cell, and places a cluster at the rounded
-- mean of rounded points; here cells come from the unrounded Mercator
-- coordinates and ST_AsMVTGeom rounds the mean. A point within half a unit
-- of a cell edge may fall in the neighbouring cell. mapd also redraws a
-- tile over its size budget (500 KB) with less detail; no tile of the
-- benchmark comes near it, and this function has no such fallback.
--
-- bench_run(round, now) draws every tile of bench_tiles (seq, z, x, y) in
-- seq order and records into bench_timings the bytes and the microseconds
-- of each bench_tile call, measured server-side with clock_timestamp():
-- no client round trip, no protocol, no result transfer counted.

CREATE OR REPLACE FUNCTION bench_tile(z integer, x integer, y integer, now bigint)
RETURNS bytea LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
    env      geometry := ST_TileEnvelope(z, x, y);
    env_buf  geometry := ST_TileEnvelope(z, x, y, margin => 64.0 / 4096);
    env_wide geometry := ST_TileEnvelope(z, x, y, margin => 256.0 / 4096);
    x0       float8 := ST_XMin(env);
    y0       float8 := ST_YMax(env);
    cell     float8 := (ST_XMax(env) - ST_XMin(env)) * 256.0 / 4096;
    tile     bytea;
BEGIN
    WITH
    nb AS (
        SELECT id, name, NULL::boolean AS label, ST_AsMVTGeom(geom, env, 4096, 64, true) AS geom
          FROM neighbourhoods WHERE geom && env_buf
        UNION ALL
        SELECT id, name, true, ST_AsMVTGeom(label, env, 4096, 64, true)
          FROM neighbourhoods WHERE geom && env_buf
    ),
    addr AS (
        SELECT a.number || CASE a.rep WHEN 'b' THEN 'bis' WHEN 't' THEN 'ter'
                                      WHEN 'q' THEN 'quater' ELSE a.rep END AS number,
               a.street, ST_AsMVTGeom(a.geom, env, 4096, 64, true) AS geom
          FROM (SELECT * FROM addresses WHERE z >= 16 AND geom && env_buf LIMIT 10000) a
    ),
    shop_pts AS MATERIALIZED (
        SELECT id, status, geom, floor((ST_X(geom) - x0) / cell) AS cx,
               floor((y0 - ST_Y(geom)) / cell) AS cy
          FROM shops WHERE z <= 14 AND geom && env_wide
    ),
    shop_cells AS (
        SELECT count(*) AS n, min(id) AS one,
               ST_SetSRID(ST_MakePoint(avg(ST_X(geom)), avg(ST_Y(geom))), 3857) AS centre,
               nullif(count(*) FILTER (WHERE status = 'unknown'), 0) AS count_unknown,
               nullif(count(*) FILTER (WHERE status = 'open'), 0) AS count_open,
               nullif(count(*) FILTER (WHERE status = 'closed'), 0) AS count_closed,
               nullif(count(*) FILTER (WHERE status = 'delivery_only'), 0) AS count_delivery_only,
               nullif(count(*) FILTER (WHERE status = 'takeaway_only'), 0) AS count_takeaway_only
          FROM shop_pts GROUP BY cx, cy
    ),
    shop_rows AS (
        SELECT id FROM shops WHERE z > 14 AND geom && env_buf
        UNION ALL
        SELECT one FROM shop_cells WHERE n = 1
    ),
    shop AS (
        SELECT s.id AS fid, s.id, coalesce(s.name, '') AS name, coalesce(s.shop, '') AS shop,
               s.status, s.delivers <> 0 AS delivers, s.takeaway <> 0 AS takeaway,
               s.gift_cards <> 0 AS gift_cards,
               coalesce(s.confirmed_at <> 0 AND now - s.confirmed_at <= 7 * 86400, false) AS confirmed,
               nullif(s.opening_hours, '') AS opening_hours,
               NULL::boolean AS cluster, NULL::bigint AS point_count,
               NULL::bigint AS count_unknown, NULL::bigint AS count_open,
               NULL::bigint AS count_closed, NULL::bigint AS count_delivery_only,
               NULL::bigint AS count_takeaway_only,
               ST_AsMVTGeom(s.geom, env, 4096, 64, true) AS geom
          FROM shop_rows r JOIN shops s ON s.id = r.id
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true, n,
               count_unknown, count_open, count_closed, count_delivery_only, count_takeaway_only,
               ST_AsMVTGeom(centre, env, 4096, 64, true)
          FROM shop_cells WHERE n > 1
    ),
    need_pts AS MATERIALIZED (
        SELECT id, category, geom, floor((ST_X(geom) - x0) / cell) AS cx,
               floor((y0 - ST_Y(geom)) / cell) AS cy
          FROM posts
         WHERE geom && env_wide AND hidden = 0
           AND (status = 'claimed' OR (status = 'open' AND expires_at > now))
    ),
    need_cells AS (
        SELECT count(*) AS n, min(id) AS one,
               ST_SetSRID(ST_MakePoint(avg(ST_X(geom)), avg(ST_Y(geom))), 3857) AS centre,
               nullif(count(*) FILTER (WHERE category = 'groceries'), 0) AS count_groceries,
               nullif(count(*) FILTER (WHERE category = 'pharmacy'), 0) AS count_pharmacy,
               nullif(count(*) FILTER (WHERE category = 'childcare'), 0) AS count_childcare,
               nullif(count(*) FILTER (WHERE category = 'schooling'), 0) AS count_schooling,
               nullif(count(*) FILTER (WHERE category = 'masks'), 0) AS count_masks,
               nullif(count(*) FILTER (WHERE category = 'errands'), 0) AS count_errands,
               nullif(count(*) FILTER (WHERE category = 'company'), 0) AS count_company,
               nullif(count(*) FILTER (WHERE category = 'pets'), 0) AS count_pets,
               nullif(count(*) FILTER (WHERE category = 'materials'), 0) AS count_materials,
               nullif(count(*) FILTER (WHERE category = 'other'), 0) AS count_other
          FROM need_pts GROUP BY cx, cy
    ),
    need AS (
        SELECT p.id AS fid, p.id, p.kind, p.category, p.status, p.title,
               coalesce(p.neighbourhood_id, '') AS neighbourhood,
               NULL::boolean AS cluster, NULL::bigint AS point_count,
               NULL::bigint AS count_groceries, NULL::bigint AS count_pharmacy,
               NULL::bigint AS count_childcare, NULL::bigint AS count_schooling,
               NULL::bigint AS count_masks, NULL::bigint AS count_errands,
               NULL::bigint AS count_company, NULL::bigint AS count_pets,
               NULL::bigint AS count_materials, NULL::bigint AS count_other,
               ST_AsMVTGeom(p.geom, env, 4096, 64, true) AS geom
          FROM need_cells c JOIN posts p ON p.id = c.one WHERE c.n = 1
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, true, n,
               count_groceries, count_pharmacy, count_childcare, count_schooling, count_masks,
               count_errands, count_company, count_pets, count_materials, count_other,
               ST_AsMVTGeom(centre, env, 4096, 64, true)
          FROM need_cells WHERE n > 1
    ),
    maker_pts AS MATERIALIZED (
        SELECT member_id, geom, floor((ST_X(geom) - x0) / cell) AS cx,
               floor((y0 - ST_Y(geom)) / cell) AS cy
          FROM makers WHERE geom && env_wide
    ),
    maker_cells AS (
        SELECT count(*) AS n, min(member_id) AS one,
               ST_SetSRID(ST_MakePoint(avg(ST_X(geom)), avg(ST_Y(geom))), 3857) AS centre
          FROM maker_pts GROUP BY cx, cy
    ),
    maker AS (
        SELECT k.member_id AS fid, k.member_id AS id, m.display_name, k.capacity_per_day, k.stock,
               coalesce((SELECT string_agg(v, ', ')
                           FROM (SELECT v FROM json_array_elements_text(k.materials::json) v
                                 LIMIT 10) l), '') AS materials,
               NULL::boolean AS cluster, NULL::bigint AS point_count,
               ST_AsMVTGeom(k.geom, env, 4096, 64, true) AS geom
          FROM maker_cells c JOIN makers k ON k.member_id = c.one
          JOIN members m ON m.id = k.member_id
         WHERE c.n = 1
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, NULL, NULL, true, n, ST_AsMVTGeom(centre, env, 4096, 64, true)
          FROM maker_cells WHERE n > 1
    )
    SELECT coalesce((SELECT ST_AsMVT(q, 'neighbourhoods', 4096, 'geom')
                       FROM nb q WHERE q.geom IS NOT NULL), '')
        || coalesce((SELECT ST_AsMVT(q, 'addresses', 4096, 'geom')
                       FROM addr q WHERE q.geom IS NOT NULL), '')
        || coalesce((SELECT ST_AsMVT(q, 'shops', 4096, 'geom', 'fid')
                       FROM shop q WHERE q.geom IS NOT NULL), '')
        || coalesce((SELECT ST_AsMVT(q, 'needs', 4096, 'geom', 'fid')
                       FROM need q WHERE q.geom IS NOT NULL), '')
        || coalesce((SELECT ST_AsMVT(q, 'makers', 4096, 'geom', 'fid')
                       FROM maker q WHERE q.geom IS NOT NULL), '')
      INTO tile;
    RETURN tile;
END
$fn$;

CREATE TABLE IF NOT EXISTS bench_timings (round integer, seq integer, bytes integer, us float8);

CREATE OR REPLACE FUNCTION bench_run(round integer, now bigint) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    t    record;
    t0   timestamptz;
    tile bytea;
BEGIN
    FOR t IN SELECT * FROM bench_tiles ORDER BY seq LOOP
        t0 := clock_timestamp();
        tile := bench_tile(t.z, t.x, t.y, now);
        INSERT INTO bench_timings
        VALUES (round, t.seq, length(tile), extract(epoch FROM clock_timestamp() - t0) * 1e6);
    END LOOP;
END
$fn$;
