/*
 * mapd/api_feeds.c — a member's private Atom feed of the needs they may see:
 * GET /feeds/needs.atom?token=…, and the routes that make, show and revoke
 * its address (/api/feeds).
 *
 * The token is a secret like a session's (256 random bits; the store keeps
 * its hash): shown once, when it is made; a new one revokes the old. The
 * feed holds what its member sees on the map and in the lists, nothing
 * more: the open needs of their own and contiguous neighbourhoods (the
 * audience rule), newest first, FEED_ENTRIES of them, each at its public
 * point (GeoRSS, for dashboards and GIS), with its author's display name;
 * never an address or a home. A revoked or unknown token answers 404, as a
 * feed that does not exist.
 *
 * The feed is paged as RFC 5005 says: when older needs follow its last
 * entry, a <link rel="next"> gives the address of the next page (the same
 * feed with before=ID, the last entry's post), so a reader that follows it
 * gets every need once, whatever is posted meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geodata/audience.h"
#include "geodata/feeds.h"
#include "geodata/posts.h"
#include "http.h"
#include "paging.h"
#include "text.h"

#define FEED_ENTRIES 50

/* ---- /api/feeds ---- */

/* GET /api/feeds: {"active", "created_at"} (the address itself is shown
 * only when made). */
enum MHD_Result mapd_api_feed_get(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m)
        return MHD_YES;
    int64_t created = 0;
    int rc = geodata_feed_token_of(ctx->store, m->id, &created);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:b, s:o}", "active", created != 0,
                                                         "created_at", mapd_json_time(created)), NULL);
}

/* POST /api/feeds: a new address (the old one stops working); 201 {"url",
 * "created_at"}: the one time the address is shown. */
enum MHD_Result mapd_api_feed_create(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    char token[MAPD_SECRET_LEN];
    unsigned char hash[32];
    mapd_secret_new(token, hash);
    int rc = geodata_feed_token_set(ctx->store, m->id, hash, ctx->now);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    char base[MAPD_BASE_URL_MAX], url[MAPD_BASE_URL_MAX + 96];
    mapd_base_url(ctx, base);
    snprintf(url, sizeof url, "%s/feeds/needs.atom?token=%s", base, token);
    return mapd_respond_json(ctx, MHD_HTTP_CREATED, json_pack("{s:s, s:o}", "url", url, "created_at",
                                                              mapd_json_time(ctx->now)), NULL);
}

/* DELETE /api/feeds: the address stops working; 200 {"revoked": true}, 404
 * when there was none. */
enum MHD_Result mapd_api_feed_delete(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    int rc = geodata_feed_token_delete(ctx->store, m->id);
    return rc ? mapd_problem_geodata(ctx, rc)
              : mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:b}", "revoked", 1), NULL);
}

/* ---- the feed ---- */

/* Appends s with XML's five characters escaped. 0 or -1. */
static int put_escaped(mapd_text *t, const char *s)
{
    int rc = 0;
    for (const char *p = s; !rc && *p; p++) {
        const char *e = NULL;
        switch (*p) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&apos;"; break;
        }
        rc = e ? mapd_text_append(t, e, strlen(e)) : mapd_text_append(t, p, 1);
    }
    return rc;
}

static int put(mapd_text *t, const char *s)
{
    return mapd_text_append(t, s, strlen(s));
}

/* An RFC 3339 UTC time. */
static void rfc3339(int64_t t, char out[24])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef struct feed {
    mapd_text *t;
    const char *base;
    int failed;
    int64_t last;          /* the post of the last entry: the next page's cursor */
} feed;

static int add_entry(void *arg, const geodata_post *p, double distance)
{
    (void)distance;
    feed *f = arg;
    mapd_text *t = f->t;
    f->last = p->id;
    char published[24], updated[24], link[MAPD_BASE_URL_MAX + 32], point[64];
    rfc3339(p->created_at, published);
    rfc3339(p->updated_at, updated);
    snprintf(link, sizeof link, "%s/#post=%lld", f->base, (long long)p->id);
    snprintf(point, sizeof point, "%.6f %.6f", p->lat, p->lon);
    int rc = put(t, "<entry><id>") || put_escaped(t, link) || put(t, "</id><title>")
        || put_escaped(t, p->title) || put(t, "</title><published>") || put(t, published)
        || put(t, "</published><updated>") || put(t, updated) || put(t, "</updated><author><name>")
        || put_escaped(t, p->author_name) || put(t, "</name></author><category term=\"")
        || put_escaped(t, p->category) || put(t, "\"/><category term=\"") || put_escaped(t, p->kind)
        || put(t, "\"/><link rel=\"alternate\" type=\"text/html\" href=\"") || put_escaped(t, link)
        || put(t, "\"/><summary>") || put_escaped(t, p->body[0] ? p->body : p->title)
        || put(t, "</summary><georss:point>") || put(t, point) || put(t, "</georss:point></entry>\n");
    f->failed |= rc != 0;
    return rc ? GEODATA_ENOMEM : 0;
}

