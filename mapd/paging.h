/*
 * mapd/paging.h — how the API's lists page (paging.c): cursor and offset
 * arguments, and what a page says about the items it does not hold.
 *
 * No list is cut short without saying so. A page that holds fewer items
 * than exist says "more": true and how to ask for the next one: a cursor
 * argument (after=ID or before=ID, the id of the page's last item, which
 * the answer gives as next_after or next_before), and for a GeoJSON list a
 * "links" member with a rel "next" link whose href is the query alone
 * ("?bbox=…&after=ID", a reference relative to the request's own URL, so it
 * holds behind any proxy or path prefix). A page read by cursor ends where
 * the next one starts: items added meanwhile shift nothing, so a client
 * that follows the cursors reads each item that was there when it began
 * exactly once. Offsets stay where they were, up to each list's ceiling;
 * past it the answer is a 400 naming the cursor to use instead.
 */
#ifndef MAPD_PAGING_H
#define MAPD_PAGING_H

#include <stdint.h>

#include "http.h"

/* The cursor argument name: an item id from 0 to LONG_MAX (0 or absent:
 * from the start of the list). 0 with *out, or -1 after a 400 "NAME is an
 * integer from 0 to …" (a word, a negative number, one past long's range). */
int mapd_cursor_arg_or_reply(mapd_ctx *ctx, const char *name, long *out);

/* The offset argument, 0 to max (0 when absent), for a list whose cursor
 * argument is cursor: 0 with *out, or -1 after a 400: for what is not an
 * integer, as mapd_long_arg_or_reply says it; for an integer past max,
 * "offset is at most MAX: page further with CURSOR=ID (the next_CURSOR of
 * each page)"; when the cursor argument is given too, "give offset or
 * CURSOR, not both". */
int mapd_offset_arg_or_reply(mapd_ctx *ctx, long max, const char *cursor, long *out);

/*
 * Adds to list (a JSON object) what a page says of the rest: "more", and
 * when more is set, "next_CURSOR": next and, with link_type (a GeoJSON
 * list: "application/geo+json"), "links": [{"rel": "next", "type":
 * link_type, "href": "?…"}] where the query repeats the request's own
 * arguments (percent-encoded again) but offset, drop (NULL-terminated: the
 * other paging arguments; may be NULL) and the cursor, then CURSOR=next.
 * 0, or -1 when out of memory. Work: one pass over the query's arguments
 * (at most MAPD_QUERY_ARGS_MAX of them, each under libmicrohttpd's request
 * size).
 */
int mapd_page_tail(mapd_ctx *ctx, json_t *list, int more, const char *cursor, int64_t next,
                   const char *const *drop, const char *link_type);

#endif
