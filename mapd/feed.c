/*
 * mapd/feed.c — the server's one follower of the change feed (see feed.h).
 *
 * A sync reads the feed's end, then, under `lock`, the changes after the
 * cursor in batches (copied out of the store's rows, with their layer
 * names), and hands each batch to every subscriber in turn; the cursor
 * moves once the batch has been handed to all. The fast path — nothing
 * committed here since the last read, read less than a millisecond ago, the
 * clock's second unchanged — costs two atomic loads and no I/O: the marks it
 * compares are read before the feed and stored only once the feed is
 * applied, so a caller that skips the read finds every change counted so far
 * already applied.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feed.h"

#define POLL_NS 1000000 /* another process's change is read at most this late (1 ms) */
#define LAYER_MAX 24    /* bytes of a layer name, with its NUL: longer ones are refused */

typedef struct sub {
    mapd_feed_subscriber s;
    int broken;                  /* its apply failed, or it fell behind: reload it (atomic) */
} sub;

struct mapd_feed {
    pthread_mutex_t lock;        /* one worker at a time applies the feed */
    sub subs[MAPD_FEED_SUBSCRIBERS_MAX];
    size_t n_subs;               /* fixed once the server runs */
    int64_t applied;             /* the cursor: written under lock, read atomically */
    int64_t ticked;              /* the clock's second at the last tick (atomic) */
    uint64_t seen_commits;       /* geodata_local_commits() when last up to date (atomic) */
    int64_t read_ns;             /* when the feed's end was last read (atomic) */
};

/* A batch of changes copied out of the store. */
typedef struct batch {
    geodata_change changes[MAPD_FEED_BATCH];
    char layers[MAPD_FEED_BATCH][LAYER_MAX];
    size_t n;
} batch;

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

mapd_feed *mapd_feed_new(int64_t position, int64_t now)
{
    mapd_feed *f = calloc(1, sizeof *f);
    if (!f || pthread_mutex_init(&f->lock, NULL)) {
        free(f);
        return NULL;
    }
    f->applied = position;
    f->ticked = now;
    f->seen_commits = geodata_local_commits();
    f->read_ns = monotonic_ns();
    return f;
}

void mapd_feed_free(mapd_feed *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->lock);
    free(f);
}

int mapd_feed_subscribe(mapd_feed *f, const mapd_feed_subscriber *s)
{
    if (f->n_subs == MAPD_FEED_SUBSCRIBERS_MAX)
        return -1;
    f->subs[f->n_subs++] = (sub){ *s, 0 };
    return 0;
}

static int keep_change(void *arg, const geodata_change *c)
{
    batch *b = arg;
    size_t len = strlen(c->layer);
    if (len >= LAYER_MAX)
        return GEODATA_EINVAL; /* the schema's triggers name no such layer */
    memcpy(b->layers[b->n], c->layer, len + 1);
    b->changes[b->n] = *c;
    b->changes[b->n].layer = b->layers[b->n];
    b->n++;
    return 0;
}

/* Rebuilds a broken subscriber, logging a failure: it stays broken until a
 * reload works. lock held. */
static int reload(sub *s, geodata_store *store, int64_t now)
{
    int rc = s->s.reload(s->s.arg, store, now);
    if (rc)
        fprintf(stderr, "mapd: reloading %s: %s\n", s->s.name, geodata_errmsg(store));
    __atomic_store_n(&s->broken, rc != 0, __ATOMIC_RELEASE);
    return rc;
}

/* Hands b to every subscriber that is not broken; a failure marks that one
 * broken (it is reloaded at the end of the sync). lock held. */
static int hand_out(mapd_feed *f, geodata_store *store, int64_t now, const batch *b)
{
    int first = 0;
    for (size_t i = 0; i < f->n_subs; i++) {
        sub *s = &f->subs[i];
        if (s->broken)
            continue;
        int rc = s->s.apply(s->s.arg, store, now, b->changes, b->n);
        if (rc) {
            fprintf(stderr, "mapd: applying the change feed to %s: %s\n", s->s.name,
                    geodata_errmsg(store));
            __atomic_store_n(&s->broken, 1, __ATOMIC_RELEASE);
            if (!first)
                first = rc;
        }
    }
    return first;
}

