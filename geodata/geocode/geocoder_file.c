/*
 * geodata/geocode/geocoder_file.c — the geocoder's index on disk, beside the
 * database (DB.geocoder), opened with mmap: a server on a country's base
 * starts in seconds instead of building the index again from 26 million
 * rows (a minute and a half).
 *
 * Format: a header (magic, format version, the sizes of the structures, the
 * key of the store's state, the scalars, and each array's offset and count),
 * then every array of geodata_geocoder as it is in memory, 8-byte aligned.
 * It is this machine's byte order and layout: the file is a cache, never
 * exchanged; one whose header does not match is built again.
 *
 * The key names the state of the store the index was built from: the last
 * import of addresses or neighbourhoods in the audit log (its id and time;
 * both imports write it in the transaction of their change), the highest
 * address id, the number of neighbourhoods and the schema version. Any
 * change the index depends on changes the key, so a stale file is never
 * used: geodata_geocoder_open builds the index again and replaces the file
 * (written under another name, then renamed). The key is read before the
 * build: a change committed during it leaves a file with the older key,
 * built again at the next opening, never one used with the wrong key. The neighbourhoods' ids and
 * names, and the suffix spellings, are read from the store at each opening
 * (small), the rest is mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "geocoder_internal.h"
#include "internal.h"

#define FILE_MAGIC "entraide geocoder index\n"
#define FILE_VERSION 3
#define KEY_MAX 160

/* Every array of the index: its field and the field counting its elements. */
#define GC_ARRAYS(X)                                           \
    X(arena, arena_len)                                        \
    X(addr, n_addr)                                            \
    X(street, n_street)                                        \
    X(city, n_city)                                            \
    X(town, n_town)                                            \
    X(word, n_word)                                            \
    X(street_toks, n_street_toks)                              \
    X(city_toks, n_city_toks)                                  \
    X(town_toks, n_town_toks)                                  \
    X(posts, n_posts)                                          \
    X(word_hash, word_hash_cap)                                \
    X(word_sorted, n_word)                                     \
    X(del_hash, n_del)                                         \
    X(del_word, n_del)                                         \
    X(postcodes, n_postcodes)                                  \
    X(postcode_towns, n_postcode_towns)                        \
    X(pc_street, n_pc_street)                                  \
    X(town_street, n_town_street)                              \
    X(word_town, n_word_town)                                  \
    X(grid_addr, n_addr)                                       \
    X(grid_key, n_cells)

enum {
#define X(field, n) A_##field,
    GC_ARRAYS(X)
#undef X
    A_grid_start,        /* n_cells + 1 entries */
    A_reps,              /* the suffix spellings, each NUL-terminated */
    N_ARRAYS
};

typedef struct file_array {
    uint64_t offset, count, size;   /* bytes from the file's start; elements; element size */
} file_array;

typedef struct file_header {
    char magic[32];
    uint32_t version;
    uint32_t sizes[6];              /* of the structures the arrays hold */
    char key[KEY_MAX];
    double cell_lat, cell_lon, min_lat, min_lon;
    float idf_unknown;
    uint32_t type_words[GC_TYPE_WORDS];
    uint64_t n_type_words, n_reps;
    file_array a[N_ARRAYS];
    uint64_t file_size;
} file_header;

static void struct_sizes(uint32_t sizes[6])
{
    sizes[0] = sizeof(gc_addr);
    sizes[1] = sizeof(gc_street);
    sizes[2] = sizeof(gc_city);
    sizes[3] = sizeof(gc_town);
    sizes[4] = sizeof(gc_word);
    sizes[5] = sizeof(file_header);
}

/* The key of the store's state (see the top of the file). */
static int store_key(geodata_store *store, char key[KEY_MAX])
{
    sql_stmt *st = geodata_prepare(store,
        "SELECT (SELECT coalesce(max(id), 0) || '@' || coalesce(max(at), 0) FROM audit_log"
        "        WHERE id = (SELECT max(id) FROM audit_log"
        "                    WHERE action IN ('import addresses', 'import neighbourhoods'))),"
        "       (SELECT coalesce(max(id), 0) FROM addresses),"
        "       (SELECT count(*) FROM neighbourhoods)");
    if (!st)
        return GEODATA_EDB;
    int version = 0, rc = geodata_store_schema_version(store, &version);
    if (!rc && sql_step(st) == SQL_ROW)
        snprintf(key, KEY_MAX, "import %s, address %lld, %lld neighbourhoods, schema %d",
                 (const char *)sql_column_text(st, 0), sql_column_int64(st, 1),
                 sql_column_int64(st, 2), version);
    else if (!rc)
        rc = geodata_fail_sql(store, "reading the state of the addresses");
    sql_finalize(st);
    return rc;
}

