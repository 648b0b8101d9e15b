/*
 * tiles/cache.c — the tile cache (see cache.h).
 *
 * Structures. An address node per tile address (z, x, y) sits in a chained
 * hash table and lists the entries of that address, one per variant, so
 * invalidating an address costs O(variants) whatever the cache holds. Every
 * entry is also on one doubly linked list in recency order (newest first);
 * eviction takes from the old end. Blobs carry their own atomic reference
 * count and are allocated with their gzip bytes in one block; an entry owns
 * one reference.
 *
 * Generations. c->generation goes up by one on every invalidation call and
 * every clear. An address node remembers in inval_gen the generation its
 * last invalidation produced; a put of generation g is stored only when
 * g >= inval_gen of its address (and g >= c->floor, below). So a render
 * that read its generation before an invalidation of its tile is refused,
 * exactly per address, and renders of other tiles are not disturbed.
 *
 * Tombstones. An address may be invalidated while none of its variants is
 * stored (a render of it may be in flight), and an address may lose its
 * last entry to eviction after an invalidation; either way its inval_gen
 * must outlive its entries. Such entry-less nodes are tombstones, kept in a
 * first-in first-out list. Their bytes count towards the bound and are
 * capped at a thirty-second of it (8 MiB of a 256 MiB cache, some 75,000
 * addresses at 112 bytes each: far more invalidations than happen while a
 * tile renders). To drop one, the cache raises c->floor to its inval_gen,
 * which refuses every put of an older generation: conservative (a few
 * renders go uncached) but never stale. A node whose inval_gen is already
 * <= c->floor carries no information and is freed at once.
 *
 * Accounting. c->bytes is the sum of entry costs (blob block and entry
 * block, each rounded as glibc's allocator rounds, key included) and
 * address costs (node block plus four bucket pointers: the table grows at
 * load 1 and shrinks at load 1/4, so each node's share of the bucket array
 * is at most four pointers, above the fixed 64-bucket minimum). Invariant:
 * c->bytes <= c->max_bytes whenever the lock is released.
 *
 * Extras. An entry may hold one tiles_blob_extra of its user, with one
 * reference, released whenever the entry lets go of its blob (entry_drop,
 * replacement in store_locked, drop_all); its declared cost is part of the
 * entry's cost.
 *
 * Locking. One mutex, c->lock ("the cache lock"), guards every field of
 * struct tiles_cache (but max_bytes, fixed at creation) and every address
 * node and entry. It is held for
 * table and list work only: compression, hashing of keys and ETags happen
 * before it is taken. Blob reference counts are atomics and need no lock.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>
#include <zlib.h>

#include "tiles/cache.h"
#include "tiles/geometry.h"

/* A blob and its gzip bytes in one allocation; pub comes first so that a
 * tiles_blob pointer handed out is also a pointer to its blob_impl. */
typedef struct blob_impl {
    tiles_blob pub;       /* what callers see; pub.gz points at data */
    atomic_size_t refs;   /* references held; the last release frees */
    uint8_t data[];       /* the gzip member */
} blob_impl;

typedef struct addr addr;
typedef struct entry entry;

/* One stored tile: an address and a variant. */
struct entry {
    entry *newer, *older;   /* recency list; c->newest has newer == NULL */
    entry *next_variant;    /* the next entry of the same address */
    addr *at;               /* the address node this entry hangs from */
    blob_impl *blob;        /* the cache's own reference */
    tiles_blob_extra *extra; /* the user's object, one reference held; or NULL */
    size_t cost;            /* bytes charged to c->bytes for this entry, extra included */
    char variant[];         /* the variant key, NUL-terminated */
};

/* One tile address, with its entries, or a tombstone when it has none. */
struct addr {
    addr *next_in_bucket;           /* hash chain */
    addr *tomb_older, *tomb_newer;  /* tombstone list, when is_tomb */
    entry *variants;                /* entries of this address, unordered */
    uint64_t hash;                  /* key_hash(z, x, y) */
    uint64_t inval_gen;             /* generation of the last invalidation; 0 none */
    int64_t x, y;
    int z;
    int is_tomb;                    /* on the tombstone list (variants == NULL) */
};

