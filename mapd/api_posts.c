/*
 * mapd/api_posts.c — requests and offers over HTTP.
 *
 * Who sees what: a member sees the posts of their neighbourhood and of the
 * contiguous ones; the author and the claimer always see theirs; staff see
 * all, hidden ones included. A post one may not see answers 404, as if it did
 * not exist. Anonymous visitors see no post at all, only /api/stats.
 * Posts carry their public point; the author's address appears in one
 * response only: the claim, to the claimer.
 *
 * Lists that the in-memory read model covers (no keywords; open or claimed
 * posts) are answered from it (post_model.c), the others through SQL; both
 * give the same bytes. New posts go through the group-commit writer
 * (writer.c). After every write to a post, the model is brought up to
 * the change feed before the answer leaves.
 *
 * Lists page by offset up to OFFSET_MAX, and to any depth by cursor
 * (paging.h): before=ID newest first, after=ID nearest first (the server
 * measures post ID's distance as the ranking does: a cursor must be a post
 * the viewer sees). A page that holds fewer than match says "more",
 * next_before or next_after, and a next link.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "geodata/groups.h"
#include "geodata/posts.h"
#include "paging.h"
#include "post_model.h"
#include "writer.h"

#define LIST_DEFAULT 50
#define LIST_MAX     100
#define OFFSET_MAX   10000
#define RADIUS_DEFAULT 1000   /* metres, without radius= */
#define RADIUS_MAX   MAPD_POST_DISTANCE_MAX  /* metres: the read model serialises every distance up to it */
#define BBOX_MAX_DEG2 1.0      /* about 110 km x 75 km at 48 N */
#define TTL_DEFAULT_DAYS 7
#define TTL_MAX_DAYS 30

/* A post as a GeoJSON Feature, as viewer may see it. */
static json_t *post_feature(const geodata_post *p, const geodata_member *viewer, double distance)
{
    json_t *f = mapd_post_feature_json(p);
    mapd_post_viewer v;
    mapd_post_viewer_init(&v, viewer, p->author_id, p->claimed_by, p->hidden);
    v.views = p->views;
    v.reports = p->reports;
    if (f && mapd_post_viewer_props(json_object_get(f, "properties"), &v, distance)) {
        json_decref(f);
        return NULL;
    }
    return f;
}

/* After a committed write to a post: the read model and the tiles catch up
 * with the change feed now (unless another worker is at it), so that the
 * next list finds nothing left to do. A failure is only logged: the write
 * stands, and the next list tries again. */
static void posts_changed(mapd_ctx *ctx)
{
    if (mapd_feed_sync(ctx->server->feed, ctx->store, ctx->now, MAPD_FEED_EXACT))
        fprintf(stderr, "mapd: following the change feed: %s\n", geodata_errmsg(ctx->store));
}

/* 1 when viewer may see p (see the top of the file); 0, or -1 on a store error. */
static int can_see(mapd_ctx *ctx, const geodata_member *viewer, const geodata_post *p)
{
    if (mapd_is_staff(viewer) || p->author_id == viewer->id
        || (p->claimed_by && p->claimed_by == viewer->id))
        return 1;
    if (p->hidden)
        return 0;
    return mapd_sees_neighbourhood(ctx, p->neighbourhood_id);
}

