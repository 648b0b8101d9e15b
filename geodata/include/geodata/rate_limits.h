/*
 * geodata/rate_limits.h — token buckets kept in the store, so that every
 * process serving one PostgreSQL database counts a client's logins,
 * registrations and comments together, whichever replica it lands on.
 *
 * A bucket holds up to burst tokens and gains per_second of them a second;
 * each allowed action takes one. Buckets idle for an hour are forgotten.
 * A SQLite store has one serving process, which keeps its buckets in memory
 * (mapd/ratelimit.c): these calls are for stores that geodata_store_shared
 * says are shared.
 */
#ifndef GEODATA_RATE_LIMITS_H
#define GEODATA_RATE_LIMITS_H

#include "geodata/store.h"

/* Refills bucket (at most 111 bytes) for the time since its last use, then
 * takes a token if one is there: *allowed is 1 when it was, 0 when the
 * bucket is empty. One statement, atomic against other processes. */
int geodata_rate_take(geodata_store *store, const char *bucket, double now, double per_second,
                      double burst, int *allowed);

/* Fills bucket again (after a successful login, say). */
int geodata_rate_refill(geodata_store *store, const char *bucket, double burst);

#endif
