/*
 * mapd/text.c — a growable text buffer, for answers assembled from
 * serialised pieces (the read model's lists, OGC API pages).
 */
#include <stdlib.h>
#include <string.h>

#include "text.h"

int mapd_text_append(mapd_text *t, const void *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t ncap = t->cap ? t->cap : 4096;
        while (ncap < t->len + n + 1)
            ncap *= 2;
        char *d = realloc(t->data, ncap);
        if (!d)
            return -1;
        t->data = d;
        t->cap = ncap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
    return 0;
}

size_t mapd_url_byte(unsigned char c, const char *keep, char out[3])
{
    static const char hex[] = "0123456789ABCDEF";
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || (c && strchr("-._~", c)) || (c && strchr(keep, c))) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = '%';
    out[1] = hex[c >> 4];
    out[2] = hex[c & 15];
    return 3;
}
