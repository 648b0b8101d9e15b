/*
 * mapd/api_tiles.c — the tileset over HTTP: GET /tiles/{z}/{x}/{y}.mvt and
 * GET /tiles.json (TileJSON 3.0.0).
 *
 * Tiles come from an LRU cache of gzip bodies (tiles/cache.h) keyed by
 * address and viewer: "" for anonymous visitors (neighbourhoods, addresses,
 * shops), "n:<neighbourhood>" for a member (plus the needs and makers that
 * member may see: the same for every member of a neighbourhood) and "*" for
 * staff. A cached body is handed to libmicrohttpd as it is, without a copy:
 * the response holds a reference to it, released when the response is freed.
 * The responses of a cached tile (200 gzip and 304, with their headers) are
 * made on its first request and kept on its cache entry, so a hit queues a
 * ready response: none is created, no header added.
 *
 * Freshness: the tile service is a subscriber of the server's change-feed
 * follower (feed.h). The follower only hands it the changes, kept in a
 * bounded list, so that writes served alongside lists cost no tile work.
 * Before answering, a tile request syncs the follower up to the feed's
 * newest entry (read whenever this process has committed since the last
 * read, else at most once a millisecond), then applies what was kept: each
 * change drops, at every zoom, the tiles that hold the changed point, before
 * and after, with the neighbours whose clustering cell ring reaches it (a
 * cluster near an edge is drawn in both tiles). Past PENDING_MAX kept
 * changes, the needs are reloaded whole and every tile goes. Changes made by
 * other processes are seen the same way. A render that raced an
 * invalidation is not cached (the cache's generation rule). Posts that
 * expire by time change no row: at each of the follower's ticks (a second),
 * the tiles of the posts that expired since the last sweep are dropped (an
 * indexed range read on posts.expires_at). A change of the neighbourhoods
 * (an import) prepares their polygons again and drops every tile; so does a
 * change of the street lines (an address import), which renders read from
 * the store. When the follower has fallen too far behind, or after a failed
 * update, the next tile request reloads the needs and the polygons and every
 * tile goes.
 *
 * HTTP: strong ETag (XXH3 of the tile bytes) with 304 on If-None-Match;
 * Cache-Control "no-cache" (public for anonymous tiles, private otherwise) so
 * browsers revalidate, which costs a 304; gzip as stored when the client
 * accepts it, inflated otherwise. A bad address is 400, never a 500.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/changes.h"
#include "feed.h"
#include "geodata/map.h"
#include "http.h"
#include "parse.h"
#include "tile_neighbourhoods.h"
#include "tile_render.h"
#include "tiles/cache.h"
#include "tiles/tile.h"

#define TILEJSON_MAXZOOM 16
/* Changes kept for the next tile request; past this many, that request
 * reloads the needs and drops every tile instead (as fast as the changes
 * one by one, and bounded memory for a server that serves no tiles). */
#define PENDING_MAX 8192

/* One change of the feed as a tile request applies it: a need to read
 * again (need_id > 0), and the points whose tiles go. */
typedef struct pending_change {
    int64_t need_id;
    double old_lon, old_lat, new_lon, new_lat;
    unsigned char has_old, has_new;
} pending_change;
/* The credits of the address base and shop data the importers read; a
 * deployment adds its neighbourhoods' with --attribution. */
#define DEFAULT_ATTRIBUTION "Addresses: Base Adresse Nationale (Licence Ouverte 2.0); shops: " \
                            "© OpenStreetMap contributors (ODbL)"

struct mapd_tiles {
    tiles_cache *cache;
    mapd_needs *needs;           /* the needs layer in memory, kept in step with the feed */
    const geodata_geocoder *geocoder; /* the address points (the server's geocoder, borrowed) */
    mapd_neighbourhoods *neighbourhoods; /* the polygons, reloaded when the feed says */
    size_t max_tile_bytes;
    int64_t swept;               /* expiries up to this time applied: the follower's lock */

    /* The changes the follower handed over, applied by the next tile
     * request (drain), under `lock`. */
    pthread_mutex_t lock;
    pending_change *pending;
    size_t n_pending, cap_pending;
    int polygons;                /* a neighbourhood changed: reload them, drop every tile */
    int everything;              /* too many pending, or a failed drain: reload it all */
};

