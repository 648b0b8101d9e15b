/*
 * mapd/api_members.c — registration, login, logout and /api/me.
 *
 * Registration runs the address through the geocoder and its verification
 * rule (geodata_geocode_verify); anything short of a verified address is a
 * 422 that says why (address_check.c), and nothing is stored. Logins and
 * registrations are rate-limited per client address (--auth-per-minute);
 * logins also per account, whoever tries them: ten attempts, then one per
 * 60 / --account-per-hour minutes, and a login that succeeds fills the
 * account's bucket again. So guessing one account's password from many
 * addresses is paced, and the most an attacker can do to the real member is
 * to make a login wait for the next attempt (docs/security.md).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "geodata/neighbourhoods.h"
#include "http.h"
#include "pool.h"


int mapd_auth_limited_or_reply(mapd_ctx *ctx)
{
    char addr[MAPD_CLIENT_ADDRESS_LEN];
    mapd_client_address(ctx, addr);
    if (mapd_ratelimit_allow(ctx->server->auth_limit, ctx->store, addr, (double)ctx->now))
        return 0;
    mapd_problem(ctx, MHD_HTTP_TOO_MANY_REQUESTS, "Too Many Requests",
                 "too many attempts from this address; wait a minute");
    return -1;
}

/* The account's key in the per-account limit: a hash of the email as the
 * store compares it (ASCII case folded), so no address is kept in memory. */
#define ACCOUNT_KEY_LEN 33
static void account_key(const char *email, char key[ACCOUNT_KEY_LEN])
{
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    for (const char *p = email; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        crypto_generichash_update(&st, &c, 1);
    }
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(key, ACCOUNT_KEY_LEN, h, sizeof h);
}

static json_t *neighbourhood_json(const char *id, const char *name)
{
    return (id && *id) ? json_pack("{s:s, s:s}", "id", id, "name", name) : json_null();
}

static int plausible_email(const char *e)
{
    const char *at = strchr(e, '@');
    return at && at != e && strchr(at + 1, '.') && !strchr(at + 1, '@') && !strpbrk(e, " \t\"<>,;");
}

/* A registration waiting for its password's hash. */
typedef struct register_job {
    mapd_pool_job base;                /* first: what the pool holds */
    json_t *body;                      /* owns the strings of m and password */
    const char *password;
    geodata_geocode_result res[MAPD_VERIFY_RESULTS]; /* the home found: m points into it */
    geodata_new_member m;
    char hash[MAPD_HASH_LEN];
    int hashed;                        /* out: hash holds the password's hash */
} register_job;

static void hash_registration(mapd_pool_job *job)
{
    register_job *r = (register_job *)job;
    r->hashed = mapd_hash_password(r->password, r->hash, sizeof r->hash) == 0;
}

static void free_register_job(mapd_pool_job *job)
{
    register_job *r = (register_job *)job;
    json_decref(r->body);
    free(r);
}

/* The registration, once its password is hashed: the account created. */
static enum MHD_Result registered(mapd_ctx *ctx, mapd_pool_job *job)
{
    register_job *r = (register_job *)job;
    enum MHD_Result ret;
    int64_t id = 0;
    int rc = 0;
    r->m.password_hash = r->hash;
    if (!r->hashed)
        ret = mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                           "cannot hash the password now; try again");
    else if ((rc = geodata_member_create(ctx->store, &r->m, &id)))
        ret = mapd_problem_geodata(ctx, rc);
    else
        ret = mapd_respond_json(ctx, MHD_HTTP_CREATED,
                                json_pack("{s:I, s:s, s:o}", "id", (json_int_t)id, "display_name",
                                          r->m.display_name, "neighbourhood",
                                          neighbourhood_json(r->res[0].neighbourhood_id,
                                                             r->res[0].neighbourhood_name)),
                                NULL);
    free_register_job(job);
    return ret;
}

/* POST /api/members: the fields checked, the home verified, then the
 * password hashed by the hashing threads (registered() answers). */
