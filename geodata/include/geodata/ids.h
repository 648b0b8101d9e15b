/*
 * geodata/ids.h — an interning table of short ids (neighbourhood ids): each
 * distinct id gets a small number, 0, 1, 2, … in the order first seen, so
 * that per-record state (a post's neighbourhood, a tile group) is a number
 * and a viewer's neighbourhoods a bit set. Lookups are hash probes: a
 * country has 50,000 neighbourhoods, and a linear scan per record made
 * loading a million posts take minutes.
 *
 * Not locked: a table belongs to one thread, or to its owner's lock.
 */
#ifndef GEODATA_IDS_H
#define GEODATA_IDS_H

#include <stddef.h>
#include <stdint.h>

#define GEODATA_IDS_NONE UINT32_MAX

typedef struct geodata_ids geodata_ids;

/* A new empty table, or NULL when out of memory. */
geodata_ids *geodata_ids_new(void);
void geodata_ids_free(geodata_ids *t);

/* The number of id, added (copied) if new; GEODATA_IDS_NONE when out of
 * memory. Work: a hash probe (amortised; the table doubles at half full). */
uint32_t geodata_ids_intern(geodata_ids *t, const char *id);

/* The number of id, or GEODATA_IDS_NONE when it was never interned. */
uint32_t geodata_ids_find(const geodata_ids *t, const char *id);

/* The id numbered i (i < geodata_ids_count), owned by the table. */
const char *geodata_ids_name(const geodata_ids *t, uint32_t i);
size_t geodata_ids_count(const geodata_ids *t);

/* Bytes held, for the memory figures. */
size_t geodata_ids_bytes(const geodata_ids *t);

#endif