int mapd_tiles_new(geodata_store *store, const geodata_geocoder *geocoder, size_t cache_bytes,
                   size_t max_tile_bytes, int64_t now, mapd_tiles **out)
{
    *out = NULL;
    mapd_tiles *t = calloc(1, sizeof *t);
    if (!t)
        return TILES_ENOMEM;
    t->cache = tiles_cache_new(cache_bytes);
    t->needs = mapd_needs_new();
    t->neighbourhoods = mapd_neighbourhoods_new();
    int rc = t->cache && t->needs && t->neighbourhoods ? mapd_needs_load(t->needs, store, now)
                                                       : TILES_ENOMEM;
    if (!rc)
        rc = mapd_neighbourhoods_load(t->neighbourhoods, store);
    if (rc) {
        tiles_cache_free(t->cache);
        mapd_needs_free(t->needs);
        mapd_neighbourhoods_free(t->neighbourhoods);
        free(t);
        return rc;
    }
    t->geocoder = geocoder;
    t->max_tile_bytes = max_tile_bytes;
    t->swept = now;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

void mapd_tiles_free(mapd_tiles *t)
{
    if (!t)
        return;
    tiles_cache_free(t->cache);
    mapd_needs_free(t->needs);
    mapd_neighbourhoods_free(t->neighbourhoods);
    pthread_mutex_destroy(&t->lock);
    free(t->pending);
    free(t);
}

int mapd_tiles_metrics(mapd_tiles *t, char *buf, size_t n)
{
    tiles_cache_stats st;
    tiles_cache_stats_get(t->cache, &st);
    return snprintf(buf, n,
        "# HELP mapd_tile_cache_bytes Bytes held by the tile cache.\n"
        "# TYPE mapd_tile_cache_bytes gauge\nmapd_tile_cache_bytes %zu\n"
        "# HELP mapd_tile_cache_max_bytes The tile cache's bound.\n"
        "# TYPE mapd_tile_cache_max_bytes gauge\nmapd_tile_cache_max_bytes %zu\n"
        "# HELP mapd_tile_cache_entries Tiles held (address and viewer).\n"
        "# TYPE mapd_tile_cache_entries gauge\nmapd_tile_cache_entries %zu\n"
        "# HELP mapd_tile_cache_hits_total Tiles served from the cache.\n"
        "# TYPE mapd_tile_cache_hits_total counter\nmapd_tile_cache_hits_total %llu\n"
        "# HELP mapd_tile_cache_misses_total Tiles rendered.\n"
        "# TYPE mapd_tile_cache_misses_total counter\nmapd_tile_cache_misses_total %llu\n"
        "# HELP mapd_tile_cache_evictions_total Tiles dropped to stay within the bound.\n"
        "# TYPE mapd_tile_cache_evictions_total counter\nmapd_tile_cache_evictions_total %llu\n"
        "# HELP mapd_tile_cache_invalidations_total Tiles dropped because their data changed.\n"
        "# TYPE mapd_tile_cache_invalidations_total counter\n"
        "mapd_tile_cache_invalidations_total %llu\n",
        st.bytes, st.max_bytes, st.entries, (unsigned long long)st.hits,
        (unsigned long long)st.misses, (unsigned long long)st.evictions,
        (unsigned long long)st.invalidations);
}

/* ---- the change feed ------------------------------------------------------- */

/* Keeps one change for the next drain, under t->lock. Out of room or of
 * memory, the drain reloads everything instead. */
static void keep_change(mapd_tiles *t, const geodata_change *c)
{
    if (strcmp(c->layer, "neighbourhoods") == 0) {
        t->polygons = 1;
        return;
    }
    if (strcmp(c->layer, "streets") == 0) { /* street lines rebuilt: read by every render */
        t->everything = 1;
        return;
    }
    int need = strcmp(c->layer, "needs") == 0;
    if (t->everything || (!need && !c->has_old && !c->has_new)) /* e.g. a comment: not drawn */
        return;
    if (t->n_pending == PENDING_MAX) {
        t->everything = 1;
        t->n_pending = 0;
        return;
    }
    if (t->n_pending == t->cap_pending) {
        size_t cap = t->cap_pending ? 2 * t->cap_pending : 64;
        pending_change *p = realloc(t->pending, cap * sizeof *p);
        if (!p) {
            t->everything = 1;
            return;
        }
        t->pending = p;
        t->cap_pending = cap;
    }
    t->pending[t->n_pending++] = (pending_change){
        .need_id = need ? c->ref_id : 0,
        .old_lon = c->old_lon, .old_lat = c->old_lat, .new_lon = c->new_lon,
        .new_lat = c->new_lat, .has_old = (unsigned char)c->has_old,
        .has_new = (unsigned char)c->has_new };
}

/* The follower's apply: the changes are kept, not applied. A tile request
 * applies them (drain) before it reads the cache, so a burst of writes
 * served with lists only costs a copy here. Work: O(n). */
static int feed_apply(void *arg, geodata_store *store, int64_t now, const geodata_change *changes,
                      size_t n)
{
    (void)store;
    (void)now;
    mapd_tiles *t = arg;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < n; i++)
        keep_change(t, &changes[i]);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

/* Applies what the follower kept: each need read again, then its tiles
 * dropped at every zoom, the point before and after the change, with the
 * neighbours whose clustering cell ring reaches it (a cluster near an edge
 * is drawn in both tiles). The needs go first, so that a render that reads
 * the cache generation after the drop also reads the new point; a render
 * that read it before is not cached (the cache's generation rule). Under
 * t->lock, so a request past its drain sees every change kept before it.
 * Work: O(pending × zooms) invalidations and one indexed read per need, or
 * one reload. A failure leaves everything to reload at the next drain. */
static int drain(mapd_tiles *t, geodata_store *store, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    int rc = 0;
    if (t->everything) {
        rc = mapd_needs_load(t->needs, store, now);
        t->polygons = 1; /* the polygons too */
    } else {
        for (size_t i = 0; !rc && i < t->n_pending; i++) {
            const pending_change *c = &t->pending[i];
            if (c->need_id > 0 && (rc = mapd_needs_refresh(t->needs, store, c->need_id)))
                break;
            if (c->has_old)
                tiles_cache_invalidate_point_buffered(t->cache, c->old_lon, c->old_lat, 0,
                                                      TILES_MAX_ZOOM, MAPD_TILE_EXTENT,
                                                      MAPD_TILE_CELL);
            if (c->has_new)
                tiles_cache_invalidate_point_buffered(t->cache, c->new_lon, c->new_lat, 0,
                                                      TILES_MAX_ZOOM, MAPD_TILE_EXTENT,
                                                      MAPD_TILE_CELL);
        }
    }
    if (!rc && t->polygons) /* new polygons (an import): every tile may have changed */
        rc = mapd_neighbourhoods_load(t->neighbourhoods, store);
    if (rc || t->everything || t->polygons)
        tiles_cache_clear(t->cache);
    t->n_pending = 0;
    t->everything = rc != 0;
    t->polygons = 0;
    pthread_mutex_unlock(&t->lock);
    return rc;
}

static int drop_expired(void *arg, int64_t id, double lon, double lat)
{
    mapd_tiles *t = arg;
    mapd_needs_remove(t->needs, id);
    tiles_cache_invalidate_point_buffered(t->cache, lon, lat, 0, TILES_MAX_ZOOM, MAPD_TILE_EXTENT,
                                          MAPD_TILE_CELL);
    return 0;
}

/* The follower's tick: drops the tiles of the posts that expired after
 * t->swept, up to now (a need past its expiry is not drawn anyway: the
 * needs layer is queried at the render's clock). */
static int feed_tick(void *arg, geodata_store *store, int64_t now)
{
    mapd_tiles *t = arg;
    if (now <= t->swept)
        return 0;
    int rc = geodata_map_expired(store, t->swept, now, drop_expired, t);
    if (!rc)
        t->swept = now;
    return rc;
}

/* The follower's reload (fallen too far behind): everything is reloaded by
 * the next tile request. */
static int feed_reload(void *arg, geodata_store *store, int64_t now)
{
    (void)store;
    (void)now;
    mapd_tiles *t = arg;
    pthread_mutex_lock(&t->lock);
    t->everything = 1;
    t->n_pending = 0;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

mapd_feed_subscriber mapd_tiles_subscriber(mapd_tiles *t)
{
    return (mapd_feed_subscriber){ "the tile service", t, feed_apply, feed_reload, feed_tick };
}

/* ---- responses --------------------------------------------------------------- */

static void release_blob(void *blob)
{
    tiles_blob_release(blob);
}

/* The responses of one cached tile, prepared on its first request and
 * queued as they are by every later one (a libmicrohttpd response is
 * reference-counted and may be queued on any number of connections): the
 * 200 with the gzip body, holding a blob reference of its own so the bytes
 * live as long as the response, and the 304. They hang on the cache entry
 * as its extra (tiles/cache.h), so they go when the entry goes; requests
 * take references of their own while they use them. */
typedef struct tile_responses {
    tiles_blob_extra extra;             /* first: what the cache holds */
    atomic_int refs;                    /* the cache's and the requests'; the last frees */
    int member;                         /* Cache-Control private (1) or public (0) */
    char etag[19];                      /* the blob's ETag, quoted */
    struct MHD_Response *gzip;          /* 200, the gzip bytes as they are */
    struct MHD_Response *not_modified;  /* 304, no body */
} tile_responses;

/* What prepared responses cost besides the tile's bytes, counted in the
 * cache's bound: this struct and two libmicrohttpd responses of five or six
 * headers (a node and two strings each), rounded up. An estimate:
 * libmicrohttpd's allocations cannot be seen from here. */
#define TILE_RESPONSES_COST 2048

/* "\"" + 16 hex digits + "\"", by hand: printf is slow in this process
 * (server.c). */
static void etag_text(uint64_t v, char out[19])
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '"';
    for (int i = 0; i < 16; i++)
        out[1 + i] = hex[(v >> (60 - 4 * i)) & 15];
    out[17] = '"';
    out[18] = '\0';
}

/* The headers of every tile answer; 0, or -1 when one could not be added. */
static int add_tile_headers(struct MHD_Response *r, const char *etag, int member)
{
    int ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                     "application/vnd.mapbox-vector-tile") == MHD_YES
             && MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag) == MHD_YES
             && MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                        member ? "private, no-cache" : "public, no-cache") == MHD_YES
             && MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding, Cookie") == MHD_YES
             && MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
    return ok ? 0 : -1;
}

