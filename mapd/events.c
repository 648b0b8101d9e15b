/*
 * mapd/events.c — the live stream (see events.h).
 *
 * Data: the follower hands the service each change (seq, layer, record);
 * they wait in `pending` until the events thread resolves them — one read
 * of the record on the thread's own connection — into an event kept in a
 * ring of the last RING events: its text (`id:`, `event:`, `data:`) and who
 * may see it. Each stream remembers the last seq it was given; the thread
 * appends to its buffer what it may see of the ring past that, and resumes
 * it. A stream that reconnects with a Last-Event-ID older than the ring is
 * replayed from the store's feed, REPLAY_MAX changes per turn; one older
 * than the feed keeps gets `event: reset` (reload everything).
 *
 * Threads and locks: `lock` guards the pending list, the ring, the streams
 * and their buffers. libmicrohttpd's content reader (any worker) takes from
 * a stream's buffer, or, when it is empty, suspends the connection under
 * the lock and returns 0; the events thread resumes it without the lock
 * (as the writer does, writer.c), after clearing `suspended` under it, so a
 * connection is resumed once per suspension. A suspended connection is not
 * closed by libmicrohttpd, so a stream stays valid until its response is
 * freed (free_stream), which unlinks it under the lock.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "geodata/changes.h"
#include "geodata/shops.h"
#include "post_json.h"

#define RING 1024              /* resolved events kept for the streams */
#define PENDING_MAX 65536      /* changes waiting for the thread; beyond, streams reset */
#define REPLAY_MAX 512         /* changes replayed from the store per stream and turn */
#define STREAM_BUF_SOFT (64 * 1024)  /* unsent bytes past which a stream is given no more for now */
#define STREAM_BUF_MAX (4096 * 1024) /* past which it is closed (a heartbeat or a reset on top of
                                        a full buffer: it reconnects with its Last-Event-ID) */
#define WAKE_MS 250            /* the thread follows the feed at least this often */
#define READ_BLOCK 4096        /* bytes libmicrohttpd asks for at a time */

enum { EV_NONE, EV_POST, EV_SHOP, EV_COMMENT };

/* A change waiting to become an event. */
typedef struct change {
    int64_t seq, ref;
    int kind;                  /* EV_* by layer */
    int created;               /* an insert: no point before */
} change;

/* An event, resolved once for every stream. */
typedef struct event {
    int64_t seq;
    int kind;
    int everyone;              /* a shop: every viewer */
    char nb[GEODATA_ID_MAX + 1];/* a post's neighbourhood: who sees it */
    int64_t author, claimer;
    int hidden;
    char *text;                /* the whole event, for those who see the post */
    char *gone;                /* a post event for those who see the neighbourhood but not
                                  this post (hidden): "removed"; NULL when none */
} event;

typedef struct stream stream;
struct stream {
    stream *next;
    mapd_events *e;
    struct MHD_Connection *conn;
    geodata_audience audience;  /* the viewer's, copied */
    char address[MAPD_CLIENT_ADDRESS_LEN];
    int64_t last;              /* the seq of the last event considered for it */
    int replaying;             /* last is older than the ring: replay from the store */
    int reset;                 /* send `event: reset` next */
    char *buf;
    size_t len, off, cap;
    int suspended;             /* its connection waits for the thread */
    int done;                  /* no more: end the body once the buffer is sent */
    int busy;                  /* the thread replays it, without the lock */
    int orphan;                /* its response ended meanwhile: the thread frees it */
    int turned;                /* had its replay turn in this pass */
    double heartbeat_at;       /* monotonic seconds when the next comment is due */
};

struct mapd_events {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int running;               /* 0: stopping (streams end, new ones refused) */
    pthread_t thread;
    int started;
    mapd_events_limits limits;
    mapd_feed *feed;
    geodata_store *store;      /* the thread's own connection */
    change *pending;
    size_t n_pending, cap_pending;
    int overflow;              /* changes were lost: every stream resets */
    event ring[RING];
    size_t ring_start, ring_n; /* the ring's oldest slot and its count */
    int64_t newest;            /* the seq of the newest change resolved (or seen at start) */
    int64_t floor;             /* the ring holds every event after this seq */
    stream *streams;
    int n_streams;
    pthread_t listener;        /* on a shared store: waits for the database's notices */
    int listening;             /* the listener runs */
    char db_path[1024];        /* for the listener's own connection */
};

/* ---- buffers ---- */

/* Appends n bytes to s's buffer; a stream past STREAM_BUF_MAX is closed.
 * lock held. */
