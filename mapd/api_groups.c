/*
 * mapd/api_groups.c — thematic groups over HTTP: /api/groups and a group's
 * members and posts.
 *
 * Who sees a group is the audience rule (geodata/audience.h) applied to the
 * group's neighbourhood: members of it and of the contiguous ones, staff
 * all; anyone else gets 404, as if it did not exist — except a join, which
 * answers 403 for a group that exists outside the member's area (the
 * member asked for it by id and is told why not). Anonymous visitors get
 * 401. A group shows display names only. Posts addressed to a group are
 * created by POST /api/posts ("group"), listed by GET /api/posts?group=ID
 * (api_posts.c).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/groups.h"
#include "http.h"
#include "paging.h"

#define LIST_DEFAULT 50
#define OFFSET_MAX 10000   /* of the list by size; every group: after=ID, by id */

/* A group as the API's JSON object, as viewer (staff or not) sees it. */
static json_t *group_json(mapd_ctx *ctx, const geodata_group *g, const geodata_member *viewer)
{
    int threshold = ctx->server->group_threshold;
    int staff = mapd_is_staff(viewer);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:i, s:{s:s, s:s}, s:{s:s}, s:o, s:o, s:b, "
                     "s:b}",
                     "id", (json_int_t)g->id, "name", g->name, "description", g->description,
                     "category", g->category, "status", g->activated_at ? "active" : "forming",
                     "member_count", (json_int_t)g->member_count, "threshold", threshold,
                     "neighbourhood", "id", g->neighbourhood_id, "name", g->neighbourhood_name,
                     "creator", "display_name", g->creator_name,
                     "created_at", mapd_json_time(g->created_at),
                     "activated_at", mapd_json_time(g->activated_at),
                     "joined", g->joined,
                     "moderator", staff || (g->creator_id && g->creator_id == viewer->id));
}

/* Answers with group id as the viewer now sees it (status 200 or 201). */
static enum MHD_Result reply_group(mapd_ctx *ctx, unsigned status, const geodata_member *m,
                                   const geodata_audience *a, int64_t id)
{
    geodata_group g;
    int rc = geodata_group_get(ctx->store, id, a, m->id, &g);
    return rc ? mapd_problem_geodata(ctx, rc) : mapd_respond_json(ctx, status, group_json(ctx, &g, m), NULL);
}

/* The viewer and their audience; NULL after a reply. */
static const geodata_member *viewer_or_reply(mapd_ctx *ctx, int csrf, const geodata_audience **a)
{
    const geodata_member *m = mapd_member_or_reply(ctx, csrf);
    if (m && !(*a = mapd_audience_or_reply(ctx)))
        return NULL;
    return m;
}

/* POST /api/groups {name, description, category}: 201 with the group, the
 * creator its first member. */
enum MHD_Result mapd_api_group_create(mapd_ctx *ctx)
{
    const geodata_audience *a;
    const geodata_member *m = viewer_or_reply(ctx, 1, &a);
    if (!m)
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    enum MHD_Result ret = MHD_YES;
    const char *name, *description, *category;
    if (mapd_field_string_or_reply(ctx, body, "name", MAPD_FIELD_REQUIRED | MAPD_FIELD_TRIM,
                                   GEODATA_GROUP_NAME_MAX, &name)
        || mapd_field_string_or_reply(ctx, body, "description",
                                      MAPD_FIELD_MULTILINE | MAPD_FIELD_TRIM,
                                      GEODATA_GROUP_DESCRIPTION_MAX, &description)
        || mapd_field_string_or_reply(ctx, body, "category", MAPD_FIELD_REQUIRED, 16, &category))
        goto out;
    if (!geodata_group_category_valid(category)) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "'category' is one of food, environment, education, culture, sport, "
                           "solidarity, health, other");
        goto out;
    }
    int64_t id;
    int rc = geodata_group_create(ctx->store, m->id, name, description ? description : "", category,
                                  ctx->now, ctx->server->group_threshold, &id);
    ret = rc ? mapd_problem_geodata(ctx, rc) : reply_group(ctx, MHD_HTTP_CREATED, m, a, id);
out:
    json_decref(body);
    return ret;
}

