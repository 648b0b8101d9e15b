/*
 * geodata/streets.h — street centrelines derived from the address points.
 *
 * The store's `streets` table holds one line per street (a commune's INSEE
 * code and a street name) and per stretch of it, derived from the addresses
 * alone: streets.c says how and where it fails. The lines are rebuilt for
 * the communes whose addresses changed (`mapd import addresses` does it at
 * its end, in its transaction; the schema migration that created the table
 * built them for the addresses already stored). They feed the `streets`
 * layer of the tiles, so that the offline map has streets with names.
 */
#ifndef GEODATA_STREETS_H
#define GEODATA_STREETS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/import.h"
#include "geodata/store.h"

/* Street lines are split where no address lies within this many metres. */
#define GEODATA_STREET_GAP_M 250.0

/* One address of a street, as the derivation reads it. */
typedef struct geodata_street_address {
    double lon, lat;              /* EPSG:4326 */
    long number;                  /* the house number, without its suffix */
} geodata_street_address;

/*
 * Derives the centrelines of one street from its n addresses (any order;
 * ties in number keep the given order) and calls each(arg, lonlat, n_points)
 * with every line: n_points >= 2 (lon, lat) pairs, valid during the call
 * only. Numbers 0 and 99999 and above (BAN's named places) are left out. A
 * street may give no line (fewer than two usable addresses, all at one spot,
 * or too few to show a direction) or several (stretches more than
 * GEODATA_STREET_GAP_M apart).
 * A non-zero return of each stops and is returned. The result depends only
 * on the input, so deriving again gives the same bytes. 0, GEODATA_ENOMEM,
 * or each's code. Work: O(n log n) for the orderings, plus O(n * v) for
 * projecting the addresses on a reference line of v vertices (a handful for
 * most streets); memory O(n).
 */
int geodata_streets_derive(const geodata_street_address *a, size_t n,
                           int (*each)(void *arg, const double *lonlat, size_t n_points),
                           void *arg);

typedef struct geodata_streets_stats {
    uint64_t communes;            /* communes rebuilt, those left without addresses too */
    uint64_t addresses;           /* addresses read */
    uint64_t streets;             /* lines of those communes after the rebuild */
    uint64_t changed;             /* lines inserted, updated or deleted */
} geodata_streets_stats;

/*
 * Rebuilds the streets of the communes whose addresses changed since their
 * last rebuild (the store keeps that list, filled by triggers on the
 * addresses, whoever wrote them), then empties the list. A line whose
 * geometry comes out the same is not rewritten, so nothing changes — and
 * the change feed says nothing — when the addresses did not. Runs in the
 * caller's transaction if one is open, else in its own. progress (may be
 * NULL) is called with the communes done out of the total. Work: one scan of
 * the addresses and a sort of those of the communes to rebuild (SQLite's
 * sorter: bounded memory, spills to disk), then geodata_streets_derive per
 * street; memory: the largest street.
 */
int geodata_streets_rebuild(geodata_store *store, geodata_progress_fn progress, void *progress_arg,
                            geodata_streets_stats *stats);

typedef struct geodata_street {
    const char *name;
    const char *insee;
    const unsigned char *wkb;     /* the LINESTRING, OGC WKB, EPSG:4326 */
    size_t wkb_len;
} geodata_street;

/* Calls each for the streets whose box meets box (west, south, east,
 * north), at most max of them; the street and what it points to are valid
 * during the call only. A non-zero return of each stops and is returned.
 * Work: the R*Tree hits of the box, up to max. */
int geodata_streets_in_box(geodata_store *store, const double box[4], size_t max,
                           int (*each)(void *arg, const geodata_street *s), void *arg);

#endif