static void put(stream *s, const char *text, size_t n)
{
    if (s->done)
        return;
    if (s->off && s->off == s->len)
        s->off = s->len = 0;
    if (s->len + n > STREAM_BUF_MAX) {
        s->done = 1; /* a client this far behind reconnects with its Last-Event-ID */
        return;
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + n)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b) {
            s->done = 1;
            return;
        }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, text, n);
    s->len += n;
}

static void put_text(stream *s, const char *text)
{
    put(s, text, strlen(text));
}

/* ---- events ---- */

static void event_clear(event *ev)
{
    free(ev->text);
    free(ev->gone);
    *ev = (event){ 0 };
}

/* "id: SEQ\nevent: NAME\ndata: JSON\n\n" (data consumed), or NULL. */
static char *event_text(int64_t seq, const char *name, json_t *data)
{
    char *json = data ? json_dumps(data, MAPD_POST_JSON_FLAGS) : NULL;
    json_decref(data);
    if (!json)
        return NULL;
    size_t n = strlen(json) + strlen(name) + 64;
    char *text = malloc(n);
    if (text)
        snprintf(text, n, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)seq, name, json);
    free(json);
    return text;
}

static const char *post_action(const geodata_post *p, int created)
{
    if (created)
        return "created";
    if (strcmp(p->status, "open") == 0)
        return "updated";
    return p->status; /* claimed, done, cancelled */
}

/* Resolves change c into ev through store. ev->kind stays EV_NONE when the
 * change makes no event (its record is gone, a layer streams do not show).
 * 0, or a GEODATA_E* code (out of memory, a failed read). */
static int resolve(geodata_store *store, const change *c, event *ev)
{
    *ev = (event){ .seq = c->seq };
    if (c->kind == EV_SHOP) {
        geodata_shop sh;
        int rc = geodata_shop_get(store, c->ref, &sh);
        if (rc)
            return rc == GEODATA_ENOTFOUND ? 0 : rc;
        ev->text = event_text(c->seq, "shop", json_pack("{s:s, s:o}", "action", "updated", "shop",
                                                        mapd_shop_feature_json(&sh, time(NULL), NULL)));
        ev->everyone = 1;
    } else {
        geodata_post p;
        int rc = geodata_post_load(store, c->ref, &p);
        if (rc)
            return rc == GEODATA_ENOTFOUND ? 0 : rc;
        snprintf(ev->nb, sizeof ev->nb, "%s", p.neighbourhood_id);
        ev->author = p.author_id;
        ev->claimer = p.claimed_by;
        ev->hidden = p.hidden;
        if (c->kind == EV_COMMENT) {
            ev->text = event_text(c->seq, "comment", json_pack("{s:I, s:I}", "post_id",
                                  (json_int_t)p.id, "comments", (json_int_t)p.comments));
        } else {
            ev->text = event_text(c->seq, "post", json_pack("{s:s, s:o}", "action",
                                  post_action(&p, c->created), "post", mapd_post_feature_json(&p)));
            ev->gone = p.hidden ? event_text(c->seq, "post", json_pack("{s:s, s:{s:I}}", "action",
                                             "removed", "post", "id", (json_int_t)p.id))
                                : NULL;
            if (p.hidden && !ev->gone)
                return GEODATA_ENOMEM;
        }
    }
    if (!ev->text)
        return GEODATA_ENOMEM;
    ev->kind = c->kind;
    return 0;
}

/* What stream s is sent of event ev: its text, the "removed" form, or NULL. */
static const char *text_for(const stream *s, const event *ev)
{
    if (ev->kind == EV_NONE)
        return NULL;
    if (ev->everyone)
        return ev->text;
    const geodata_audience *a = &s->audience;
    if (a->kind == GEODATA_AUDIENCE_STAFF)
        return ev->text;
    int own = a->member_id && (a->member_id == ev->author || a->member_id == ev->claimer);
    if (own)
        return ev->text;
    if (a->kind != GEODATA_AUDIENCE_MEMBER || !geodata_audience_sees(a, ev->nb))
        return NULL;
    return ev->hidden ? ev->gone : ev->text;
}

/* ---- the feed's subscriber ---- */

static int kind_of(const char *layer)
{
    if (strcmp(layer, "needs") == 0)
        return EV_POST;
    if (strcmp(layer, "shops") == 0)
        return EV_SHOP;
    if (strcmp(layer, "comments") == 0)
        return EV_COMMENT;
    return EV_NONE;
}