struct tiles_cache {
    pthread_mutex_t lock;     /* the cache lock: guards every field below */
    size_t max_bytes;         /* the bound; 0 disables storing (set once, read unlocked) */
    size_t bytes;             /* accounted bytes, <= max_bytes */
    size_t entries;           /* entries stored */
    size_t naddrs;            /* address nodes, tombstones included */
    addr **buckets;           /* hash table, nbuckets chains */
    size_t nbuckets;          /* a power of two, >= MIN_BUCKETS */
    entry *newest, *oldest;   /* recency list ends */
    addr *tomb_oldest, *tomb_newest; /* tombstone list ends */
    size_t ntombs;            /* tombstones */
    uint64_t generation;      /* bumped by each invalidation call and clear */
    uint64_t floor;           /* puts of generations below it are refused */
    uint64_t hits, misses, evictions, invalidations; /* see tiles_cache_stats */
};

enum { MIN_BUCKETS = 64 };

/* ---- blobs ---------------------------------------------------------- */

/* Compresses raw into a new blob with one reference. Work: O(len), no
 * lock. Usually one deflate pass into a deflateBound-sized buffer; the
 * loop also covers inputs larger than zlib's 32-bit counters. */
static int blob_make(const uint8_t *raw, size_t len, blob_impl **out)
{
    static const uint8_t nothing[1];
    *out = NULL;
    if (!raw) {
        if (len)
            return TILES_EINVAL;
        raw = nothing;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return TILES_ENOMEM;
    uLong want = (uLong)len == len ? deflateBound(&zs, (uLong)len) : (uLong)-1;
    size_t cap = want < (uLong)1 << 30 ? (size_t)want : (size_t)1 << 30;
    if (cap < 64)
        cap = 64;
    blob_impl *b = malloc(sizeof *b + cap);
    if (!b) {
        deflateEnd(&zs);
        return TILES_ENOMEM;
    }
    size_t in_done = 0, used = 0;
    int rc;
    do {
        if (used == cap) {
            if (cap > (SIZE_MAX - sizeof *b) / 2)
                break;
            blob_impl *nb = realloc(b, sizeof *b + cap * 2);
            if (!nb)
                break;
            b = nb;
            cap *= 2;
        }
        size_t in_left = len - in_done, out_left = cap - used;
        zs.next_in = (Bytef *)(uintptr_t)(raw + in_done);
        zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        zs.next_out = b->data + used;
        zs.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        uInt in_given = zs.avail_in, out_given = zs.avail_out;
        rc = deflate(&zs, in_left > UINT_MAX ? Z_NO_FLUSH : Z_FINISH);
        in_done += in_given - zs.avail_in;
        used += out_given - zs.avail_out;
        if (rc == Z_BUF_ERROR && zs.avail_out)
            break;   /* stuck with room to write: give up rather than spin */
    } while (rc == Z_OK || rc == Z_BUF_ERROR);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(b);
        return TILES_ENOMEM;
    }
    blob_impl *fit = realloc(b, sizeof *b + used);
    if (fit)
        b = fit;
    b->pub.gz = b->data;
    b->pub.gz_len = used;
    b->pub.raw_len = len;
    b->pub.etag = XXH3_64bits(raw, len);
    atomic_init(&b->refs, 1);
    *out = b;
    return TILES_OK;
}

static blob_impl *impl_of(const tiles_blob *b)
{
    return (blob_impl *)(uintptr_t)b;
}

int tiles_blob_new(const uint8_t *raw, size_t len, const tiles_blob **out)
{
    blob_impl *b;
    int rc = blob_make(raw, len, &b);
    *out = b ? &b->pub : NULL;
    return rc;
}

const tiles_blob *tiles_blob_retain(const tiles_blob *b)
{
    if (b)
        atomic_fetch_add_explicit(&impl_of(b)->refs, 1, memory_order_relaxed);
    return b;
}

void tiles_blob_release(const tiles_blob *b)
{
    if (!b)
        return;
    blob_impl *i = impl_of(b);
    if (atomic_fetch_sub_explicit(&i->refs, 1, memory_order_acq_rel) == 1)
        free(i);
}

/* Inflates into a buffer of exactly raw_len bytes (plus one, so that an
 * empty tile still gets a non-NULL buffer) and insists the member ends
 * there. Work: O(raw_len + gz_len). */