static void responses_retain(tiles_blob_extra *x)
{
    tile_responses *tr = (tile_responses *)(void *)x;
    atomic_fetch_add_explicit(&tr->refs, 1, memory_order_relaxed);
}

/* Drops one reference; the last destroys the responses (a connection
 * still sending one keeps it, and the gzip one its blob, until it is done). */
static void responses_release(tiles_blob_extra *x)
{
    tile_responses *tr = (tile_responses *)(void *)x;
    if (atomic_fetch_sub_explicit(&tr->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (tr->gzip)
        MHD_destroy_response(tr->gzip);
    if (tr->not_modified)
        MHD_destroy_response(tr->not_modified);
    free(tr);
}

/* Prepared responses for blob (the caller keeps its reference), with one
 * reference for the caller; NULL when out of memory. Work: two responses
 * created, eleven headers added, no copy of the body. */
static tile_responses *responses_new(const tiles_blob *blob, int member)
{
    tile_responses *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->extra.retain = responses_retain;
    tr->extra.release = responses_release;
    tr->extra.cost = TILE_RESPONSES_COST;
    atomic_init(&tr->refs, 1);
    tr->member = member;
    etag_text(blob->etag, tr->etag);
    tiles_blob_retain(blob);
    tr->gzip = MHD_create_response_from_buffer_with_free_callback_cls(
        blob->gz_len, (void *)blob->gz, release_blob, (void *)blob);
    if (!tr->gzip)
        tiles_blob_release(blob);
    tr->not_modified = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!tr->gzip || !tr->not_modified
        || MHD_add_response_header(tr->gzip, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") != MHD_YES
        || add_tile_headers(tr->gzip, tr->etag, member)
        || add_tile_headers(tr->not_modified, tr->etag, member)) {
        responses_release(&tr->extra);
        return NULL;
    }
    return tr;
}

/* Answers with blob through its prepared responses tr: 304 when
 * If-None-Match names its ETag, else the gzip bytes when accepted, else the
 * inflated bytes (a response of their own). Takes the caller's references
 * to blob and tr. Work: O(header lengths), plus inflating for clients that
 * do not take gzip. */
static enum MHD_Result send_tile(mapd_ctx *ctx, const tiles_blob *blob, tile_responses *tr)
{
    const char *inm = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_IF_NONE_MATCH);
    int not_modified = mapd_parse_if_none_match(inm, tr->etag);
    int gzip = mapd_parse_accept_encoding(MHD_lookup_connection_value(
                   ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING), "gzip") > 0;
    struct MHD_Response *r = NULL, *own = NULL;
    size_t bytes = 0;
    if (not_modified) {
        r = tr->not_modified;
    } else if (gzip) {
        r = tr->gzip;
        bytes = blob->gz_len;
    } else {
        uint8_t *raw;
        if (tiles_blob_inflate(blob, &raw, &bytes) == 0) {
            own = MHD_create_response_from_buffer(bytes, raw, MHD_RESPMEM_MUST_FREE);
            if (!own)
                free(raw);
            else if (add_tile_headers(own, tr->etag, tr->member)) {
                MHD_destroy_response(own);
                own = NULL;
            }
        }
        r = own;
    }
    tiles_blob_release(blob);
    enum MHD_Result ret = MHD_NO;
    if (r) {
        unsigned status = not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
        ctx->req->status = status;
        ctx->req->bytes = bytes;
        ret = MHD_queue_response(ctx->conn, status, r);
    }
    if (own)
        MHD_destroy_response(own);
    responses_release(&tr->extra);
    return ret;
}

/* ---- GET /tiles/{z}/{x}/{y}.mvt --------------------------------------------- */

enum MHD_Result mapd_api_tile(mapd_ctx *ctx)
{
    int z;
    int64_t x, y;
    if (strlen(ctx->url) > 64 || !mapd_parse_tile(ctx->url + strlen("/tiles/"), ".mvt", &z, &x, &y))
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request",
                            "a tile is /tiles/Z/X/Y.mvt with zoom 0 to 22 and X, Y below 2^zoom");
    mapd_tiles *t = ctx->server->tiles;
    int rc = mapd_feed_sync(ctx->server->feed, ctx->store, ctx->now, MAPD_FEED_WAIT);
    if (!rc)
        rc = drain(t, ctx->store, ctx->now);
    if (rc)
        return mapd_problem_geodata(ctx, rc);

    /* The variant names what the viewer sees: the same for every member of a
     * neighbourhood (the audience rule depends on the home alone), all for
     * staff, the public layers for anyone else. The audience itself is read
     * only to draw a tile the cache does not hold. */
    const geodata_member *m = mapd_member_optional(ctx);
    mapd_tile_viewer viewer = { 0 };
    char variant[TILES_CACHE_VARIANT_MAX + 1] = "";
    if (mapd_is_staff(m))
        snprintf(variant, sizeof variant, "*");
    else if (m && m->neighbourhood_id[0])
        snprintf(variant, sizeof variant, "n:%s", m->neighbourhood_id);
    int member = variant[0] != '\0'; /* a tile with needs: private */

    tiles_blob_extra *extra = NULL;
    const tiles_blob *blob = tiles_cache_get_extra(t->cache, z, x, y, variant, &extra);
    if (!blob) {
        uint64_t gen = tiles_cache_generation(t->cache);
        uint8_t *groups = NULL;
        if (!(viewer.audience = mapd_audience_or_reply(ctx)))
            return MHD_YES;
        if (viewer.audience->kind != GEODATA_AUDIENCE_NOBODY)
            rc = mapd_needs_visible(t->needs, viewer.audience, &groups, &viewer.n_groups);
        viewer.groups = groups;
        tiles_ctx *tc = rc ? NULL : tiles_ctx_new();
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (!rc)
            rc = tc ? mapd_tile_render(ctx->store,
                                       &(mapd_tile_sources){ t->needs, t->geocoder, t->neighbourhoods },
                                       tc, z, x, y, &viewer, ctx->now,
                                       t->max_tile_bytes, &bytes, &len)
                    : TILES_ENOMEM;
        tiles_ctx_free(tc);
        free(groups);
        if (!rc)
            rc = tiles_cache_put(t->cache, z, x, y, variant, bytes, len, gen, &blob);
        free(bytes);
        if (rc)
            return mapd_problem_geodata(ctx, rc);
    }
    /* The entry's prepared responses, else new ones, kept on the entry when
     * it still holds this blob (the cache then owns one reference). Every
     * variant names one kind of viewer, so member always matches. */
    tile_responses *tr = extra ? (tile_responses *)(void *)extra : NULL;
    if (tr && tr->member != member) {
        responses_release(&tr->extra);
        tr = NULL;
    }
    if (!tr) {
        tr = responses_new(blob, member);
        if (!tr) {
            tiles_blob_release(blob);
            return MHD_NO;
        }
        responses_retain(&tr->extra);
        if (!tiles_cache_set_extra(t->cache, z, x, y, variant, blob, &tr->extra))
            responses_release(&tr->extra);
    }
    return send_tile(ctx, blob, tr);
}

