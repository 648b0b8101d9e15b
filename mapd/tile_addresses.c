/*
 * mapd/tile_addresses.c — address points in memory (see tile_addresses.h).
 * Ids are a running count: addresses are never changed one by one here.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/map.h"
#include "tile_addresses.h"
#include "tiles/tile.h"

typedef struct loading {
    tiles_pointset *set;
    int64_t next;
} loading;

static int put_address(void *arg, const geodata_map_address *a)
{
    loading *l = arg;
    char number[48];
    int nl = snprintf(number, sizeof number, "%lld%s", (long long)a->number, a->rep);
    size_t sl = strlen(a->street);
    char *p = malloc((size_t)nl + sl + 2);
    if (!p)
        return TILES_ENOMEM;
    memcpy(p, number, (size_t)nl + 1);
    memcpy(p + nl + 1, a->street, sl + 1);
    int rc = tiles_pointset_put(l->set, l->next++, a->lon, a->lat, 0, 0, 0, p);
    return rc == TILES_EINVAL ? 0 : rc; /* a point off the globe is left out */
}

int mapd_addresses_load(geodata_store *store, tiles_pointset **out)
{
    *out = NULL;
    loading l = { tiles_pointset_new(free), 0 };
    if (!l.set)
        return TILES_ENOMEM;
    int rc = geodata_map_addresses(store, put_address, &l);
    if (rc) {
        tiles_pointset_free(l.set);
        return rc;
    }
    *out = l.set;
    return 0;
}

const char *mapd_address_number(const void *payload)
{
    return payload;
}

const char *mapd_address_street(const void *payload)
{
    const char *p = payload;
    return p + strlen(p) + 1;
}