static int feed_apply(void *arg, geodata_store *store, int64_t now, const geodata_change *changes,
                      size_t n)
{
    (void)store;
    (void)now;
    mapd_events *e = arg;
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < n; i++) {
        int kind = kind_of(changes[i].layer);
        if (kind == EV_NONE || e->overflow)
            continue;
        if (e->n_pending == e->cap_pending) {
            size_t cap = e->cap_pending ? e->cap_pending * 2 : 256;
            change *p = cap <= PENDING_MAX ? realloc(e->pending, cap * sizeof *p) : NULL;
            if (!p) {
                e->overflow = 1; /* the streams reset rather than miss events silently */
                continue;
            }
            e->pending = p;
            e->cap_pending = cap;
        }
        e->pending[e->n_pending++] = (change){ changes[i].seq, changes[i].ref_id, kind,
                                               !changes[i].has_old && changes[i].has_new };
    }
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    return 0;
}

/* The follower fell too far behind: events were lost; every stream resets. */
static int feed_reload(void *arg, geodata_store *store, int64_t now)
{
    (void)store;
    (void)now;
    mapd_events *e = arg;
    pthread_mutex_lock(&e->lock);
    e->overflow = 1;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    return 0;
}

/* ---- the thread ---- */

static const event *ring_at(const mapd_events *e, size_t i)
{
    return &e->ring[(e->ring_start + i) % RING];
}

/* Keeps ev (taken) as the ring's newest event, dropping the oldest when
 * full. lock held. */
static void ring_push(mapd_events *e, event *ev)
{
    if (e->ring_n == RING) {
        event *old = &e->ring[e->ring_start];
        e->floor = old->seq;
        event_clear(old);
        e->ring_start = (e->ring_start + 1) % RING;
        e->ring_n--;
    }
    e->ring[(e->ring_start + e->ring_n++) % RING] = *ev;
    *ev = (event){ 0 };
}

/* Appends to s what it may see of the ring after s->last, until its
 * unsent bytes pass STREAM_BUF_SOFT: the rest waits for the client to read.
 * A stream that falls behind the ring is replayed from the store. lock held. */
static void dispatch(mapd_events *e, stream *s)
{
    if (!s->replaying && s->last < e->floor)
        s->replaying = 1;
    if (s->replaying || s->last >= e->newest)
        return;
    for (size_t i = 0; i < e->ring_n; i++) {
        const event *ev = ring_at(e, i);
        if (ev->seq <= s->last)
            continue;
        if (s->len - s->off >= STREAM_BUF_SOFT)
            return;
        const char *text = text_for(s, ev);
        if (text)
            put_text(s, text);
        s->last = ev->seq;
    }
    s->last = e->newest;
}

static void stream_free(stream *s)
{
    geodata_audience_clear(&s->audience);
    free(s->buf);
    free(s);
}

typedef struct replay {
    change c[REPLAY_MAX];
    event ev[REPLAY_MAX];
    size_t n;
} replay;

static int keep_replay(void *arg, const geodata_change *c)
{
    replay *r = arg;
    int kind = kind_of(c->layer);
    if (kind != EV_NONE)
        r->c[r->n++] = (change){ c->seq, c->ref_id, kind, !c->has_old && c->has_new };
    return 0;
}

/* One turn of replay for stream s, whose last is older than the ring: the
 * next REPLAY_MAX changes of the store's feed, resolved, and what s may see
 * of them. s is marked busy, so that its response's end leaves it to this
 * thread to free. Takes and gives back the lock. */
static void replay_turn(mapd_events *e, stream *s, replay *r)
{
    int64_t from = s->last;
    s->busy = 1;
    pthread_mutex_unlock(&e->lock);
    r->n = 0;
    int64_t reached = from;
    int rc = geodata_changes_since(e->store, from, REPLAY_MAX, keep_replay, r, &reached);
    for (size_t i = 0; !rc && i < r->n; i++)
        rc = resolve(e->store, &r->c[i], &r->ev[i]);
    pthread_mutex_lock(&e->lock);
    s->busy = 0;
    if (s->orphan) {
        stream_free(s);
    } else if (rc == GEODATA_ESTALE) {
        s->reset = 1; /* older than the feed keeps: the client reloads */
        s->replaying = 0;
        s->last = e->newest;
    } else if (!rc) {
        for (size_t i = 0; i < r->n; i++) {
            const char *text = text_for(s, &r->ev[i]);
            if (text)
                put_text(s, text);
        }
        s->last = reached;
        s->replaying = reached < e->floor && reached != from;
        if (reached == from && s->last < e->floor)
            s->last = e->floor; /* nothing between: the ring follows */
    } /* else a failed read: tried again next turn */
    for (size_t i = 0; i < r->n; i++)
        event_clear(&r->ev[i]);
}

