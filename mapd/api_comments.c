/*
 * mapd/api_comments.c — public comments under posts over HTTP:
 * /api/posts/{id}/comments, /api/comments/{id} and the comment search.
 *
 * Who comments is who sees the post (mapd_post_id_or_reply: the audience
 * rule, the post's own people, staff); a comment on a post one may not see
 * answers 404 like the post. A comment shows its author's display name
 * only. Members add at most --comments-per-minute comments (429 beyond).
 * New comments go through the group-commit writer (writer.h), like new
 * posts; every other write brings the read model of posts up to the change
 * feed before the answer leaves, so the post's comment count in the next
 * list is right.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/comments.h"
#include "http.h"
#include "writer.h"

#define SEARCH_DEFAULT 50

/* A comment as the API's JSON object, as viewer sees it; with its post's
 * title when titled (search results). */
static json_t *comment_json(const geodata_comment *c, const geodata_member *viewer, int titled)
{
    json_t *o = json_pack("{s:I, s:I, s:s, s:{s:s}, s:b, s:o, s:o, s:b}", "id", (json_int_t)c->id,
                          "post_id", (json_int_t)c->post_id, "body", c->body,
                          "author", "display_name", c->author_name,
                          "mine", c->author_id && c->author_id == viewer->id,
                          "created_at", mapd_json_time(c->created_at),
                          "edited_at", mapd_json_time(c->edited_at), "hidden", c->hidden);
    if (o && mapd_is_staff(viewer) && json_object_set_new(o, "reports", json_integer(c->reports)))
        o = (json_decref(o), NULL);
    if (o && titled && json_object_set_new(o, "post", json_pack("{s:I, s:s}", "id",
                                           (json_int_t)c->post_id, "title", c->post_title)))
        o = (json_decref(o), NULL);
    return o;
}

/* After a committed write: the read model and the tiles catch up now. */
static void comments_changed(mapd_ctx *ctx)
{
    if (mapd_feed_sync(ctx->server->feed, ctx->store, ctx->now, MAPD_FEED_EXACT))
        fprintf(stderr, "mapd: following the change feed: %s\n", geodata_errmsg(ctx->store));
}

typedef struct comment_page {
    json_t *arr;
    const geodata_member *viewer;
    int titled;
} comment_page;

static int add_comment(void *arg, const geodata_comment *c)
{
    comment_page *p = arg;
    return json_array_append_new(p->arr, comment_json(c, p->viewer, p->titled)) ? GEODATA_ENOMEM : 0;
}

static enum MHD_Result reply_page(mapd_ctx *ctx, comment_page *p, int rc, int more)
{
    if (rc) {
        json_decref(p->arr);
        return mapd_problem_geodata(ctx, rc);
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:o, s:b}", "comments", p->arr,
                                                         "more", more), NULL);
}

/* GET /api/posts/{id}/comments[?after=ID]: {comments, more}, oldest first. */
enum MHD_Result mapd_api_post_comments(mapd_ctx *ctx)
{
    static const char *const known[] = { "after", NULL };
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    long after;
    geodata_post p;
    if (!m || mapd_known_args_or_reply(ctx, known)
        || mapd_long_arg_or_reply(ctx, "after", 0, LONG_MAX, 0, &after)
        || mapd_post_or_reply(ctx, m, &p))
        return MHD_YES;
    comment_page pg = { json_array(), m, 0 };
    int more = 0;
    int rc = pg.arr ? geodata_comments_of_post(ctx->store, p.id, after, m->id, mapd_is_staff(m),
                                               add_comment, &pg, &more)
                    : GEODATA_ENOMEM;
    return reply_page(ctx, &pg, rc, more);
}

/* The body field of a comment: trimmed, 1 to GEODATA_COMMENT_MAX bytes. */
static int body_or_reply(mapd_ctx *ctx, json_t *body, const char **text)
{
    return mapd_field_string_or_reply(ctx, body, "body",
                                      MAPD_FIELD_REQUIRED | MAPD_FIELD_MULTILINE | MAPD_FIELD_TRIM,
                                      GEODATA_COMMENT_MAX, text);
}

/* Answers with comment id as viewer sees it. */
static enum MHD_Result reply_comment(mapd_ctx *ctx, unsigned status, const geodata_member *m,
                                     int64_t id)
{
    geodata_comment c;
    int rc = geodata_comment_get(ctx->store, id, &c);
    return rc ? mapd_problem_geodata(ctx, rc)
              : mapd_respond_json(ctx, status, comment_json(&c, m, 0), NULL);
}

