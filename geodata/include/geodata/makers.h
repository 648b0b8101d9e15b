/*
 * geodata/makers.h — mask makers, their order books, and the materials they
 * need.
 *
 * A maker is a member with a verified home, published at the same coarse
 * public point as their posts. The materials a maker needs are published as
 * one request post (category "materials") by the maker, kept in step with the
 * profile: so they show up as needs in the maker's area wherever needs do.
 * Orders go pending -> accepted -> ready -> delivered, or declined (from
 * pending or accepted), each step by the maker only.
 */
#ifndef GEODATA_MAKERS_H
#define GEODATA_MAKERS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/audience.h"
#include "geodata/members.h"
#include "geodata/store.h"

#define GEODATA_MATERIALS_MAX 10      /* materials per maker */
#define GEODATA_MATERIAL_LEN  40      /* bytes per material */

typedef struct geodata_maker {
    int64_t member_id;
    char display_name[GEODATA_NAME_MAX + 1];
    char neighbourhood_id[GEODATA_ID_MAX + 1];
    int capacity_per_day, stock;
    char materials[GEODATA_MATERIALS_MAX][GEODATA_MATERIAL_LEN + 1];
    size_t n_materials;
    int64_t materials_post_id;        /* the post listing the materials; 0 when none */
    double lon, lat;                  /* public point */
} geodata_maker;

/* Creates or updates member's profile and its materials post. */
int geodata_maker_set(geodata_store *store, int64_t member, int capacity_per_day, int stock,
                      const char *const *materials, size_t n_materials, int64_t now);
int geodata_maker_get(geodata_store *store, int64_t member, geodata_maker *out);

/* The makers audience sees (audience.h; NULL: all), in the box when bbox is
 * not NULL, by member id from the first above after (0: from the start):
 * at most limit of them. With more (may be NULL) *more says whether others
 * follow the last one visited; a page ends where the next one starts
 * (after = the last id), so makers added meanwhile shift nothing. Work: one
 * index range of limit + 1 rows (the R*Tree's candidates with a box). */
int geodata_makers_query(geodata_store *store, const geodata_audience *audience, const double *bbox,
                         int64_t after, size_t limit,
                         int (*each)(void *arg, const geodata_maker *m), void *arg, int *more);

typedef struct geodata_order {
    int64_t id, maker_id, requester_id;
    char requester_name[GEODATA_NAME_MAX + 1];
    char maker_name[GEODATA_NAME_MAX + 1];
    int quantity;
    char note[501];
    char status[12];
    int64_t created_at, updated_at;
    char delivery_address[400];  /* the requester's address once accepted, else "";
                                    for the maker's eyes only (the caller decides) */
} geodata_order;

int geodata_order_create(geodata_store *store, int64_t maker, int64_t requester, int quantity,
                         const char *note, int64_t now, int64_t *id);
int geodata_order_get(geodata_store *store, int64_t id, geodata_order *out);
/* The maker's book (by_maker) or the requester's own orders, newest first,
 * those with an id below before (0: from the newest), at most limit; *more
 * says whether older ones follow the last one visited. Work: the member's
 * orders through their index, limit + 1 of them read. */
int geodata_orders_list(geodata_store *store, int64_t member, int by_maker, int64_t before,
                        size_t limit, int (*each)(void *arg, const geodata_order *o), void *arg,
                        int *more);
/* Moves an order to status, by its maker; GEODATA_EDENIED for anyone else,
 * GEODATA_ECONFLICT for a step the order cannot take. */
int geodata_order_set_status(geodata_store *store, int64_t id, int64_t actor, const char *status,
                             int64_t now);

#endif