/* What every stream is owed now: replays, the ring, resets, heartbeats;
 * the suspended ones with something to send are listed in *wake (lock
 * held; the lock is released during replays). */
static void serve_streams(mapd_events *e, replay *r, struct MHD_Connection ***wake, size_t *n_wake)
{
    /* Replays first, one turn each, the list walked again after each (the
     * lock is released during a turn). */
    for (stream *s = e->streams; s;) {
        if (s->replaying && !s->busy && !s->turned && s->len - s->off < STREAM_BUF_SOFT) {
            s->turned = 1;
            replay_turn(e, s, r);
            s = e->streams;
            continue;
        }
        s = s->next;
    }
    double now = mapd_seconds();
    *n_wake = 0;
    *wake = e->n_streams ? malloc((size_t)e->n_streams * sizeof **wake) : NULL;
    for (stream *s = e->streams; s; s = s->next) {
        s->turned = 0;
        if (s->reset) {
            char text[64];
            snprintf(text, sizeof text, "id: %lld\nevent: reset\ndata: {}\n\n", (long long)e->newest);
            put_text(s, text);
            s->reset = 0;
            s->last = e->newest;
        }
        dispatch(e, s);
        if (now >= s->heartbeat_at) {
            put_text(s, ": heartbeat\n\n");
            s->heartbeat_at = now + e->limits.heartbeat_s;
        }
        if (!e->running)
            s->done = 1;
        if (s->suspended && (s->off < s->len || s->done) && *wake) {
            s->suspended = 0;
            (*wake)[(*n_wake)++] = s->conn;
        }
    }
}

static void *events_main(void *arg)
{
    mapd_events *e = arg;
    replay *r = malloc(sizeof *r);
    pthread_mutex_lock(&e->lock);
    for (int last_turn = 0; !last_turn;) {
        if (e->running && !e->n_pending && !e->overflow) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += WAKE_MS * 1000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&e->wake, &e->lock, &until);
        }
        last_turn = !e->running;
        pthread_mutex_unlock(&e->lock);
        /* Changes by other processes come through this sync too. */
        if (!last_turn && mapd_feed_sync(e->feed, e->store, (int64_t)time(NULL), 0))
            fprintf(stderr, "mapd: the live stream following the change feed: %s\n",
                    geodata_errmsg(e->store));
        pthread_mutex_lock(&e->lock);
        change *got = e->pending;
        size_t n = e->n_pending;
        int lost = e->overflow;
        e->pending = NULL;
        e->n_pending = e->cap_pending = 0;
        e->overflow = 0;
        pthread_mutex_unlock(&e->lock);
        event *ev = n ? calloc(n, sizeof *ev) : NULL;
        int rc = n && !ev ? GEODATA_ENOMEM : 0;
        for (size_t i = 0; !rc && i < n; i++)
            rc = resolve(e->store, &got[i], &ev[i]);
        if (rc) {
            fprintf(stderr, "mapd: the live stream reading a change: %s\n", geodata_errmsg(e->store));
            lost = 1;
        }
        pthread_mutex_lock(&e->lock);
        for (size_t i = 0; !rc && i < n; i++) {
            if (got[i].seq <= e->newest)
                continue; /* seen already (the follower may hand a change twice) */
            e->newest = got[i].seq;
            if (ev[i].kind != EV_NONE)
                ring_push(e, &ev[i]);
        }
        if (lost) {
            int64_t last = 0;
            pthread_mutex_unlock(&e->lock);
            geodata_changes_last(e->store, &last);
            pthread_mutex_lock(&e->lock);
            if (last > e->newest)
                e->newest = last;
            for (stream *s = e->streams; s; s = s->next)
                s->reset = 1;
        }
        for (size_t i = 0; ev && i < n; i++)
            event_clear(&ev[i]);
        free(ev);
        free(got);
        struct MHD_Connection **wake = NULL;
        size_t n_wake = 0;
        if (r)
            serve_streams(e, r, &wake, &n_wake);
        pthread_mutex_unlock(&e->lock);
        for (size_t i = 0; i < n_wake; i++)
            MHD_resume_connection(wake[i]);
        free(wake);
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    free(r);
    return NULL;
}

