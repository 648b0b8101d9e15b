/*
 * mapd/parse.c — the server's parsers of untrusted input that are not JSON
 * (see parse.h for each contract).
 *
 * Design: every parser reads a NUL-terminated string once, left to right,
 * and answers with numbers; none allocates, copies into a fixed buffer it
 * could overflow, or calls strtol/strtod (whose locale, blanks, signs and
 * overflow rules are wider than what HTTP allows). Numbers are read digit by
 * digit with a limit on their length, so none can overflow. When a header
 * is malformed, the answer is the one that is always safe: the identity
 * encoding, no 304, the whole file.
 *
 * Invariants the tests (tests/mapd/test_mapd.c) and the fuzz target
 * (tests/fuzz/fuzz_headers.c) check: an Accept-Encoding weight is 0 to 1000;
 * a satisfied range has first <= last < size; a parsed tile is valid at its
 * zoom; nothing reads past the NUL.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "tiles/tile.h"

/* ---- routes ------------------------------------------------------------------ */

/* The largest {id}: 16 digits, about 2^53 (ids are SQLite rowids that also
 * travel as JSON numbers, exact up to 2^53 in JavaScript). */
#define ROUTE_ID_MAX_TENTH (INT64_C(1) << 53) / 10

int mapd_parse_route_match(const char *pattern, const char *path, int64_t *id)
{
    const char *p = pattern, *u = path;
    while (*p) {
        if (p[0] == '*')
            return 1;
        if (p[0] == '{' && strncmp(p, "{id}", 4) == 0) {
            if (*u < '1' || *u > '9')
                return 0;
            int64_t v = 0;
            while (*u >= '0' && *u <= '9') {
                if (v > ROUTE_ID_MAX_TENTH)
                    return 0;
                v = v * 10 + (*u++ - '0');
            }
            *id = v;
            p += 4;
            continue;
        }
        if (*p++ != *u++)
            return 0;
    }
    return *u == '\0';
}

int mapd_parse_route_find(const mapd_route_key *keys, size_t n, const char *method,
                          const char *path, int64_t *id, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t v = 0;
        if (!mapd_parse_route_match(keys[i].pattern, path, &v))
            continue;
        /* The catch-all knows no path: only real routes make a 405. */
        *path_known |= strcmp(keys[i].pattern, "/*") != 0;
        if (strcmp(keys[i].method, method) != 0)
            continue;
        *id = v;
        return (int)i;
    }
    return -1;
}

size_t mapd_parse_route_allow(const mapd_route_key *keys, size_t n, const char *path, char *out,
                              size_t cap)
{
    static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" };
    size_t len = 0;
    if (cap)
        out[0] = '\0';
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        /* HEAD is allowed wherever GET is (server.c answers it as GET). */
        const char *as = strcmp(methods[m], "HEAD") == 0 ? "GET" : methods[m];
        int found = 0;
        for (size_t i = 0; i < n && !found; i++) {
            int64_t id;
            found = strcmp(keys[i].pattern, "/*") != 0 && strcmp(keys[i].method, as) == 0
                    && mapd_parse_route_match(keys[i].pattern, path, &id);
        }
        size_t need = strlen(methods[m]) + (len ? 2 : 0);
        if (!found || len + need + 1 > cap)
            continue;
        if (len) {
            out[len++] = ',';
            out[len++] = ' ';
        }
        strcpy(out + len, methods[m]);
        len += strlen(methods[m]);
    }
    return len;
}

/* ---- Accept-Encoding --------------------------------------------------------- */

/* An RFC 9110 qvalue at *p ("0", "0.5", "1", "1.000"), as thousandths,
 * advancing *p; -1 when malformed (*p then unmoved). Reads at most 5
 * characters. */
static int qvalue(const char **p)
{
    const char *s = *p;
    int q;
    if (*s == '0')
        q = 0;
    else if (*s == '1')
        q = 1000;
    else
        return -1;
    s++;
    if (*s == '.') {
        s++;
        int scale = 100;
        for (int i = 0; i < 3 && *s >= '0' && *s <= '9'; i++, s++, scale /= 10)
            q += (*s - '0') * scale;
    }
    if (q > 1000)
        return -1;
    *p = s;
    return q;
}