int tiles_blob_inflate(const tiles_blob *b, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!b || (!b->gz && b->gz_len) || b->raw_len == SIZE_MAX)
        return TILES_EINVAL;
    uint8_t *p = malloc(b->raw_len + 1);
    if (!p)
        return TILES_ENOMEM;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        free(p);
        return TILES_ENOMEM;
    }
    size_t in_done = 0, out_done = 0;
    int rc;
    do {
        size_t in_left = b->gz_len - in_done, out_left = b->raw_len + 1 - out_done;
        zs.next_in = (Bytef *)(uintptr_t)(b->gz + in_done);
        zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        zs.next_out = p + out_done;
        zs.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        uInt in_given = zs.avail_in, out_given = zs.avail_out;
        rc = inflate(&zs, Z_NO_FLUSH);
        in_done += in_given - zs.avail_in;
        out_done += out_given - zs.avail_out;
        /* No progress with input left means a truncated or oversized member. */
        if (rc == Z_OK && in_given == zs.avail_in && out_given == zs.avail_out)
            break;
    } while (rc == Z_OK);
    inflateEnd(&zs);
    if (rc == Z_MEM_ERROR) {
        free(p);
        return TILES_ENOMEM;
    }
    if (rc != Z_STREAM_END || out_done != b->raw_len || in_done != b->gz_len) {
        free(p);
        return TILES_EINVAL;
    }
    *out = p;
    *len = out_done;
    return TILES_OK;
}

/* ---- accounting ----------------------------------------------------- */

/* What malloc(n) really takes with glibc: an 8-byte header, 16-byte
 * granules, 32 bytes at least. */
