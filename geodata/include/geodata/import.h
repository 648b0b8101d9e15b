/*
 * geodata/import.h — bringing outside data into the store.
 *
 * Every import runs in one transaction: it either completes, or leaves what
 * was stored before untouched (a crash or kill halfway included, thanks to
 * SQLite's journal). Bad records are skipped and counted, and the first few
 * are described by location in the report; a source that cannot be used at
 * all (unreadable, empty, wrong columns, no usable field) fails the import.
 *
 *   neighbourhoods  any OGR polygon source in any CRS; reprojected to
 *                   EPSG:4326, repaired with GEOS, contiguity computed in
 *                   metres; replaces the previous set and reassigns every
 *                   address, shop and member to its new neighbourhood.
 *   addresses       BAN/BANO-style CSV (';'-separated, plain or gzip);
 *                   upserted by source id, so re-importing is idempotent.
 *   shops           any OGR point/polygon source with OSM-style tags;
 *                   upserted by OSM id, keeping statuses set by shop owners.
 */
#ifndef GEODATA_IMPORT_H
#define GEODATA_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/store.h"

/* Called now and then with the work done so far, out of total (both in the
 * same unit, bytes or records; total is 0 when unknown). */
typedef void (*geodata_progress_fn)(void *arg, uint64_t done, uint64_t total);

typedef struct geodata_import_options {
    const char *id_field;         /* neighbourhoods: field holding the id; NULL = detect */
    const char *name_field;       /* neighbourhoods: field holding the name; NULL = detect */
    double gap_m;                 /* neighbourhoods: contiguity gap in metres; <= 0 = default */
    geodata_progress_fn progress; /* may be NULL */
    void *progress_arg;
} geodata_import_options;

#define GEODATA_DEFAULT_GAP_M 25.0
#define GEODATA_REPORT_NOTES  10   /* notes kept in a report; the rest are only counted */

typedef struct geodata_report {
    uint64_t read;        /* records read from the source */
    uint64_t stored;      /* records inserted or updated, or found the same */
    uint64_t changed;     /* addresses: records inserted or updated (not found the same) */
    uint64_t rejected;    /* records skipped as unusable */
    uint64_t outside;     /* stored records inside no neighbourhood */
    uint64_t repaired;    /* neighbourhood geometries repaired */
    uint64_t contiguities;/* neighbourhood pairs found contiguous */
    uint64_t reassigned;  /* neighbourhoods: addresses, shops and members reassigned */
    uint64_t n_notes_total;            /* notes produced, kept or not */
    size_t n_notes;                    /* notes kept, at most GEODATA_REPORT_NOTES */
    char *notes[GEODATA_REPORT_NOTES]; /* malloc'd one-line notes: "line 12: ..." */
} geodata_report;

/* Frees the notes of a report and zeroes it. */
void geodata_report_clear(geodata_report *report);

/*
 * Each import fills *report (zeroed first; clear it with geodata_report_clear
 * even on failure) and returns 0, or a negative code with the reason in
 * geodata_errmsg(store); on failure nothing stored before has changed.
 * opts may be NULL for the defaults.
 */
int geodata_import_neighbourhoods(geodata_store *store, const char *path,
                                  const geodata_import_options *opts,
                                  geodata_report *report);
int geodata_import_addresses(geodata_store *store, const char *path,
                             const geodata_import_options *opts,
                             geodata_report *report);
int geodata_import_shops(geodata_store *store, const char *path,
                         const geodata_import_options *opts,
                         geodata_report *report);

#endif