/* ---- the streams ---- */

/* libmicrohttpd's content reader: what the buffer holds, else the end, else
 * the connection suspended until the thread has more (0 bytes). */
static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *s = cls;
    mapd_events *e = s->e;
    pthread_mutex_lock(&e->lock);
    ssize_t n = 0;
    if (s->off < s->len) {
        size_t k = s->len - s->off < max ? s->len - s->off : max;
        memcpy(buf, s->buf + s->off, k);
        s->off += k;
        n = (ssize_t)k;
    } else if (s->done) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        s->suspended = 1;
        MHD_suspend_connection(s->conn);
        if (s->replaying || s->last < e->newest)
            pthread_cond_signal(&e->wake); /* it has more for this one: now */
    }
    pthread_mutex_unlock(&e->lock);
    return n;
}

/* libmicrohttpd frees the response: the stream leaves the list. */
static void free_stream(void *cls)
{
    stream *s = cls;
    mapd_events *e = s->e;
    pthread_mutex_lock(&e->lock);
    for (stream **p = &e->streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            e->n_streams--;
            break;
        }
    if (s->busy)
        s->orphan = 1; /* the thread is replaying it: it frees it */
    else
        stream_free(s);
    pthread_mutex_unlock(&e->lock);
}

/* A copy of a (its visible list duplicated) into out. 0 or -1. */
static int audience_copy(const geodata_audience *a, geodata_audience *out)
{
    *out = *a;
    out->visible = NULL;
    if (a->n_visible) {
        out->visible = malloc(a->n_visible * sizeof *a->visible);
        if (!out->visible)
            return -1;
        memcpy(out->visible, a->visible, a->n_visible * sizeof *a->visible);
    }
    return 0;
}

/* The id the client last received: Last-Event-ID (what EventSource sends
 * when it reconnects), else ?last_event_id=. 1 with *id, 0 when none, -1
 * after a 400. */
static int last_event_id(mapd_ctx *ctx, int64_t *id)
{
    const char *v = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, "Last-Event-ID");
    if (!v || !*v)
        v = mapd_arg(ctx, "last_event_id"); /* given, it is a number: "" too is refused */
    if (!v)
        return 0;
    long n;
    if (mapd_parse_long(v, &n) != 1 || n < 0 || n == LONG_MAX) {
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request",
                     "Last-Event-ID is the id of an event this stream sent: a number");
        return -1;
    }
    *id = n;
    return 1;
}