static size_t alloc_cost(size_t n)
{
    size_t c = (n + sizeof(size_t) + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

static size_t entry_cost(size_t gz_len, size_t variant_len)
{
    return alloc_cost(sizeof(blob_impl) + gz_len) +
           alloc_cost(sizeof(entry) + variant_len + 1);
}

static size_t addr_cost(void)
{
    return alloc_cost(sizeof(addr)) + 4 * sizeof(addr *);
}

/* ---- the hash table (cache lock held) -------------------------------- */

static uint64_t key_hash(int z, int64_t x, int64_t y)
{
    uint64_t k[3] = { (uint64_t)z, (uint64_t)x, (uint64_t)y };
    return XXH3_64bits(k, sizeof k);
}

/* Work: O(chain length), expected O(1) at load <= 1. */
static addr *addr_find(tiles_cache *c, uint64_t h, int z, int64_t x, int64_t y)
{
    for (addr *a = c->buckets[h & (c->nbuckets - 1)]; a; a = a->next_in_bucket)
        if (a->hash == h && a->z == z && a->x == x && a->y == y)
            return a;
    return NULL;
}

/* Moves every node into a table of n buckets; leaves the old table when
 * out of memory (a fuller table is slower, not wrong). Work: O(n + naddrs). */
static void rehash(tiles_cache *c, size_t n)
{
    addr **nb = calloc(n, sizeof *nb);
    if (!nb)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        addr *a = c->buckets[i];
        while (a) {
            addr *next = a->next_in_bucket;
            size_t j = a->hash & (n - 1);
            a->next_in_bucket = nb[j];
            nb[j] = a;
            a = next;
        }
    }
    free(c->buckets);
    c->buckets = nb;
    c->nbuckets = n;
}

static void addr_link(tiles_cache *c, addr *a)
{
    size_t i = a->hash & (c->nbuckets - 1);
    a->next_in_bucket = c->buckets[i];
    c->buckets[i] = a;
    c->naddrs++;
    c->bytes += addr_cost();
    if (c->naddrs > c->nbuckets && c->nbuckets <= SIZE_MAX / 2 / sizeof(addr *))
        rehash(c, c->nbuckets * 2);
}

/* Unlinks and frees a node that has no entries and is off the tombstone
 * list. Work: O(chain length), plus an amortised shrink. */
static void addr_drop(tiles_cache *c, addr *a)
{
    addr **pp = &c->buckets[a->hash & (c->nbuckets - 1)];
    while (*pp != a)
        pp = &(*pp)->next_in_bucket;
    *pp = a->next_in_bucket;
    c->naddrs--;
    c->bytes -= addr_cost();
    free(a);
    if (c->nbuckets > MIN_BUCKETS && c->naddrs < c->nbuckets / 4)
        rehash(c, c->nbuckets / 2);
}

/* ---- tombstones (cache lock held) ------------------------------------ */

static void tomb_push(tiles_cache *c, addr *a)
{
    a->is_tomb = 1;
    a->tomb_newer = NULL;
    a->tomb_older = c->tomb_newest;
    if (c->tomb_newest)
        c->tomb_newest->tomb_newer = a;
    else
        c->tomb_oldest = a;
    c->tomb_newest = a;
    c->ntombs++;
}

static void tomb_unlink(tiles_cache *c, addr *a)
{
    if (a->tomb_older)
        a->tomb_older->tomb_newer = a->tomb_newer;
    else
        c->tomb_oldest = a->tomb_newer;
    if (a->tomb_newer)
        a->tomb_newer->tomb_older = a->tomb_older;
    else
        c->tomb_newest = a->tomb_older;
    a->tomb_older = a->tomb_newer = NULL;
    a->is_tomb = 0;
    c->ntombs--;
}

/* Forgets the oldest tombstone, raising the floor so that what it
 * remembered still holds. */
static void tomb_forget_oldest(tiles_cache *c)
{
    addr *a = c->tomb_oldest;
    if (a->inval_gen > c->floor)
        c->floor = a->inval_gen;
    tomb_unlink(c, a);
    addr_drop(c, a);
}

/* Keeps tombstones within a thirty-second of the bound. Work: O(1) per
 * tombstone forgotten. */
static void tomb_cap(tiles_cache *c)
{
    while (c->ntombs && c->ntombs * addr_cost() > c->max_bytes / 32)
        tomb_forget_oldest(c);
}

/* A node whose last entry just went: a tombstone if its invalidation may
 * still matter to a put, else freed. */
static void addr_settle(tiles_cache *c, addr *a)
{
    if (a->variants || a->is_tomb)
        return;
    if (a->inval_gen > c->floor) {
        tomb_push(c, a);
        tomb_cap(c);
    } else {
        addr_drop(c, a);
    }
}

/* ---- entries (cache lock held) --------------------------------------- */

static void lru_unlink(tiles_cache *c, entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(tiles_cache *c, entry *e)
{
    e->newer = NULL;
    e->older = c->newest;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
}

/* Removes e from its address and the recency list, drops the cache's
 * reference to its blob and frees it; the address is left for the caller
 * to settle. Work: O(variants at the address). */
static void entry_drop(tiles_cache *c, entry *e)
{
    entry **pp = &e->at->variants;
    while (*pp != e)
        pp = &(*pp)->next_variant;
    *pp = e->next_variant;
    lru_unlink(c, e);
    c->entries--;
    c->bytes -= e->cost;
    if (e->extra)
        e->extra->release(e->extra);
    tiles_blob_release(&e->blob->pub);
    free(e);
}

/* Evicts from the old end until the bound holds, sparing keep; then, if
 * still over (only keep and tombstones left), forgets tombstones. Work:
 * O(variants) per entry evicted, O(1) per tombstone forgotten. */
static void trim(tiles_cache *c, const entry *keep)
{
    while (c->bytes > c->max_bytes && c->oldest && c->oldest != keep) {
        entry *e = c->oldest;
        addr *a = e->at;
        entry_drop(c, e);
        c->evictions++;
        addr_settle(c, a);
    }
    while (c->bytes > c->max_bytes && c->ntombs)
        tomb_forget_oldest(c);
}

/* Drops every entry of one address and records generation gen on it.
 * When the node cannot be allocated, raises the floor instead (refusing
 * every older put). Returns the entries dropped. Work: O(variants). */
static size_t invalidate_locked(tiles_cache *c, int z, int64_t x, int64_t y, uint64_t h,
                                uint64_t gen)
{
    if (c->max_bytes == 0)
        return 0;
    addr *a = addr_find(c, h, z, x, y);
    size_t n = 0;
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a) {
            c->floor = gen;
            return 0;
        }
        a->hash = h;
        a->z = z;
        a->x = x;
        a->y = y;
        addr_link(c, a);
    }
    while (a->variants) {
        entry_drop(c, a->variants);
        n++;
    }
    c->invalidations += n;
    a->inval_gen = gen;
    if (a->is_tomb)
        tomb_unlink(c, a);
    tomb_push(c, a);
    tomb_cap(c);
    trim(c, NULL);
    return n;
}

/* ---- the cache ------------------------------------------------------ */

