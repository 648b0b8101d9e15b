/*
 * mapd/api_makers.c — mask makers and their order books over HTTP.
 *
 * Makers are seen by the members who would see their posts (their own and
 * contiguous neighbourhoods; staff: all). A maker sees the whole book of
 * orders placed with them; a requester sees only the orders they placed.
 *
 * Lists page by cursor (paging.h): makers by id (after=ID), orders newest
 * first (before=ID), at most 500 a page; a page that holds fewer than exist
 * says "more" and where the next one starts.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "paging.h"
#include "geodata/makers.h"

#define MAKERS_PAGE 500  /* makers in a page at most (and by default) */
#define ORDERS_PAGE 500  /* orders in a page at most (and by default), as maker or as requester */
#define NOTE_MAX 500     /* bytes of an order's note */

static json_t *maker_feature(const geodata_maker *k)
{
    json_t *mats = json_array();
    for (size_t i = 0; i < k->n_materials; i++)
        json_array_append_new(mats, json_string(k->materials[i]));
    json_t *props = json_pack("{s:I, s:s, s:s, s:i, s:i, s:o, s:o}", "id", (json_int_t)k->member_id,
                              "display_name", k->display_name, "neighbourhood", k->neighbourhood_id,
                              "capacity_per_day", k->capacity_per_day, "stock", k->stock,
                              "materials", mats, "materials_post",
                              k->materials_post_id ? json_integer(k->materials_post_id) : json_null());
    return json_pack("{s:s, s:I, s:{s:s, s:[f, f]}, s:o}", "type", "Feature", "id",
                     (json_int_t)k->member_id, "geometry", "type", "Point", "coordinates",
                     round(k->lon * 1e6) / 1e6, round(k->lat * 1e6) / 1e6, "properties", props);
}

/* An order as viewer sees it: its maker, once they have accepted it, also
 * gets the requester's address to deliver to (the only response that
 * carries it, as a claim does for a post). */
static json_t *order_json(const geodata_order *o, int64_t viewer)
{
    json_t *j = json_pack("{s:I, s:{s:I, s:s}, s:{s:I, s:s}, s:i, s:s, s:s, s:o, s:o}",
                          "id", (json_int_t)o->id, "maker", "id", (json_int_t)o->maker_id,
                          "display_name", o->maker_name, "requester", "id",
                          (json_int_t)o->requester_id, "display_name", o->requester_name,
                          "quantity", o->quantity, "note", o->note, "status", o->status,
                          "created_at", mapd_json_time(o->created_at),
                          "updated_at", mapd_json_time(o->updated_at));
    if (j && viewer == o->maker_id && *o->delivery_address)
        json_object_set_new(j, "delivery_address", json_string(o->delivery_address));
    return j;
}

typedef struct order_list {
    json_t *arr;
    int64_t viewer;
    int64_t last;          /* the id of the last order added: the next page's cursor */
} order_list;

enum MHD_Result mapd_api_maker_set(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    long capacity, stock;
    enum MHD_Result ret = MHD_YES;
    json_t *mats = json_object_get(body, "materials");
    const char *list[GEODATA_MATERIALS_MAX];
    size_t n = 0;
    if (mapd_field_int_or_reply(ctx, body, "capacity_per_day", MAPD_FIELD_REQUIRED, 0, 100000, 0,
                                &capacity)
        || mapd_field_int_or_reply(ctx, body, "stock", MAPD_FIELD_REQUIRED, 0, 1000000, 0, &stock))
        goto out;
    if (mats && !json_is_null(mats)) {
        if (!json_is_array(mats) || json_array_size(mats) > GEODATA_MATERIALS_MAX) {
            ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                               "'materials' is a list of at most 10 strings");
            goto out;
        }
        size_t i;
        json_t *v;
        json_array_foreach(mats, i, v) {
            const char *s = json_string_value(v);
            int control = 0;
            for (const unsigned char *c = (const unsigned char *)s; s && *c; c++)
                control |= *c < 0x20 || *c == 0x7f;
            if (!s || !*s || json_string_length(v) > GEODATA_MATERIAL_LEN || strlen(s) != json_string_length(v)
                || control) {
                ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                                   "each material is a string of 1 to 40 bytes on one line");
                goto out;
            }
            list[n++] = s;
        }
    }
    int rc = geodata_maker_set(ctx->store, m->id, (int)capacity, (int)stock, list, n, ctx->now);
    geodata_maker k;
    if (!rc)
        rc = geodata_maker_get(ctx->store, m->id, &k);
    ret = rc ? mapd_problem_geodata(ctx, rc)
             : mapd_respond_json(ctx, MHD_HTTP_OK, maker_feature(&k), "application/geo+json");
