/*
 * mapd/api_stats.c — GET /api/stats: the figures of geodata/stats.h, as
 * JSON or as CSV tables.
 *
 * Everyone (anonymous visitors, members) gets what the anonymous map shows:
 * the open posts per neighbourhood and category ("open_posts", unchanged
 * since the first version: the page and older clients read it), and the
 * shops by status. Staff and admins also get, over a window of creation
 * days (since/until, UTC, the last 30 days by default, at most 366): the
 * posts per day, neighbourhood, category and status ("needs.cells") and
 * their sums, the median times from posting to claiming and from claiming
 * to done, and per neighbourhood the accounts with a verified home, the
 * shops and the unconfirmed ones. Nothing a visitor gets counts members.
 *
 * One document is built, and CSV is a view of it: the table asked for
 * (?table=) is written from the same JSON values, so the two never
 * disagree. Work is bounded by the window: at most GEODATA_STATS_MAX_DAYS
 * days, and at most MAX_CELLS cells (a longer answer is a 400 asking for a
 * shorter window); per neighbourhood, a fixed number of index counts.
 *
 * Caching: a staff answer is "private, max-age=60" (a browser may keep it a
 * minute; no shared cache may), varying on Cookie and Accept; other answers
 * are "no-store", as every JSON answer of the API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geodata/dates.h"
#include "geodata/posts.h"
#include "geodata/stats.h"
#include "http.h"
#include "post_model.h"

#define MAX_CELLS 200000          /* rows of needs.cells; more is a 400 */
#define DEFAULT_DAYS 30

static const char *const statuses[] = { "open", "claimed", "done", "cancelled", "expired", NULL };

/* ---- arguments ------------------------------------------------------------ */

static const char *const known_args[] = { "format", "table", "since", "until", NULL };


/* "YYYY-MM-DD", 1970 to 9999, a real date: 1 with *day (Unix seconds of its
 * 00:00 UTC), else 0. */
static int parse_day(const char *s, int64_t *day)
{
    return geodata_day_parse(s, day) && *day >= 0;
}

static void day_text(int64_t t, char out[11])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The window of the since and until arguments (days, both included): 0, or
 * -1 after a 400 saying what is wrong. */
static int window_or_reply(mapd_ctx *ctx, geodata_stats_window *w)
{
    const char *since = mapd_arg(ctx, "since"), *until = mapd_arg(ctx, "until");
    if (since && !*since)   /* a form's empty field */
        since = NULL;
    if (until && !*until)
        until = NULL;
    int64_t first, last, today = ctx->now - ctx->now % GEODATA_STATS_DAY_S;
    if (until && !parse_day(until, &last)) {
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "until is a date YYYY-MM-DD");
        return -1;
    }
    if (since && !parse_day(since, &first)) {
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "since is a date YYYY-MM-DD");
        return -1;
    }
    if (!until)
        last = since && first > today ? first : today;
    if (!since)
        first = last - (DEFAULT_DAYS - 1) * (int64_t)GEODATA_STATS_DAY_S;
    if (first < 0)
        first = 0;
    if (first > last) {
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "since must not be after until");
        return -1;
    }
    if ((last - first) / GEODATA_STATS_DAY_S + 1 > GEODATA_STATS_MAX_DAYS) {
        char detail[96];
        snprintf(detail, sizeof detail, "the window from since to until is at most %d days long",
                 GEODATA_STATS_MAX_DAYS);
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
        return -1;
    }
    w->since = first;
    w->until = last + GEODATA_STATS_DAY_S;
    w->now = ctx->now;
    return 0;
}

/* ---- the document ----------------------------------------------------------- */

static int add_open_count(void *arg, const char *nb, const char *category, int64_t n)
{
    json_t *by_nb = arg;
    json_t *cats = json_object_get(by_nb, nb);
    if (!cats) {
        cats = json_object();
        if (json_object_set_new(by_nb, nb, cats))
            return GEODATA_ENOMEM;
    }
    return json_object_set_new(cats, category, json_integer(n)) ? GEODATA_ENOMEM : 0;
}

/* obj[key] += n, the member created at 0 when absent. */
static int add_to(json_t *obj, const char *key, int64_t n)
{
    json_t *v = json_object_get(obj, key);
    if (v)
        return json_integer_set(v, json_integer_value(v) + n);
    return json_object_set_new(obj, key, json_integer(n));
}

/* An object holding 0 for each of keys (NULL-terminated). */
static json_t *zeros(const char *const *keys)
{
    json_t *o = json_object();
    for (int i = 0; o && keys[i]; i++)
        if (json_object_set_new(o, keys[i], json_integer(0))) {
            json_decref(o);
            return NULL;
        }
    return o;
}

