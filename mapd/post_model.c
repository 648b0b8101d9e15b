/*
 * mapd/post_model.c — posts as GeoJSON, and the in-memory read model of the
 * posts lists (see post_model.h).
 *
 * Why: a list of 50 posts near a member used to read 50 rows from SQLite and
 * build some 22 KB of GeoJSON through jansson on every request; the JSON alone
 * capped the server at a few thousand answers a second on two cores. Here
 * each post's Feature is serialised once, when the post enters the model or
 * changes, and a list is mostly memory copies.
 *
 * JSON is still produced only by the JSON library; the server joins
 * serialised fragments. Every byte of a list comes out of a jansson
 * serialisation (json_dumpb): the viewer-independent Feature of each post,
 * stored without its two closing braces (the properties', the Feature's);
 * the viewer-dependent members of its properties (mine, claimed_by_me, and
 * views, hidden, reports where the viewer sees them), serialised per post,
 * or once at start for the two combinations almost every viewer gets; the
 * member "distance_m":N, serialised once at start for every N from 0 to
 * MAPD_POST_DISTANCE_MAX. A feature is fragment + "," + members + "}}": the
 * server adds only the commas and braces that join object members and array
 * elements, and a compact jansson serialisation of the whole object would
 * give the same bytes (tests/api/test_api.py compares the two paths).
 *
 * Consistency: the model is a subscriber of the server's change-feed
 * follower (feed.h), which hands it every change of the store, whichever
 * process made it: the changed posts are read again by id and re-serialised.
 * A list first syncs the follower (waiting for the changes committed before
 * it); handlers that write posts sync it right after their commit, without
 * waiting if another worker is at it, so the work is usually done before the
 * next list arrives. An update that fails marks the model stale: lists are
 * answered from SQL until the follower has reloaded it. Views and reports
 * change without a feed entry; they are read from the store for the few
 * posts that show them (the author's own, every post for staff). Expiry
 * needs no write: the index compares expires_at with the request's time.
 *
 * Locks: geodata's rwlock guards the index (lists share it); the follower's
 * lock makes one worker at a time apply the feed.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/changes.h"
#include "geodata/post_index.h"
#include "feed.h"
#include "http.h"
#include "post_model.h"

#define PRUNE_EVERY_S 60

/* A post's Feature serialised by jansson, without its final "}}". */
typedef struct fragment {
    size_t len;
    char text[];
} fragment;

/* Bytes held by fragments, process-wide (atomic), for the memory figures. */
static size_t fragment_bytes;

static void fragment_free(void *payload)
{
    fragment *fr = payload;
    if (fr)
        __atomic_fetch_sub(&fragment_bytes, sizeof *fr + fr->len, __ATOMIC_RELAXED);
    free(fr);
}

struct mapd_post_model {
    geodata_post_index *index;
    char *db_path;              /* for reloads: their reader's connection */
    int stale;                  /* an update failed half-way: answer from SQL until a reload (atomic) */
    int64_t prune_at;           /* when to drop long-expired posts next: the follower's lock */
    char *flags[2];             /* "mine":false,"claimed_by_me":false, then ...:true */
    size_t flags_len[2];
    char *head;                 /* {"type":"FeatureCollection","features":[ */
    char *dist;                 /* "distance_m":0"distance_m":1... for 0..MAPD_POST_DISTANCE_MAX */
    uint32_t dist_off[MAPD_POST_DISTANCE_MAX + 2];
};

/* Appends the members of object obj as jansson serialises them, without the
 * braces around them (obj must not be empty). Consumes obj. */
static int append_members(mapd_text *t, json_t *obj)
{
    char buf[512];
    size_t n = obj ? json_dumpb(obj, buf, sizeof buf, MAPD_POST_JSON_FLAGS) : 0;
    int rc = -1;
    if (n > 2 && n <= sizeof buf) {
        rc = mapd_text_append(t, buf + 1, n - 2);
    } else if (n > sizeof buf) {
        char *big = malloc(n);
        if (big && json_dumpb(obj, big, n, MAPD_POST_JSON_FLAGS) == n)
            rc = mapd_text_append(t, big + 1, n - 2);
        free(big);
    }
    json_decref(obj);
    return rc;
}

/* post's Feature, serialised once, as the model keeps it; NULL when out of
 * memory. */
