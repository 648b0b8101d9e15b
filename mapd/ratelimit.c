/*
 * mapd/ratelimit.c — token buckets per key (a client address, an account,
 * a member), for logins, registrations and comments.
 *
 * A fixed table of buckets, found by hashing the key with linear probing; a
 * full table evicts the bucket that was refilled longest ago, so memory stays
 * bounded whatever the number of clients. One mutex (rl->lock) guards the
 * table: the critical section is a few dozen instructions.
 *
 * Several replicas serving one PostgreSQL database count together: there the
 * buckets are rows of the database (geodata/rate_limits.h), one statement a
 * check, and this table is only the fallback when the database fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "geodata/rate_limits.h"

#define BUCKETS 4096
#define PROBES  16

typedef struct bucket {
    char key[48];       /* "" = free */
    double tokens;
    double at;          /* time of the last refill */
} bucket;

struct mapd_ratelimit {
    char name[32];          /* the buckets' prefix in a shared store: NAME@PER_MINUTE */
    pthread_mutex_t lock;   /* guards b */
    double per_second, burst;
    bucket b[BUCKETS];
};

mapd_ratelimit *mapd_ratelimit_new(const char *name, double per_minute, double burst)
{
    mapd_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    /* The rate is part of the buckets' name: servers configured alike
     * share them; one with another limit counts apart, as a restart of a
     * lone server would start afresh. */
    snprintf(rl->name, sizeof rl->name, "%s@%g", name, per_minute);
    pthread_mutex_init(&rl->lock, NULL);
    rl->per_second = per_minute / 60.0;
    rl->burst = burst;
    return rl;
}

void mapd_ratelimit_free(mapd_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

static size_t hash(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

/* The bucket's name in a shared store: "NAME@RATE:KEY" (keys are at most
 * 64 bytes: an address, an account's hash, a member id). */
static void bucket_name(const mapd_ratelimit *rl, const char *key, char out[112])
{
    snprintf(out, 112, "%s:%.*s", rl->name, 64, key);
}

int mapd_ratelimit_allow(mapd_ratelimit *rl, geodata_store *store, const char *key, double now)
{
    if (store && geodata_store_shared(store)) {
        char shared[112];
        int allowed;
        bucket_name(rl, key, shared);
        if (geodata_rate_take(store, shared, now, rl->per_second, rl->burst, &allowed) == 0)
            return allowed;
    }
    pthread_mutex_lock(&rl->lock);
    size_t start = hash(key) % BUCKETS, oldest = start;
    bucket *found = NULL;
    for (size_t i = 0; i < PROBES && !found; i++) {
        bucket *b = &rl->b[(start + i) % BUCKETS];
        if (strcmp(b->key, key) == 0) {
            found = b;
        } else if (!b->key[0]) {
            found = b;
            strncpy(b->key, key, sizeof b->key - 1);
            b->tokens = rl->burst;
            b->at = now;
        } else if (b->at < rl->b[oldest].at) {
            oldest = (start + i) % BUCKETS;
        }
    }
    if (!found) {
        found = &rl->b[oldest];
        memset(found, 0, sizeof *found);
        strncpy(found->key, key, sizeof found->key - 1);
        found->tokens = rl->burst;
        found->at = now;
    }
    found->tokens += (now - found->at) * rl->per_second;
    if (found->tokens > rl->burst)
        found->tokens = rl->burst;
    found->at = now;
    int ok = found->tokens >= 1.0;
    if (ok)
        found->tokens -= 1.0;
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

void mapd_ratelimit_forget(mapd_ratelimit *rl, geodata_store *store, const char *key)
{
    if (store && geodata_store_shared(store)) {
        char shared[112];
        bucket_name(rl, key, shared);
        geodata_rate_refill(store, shared, rl->burst);
    }
    pthread_mutex_lock(&rl->lock);
    size_t start = hash(key) % BUCKETS;
    for (size_t i = 0; i < PROBES; i++) {
        bucket *b = &rl->b[(start + i) % BUCKETS];
        if (strcmp(b->key, key) == 0) {
            /* Full again, as a bucket first seen would be; the slot is kept
             * (emptying it would break the probe chains of others). */
            b->tokens = rl->burst;
            break;
        }
    }
    pthread_mutex_unlock(&rl->lock);
}
