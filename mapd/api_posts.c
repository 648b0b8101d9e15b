/*
 * mapd/api_posts.c — requests and offers over HTTP.
 *
 * Who sees what: a member sees the posts of their neighbourhood and of the
 * contiguous ones; the author and the claimer always see theirs; staff see
 * all, hidden ones included. A post one may not see answers 404, as if it did
 * not exist. Anonymous visitors see no post at all, only /api/stats.
 * Posts carry their public point; the author's address appears in one
 * response only: the claim, to the claimer.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "geodata/posts.h"

#define LIST_DEFAULT 50
#define LIST_MAX     100
#define OFFSET_MAX   10000
#define RADIUS_MAX   20000.0   /* metres */
#define BBOX_MAX_DEG2 1.0      /* about 110 km x 75 km at 48 N */
#define TTL_DEFAULT_DAYS 7
#define TTL_MAX_DAYS 30

/* A post as a GeoJSON Feature, as viewer may see it. */
static json_t *post_feature(const geodata_post *p, const geodata_member *viewer, double distance)
{
    int mine = viewer && viewer->id == p->author_id;
    json_t *props = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:s, s:o, s:o, s:o, s:b, s:b}",
        "id", (json_int_t)p->id, "kind", p->kind, "category", p->category, "status", p->status,
        "title", p->title, "body", p->body, "author", "display_name", p->author_name,
        "neighbourhood", p->neighbourhood_id, "created_at", mapd_json_time(p->created_at),
        "updated_at", mapd_json_time(p->updated_at), "expires_at", mapd_json_time(p->expires_at),
        "mine", mine, "claimed_by_me", viewer && p->claimed_by == viewer->id);
    if (!props)
        return NULL;
    if (mine)
        json_object_set_new(props, "views", json_integer(p->views));
    if (mine || mapd_is_staff(viewer))
        json_object_set_new(props, "hidden", json_boolean(p->hidden));
    if (mapd_is_staff(viewer))
        json_object_set_new(props, "reports", json_integer(p->reports));
    if (distance >= 0)
        json_object_set_new(props, "distance_m", json_integer((json_int_t)llround(distance)));
    return json_pack("{s:s, s:I, s:{s:s, s:[f, f]}, s:o}", "type", "Feature", "id",
                     (json_int_t)p->id, "geometry", "type", "Point", "coordinates",
                     round(p->lon * 1e6) / 1e6, round(p->lat * 1e6) / 1e6, "properties", props);
}

/* 1 when viewer may see p (see the top of the file); 0, or -1 on a store error. */
static int can_see(mapd_ctx *ctx, const geodata_member *viewer, const geodata_post *p)
{
    if (mapd_is_staff(viewer) || p->author_id == viewer->id
        || (p->claimed_by && p->claimed_by == viewer->id))
        return 1;
    if (p->hidden)
        return 0;
    return mapd_sees_neighbourhood(ctx, viewer, p->neighbourhood_id);
}

/* Loads the post of the path for viewer; 0, or -1 after queuing 404/503. */
static int post_or_reply(mapd_ctx *ctx, const geodata_member *viewer, geodata_post *p)
{
    int rc = geodata_post_get(ctx->store, ctx->id, ctx->now, p);
    if (rc) {
        mapd_problem_geodata(ctx, rc);
        return -1;
    }
    int see = can_see(ctx, viewer, p);
    if (see < 0) {
        mapd_problem_geodata(ctx, GEODATA_EDB);
        return -1;
    }
    if (!see) {
        mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such post");
        return -1;
    }
    return 0;
}

static enum MHD_Result reply_post(mapd_ctx *ctx, unsigned status, const geodata_member *viewer,
                                  int64_t id, const char *address)
{
    geodata_post *p = malloc(sizeof *p);
    if (!p)
        return MHD_NO;
    int rc = geodata_post_get(ctx->store, id, ctx->now, p);
    if (rc) {
        free(p);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *f = post_feature(p, viewer, -1);
    free(p);
    if (f && address)
        json_object_set_new(json_object_get(f, "properties"), "address", json_string(address));
    return mapd_respond_json(ctx, status, f, "application/geo+json");
}

enum MHD_Result mapd_api_posts_create(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *kind, *category, *title, *text;
    long days;
    enum MHD_Result ret = MHD_YES;
    if (mapd_field_string_or_reply(ctx, body, "kind", MAPD_FIELD_REQUIRED, 16, &kind)
        || mapd_field_string_or_reply(ctx, body, "category", MAPD_FIELD_REQUIRED, 16, &category)
        || mapd_field_string_or_reply(ctx, body, "title", MAPD_FIELD_REQUIRED, GEODATA_TITLE_MAX, &title)
        || mapd_field_string_or_reply(ctx, body, "body", MAPD_FIELD_MULTILINE, GEODATA_BODY_MAX, &text)
        || mapd_field_int_or_reply(ctx, body, "expires_in_days", MAPD_FIELD_OPTIONAL, 1, TTL_MAX_DAYS,
                                   TTL_DEFAULT_DAYS, &days))
        goto out;
    if (!geodata_post_kind_valid(kind)) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "'kind' is request or offer");
        goto out;
    }
    if (!geodata_post_category_valid(category)) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "'category' is one of groceries, pharmacy, childcare, schooling, masks, "
                           "errands, company, pets, materials, other");
        goto out;
    }
    int64_t id = 0;
    int rc = geodata_post_create(ctx->store, m->id, kind, category, title, text, ctx->now,
                                 ctx->now + (int64_t)days * 86400, &id);
    ret = rc ? mapd_problem_geodata(ctx, rc) : reply_post(ctx, MHD_HTTP_CREATED, m, id, NULL);