typedef struct shops_acc {
    json_t *by_status;                  /* status -> shops */
    json_t *unconfirmed_by_status;      /* status -> those of them unconfirmed */
    int64_t total, unconfirmed;
} shops_acc;

static int add_shops(void *arg, const char *status, int64_t shops, int64_t unconfirmed)
{
    shops_acc *a = arg;
    a->total += shops;
    a->unconfirmed += unconfirmed;
    return json_object_set_new(a->by_status, status, json_integer(shops))
           || json_object_set_new(a->unconfirmed_by_status, status, json_integer(unconfirmed))
           ? GEODATA_ENOMEM : 0;
}

static json_t *median_json(const geodata_stats_median *m)
{
    return json_pack("{s:o, s:I}", "median_seconds", m->n ? json_real(m->seconds) : json_null(),
                     "posts", (json_int_t)m->n);
}

/* What staff see of one neighbourhood, and the index id -> its object. */
static int add_neighbourhood(void *arg, const geodata_stats_neighbourhood *n)
{
    json_t **acc = arg;   /* [0]: the array, [1]: the index by id */
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                          "id", n->id, "name", n->name,
                          "verified_members", (json_int_t)n->verified_members,
                          "shops", (json_int_t)n->shops,
                          "shops_unconfirmed", (json_int_t)n->shops_unconfirmed,
                          "posts", (json_int_t)0, "requests", (json_int_t)0, "offers", (json_int_t)0,
                          "by_status", zeros(statuses));
    if (!o || json_array_append_new(acc[0], o) || json_object_set(acc[1], n->id, o))
        return GEODATA_ENOMEM;
    return 0;
}

typedef struct needs_acc {
    json_t *rows;           /* needs.cells.rows */
    json_t *by_day;         /* day text -> its object of needs.by_day */
    json_t *by_status, *by_category;
    json_t *nb_index;       /* id -> the neighbourhood's object */
    int64_t requests, offers, outside;
    int too_many;           /* more than MAX_CELLS cells */
} needs_acc;

static int add_cell(void *arg, const geodata_stats_cell *c)
{
    needs_acc *a = arg;
    if (json_array_size(a->rows) >= MAX_CELLS) {
        a->too_many = 1;
        return 1;
    }
    char day[11];
    day_text(c->day, day);
    int64_t n = c->requests + c->offers;
    json_t *row = json_pack("[s, o, s, s, I, I]", day,
                            c->neighbourhood[0] ? json_string(c->neighbourhood) : json_null(),
                            c->category, c->status, (json_int_t)c->requests, (json_int_t)c->offers);
    if (!row || json_array_append_new(a->rows, row))
        return GEODATA_ENOMEM;
    a->requests += c->requests;
    a->offers += c->offers;
    json_t *d = json_object_get(a->by_day, day);
    int rc = d ? add_to(d, "posts", n) : 0;
    rc = rc || add_to(a->by_status, c->status, n) || add_to(a->by_category, c->category, n);
    json_t *nb = c->neighbourhood[0] ? json_object_get(a->nb_index, c->neighbourhood) : NULL;
    if (nb)
        rc = rc || add_to(nb, "posts", n) || add_to(nb, "requests", c->requests)
             || add_to(nb, "offers", c->offers) || add_to(json_object_get(nb, "by_status"), c->status, n);
    else
        a->outside += n;
    return rc ? GEODATA_ENOMEM : 0;
}

static int add_times(void *arg, const char *nb, const geodata_stats_times *t)
{
    json_t *o = json_object_get(arg, nb);
    if (!o)   /* a neighbourhood removed meanwhile */
        return 0;
    return json_object_set_new(o, "to_claim", median_json(&t->to_claim))
           || json_object_set_new(o, "to_done", median_json(&t->to_done)) ? GEODATA_ENOMEM : 0;
}

/* The staff members of doc: 0, or -1 after a reply (400 for too many
 * cells, or the store's problem). */