tiles_cache *tiles_cache_new(size_t max_bytes)
{
    tiles_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->buckets = calloc(MIN_BUCKETS, sizeof *c->buckets);
    if (!c->buckets || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    c->nbuckets = MIN_BUCKETS;
    c->max_bytes = max_bytes;
    return c;
}

/* Frees every entry and node; the table keeps its size. Work:
 * O(entries + addresses + buckets). */
static void drop_all(tiles_cache *c)
{
    for (size_t i = 0; i < c->nbuckets; i++) {
        addr *a = c->buckets[i];
        while (a) {
            addr *next = a->next_in_bucket;
            entry *e = a->variants;
            while (e) {
                entry *nv = e->next_variant;
                if (e->extra)
                    e->extra->release(e->extra);
                tiles_blob_release(&e->blob->pub);
                free(e);
                e = nv;
            }
            free(a);
            a = next;
        }
        c->buckets[i] = NULL;
    }
    c->bytes = c->entries = c->naddrs = c->ntombs = 0;
    c->newest = c->oldest = NULL;
    c->tomb_oldest = c->tomb_newest = NULL;
}

void tiles_cache_free(tiles_cache *c)
{
    if (!c)
        return;
    drop_all(c);
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void tiles_cache_clear(tiles_cache *c)
{
    pthread_mutex_lock(&c->lock);
    c->invalidations += c->entries;
    drop_all(c);
    c->generation++;
    c->floor = c->generation;
    if (c->nbuckets > MIN_BUCKETS)
        rehash(c, MIN_BUCKETS);
    pthread_mutex_unlock(&c->lock);
}

uint64_t tiles_cache_generation(tiles_cache *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t g = c->generation;
    pthread_mutex_unlock(&c->lock);
    return g;
}

/* The variant's length when it is acceptable, else -1. */
static long variant_len(const char *variant)
{
    if (!variant)
        return -1;
    size_t n = strnlen(variant, TILES_CACHE_VARIANT_MAX + 1);
    return n > TILES_CACHE_VARIANT_MAX ? -1 : (long)n;
}

/* The entry (z, x, y, variant), or NULL; the cache lock held. Work: O(1)
 * expected plus O(variants) string compares. */
static entry *entry_find(tiles_cache *c, uint64_t h, int z, int64_t x, int64_t y,
                         const char *variant)
{
    addr *a = addr_find(c, h, z, x, y);
    for (entry *e = a ? a->variants : NULL; e; e = e->next_variant)
        if (strcmp(e->variant, variant) == 0)
            return e;
    return NULL;
}

const tiles_blob *tiles_cache_get(tiles_cache *c, int z, int64_t x, int64_t y,
                                  const char *variant)
{
    return tiles_cache_get_extra(c, z, x, y, variant, NULL);
}

const tiles_blob *tiles_cache_get_extra(tiles_cache *c, int z, int64_t x, int64_t y,
                                        const char *variant, tiles_blob_extra **extra)
{
    if (extra)
        *extra = NULL;
    int ok = variant_len(variant) >= 0 && tiles_tile_valid(z, x, y) && c->max_bytes;
    uint64_t h = ok ? key_hash(z, x, y) : 0;
    const tiles_blob *found = NULL;
    pthread_mutex_lock(&c->lock);
    entry *e = ok ? entry_find(c, h, z, x, y, variant) : NULL;
    if (e) {
        lru_unlink(c, e);
        lru_push(c, e);
        found = tiles_blob_retain(&e->blob->pub);
        if (extra && e->extra) {
            e->extra->retain(e->extra);
            *extra = e->extra;
        }
    }
    if (found)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* Stores blob b (taking a reference of its own) under (a's address,
 * variant) unless generation gen is stale; fresh is a preallocated entry,
 * used or freed. Work: O(variants) plus the eviction trim. */
static void store_locked(tiles_cache *c, int z, int64_t x, int64_t y, uint64_t h,
                         entry *fresh, blob_impl *b, size_t cost, uint64_t gen)
{
    if (gen > c->generation || gen < c->floor) {
        free(fresh);
        return;
    }
    addr *a = addr_find(c, h, z, x, y);
    if (a && gen < a->inval_gen) {
        free(fresh);
        return;
    }
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a) {
            free(fresh);
            return;
        }
        a->hash = h;
        a->z = z;
        a->x = x;
        a->y = y;
        addr_link(c, a);
    }
    tiles_blob_retain(&b->pub);
    entry *e;
    for (e = a->variants; e; e = e->next_variant)
        if (strcmp(e->variant, fresh->variant) == 0)
            break;
    if (e) {
        free(fresh);
        if (e->extra)
            e->extra->release(e->extra);   /* it belonged to the blob replaced */
        e->extra = NULL;
        tiles_blob_release(&e->blob->pub);
        c->bytes = c->bytes - e->cost + cost;
        e->blob = b;
        e->cost = cost;
        lru_unlink(c, e);
        lru_push(c, e);
    } else {
        e = fresh;
        e->at = a;
        e->extra = NULL;
        e->blob = b;
        e->cost = cost;
        e->next_variant = a->variants;
        a->variants = e;
        if (a->is_tomb)
            tomb_unlink(c, a);
        lru_push(c, e);
        c->entries++;
        c->bytes += cost;
    }
    trim(c, e);
}

int tiles_cache_put(tiles_cache *c, int z, int64_t x, int64_t y, const char *variant,
                    const uint8_t *raw, size_t len, uint64_t gen, const tiles_blob **out)
{
    *out = NULL;
    long vlen = variant_len(variant);
    if (vlen < 0 || !tiles_tile_valid(z, x, y))
        return TILES_EINVAL;
    blob_impl *b;
    int rc = blob_make(raw, len, &b);
    if (rc)
        return rc;
    *out = &b->pub;
    size_t cost = entry_cost(b->pub.gz_len, (size_t)vlen);
    if (c->max_bytes == 0 || cost > c->max_bytes || addr_cost() > c->max_bytes - cost)
        return TILES_OK;
    entry *fresh = malloc(sizeof *fresh + (size_t)vlen + 1);
    if (!fresh)
        return TILES_OK;   /* the caller still gets its tile, just not cached */
    memcpy(fresh->variant, variant, (size_t)vlen + 1);
    uint64_t h = key_hash(z, x, y);
    pthread_mutex_lock(&c->lock);
    store_locked(c, z, x, y, h, fresh, b, cost, gen);
    pthread_mutex_unlock(&c->lock);
    return TILES_OK;
}

int tiles_cache_set_extra(tiles_cache *c, int z, int64_t x, int64_t y, const char *variant,
                          const tiles_blob *b, tiles_blob_extra *extra)
{
    if (!b || !extra || variant_len(variant) < 0 || !tiles_tile_valid(z, x, y) || !c->max_bytes)
        return 0;
    uint64_t h = key_hash(z, x, y);
    int attached = 0;
    pthread_mutex_lock(&c->lock);
    entry *e = entry_find(c, h, z, x, y, variant);
    if (e && &e->blob->pub == b && !e->extra && extra->cost <= c->max_bytes - e->cost) {
        e->extra = extra;
        e->cost += extra->cost;
        c->bytes += extra->cost;
        trim(c, e);
        attached = 1;
    }
    pthread_mutex_unlock(&c->lock);
    return attached;
}

size_t tiles_cache_invalidate(tiles_cache *c, int z, int64_t x, int64_t y)
{
    if (!tiles_tile_valid(z, x, y))
        return 0;
    uint64_t h = key_hash(z, x, y);
    pthread_mutex_lock(&c->lock);
    uint64_t gen = ++c->generation;
    size_t n = invalidate_locked(c, z, x, y, h, gen);
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* Up to nine tiles per zoom, every zoom. */
typedef struct tile_set {
    struct { int z; int64_t x, y; uint64_t h; } t[(TILES_MAX_ZOOM + 1) * 9];
    size_t n;
} tile_set;

/* The tiles holding (lon, lat) at zooms minzoom..maxzoom; with extent > 0,
 * also the neighbours whose buffer holds it. Work: O(zooms × 9), no lock. */
static void tiles_around(tile_set *s, double lon, double lat, int minzoom, int maxzoom,
                         uint32_t extent, uint32_t buffer)
{
    s->n = 0;
    if (minzoom < 0)
        minzoom = 0;
    if (maxzoom > TILES_MAX_ZOOM)
        maxzoom = TILES_MAX_ZOOM;
    for (int z = minzoom; z <= maxzoom; z++) {
        int64_t x, y;
        if (tiles_tile_at(lon, lat, z, &x, &y) != TILES_OK)
            return;
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                int64_t tx = x + dx, ty = y + dy;
                int32_t px, py;
                int mine = dx == 0 && dy == 0;
                if (!mine) {
                    if (extent == 0 || !tiles_tile_valid(z, tx, ty))
                        continue;
                    tiles_frame f = { .z = z, .x = tx, .y = ty, .extent = extent,
                                      .buffer = buffer };
                    if (!tiles_point(&f, lon, lat, &px, &py))
                        continue;
                }
                s->t[s->n].z = z;
                s->t[s->n].x = tx;
                s->t[s->n].y = ty;
                s->t[s->n].h = key_hash(z, tx, ty);
                s->n++;
            }
        }
    }
}