int mapd_post_id_or_reply(mapd_ctx *ctx, const geodata_member *viewer, int64_t id, geodata_post *p)
{
    int rc = geodata_post_get(ctx->store, id, ctx->now, p);
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

int mapd_post_or_reply(mapd_ctx *ctx, const geodata_member *viewer, geodata_post *p)
{
    return mapd_post_id_or_reply(ctx, viewer, ctx->id, p);
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
    /* The author learns who took their request (a display name, nothing more). */
    geodata_member claimer;
    if (f && p->author_id == viewer->id && p->claimed_by
        && geodata_member_get(ctx->store, p->claimed_by, &claimer) == GEODATA_OK)
        json_object_set_new(json_object_get(f, "properties"), "claimed_by",
                            json_pack("{s:s}", "display_name", claimer.display_name));
    free(p);
    if (f && address)
        json_object_set_new(json_object_get(f, "properties"), "address", json_string(address));
    return mapd_respond_json(ctx, status, f, "application/geo+json");
}

/* A new post for the group-commit writer (writer.h). */
typedef struct post_job {
    mapd_write_job base;               /* first: what the writer holds */
    json_t *body;                      /* the request body: owns the strings below */
    geodata_member author;             /* for the reply */
    const char *kind, *category, *title, *text;
    int64_t group, now, expires_at;
    int64_t id;                        /* out: the new post */
} post_job;

static int write_post(mapd_write_job *job, geodata_store *store)
{
    post_job *p = (post_job *)job;
    return geodata_post_create(store, p->author.id, p->kind, p->category, p->title, p->text,
                               p->group, p->now, p->expires_at, &p->id);
}

static void free_post_job(mapd_pool_job *job)
{
    post_job *p = (post_job *)job;
    json_decref(p->body);
    free(p);
}

/* Answers a create once its post is written (or refused). Not
 * posts_changed: new posts come in bursts (the writer's group commit), and
 * the writer brings the follower up to date after each batch (writer.c).
 * Applying them here, one answer at a time, cost creations a fifth of their
 * rate. Frees the job. */
static enum MHD_Result post_created(mapd_ctx *ctx, post_job *p)
{
    int rc = mapd_write_job_result(ctx->store, &p->base);
    enum MHD_Result ret = rc ? mapd_problem_geodata(ctx, rc)
                             : reply_post(ctx, MHD_HTTP_CREATED, &p->author, p->id, NULL);
    free_post_job(&p->base.base);
    return ret;
}

enum MHD_Result mapd_api_posts_create(mapd_ctx *ctx)
{
    mapd_write_job *done = mapd_write_done(ctx);
    if (done)
        return post_created(ctx, (post_job *)done);
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *kind, *category, *title, *text;
    long days, group;
    enum MHD_Result ret = MHD_YES;
    if (mapd_field_string_or_reply(ctx, body, "kind", MAPD_FIELD_REQUIRED, 16, &kind)
        || mapd_field_string_or_reply(ctx, body, "category", MAPD_FIELD_REQUIRED, 16, &category)
        || mapd_field_string_or_reply(ctx, body, "title", MAPD_FIELD_REQUIRED, GEODATA_TITLE_MAX, &title)
        || mapd_field_string_or_reply(ctx, body, "body", MAPD_FIELD_MULTILINE, GEODATA_BODY_MAX, &text)
        || mapd_field_int_or_reply(ctx, body, "expires_in_days", MAPD_FIELD_OPTIONAL, 1, TTL_MAX_DAYS,
                                   TTL_DEFAULT_DAYS, &days)
        || mapd_field_int_or_reply(ctx, body, "group", MAPD_FIELD_OPTIONAL, 1, LONG_MAX, 0, &group))
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
    post_job *job = calloc(1, sizeof *job);
    if (!job) {
        ret = mapd_problem_geodata(ctx, GEODATA_ENOMEM);
        goto out;
    }
    *job = (post_job){ .base = { .base = { .free = free_post_job }, .write = write_post },
                       .body = body, .author = *m, .kind = kind, .category = category, .title = title,
                       .text = text, .group = group, .now = ctx->now,
                       .expires_at = ctx->now + (int64_t)days * 86400 };
    if (mapd_write_later(ctx, &job->base))
        return MHD_YES; /* answered by post_created once committed */
    /* No writer (stopping): written here, in a transaction of its own. */
    job->base.rc = write_post(&job->base, ctx->store);
    if (job->base.rc)
        snprintf(job->base.err, sizeof job->base.err, "%s", geodata_errmsg(ctx->store));
    else
        posts_changed(ctx);
    return post_created(ctx, job);
out:
    json_decref(body);
    return ret;
}

typedef struct list_ctx {
    json_t *features;
    const geodata_member *viewer;
    int near;
    int64_t last;          /* the id of the last post added: the next page's cursor */
} list_ctx;

static int add_feature(void *arg, const geodata_post *p, double distance)
{
    list_ctx *l = arg;
    json_t *f = post_feature(p, l->viewer, l->near ? distance : -1);
    l->last = p->id;
    return f && !json_array_append_new(l->features, f) ? 0 : GEODATA_ENOMEM;
}

/* The members that follow the features in a FeatureCollection of posts:
 * numberReturned, more, next_offset when the page was asked by offset and
 * the next one is within OFFSET_MAX, and when more, the cursor of the next
 * page (after the last post, last) and its link. */
static json_t *collection_tail(mapd_ctx *ctx, const geodata_post_query *q, size_t n, int more,
                               int64_t last)
{
    static const char *const cursors[] = { "before", "after", NULL };
    json_t *t = json_pack("{s:I, s:b}", "numberReturned", (json_int_t)n, "more", more);
    if (t && more && !q->cursor && q->offset + q->limit <= OFFSET_MAX
        && json_object_set_new(t, "next_offset", json_integer((json_int_t)(q->offset + q->limit))))
        t = (json_decref(t), NULL);
    if (t && mapd_page_tail(ctx, t, more, q->near ? "after" : "before", last, cursors,
                            "application/geo+json"))
        t = (json_decref(t), NULL);
    return t;
}

/* A list from the read model: the collection's head and tail serialised by
 * jansson around the features that the model joins (see post_model.c). */
static enum MHD_Result list_from_model(mapd_ctx *ctx, mapd_post_model *model,
                                       const geodata_post_query *q, const geodata_member *viewer)
{
    mapd_text out = { 0 };
    size_t n = 0;
    int more = 0;
    int64_t last = 0;
    const char *head = mapd_post_model_head(model);
    if (mapd_text_append(&out, head, strlen(head))) {
        free(out.data);
        return mapd_respond_json(ctx, MHD_HTTP_OK, NULL, NULL);
    }
    int rc = mapd_post_model_page(model, ctx->store, q, viewer, &out, &n, &more, &last);
    if (rc) {
        free(out.data);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *t = collection_tail(ctx, q, n, more, last);
    char *tail = t ? json_dumps(t, MAPD_POST_JSON_FLAGS) : NULL;
    json_decref(t);
    size_t tn = tail ? strlen(tail) : 0;
    /* {"numberReturned":...} continues the collection after "],": "{" off. */
    if (tn < 2 || mapd_text_append(&out, "],", 2) || mapd_text_append(&out, tail + 1, tn - 1)) {
        free(tail);
        free(out.data);
        return mapd_respond_json(ctx, MHD_HTTP_OK, NULL, NULL);
    }
    free(tail);
    return mapd_respond_owned(ctx, MHD_HTTP_OK, "application/geo+json", out.data, out.len);
}

/* The cursor of a posts list into q (after q's order and centre are set):
 * before=ID for a list newest first, after=ID for one nearest first; a post
 * the viewer sees, else a 400 (a cursor must not tell how far an unseen
 * post lies). 0, or -1 after a reply. */
static int cursor_or_reply(mapd_ctx *ctx, const geodata_member *viewer, geodata_post_query *q)
{
    long before, after;
    if (mapd_cursor_arg_or_reply(ctx, "before", &before) || mapd_cursor_arg_or_reply(ctx, "after", &after))
        return -1;
    if (mapd_arg(ctx, q->near ? "before" : "after")) {
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", q->near
                     ? "a list by distance (near) pages with after=ID, not before"
                     : "a list newest first pages with before=ID; after=ID goes with near=LON,LAT");
        return -1;
    }
    long id = q->near ? after : before;
    if (!id)
        return 0;
    geodata_post *p = malloc(sizeof *p);
    int rc = p ? geodata_post_get(ctx->store, id, ctx->now, p) : GEODATA_ENOMEM;
    int see = rc ? 0 : can_see(ctx, viewer, p);
    free(p);
    if (see < 0 || (rc && rc != GEODATA_ENOTFOUND)) {
        mapd_problem_geodata(ctx, see < 0 ? GEODATA_EDB : rc);
        return -1;
    }
    if (!see) {
        char detail[96];
        snprintf(detail, sizeof detail, "%s names no post you can see: start again without it",
                 q->near ? "after" : "before");
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
        return -1;
    }
    rc = geodata_posts_cursor(ctx->store, q, id);
    if (rc) {
        mapd_problem_geodata(ctx, rc);
        return -1;
    }
    return 0;
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
        q.radius_m = RADIUS_DEFAULT;
        if (radius && (!mapd_parse_numbers(radius, &q.radius_m, 1) || !(q.radius_m > 0)
                       || q.radius_m > RADIUS_MAX)) {
            char detail[80];
            snprintf(detail, sizeof detail, "radius is metres, more than 0 and at most %d", RADIUS_MAX);
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
        }
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
    if (mapd_offset_arg_or_reply(ctx, OFFSET_MAX, near ? "after" : "before", &n))
        return MHD_YES;
    q.offset = (size_t)n;
    int mine, reported, hidden;
    if (mapd_flag_arg_or_reply(ctx, "mine", &mine) || mapd_flag_arg_or_reply(ctx, "reported", &reported)
        || mapd_flag_arg_or_reply(ctx, "hidden", &hidden))
        return MHD_YES;
    /* An author's own posts wherever they are, but not those staff hid:
     * hidden posts are listed for staff only (the author still reads one
     * by id, GET /api/posts/{id}). */
    if (mine)
        q.author_id = m->id;
    if (reported) {
        if (!mapd_is_staff(m))
            return mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "reported=1 is for staff");
        q.reported = 1; /* the moderation queue: hidden or not */
        q.with_hidden = 1;
    }
    const geodata_audience *audience = mapd_audience_or_reply(ctx);
    if (!audience)
        return MHD_YES;
    if (mapd_long_arg_or_reply(ctx, "group", 1, LONG_MAX, 0, &n))
        return MHD_YES;
    if (n) { /* a group's posts: only for those who see the group */
        geodata_group g;
        int rc = geodata_group_get(ctx->store, n, audience, m->id, &g);
        if (rc)
            return mapd_problem_geodata(ctx, rc);
        q.group_id = n;
    }
    if (cursor_or_reply(ctx, m, &q))
        return MHD_YES;
    if (mapd_is_staff(m)) {
        q.with_hidden |= hidden;
    } else if (audience->kind == GEODATA_AUDIENCE_NOBODY && !q.author_id) {
        return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:s, s:[], s:i, s:b}", "type",
                                 "FeatureCollection", "features", "numberReturned", 0,
                                 "more", 0), "application/geo+json");
    }
    /* the audience's rule; an author's own posts wherever they are */
    q.audience = q.author_id ? NULL : audience;
    mapd_post_model *model = ctx->server->posts;
    if (mapd_post_model_covers(model, &q)
        && !mapd_feed_sync(ctx->server->feed, ctx->store, ctx->now, MAPD_FEED_WAIT | MAPD_FEED_EXACT)
        && mapd_post_model_covers(model, &q))
        return list_from_model(ctx, model, &q, m);
    list_ctx l = { json_array(), m, q.near, 0 };
    int more = 0;
    int rc = l.features ? geodata_posts_query(ctx->store, &q, add_feature, &l, &more) : GEODATA_ENOMEM;
    if (rc) {
        json_decref(l.features);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *fc = json_pack("{s:s, s:o}", "type", "FeatureCollection", "features", l.features);
    json_t *tail = collection_tail(ctx, &q, json_array_size(l.features), more, l.last);
    if (fc && (!tail || json_object_update(fc, tail))) {
        json_decref(fc);
        fc = NULL;
    }
    json_decref(tail);
    return mapd_respond_json(ctx, MHD_HTTP_OK, fc, "application/geo+json");
}

