/*
 * geodata/shops.h — local shops: what they sell, whether and how they are
 * open, and who may say so. Shops are public to read.
 */
#ifndef GEODATA_SHOPS_H
#define GEODATA_SHOPS_H

#include <stddef.h>
#include <stdint.h>

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
 * NULL), of this owner (any when 0), by id, paged; *total before paging. */
int geodata_shops_query(geodata_store *store, const double *bbox, const char *status,
                        int64_t owner, size_t limit, size_t offset,
                        int (*each)(void *arg, const geodata_shop *s), void *arg, size_t *total);

/* An imported shop becomes owner's; GEODATA_ECONFLICT when someone else has it. */
int geodata_shop_claim(geodata_store *store, int64_t id, int64_t owner);

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