/* A new comment for the group-commit writer (writer.h). */
typedef struct comment_job {
    mapd_write_job base;               /* first: what the writer holds */
    json_t *json;                      /* the request body: owns text */
    geodata_member author;             /* for the reply */
    int64_t post_id, now;
    const char *text;
    int64_t id;                        /* out: the new comment */
} comment_job;

static int write_comment(mapd_write_job *job, geodata_store *store)
{
    comment_job *c = (comment_job *)job;
    return geodata_comment_add(store, c->post_id, c->author.id, c->text, c->now, &c->id);
}

static void free_comment_job(mapd_pool_job *job)
{
    comment_job *c = (comment_job *)job;
    json_decref(c->json);
    free(c);
}

/* Answers an add once its comment is written (or refused); frees the job.
 * The writer brings the follower up to date after each batch, so the
 * post's count in the next list is right. */
static enum MHD_Result comment_added(mapd_ctx *ctx, comment_job *c)
{
    int rc = mapd_write_job_result(ctx->store, &c->base);
    enum MHD_Result ret = rc ? mapd_problem_geodata(ctx, rc)
                             : reply_comment(ctx, MHD_HTTP_CREATED, &c->author, c->id);
    free_comment_job(&c->base.base);
    return ret;
}

/* POST /api/posts/{id}/comments {body}: 201 with the comment, once
 * committed through the group-commit writer. */
enum MHD_Result mapd_api_post_comment_add(mapd_ctx *ctx)
{
    mapd_write_job *done = mapd_write_done(ctx);
    if (done)
        return comment_added(ctx, (comment_job *)done);
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    char key[32];
    snprintf(key, sizeof key, "m%lld", (long long)m->id);
    if (ctx->server->comment_limit
        && !mapd_ratelimit_allow(ctx->server->comment_limit, ctx->store, key, (double)ctx->now))
        return mapd_problem(ctx, MHD_HTTP_TOO_MANY_REQUESTS, "Too Many Requests",
                            "too many comments in a minute; wait a little");
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *text;
    geodata_post p;
    comment_job *job = NULL;
    if (body_or_reply(ctx, body, &text) || mapd_post_or_reply(ctx, m, &p)) {
        json_decref(body);
        return MHD_YES;
    }
    if (!(job = calloc(1, sizeof *job))) {
        json_decref(body);
        return mapd_problem_geodata(ctx, GEODATA_ENOMEM);
    }
    *job = (comment_job){ .base = { .base = { .free = free_comment_job }, .write = write_comment },
                          .json = body, .author = *m, .post_id = p.id, .now = ctx->now,
                          .text = text };
    if (mapd_write_later(ctx, &job->base))
        return MHD_YES; /* answered by comment_added once committed */
    /* No writer (stopping): written here, in a transaction of its own. */
    job->base.rc = write_comment(&job->base, ctx->store);
    if (job->base.rc)
        snprintf(job->base.err, sizeof job->base.err, "%s", geodata_errmsg(ctx->store));
    else
        comments_changed(ctx);
    return comment_added(ctx, job);
}

/* Comment {id} of the path, when viewer may see its post; its author and
 * staff see it hidden too. 0, or -1 after a 404 or 503. */
static int comment_or_reply(mapd_ctx *ctx, const geodata_member *m, geodata_comment *c)
{
    int rc = geodata_comment_get(ctx->store, ctx->id, c);
    if (rc) {
        mapd_problem_geodata(ctx, rc);
        return -1;
    }
    if (c->hidden && !mapd_is_staff(m) && c->author_id != m->id) {
        mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such comment");
        return -1;
    }
    geodata_post p;
    return mapd_post_id_or_reply(ctx, m, c->post_id, &p);
}

/* PATCH /api/comments/{id} {body}: its author edits it; 200 with it. */
enum MHD_Result mapd_api_comment_edit(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    geodata_comment c;
    if (!m || comment_or_reply(ctx, m, &c))
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    enum MHD_Result ret = MHD_YES;
    const char *text;
    if (!body_or_reply(ctx, body, &text)) {
        int rc = geodata_comment_edit(ctx->store, c.id, m->id, text, ctx->now);
        if (!rc)
            comments_changed(ctx);
        ret = rc ? mapd_problem_geodata(ctx, rc) : reply_comment(ctx, MHD_HTTP_OK, m, c.id);
    }
    json_decref(body);
    return ret;
}