static fragment *fragment_of(const geodata_post *p)
{
    json_t *f = mapd_post_feature_json(p);
    if (!f)
        return NULL;
    char buf[4096];
    size_t n = json_dumpb(f, buf, sizeof buf, MAPD_POST_JSON_FLAGS);
    fragment *fr = n >= 2 ? malloc(sizeof *fr + (n <= sizeof buf ? n - 2 : n)) : NULL;
    const char *text = buf;
    if (fr && n > sizeof buf) /* a long body: serialised straight into place */
        text = json_dumpb(f, fr->text, n, MAPD_POST_JSON_FLAGS) == n ? fr->text : NULL;
    json_decref(f);
    /* The Feature ends with its properties: "...}}" closes both. */
    if (!fr || !text || text[n - 2] != '}' || text[n - 1] != '}') {
        free(fr);
        return NULL;
    }
    if (text == buf)
        memcpy(fr->text, buf, n - 2);
    fr->len = n - 2;
    __atomic_fetch_add(&fragment_bytes, sizeof *fr + fr->len, __ATOMIC_RELAXED);
    return fr;
}

/* ---- the model ---- */

/*
 * Loading is a two-stage pipeline over batches of posts, so that the two
 * cores share the work (most of it is the serialisations): a reader thread,
 * on a connection of its own, reads the live posts and serialises every
 * other post of each batch; the calling thread serialises the rest and
 * inserts the batch into the index, in id order (the index appends). Two
 * batches (about 2 x 1.5 MB) are in memory at most.
 */
#define LOAD_BATCH 512

typedef struct load_batch {
    geodata_post posts[LOAD_BATCH];
    fragment *frag[LOAD_BATCH];
    size_t n;
} load_batch;

typedef struct loader {
    geodata_store *store;     /* the reader's */
    int64_t now;
    pthread_mutex_t mu;       /* guards what follows */
    pthread_cond_t cv;
    load_batch *slot[2];
    unsigned produced, consumed;
    load_batch *filling;      /* the reader's current batch, or NULL */
    int read_rc;              /* how the reading ended, once done */
    int done;
    int stop;                 /* the inserter failed: the reader must end */
} loader;