enum MHD_Result mapd_api_post_get(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m)
        return MHD_YES;
    geodata_post p;
    if (mapd_post_or_reply(ctx, m, &p))
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
    if (mapd_post_or_reply(ctx, m, &p))
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
    if (!rc)
        posts_changed(ctx);
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
    if (mapd_post_or_reply(ctx, m, &p))
        return MHD_YES;
    char address[GEODATA_LABEL_MAX];
    int rc = geodata_post_claim(ctx->store, p.id, m->id, ctx->now, address, sizeof address);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    posts_changed(ctx);
    return reply_post(ctx, MHD_HTTP_OK, m, p.id, address);
}

/* POST /api/posts/{id}/release: the claimer hands the post back ("I can no
 * longer do it"); it is open again for others. */
enum MHD_Result mapd_api_post_release(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    geodata_post p;
    if (mapd_post_or_reply(ctx, m, &p))
        return MHD_YES;
    int rc = geodata_post_release(ctx->store, p.id, m->id, ctx->now);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    posts_changed(ctx);
    return reply_post(ctx, MHD_HTTP_OK, m, p.id, NULL);
}

static enum MHD_Result finish(mapd_ctx *ctx, geodata_post_action a)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    geodata_post p;
    if (mapd_post_or_reply(ctx, m, &p))
        return MHD_YES;
    int rc = geodata_post_finish(ctx->store, p.id, m->id, a, ctx->now);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    posts_changed(ctx);
    return reply_post(ctx, MHD_HTTP_OK, m, p.id, NULL);
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
    if (mapd_post_or_reply(ctx, m, &p))
        return MHD_YES;
    const char *reason = NULL;
    json_t *body = NULL;
    if (ctx->req->body_len) {
        if (!(body = mapd_json_body_or_reply(ctx)))
            return MHD_YES;
        if (mapd_field_string_or_reply(ctx, body, "reason", MAPD_FIELD_MULTILINE,
                                       GEODATA_REPORT_REASON_MAX, &reason)) {
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

typedef struct report_list {
    json_t *arr;
    int64_t last;          /* the id of the last report added: the next page's cursor */
} report_list;

static int add_report(void *arg, const geodata_post_report_row *r)
{
    report_list *l = arg;
    l->last = r->id;
    json_t *o = json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)r->id, "reason", r->reason,
                          "created_at", mapd_json_time(r->created_at), "reporter",
                          *r->reporter_name ? json_pack("{s:s}", "display_name", r->reporter_name)
                                            : json_null());
    return json_array_append_new(l->arr, o) ? GEODATA_ENOMEM : 0;
}

