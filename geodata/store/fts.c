/*
 * geodata/store/fts.c — keywords as an FTS5 query, for every full-text
 * search of the store (posts, comments).
 */
#include <ctype.h>
#include <stdio.h>

#include "internal.h"

void geodata_fts_query(const char *keywords, char *out, size_t n)
{
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)keywords;
    out[0] = '\0';
    while (*s) {
        while (*s && !(isalnum(*s) || *s >= 0x80))
            s++;
        const unsigned char *w = s;
        while (*s && (isalnum(*s) || *s >= 0x80))
            s++;
        size_t len = (size_t)(s - w);
        if (!len || o + len + 4 >= n)
            continue;
        o += (size_t)snprintf(out + o, n - o, "%s\"%.*s\"", o ? " " : "", (int)len, (const char *)w);
    }
}