/* Hands the batch being filled to the inserter. */
static void publish(loader *l)
{
    pthread_mutex_lock(&l->mu);
    l->produced++;
    l->filling = NULL;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static int read_one(void *arg, const geodata_post *p)
{
    loader *l = arg;
    if (!l->filling) {
        pthread_mutex_lock(&l->mu);
        while (l->produced - l->consumed == 2 && !l->stop)
            pthread_cond_wait(&l->cv, &l->mu);
        int stop = l->stop;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            return GEODATA_ENOMEM;
        l->filling = l->slot[l->produced % 2];
        l->filling->n = 0;
    }
    load_batch *b = l->filling;
    size_t k = b->n++;
    b->posts[k] = *p;
    b->frag[k] = NULL;
    if (k % 2 == 0 && !(b->frag[k] = fragment_of(p)))
        return GEODATA_ENOMEM;
    if (b->n == LOAD_BATCH)
        publish(l);
    return GEODATA_OK;
}

static void *reader_main(void *arg)
{
    loader *l = arg;
    int rc = geodata_posts_live(l->store, l->now - GEODATA_POST_INDEX_GRACE_S, read_one, l);
    if (l->filling)
        publish(l);     /* the last batch, or the one a failure cut short */
    pthread_mutex_lock(&l->mu);
    l->read_rc = rc;
    l->done = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Serialises the posts of b the reader left, and inserts them all. */
static int insert_batch(geodata_post_index *index, geodata_store *store, int64_t now, load_batch *b)
{
    geodata_post_index_item items[LOAD_BATCH];
    int rc = GEODATA_OK;
    for (size_t k = 0; k < b->n; k++) {
        if (!b->frag[k] && !rc && !(b->frag[k] = fragment_of(&b->posts[k])))
            rc = GEODATA_ENOMEM;
        items[k] = (geodata_post_index_item){ .id = b->posts[k].id, .post = &b->posts[k],
                                              .payload = b->frag[k] };
    }
    if (rc) {
        for (size_t k = 0; k < b->n; k++)
            fragment_free(b->frag[k]);
        return rc;
    }
    return geodata_post_index_update(index, store, now, items, b->n);  /* takes the fragments */
}

/* Fills index (empty) with the live posts of the store at db_path; store is
 * the caller's connection to it (for the index's projection). */
static int load(geodata_post_index *index, const char *db_path, geodata_store *store, int64_t now,
                char **err)
{
    loader l = { .now = now };
    if (geodata_store_open(db_path, 0, &l.store, err))
        return GEODATA_EDB;
    l.slot[0] = malloc(sizeof *l.slot[0]);
    l.slot[1] = malloc(sizeof *l.slot[1]);
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    pthread_t reader;
    int rc = !l.slot[0] || !l.slot[1] || pthread_create(&reader, NULL, reader_main, &l)
             ? GEODATA_ENOMEM : GEODATA_OK;
    if (!rc) {
        for (;;) {
            pthread_mutex_lock(&l.mu);
            while (l.produced == l.consumed && !l.done)
                pthread_cond_wait(&l.cv, &l.mu);
            int more = l.produced != l.consumed;
            pthread_mutex_unlock(&l.mu);
            if (!more)
                break;
            load_batch *b = l.slot[l.consumed % 2];
            if (!rc)
                rc = insert_batch(index, store, now, b);
            else
                for (size_t k = 0; k < b->n; k++)
                    fragment_free(b->frag[k]);
            pthread_mutex_lock(&l.mu);
            l.consumed++;
            l.stop = rc != GEODATA_OK;
            pthread_cond_broadcast(&l.cv);
            pthread_mutex_unlock(&l.mu);
        }
        pthread_join(reader, NULL);
        if (!rc && l.read_rc) {
            rc = l.read_rc;
            const char *why = geodata_errmsg(l.store);
            if ((*err = malloc(strlen(why) + 32)))
                sprintf(*err, "loading the posts: %s", why);
        }
    }
    if (rc && !*err)
        *err = strdup(rc == GEODATA_ENOMEM ? "loading the posts: out of memory" : "loading the posts");
    pthread_cond_destroy(&l.cv);
    pthread_mutex_destroy(&l.mu);
    free(l.slot[0]);
    free(l.slot[1]);
    geodata_store_close(l.store);
    return rc;
}

/* The serialisations made once: the collection's head, the two usual viewer
 * members, every distance. */
static int make_constants(mapd_post_model *m)
{
    json_t *h = json_pack("{s:s, s:[]}", "type", "FeatureCollection", "features");
    m->head = h ? json_dumps(h, MAPD_POST_JSON_FLAGS) : NULL;
    json_decref(h);
    size_t hn = m->head ? strlen(m->head) : 0;
    /* {"type":"FeatureCollection","features":[]} ends its array and itself. */
    if (hn < 2 || strcmp(m->head + hn - 2, "]}") != 0)
        return -1;
    m->head[hn - 2] = '\0';

    for (int claimed = 0; claimed < 2; claimed++) {
        mapd_post_viewer v = { .claimed_by_me = claimed };
        json_t *o = json_object();
        mapd_text t = { 0 };
        if (o && mapd_post_viewer_props(o, &v, -1)) {
            json_decref(o);
            o = NULL;
        }
        if (!o || append_members(&t, o)) {
            free(t.data);
            return -1;
        }
        m->flags[claimed] = t.data;
        m->flags_len[claimed] = t.len;
    }
    mapd_text t = { 0 };
    for (int d = 0; d <= MAPD_POST_DISTANCE_MAX; d++) {
        m->dist_off[d] = (uint32_t)t.len;
        json_t *o = json_object();
        if (o && mapd_post_add_distance(o, d)) {
            json_decref(o);
            o = NULL;
        }
        if (!o || append_members(&t, o)) {
            free(t.data);
            return -1;
        }
    }
    m->dist_off[MAPD_POST_DISTANCE_MAX + 1] = (uint32_t)t.len;
    m->dist = t.data;
    return 0;
}

int mapd_post_model_new(const char *db_path, int64_t now, mapd_post_model **out, char **err)
{
    *out = NULL;
    *err = NULL;
    mapd_post_model *m = calloc(1, sizeof *m);
    if (!m) {
        *err = strdup("out of memory");
        return GEODATA_ENOMEM;
    }
    geodata_store *store = NULL;
    int rc = geodata_store_open(db_path, 0, &store, err);
    if (!rc && (!(m->db_path = strdup(db_path)) || geodata_post_index_new(fragment_free, &m->index)
                || make_constants(m))) {
        rc = GEODATA_ENOMEM;
        *err = strdup("out of memory");
    }
    if (!rc)
        rc = load(m->index, db_path, store, now, err);
    geodata_store_close(store);
    if (rc) {
        mapd_post_model_free(m);
        return rc;
    }
    m->prune_at = now + PRUNE_EVERY_S;
    *out = m;
    return GEODATA_OK;
}

void mapd_post_model_free(mapd_post_model *m)
{
    if (!m)
        return;
    geodata_post_index_free(m->index);
    free(m->db_path);
    free(m->flags[0]);
    free(m->flags[1]);
    free(m->head);
    free(m->dist);
    free(m);
}

const char *mapd_post_model_head(mapd_post_model *m)
{
    return m->head;
}

void mapd_post_model_stats(mapd_post_model *m, size_t *posts, size_t *bytes)
{
    geodata_post_index_stats(m->index, posts, bytes);
    *bytes += __atomic_load_n(&fragment_bytes, __ATOMIC_RELAXED);
}

int mapd_post_model_covers(mapd_post_model *m, const geodata_post_query *q)
{
    return m && geodata_post_index_covers(q) && !__atomic_load_n(&m->stale, __ATOMIC_ACQUIRE);
}

int mapd_post_model_counts(mapd_post_model *m, mapd_feed *feed, geodata_store *store, int64_t now,
                           int (*each)(void *arg, const char *nb, const char *category, int64_t n),
                           void *arg)
{
    if (m && !mapd_feed_sync(feed, store, now, MAPD_FEED_WAIT | MAPD_FEED_EXACT)
        && !__atomic_load_n(&m->stale, __ATOMIC_ACQUIRE))
        return geodata_post_index_counts(m->index, store, now, each, arg);
    return geodata_post_counts(store, now, each, arg);
}

/* ---- following the change feed ---- */

typedef struct id_list {
    int64_t *ids;
    size_t n, cap;
} id_list;

/* The ids of the posts among changes: the posts themselves, and the posts
 * whose comments changed (their count). */
static int post_ids(const geodata_change *changes, size_t n, id_list *l)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(changes[i].layer, "needs") != 0 && strcmp(changes[i].layer, "comments") != 0)
            continue;
        if (l->n == l->cap) {
            size_t ncap = l->cap ? l->cap * 2 : 64;
            int64_t *m = realloc(l->ids, ncap * sizeof *m);
            if (!m)
                return GEODATA_ENOMEM;
            l->ids = m;
            l->cap = ncap;
        }
        l->ids[l->n++] = changes[i].ref_id;
    }
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Reads the posts of ids again and puts them, re-serialised, into the index
 * in one update. Work: one indexed read and one serialisation per post. */
