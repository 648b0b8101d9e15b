/*
 * geodata/shops.h — local shops: what they sell, whether and how they are
 * open, and who may say so. Shops are public to read.
 */
#ifndef GEODATA_SHOPS_H
#define GEODATA_SHOPS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/members.h"
#include "geodata/store.h"

#define GEODATA_SHOP_STALE_S (7 * 86400)  /* a status older than this is unconfirmed */

typedef struct geodata_shop {
    int64_t id;
    char source_id[128];
    char name[201], shop[64], brand[128], opening_hours[256];
    char housenumber[32], street[201], postcode[16], city[101];
    char status[16];                  /* unknown, open, closed, delivery_only, takeaway_only */
    int delivers, takeaway, gift_cards;
    int64_t confirmed_at;             /* 0 when never */
    int64_t owner_id;                 /* 0 when nobody has claimed it */
    char neighbourhood_id[65];
    double lon, lat;
} geodata_shop;

int geodata_shop_status_valid(const char *status);

int geodata_shop_get(geodata_store *store, int64_t id, geodata_shop *out);

/* Shops in the box (all when bbox is NULL), with this status (any when
 * NULL), of this owner (any when 0), by id: those with an id above after
 * (0: from the first), offset of them skipped, at most limit visited.
 * *total counts every match, before paging (the cursor and offset
 * excluded); *more says whether a match follows the last one visited. With
 * after as the cursor (the last id of the page before), shops added
 * meanwhile shift nothing. Work: a count of the matches, and one index
 * range of offset + limit + 1 rows. */
int geodata_shops_query(geodata_store *store, const double *bbox, const char *status,
                        int64_t owner, int64_t after, size_t limit, size_t offset,
                        int (*each)(void *arg, const geodata_shop *s), void *arg, size_t *total,
                        int *more);

/* ---- claims (shop_claims.c): a shop account asks, staff decide ---- */

#define GEODATA_CLAIM_NOTE_MAX 500     /* bytes of a claim's note to staff */
#define GEODATA_CLAIMS_PAGE    200     /* claims listed at most per call, newest first */

typedef struct geodata_shop_claim {
    int64_t id, shop_id, member_id;
    char shop_name[201];
    char shop_address[360];            /* "12 Rue X, 75011 Paris", as imported */
    char member_name[GEODATA_NAME_MAX + 1];
    char member_email[GEODATA_EMAIL_MAX + 1];
    char note[GEODATA_CLAIM_NOTE_MAX + 1];
    char status[12];                   /* pending, approved, rejected, withdrawn */
    int64_t created_at, decided_at;    /* decided_at: 0 while pending */
} geodata_shop_claim;

/* member asks to own shop id, with a note for staff (how to check: "call
 * the shop, ask for Ana"). GEODATA_ECONFLICT when the shop has an owner
 * (*claim_id 0 and no error when it is already member's); asking again
 * while a claim is pending replaces its note and keeps its id. */
int geodata_shop_claim_request(geodata_store *store, int64_t id, int64_t member, const char *note,
                               int64_t now, int64_t *claim_id);

/* Claims, newest first: member's own (any status) when member > 0, else
 * every pending one (for staff); those with an id below before (0: from the
 * newest), at most limit (1 to GEODATA_CLAIMS_PAGE, else GEODATA_EINVAL).
 * *more says whether older ones follow the last one visited. Work: one
 * index range of limit + 1 rows. */
int geodata_shop_claims(geodata_store *store, int64_t member, int64_t before, size_t limit,
                        int (*each)(void *arg, const geodata_shop_claim *c), void *arg, int *more);

int geodata_shop_claim_get(geodata_store *store, int64_t claim_id, geodata_shop_claim *out);

/* Staff decide a pending claim. Approving makes the claimant the shop's
 * owner and turns down the other pending claims of that shop; both are
 * audited, in one transaction. GEODATA_ECONFLICT when the claim is no
 * longer pending or the shop found an owner meanwhile. */
int geodata_shop_claim_decide(geodata_store *store, int64_t claim_id, int64_t staff, int approve,
                              int64_t now);

/* A new shop by owner at (lon, lat). */
int geodata_shop_create(geodata_store *store, int64_t owner, const char *name, const char *shop,
                        const char *opening_hours, const char *housenumber, const char *street,
                        const char *postcode, const char *city, double lon, double lat,
                        int64_t now, int64_t *id);

typedef struct geodata_shop_update {
    const char *status;          /* NULL keeps */
    int delivers, takeaway, gift_cards;   /* -1 keeps */
    const char *opening_hours;   /* NULL keeps; syntax checked by the caller */
} geodata_shop_update;

/* Sets the status fields and confirms them now, by the owner (or staff:
 * actor_is_staff). GEODATA_EDENIED for anyone else. A status that implies
 * its services (closed: none; delivery_only: delivery, no takeaway;
 * takeaway_only: the reverse) sets those left unsaid; said otherwise, they
 * are GEODATA_EINVAL, and nothing changes. */
int geodata_shop_update_status(geodata_store *store, int64_t id, int64_t actor, int actor_is_staff,
                               const geodata_shop_update *u, int64_t now);

#endif
