/*
 * mapd/text.h — a growable text buffer (text.c).
 */
#ifndef MAPD_TEXT_H
#define MAPD_TEXT_H

#include <stddef.h>

/* A growable text buffer; data is malloc'd. */
typedef struct mapd_text {
    char *data;
    size_t len, cap;
} mapd_text;

/* Appends n bytes of s; 0, or -1 when out of memory (t unchanged). */
int mapd_text_append(mapd_text *t, const void *s, size_t n);

/* Byte c as it goes into a URL's query: itself when it is an RFC 3986
 * unreserved character or one of keep, else %XX; written to out, its
 * length (1 or 3) returned. */
size_t mapd_url_byte(unsigned char c, const char *keep, char out[3]);

#endif