out:
    json_decref(body);
    return ret;
}

static int add_order(void *arg, const geodata_order *o)
{
    order_list *l = arg;
    json_t *o_json = order_json(o, l->viewer);
    l->last = o->id;
    return o_json && !json_array_append_new(l->arr, o_json) ? 0 : GEODATA_ENOMEM;
}

/* GET /api/makers/me: the viewer's maker profile, with the first page of
 * their book ("orders", newest first; "orders_more" and
 * "orders_next_before" when older ones follow: GET /api/orders?as=maker
 * &before=ID reads them). */
enum MHD_Result mapd_api_maker_me(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m)
        return MHD_YES;
    geodata_maker k;
    int rc = geodata_maker_get(ctx->store, m->id, &k);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    json_t *orders = json_array();
    order_list l = { orders, m->id, 0 };
    int more = 0;
    rc = orders ? geodata_orders_list(ctx->store, m->id, 1, 0, ORDERS_PAGE, add_order, &l, &more)
                : GEODATA_ENOMEM;
    if (rc) {
        json_decref(orders);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *f = maker_feature(&k);
    json_t *props = json_object_get(f, "properties");
    if (!props)
        json_decref(orders);
    if (!props || json_object_set_new(props, "orders", orders)
        || json_object_set_new(props, "orders_more", json_boolean(more))
        || (more && json_object_set_new(props, "orders_next_before", json_integer(l.last)))) {
        json_decref(f);
        f = NULL;
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, f, "application/geo+json");
}

typedef struct maker_list {
    json_t *features;
    int64_t last;          /* the id of the last maker added: the next page's cursor */
} maker_list;

static int add_maker(void *arg, const geodata_maker *k)
{
    maker_list *l = arg;
    json_t *f = maker_feature(k);
    l->last = k->member_id;
    return f && !json_array_append_new(l->features, f) ? 0 : GEODATA_ENOMEM;
}

/* GET /api/makers[?bbox=W,S,E,N][&limit=N][&after=ID]: the makers the
 * viewer sees, by id, a page of at most MAKERS_PAGE: a FeatureCollection
 * with numberReturned, more, and when more, next_after and a next link. */
enum MHD_Result mapd_api_makers_list(mapd_ctx *ctx)
{
    static const char *const known[] = { "bbox", "limit", "after", NULL };
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m || mapd_known_args_or_reply(ctx, known))
        return MHD_YES;
    double bbox[4];
    int b = mapd_bbox_arg_or_reply(ctx, 1.0, bbox);
    long limit, after;
    if (b < 0 || mapd_long_arg_or_reply(ctx, "limit", 1, MAKERS_PAGE, MAKERS_PAGE, &limit)
        || mapd_cursor_arg_or_reply(ctx, "after", &after))
        return MHD_YES;
    const geodata_audience *a = mapd_audience_or_reply(ctx);
    if (!a)
        return MHD_YES;
    maker_list l = { json_array(), 0 };
    int more = 0;
    int rc = l.features ? geodata_makers_query(ctx->store, a, b ? bbox : NULL, after, (size_t)limit,
                                               add_maker, &l, &more)
                        : GEODATA_ENOMEM;
    if (rc) {
        json_decref(l.features);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *fc = json_pack("{s:s, s:o, s:I}", "type", "FeatureCollection", "features", l.features,
                           "numberReturned", (json_int_t)json_array_size(l.features));
    if (fc && mapd_page_tail(ctx, fc, more, "after", l.last, NULL, "application/geo+json")) {
        json_decref(fc);
        fc = NULL;
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, fc, "application/geo+json");
}