int mapd_parse_accept_encoding(const char *h, const char *coding)
{
    int own = -1, any = -1;
    size_t clen = strlen(coding);
    int is_gzip = strcmp(coding, "gzip") == 0;
    const char *p = h;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *name = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t nlen = (size_t)(p - name);
        int q = 1000;
        while (*p && *p != ',') { /* parameters: only q counts */
            if (*p != ';') {
                p++;
                continue;
            }
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if ((*p == 'q' || *p == 'Q') && p[1] == '=') {
                p += 2;
                q = qvalue(&p);
                while (*p == ' ' || *p == '\t')
                    p++;
                if (q < 0 || (*p && *p != ',' && *p != ';'))
                    q = 0;
            }
        }
        int mine = (nlen == clen && strncasecmp(name, coding, clen) == 0)
                   || (is_gzip && nlen == 6 && strncasecmp(name, "x-gzip", 6) == 0);
        if (mine && own < 0)
            own = q;
        else if (nlen == 1 && name[0] == '*' && any < 0)
            any = q;
    }
    return own >= 0 ? own : any >= 0 ? any : 0;
}

/* ---- If-None-Match ----------------------------------------------------------- */

int mapd_parse_if_none_match(const char *h, const char *etag)
{
    if (!h)
        return 0;
    size_t n = strlen(etag);
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        int wellformed = 0, named = 0;
        if (*p == '*') {
            p++;
            wellformed = named = 1;
        } else {
            if (p[0] == 'W' && p[1] == '/')
                p += 2;
            if (*p == '"') { /* an entity tag may hold a comma: read to its quote */
                const char *end = strchr(p + 1, '"');
                if (!end)
                    return 0; /* unterminated: nothing after it is a tag */
                named = (size_t)(end + 1 - p) == n && memcmp(p, etag, n) == 0;
                wellformed = 1;
                p = end + 1;
            }
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != ',')
            wellformed = 0;
        if (wellformed && named)
            return 1;
        while (*p && *p != ',') /* the rest of a malformed member */
            p++;
    }
    return 0;
}

/* ---- Range and If-Range ------------------------------------------------------ */

/* A decimal number of at most 19 digits at *p (below 2^64), advancing *p;
 * 0 when there is none or it is longer. */
static int range_number(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;
    while (**p >= '0' && **p <= '9') {
        if (++digits > 19)
            return 0;
        v = v * 10 + (uint64_t)(*(*p)++ - '0');
    }
    *out = v;
    return digits > 0;
}

int mapd_parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (!h || strncmp(h, "bytes=", 6) != 0)
        return 0;
    const char *p = h + 6;
    uint64_t a, b;
    if (*p == '-') { /* the last N bytes */
        p++;
        if (!range_number(&p, &b) || *p != '\0')
            return 0;
        if (b == 0 || size == 0)
            return -1;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (!range_number(&p, &a) || *p++ != '-')
        return 0;
    if (*p == '\0')
        b = UINT64_MAX;
    else if (!range_number(&p, &b) || *p != '\0' || b < a)
        return 0;
    if (a >= size)
        return -1;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

int mapd_parse_if_range(const char *h, const char *etag, const char *last_modified)
{
    return !h || strcmp(h, etag) == 0 || (last_modified[0] && strcmp(h, last_modified) == 0);
}

/* ---- tiles and --listen ------------------------------------------------------ */

int mapd_parse_tile(const char *path, const char *suffix, int *z, int64_t *x, int64_t *y)
{
    int64_t v[3];
    const char *p = path;
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return 0;
        int64_t n = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 8)
                return 0; /* 2^22 has 7 digits */
            n = n * 10 + (*p++ - '0');
        }
        v[i] = n;
        if (i < 2 && *p++ != '/')
            return 0;
    }
    if (strcmp(p, suffix) != 0 || v[0] > TILES_MAX_ZOOM || !tiles_tile_valid((int)v[0], v[1], v[2]))
        return 0;
    *z = (int)v[0];
    *x = v[1];
    *y = v[2];
    return 1;
}

int mapd_parse_listen(const char *s, struct sockaddr_in *sa)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || colon - s > 63)
        return 0;
    char host[64];
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    const char *p = colon + 1;
    uint32_t port = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 5)
            return 0;
        port = port * 10 + (uint32_t)(*p++ - '0');
    }
    if (*p || digits == 0 || port > 65535)
        return 0;
    struct sockaddr_in out;
    memset(&out, 0, sizeof out);
    out.sin_family = AF_INET;
    out.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &out.sin_addr) != 1)
        return 0;
    *sa = out;
    return 1;
}
