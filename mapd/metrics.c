/*
 * mapd/metrics.c — request counts by route and status, and latency
 * histograms by route, in Prometheus' text format.
 *
 * Lock-free: every counter is a 64-bit integer updated with an atomic add, so
 * recording costs a few instructions on the request path; a scrape reads them
 * without stopping the workers (each value is consistent; the set is a
 * near-instant snapshot, as Prometheus expects).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "events.h"
#include "http.h"

static const unsigned statuses[] = { 200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415,
                                     422, 429, 500, 503 };
#define N_STATUS (sizeof statuses / sizeof statuses[0] + 1)   /* + "other" */
static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                 0.5, 1, 2.5 };
#define N_BOUNDS (sizeof bounds / sizeof bounds[0])

typedef struct route_metrics {
    uint64_t by_status[N_STATUS];
    uint64_t buckets[N_BOUNDS + 1];  /* the last is +Inf */
    uint64_t sum_us;                 /* total latency in microseconds */
} route_metrics;

struct mapd_metrics {
    size_t n;                        /* routes, plus one for "no route" */
    route_metrics r[];
};

mapd_metrics *mapd_metrics_new(size_t n_routes)
{
    mapd_metrics *m = calloc(1, sizeof *m + (n_routes + 1) * sizeof m->r[0]);
    if (m)
        m->n = n_routes + 1;
    return m;
}

void mapd_metrics_free(mapd_metrics *m)
{
    free(m);
}

void mapd_metrics_record(mapd_metrics *m, int route, unsigned status, double seconds)
{
    size_t i = (route >= 0 && (size_t)route < m->n - 1) ? (size_t)route : m->n - 1;
    route_metrics *r = &m->r[i];
    size_t s = 0;
    while (s < N_STATUS - 1 && statuses[s] != status)
        s++;
    size_t b = 0;
    while (b < N_BOUNDS && seconds > bounds[b])
        b++;
    __atomic_fetch_add(&r->by_status[s], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->buckets[b], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->sum_us, (uint64_t)(seconds * 1e6), __ATOMIC_RELAXED);
}

typedef struct out { char *s; size_t len, cap; int oom; } out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (k < 0) { o->oom = 1; return; }
        if ((size_t)k < o->cap - o->len) { o->len += (size_t)k; return; }
        size_t cap = o->cap * 2 + (size_t)k;
        char *s = realloc(o->s, cap);
        if (!s) { o->oom = 1; return; }
        o->s = s;
        o->cap = cap;
    }
}

/* Splits "METHOD pattern" into labels. */
static void labels(const char *name, char *buf, size_t n)
{
    const char *sp = strchr(name, ' ');
    if (sp)
        snprintf(buf, n, "method=\"%.*s\",route=\"%s\"", (int)(sp - name), name, sp + 1);
    else
        snprintf(buf, n, "method=\"\",route=\"%s\"", name);
}

char *mapd_metrics_render(mapd_metrics *m, const char *const *route_names, size_t n_routes)
{
    char lab[160];
    out o = { malloc(8192), 0, 8192, 0 };
    if (!o.s)
        return NULL;
    o.s[0] = '\0';
    put(&o, "# HELP mapd_http_requests_total HTTP requests by route and status.\n"
            "# TYPE mapd_http_requests_total counter\n");
    for (size_t i = 0; i < m->n; i++) {
        labels(i < n_routes ? route_names[i] : "none", lab, sizeof lab);
        for (size_t s = 0; s < N_STATUS; s++) {
            uint64_t v = __atomic_load_n(&m->r[i].by_status[s], __ATOMIC_RELAXED);
            if (!v)
                continue;
            if (s < N_STATUS - 1)
                put(&o, "mapd_http_requests_total{%s,status=\"%u\"} %llu\n", lab,
                    statuses[s], (unsigned long long)v);
            else
                put(&o, "mapd_http_requests_total{%s,status=\"other\"} %llu\n", lab,
                    (unsigned long long)v);
        }
    }
    put(&o, "# HELP mapd_http_request_duration_seconds Time to answer, by route.\n"
            "# TYPE mapd_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n; i++) {
        labels(i < n_routes ? route_names[i] : "none", lab, sizeof lab);
        uint64_t cum = 0;
        for (size_t b = 0; b <= N_BOUNDS; b++) {
            cum += __atomic_load_n(&m->r[i].buckets[b], __ATOMIC_RELAXED);
            if (b < N_BOUNDS)
                put(&o, "mapd_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n",
                    lab, bounds[b], (unsigned long long)cum);
            else
                put(&o, "mapd_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n",
                    lab, (unsigned long long)cum);
        }
        put(&o, "mapd_http_request_duration_seconds_sum{%s} %.6f\n", lab,
            (double)__atomic_load_n(&m->r[i].sum_us, __ATOMIC_RELAXED) / 1e6);
        put(&o, "mapd_http_request_duration_seconds_count{%s} %llu\n", lab,
            (unsigned long long)cum);
    }
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    return o.s;
}

/* GET /metrics: the routes' counters, the tile cache's and the open live streams, in
 * Prometheus text. */
enum MHD_Result mapd_api_metrics(mapd_ctx *ctx)
{
    char *text = mapd_metrics_render(ctx->server->metrics, ctx->server->route_names, ctx->server->n_routes);
    if (!text)
        return MHD_NO;
    char tiles[4096];
    uint64_t sent, failed, retried;
    mapd_alerts_counts(ctx->server->alerts, &sent, &failed, &retried);
    /* The database's round trip, measured now: one small query. */
    int version;
    double t0 = mapd_seconds();
    int db_up = geodata_store_schema_version(ctx->store, &version) == 0;
    double rtt = mapd_seconds() - t0;
    int n = mapd_tiles_metrics(ctx->server->tiles, tiles, sizeof tiles);
    if (n > 0 && (size_t)n < sizeof tiles)
        n += snprintf(tiles + n, sizeof tiles - (size_t)n,
                      "# HELP mapd_db_up Whether the database answered this scrape's query.\n"
                      "# TYPE mapd_db_up gauge\nmapd_db_up %d\n"
                      "# HELP mapd_db_roundtrip_seconds Time of one small query to the database, "
                      "measured at this scrape.\n"
                      "# TYPE mapd_db_roundtrip_seconds gauge\nmapd_db_roundtrip_seconds %.6f\n"
                      "# HELP mapd_event_streams Live streams open (GET /api/events).\n"
                      "# TYPE mapd_event_streams gauge\nmapd_event_streams %d\n"
                      "# HELP mapd_alerts_total Alert mails since start, by outcome: sent (the "
                      "relay accepted it), retried (a temporary failure), failed (given up).\n"
                      "# TYPE mapd_alerts_total counter\n"
                      "mapd_alerts_total{outcome=\"sent\"} %llu\n"
                      "mapd_alerts_total{outcome=\"retried\"} %llu\n"
                      "mapd_alerts_total{outcome=\"failed\"} %llu\n",
                      db_up, rtt, mapd_events_open(ctx->server->events), (unsigned long long)sent,
                      (unsigned long long)retried, (unsigned long long)failed);
    size_t len = strlen(text);
    char *all = n > 0 && (size_t)n < sizeof tiles ? realloc(text, len + (size_t)n + 1) : NULL;
    if (all) {
        memcpy(all + len, tiles, (size_t)n + 1);
        text = all;
    }
    enum MHD_Result r = mapd_respond(ctx, MHD_HTTP_OK, "text/plain; version=0.0.4", text, strlen(text));
    free(text);
    return r;
}