out:
    json_decref(body);
    return ret;
}

typedef struct list_ctx {
    json_t *features;
    const geodata_member *viewer;
    int near;
} list_ctx;

static int add_feature(void *arg, const geodata_post *p, double distance)
{
    list_ctx *l = arg;
    json_t *f = post_feature(p, l->viewer, l->near ? distance : -1);
    return f ? json_array_append_new(l->features, f) : GEODATA_ENOMEM;
}

enum MHD_Result mapd_api_posts_list(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_optional(ctx);
    if (!m)
        return mapd_problem(ctx, MHD_HTTP_UNAUTHORIZED, "Unauthorized",
                            "log in to see needs; anonymous visitors get counts at /api/stats");
    geodata_post_query q = { .now = ctx->now, .limit = LIST_DEFAULT };
    const char *near = mapd_arg(ctx, "near"), *radius = mapd_arg(ctx, "radius"), *a;
    double v[4];
    long n;
    if (near) {
        if (!mapd_parse_numbers(near, v, 2) || fabs(v[0]) > 180 || fabs(v[1]) > 90)
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "near is LON,LAT in degrees");
        q.near = 1;
        q.lon = v[0];
        q.lat = v[1];
        q.radius_m = 1000;
        if (radius && (!mapd_parse_numbers(radius, &q.radius_m, 1) || !(q.radius_m > 0)
                       || q.radius_m > RADIUS_MAX))
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request",
                                "radius is metres, more than 0 and at most 20000");
    } else if (radius) {
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "radius needs near=LON,LAT");
    }
    int has_bbox = mapd_bbox_arg_or_reply(ctx, BBOX_MAX_DEG2, v);
    if (has_bbox < 0)
        return MHD_YES;
    if (has_bbox) {
        if (near)
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "give near or bbox, not both");
        q.bbox = 1;
        q.west = v[0]; q.south = v[1]; q.east = v[2]; q.north = v[3];
    }
    if ((a = mapd_arg(ctx, "category")) && !geodata_post_category_valid(a))
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "unknown category");
    q.category = a;
    if ((a = mapd_arg(ctx, "kind")) && !geodata_post_kind_valid(a))
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "kind is request or offer");
    q.kind = a;
    if ((a = mapd_arg(ctx, "status"))) {
        static const char *const ok[] = { "open", "claimed", "done", "cancelled", "expired", "any" };
        int found = 0;
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            found |= strcmp(a, ok[i]) == 0;
        if (!found)
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request",
                                "status is open, claimed, done, cancelled, expired or any");
        q.status = a;
    }
    if ((a = mapd_arg(ctx, "q"))) {
        if (strlen(a) > 200)
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "q is at most 200 bytes");
        q.keywords = a;
    }
    if (mapd_long_arg_or_reply(ctx, "limit", 1, LIST_MAX, LIST_DEFAULT, &n))
        return MHD_YES;
    q.limit = (size_t)n;
    if (mapd_long_arg_or_reply(ctx, "offset", 0, OFFSET_MAX, 0, &n))
        return MHD_YES;
    q.offset = (size_t)n;
    if ((a = mapd_arg(ctx, "mine")) && strcmp(a, "1") == 0) {
        q.author_id = m->id;
        q.with_hidden = 1; /* authors keep seeing their hidden posts */
    }
    if (mapd_is_staff(m)) {
        q.viewer_nb = NULL; /* all neighbourhoods */
        q.with_hidden |= (a = mapd_arg(ctx, "hidden")) && strcmp(a, "1") == 0;
    } else {
        if (!m->neighbourhood_id[0] && !q.author_id)
            return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:s, s:[], s:i, s:b}", "type",
                                     "FeatureCollection", "features", "numberReturned", 0,
                                     "more", 0), "application/geo+json");
        q.viewer_nb = q.author_id ? NULL : m->neighbourhood_id;
    }
    list_ctx l = { json_array(), m, q.near };
    int more = 0;
    int rc = geodata_posts_query(ctx->store, &q, add_feature, &l, &more);
    if (rc) {
        json_decref(l.features);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *fc = json_pack("{s:s, s:o, s:I, s:b}", "type", "FeatureCollection", "features",
                           l.features, "numberReturned", (json_int_t)json_array_size(l.features),
                           "more", more);
    if (more && q.offset + q.limit <= OFFSET_MAX)
        json_object_set_new(fc, "next_offset", json_integer((json_int_t)(q.offset + q.limit)));
    return mapd_respond_json(ctx, MHD_HTTP_OK, fc, "application/geo+json");
}