/* GET /api/events: the live stream (text/event-stream). */
enum MHD_Result mapd_api_events(mapd_ctx *ctx)
{
    static const char *const known[] = { "last_event_id", NULL };
    mapd_events *e = ctx->server->events;
    if (mapd_known_args_or_reply(ctx, known))
        return MHD_YES;
    if (!e)
        return mapd_problem(ctx, MHD_HTTP_SERVICE_UNAVAILABLE, "Service Unavailable",
                            "this server has no live stream (--events-max 0)");
    int64_t from = 0;
    int resume = last_event_id(ctx, &from);
    if (resume < 0)
        return MHD_YES;
    const geodata_audience *a = mapd_audience_or_reply(ctx);
    if (!a)
        return MHD_YES;
    /* HEAD: what a stream would start with, without one. */
    if (strcmp(ctx->method, MHD_HTTP_METHOD_HEAD) == 0)
        return mapd_respond(ctx, MHD_HTTP_OK, "text/event-stream; charset=utf-8", "", 0);
    stream *s = calloc(1, sizeof *s);
    if (!s || audience_copy(a, &s->audience)) {
        free(s);
        return mapd_problem_geodata(ctx, GEODATA_ENOMEM);
    }
    s->e = e;
    s->conn = ctx->conn;
    mapd_client_address(ctx, s->address);
    put_text(s, ": connected\n\nretry: 3000\n\n");
    const char *refused = NULL;
    unsigned status = MHD_HTTP_SERVICE_UNAVAILABLE;
    pthread_mutex_lock(&e->lock);
    int mine = 0;
    for (stream *o = e->streams; o; o = o->next)
        mine += strcmp(o->address, s->address) == 0;
    if (!e->running) {
        refused = "the server is stopping";
    } else if (e->n_streams >= e->limits.max_streams) {
        refused = "too many live streams are open on this server; try again later";
    } else if (mine >= e->limits.per_address) {
        refused = "too many live streams are open from this address";
        status = MHD_HTTP_TOO_MANY_REQUESTS;
    } else {
        s->last = resume ? from : e->newest;
        s->replaying = resume && from < e->floor;
        s->heartbeat_at = mapd_seconds() + e->limits.heartbeat_s;
        s->next = e->streams;
        e->streams = s;
        e->n_streams++;
        dispatch(e, s); /* what the ring holds after from */
    }
    pthread_mutex_unlock(&e->lock);
    if (refused) {
        stream_free(s);
        return mapd_problem(ctx, status, status == MHD_HTTP_TOO_MANY_REQUESTS ? "Too Many Requests"
                                                                             : "Service Unavailable",
                            refused);
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, READ_BLOCK,
                                                               read_stream, s, free_stream);
    if (!r) {
        free_stream(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    ctx->req->status = MHD_HTTP_OK;
    enum MHD_Result ret = MHD_queue_response(ctx->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- starting and stopping ---- */

/* On a store other processes write too (PostgreSQL: other replicas), this
 * thread waits for the database's notice of each commit to the change feed
 * (geodata_changes_wait) and wakes the stream's thread at once, instead of
 * at its next turn (WAKE_MS). A failing database is tried again every
 * second; the turns go on meanwhile. */
static void *listen_main(void *arg)
{
    mapd_events *e = arg;
    geodata_store *store = NULL;
    char *err = NULL;
    for (;;) {
        pthread_mutex_lock(&e->lock);
        int running = e->running;
        pthread_mutex_unlock(&e->lock);
        if (!running)
            break;
        if (!store && geodata_store_open(e->db_path, 0, &store, &err)) {
            free(err);
            err = NULL;
            store = NULL;
            sleep(1);
            continue;
        }
        int rc = geodata_changes_wait(store, 1000);
        if (rc > 0) {
            pthread_mutex_lock(&e->lock);
            pthread_cond_signal(&e->wake);
            pthread_mutex_unlock(&e->lock);
        } else if (rc < 0) {
            sleep(1);
        }
    }
    geodata_store_close(store);
    return NULL;
}

int mapd_events_start(mapd_server *server, const mapd_events_limits *limits)
{
    mapd_events *e = calloc(1, sizeof *e);
    char *err = NULL;
    if (!e) {
        fprintf(stderr, "mapd: the live stream: out of memory\n");
        return -1;
    }
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->wake, NULL);
    e->limits = *limits;
    e->feed = server->feed;
    e->running = 1;
    int rc = geodata_store_open(server->db_path, 0, &e->store, &err) ? -1 : 0;
    if (!rc && geodata_changes_last(e->store, &e->newest)) {
        err = strdup(geodata_errmsg(e->store));
        rc = -1;
    }
    e->floor = e->newest;
    mapd_feed_subscriber sub = { "the live stream", e, feed_apply, feed_reload, NULL };
    if (!rc && mapd_feed_subscribe(server->feed, &sub)) {
        err = strdup("too many subscribers of the change feed");
        rc = -1;
    }
    if (!rc && pthread_create(&e->thread, NULL, events_main, e)) {
        err = strdup("cannot start its thread");
        rc = -1;
    }
    if (rc) {
        fprintf(stderr, "mapd: the live stream: %s\n", err ? err : "out of memory");
        free(err);
        geodata_store_close(e->store);
        pthread_cond_destroy(&e->wake);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return -1;
    }
    e->started = 1;
    snprintf(e->db_path, sizeof e->db_path, "%s", server->db_path);
    if (geodata_store_shared(e->store) && strlen(server->db_path) < sizeof e->db_path)
        e->listening = pthread_create(&e->listener, NULL, listen_main, e) == 0;
    server->events = e;
    return 0;
}

void mapd_events_stop(mapd_events *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    int was = e->running;
    e->running = 0;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    if (was && e->started)
        pthread_join(e->thread, NULL); /* its last turn ended every stream */
    if (was && e->listening)
        pthread_join(e->listener, NULL);   /* within a second: its wait's bound */
}

void mapd_events_free(mapd_events *e)
{
    if (!e)
        return;
    mapd_events_stop(e);
    for (size_t i = 0; i < e->ring_n; i++)
        event_clear(&e->ring[(e->ring_start + i) % RING]);
    free(e->pending);
    geodata_store_close(e->store);
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

int mapd_events_open(mapd_events *e)
{
    if (!e)
        return 0;
    pthread_mutex_lock(&e->lock);
    int n = e->n_streams;
    pthread_mutex_unlock(&e->lock);
    return n;
}