/* Applies the feed up to last at least, rebuilds the broken subscribers,
 * then the ticks. lock held. */
static int catch_up(mapd_feed *f, geodata_store *store, int64_t now, int64_t last)
{
    int first = 0;
    batch *b = NULL;
    int64_t at = f->applied;
    while (at < last) {
        if (!b && !(b = malloc(sizeof *b)))
            return GEODATA_ENOMEM; /* the cursor stays: the next call tries again */
        b->n = 0;
        int64_t reached;
        int rc = geodata_changes_since(store, at, MAPD_FEED_BATCH, keep_change, b, &reached);
        if (rc == GEODATA_ESTALE) {
            /* too far behind: every subscriber starts afresh */
            for (size_t i = 0; i < f->n_subs; i++)
                __atomic_store_n(&f->subs[i].broken, 1, __ATOMIC_RELEASE);
            at = last;
            break;
        }
        if (rc) {
            free(b);
            __atomic_store_n(&f->applied, at, __ATOMIC_RELEASE);
            return rc; /* the feed could not be read: the next call goes on from here */
        }
        if (b->n && (rc = hand_out(f, store, now, b)) && !first)
            first = rc;
        if (reached == at)
            break; /* nothing more came (pruned concurrently): done */
        at = reached;
    }
    free(b);
    if (at > f->applied)
        __atomic_store_n(&f->applied, at, __ATOMIC_RELEASE);
    for (size_t i = 0; i < f->n_subs; i++) {
        int rc = f->subs[i].broken ? reload(&f->subs[i], store, now) : 0;
        if (rc && !first)
            first = rc;
    }
    if (now > __atomic_load_n(&f->ticked, __ATOMIC_ACQUIRE)) {
        int failed = 0;
        for (size_t i = 0; i < f->n_subs; i++) {
            sub *s = &f->subs[i];
            int rc = s->s.tick && !s->broken ? s->s.tick(s->s.arg, store, now) : 0;
            if (rc) {
                failed = 1;
                if (!first)
                    first = rc;
            }
        }
        if (!failed)
            __atomic_store_n(&f->ticked, now, __ATOMIC_RELEASE);
    }
    return first;
}

int mapd_feed_sync(mapd_feed *f, geodata_store *store, int64_t now, int flags)
{
    uint64_t commits = geodata_local_commits();
    int64_t now_ns = monotonic_ns();
    int ticked = now <= __atomic_load_n(&f->ticked, __ATOMIC_ACQUIRE);
    if (!(flags & MAPD_FEED_EXACT) && ticked
        && commits == __atomic_load_n(&f->seen_commits, __ATOMIC_ACQUIRE)
        && now_ns - __atomic_load_n(&f->read_ns, __ATOMIC_ACQUIRE) < POLL_NS)
        return 0;
    int64_t last;
    int rc = geodata_changes_last(store, &last);
    if (rc)
        return rc;
    if (last <= __atomic_load_n(&f->applied, __ATOMIC_ACQUIRE) && ticked) {
        int broken = 0;
        for (size_t i = 0; i < f->n_subs; i++)
            broken |= __atomic_load_n(&f->subs[i].broken, __ATOMIC_ACQUIRE);
        /* nothing new; a broken subscriber still needs its reload */
        if (!broken) {
            __atomic_store_n(&f->seen_commits, commits, __ATOMIC_RELEASE);
            __atomic_store_n(&f->read_ns, now_ns, __ATOMIC_RELEASE);
            return 0;
        }
    }
    if (flags & MAPD_FEED_WAIT)
        pthread_mutex_lock(&f->lock);
    else if (pthread_mutex_trylock(&f->lock))
        return 0; /* another worker is applying the feed */
    rc = catch_up(f, store, now, last);
    if (!rc) {
        __atomic_store_n(&f->seen_commits, commits, __ATOMIC_RELEASE);
        __atomic_store_n(&f->read_ns, now_ns, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}