typedef struct group_list {
    mapd_ctx *ctx;
    const geodata_member *viewer;
    json_t *arr;
    int64_t last;          /* the id of the last group added: the next page's cursor */
} group_list;

static int add_group(void *arg, const geodata_group *g)
{
    group_list *l = arg;
    l->last = g->id;
    return json_array_append_new(l->arr, group_json(l->ctx, g, l->viewer)) ? GEODATA_ENOMEM : 0;
}

/* GET /api/groups[?near=LON,LAT][&mine=1][&category=C][&limit=N][&offset=K]:
 * {groups, more}, most members first, and next_offset while the next page
 * is within OFFSET_MAX. With after=ID (0: from the first) instead of
 * offset, by id: an order joins do not change, to any depth, with
 * next_after when more (paging.h). */
enum MHD_Result mapd_api_groups_list(mapd_ctx *ctx)
{
    static const char *const known[] = { "near", "mine", "category", "limit", "offset", "after",
                                         NULL };
    const geodata_audience *a;
    const geodata_member *m = viewer_or_reply(ctx, 0, &a);
    if (!m || mapd_known_args_or_reply(ctx, known))
        return MHD_YES;
    geodata_group_query q = { .audience = a, .viewer = m->id };
    const char *v = mapd_arg(ctx, "near");
    double pt[2];
    if (v) {
        if (!mapd_parse_numbers(v, pt, 2) || pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90)
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "near is LON,LAT in degrees");
        q.near = 1;
        q.lon = pt[0];
        q.lat = pt[1];
    }
    if ((v = mapd_arg(ctx, "mine"))) {
        if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0)
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "mine is 1 or 0");
        q.mine = strcmp(v, "1") == 0;
    }
    if ((v = mapd_arg(ctx, "category")) && !geodata_group_category_valid(v))
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "unknown group category");
    q.category = v;
    long n;
    if (mapd_long_arg_or_reply(ctx, "limit", 1, GEODATA_GROUPS_PAGE, LIST_DEFAULT, &n))
        return MHD_YES;
    q.limit = (size_t)n;
    if (mapd_cursor_arg_or_reply(ctx, "after", &n))
        return MHD_YES;
    q.by_id = mapd_arg(ctx, "after") != NULL;
    q.after = n;
    if (mapd_offset_arg_or_reply(ctx, OFFSET_MAX, "after", &n))
        return MHD_YES;
    q.offset = (size_t)n;
    group_list l = { ctx, m, json_array(), 0 };
    int more = 0;
    int rc = l.arr ? geodata_groups_list(ctx->store, &q, add_group, &l, &more) : GEODATA_ENOMEM;
    if (rc) {
        json_decref(l.arr);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *doc = json_pack("{s:o}", "groups", l.arr);
    size_t next = q.offset + q.limit;
    if (doc && (q.by_id ? mapd_page_tail(ctx, doc, more, "after", l.last, NULL, NULL)
                        : json_object_set_new(doc, "more", json_boolean(more))
                          || (more && next <= OFFSET_MAX
                              && json_object_set_new(doc, "next_offset", json_integer((json_int_t)next))))) {
        json_decref(doc);
        doc = NULL;
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, doc, NULL);
}

/* GET /api/groups/{id}: the group, 404 to those who may not see it. */
enum MHD_Result mapd_api_group_get(mapd_ctx *ctx)
{
    const geodata_audience *a;
    const geodata_member *m = viewer_or_reply(ctx, 0, &a);
    return m ? reply_group(ctx, MHD_HTTP_OK, m, a, ctx->id) : MHD_YES;
}

/* POST /api/groups/{id}/members: the viewer joins; 200 with the group. */
enum MHD_Result mapd_api_group_join(mapd_ctx *ctx)
{
    const geodata_audience *a;
    const geodata_member *m = viewer_or_reply(ctx, 1, &a);
    if (!m)
        return MHD_YES;
    int rc = geodata_group_join(ctx->store, ctx->id, m->id, a, ctx->now,
                                ctx->server->group_threshold);
    return rc ? mapd_problem_geodata(ctx, rc) : reply_group(ctx, MHD_HTTP_OK, m, a, ctx->id);
}