enum MHD_Result mapd_api_register(mapd_ctx *ctx)
{
    mapd_pool_job *done = mapd_pool_done(ctx);
    if (done)
        return registered(ctx, done);
    if (mapd_auth_limited_or_reply(ctx))
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *email, *password, *name, *address;
    enum MHD_Result ret = MHD_YES;
    register_job *job = NULL;
    if (mapd_field_string_or_reply(ctx, body, "email", MAPD_FIELD_REQUIRED, GEODATA_EMAIL_MAX, &email)
        || mapd_field_string_or_reply(ctx, body, "password", MAPD_FIELD_REQUIRED, MAPD_PASSWORD_MAX, &password)
        || mapd_field_string_or_reply(ctx, body, "display_name", MAPD_FIELD_REQUIRED, GEODATA_NAME_MAX, &name)
        || mapd_field_string_or_reply(ctx, body, "address", MAPD_FIELD_REQUIRED, MAPD_ADDRESS_MAX, &address))
        goto out;
    if (!plausible_email(email)) {
        ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                           "'email' is not an email address");
        goto out;
    }
    if (mapd_password_length_or_reply(ctx, "password", password))
        goto out;
    if (!(job = calloc(1, sizeof *job))) {
        ret = mapd_problem_geodata(ctx, GEODATA_ENOMEM);
        goto out;
    }
    job->m = (geodata_new_member){ .email = email, .display_name = name, .role = "member" };
    if (mapd_home_or_reply(ctx, address, job->res, &job->m)) {
        free(job);
        goto out;
    }
    job->base = (mapd_pool_job){ .run = hash_registration, .free = free_register_job };
    job->body = body;
    job->password = password;
    return mapd_hash_later(ctx, &job->base, mapd_api_register);
out:
    json_decref(body);
    return ret;
}

static char dummy[crypto_pwhash_STRBYTES];   /* written once, under dummy_once */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    mapd_hash_password("not anybody's password", dummy, sizeof dummy);
}

/* A login waiting for its password's check. */
typedef struct login_job {
    mapd_pool_job base;                /* first: what the pool holds */
    json_t *body;                      /* owns password */
    const char *password;
    char account[ACCOUNT_KEY_LEN];     /* its key in the per-account limit */
    int known;                         /* the email has an account */
    geodata_member member;
    char hash[crypto_pwhash_STRBYTES]; /* the account's, or the dummy's */
    int ok;                            /* out: the password is the account's */
} login_job;

static void check_login(mapd_pool_job *job)
{
    login_job *l = (login_job *)job;
    l->ok = mapd_check_password(l->hash, l->password) && l->known;
}

static void free_login_job(mapd_pool_job *job)
{
    login_job *l = (login_job *)job;
    json_decref(l->body);
    free(l);
}

/* The login, once its password is checked: a session, or 401. */
static enum MHD_Result logged_in(mapd_ctx *ctx, mapd_pool_job *job)
{
    login_job *l = (login_job *)job;
    enum MHD_Result ret;
    char csrf[65], cookie[256];
    int rc;
    if (!l->ok)
        ret = mapd_problem(ctx, MHD_HTTP_UNAUTHORIZED, "Unauthorized", "wrong email or password");
    else if ((rc = mapd_session_start(ctx, l->member.id, csrf, cookie)))
        ret = mapd_problem_geodata(ctx, rc);
    else {
        mapd_ratelimit_forget(ctx->server->account_limit, ctx->store, l->account);
        ret = mapd_respond_cookie(ctx, MHD_HTTP_OK,
                                  json_pack("{s:s, s:I, s:s, s:s}", "csrf", csrf, "id",
                                            (json_int_t)l->member.id, "display_name",
                                            l->member.display_name, "role", l->member.role),
                                  cookie);
    }
    free_login_job(job);
    return ret;
}

/* POST /api/session: the account read, then the password checked by the
 * hashing threads (logged_in() answers). An unknown email costs the same
 * check as a wrong password. */