/* ---- GET /tiles.json ----------------------------------------------------------- */

typedef struct field { const char *name, *type; } field;

static json_t *layer(const char *id, const char *description, int minzoom, const field *fields)
{
    json_t *f = json_object();
    for (; fields->name; fields++)
        json_object_set_new(f, fields->name, json_string(fields->type));
    return json_pack("{s:s, s:s, s:i, s:i, s:o}", "id", id, "description", description,
                     "minzoom", minzoom, "maxzoom", TILEJSON_MAXZOOM, "fields", f);
}

enum MHD_Result mapd_api_tilejson(mapd_ctx *ctx)
{
    double b[4];
    int rc = geodata_map_extent(ctx->store, b);
    if (rc == GEODATA_ENOTFOUND) {
        b[0] = -180; b[1] = -TILES_MAX_LAT; b[2] = 180; b[3] = TILES_MAX_LAT;
    } else if (rc) {
        return mapd_problem_geodata(ctx, rc);
    }
    /* The centre zoom: the largest at which the data's box spans at most
     * two tiles across, so a first view shows it all. */
    int zoom = 0;
    double span = fmax(b[2] - b[0], 1e-9);
    while (zoom < 14 && span * (1 << (zoom + 1)) / 360.0 <= 2.0)
        zoom++;
    /* The tiles' URL on the one base every absolute link has (mapd_base_url:
     * --public-url, else a Host of ours, else the address the connection
     * came in on, its real port), never a port written here. */
    char base[MAPD_BASE_URL_MAX], url[MAPD_BASE_URL_MAX + 40];
    mapd_base_url(ctx, base);
    snprintf(url, sizeof url, "%s/tiles/{z}/{x}/{y}.mvt", base);