static int apply_ids(mapd_post_model *m, geodata_store *store, int64_t now, int64_t *ids, size_t n)
{
    if (!n)
        return GEODATA_OK;
    qsort(ids, n, sizeof *ids, cmp_id);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || ids[u - 1] != ids[i])
            ids[u++] = ids[i];
    geodata_post *posts = malloc(u * sizeof *posts);
    geodata_post_index_item *items = calloc(u, sizeof *items);
    int rc = posts && items ? GEODATA_OK : GEODATA_ENOMEM;
    size_t k = 0;
    for (; !rc && k < u; k++) {
        items[k].id = ids[k];
        rc = geodata_post_load(store, ids[k], &posts[k]);
        if (rc == GEODATA_ENOTFOUND) {
            rc = GEODATA_OK; /* deleted: the index drops it */
        } else if (!rc) {
            items[k].post = &posts[k];
            if (!(items[k].payload = fragment_of(&posts[k])))
                rc = GEODATA_ENOMEM;
        }
    }
    if (!rc) {
        rc = geodata_post_index_update(m->index, store, now, items, u);
    } else {
        for (size_t i = 0; items && i < k; i++)
            fragment_free(items[i].payload);
    }
    free(items);
    free(posts);
    return rc;
}

/* The follower's reload: builds the index anew from store and takes its
 * place. */
static int feed_reload(void *arg, geodata_store *store, int64_t now)
{
    mapd_post_model *m = arg;
    geodata_post_index *fresh;
    int rc = geodata_post_index_new(fragment_free, &fresh);
    char *err = NULL;
    if (!rc && !(rc = load(fresh, m->db_path, store, now, &err))) {
        geodata_post_index_swap(m->index, fresh);
        __atomic_store_n(&m->stale, 0, __ATOMIC_RELEASE);
    }
    geodata_post_index_free(fresh);
    free(err);   /* the follower says the reload failed; the model stays stale */
    return rc;
}

/* The follower's apply: the changed posts read again, in one index update.
 * A failure leaves the model stale (lists from SQL) until its reload. */
static int feed_apply(void *arg, geodata_store *store, int64_t now, const geodata_change *changes,
                      size_t n)
{
    mapd_post_model *m = arg;
    id_list l = { 0 };
    int rc = post_ids(changes, n, &l);
    if (!rc)
        rc = apply_ids(m, store, now, l.ids, l.n);
    free(l.ids);
    if (rc)
        __atomic_store_n(&m->stale, 1, __ATOMIC_RELEASE);
    return rc;
}

