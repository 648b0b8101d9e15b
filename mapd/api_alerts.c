/*
 * mapd/api_alerts.c — alerts by email over HTTP: a member's subscriptions,
 * their delivery log, a test alert, and the one-click unsubscribe link.
 *
 *   POST   /api/subscriptions             create (member with a verified home)
 *   GET    /api/subscriptions             the member's, paused ones with why
 *   DELETE /api/subscriptions/{id}        the member's own only (else 404)
 *   POST   /api/subscriptions/{id}/resume a paused one sends again
 *   POST   /api/subscriptions/test        a test alert, sent by the next turn
 *   GET    /api/deliveries                the member's delivery log, newest first
 *   GET    /api/unsubscribe?token=        a small page asking to confirm
 *   POST   /api/unsubscribe?token=        RFC 8058 one-click: deletes the subscription
 *
 * The unsubscribe routes need no session: the token (alerts.h) is the
 * proof, signed by the server; a token that does not verify is 403. Its
 * subscription already gone is a success ("already unsubscribed"): mail
 * programs may post twice. Everything a member reads here is theirs; a
 * delivery names the post by id and title only (the title left out once
 * the post is hidden).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "http.h"

#define DELIVERIES_DEFAULT 50

static const char *const kind_names[] = { "request", "offer", NULL };

/* The names of bits as a JSON array. */
static json_t *names_json(unsigned bits, const char *const *names)
{
    json_t *a = json_array();
    for (size_t j = 0; a && names[j]; j++)
        if ((bits & (1u << j)) && json_array_append_new(a, json_string(names[j]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* "HH:MM" of minutes after midnight. */
static json_t *hhmm_json(int minutes)
{
    char s[8];
    snprintf(s, sizeof s, "%02d:%02d", minutes / 60 % 24, minutes % 60);
    return json_string(s);
}

/* A subscription as the API shows it to its member. */
static json_t *subscription_json(const geodata_subscription *s)
{
    json_t *polygon = s->polygon[0] ? json_loads(s->polygon, 0, NULL) : json_null();
    json_t *quiet = s->quiet_start >= 0 ? json_pack("{s:o, s:o}", "start", hhmm_json(s->quiet_start),
                                                    "end", hhmm_json(s->quiet_end))
                                        : json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:b, s:o, s:o, s:i}",
                     "id", (json_int_t)s->id,
                     "kinds", names_json(s->kinds, kind_names),
                     "categories", names_json(s->categories, geodata_post_categories),
                     "radius_m", s->radius_m ? json_integer(s->radius_m) : json_null(),
                     "polygon", polygon ? polygon : json_null(),
                     "mode", s->digest ? "digest" : "immediate",
                     "quiet_hours", quiet,
                     "created_at", mapd_json_time(s->created_at),
                     "paused", s->paused_at != 0,
                     "paused_at", mapd_json_time(s->paused_at),
                     "paused_reason", s->paused_at ? json_string(s->paused_reason) : json_null(),
                     "consecutive_failures", s->failures);
}

/* The mail's state as the API says it. */
static json_t *mail_json(mapd_ctx *ctx)
{
    int on = mapd_alerts_mail_configured(ctx->server->alerts);
    return json_pack("{s:b, s:s}", "configured", on,
                     "detail", on ? "alerts are mailed"
                                  : "mail is not configured on this server: subscriptions are "
                                    "kept and their alerts wait");
}

/* Replies with geodata's failure, EINVAL being the body's fault (422). */
static enum MHD_Result refuse(mapd_ctx *ctx, int rc)
{
    if (rc == GEODATA_EINVAL)
        return mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                            geodata_errmsg(ctx->store));
    return mapd_problem_geodata(ctx, rc);
}

static enum MHD_Result reply_subscription(mapd_ctx *ctx, unsigned status, int64_t id, int64_t member)
{
    geodata_subscription *s = malloc(sizeof *s);
    if (!s)
        return mapd_problem_geodata(ctx, GEODATA_ENOMEM);
    int rc = geodata_subscription_get(ctx->store, id, member, s);
    enum MHD_Result ret = rc ? mapd_problem_geodata(ctx, rc)
                             : mapd_respond_json(ctx, status, subscription_json(s), NULL);
    free(s);
    return ret;
}

/* Reads the array of strings obj[name] (absent: dflt, n 0 with dflt NULL)
 * into list (room for max). 0, or -1 after a 422. */
static int string_list_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, size_t max,
                                const char **list, size_t *n)
{
    json_t *v = json_object_get(obj, name);
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    char detail[160];
    if (!json_is_array(v) || json_array_size(v) > max) {
        snprintf(detail, sizeof detail, "'%s' is an array of at most %zu names", name, max);
        mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
        return -1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) {
            snprintf(detail, sizeof detail, "'%s' holds names (strings)", name);
            mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
            return -1;
        }
        list[(*n)++] = json_string_value(e);
    }
    return 0;
}

