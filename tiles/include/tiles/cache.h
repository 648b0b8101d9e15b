/*
 * tiles/cache.h — an in-memory tile cache bounded in bytes, least recently
 * used first out, holding gzip-compressed tile bodies with a strong ETag.
 *
 * A tile is cached per address (z, x, y) and per variant: "" for the public
 * tile, else a short key naming what the viewer may see. Bodies are kept as
 * gzip members so a server can send them as they are to clients that accept
 * gzip, and inflate them for the others.
 *
 * Bodies are tiles_blob values: immutable and reference-counted, so a server
 * can hand blob->gz to its HTTP layer without copying and release the blob
 * once the response is gone. The cache holds one reference to each stored
 * blob; eviction, invalidation, clear and tiles_cache_free drop only that
 * reference, so a blob somebody still holds stays readable.
 *
 * Invalidation and racing renders: read tiles_cache_generation() before
 * reading the data a tile is rendered from, and pass that value to
 * tiles_cache_put(). A put is not stored when its tile was invalidated, or
 * the cache cleared, after that generation was read, so a render that saw
 * the data before a change cannot put a stale tile back after the change
 * was invalidated.
 *
 * Extras: a user of the cache may hang one object of its own on a stored
 * entry (tiles_blob_extra: e.g. a server's response, prepared once and sent
 * many times), which lives as long as the entry holds its blob and is
 * counted in the bound. The cache knows nothing of what it is.
 *
 * Threads: every function may be called from any thread at the same time;
 * one mutex inside the cache guards its tables (never held while
 * compressing). Blob functions need no lock.
 */
#ifndef TILES_CACHE_H
#define TILES_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tiles/tile.h"

#define TILES_CACHE_DEFAULT_BYTES ((size_t)256 << 20)  /* 256 MiB */
#define TILES_CACHE_VARIANT_MAX 128   /* longest variant key, in bytes */

typedef struct tiles_cache tiles_cache;

/* An immutable, reference-counted tile body, gzip-compressed. Obtained from
 * tiles_cache_get, tiles_cache_put or tiles_blob_new, each with one
 * reference that the caller gives back with tiles_blob_release. */
typedef struct tiles_blob {
    const uint8_t *gz;   /* a gzip member (RFC 1952), as zlib writes with windowBits 31 */
    size_t gz_len;       /* bytes at gz */
    size_t raw_len;      /* length of the uncompressed tile */
    uint64_t etag;       /* XXH3_64bits of the uncompressed bytes */
} tiles_blob;

/* What a user of the cache keeps with a stored entry: embed it first in a
 * reference-counted struct of your own and attach it with
 * tiles_cache_set_extra. The cache holds one reference while the entry
 * holds its blob; it calls retain for each reference it hands out
 * (tiles_cache_get_extra) and release when it lets go (the entry evicted,
 * invalidated, replaced or cleared, or the cache freed). Both are called
 * under the cache lock: they must be quick and must not call the cache;
 * release may free the extra (and release blobs). */
typedef struct tiles_blob_extra {
    void (*retain)(struct tiles_blob_extra *self);
    void (*release)(struct tiles_blob_extra *self);
    size_t cost;   /* bytes the extra takes, counted in the cache's bound */
} tiles_blob_extra;

/* A new cache holding at most max_bytes: gzip bodies, variant keys, and the
 * per-entry and per-address bookkeeping (structures, allocator headers and
 * a share of the hash table), plus remembered invalidations. Only the cache
 * structure itself and the smallest hash table (about 1 KiB) are outside
 * the bound. max_bytes 0 makes a disabled cache: get always misses, put
 * stores nothing but still returns a blob. NULL on out of memory. */
tiles_cache *tiles_cache_new(size_t max_bytes);

/* Frees the cache and its own references; blobs still referenced by callers
 * stay valid until released. NULL is fine. Work: O(entries). */
void tiles_cache_free(tiles_cache *c);

/* The current generation: read it before reading the data of a tile to be
 * rendered, and pass it to tiles_cache_put. */
uint64_t tiles_cache_generation(tiles_cache *c);

/* Looks up tile (z, x, y) in variant (NUL-terminated, at most
 * TILES_CACHE_VARIANT_MAX bytes). A hit returns the blob with one more
 * reference, which the caller releases, and makes the entry the most
 * recently used; NULL on a miss (including an invalid address or variant).
 * Work: O(1) expected, plus O(variants at that address) string compares. */
const tiles_blob *tiles_cache_get(tiles_cache *c, int z, int64_t x, int64_t y,
                                  const char *variant);

/* tiles_cache_get, and on a hit *extra is the entry's extra with one more
 * reference for the caller (retain called), or NULL when it has none. *extra
 * is NULL on a miss. Work: as tiles_cache_get, plus one retain. */
const tiles_blob *tiles_cache_get_extra(tiles_cache *c, int z, int64_t x, int64_t y,
                                        const char *variant, tiles_blob_extra **extra);

