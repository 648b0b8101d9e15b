/*
 * mapd/api_shops.c — shops over HTTP: public to read; created and kept up
 * to date by accounts with the shop role (staff may correct them). Claims
 * of imported shops are in api_shop_claims.c.
 *
 * A status is "confirmed" for 7 days after its owner last set it; older, it
 * is shown as unconfirmed (stale), whatever it says.
 *
 * The list pages by id (paging.h): offset up to OFFSET_MAX, or the cursor
 * after=ID to any depth; numberMatched counts every match, and a page that
 * holds fewer says "more" and where the next one starts.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "paging.h"
#include "geodata/opening_hours.h"
#include "geodata/shops.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000
#define OFFSET_MAX 100000   /* past it, the cursor after=ID */

json_t *mapd_shop_feature_json(const geodata_shop *s, int64_t now, const geodata_member *viewer)
{
    int confirmed = s->confirmed_at && now - s->confirmed_at <= GEODATA_SHOP_STALE_S;
    json_t *props = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:b, s:b, s:b, s:o, s:b, s:b, s:b}",
        "id", (json_int_t)s->id, "name", s->name, "shop", s->shop, "brand", s->brand,
        "opening_hours", s->opening_hours, "address", "housenumber", s->housenumber,
        "street", s->street, "postcode", s->postcode, "city", s->city, "status", s->status,
        "delivers", s->delivers, "takeaway", s->takeaway, "gift_cards", s->gift_cards,
        "confirmed_at", mapd_json_time(s->confirmed_at), "confirmed", confirmed,
        "owned", s->owner_id != 0, "mine", viewer && s->owner_id == viewer->id);
    return json_pack("{s:s, s:I, s:{s:s, s:[f, f]}, s:o}", "type", "Feature", "id",
                     (json_int_t)s->id, "geometry", "type", "Point", "coordinates", s->lon, s->lat,
                     "properties", props);
}

typedef struct list {
    json_t *features;
    int64_t now;
    const geodata_member *viewer;
    int64_t last;          /* the id of the last shop added: the next page's cursor */
} list;

static int add_shop(void *arg, const geodata_shop *s)
{
    list *l = arg;
    json_t *f = mapd_shop_feature_json(s, l->now, l->viewer);
    l->last = s->id;
    return f && !json_array_append_new(l->features, f) ? 0 : GEODATA_ENOMEM;
}

/* GET /api/shops[?bbox=W,S,E,N][&status=S][&mine=1][&limit=N][&offset=K |
 * &after=ID]: shops by id, a FeatureCollection with numberMatched,
 * numberReturned, more, and when more, next_after and a next link. */
enum MHD_Result mapd_api_shops_list(mapd_ctx *ctx)
{
    double bbox[4];
    const char *status = mapd_arg(ctx, "status");
    int b = mapd_bbox_arg_or_reply(ctx, 1.0, bbox);
    if (b < 0)
        return MHD_YES;
    if (status && !geodata_shop_status_valid(status) && strcmp(status, "unknown") != 0)
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request",
                            "status is unknown, open, closed, delivery_only or takeaway_only");
    long limit, offset, after;
    if (mapd_long_arg_or_reply(ctx, "limit", 1, LIMIT_MAX, LIMIT_DEFAULT, &limit)
        || mapd_cursor_arg_or_reply(ctx, "after", &after)
        || mapd_offset_arg_or_reply(ctx, OFFSET_MAX, "after", &offset))
        return MHD_YES;
    /* mine=1: the logged-in account's own shops (what a shop owner edits). */
    const geodata_member *viewer = mapd_member_optional(ctx);
    const char *mine = mapd_arg(ctx, "mine");
    if (mine && strcmp(mine, "1") != 0 && strcmp(mine, "0") != 0)
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "mine is 1 or 0");
    int64_t owner = 0;
    if (mine && strcmp(mine, "1") == 0) {
        if (!viewer)
            return mapd_problem(ctx, MHD_HTTP_UNAUTHORIZED, "Unauthorized", "log in first");
        owner = viewer->id;
    }
    list l = { json_array(), ctx->now, viewer, 0 };
    size_t total = 0;
    int more = 0;
    int rc = l.features ? geodata_shops_query(ctx->store, b ? bbox : NULL, status, owner, after,
                                              (size_t)limit, (size_t)offset, add_shop, &l, &total,
                                              &more)
                        : GEODATA_ENOMEM;
    if (rc) {
        json_decref(l.features);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *fc = json_pack("{s:s, s:o, s:I, s:I}", "type", "FeatureCollection", "features", l.features,
                           "numberMatched", (json_int_t)total, "numberReturned",
                           (json_int_t)json_array_size(l.features));
    if (fc && mapd_page_tail(ctx, fc, more, "after", l.last, NULL, "application/geo+json")) {
        json_decref(fc);
        fc = NULL;
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, fc, "application/geo+json");
}

static enum MHD_Result reply_shop(mapd_ctx *ctx, unsigned status, int64_t id)
{
    geodata_shop s;
    int rc = geodata_shop_get(ctx->store, id, &s);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    return mapd_respond_json(ctx, status, mapd_shop_feature_json(&s, ctx->now, mapd_member_optional(ctx)),
                             "application/geo+json");
}

