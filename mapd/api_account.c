/*
 * mapd/api_account.c — a member's own account: PATCH /api/me changes the
 * display name, the password or the home (verified again, as at
 * registration), DELETE /api/me deletes the account (geodata's
 * member_account.c says what stays and what goes).
 *
 * Changing the password or the home, and deleting, ask for the current
 * password: a session left open on a shared computer is not enough. That
 * check, and the new password's hash, run on the hashing threads.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http.h"


/* Hands the password work of the request (the current password checked
 * against the member's stored hash, a new one hashed) to the hashing
 * threads; the handler again is called once it has run. */
static enum MHD_Result password_later(mapd_ctx *ctx, json_t *body, int64_t id, const char *password,
                                      const char *new_password, mapd_handler again)
{
    mapd_password_job *job = mapd_password_job_new(body);
    if (!job)
        return mapd_problem_geodata(ctx, GEODATA_ENOMEM);
    int rc = geodata_member_password_hash(ctx->store, id, job->check_hash, sizeof job->check_hash);
    if (rc) {
        job->base.free(&job->base);
        return mapd_problem_geodata(ctx, rc);
    }
    /* A missing password is checked too (it fails): the answer takes as long. */
    job->check = password ? password : "";
    job->hash = new_password;
    return mapd_hash_later(ctx, &job->base, again);
}

/* 1 when the job's check passed and its hash (if any) was made; 0 after
 * queuing 403 or 503. */
static int password_done_or_reply(mapd_ctx *ctx, const mapd_password_job *job)
{
    if (!job->checked) {
        mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "'password' is not the current password");
        return 0;
    }
    if (job->hash && !job->hash_ok) {
        mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                     "cannot hash the password now; try again");
        return 0;
    }
    return 1;
}

static json_t *account_json(mapd_ctx *ctx, int64_t id)
{
    geodata_member m;
    if (geodata_member_get(ctx->store, id, &m))
        return NULL;
    return json_pack("{s:I, s:s, s:o}", "id", (json_int_t)m.id, "display_name", m.display_name,
                     "neighbourhood", *m.neighbourhood_id
                         ? json_pack("{s:s, s:s}", "id", m.neighbourhood_id, "name", m.neighbourhood_name)
                         : json_null());
}

/* PATCH /api/me. A change of password or home is read twice: first to
 * check it and hand the password work to the hashing threads, then, called
 * again with the job done, to apply it. */
enum MHD_Result mapd_api_me_update(mapd_ctx *ctx)
{
    mapd_password_job *job = (mapd_password_job *)mapd_pool_done(ctx);
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    json_t *body = !m ? NULL : job ? json_incref(job->body) : mapd_json_body_or_reply(ctx);
    if (!body) {
        if (job)
            job->base.free(&job->base);
        return MHD_YES;
    }
    enum MHD_Result ret = MHD_YES;
    const char *name, *password, *new_password, *address;
    if (mapd_field_string_or_reply(ctx, body, "display_name", MAPD_FIELD_OPTIONAL, GEODATA_NAME_MAX, &name)
        || mapd_field_string_or_reply(ctx, body, "password", MAPD_FIELD_OPTIONAL, MAPD_PASSWORD_MAX, &password)
        || mapd_field_string_or_reply(ctx, body, "new_password", MAPD_FIELD_OPTIONAL, MAPD_PASSWORD_MAX,
                                      &new_password)
        || mapd_field_string_or_reply(ctx, body, "address", MAPD_FIELD_OPTIONAL, MAPD_ADDRESS_MAX, &address))
        goto out;
    if (!name && !new_password && !address) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "give 'display_name', 'new_password' or 'address'");
        goto out;
    }
    if (name && !*name) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "'display_name' is empty");
        goto out;
    }
    if (new_password && mapd_password_length_or_reply(ctx, "new_password", new_password))
        goto out;
    if ((new_password || address) && !job) {
        ret = password_later(ctx, body, m->id, password, new_password, mapd_api_me_update);
        goto out;
    }
    if (job && !password_done_or_reply(ctx, job))
        goto out;
    geodata_member_change c = { .display_name = name };
    if (new_password)
        c.password_hash = job->hashed;
    geodata_geocode_result res[MAPD_VERIFY_RESULTS];
    geodata_new_member home = { 0 };
    if (address) {
        /* A new home is verified as at registration. */
        if (mapd_home_or_reply(ctx, address, res, &home))
            goto out;
        c.home = &home;
    }
    int rc = geodata_member_update(ctx->store, m->id, &c);
    ret = rc ? mapd_problem_geodata(ctx, rc)
             : mapd_respond_json(ctx, MHD_HTTP_OK, account_json(ctx, m->id), NULL);
out:
    if (job)
        job->base.free(&job->base);
    json_decref(body);
    return ret;
}

/* DELETE /api/me: the password checked by the hashing threads, then,
 * called again, the account deleted. */
enum MHD_Result mapd_api_me_delete(mapd_ctx *ctx)
{
    mapd_password_job *job = (mapd_password_job *)mapd_pool_done(ctx);
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    json_t *body = !m ? NULL : job ? json_incref(job->body) : mapd_json_body_or_reply(ctx);
    if (!body) {
        if (job)
            job->base.free(&job->base);
        return MHD_YES;
    }
    enum MHD_Result ret = MHD_YES;
    const char *password;
    if (mapd_field_string_or_reply(ctx, body, "password", MAPD_FIELD_REQUIRED, MAPD_PASSWORD_MAX, &password))
        goto out;
    if (!job) {
        ret = password_later(ctx, body, m->id, password, NULL, mapd_api_me_delete);
        goto out;
    }
    if (!password_done_or_reply(ctx, job))
        goto out;
    if (mapd_is_staff(m)) {
        ret = mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden",
                           "staff accounts are removed by an administrator");
        goto out;
    }
    int rc = geodata_member_delete(ctx->store, m->id, ctx->now);
    if (rc) {
        ret = mapd_problem_geodata(ctx, rc);
        goto out;
    }
    char cookie[256];
    mapd_session_end(ctx, cookie);  /* the session row is already gone with the account */
    ret = mapd_respond_cookie(ctx, MHD_HTTP_NO_CONTENT, NULL, cookie);
out:
    if (job)
        job->base.free(&job->base);
    json_decref(body);
    return ret;
}
