/*
 * mapd/parse.h — the server's parsers of untrusted input that are not JSON:
 * the request path against the routing table, the request headers it acts
 * on (Accept-Encoding, If-None-Match, Range, If-Range), tile addresses and
 * the --listen address.
 *
 * Pure functions (parse.c): no allocation, no I/O, no libmicrohttpd, safe
 * from any thread; the caller looks the header up and passes its value,
 * NULL when the request has none. Each states the bound on its work; none
 * reads past the string's NUL. They are tested alone (tests/mapd) and
 * fuzzed (tests/fuzz/fuzz_headers.c).
 */
#ifndef MAPD_PARSE_H
#define MAPD_PARSE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* ---- routes ------------------------------------------------------------------ */

/* One row of a routing table as the matcher sees it. In a pattern, {id} is a
 * positive integer (no leading zero; at most 9007199254740999, about 2^53) and a final * any rest
 * of the path, empty included; everything else matches itself. */
typedef struct mapd_route_key {
    const char *method;       /* "GET", "POST", ... compared exactly */
    const char *pattern;      /* e.g. "/api/posts/{id}/claim" */
} mapd_route_key;

/* 1 when path matches pattern, *id then set to the {id} of the path (left
 * alone when the pattern has none); 0 when not. Work: one pass over both. */
int mapd_parse_route_match(const char *pattern, const char *path, int64_t *id);

/* The index of the first row of keys[0..n) whose pattern matches path and
 * whose method is method, *id set as by mapd_parse_route_match; -1 when no
 * row does, *path_known then saying whether a row other than the catch-all
 * (the pattern of one '*' after the root) matched the path with another method (the caller's 405; the
 * catch-all knows no path, so that is a 404). Work: at most n matches. */
int mapd_parse_route_find(const mapd_route_key *keys, size_t n, const char *method,
                          const char *path, int64_t *id, int *path_known);

/* The methods the rows of keys[0..n) other than the catch-all allow on
 * path, as an Allow header's value ("GET, HEAD, POST"; HEAD wherever GET is),
 * into out of cap bytes (names that do not fit are left out; 48 bytes hold
 * them all): its length, 0 when none. Work: at most 6 n matches. */
size_t mapd_parse_route_allow(const mapd_route_key *keys, size_t n, const char *path, char *out,
                              size_t cap);

/* ---- headers ----------------------------------------------------------------- */

/* The weight, 0 to 1000, that the Accept-Encoding header h gives to coding
 * ("br" or "gzip"; "x-gzip" counts as "gzip"): its own first entry's q, else
 * that of the first "*", else 0 (a coding the header does not name is not
 * acceptable); no header (NULL) or an empty one: 0. q is an RFC 9110 qvalue
 * ("0" to "1", at most three decimals); a malformed one weighs 0. Names and
 * parameters are case-insensitive. Work: one pass over h. */
int mapd_parse_accept_encoding(const char *h, const char *coding);

/* 1 when the If-None-Match header h names etag (a quoted entity tag, "x")
 * or is "*" (alone as a member of the list): weak comparison, as RFC 9110
 * wants for this header, so W/"x" names "x" too. NULL: 0. A malformed member
 * of the list (no quotes, junk after the closing quote) names nothing; the
 * others are still read. Work: one pass over h. */
int mapd_parse_if_none_match(const char *h, const char *etag);

/* The Range header h against a representation of size bytes: 1 with the
 * inclusive slice [*first, *last] for a single byte range ("bytes=A-B",
 * "bytes=A-" or the suffix "bytes=-N", clamped to the size); 0 when there
 * is no header or it is not one such range (several ranges, another unit,
 * blanks, numbers of more than 19 digits, B < A): the whole representation
 * is then sent, as RFC 9110 allows; -1 when the range cannot be satisfied
 * (A at or past the end, "-0", or any range of an empty one): 416. Work:
 * constant (the header is read at most ~46 bytes deep). */
int mapd_parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last);

/* 1 when a Range applies under the If-Range header h: no header (NULL), or h
 * is exactly the strong etag or the last_modified date the response carries
 * (an empty last_modified matches nothing); 0 when it names another
 * version (a weak tag never matches: If-Range compares strongly), and the
 * whole representation is sent. Work: two string comparisons. */
int mapd_parse_if_range(const char *h, const char *etag, const char *last_modified);

/* ---- addresses --------------------------------------------------------------- */

/* "Z/X/Y" followed by exactly suffix (".mvt", "" for the command line): 1
 * with *z, *x, *y when zoom is 0 to TILES_MAX_ZOOM and X and Y are below
 * 2^zoom, in plain decimal (no sign, blank or more than 8 digits); 0 when
 * not. Work: at most 26 digits read, then one comparison with suffix. */
int mapd_parse_tile(const char *path, const char *suffix, int *z, int64_t *x, int64_t *y);

/* --listen "IPV4:PORT" (port 0 to 65535 in at most 5 decimal digits; 0:
 * any free port): 1 with *sa filled, 0 when not. An IPv6 address, a host
 * name, a missing port or a host of more than 63 bytes is refused (mapd
 * listens on IPv4; a proxy in front takes the rest). Work: one pass over s. */
int mapd_parse_listen(const char *s, struct sockaddr_in *sa);

#endif