/* The follower's tick: once a minute, the posts expired for long go. */
static int feed_tick(void *arg, geodata_store *store, int64_t now)
{
    (void)store;
    mapd_post_model *m = arg;
    if (now >= m->prune_at) {
        geodata_post_index_prune(m->index, now);
        m->prune_at = now + PRUNE_EVERY_S;
    }
    return GEODATA_OK;
}

mapd_feed_subscriber mapd_post_model_subscriber(mapd_post_model *m)
{
    return (mapd_feed_subscriber){ "the posts in memory", m, feed_apply, feed_reload, feed_tick };
}

/* ---- lists ---- */

typedef struct hit {
    int64_t id, author_id, claimed_by;
    int hidden;
    double distance;
    size_t off, len;            /* the fragment, in page.frags */
} hit;

typedef struct page {
    hit *hits;
    size_t n, cap;
    mapd_text frags;            /* the fragments, copied while the index is locked */
} page;

/* Under the index's read lock: copies what the page needs, nothing more. */
static int keep_hit(void *arg, const geodata_post_hit *h)
{
    page *pg = arg;
    const fragment *fr = h->payload;
    if (pg->n == pg->cap) {
        size_t ncap = pg->cap ? pg->cap * 2 : 64;
        hit *m = realloc(pg->hits, ncap * sizeof *m);
        if (!m)
            return GEODATA_ENOMEM;
        pg->hits = m;
        pg->cap = ncap;
    }
    pg->hits[pg->n] = (hit){ .id = h->id, .author_id = h->author_id, .claimed_by = h->claimed_by,
                             .hidden = h->hidden, .distance = h->distance_m,
                             .off = pg->frags.len, .len = fr->len };
    if (mapd_text_append(&pg->frags, fr->text, fr->len))
        return GEODATA_ENOMEM;
    pg->n++;
    return 0;
}

/* Appends the viewer-dependent members of h's properties. */
static int append_viewer(mapd_post_model *m, geodata_store *store, const geodata_member *viewer,
                         const hit *h, int near, mapd_text *out)
{
    mapd_post_viewer v;
    mapd_post_viewer_init(&v, viewer, h->author_id, h->claimed_by, h->hidden);
    double d = near ? h->distance : -1;
    if (!v.mine && !v.staff && llround(d) <= MAPD_POST_DISTANCE_MAX) {
        int c = v.claimed_by_me ? 1 : 0;
        if (mapd_text_append(out, m->flags[c], m->flags_len[c]))
            return GEODATA_ENOMEM;
        if (!near)
            return GEODATA_OK;
        long long k = llround(d);
        return mapd_text_append(out, ",", 1)
            || mapd_text_append(out, m->dist + m->dist_off[k], m->dist_off[k + 1] - m->dist_off[k])
            ? GEODATA_ENOMEM : GEODATA_OK;
    }
    if (v.mine || v.staff) {
        int rc = geodata_post_counters(store, h->id, &v.views, &v.reports);
        if (rc && rc != GEODATA_ENOTFOUND)
            return rc;
    }
    json_t *o = json_object();
    if (!o || mapd_post_viewer_props(o, &v, d)) {
        json_decref(o);
        return GEODATA_ENOMEM;
    }
    return append_members(out, o) ? GEODATA_ENOMEM : GEODATA_OK;
}

int mapd_post_model_page(mapd_post_model *m, geodata_store *store, const geodata_post_query *q,
                         const geodata_member *viewer, mapd_text *out, size_t *n, int *more,
                         int64_t *last)
{
    page pg = { 0 };
    *n = 0;
    *last = 0;
    int rc = geodata_post_index_query(m->index, store, q, keep_hit, &pg, more);
    for (size_t i = 0; !rc && i < pg.n; i++) {
        const hit *h = &pg.hits[i];
        if ((i && mapd_text_append(out, ",", 1))
            || mapd_text_append(out, pg.frags.data + h->off, h->len)
            || mapd_text_append(out, ",", 1))
            rc = GEODATA_ENOMEM;
        if (!rc)
            rc = append_viewer(m, store, viewer, h, q->near, out);
        if (!rc && mapd_text_append(out, "}}", 2))
            rc = GEODATA_ENOMEM;
    }
    if (!rc) {
        *n = pg.n;
        *last = pg.n ? pg.hits[pg.n - 1].id : 0;
    }
    free(pg.hits);
    free(pg.frags.data);
    return rc;
}