/* DELETE /api/comments/{id}: its author deletes it; 200 {id, deleted}. */
enum MHD_Result mapd_api_comment_delete(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    geodata_comment c;
    if (!m || comment_or_reply(ctx, m, &c))
        return MHD_YES;
    int rc = geodata_comment_delete(ctx->store, c.id, m->id);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    comments_changed(ctx);
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:I, s:b}", "id", (json_int_t)c.id,
                                                         "deleted", 1), NULL);
}

/* POST /api/comments/{id}/report [{reason}]: 201 {id, reported}. */
enum MHD_Result mapd_api_comment_report(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    geodata_comment c;
    if (!m || comment_or_reply(ctx, m, &c))
        return MHD_YES;
    const char *reason = NULL;
    json_t *body = NULL;
    if (ctx->req->body_len
        && (!(body = mapd_json_body_or_reply(ctx))
            || mapd_field_string_or_reply(ctx, body, "reason", MAPD_FIELD_MULTILINE | MAPD_FIELD_TRIM,
                                          GEODATA_COMMENT_REASON_MAX, &reason))) {
        json_decref(body);
        return MHD_YES;
    }
    int rc = geodata_comment_report(ctx->store, c.id, m->id, reason);
    json_decref(body);
    return rc ? mapd_problem_geodata(ctx, rc)
              : mapd_respond_json(ctx, MHD_HTTP_CREATED, json_pack("{s:I, s:b}", "id",
                                  (json_int_t)c.id, "reported", 1), NULL);
}

static enum MHD_Result moderate(mapd_ctx *ctx, int hidden)
{
    const geodata_member *m = mapd_staff_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    int rc = geodata_comment_set_hidden(ctx->store, ctx->id, m->id, hidden);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    comments_changed(ctx);
    return reply_comment(ctx, MHD_HTTP_OK, m, ctx->id);
}

/* POST /api/comments/{id}/hide and /restore: staff; 200 with the comment. */
enum MHD_Result mapd_api_comment_hide(mapd_ctx *ctx)
{
    return moderate(ctx, 1);
}

enum MHD_Result mapd_api_comment_restore(mapd_ctx *ctx)
{
    return moderate(ctx, 0);
}

/* GET /api/comments?q=WORDS | reported=1 [&limit=N][&before=ID]: {comments,
 * more}, newest first, each with its post's id and title: the comments of
 * the posts the viewer sees (staff: reported=1, the moderation queue). */
enum MHD_Result mapd_api_comments_search(mapd_ctx *ctx)
{
    static const char *const known[] = { "q", "reported", "limit", "before", NULL };
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m || mapd_known_args_or_reply(ctx, known))
        return MHD_YES;
    const geodata_audience *a = mapd_audience_or_reply(ctx);
    if (!a)
        return MHD_YES;
    geodata_comment_query q = { .audience = a };
    const char *v;
    if ((v = mapd_arg(ctx, "q"))) {
        if (strlen(v) > 200)
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "q is at most 200 bytes");
        q.keywords = v;
    }
    int reported;
    if (mapd_flag_arg_or_reply(ctx, "reported", &reported))
        return MHD_YES;
    if (reported) {
        if (!mapd_is_staff(m))
            return mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "reported=1 is for staff");
        q.reported = 1;
    }
    if (!q.keywords && !q.reported)
        return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "give q=WORDS (or, for staff, "
                            "reported=1)");
    q.with_hidden = mapd_is_staff(m);
    long n;
    if (mapd_long_arg_or_reply(ctx, "limit", 1, GEODATA_COMMENTS_PAGE, SEARCH_DEFAULT, &n))
        return MHD_YES;
    q.limit = (size_t)n;
    if (mapd_long_arg_or_reply(ctx, "before", 0, LONG_MAX, 0, &n))
        return MHD_YES;
    q.before = n;
    comment_page pg = { json_array(), m, 1 };
    int more = 0;
    int rc = pg.arr ? geodata_comments_search(ctx->store, &q, add_comment, &pg, &more)
                    : GEODATA_ENOMEM;
    return reply_page(ctx, &pg, rc, more);
}
