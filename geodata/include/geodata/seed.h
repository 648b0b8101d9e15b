/*
 * geodata/seed.h — example data for demonstrations and benchmarks.
 */
#ifndef GEODATA_SEED_H
#define GEODATA_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/store.h"

/* An account to create with a known password (for a demonstration). Members
 * and shop owners get a home at a random address, all in one neighbourhood. */
typedef struct geodata_seed_account {
    const char *email;
    const char *password_hash;
    const char *display_name;
    const char *role;
} geodata_seed_account;

typedef struct geodata_seed_report {
    size_t members, posts, makers, shops;
} geodata_seed_report;

/*
 * In one transaction, adds example members living at addresses drawn at
 * random (so posts are spread like the addresses), `posts` requests and
 * offers by them, a few mask makers, and statuses for about half of the
 * shops. Seeded members cannot log in (their password hash is "!"), except
 * the given accounts. An account whose email exists already is left as it is.
 * Deterministic for a given seed and now. Work: O(posts) inserts.
 */
int geodata_seed(geodata_store *store, size_t posts, uint64_t seed, int64_t now,
                 const geodata_seed_account *accounts, size_t n_accounts,
                 geodata_seed_report *report);

#endif
