/*
 * mapd/api_password_reset.c — a forgotten password.
 *
 *   POST /api/password-resets            {"email"}: 202 whether or not an
 *                                        account has this email (nobody
 *                                        learns who is registered)
 *   GET  /api/password-resets            staff: the live links to pass on (of
 *                                        members and shop accounts; an admin
 *                                        also sees staff and admin accounts')
 *   POST /api/password-resets/complete   {"token", "new_password"}: the new
 *                                        password; every session of the
 *                                        account ends
 *
 * The service cannot send mail yet, so the link is shown to staff, who pass
 * it on to the member by a channel they trust (in person, by phone) once
 * they know who is asking. A link sets a password, so staff never read the
 * link of a staff or admin account: only an admin does. The link is "/#reset=TOKEN": a URL fragment,
 * which browsers never send to a server nor in a Referer. A link lives
 * MAPD_RESET_TTL_S; a new request replaces the previous link. Requests and
 * completions share the login rate limit per client address.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "http.h"
#include "paging.h"

#define MAPD_RESET_TTL_S (24 * 3600)   /* time for staff to reach the member */

enum MHD_Result mapd_api_password_reset_request(mapd_ctx *ctx)
{
    if (mapd_auth_limited_or_reply(ctx))
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    enum MHD_Result ret = MHD_YES;
    const char *email;
    if (mapd_field_string_or_reply(ctx, body, "email", MAPD_FIELD_REQUIRED, GEODATA_EMAIL_MAX, &email))
        goto out;
    geodata_member m;
    char hash[crypto_pwhash_STRBYTES];
    int rc = geodata_member_by_email(ctx->store, email, &m, hash, sizeof hash);
    if (!rc && *hash) {   /* a deleted account has no password, and no reset */
        char token[MAPD_SECRET_LEN];
        unsigned char h[32];
        mapd_secret_new(token, h);
        rc = geodata_password_reset_create(ctx->store, m.id, h, token, ctx->now, ctx->now + MAPD_RESET_TTL_S);
        sodium_memzero(token, sizeof token);
    }
    if (rc && rc != GEODATA_ENOTFOUND) {
        ret = mapd_problem_geodata(ctx, rc);
        goto out;
    }
    ret = mapd_respond_json(ctx, MHD_HTTP_ACCEPTED, json_pack("{s:s}", "status", "requested"), NULL);
out:
    json_decref(body);
    return ret;
}

typedef struct reset_list {
    json_t *arr;
    int64_t last;          /* the id of the last link added: the next page's cursor */
} reset_list;

static int add_reset(void *arg, const geodata_password_reset *r)
{
    reset_list *l = arg;
    l->last = r->id;
    char link[16 + sizeof r->token];
    snprintf(link, sizeof link, "/#reset=%s", r->token);
    json_t *o = json_pack("{s:I, s:{s:I, s:s, s:s}, s:s, s:o, s:o}", "id", (json_int_t)r->id,
                          "member", "id", (json_int_t)r->member_id, "display_name", r->display_name,
                          "email", r->email, "link", link, "created_at", mapd_json_time(r->created_at),
                          "expires_at", mapd_json_time(r->expires_at));
    return json_array_append_new(l->arr, o) ? GEODATA_ENOMEM : 0;
}

/* GET /api/password-resets[?limit=N][&before=ID]: staff, the live links,
 * newest first, pages of at most GEODATA_RESETS_PAGE: {resets, more} and
 * when more, next_before (paging.h). */
enum MHD_Result mapd_api_password_resets(mapd_ctx *ctx)
{
    static const char *const known[] = { "limit", "before", NULL };
    const geodata_member *m = mapd_staff_or_reply(ctx, 0);
    long limit, before;
    if (!m || mapd_known_args_or_reply(ctx, known)
        || mapd_long_arg_or_reply(ctx, "limit", 1, GEODATA_RESETS_PAGE, GEODATA_RESETS_PAGE, &limit)
        || mapd_cursor_arg_or_reply(ctx, "before", &before))
        return MHD_YES;
    reset_list l = { json_array(), 0 };
    int admin = strcmp(m->role, "admin") == 0, more = 0;
    int rc = l.arr ? geodata_password_resets(ctx->store, ctx->now, admin, before, (size_t)limit,
                                             add_reset, &l, &more)
                   : GEODATA_ENOMEM;
    if (rc) {
        json_decref(l.arr);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *doc = json_pack("{s:o}", "resets", l.arr);
    if (doc && mapd_page_tail(ctx, doc, more, "before", l.last, NULL, NULL)) {
        json_decref(doc);
        doc = NULL;
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, doc, NULL);
}

/* POST /api/password-resets/complete: the new password hashed by the
 * hashing threads, then, called again, the reset used. */
enum MHD_Result mapd_api_password_reset_complete(mapd_ctx *ctx)
{
    mapd_password_job *job = (mapd_password_job *)mapd_pool_done(ctx);
    if (!job && mapd_auth_limited_or_reply(ctx))
        return MHD_YES;
    json_t *body = job ? json_incref(job->body) : mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    enum MHD_Result ret = MHD_YES;
    const char *token, *password;
    if (mapd_field_string_or_reply(ctx, body, "token", MAPD_FIELD_REQUIRED, MAPD_SECRET_LEN - 1, &token)
        || mapd_field_string_or_reply(ctx, body, "new_password", MAPD_FIELD_REQUIRED, MAPD_PASSWORD_MAX,
                                      &password))
        goto out;
    if (mapd_password_length_or_reply(ctx, "new_password", password))
        goto out;
    if (!job) {
        if (!(job = mapd_password_job_new(body))) {
            ret = mapd_problem_geodata(ctx, GEODATA_ENOMEM);
            goto out;
        }
        job->hash = password;
        mapd_pool_job *later = &job->base;
        job = NULL; /* the pool's, or freed by mapd_hash_later */
        ret = mapd_hash_later(ctx, later, mapd_api_password_reset_complete);
        goto out;
    }
    if (!job->hash_ok) {
        ret = mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                           "cannot hash the password now; try again");
        goto out;
    }
    unsigned char h[32];
    mapd_secret_hash(token, h);
    int64_t id = 0;
    int rc = geodata_password_reset_use(ctx->store, h, job->hashed, ctx->now, &id);
    geodata_member m;
    if (!rc)
        rc = geodata_member_get(ctx->store, id, &m);
    ret = rc ? mapd_problem_geodata(ctx, rc)
             : mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)m.id,
                                                           "display_name", m.display_name,
                                                           "email", m.email), NULL);
out:
    if (job)
        job->base.free(&job->base);
    json_decref(body);
    return ret;
}
