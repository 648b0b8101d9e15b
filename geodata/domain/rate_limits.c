/*
 * geodata/domain/rate_limits.c — token buckets in the store (see
 * rate_limits.h). The table rate_limits exists on PostgreSQL only
 * (schema_pg.c): on SQLite the one serving process counts in memory.
 *
 * Taking a token is one upsert: the refill, the take and the answer are
 * computed from the row as it is when the statement locks it, so two
 * replicas taking at once both see each other's take.
 */
#include <string.h>

#include "internal.h"
#include "geodata/rate_limits.h"

#define IDLE_S 3600.0         /* a bucket unused this long is full again: forgotten */
#define SWEEP_EVERY 1024      /* takes between two sweeps of forgotten buckets, per process */

/* Forgets buckets idle for IDLE_S, now and then. */
static int sweep(geodata_store *store, double now)
{
    static unsigned takes;
    if (__atomic_fetch_add(&takes, 1, __ATOMIC_RELAXED) % SWEEP_EVERY)
        return GEODATA_OK;
    sql_stmt *st = geodata_cached(store, "DELETE FROM rate_limits WHERE at < ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_double(st, 1, now - IDLE_S);
    int rc = geodata_write(store, st, "forgetting idle rate limits", NULL);
    geodata_release(store, st);
    return rc;
}

int geodata_rate_take(geodata_store *store, const char *bucket, double now, double per_second,
                      double burst, int *allowed)
{
    *allowed = 1;
    if (strlen(bucket) > 111)
        return geodata_fail(store, GEODATA_EINVAL, "a rate limit's key has at most 111 bytes");
    /* x, the tokens after the refill: least(burst, tokens + elapsed * rate). */
#define REFILLED "CASE WHEN rate_limits.tokens + (?2 - rate_limits.at) * ?3 > ?4 THEN ?4 " \
                 "ELSE rate_limits.tokens + (?2 - rate_limits.at) * ?3 END"
    sql_stmt *st = geodata_cached(store,
        "INSERT INTO rate_limits(bucket, tokens, at, allowed) VALUES (?1, ?4 - 1, ?2, 1) "
        "ON CONFLICT(bucket) DO UPDATE SET "
        "  tokens = CASE WHEN " REFILLED " >= 1 THEN " REFILLED " - 1 ELSE " REFILLED " END, "
        "  allowed = CASE WHEN " REFILLED " >= 1 THEN 1 ELSE 0 END, at = ?2 "
        "RETURNING allowed");
#undef REFILLED
    if (!st)
        return GEODATA_EDB;
    sql_bind_text(st, 1, bucket, -1, SQL_STATIC);
    sql_bind_double(st, 2, now);
    sql_bind_double(st, 3, per_second);
    sql_bind_double(st, 4, burst);
    int row = geodata_step(store, st);
    if (row > 0)
        *allowed = sql_column_int(st, 0) != 0;
    geodata_release(store, st);
    if (row <= 0)
        return row < 0 ? row : geodata_fail(store, GEODATA_EDB, "the rate limit gave no answer");
    return sweep(store, now);
}

int geodata_rate_refill(geodata_store *store, const char *bucket, double burst)
{
    sql_stmt *st = geodata_cached(store, "UPDATE rate_limits SET tokens = ?2 WHERE bucket = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_text(st, 1, bucket, -1, SQL_STATIC);
    sql_bind_double(st, 2, burst);
    int rc = geodata_write(store, st, "refilling a rate limit", NULL);
    geodata_release(store, st);
    return rc;
}