enum MHD_Result mapd_api_post_get(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m)
        return MHD_YES;
    geodata_post p;
    if (post_or_reply(ctx, m, &p))
        return MHD_YES;
    int rc = geodata_post_view(ctx->store, p.id, m->id);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    return reply_post(ctx, MHD_HTTP_OK, m, p.id, NULL);
}

enum MHD_Result mapd_api_post_edit(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    geodata_post p;
    if (post_or_reply(ctx, m, &p))
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *title, *text;
    enum MHD_Result ret = MHD_YES;
    if (mapd_field_string_or_reply(ctx, body, "title", MAPD_FIELD_OPTIONAL, GEODATA_TITLE_MAX, &title)
        || mapd_field_string_or_reply(ctx, body, "body", MAPD_FIELD_MULTILINE, GEODATA_BODY_MAX, &text))
        goto out;
    if (!title && !text) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "give 'title' or 'body' to change");
        goto out;
    }
    if (title && !*title) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "'title' is empty");
        goto out;
    }
    int rc = geodata_post_edit(ctx->store, p.id, m->id, title, text, ctx->now);
    ret = rc ? mapd_problem_geodata(ctx, rc) : reply_post(ctx, MHD_HTTP_OK, m, p.id, NULL);
out:
    json_decref(body);
    return ret;
}

enum MHD_Result mapd_api_post_claim(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    /* A claim reveals a home address: only neighbours may claim, never staff
     * (who see every post to moderate it) nor shop accounts. */
    if (strcmp(m->role, "member") != 0)
        return mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "only members claim needs");
    geodata_post p;
    if (post_or_reply(ctx, m, &p))
        return MHD_YES;
    char address[GEODATA_LABEL_MAX];
    int rc = geodata_post_claim(ctx->store, p.id, m->id, ctx->now, address, sizeof address);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    return reply_post(ctx, MHD_HTTP_OK, m, p.id, address);
}

static enum MHD_Result finish(mapd_ctx *ctx, geodata_post_action a)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    geodata_post p;
    if (post_or_reply(ctx, m, &p))
        return MHD_YES;
    int rc = geodata_post_finish(ctx->store, p.id, m->id, a, ctx->now);
    return rc ? mapd_problem_geodata(ctx, rc) : reply_post(ctx, MHD_HTTP_OK, m, p.id, NULL);
}

enum MHD_Result mapd_api_post_done(mapd_ctx *ctx)
{
    return finish(ctx, GEODATA_POST_DONE);
}

enum MHD_Result mapd_api_post_cancel(mapd_ctx *ctx)
{
    return finish(ctx, GEODATA_POST_CANCEL);
}

enum MHD_Result mapd_api_post_report(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    geodata_post p;
    if (post_or_reply(ctx, m, &p))
        return MHD_YES;
    const char *reason = NULL;
    json_t *body = NULL;
    if (ctx->req->body_len) {
        if (!(body = mapd_json_body_or_reply(ctx)))
            return MHD_YES;
        if (mapd_field_string_or_reply(ctx, body, "reason", MAPD_FIELD_MULTILINE, 500, &reason)) {
            json_decref(body);
            return MHD_YES;
        }
    }
    int rc = geodata_post_report(ctx->store, p.id, m->id, reason);
    json_decref(body);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    return mapd_respond_json(ctx, MHD_HTTP_CREATED, json_pack("{s:I, s:b}", "post",
                             (json_int_t)p.id, "reported", 1), NULL);
}

static enum MHD_Result moderate(mapd_ctx *ctx, int hidden)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    if (!mapd_is_staff(m))
        return mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "staff only");
    int rc = geodata_post_set_hidden(ctx->store, ctx->id, m->id, hidden);
    return rc ? mapd_problem_geodata(ctx, rc) : reply_post(ctx, MHD_HTTP_OK, m, ctx->id, NULL);
}

enum MHD_Result mapd_api_post_hide(mapd_ctx *ctx)
{
    return moderate(ctx, 1);
}

enum MHD_Result mapd_api_post_restore(mapd_ctx *ctx)
{
    return moderate(ctx, 0);
}