    static const field nb[] = { { "id", "String" }, { "name", "String" },
                                { "label", "Boolean: true on the label point" }, { NULL, NULL } };
    static const field addr[] = { { "number", "String" }, { "street", "String" }, { NULL, NULL } };
    static const field streets[] = { { "name", "String" }, { NULL, NULL } };
    static const field shops[] = {
        { "id", "Number" }, { "name", "String" }, { "shop", "String: OSM shop=*" },
        { "status", "String: unknown, open, closed, delivery_only, takeaway_only" },
        { "delivers", "Boolean" }, { "takeaway", "Boolean" }, { "gift_cards", "Boolean" },
        { "confirmed", "Boolean: confirmed by the shop within 7 days" },
        { "opening_hours", "String: OSM opening_hours" }, { "cluster", "Boolean" },
        { "point_count", "Number" }, { "count_<status>", "Number" }, { NULL, NULL } };
    static const field needs[] = {
        { "id", "Number" }, { "kind", "String: request, offer" }, { "category", "String" },
        { "status", "String: open, claimed" }, { "title", "String" },
        { "neighbourhood", "String" }, { "cluster", "Boolean" }, { "point_count", "Number" },
        { "count_<category>", "Number" }, { NULL, NULL } };
    static const field makers[] = {
        { "id", "Number" }, { "display_name", "String" }, { "capacity_per_day", "Number" },
        { "stock", "Number" }, { "materials", "String" },
        { "materials_post", "Number: the post asking for the materials, when any" },
        { "cluster", "Boolean" }, { "point_count", "Number" }, { NULL, NULL } };

