/*
 * mapd/auth.c — passwords, sessions, CSRF and roles.
 *
 * Passwords: hashed and checked by password.c; here, their rules on input.
 * Sessions: a random 256-bit token, sent once in an HttpOnly, SameSite=Lax
 * cookie (Secure with --cookie-secure); the store keeps only its BLAKE2b
 * hash, so a copy of the database opens no session. Each session has a
 * random CSRF token, returned at login, which every state-changing request
 * must echo in X-CSRF-Token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http.h"

#define COOKIE_NAME "entraide_session"

/* Whether a new password is long enough: MAPD_PASSWORD_MIN characters (not
 * bytes: "été" is three). */
static int long_enough(const char *password)
{
    size_t chars = 0;
    for (const unsigned char *c = (const unsigned char *)password; *c; c++)
        chars += (*c & 0xC0) != 0x80; /* UTF-8: count the characters, not the bytes */
    return chars >= MAPD_PASSWORD_MIN;
}

int mapd_password_length_or_reply(mapd_ctx *ctx, const char *field, const char *password)
{
    if (long_enough(password))
        return 0;
    char detail[96];
    snprintf(detail, sizeof detail, "'%s' must have at least %d characters", field, MAPD_PASSWORD_MIN);
    mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
    return -1;
}

enum MHD_Result mapd_hash_later(mapd_ctx *ctx, mapd_pool_job *job, mapd_handler again)
{
    int r = mapd_pool_later(ctx, ctx->server->hashing, job);
    if (r == MAPD_POOL_TAKEN)
        return MHD_YES;
    if (r == MAPD_POOL_FULL) {
        job->free(job);
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "too many passwords are being checked; try again in a moment");
    }
    /* No pool, or it is stopping: the work is done here, once. */
    job->run(job);
    ctx->req->pending = job;
    ctx->req->pending_free = mapd_pool_job_free;
    return again(ctx);
}

static void password_work(mapd_pool_job *job)
{
    mapd_password_job *p = (mapd_password_job *)job;
    p->checked = !p->check || mapd_check_password(p->check_hash, p->check);
    p->hash_ok = p->checked && p->hash
                 && mapd_hash_password(p->hash, p->hashed, sizeof p->hashed) == 0;
}

static void password_job_free(mapd_pool_job *job)
{
    mapd_password_job *p = (mapd_password_job *)job;
    json_decref(p->body);
    free(p);
}

mapd_password_job *mapd_password_job_new(json_t *body)
{
    mapd_password_job *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->base = (mapd_pool_job){ .run = password_work, .free = password_job_free };
    p->body = json_incref(body);
    return p;
}

int mapd_is_staff(const geodata_member *m)
{
    return m && (strcmp(m->role, "staff") == 0 || strcmp(m->role, "admin") == 0);
}

/* Computes the request's audience once; 0 or a GEODATA_E* code. */
static int audience(mapd_ctx *ctx)
{
    if (ctx->audience_ready)
        return 0;
    const geodata_member *m = mapd_member_optional(ctx);
    if (ctx->audience_ready)   /* the session's lookup gave it (geodata_session_resolve) */
        return 0;
    int rc = geodata_audience_of(ctx->store, m, &ctx->audience);
    ctx->audience_ready = !rc;
    return rc;
}

const geodata_audience *mapd_audience_or_reply(mapd_ctx *ctx)
{
    int rc = audience(ctx);
    if (rc) {
        mapd_problem_geodata(ctx, rc);
        return NULL;
    }
    return &ctx->audience;
}

int mapd_sees_neighbourhood(mapd_ctx *ctx, const char *nb)
{
    return audience(ctx) ? -1 : geodata_audience_sees(&ctx->audience, nb);
}

void mapd_secret_hash(const char *token, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

_Static_assert(MAPD_SECRET_LEN == sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
               "MAPD_SECRET_LEN holds 32 bytes in URL-safe base64");

void mapd_secret_new(char token[MAPD_SECRET_LEN], unsigned char hash[32])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, MAPD_SECRET_LEN, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    mapd_secret_hash(token, hash);
}

/* Looks the session cookie up; 1 with ctx->member and ctx->audience set,
 * 0 when there is no valid session. Work: one hash and one statement
 * (geodata_session_resolve). */
static int resolve(mapd_ctx *ctx)
{
    if (ctx->authed)
        return 1;
    const char *token = MHD_lookup_connection_value(ctx->conn, MHD_COOKIE_KIND, COOKIE_NAME);
    if (!token || strlen(token) > 128)
        return 0;
    mapd_secret_hash(token, ctx->token_hash);
    geodata_session s;
    if (ctx->audience_ready)   /* a visitor's, computed before: the member's replaces it */
        geodata_audience_clear(&ctx->audience);
    ctx->audience_ready = 0;
    if (geodata_session_resolve(ctx->store, ctx->token_hash, ctx->now, &s, &ctx->member,
                                &ctx->audience))
        return 0;
    ctx->audience_ready = 1;
    snprintf(ctx->csrf, sizeof ctx->csrf, "%s", s.csrf);
    ctx->authed = 1;
    return 1;
}

const geodata_member *mapd_member_optional(mapd_ctx *ctx)
{
    return resolve(ctx) ? &ctx->member : NULL;
}

const geodata_member *mapd_member_or_reply(mapd_ctx *ctx, int csrf)
{
    if (!resolve(ctx)) {
        mapd_problem(ctx, MHD_HTTP_UNAUTHORIZED, "Unauthorized", "log in first");
        return NULL;
    }
    if (csrf) {
        const char *sent = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, "X-CSRF-Token");
        size_t len = strlen(ctx->csrf);
        if (!sent || strlen(sent) != len || sodium_memcmp(sent, ctx->csrf, len) != 0) {
            mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden",
                         "missing or wrong X-CSRF-Token header (the value returned at login)");
            return NULL;
        }
    }
    return &ctx->member;
}

const geodata_member *mapd_staff_or_reply(mapd_ctx *ctx, int csrf)
{
    const geodata_member *m = mapd_member_or_reply(ctx, csrf);
    if (m && !mapd_is_staff(m)) {
        mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "this is for staff");
        return NULL;
    }
    return m;
}

static void cookie_line(mapd_ctx *ctx, const char *value, int64_t max_age, char cookie[256])
{
    snprintf(cookie, 256, COOKIE_NAME "=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s", value,
             (long long)max_age, ctx->server->cookie_secure ? "; Secure" : "");
}

int mapd_session_start(mapd_ctx *ctx, int64_t member_id, char csrf[65], char cookie[256])
{
    unsigned char craw[32], h[32];
    char token[MAPD_SECRET_LEN];
    mapd_secret_new(token, h);
    randombytes_buf(craw, sizeof craw);
    sodium_bin2hex(csrf, 65, craw, sizeof craw);
    int rc = geodata_session_create(ctx->store, h, member_id, csrf, ctx->now + ctx->server->session_ttl);
    cookie_line(ctx, token, ctx->server->session_ttl, cookie);
    sodium_memzero(token, sizeof token);
    return rc;
}

int mapd_session_end(mapd_ctx *ctx, char cookie[256])
{
    cookie_line(ctx, "", 0, cookie);
    return geodata_session_delete(ctx->store, ctx->token_hash);
}