/* GET /feeds/needs.atom?token=…[&before=ID]: the Atom feed
 * (application/atom+xml), the FEED_ENTRIES newest needs older than post ID. */
enum MHD_Result mapd_api_feed_atom(mapd_ctx *ctx)
{
    static const char *const known[] = { "token", "before", NULL };
    long before;
    if (mapd_known_args_or_reply(ctx, known) || mapd_cursor_arg_or_reply(ctx, "before", &before))
        return MHD_YES;
    const char *token = mapd_arg(ctx, "token");
    if (!token || strlen(token) != MAPD_SECRET_LEN - 1)
        return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such feed");
    unsigned char hash[32];
    mapd_secret_hash(token, hash);
    int64_t member_id, created;
    int rc = geodata_feed_token_member(ctx->store, hash, &member_id, &created);
    geodata_member m;
    if (!rc)
        rc = geodata_member_get(ctx->store, member_id, &m);
    geodata_audience a = { 0 };
    if (!rc)
        rc = geodata_audience_of(ctx->store, &m, &a);
    if (rc) {
        geodata_audience_clear(&a);
        return rc == GEODATA_ENOTFOUND ? mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such feed")
                                       : mapd_problem_geodata(ctx, rc);
    }
    char base[MAPD_BASE_URL_MAX], now[24];
    mapd_base_url(ctx, base);
    rfc3339(ctx->now, now);
    mapd_text t = { 0 };
    int failed = put(&t, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                         "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
                         "xmlns:georss=\"http://www.georss.org/georss\">\n<title>Entraide : ")
        || put_escaped(&t, m.neighbourhood_id[0] ? "les besoins autour de chez vous"
                                                  : "aucun besoin (adresse non vérifiée)")
        || put(&t, "</title>\n<id>") || put_escaped(&t, base) || put(&t, "/feeds/needs</id>\n<updated>")
        || put(&t, now) || put(&t, "</updated>\n<link rel=\"alternate\" type=\"text/html\" href=\"")
        || put_escaped(&t, base) || put(&t, "/\"/>\n<generator>Entraide</generator>\n");
    /* The entries are written apart: the feed's links, the next page's
     * among them, come before its entries. */
    mapd_text entries = { 0 };
    feed f = { &entries, base, failed, 0 };
    int more = 0;
    if (!f.failed && a.kind != GEODATA_AUDIENCE_NOBODY) {
        geodata_post_query q = { .audience = &a, .limit = FEED_ENTRIES, .now = ctx->now,
                                 .cursor = before };
        rc = geodata_posts_query(ctx->store, &q, add_entry, &f, &more);
    }
    geodata_audience_clear(&a);
    if (!f.failed && !rc && more) {   /* RFC 5005: the next (older) page */
        char cursor[32];
        snprintf(cursor, sizeof cursor, "&amp;before=%lld", (long long)f.last);
        f.failed = put(&t, "<link rel=\"next\" type=\"application/atom+xml\" href=\"")
            || put_escaped(&t, base) || put(&t, "/feeds/needs.atom?token=") || put_escaped(&t, token)
            || put(&t, cursor) || put(&t, "\"/>\n");
    }
    if (!f.failed && !rc)
        f.failed = (entries.len && mapd_text_append(&t, entries.data, entries.len))
                   || put(&t, "</feed>\n") != 0;
    free(entries.data);
    if (rc && rc != GEODATA_ENOMEM) {
        free(t.data);
        return mapd_problem_geodata(ctx, rc);
    }
    if (f.failed || rc) {
        free(t.data);
        return mapd_problem_geodata(ctx, GEODATA_ENOMEM);
    }
    return mapd_respond_owned(ctx, MHD_HTTP_OK, "application/atom+xml; charset=utf-8", t.data, t.len);
}