/* Reads quiet_hours ({start, end} or null) into spec. 0, or -1 after a 422. */
static int quiet_or_reply(mapd_ctx *ctx, json_t *body, geodata_subscription_spec *spec)
{
    json_t *q = json_object_get(body, "quiet_hours");
    if (!q || json_is_null(q))
        return 0;
    json_t *start = json_is_object(q) ? json_object_get(q, "start") : NULL;
    json_t *end = json_is_object(q) ? json_object_get(q, "end") : NULL;
    if (!json_is_string(start) || !json_is_string(end) || json_object_size(q) != 2) {
        mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                     "'quiet_hours' is null or {\"start\": \"HH:MM\", \"end\": \"HH:MM\"}");
        return -1;
    }
    spec->quiet_start = json_string_value(start);
    spec->quiet_end = json_string_value(end);
    return 0;
}

/* POST /api/subscriptions: 201 with the subscription. */
enum MHD_Result mapd_api_subscription_create(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    json_t *body = mapd_json_body_or_reply(ctx);
    if (!body)
        return MHD_YES;
    enum MHD_Result ret = MHD_YES;
    static const char *const both[] = { "request", "offer" };
    const char *kinds[2], *categories[16], *mode = NULL;
    char *polygon = NULL;
    geodata_subscription_spec spec = { .kinds = kinds, .categories = categories };
    if (string_list_or_reply(ctx, body, "kinds", 2, kinds, &spec.n_kinds)
        || string_list_or_reply(ctx, body, "categories", 16, categories, &spec.n_categories)
        || mapd_field_string_or_reply(ctx, body, "mode", MAPD_FIELD_OPTIONAL, 16, &mode)
        || quiet_or_reply(ctx, body, &spec))
        goto out;
    if (!json_object_get(body, "kinds") || json_is_null(json_object_get(body, "kinds"))) {
        spec.kinds = both;  /* absent: both */
        spec.n_kinds = 2;
    }
    spec.mode = mode ? mode : "immediate";
    json_t *r = json_object_get(body, "radius_m");
    if (r && !json_is_null(r)) {
        if (!json_is_number(r)) {
            ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                               "'radius_m' is a number of metres");
            goto out;
        }
        spec.has_radius = 1;
        spec.radius_m = json_number_value(r);
    }
    json_t *p = json_object_get(body, "polygon");
    if (p && !json_is_null(p)) {
        json_t *type = json_is_object(p) ? json_object_get(p, "type") : NULL;
        if (!json_is_string(type) || strcmp(json_string_value(type), "Polygon") != 0
            || !json_is_array(json_object_get(p, "coordinates"))) {
            ret = mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content",
                               "'polygon' must be a GeoJSON Polygon: {\"type\": \"Polygon\", "
                               "\"coordinates\": [[[lon, lat], ...]]}");
            goto out;
        }
        if (!(polygon = json_dumps(p, JSON_COMPACT))) {
            ret = mapd_problem_geodata(ctx, GEODATA_ENOMEM);
            goto out;
        }
        spec.polygon = polygon;
    }
    int64_t id;
    int rc = geodata_subscription_create(ctx->store, m->id, &spec, ctx->now, &id);
    ret = rc ? refuse(ctx, rc) : reply_subscription(ctx, MHD_HTTP_CREATED, id, m->id);
out:
    free(polygon);
    json_decref(body);
    return ret;
}

static int add_subscription(void *arg, const geodata_subscription *s)
{
    return json_array_append_new(arg, subscription_json(s)) ? GEODATA_ENOMEM : 0;
}