static int staff_figures_or_reply(mapd_ctx *ctx, const geodata_stats_window *w, json_t *doc)
{
    char since[11], until[11];
    day_text(w->since, since);
    day_text(w->until - GEODATA_STATS_DAY_S, until);
    json_t *nbs = json_array(), *index = json_object();
    json_t *acc2[2] = { nbs, index };
    needs_acc a = { .rows = json_array(), .by_day = json_object(), .by_status = zeros(statuses),
                    .by_category = zeros(geodata_post_categories), .nb_index = index };
    json_t *days = json_array();
    int rc = nbs && index && a.rows && a.by_day && a.by_status && a.by_category && days
             ? 0 : GEODATA_ENOMEM;
    for (int64_t t = w->since; !rc && t < w->until; t += GEODATA_STATS_DAY_S) {
        char day[11];
        day_text(t, day);
        json_t *d = json_pack("{s:s, s:I}", "day", day, "posts", (json_int_t)0);
        if (!d || json_array_append_new(days, d) || json_object_set(a.by_day, day, d))
            rc = GEODATA_ENOMEM;
    }
    if (!rc)
        rc = geodata_stats_neighbourhoods(ctx->store, ctx->now, add_neighbourhood, acc2);
    if (!rc)
        rc = geodata_stats_needs(ctx->store, w, add_cell, &a);
    geodata_stats_times all;
    for (size_t i = 0; !rc && i < json_array_size(nbs); i++) {
        json_t *o = json_array_get(nbs, i);
        geodata_stats_median none = { 0, 0 };
        if (json_object_set_new(o, "to_claim", median_json(&none))
            || json_object_set_new(o, "to_done", median_json(&none)))
            rc = GEODATA_ENOMEM;
    }
    if (!rc)
        rc = geodata_stats_times_of(ctx->store, w, &all, add_times, index);
    json_t *needs = NULL;
    if (!rc) {
        needs = json_pack("{s:I, s:I, s:I, s:I, s:O, s:O, s:O, s:{s:[s,s,s,s,s,s], s:O}}",
                          "posts", (json_int_t)(a.requests + a.offers),
                          "requests", (json_int_t)a.requests, "offers", (json_int_t)a.offers,
                          "outside_neighbourhoods", (json_int_t)a.outside,
                          "by_status", a.by_status, "by_category", a.by_category, "by_day", days,
                          "cells", "columns", "day", "neighbourhood", "category", "status",
                          "requests", "offers", "rows", a.rows);
        if (!needs
            || json_object_set_new(doc, "window", json_pack("{s:s, s:s, s:I}", "since", since,
                                                            "until", until, "days",
                                                            (json_int_t)((w->until - w->since)
                                                                         / GEODATA_STATS_DAY_S)))
            || json_object_set_new(doc, "needs", needs)
            || json_object_set_new(doc, "times", json_pack("{s:o, s:o}",
                                                           "to_claim", median_json(&all.to_claim),
                                                           "to_done", median_json(&all.to_done)))
            || json_object_set(doc, "neighbourhoods", nbs))
            rc = GEODATA_ENOMEM;
    }
    int too_many = a.too_many;
    json_decref(nbs);
    json_decref(index);
    json_decref(a.rows);
    json_decref(a.by_day);
    json_decref(a.by_status);
    json_decref(a.by_category);
    json_decref(days);
    if (too_many) {
        char detail[128];
        snprintf(detail, sizeof detail, "more than %d figures in this window: ask for fewer days "
                 "(since, until)", MAX_CELLS);
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
        return -1;
    }
    if (rc) {
        if (rc == GEODATA_ENOMEM)
            mapd_respond(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory", 13);
        else
            mapd_problem_geodata(ctx, rc);
        return -1;
    }
    return 0;
}

/* ---- CSV ---------------------------------------------------------------------- */

/* A growing text; oom is sticky, and every write after it is a no-op. */
typedef struct text {
    char *p;
    size_t n, cap;
    int oom;
} text;

static void put(text *t, const char *s, size_t len)
{
    if (t->oom)
        return;
    if (len > SIZE_MAX / 2 - t->n) {
        t->oom = 1;
        return;
    }
    if (t->n + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->n + len + 1)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, len);
    t->n += len;
    t->p[t->n] = '\0';
}

/* One field (RFC 4180): quoted when it holds a comma, a quote or a line
 * break, its quotes doubled; first says whether a comma goes before. */
static void field(text *t, const char *s, int first)
{
    if (!first)
        put(t, ",", 1);
    if (!s[strcspn(s, ",\"\r\n")]) {
        put(t, s, strlen(s));
        return;
    }
    put(t, "\"", 1);
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        put(t, s, (size_t)(q - s));
        put(t, "\"\"", 2);
    }
    put(t, s, strlen(s));
    put(t, "\"", 1);
}

/* A JSON value as a field: strings as they are, integers, reals with up to
 * 10 significant digits, null as empty. */
static void value_field(text *t, json_t *v, int first)
{
    char buf[40];
    if (json_is_string(v))
        field(t, json_string_value(v), first);
    else if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        field(t, buf, first);
    } else if (json_is_real(v)) {
        snprintf(buf, sizeof buf, "%.10g", json_real_value(v));
        field(t, buf, first);
    } else
        field(t, "", first);
}