    json_t *layers = json_pack("[o, o, o, o, o, o]",
        layer("neighbourhoods", "Neighbourhood polygons, and one label point each", 0, nb),
        layer("streets", "Street centrelines derived from the address points, for the basemap",
              MAPD_TILE_STREETS_MINZOOM, streets),
        layer("addresses", "Address points, for the streets of the basemap", MAPD_TILE_ADDRESSES_MINZOOM,
              addr),
        layer("shops", "Local shops and their status; clusters up to zoom 14", 0, shops),
        layer("needs", "Members only: open and claimed requests and offers the viewer may see, at "
                       "their public points; clusters share a grid cell", 0, needs),
        layer("makers", "Members only: mask makers the viewer may see, at their public points", 0,
              makers));
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:[s], s:i, s:i, s:[f,f,f,f], s:[f,f,i], s:o}",
        "tilejson", "3.0.0", "name", "Entraide", "description",
        "Neighbourhoods, shops, and for members the needs and makers of their area",
        "attribution", ctx->server->attribution ? ctx->server->attribution : DEFAULT_ATTRIBUTION,
        "scheme", "xyz", "tiles", url, "minzoom", 0, "maxzoom", TILEJSON_MAXZOOM,
        "bounds", b[0], b[1], b[2], b[3], "center", (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, zoom,
        "vector_layers", layers);
    return mapd_respond_json(ctx, MHD_HTTP_OK, doc, NULL);
}