/* 1 when viewer may see (and order from) maker k. */
static int can_see_maker(mapd_ctx *ctx, const geodata_member *viewer, const geodata_maker *k)
{
    return viewer->id == k->member_id || mapd_sees_neighbourhood(ctx, k->neighbourhood_id) == 1;
}

enum MHD_Result mapd_api_order_create(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    geodata_maker k;
    int rc = geodata_maker_get(ctx->store, ctx->id, &k);
    if (rc || !can_see_maker(ctx, m, &k))
        return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such maker");
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    long quantity;
    const char *note;
    enum MHD_Result ret = MHD_YES;
    if (mapd_field_int_or_reply(ctx, body, "quantity", MAPD_FIELD_REQUIRED, 1, 1000, 0, &quantity)
        || mapd_field_string_or_reply(ctx, body, "note", MAPD_FIELD_MULTILINE, NOTE_MAX, &note))
        goto out;
    int64_t id = 0;
    geodata_order o;
    rc = geodata_order_create(ctx->store, k.member_id, m->id, (int)quantity, note, ctx->now, &id);
    if (!rc)
        rc = geodata_order_get(ctx->store, id, &o);
    ret = rc ? mapd_problem_geodata(ctx, rc) : mapd_respond_json(ctx, MHD_HTTP_CREATED, order_json(&o, m->id), NULL);
out:
    json_decref(body);
    return ret;
}

/* GET /api/orders[?as=requester|maker][&limit=N][&before=ID]: the orders
 * the viewer placed (or, as=maker, their book), newest first, a page of at
 * most ORDERS_PAGE: {orders, more} and when more, next_before. */
enum MHD_Result mapd_api_orders_mine(mapd_ctx *ctx)
{
    static const char *const known[] = { "as", "limit", "before", NULL };
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    long limit, before;
    if (!m || mapd_known_args_or_reply(ctx, known)
        || mapd_long_arg_or_reply(ctx, "limit", 1, ORDERS_PAGE, ORDERS_PAGE, &limit)
        || mapd_cursor_arg_or_reply(ctx, "before", &before))
        return MHD_YES;
    const char *as = mapd_arg(ctx, "as");
    if (as && strcmp(as, "maker") != 0 && strcmp(as, "requester") != 0)
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "as is requester or maker");
    int by_maker = as && strcmp(as, "maker") == 0;
    json_t *orders = json_array();
    order_list l = { orders, m->id, 0 };
    int more = 0;
    int rc = orders ? geodata_orders_list(ctx->store, m->id, by_maker, before, (size_t)limit,
                                          add_order, &l, &more)
                    : GEODATA_ENOMEM;
    if (rc) {
        json_decref(orders);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *doc = json_pack("{s:o}", "orders", orders);
    if (doc && mapd_page_tail(ctx, doc, more, "before", l.last, NULL, NULL)) {
        json_decref(doc);
        doc = NULL;
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, doc, NULL);
}

enum MHD_Result mapd_api_order_status(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    geodata_order o;
    int rc = geodata_order_get(ctx->store, ctx->id, &o);
    if (rc || (o.maker_id != m->id && o.requester_id != m->id))
        return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such order");
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *status;
    enum MHD_Result ret = MHD_YES;
    if (mapd_field_string_or_reply(ctx, body, "status", MAPD_FIELD_REQUIRED, 15, &status))
        goto out;
    if (strcmp(status, "accepted") && strcmp(status, "ready") && strcmp(status, "delivered")
        && strcmp(status, "declined")) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "'status' is accepted, ready, delivered or declined");
        goto out;
    }
    rc = geodata_order_set_status(ctx->store, o.id, m->id, status, ctx->now);
    if (!rc)
        rc = geodata_order_get(ctx->store, o.id, &o);
    ret = rc ? mapd_problem_geodata(ctx, rc) : mapd_respond_json(ctx, MHD_HTTP_OK, order_json(&o, m->id), NULL);
out:
    json_decref(body);
    return ret;
}
