/*
 * mapd/api_members.c — registration, login, logout and /api/me.
 *
 * Registration runs the address through the geocoder and its verification
 * rule (geodata_geocode_verify); anything short of a verified address is a
 * 422 that says why (address_check.c), and nothing is stored. Logins and
 * registrations are rate-limited per client address (--auth-per-minute).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "geodata/neighbourhoods.h"
#include "http.h"


int mapd_auth_limited_or_reply(mapd_ctx *ctx)
{
    char addr[MAPD_CLIENT_ADDRESS_LEN];
    mapd_client_address(ctx, addr);
    if (mapd_ratelimit_allow(ctx->server->auth_limit, addr, (double)ctx->now))
        return 0;
    mapd_problem(ctx, MHD_HTTP_TOO_MANY_REQUESTS, "Too Many Requests",
                 "too many attempts from this address; wait a minute");
    return -1;
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

enum MHD_Result mapd_api_register(mapd_ctx *ctx)
{
    if (mapd_auth_limited_or_reply(ctx))
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *email, *password, *name, *address;
    enum MHD_Result ret = MHD_YES;
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
    geodata_geocode_result res[MAPD_VERIFY_RESULTS];
    geodata_new_member m = { .email = email, .display_name = name, .role = "member" };
    if (mapd_home_or_reply(ctx, address, res, &m))
        goto out;
    char hash[MAPD_HASH_LEN];
    if (mapd_password_hash_or_reply(ctx, password, hash))
        goto out;
    m.password_hash = hash;
    int64_t id = 0;
    int rc = geodata_member_create(ctx->store, &m, &id);
    if (rc) {
        ret = mapd_problem_geodata(ctx, rc);
        goto out;
    }
    ret = mapd_respond_json(ctx, MHD_HTTP_CREATED,
                            json_pack("{s:I, s:s, s:o}", "id", (json_int_t)id, "display_name", name,
                                      "neighbourhood", neighbourhood_json(res[0].neighbourhood_id,
                                                                          res[0].neighbourhood_name)),
                            NULL);
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

enum MHD_Result mapd_api_login(mapd_ctx *ctx)
{
    if (mapd_auth_limited_or_reply(ctx))
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    const char *email, *password;
    enum MHD_Result ret = MHD_YES;
    if (mapd_field_string_or_reply(ctx, body, "email", MAPD_FIELD_REQUIRED, GEODATA_EMAIL_MAX, &email)
        || mapd_field_string_or_reply(ctx, body, "password", MAPD_FIELD_REQUIRED, MAPD_PASSWORD_MAX, &password))
        goto out;
    geodata_member m;
    char hash[crypto_pwhash_STRBYTES] = "";
    int rc = geodata_member_by_email(ctx->store, email, &m, hash, sizeof hash);
    if (rc && rc != GEODATA_ENOTFOUND) {
        ret = mapd_problem_geodata(ctx, rc);
        goto out;
    }
    /* An unknown email costs the same hash as a wrong password. */
    pthread_once(&dummy_once, make_dummy);
    int ok = mapd_check_password(rc ? dummy : hash, password) && !rc;
    if (!ok) {
        ret = mapd_problem(ctx, MHD_HTTP_UNAUTHORIZED, "Unauthorized", "wrong email or password");
        goto out;
    }
    char csrf[65], cookie[256];
    rc = mapd_session_start(ctx, m.id, csrf, cookie);
    if (rc) {
        ret = mapd_problem_geodata(ctx, rc);
        goto out;
    }
    ret = mapd_respond_cookie(ctx, MHD_HTTP_OK,
                              json_pack("{s:s, s:I, s:s, s:s}", "csrf", csrf, "id", (json_int_t)m.id,
                                        "display_name", m.display_name, "role", m.role),
                              cookie);
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