static void header(text *t, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        field(t, names[i], i == 0);
    put(t, "\r\n", 2);
}

static void csv_needs(text *t, json_t *doc)
{
    static const char *const cols[] = { "day", "neighbourhood_id", "neighbourhood", "category",
                                        "status", "requests", "offers", "posts", NULL };
    header(t, cols);
    json_t *names = json_object();
    json_t *nb;
    size_t i;
    json_array_foreach(json_object_get(doc, "neighbourhoods"), i, nb)
        json_object_set(names, json_string_value(json_object_get(nb, "id")), json_object_get(nb, "name"));
    json_t *row;
    json_array_foreach(json_object_get(json_object_get(json_object_get(doc, "needs"), "cells"), "rows"),
                       i, row) {
        json_t *id = json_array_get(row, 1);
        value_field(t, json_array_get(row, 0), 1);
        value_field(t, id, 0);
        value_field(t, json_is_string(id) ? json_object_get(names, json_string_value(id)) : NULL, 0);
        for (size_t k = 2; k < 6; k++)
            value_field(t, json_array_get(row, k), 0);
        json_t *n = json_integer(json_integer_value(json_array_get(row, 4))
                                 + json_integer_value(json_array_get(row, 5)));
        value_field(t, n, 0);
        json_decref(n);
        put(t, "\r\n", 2);
    }
    json_decref(names);
}

static void csv_neighbourhoods(text *t, json_t *doc)
{
    static const char *const cols[] = {
        "id", "name", "verified_members", "shops", "shops_unconfirmed", "posts", "requests",
        "offers", "open", "claimed", "done", "cancelled", "expired", "median_to_claim_seconds",
        "claimed_posts", "median_to_done_seconds", "done_posts", NULL };
    header(t, cols);
    json_t *nb;
    size_t i;
    json_array_foreach(json_object_get(doc, "neighbourhoods"), i, nb) {
        for (int k = 0; k < 8; k++)
            value_field(t, json_object_get(nb, cols[k]), k == 0);
        for (int k = 0; statuses[k]; k++)
            value_field(t, json_object_get(json_object_get(nb, "by_status"), statuses[k]), 0);
        for (int k = 0; k < 2; k++) {
            json_t *m = json_object_get(nb, k ? "to_done" : "to_claim");
            value_field(t, json_object_get(m, "median_seconds"), 0);
            value_field(t, json_object_get(m, "posts"), 0);
        }
        put(t, "\r\n", 2);
    }
}

/* Staff get a third column: the unconfirmed shops of each status. */
static void csv_shops(text *t, json_t *doc)
{
    static const char *const cols[] = { "status", "shops", "unconfirmed", NULL };
    json_t *shops = json_object_get(doc, "shops");
    json_t *unconfirmed = json_object_get(shops, "unconfirmed_by_status");
    const char *const staff_cols[] = { cols[0], cols[1], unconfirmed ? cols[2] : NULL, NULL };
    header(t, staff_cols);
    const char *status;
    json_t *n;
    json_object_foreach(json_object_get(shops, "by_status"), status, n) {
        field(t, status, 1);
        value_field(t, n, 0);
        if (unconfirmed)
            value_field(t, json_object_get(unconfirmed, status), 0);
        put(t, "\r\n", 2);
    }
}

static void csv_open_posts(text *t, json_t *doc)
{
    static const char *const cols[] = { "neighbourhood_id", "category", "open_posts", NULL };
    header(t, cols);
    const char *nb, *cat;
    json_t *cats, *n;
    json_object_foreach(json_object_get(doc, "open_posts"), nb, cats) {
        json_object_foreach(cats, cat, n) {
            field(t, nb, 1);
            field(t, cat, 0);
            value_field(t, n, 0);
            put(t, "\r\n", 2);
        }
    }
}

static const struct {
    const char *name;
    int staff;                            /* staff only */
    void (*write)(text *t, json_t *doc);
} tables[] = {
    { "needs", 1, csv_needs },
    { "neighbourhoods", 1, csv_neighbourhoods },
    { "shops", 0, csv_shops },
    { "open_posts", 0, csv_open_posts },
};

/* ---- the answer ------------------------------------------------------------------ */