/* The index file's path for the store (DB.geocoder), or NULL for a
 * database without a file (in memory). malloc'd. */
static char *index_path(geodata_store *store)
{
    if (store->pg)
        return geodata_pg_cache_path(store->pg, "geocoder");
    const char *db = sqlite3_db_filename(store->db, "main");
    return db && *db ? geodata_format("%s.geocoder", db) : NULL;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes g to path (through path.PID.tmp, renamed when complete and synced).
 * 0, or -1 with errno set. Work: the index's size in writes. */
static int save(const geodata_geocoder *g, const char *key, const char *path)
{
    file_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, FILE_MAGIC, sizeof FILE_MAGIC);
    h.version = FILE_VERSION;
    struct_sizes(h.sizes);
    snprintf(h.key, sizeof h.key, "%s", key);
    h.cell_lat = g->cell_lat;
    h.cell_lon = g->cell_lon;
    h.min_lat = g->min_lat;
    h.min_lon = g->min_lon;
    h.idf_unknown = g->idf_unknown;
    memcpy(h.type_words, g->type_words, sizeof h.type_words);
    h.n_type_words = g->n_type_words;
    h.n_reps = g->n_reps;
    const void *data[N_ARRAYS];
    size_t reps_len = 0;
    for (size_t i = 0; i < g->n_reps; i++)
        reps_len += strlen(g->reps[i]) + 1;
    char *reps = malloc(reps_len ? reps_len : 1);
    if (!reps)
        return -1;
    for (size_t i = 0, at = 0; i < g->n_reps; i++) {
        size_t l = strlen(g->reps[i]) + 1;
        memcpy(reps + at, g->reps[i], l);
        at += l;
    }
    uint64_t at = (sizeof h + 7) & ~(uint64_t)7;
#define X(field, n)                                                             \
    data[A_##field] = g->field;                                                \
    h.a[A_##field] = (file_array){ at, g->n, sizeof *g->field };               \
    at = (at + (uint64_t)g->n * sizeof *g->field + 7) & ~(uint64_t)7;
    GC_ARRAYS(X)
#undef X
    data[A_grid_start] = g->grid_start;
    h.a[A_grid_start] = (file_array){ at, g->n_cells + 1, sizeof *g->grid_start };
    at = (at + (uint64_t)(g->n_cells + 1) * sizeof *g->grid_start + 7) & ~(uint64_t)7;
    data[A_reps] = reps;
    h.a[A_reps] = (file_array){ at, reps_len, 1 };
    at = (at + reps_len + 7) & ~(uint64_t)7;
    h.file_size = at;

    char *tmp = geodata_format("%s.%ld.tmp", path, (long)getpid());  /* one per writer */
    int fd = tmp ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    int rc = fd < 0 ? -1 : write_all(fd, &h, sizeof h);
    static const char zeros[8];
    uint64_t written = sizeof h;
    for (int i = 0; !rc && i < N_ARRAYS; i++) {
        if (written < h.a[i].offset)
            rc = write_all(fd, zeros, h.a[i].offset - written);
        size_t bytes = (size_t)(h.a[i].count * h.a[i].size);
        if (!rc && bytes)
            rc = write_all(fd, data[i], bytes);
        written = h.a[i].offset + bytes;
    }
    if (!rc && written < h.file_size)
        rc = write_all(fd, zeros, h.file_size - written);
    if (!rc)
        rc = fsync(fd);
    int saved = errno;
    if (fd >= 0 && close(fd) && !rc)
        rc = -1, saved = errno;
    if (!rc && rename(tmp, path))
        rc = -1, saved = errno;
    if (rc && tmp)
        unlink(tmp);
    free(tmp);
    free(reps);
    errno = saved;
    return rc;
}

/* Maps path into a new geocoder when its header matches key; NULL when the
 * file is absent, stale or not one of ours (it is then built again).
 * GEODATA_ENOMEM / GEODATA_EDB only for failures of the store or memory. */
static int open_mapped(geodata_store *store, const char *path, const char *key,
                       geodata_geocoder **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return GEODATA_OK;
    struct stat sb;
    file_header h;
    uint32_t sizes[6];
    struct_sizes(sizes);
    if (fstat(fd, &sb) || (size_t)sb.st_size < sizeof h || pread(fd, &h, sizeof h, 0) != sizeof h
        || memcmp(h.magic, FILE_MAGIC, sizeof FILE_MAGIC) || h.version != FILE_VERSION
        || memcmp(h.sizes, sizes, sizeof sizes) || strncmp(h.key, key, sizeof h.key)
        || h.file_size != (uint64_t)sb.st_size) {
        close(fd);
        return GEODATA_OK;
    }
    /* Every array inside the file, of the element size this build uses, and
     * the arrays that share a count agreeing on it. */
    static const size_t sizes_of[N_ARRAYS] = {
#define X(field, n) [A_##field] = sizeof *((geodata_geocoder *)0)->field,
        GC_ARRAYS(X)
#undef X
        [A_grid_start] = sizeof(uint32_t), [A_reps] = 1,
    };
    int bad = h.a[A_addr].count != h.a[A_grid_addr].count || h.a[A_word].count != h.a[A_word_sorted].count
           || h.a[A_del_hash].count != h.a[A_del_word].count
           || h.a[A_grid_start].count != h.a[A_grid_key].count + 1;
    for (int i = 0; !bad && i < N_ARRAYS; i++)
        bad = h.a[i].size != sizes_of[i] || h.a[i].offset > h.file_size || h.a[i].count > h.file_size
           || h.a[i].count * h.a[i].size > h.file_size - h.a[i].offset;
    if (bad) {
        close(fd);
        return GEODATA_OK;
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return GEODATA_OK;
    geodata_geocoder *g = calloc(1, sizeof *g);
    if (!g) {
        munmap(map, (size_t)sb.st_size);
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    g->map = map;
    g->map_len = (size_t)sb.st_size;
    char *base = map;
#define X(field, n)                                                             \
    g->field = (void *)(base + h.a[A_##field].offset);                         \
    g->n = (size_t)h.a[A_##field].count;
    GC_ARRAYS(X)
#undef X
    g->grid_start = (void *)(base + h.a[A_grid_start].offset);
    g->cell_lat = h.cell_lat;
    g->cell_lon = h.cell_lon;
    g->min_lat = h.min_lat;
    g->min_lon = h.min_lon;
    g->idf_unknown = h.idf_unknown;
    memcpy(g->type_words, h.type_words, sizeof g->type_words);
    g->n_type_words = (size_t)h.n_type_words;
    /* The suffix spellings point into the mapping. */
    g->reps = malloc((h.n_reps ? h.n_reps : 1) * sizeof *g->reps);
    int rc = g->reps ? GEODATA_OK : geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    const char *r = base + h.a[A_reps].offset, *end = r + h.a[A_reps].count;
    for (size_t i = 0; !rc && i < h.n_reps; i++) {
        const char *nul = memchr(r, '\0', (size_t)(end - r));
        if (!nul) {
            geodata_geocoder_free(g);
            return GEODATA_OK;  /* a damaged file: built again */
        }
        g->reps[g->n_reps++] = (char *)r;
        r = nul + 1;
    }
    if (!rc)
        rc = gc_load_neighbourhoods(store, g);
    if (rc) {
        geodata_geocoder_free(g);
        return rc;
    }
    *out = g;
    return GEODATA_OK;
}

int geodata_geocoder_open(geodata_store *store, geodata_geocoder **out,
                          geodata_geocoder_origin *origin)
{
    *out = NULL;
    geodata_geocoder_origin how = GEODATA_GEOCODER_MAPPED;
    char key[KEY_MAX];
    int rc = store_key(store, key);
    char *path = rc ? NULL : index_path(store);
    if (!rc && path)
        rc = open_mapped(store, path, key, out);
    if (!rc && !*out) {
        rc = geodata_geocoder_load(store, out);
        how = GEODATA_GEOCODER_BUILT;
        /* A failed write leaves the index in memory: only the next opening is slower. */
        if (!rc && (!path || save(*out, key, path))) {
            how = GEODATA_GEOCODER_BUILT_UNSAVED;
            if (path)
                geodata_fail(store, GEODATA_EIO, "%s: %s", path, strerror(errno));
            else
                geodata_fail(store, GEODATA_EIO, "a database in memory has no index file");
        }
    }
    free(path);
    if (origin)
        *origin = how;
    return rc;
}

int geodata_geocoder_refresh(geodata_store *store, geodata_geocoder_origin *origin)
{
    geodata_geocoder *g;
    int rc = geodata_geocoder_open(store, &g, origin);
    geodata_geocoder_free(g);
    return rc;
}