/* GET /api/subscriptions: {subscriptions, mail}. */
enum MHD_Result mapd_api_subscriptions_list(mapd_ctx *ctx)
{
    static const char *const known[] = { NULL };
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m || mapd_known_args_or_reply(ctx, known))
        return MHD_YES;
    json_t *arr = json_array();
    int rc = arr ? geodata_subscriptions_list(ctx->store, m->id, add_subscription, arr)
                 : GEODATA_ENOMEM;
    if (rc) {
        json_decref(arr);
        return mapd_problem_geodata(ctx, rc);
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:o, s:o}", "subscriptions", arr,
                                                         "mail", mail_json(ctx)), NULL);
}

/* DELETE /api/subscriptions/{id}: 204. */
enum MHD_Result mapd_api_subscription_delete(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    int rc = geodata_subscription_delete(ctx->store, ctx->id, m->id);
    return rc ? mapd_problem_geodata(ctx, rc) : mapd_respond(ctx, MHD_HTTP_NO_CONTENT, NULL, "", 0);
}

/* POST /api/subscriptions/{id}/resume: 200 with the subscription. */
enum MHD_Result mapd_api_subscription_resume(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    int rc = geodata_subscription_resume(ctx->store, ctx->id, m->id);
    return rc ? mapd_problem_geodata(ctx, rc) : reply_subscription(ctx, MHD_HTTP_OK, ctx->id, m->id);
}

/* POST /api/subscriptions/test: 202 {id, status}; 503 without mail. */
enum MHD_Result mapd_api_subscription_test(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    if (!mapd_alerts_mail_configured(ctx->server->alerts))
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "mail is not configured on this server: no alert can be sent");
    int64_t id;
    int rc = geodata_alert_test(ctx->store, m->id, ctx->now, &id);
    if (rc == GEODATA_ECONFLICT)
        return mapd_problem(ctx, MHD_HTTP_TOO_MANY_REQUESTS, "Too Many Requests",
                            geodata_errmsg(ctx->store));
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    mapd_alerts_wake(ctx->server->alerts);
    return mapd_respond_json(ctx, MHD_HTTP_ACCEPTED, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id,
                             "type", "test", "status", "pending"), NULL);
}

static int add_delivery(void *arg, const geodata_delivery *d)
{
    int live = strcmp(d->status, "pending") == 0 || strcmp(d->status, "retrying") == 0;
    json_t *post = d->post_id ? json_pack("{s:I, s:o}", "id", (json_int_t)d->post_id, "title",
                                          d->post_title[0] ? json_string(d->post_title) : json_null())
                              : json_null();
    json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:s, s:i, s:o, s:o, s:o, s:o}",
                          "id", (json_int_t)d->id, "type", d->type,
                          "subscription_id", d->subscription_id ? json_integer(d->subscription_id)
                                                                : json_null(),
                          "post", post ? post : json_null(),
                          "digest_id", d->digest_id ? json_integer(d->digest_id) : json_null(),
                          "status", d->status, "attempts", d->attempts,
                          "next_attempt_at", live ? mapd_json_time(d->next_attempt_at) : json_null(),
                          "last_error", d->last_error[0] ? json_string(d->last_error) : json_null(),
                          "created_at", mapd_json_time(d->created_at),
                          "sent_at", mapd_json_time(d->sent_at));
    return json_array_append_new(arg, o) ? GEODATA_ENOMEM : 0;
}

/* GET /api/deliveries[?before=ID][&limit=N]: {deliveries, more, mail}. */
enum MHD_Result mapd_api_deliveries(mapd_ctx *ctx)
{
    static const char *const known[] = { "before", "limit", NULL };
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    long before, limit;
    if (!m || mapd_known_args_or_reply(ctx, known)
        || mapd_long_arg_or_reply(ctx, "before", 1, LONG_MAX, 0, &before)
        || mapd_long_arg_or_reply(ctx, "limit", 1, GEODATA_DELIVERIES_PAGE, DELIVERIES_DEFAULT,
                                  &limit))
        return MHD_YES;
    json_t *arr = json_array();
    int more = 0;
    int rc = arr ? geodata_deliveries_list(ctx->store, m->id, before, (size_t)limit, add_delivery,
                                           arr, &more)
                 : GEODATA_ENOMEM;
    if (rc) {
        json_decref(arr);
        return mapd_problem_geodata(ctx, rc);
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:o, s:b, s:o}", "deliveries", arr,
                                                         "more", more, "mail", mail_json(ctx)),
                             NULL);
}