/* GET /api/posts/{id}/reports[?after=ID]: the reasons given, for staff
 * deciding what to do with a reported post; oldest first, pages of at most
 * GEODATA_REPORTS_PAGE: {post, reports, more} and when more, next_after. */
enum MHD_Result mapd_api_post_reports(mapd_ctx *ctx)
{
    static const char *const known[] = { "after", NULL };
    const geodata_member *m = mapd_staff_or_reply(ctx, 0);
    long after;
    if (!m || mapd_known_args_or_reply(ctx, known) || mapd_cursor_arg_or_reply(ctx, "after", &after))
        return MHD_YES;
    geodata_post p;
    if (mapd_post_or_reply(ctx, m, &p))
        return MHD_YES;
    report_list l = { json_array(), 0 };
    int more = 0;
    int rc = l.arr ? geodata_post_reports(ctx->store, p.id, after, add_report, &l, &more)
                   : GEODATA_ENOMEM;
    if (rc) {
        json_decref(l.arr);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *doc = json_pack("{s:I, s:o}", "post", (json_int_t)p.id, "reports", l.arr);
    if (doc && mapd_page_tail(ctx, doc, more, "after", l.last, NULL, NULL)) {
        json_decref(doc);
        doc = NULL;
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, doc, NULL);
}

/* DELETE /api/posts/{id}/reports: staff dismiss a post's reports (it leaves
 * the moderation queue, its visibility unchanged); audited. */
enum MHD_Result mapd_api_post_reports_dismiss(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_staff_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    geodata_post p;
    if (mapd_post_or_reply(ctx, m, &p))
        return MHD_YES;
    int64_t n = 0;
    int rc = geodata_post_reports_dismiss(ctx->store, p.id, m->id, &n);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:I, s:I}", "post", (json_int_t)p.id,
                                                         "dismissed", (json_int_t)n), NULL);
}

static enum MHD_Result moderate(mapd_ctx *ctx, int hidden)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    if (!mapd_is_staff(m))
        return mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "staff only");
    int rc = geodata_post_set_hidden(ctx->store, ctx->id, m->id, hidden);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    posts_changed(ctx);
    return reply_post(ctx, MHD_HTTP_OK, m, ctx->id, NULL);
}

enum MHD_Result mapd_api_post_hide(mapd_ctx *ctx)
{
    return moderate(ctx, 1);
}

enum MHD_Result mapd_api_post_restore(mapd_ctx *ctx)
{
    return moderate(ctx, 0);
}