enum MHD_Result mapd_api_login(mapd_ctx *ctx)
{
    mapd_pool_job *done = mapd_pool_done(ctx);
    if (done)
        return logged_in(ctx, done);
    if (mapd_auth_limited_or_reply(ctx))
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *email, *password;
    enum MHD_Result ret = MHD_YES;
    login_job *job = NULL;
    if (mapd_field_string_or_reply(ctx, body, "email", MAPD_FIELD_REQUIRED, GEODATA_EMAIL_MAX, &email)
        || mapd_field_string_or_reply(ctx, body, "password", MAPD_FIELD_REQUIRED, MAPD_PASSWORD_MAX, &password))
        goto out;
    char account[ACCOUNT_KEY_LEN];
    account_key(email, account);
    if (!mapd_ratelimit_allow(ctx->server->account_limit, ctx->store, account, (double)ctx->now)) {
        ret = mapd_problem(ctx, MHD_HTTP_TOO_MANY_REQUESTS, "Too Many Requests",
                           "too many attempts for this account; try again in a few minutes, "
                           "or reset the password");
        goto out;
    }
    if (!(job = calloc(1, sizeof *job))) {
        ret = mapd_problem_geodata(ctx, GEODATA_ENOMEM);
        goto out;
    }
    memcpy(job->account, account, sizeof account);
    int rc = geodata_member_by_email(ctx->store, email, &job->member, job->hash, sizeof job->hash);
    if (rc && rc != GEODATA_ENOTFOUND) {
        free(job);
        ret = mapd_problem_geodata(ctx, rc);
        goto out;
    }
    job->known = !rc;
    if (!job->known) {
        pthread_once(&dummy_once, make_dummy);
        memcpy(job->hash, dummy, sizeof job->hash);
    }
    job->base = (mapd_pool_job){ .run = check_login, .free = free_login_job };
    job->body = body;
    job->password = password;
    return mapd_hash_later(ctx, &job->base, mapd_api_login);
out:
    json_decref(body);
    return ret;
}

enum MHD_Result mapd_api_logout(mapd_ctx *ctx)
{
    if (!mapd_member_or_reply(ctx, 1))
        return MHD_YES;
    char cookie[256];
    int rc = mapd_session_end(ctx, cookie);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    return mapd_respond_cookie(ctx, MHD_HTTP_NO_CONTENT, NULL, cookie);
}

enum MHD_Result mapd_api_me(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m)
        return MHD_YES;
    const geodata_audience *a = mapd_audience_or_reply(ctx);
    if (!a)
        return MHD_YES;
    /* the home's area: their own neighbourhood and the contiguous ones */
    json_t *vis = json_array();
    for (size_t i = 0; i < a->n_visible; i++)
        json_array_append_new(vis, json_string(a->visible[i]));
    /* The neighbourhood's label point (public, like the tiles' labels) lets
     * the map open on the member's area; never the home itself. */
    json_t *nb = neighbourhood_json(m->neighbourhood_id, m->neighbourhood_name);
    double lon, lat;
    if (json_is_object(nb) && !geodata_neighbourhood_label(ctx->store, m->neighbourhood_id, &lon, &lat))
        json_object_set_new(nb, "center", json_pack("[f, f]", lon, lat));
    /* The CSRF token again, for a page that lost it (it is only readable by
     * this origin's scripts: the API sends no CORS headers). */
    json_t *doc = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:s}", "id", (json_int_t)m->id,
                            "display_name", m->display_name, "email", m->email, "role", m->role,
                            "neighbourhood", nb, "visible_neighbourhoods", vis, "csrf", ctx->csrf);
    /* The home area: the public point the member's own posts are published
     * at (the centre of the ~200 m cell holding the home), where the page
     * measures "near me" from. Nothing the member's posts do not already show. */
    if (doc && m->neighbourhood_id[0]) {
        int rc = geodata_member_public_point(ctx->store, m->id, &lon, &lat);
        if (rc == 0)
            json_object_set_new(doc, "home_area", json_pack("[f, f]", lon, lat));
        else if (rc != GEODATA_ENOTFOUND) {
            json_decref(doc);
            return mapd_problem_geodata(ctx, rc);
        }
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, doc, NULL);
}