static size_t invalidate_set(tiles_cache *c, const tile_set *s)
{
    if (s->n == 0)
        return 0;
    size_t n = 0;
    pthread_mutex_lock(&c->lock);
    uint64_t gen = ++c->generation;
    for (size_t i = 0; i < s->n; i++)
        n += invalidate_locked(c, s->t[i].z, s->t[i].x, s->t[i].y, s->t[i].h, gen);
    pthread_mutex_unlock(&c->lock);
    return n;
}

size_t tiles_cache_invalidate_point(tiles_cache *c, double lon, double lat,
                                    int minzoom, int maxzoom)
{
    tile_set s;
    tiles_around(&s, lon, lat, minzoom, maxzoom, 0, 0);
    return invalidate_set(c, &s);
}

size_t tiles_cache_invalidate_point_buffered(tiles_cache *c, double lon, double lat,
                                             int minzoom, int maxzoom,
                                             uint32_t extent, uint32_t buffer)
{
    if (extent == 0 || buffer > extent)
        return 0;
    tile_set s;
    tiles_around(&s, lon, lat, minzoom, maxzoom, extent, buffer);
    return invalidate_set(c, &s);
}

void tiles_cache_stats_get(tiles_cache *c, tiles_cache_stats *out)
{
    pthread_mutex_lock(&c->lock);
    out->entries = c->entries;
    out->bytes = c->bytes;
    out->max_bytes = c->max_bytes;
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
    out->invalidations = c->invalidations;
    pthread_mutex_unlock(&c->lock);
}

