/*
 * geodata/store.h — the SpatiaLite store: one file holding neighbourhoods,
 * addresses, members, posts, makers, shops and the audit log.
 *
 * The interface is narrow on purpose: callers speak of domain operations
 * (import, look up, count), never of SQL, so that another backend (PostGIS)
 * can stand behind the same functions later.
 *
 * Threads: a geodata_store wraps one sqlite3 connection and must be used by
 * one thread at a time. Open one store per worker thread.
 *
 * Errors: every function returns 0 (GEODATA_OK) or a negative GEODATA_E*
 * code; the message of the last failure is read with geodata_errmsg().
 */
#ifndef GEODATA_STORE_H
#define GEODATA_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Error codes, -1 to -99 (the tiles library's are below -100). */
enum {
    GEODATA_OK        =  0,
    GEODATA_ENOMEM    = -1,  /* out of memory */
    GEODATA_EIO       = -2,  /* a file cannot be read or written */
    GEODATA_EINVAL    = -3,  /* bad input: the message says what */
    GEODATA_ENOTFOUND = -4,  /* no such record */
    GEODATA_EDB       = -5,  /* the database refused (corrupt, locked) */
    GEODATA_EGEOM     = -6,  /* a geometry could not be used or repaired */
    GEODATA_ESCHEMA   = -7,  /* the file's schema is newer than this program */
    GEODATA_ECONFLICT = -8,  /* the record's state forbids it (taken email, claimed post) */
    GEODATA_EDENIED   = -9,  /* this member may not do this to this record */
    GEODATA_ESTALE    = -10, /* what was asked for is gone (a pruned change feed): reload */
    GEODATA_EFULL     = -11, /* the disk (or the quota) is full: nothing of the write is in;
                                the same write succeeds once space is freed */
    GEODATA_EUNAVAIL  = -12, /* the database cannot answer now (unreachable, restarting,
                                over its time budget): the same call may succeed later */
};

typedef struct geodata_store geodata_store;

/* Flags for geodata_store_open(). */
#define GEODATA_OPEN_CREATE   0x1u  /* create the file and its schema if absent */
#define GEODATA_OPEN_READONLY 0x2u  /* no writes; the schema must be current */
#define GEODATA_OPEN_ANY_VERSION 0x4u /* with READONLY: any schema version (for backups) */

/*
 * Opens (and with GEODATA_OPEN_CREATE creates) the store at path, loads
 * mod_spatialite, enables WAL and foreign keys, and applies pending schema
 * migrations in one transaction each.
 * On success *out is a new store, to be freed with geodata_store_close(), and
 * *errmsg is NULL. On failure *out is NULL and *errmsg is a malloc'd one-line
 * message that the caller frees with free().
 */
int geodata_store_open(const char *path, unsigned flags,
                       geodata_store **out, char **errmsg);

/* Gives every later statement of the store at most ms milliseconds (0: no
 * limit); one running longer is cancelled and fails with GEODATA_EUNAVAIL.
 * PostgreSQL's statement_timeout; on SQLite, whose statements run in this
 * process against a local file, nothing is set (a lock is waited for 5 s at
 * most, as always). Returns 0 or the error. */
int geodata_store_time_budget(geodata_store *store, int ms);

/* Closes the connection (checkpointing the WAL) and frees the store. NULL is a no-op. */
void geodata_store_close(geodata_store *store);

/* Whether other processes, on other machines, may serve the same store at
 * once (a PostgreSQL database): 1, else 0 (a SQLite file, served by one). */
int geodata_store_shared(const geodata_store *store);

/* The store as messages and logs may name it: the file's path, or the
 * PostgreSQL database's name and host, never a password. Owned by the store. */
const char *geodata_store_name(const geodata_store *store);

/* The message of the last failed call on this store; "" when none. Owned by the store. */
const char *geodata_errmsg(const geodata_store *store);

/* Sets the store's message to msg and returns code: an error met on another
 * connection (a writer thread's) reported on this one. */
int geodata_store_error(geodata_store *store, int code, const char *msg);

/*
 * Group commit: calls write(arg, i, store) for i = 0 to n - 1 inside one
 * transaction, then commits once, so that one fsync of the WAL covers them
 * all. A write that fails on its own (a refused post: its code and the
 * store's message are the caller's to keep, in write) does not stop the
 * others, unless it rolled the whole transaction back (an I/O error, a full
 * disk). Returns 0 once the transaction is committed; otherwise nothing of
 * it is in the store, and the code is returned with the message set. Work:
 * the writes, one commit.
 */
int geodata_store_batch(geodata_store *store, size_t n,
                        int (*write)(void *arg, size_t i, geodata_store *store), void *arg);

/* The schema version this program writes, and the version of an open store. */
int geodata_schema_version_current(void);
int geodata_store_schema_version(geodata_store *store, int *out);

/* Row counts of the main collections, for reports, health checks and tests. */
typedef struct geodata_counts {
    int64_t neighbourhoods;
    int64_t contiguities;       /* unordered pairs of contiguous neighbourhoods */
    int64_t addresses;
    int64_t addresses_outside;  /* addresses inside no neighbourhood */
    int64_t shops;
    int64_t members;
    int64_t posts;
} geodata_counts;

int geodata_store_counts(geodata_store *store, geodata_counts *out);

/* Writes a consistent copy of the store to path (which must not exist) with
 * SQLite's online backup API, while other connections keep reading and
 * writing: the copy is of the moment it starts (one read transaction, when
 * the store has none open), and later writes neither wait for it nor restart
 * it. The copy is checked with PRAGMA quick_check. A failed backup leaves no
 * file behind; GEODATA_EFULL when path's disk is full. Work: a copy of every
 * page, 1,000 pages per step. */
int geodata_store_backup(geodata_store *store, const char *path);

#endif
