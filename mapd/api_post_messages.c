/*
 * mapd/api_post_messages.c — the private conversation of a claimed post over
 * HTTP: GET and POST /api/posts/{id}/messages.
 *
 * Who takes part is the store's rule (geodata_post_thread): the post's
 * author and the volunteer holding the claim; staff read, never write, and
 * only once the post has been reported; anyone else who may see the post
 * gets 403, anyone who may not, 404. The two people reach each other here
 * without exchanging a phone number or an email address.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* A message as the API's JSON object, as viewer sees it. */
static json_t *message_json(const geodata_post_message *m, int64_t post_id, int64_t viewer)
{
    return json_pack("{s:I, s:I, s:{s:s}, s:b, s:s, s:o}", "id", (json_int_t)m->id,
                     "post_id", (json_int_t)post_id, "author", "display_name", m->author_name,
                     "mine", m->author_id == viewer, "body", m->body,
                     "created_at", mapd_json_time(m->created_at));
}

typedef struct thread_page {
    json_t *arr;
    int64_t post_id, viewer;
} thread_page;

static int add_message(void *arg, const geodata_post_message *m)
{
    thread_page *pg = arg;
    return json_array_append_new(pg->arr, message_json(m, pg->post_id, pg->viewer)) ? GEODATA_ENOMEM : 0;
}

/* The display name of the other side of the thread for viewer, or NULL. */
static json_t *other_side(mapd_ctx *ctx, const geodata_post *p, int64_t viewer)
{
    int64_t other = p->author_id == viewer ? p->claimed_by : p->claimed_by == viewer ? p->author_id : 0;
    geodata_member o;
    if (!other || geodata_member_get(ctx->store, other, &o) != GEODATA_OK)
        return json_null();
    return json_pack("{s:s}", "display_name", o.display_name);
}

/* GET /api/posts/{id}/messages[?after=ID]: the thread, oldest first, at most
 * GEODATA_MESSAGES_PAGE messages after ID ("more" says whether others
 * follow). Work: one indexed range of the store. */
enum MHD_Result mapd_api_post_messages(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m)
        return MHD_YES;
    long after;
    if (mapd_long_arg_or_reply(ctx, "after", 0, LONG_MAX, 0, &after))
        return MHD_YES;
    geodata_post p;
    if (mapd_post_or_reply(ctx, m, &p))
        return MHD_YES;
    int64_t claimer;
    int rc = geodata_post_thread(ctx->store, &p, m->id, mapd_is_staff(m), 0, &claimer);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    thread_page pg = { json_array(), p.id, m->id };
    int more = 0;
    rc = pg.arr ? geodata_post_messages(ctx->store, p.id, claimer, after, add_message, &pg, &more)
                : GEODATA_ENOMEM;
    if (rc) {
        json_decref(pg.arr);
        return mapd_problem_geodata(ctx, rc);
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK,
                             json_pack("{s:o, s:o, s:b}", "messages", pg.arr,
                                       "with", other_side(ctx, &p, m->id), "more", more),
                             NULL);
}

/* POST /api/posts/{id}/messages {"body"}: 201 with the message. The body is
 * trimmed and holds 1 to GEODATA_MESSAGE_MAX bytes. */
enum MHD_Result mapd_api_post_message_add(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    enum MHD_Result ret = MHD_YES;
    const char *text;
    geodata_post p;
    if (mapd_field_string_or_reply(ctx, body, "body",
                                   MAPD_FIELD_REQUIRED | MAPD_FIELD_MULTILINE | MAPD_FIELD_TRIM,
                                   GEODATA_MESSAGE_MAX, &text)
        || mapd_post_or_reply(ctx, m, &p))
        goto out;
    geodata_post_message msg = { .author_id = m->id, .created_at = ctx->now };
    int rc = geodata_post_message_add(ctx->store, &p, m->id, text, ctx->now, &msg.id);
    if (!rc) {
        snprintf(msg.author_name, sizeof msg.author_name, "%s", m->display_name);
        snprintf(msg.body, sizeof msg.body, "%s", text);
    }
    ret = rc ? mapd_problem_geodata(ctx, rc)
             : mapd_respond_json(ctx, MHD_HTTP_CREATED, message_json(&msg, p.id, m->id), NULL);
out:
    json_decref(body);
    return ret;
}
