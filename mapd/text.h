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

#endif
