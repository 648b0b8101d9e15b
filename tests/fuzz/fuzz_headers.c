/*
 * tests/fuzz/fuzz_headers.c — mapd's parsers of untrusted input (mapd/parse.c)
 * on any bytes, each given the whole input as a header value, a path or a
 * --listen address. Besides memory errors (ASan, and the copy sized to the
 * input catches a read past the NUL), it aborts when an answer breaks its
 * contract: an Accept-Encoding weight outside 0..1000, a range outside the
 * representation, a tile outside its zoom's grid, a route index out of the
 * table or an {id} that is not positive, a result that changes when asked
 * twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "tiles/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const mapd_route_key keys[] = {
    { "GET", "/healthz" },
    { "GET", "/api/posts/{id}" },
    { "POST", "/api/posts/{id}/claim" },
    { "GET", "/ogc/collections/*" },
    { "GET", "/*" },
};

static void check_range(const char *s, uint64_t size)
{
    uint64_t first = 0, last = 0;
    int r = mapd_parse_range(s, size, &first, &last);
    if (r < -1 || r > 1 || (r == 1 && (first > last || last >= size)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    static const char *const codings[] = { "gzip", "br", "identity" };
    for (size_t i = 0; i < 3; i++) {
        int q = mapd_parse_accept_encoding(s, codings[i]);
        if (q < 0 || q > 1000 || q != mapd_parse_accept_encoding(s, codings[i]))
            abort();
    }

    int a = mapd_parse_if_none_match(s, "\"0123456789abcdef\"");
    int b = mapd_parse_if_none_match(s, "\"\"");
    if ((a != 0 && a != 1) || (b != 0 && b != 1))
        abort();
    if (mapd_parse_if_range(s, "\"1-2-3\"", "Sat, 07 Dec 2024 10:00:00 GMT") != (strcmp(s, "\"1-2-3\"") == 0
            || strcmp(s, "Sat, 07 Dec 2024 10:00:00 GMT") == 0))
        abort();

    static const uint64_t sizes[] = { 0, 1, 1000, UINT64_C(1) << 40, UINT64_MAX };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        check_range(s, sizes[i]);

    static const char *const suffixes[] = { ".mvt", "" };
    for (size_t i = 0; i < 2; i++) {
        int z = -1;
        int64_t x = -1, y = -1;
        if (mapd_parse_tile(s, suffixes[i], &z, &x, &y) && !tiles_tile_valid(z, x, y))
            abort();
    }

    struct sockaddr_in sa;
    if (mapd_parse_listen(s, &sa) && sa.sin_family != AF_INET)
        abort();

    int64_t id = 0;
    int known = 0;
    int i = mapd_parse_route_find(keys, sizeof keys / sizeof keys[0], "GET", s, &id, &known);
    if (i < -1 || i >= (int)(sizeof keys / sizeof keys[0]) || (i == 1 && id <= 0))
        abort();
    i = mapd_parse_route_find(keys, sizeof keys / sizeof keys[0], "POST", s, &id, &known);
    if (i != -1 && (i != 2 || id <= 0))
        abort();
    free(s);
    return 0;
}