/* The walk behind tiles_cache_check. Returns 0 when every invariant
 * named in the file comment holds. */
static int check_locked(tiles_cache *c)
{
    size_t addrs = 0, entries = 0, tombs = 0, bytes = 0;
    if (c->nbuckets < MIN_BUCKETS || (c->nbuckets & (c->nbuckets - 1)))
        return -1;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (addr *a = c->buckets[i]; a; a = a->next_in_bucket) {
            addrs++;
            bytes += addr_cost();
            if ((a->hash & (c->nbuckets - 1)) != i || a->hash != key_hash(a->z, a->x, a->y))
                return -1;
            if (a->inval_gen > c->generation || a->is_tomb != (a->variants == NULL))
                return -1;
            tombs += (size_t)a->is_tomb;
            for (entry *e = a->variants; e; e = e->next_variant) {
                entries++;
                bytes += e->cost;
                size_t want = entry_cost(e->blob->pub.gz_len, strlen(e->variant))
                              + (e->extra ? e->extra->cost : 0);
                if (e->at != a || e->cost != want)
                    return -1;
                if (atomic_load(&e->blob->refs) < 1)
                    return -1;
            }
        }
    }
    size_t forward = 0, backward = 0;
    for (entry *e = c->newest; e && forward <= entries; e = e->older) {
        if ((e->newer ? e->newer->older : c->newest) != e)
            return -1;
        forward++;
    }
    for (entry *e = c->oldest; e && backward <= entries; e = e->newer)
        backward++;
    size_t tomb_walk = 0;
    for (addr *a = c->tomb_oldest; a && tomb_walk <= tombs; a = a->tomb_newer) {
        if (!a->is_tomb || (a->tomb_newer ? a->tomb_newer->tomb_older : c->tomb_newest) != a)
            return -1;
        tomb_walk++;
    }
    if (addrs != c->naddrs || entries != c->entries || tombs != c->ntombs ||
        forward != entries || backward != entries || tomb_walk != tombs)
        return -1;
    if (bytes != c->bytes || c->bytes > c->max_bytes || c->floor > c->generation)
        return -1;
    return 0;
}

int tiles_cache_check(tiles_cache *c)
{
    pthread_mutex_lock(&c->lock);
    int bad = check_locked(c);
    pthread_mutex_unlock(&c->lock);
    return bad ? TILES_EINVAL : TILES_OK;
}