/* Queues body (malloc'd; taken, whatever happens) with the stats' headers. */
static enum MHD_Result respond_stats(mapd_ctx *ctx, int staff, const char *type, char *body,
                                     size_t len, const char *filename)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    char disposition[128];
    int ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES
             && MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES
             && MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                        staff ? "private, max-age=60" : "no-store") == MHD_YES
             && MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Cookie, Accept") == MHD_YES;
    if (ok && filename) {
        snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
        ok = MHD_add_response_header(r, "Content-Disposition", disposition) == MHD_YES;
    }
    if (!ok) {
        MHD_destroy_response(r);
        return mapd_respond(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory", 13);
    }
    ctx->req->status = MHD_HTTP_OK;
    ctx->req->bytes = len;
    enum MHD_Result ret = MHD_queue_response(ctx->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* CSV when format=csv, or without format when Accept names text/csv and
 * not application/json; 1 for CSV, 0 for JSON, -1 after a 400. */
static int wants_csv_or_reply(mapd_ctx *ctx)
{
    const char *format = mapd_arg(ctx, "format");
    if (format) {
        if (strcmp(format, "csv") == 0)
            return 1;
        if (strcmp(format, "json") == 0)
            return 0;
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "format is json or csv");
        return -1;
    }
    const char *accept = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    return accept && strstr(accept, "text/csv") && !strstr(accept, "application/json");
}

enum MHD_Result mapd_api_stats(mapd_ctx *ctx)
{
    if (mapd_known_args_or_reply(ctx, known_args))
        return MHD_YES;
    int csv = wants_csv_or_reply(ctx);
    if (csv < 0)
        return MHD_YES;
    geodata_stats_window w;
    if (window_or_reply(ctx, &w))
        return MHD_YES;
    const geodata_member *m = mapd_member_optional(ctx);
    int staff = m && mapd_is_staff(m);
    const char *table = mapd_arg(ctx, "table");
    size_t ti = staff ? 0 : 3;   /* the default table: needs, or open_posts */
    if (table) {
        if (!csv)
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "table goes with format=csv");
        for (ti = 0; ti < sizeof tables / sizeof tables[0] && strcmp(tables[ti].name, table); ti++)
            ;
        if (ti == sizeof tables / sizeof tables[0])
            return mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request",
                                "table is needs, neighbourhoods, shops or open_posts");
        if (tables[ti].staff && !staff && !mapd_staff_or_reply(ctx, 0))
            return MHD_YES;
    }

    json_t *open = json_object();
    shops_acc shops = { .by_status = json_object(), .unconfirmed_by_status = json_object() };
    int rc = open && shops.by_status && shops.unconfirmed_by_status ? 0 : GEODATA_ENOMEM;
    if (!rc)
        rc = mapd_post_model_counts(ctx->server->posts, ctx->server->feed, ctx->store, ctx->now,
                                    add_open_count, open);
    if (!rc)
        rc = geodata_stats_shops(ctx->store, ctx->now, add_shops, &shops);
    json_t *doc = rc ? NULL : json_pack("{s:O, s:{s:I, s:O}}", "open_posts", open, "shops",
                                        "total", (json_int_t)shops.total, "by_status", shops.by_status);
    /* staff also see how many shops are unconfirmed */
    if (doc && staff
        && (json_object_set_new(json_object_get(doc, "shops"), "unconfirmed",
                                json_integer(shops.unconfirmed))
            || json_object_set(json_object_get(doc, "shops"), "unconfirmed_by_status",
                               shops.unconfirmed_by_status))) {
        json_decref(doc);
        doc = NULL;
    }
    json_decref(open);
    json_decref(shops.by_status);
    json_decref(shops.unconfirmed_by_status);
    if (rc && rc != GEODATA_ENOMEM)
        return mapd_problem_geodata(ctx, rc);
    if (!doc)
        return mapd_respond(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory", 13);
    if (staff && staff_figures_or_reply(ctx, &w, doc)) {
        json_decref(doc);
        return MHD_YES;
    }

    if (!csv) {
        char *body = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
        json_decref(doc);
        if (!body)
            return mapd_respond(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory", 13);
        return respond_stats(ctx, staff, "application/json", body, strlen(body), NULL);
    }
    text t = { 0 };
    tables[ti].write(&t, doc);
    json_decref(doc);
    if (t.oom || !t.p) {
        free(t.p);
        return mapd_respond(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory", 13);
    }
    char filename[80], since[11], until[11];
    day_text(w.since, since);
    day_text(w.until - GEODATA_STATS_DAY_S, until);
    if (tables[ti].staff)
        snprintf(filename, sizeof filename, "entraide-stats-%s-%s-%s.csv", tables[ti].name, since, until);
    else
        snprintf(filename, sizeof filename, "entraide-stats-%s.csv", tables[ti].name);
    return respond_stats(ctx, staff, "text/csv; charset=utf-8", t.p, t.n, filename);
}
