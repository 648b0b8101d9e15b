/*
 * geodata/domain/ids.c — the interning table of ids (see ids.h): the ids in
 * an array by number, and an open-addressing index over it (number + 1, 0
 * empty; FNV-1a; linear probing; kept at most half full).
 */
#include <stdlib.h>
#include <string.h>

#include "geodata/ids.h"

struct geodata_ids {
    char **names;        /* by number */
    size_t n, cap;
    uint32_t *slots;     /* number + 1, or 0 */
    size_t cap_slots;    /* a power of two, or 0 */
    size_t bytes;        /* of the names */
};

geodata_ids *geodata_ids_new(void)
{
    return calloc(1, sizeof(geodata_ids));
}

void geodata_ids_free(geodata_ids *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    free(t->slots);
    free(t);
}

static size_t slot_of(const char *id, size_t cap)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *c = (const unsigned char *)id; *c; c++)
        h = (h ^ *c) * 1099511628211ULL;
    return (size_t)(h & (cap - 1));
}

uint32_t geodata_ids_find(const geodata_ids *t, const char *id)
{
    if (!t->cap_slots)
        return GEODATA_IDS_NONE;
    for (size_t i = slot_of(id, t->cap_slots);; i = (i + 1) & (t->cap_slots - 1)) {
        uint32_t s = t->slots[i];
        if (!s)
            return GEODATA_IDS_NONE;
        if (strcmp(t->names[s - 1], id) == 0)
            return s - 1;
    }
}

/* Places number k in slots (cap a power of two, with room). */
static void place(uint32_t *slots, size_t cap, const char *id, size_t k)
{
    size_t j = slot_of(id, cap);
    while (slots[j])
        j = (j + 1) & (cap - 1);
    slots[j] = (uint32_t)k + 1;
}

uint32_t geodata_ids_intern(geodata_ids *t, const char *id)
{
    uint32_t known = geodata_ids_find(t, id);
    if (known != GEODATA_IDS_NONE)
        return known;
    if (t->n >= GEODATA_IDS_NONE - 1)
        return GEODATA_IDS_NONE;
    if ((t->n + 1) * 2 > t->cap_slots) {
        size_t cap = t->cap_slots ? t->cap_slots * 2 : 256;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return GEODATA_IDS_NONE;
        for (size_t k = 0; k < t->n; k++)
            place(slots, cap, t->names[k], k);
        free(t->slots);
        t->slots = slots;
        t->cap_slots = cap;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **names = realloc(t->names, cap * sizeof *names);
        if (!names)
            return GEODATA_IDS_NONE;
        t->names = names;
        t->cap = cap;
    }
    size_t len = strlen(id) + 1;
    char *copy = malloc(len);
    if (!copy)
        return GEODATA_IDS_NONE;
    memcpy(copy, id, len);
    t->names[t->n] = copy;
    t->bytes += len;
    place(t->slots, t->cap_slots, copy, t->n);
    return (uint32_t)t->n++;
}

const char *geodata_ids_name(const geodata_ids *t, uint32_t i)
{
    return t->names[i];
}

size_t geodata_ids_count(const geodata_ids *t)
{
    return t->n;
}

size_t geodata_ids_bytes(const geodata_ids *t)
{
    return sizeof *t + t->cap * sizeof *t->names + t->cap_slots * sizeof *t->slots + t->bytes;
}