enum MHD_Result mapd_api_shop_get(mapd_ctx *ctx)
{
    return reply_shop(ctx, MHD_HTTP_OK, ctx->id);
}

/* The logged-in member if they have the shop role (or, with staff_too, are
 * staff); NULL after a 401/403. Staff may correct a shop's status, but never
 * own a shop. */
static const geodata_member *shop_owner_or_reply(mapd_ctx *ctx, int staff_too)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (m && strcmp(m->role, "shop") != 0 && !(staff_too && mapd_is_staff(m))) {
        mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "this needs an account with the shop role");
        return NULL;
    }
    return m;
}

/* The opening hours to store: *hours as OSM opening_hours, converted from
 * plain French or English ("lun-sam 9h-19h") into buf (of size n) when need
 * be, and *hours pointed at it. 0 when empty or valid; else -1 after a 422
 * saying where OSM's syntax is not met. */
static int hours_or_reply(mapd_ctx *ctx, const char **hours, char *buf, size_t n)
{
    if (!*hours || !**hours)
        return 0;
    geodata_oh_error e;
    if (geodata_opening_hours_from_text(*hours, buf, n, &e) == 0) {
        *hours = buf;
        return 0;
    }
    char detail[256];
    snprintf(detail, sizeof detail, "'opening_hours' is neither OSM opening_hours syntax nor hours "
             "written like \"lun-sam 9h-19h\": %s (at byte %zu)", e.message, e.offset);
    mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
    return -1;
}

enum MHD_Result mapd_api_shop_create(mapd_ctx *ctx)
{
    const geodata_member *m = shop_owner_or_reply(ctx, 0);
    if (!m)
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *name, *shop, *address, *hours;
    char hours_buf[GEODATA_OH_MAX_LEN + 1];
    enum MHD_Result ret = MHD_YES;
    if (mapd_field_string_or_reply(ctx, body, "name", MAPD_FIELD_REQUIRED, 200, &name)
        || mapd_field_string_or_reply(ctx, body, "shop", MAPD_FIELD_REQUIRED, 63, &shop)
        || mapd_field_string_or_reply(ctx, body, "address", MAPD_FIELD_REQUIRED, MAPD_ADDRESS_MAX, &address)
        || mapd_field_string_or_reply(ctx, body, "opening_hours", MAPD_FIELD_OPTIONAL, 255, &hours)
        || hours_or_reply(ctx, &hours, hours_buf, sizeof hours_buf))
        goto out;
    /* The registration rule, except that a shop need not be in a neighbourhood. */
    geodata_geocode_result res[MAPD_VERIFY_RESULTS];
    size_t n = 0;
    geodata_verify_status why;
    if (mapd_geocode_address_or_reply(ctx, address, res, MAPD_VERIFY_RESULTS, &n, &why))
        goto out;
    if (why != GEODATA_VERIFIED && why != GEODATA_VERIFY_OUTSIDE) {
        ret = mapd_refuse_address(ctx, why, res, n, 0);
        goto out;
    }
    char number[32];
    snprintf(number, sizeof number, "%d%s%s", res[0].number, *res[0].rep ? " " : "", res[0].rep);
    int64_t id = 0;
    int rc = geodata_shop_create(ctx->store, m->id, name, shop, hours, number, res[0].street,
                                 res[0].postcode, res[0].city, res[0].lon, res[0].lat, ctx->now, &id);
    ret = rc ? mapd_problem_geodata(ctx, rc) : reply_shop(ctx, MHD_HTTP_CREATED, id);
out:
    json_decref(body);
    return ret;
}

enum MHD_Result mapd_api_shop_update(mapd_ctx *ctx)
{
    const geodata_member *m = shop_owner_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    geodata_shop_update u = { 0 };
    char hours_buf[GEODATA_OH_MAX_LEN + 1];
    enum MHD_Result ret = MHD_YES;
    if (mapd_field_string_or_reply(ctx, body, "status", MAPD_FIELD_OPTIONAL, 15, &u.status)
        || mapd_field_bool_or_reply(ctx, body, "delivers", &u.delivers)
        || mapd_field_bool_or_reply(ctx, body, "takeaway", &u.takeaway)
        || mapd_field_bool_or_reply(ctx, body, "gift_cards", &u.gift_cards)
        || mapd_field_string_or_reply(ctx, body, "opening_hours", MAPD_FIELD_OPTIONAL, 255, &u.opening_hours)
        || hours_or_reply(ctx, &u.opening_hours, hours_buf, sizeof hours_buf))
        goto out;
    if (u.status && !geodata_shop_status_valid(u.status)) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "'status' is open, closed, delivery_only or takeaway_only");
        goto out;
    }
    int rc = geodata_shop_update_status(ctx->store, ctx->id, m->id, mapd_is_staff(m), &u, ctx->now);
    if (rc == GEODATA_EINVAL) /* a status and services that contradict each other */
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           geodata_errmsg(ctx->store));
    else
        ret = rc ? mapd_problem_geodata(ctx, rc) : reply_shop(ctx, MHD_HTTP_OK, ctx->id);
out:
    json_decref(body);
    return ret;
}