/* Attaches extra to the entry (z, x, y, variant) when that entry still holds
 * blob b and has no extra yet: returns 1, and the cache owns the reference
 * the caller passed (retain first to keep one), counts extra->cost in its
 * bound and may evict older entries for it. Returns 0 when it does not
 * attach (no such entry, another blob or extra there, or the extra alone
 * exceeds the bound): the caller keeps its reference. Work: O(1) expected
 * plus O(variants at that address), plus O(1) per entry evicted. */
int tiles_cache_set_extra(tiles_cache *c, int z, int64_t x, int64_t y, const char *variant,
                          const tiles_blob *b, tiles_blob_extra *extra);

/* Compresses raw (len bytes; raw may be NULL when len is 0) and puts a blob
 * with one reference for the caller in *out. The cache keeps its own
 * reference (replacing any entry with the same address and variant) and
 * evicts least recently used entries to stay within its bound, unless the
 * cache is disabled, the entry alone exceeds the bound, or tile (z, x, y)
 * was invalidated or the cache cleared after generation gen was read (or gen
 * is newer than the current generation): then the blob is returned but not
 * stored. TILES_EINVAL (and *out NULL) for an invalid tile address, a NULL
 * or too long variant, or NULL raw with len > 0; TILES_ENOMEM when the
 * blob cannot be made (memory short for the cache's own bookkeeping only
 * leaves the tile unstored). The caller keeps raw. Work: compressing len bytes (outside the
 * lock), then O(1) expected plus O(variants at that address) plus O(1) per
 * entry evicted under the lock. */
int tiles_cache_put(tiles_cache *c, int z, int64_t x, int64_t y, const char *variant,
                    const uint8_t *raw, size_t len, uint64_t gen, const tiles_blob **out);

/* A blob that no cache holds: raw (len bytes, NULL allowed when len is 0)
 * compressed, with its ETag; one reference for the caller in *out.
 * TILES_EINVAL for NULL raw with len > 0, TILES_ENOMEM. Work: O(len). */
int tiles_blob_new(const uint8_t *raw, size_t len, const tiles_blob **out);

/* Takes one more reference to b and returns it (NULL gives NULL). */
const tiles_blob *tiles_blob_retain(const tiles_blob *b);

/* Gives back one reference; the last one frees the blob. NULL is fine. */
void tiles_blob_release(const tiles_blob *b);

/* The uncompressed bytes, malloc'd into *out (never NULL on success, even
 * for 0 bytes) with *len == b->raw_len; the caller frees *out. TILES_EINVAL
 * when b's bytes are not a gzip member of raw_len bytes, TILES_ENOMEM.
 * Work: O(raw_len). */
int tiles_blob_inflate(const tiles_blob *b, uint8_t **out, size_t *len);

/* Drops tile (z, x, y) in every variant and makes puts of generations read
 * before this call skip that tile; returns how many entries went.
 * Work: O(variants at that address). */
size_t tiles_cache_invalidate(tiles_cache *c, int z, int64_t x, int64_t y);

/* Drops, at every zoom minzoom..maxzoom (clamped to 0..TILES_MAX_ZOOM), the
 * tile that tiles_tile_at says holds (lon, lat), in every variant; returns
 * the entries dropped. Nothing for non-finite coordinates.
 * Work: O(zooms × variants per address). */
size_t tiles_cache_invalidate_point(tiles_cache *c, double lon, double lat,
                                    int minzoom, int maxzoom);

/* Like tiles_cache_invalidate_point, but also drops the neighbouring tiles
 * whose buffer holds the point, as tiles_point (tiles/geometry.h) decides
 * with this extent and buffer: the tiles a point feature is drawn in. Use it
 * for features rendered with a buffer. buffer must be at most extent and
 * extent > 0, else nothing is dropped. Work: O(zooms × 9 × variants). */
size_t tiles_cache_invalidate_point_buffered(tiles_cache *c, double lon, double lat,
                                             int minzoom, int maxzoom,
                                             uint32_t extent, uint32_t buffer);

/* Drops every entry; puts of generations read before this call are not
 * stored. Work: O(entries + addresses). */
void tiles_cache_clear(tiles_cache *c);

typedef struct tiles_cache_stats {
    size_t entries;          /* tiles stored (address × variant) */
    size_t bytes;            /* accounted bytes, always <= max_bytes */
    size_t max_bytes;        /* the bound given to tiles_cache_new */
    uint64_t hits, misses;   /* tiles_cache_get outcomes */
    uint64_t evictions;      /* entries dropped to stay within the bound */
    uint64_t invalidations;  /* entries dropped by invalidate* and clear */
} tiles_cache_stats;

/* A consistent snapshot of the counters. */
void tiles_cache_stats_get(tiles_cache *c, tiles_cache_stats *out);

/* Walks every structure and checks the cache's invariants (counts, byte
 * total, list links, hash placement). 0 when they hold, TILES_EINVAL when
 * not. For tests and debugging. Work: O(entries + addresses + buckets),
 * under the lock. */
int tiles_cache_check(tiles_cache *c);

#endif