/* The last segment of the path: "me" (*id 0) or a member id. 0, or -1
 * after a 404. */
static int member_of_path(mapd_ctx *ctx, int64_t *id)
{
    const char *s = strrchr(ctx->url, '/') + 1;
    *id = 0;
    if (strcmp(s, "me") == 0)
        return 0;
    char *end;
    long long v = (*s >= '1' && *s <= '9') ? strtoll(s, &end, 10) : 0;
    if (v <= 0 || *end || v == LLONG_MAX) {
        mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such member in this group");
        return -1;
    }
    *id = v;
    return 0;
}

/* DELETE /api/groups/{id}/members/me: the viewer leaves (200, the group).
 * DELETE /api/groups/{id}/members/{member}: a moderator removes a member
 * (200, the group). */
enum MHD_Result mapd_api_group_member_delete(mapd_ctx *ctx)
{
    const geodata_audience *a;
    const geodata_member *m = viewer_or_reply(ctx, 1, &a);
    int64_t who;
    if (!m || member_of_path(ctx, &who))
        return MHD_YES;
    geodata_group g;
    int rc = geodata_group_get(ctx->store, ctx->id, a, m->id, &g);
    if (!rc && who == 0)
        rc = geodata_group_leave(ctx->store, ctx->id, m->id);
    else if (!rc)
        rc = geodata_group_remove_member(ctx->store, ctx->id, m->id, mapd_is_staff(m), who);
    return rc ? mapd_problem_geodata(ctx, rc) : reply_group(ctx, MHD_HTTP_OK, m, a, ctx->id);
}

typedef struct member_page {
    json_t *arr;
    int64_t creator;
} member_page;

static int add_member(void *arg, const geodata_group_member *gm)
{
    member_page *p = arg;
    json_t *o = json_pack("{s:I, s:s, s:o, s:b}", "id", (json_int_t)gm->id, "display_name",
                          gm->display_name, "joined_at", mapd_json_time(gm->joined_at),
                          "creator", gm->id == p->creator);
    return json_array_append_new(p->arr, o) ? GEODATA_ENOMEM : 0;
}

/* GET /api/groups/{id}/members[?after=ID]: {members, more}, by id, display
 * names only. */
enum MHD_Result mapd_api_group_members(mapd_ctx *ctx)
{
    static const char *const known[] = { "after", NULL };
    const geodata_audience *a;
    const geodata_member *m = viewer_or_reply(ctx, 0, &a);
    long after;
    if (!m || mapd_known_args_or_reply(ctx, known)
        || mapd_long_arg_or_reply(ctx, "after", 0, LONG_MAX, 0, &after))
        return MHD_YES;
    geodata_group g;
    int rc = geodata_group_get(ctx->store, ctx->id, a, m->id, &g);
    member_page p = { json_array(), g.creator_id };
    int more = 0;
    if (!rc)
        rc = p.arr ? geodata_group_members(ctx->store, ctx->id, after, add_member, &p, &more)
                   : GEODATA_ENOMEM;
    if (rc) {
        json_decref(p.arr);
        return mapd_problem_geodata(ctx, rc);
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:o, s:b}", "members", p.arr, "more", more),
                             NULL);
}

/* DELETE /api/groups/{id}/posts/{post}: a moderator takes a post out of the
 * group; 200 {group, post}. */
enum MHD_Result mapd_api_group_post_remove(mapd_ctx *ctx)
{
    const geodata_audience *a;
    const geodata_member *m = viewer_or_reply(ctx, 1, &a);
    int64_t post;
    if (!m || member_of_path(ctx, &post))
        return MHD_YES;
    if (!post)
        return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such post in this group");
    geodata_group g;
    int rc = geodata_group_get(ctx->store, ctx->id, a, m->id, &g);
    if (!rc)
        rc = geodata_group_remove_post(ctx->store, ctx->id, m->id, mapd_is_staff(m), post);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    mapd_feed_sync(ctx->server->feed, ctx->store, ctx->now, MAPD_FEED_EXACT);
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:I, s:I}", "group", (json_int_t)ctx->id,
                                                         "post", (json_int_t)post), NULL);
}