/* ---- unsubscribing ---- */

/* The subscription the token names; -1 after a 400 (no token) or 403. */
static int token_or_reply(mapd_ctx *ctx, const char **token, int64_t *id)
{
    static const char *const known[] = { "token", NULL };
    if (mapd_known_args_or_reply(ctx, known))
        return -1;
    *token = mapd_arg(ctx, "token");
    if (!*token || !**token) {
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request",
                     "token is the unsubscribe link's token, from the alert mail");
        return -1;
    }
    if (mapd_alerts_token_check(ctx->server->alerts, *token, id)) {
        mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "this unsubscribe link is not valid");
        return -1;
    }
    return 0;
}

/* 1 when the request prefers JSON to a page. */
static int wants_json(mapd_ctx *ctx)
{
    const char *accept = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    return accept && strstr(accept, "application/json") && !strstr(accept, "text/html");
}

/* A small page: a title, a paragraph, and a form posting the token when
 * token is not NULL (it was verified: digits, '.', base64url). */
static enum MHD_Result page(mapd_ctx *ctx, const char *title, const char *text, const char *token)
{
    char html[2048];
    int n = snprintf(html, sizeof html,
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>%s — Entraide</title><style>body{font-family:sans-serif;max-width:32em;"
        "margin:3em auto;padding:0 1em;line-height:1.5}button{font-size:1em;padding:.5em 1em}"
        "</style></head><body><h1>%s</h1><p>%s</p>%s%s%s<p><a href=\"/\">Entraide</a></p>"
        "</body></html>",
        title, title, text,
        token ? "<form method=\"post\" action=\"/api/unsubscribe?token=" : "",
        token ? token : "",
        token ? "\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                "<button type=\"submit\">Me désabonner</button></form>" : "");
    if (n < 0 || (size_t)n >= sizeof html)
        return mapd_problem(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error",
                            "the page could not be written");
    return mapd_respond(ctx, MHD_HTTP_OK, "text/html; charset=utf-8", html, (size_t)n);
}

/* GET /api/unsubscribe?token=T: a page confirming what the link does. */
enum MHD_Result mapd_api_unsubscribe_page(mapd_ctx *ctx)
{
    const char *token;
    int64_t id;
    if (token_or_reply(ctx, &token, &id))
        return MHD_YES;
    geodata_subscription *s = malloc(sizeof *s);
    int rc = s ? geodata_subscription_get(ctx->store, id, 0, s) : GEODATA_ENOMEM;
    free(s);
    if (rc && rc != GEODATA_ENOTFOUND)
        return mapd_problem_geodata(ctx, rc);
    int gone = rc == GEODATA_ENOTFOUND;
    if (wants_json(ctx))
        return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:I, s:b}", "subscription",
                                 (json_int_t)id, "subscribed", !gone), NULL);
    if (gone)
        return page(ctx, "Déjà désabonné", "Cette alerte n’existe plus : vous ne recevrez plus "
                    "ses messages.", NULL);
    return page(ctx, "Se désabonner", "Vous ne recevrez plus les messages de cette alerte "
                "d’Entraide. Vos autres alertes ne changent pas.", token);
}

/* POST /api/unsubscribe?token=T (RFC 8058's one click): the subscription
 * is deleted; 200 whether it was there or already gone. */
enum MHD_Result mapd_api_unsubscribe(mapd_ctx *ctx)
{
    const char *token;
    int64_t id;
    if (token_or_reply(ctx, &token, &id))
        return MHD_YES;
    int rc = geodata_subscription_delete(ctx->store, id, 0);
    if (rc && rc != GEODATA_ENOTFOUND)
        return mapd_problem_geodata(ctx, rc);
    if (wants_json(ctx))
        return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:I, s:b, s:b}", "subscription",
                                 (json_int_t)id, "unsubscribed", 1, "already", rc != 0), NULL);
    return page(ctx, "Désabonnement fait", rc ? "Cette alerte n’existait déjà plus."
                : "Vous ne recevrez plus les messages de cette alerte.", NULL);
}
