/*
 * tests/mapd/test_mapd.c — mapd's parsers of untrusted input (mapd/parse.c),
 * one group per parser: the ordinary cases, then the edges a client can
 * send — empty, huge, malformed, q=0, duplicates, numbers that would
 * overflow, weak entity tags, lists, "*", several ranges, suffix ranges,
 * ranges past the end, IPv6 and missing ports, tiles out of range and
 * trailing junk. The API tests (tests/api) check the same rules through a
 * real server; these check each rule alone and the inputs HTTP clients
 * never send.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse.h"

/* A string of n copies of c followed by tail, malloc'd. */
static char *repeat(char c, size_t n, const char *tail)
{
    size_t t = strlen(tail);
    char *s = malloc(n + t + 1);
    assert_non_null(s);
    memset(s, c, n);
    memcpy(s + n, tail, t + 1);
    return s;
}

/* ---- routes ------------------------------------------------------------------ */

/* Rows in the shapes of mapd's table (server.c): exact paths, {id} in the
 * middle and at the end, a collection with a rest, and the static catch-all. */
static const mapd_route_key table[] = {
    { "GET", "/healthz" },
    { "GET", "/api/posts" },
    { "POST", "/api/posts" },
    { "GET", "/api/posts/{id}" },
    { "PATCH", "/api/posts/{id}" },
    { "POST", "/api/posts/{id}/claim" },
    { "GET", "/ogc" },
    { "GET", "/ogc/" },
    { "GET", "/ogc/collections/*" },
    { "GET", "/tiles/*" },
    { "GET", "/*" },
};
#define N_TABLE (sizeof table / sizeof table[0])

static int find(const char *method, const char *path, int64_t *id, int *known)
{
    *id = -7;
    return mapd_parse_route_find(table, N_TABLE, method, path, id, known);
}

static void test_route_match(void **state)
{
    (void)state;
    int64_t id = -1;
    assert_true(mapd_parse_route_match("/healthz", "/healthz", &id));
    assert_int_equal(id, -1); /* no {id}: left alone */
    assert_false(mapd_parse_route_match("/healthz", "/healthz/", &id));
    assert_false(mapd_parse_route_match("/healthz", "/healthzz", &id));
    assert_false(mapd_parse_route_match("/healthz", "/health", &id));
    assert_false(mapd_parse_route_match("/healthz", "", &id));
    assert_false(mapd_parse_route_match("/healthz", "/HEALTHZ", &id));

    assert_true(mapd_parse_route_match("/api/posts/{id}", "/api/posts/42", &id));
    assert_int_equal(id, 42);
    assert_true(mapd_parse_route_match("/api/posts/{id}/claim", "/api/posts/7/claim", &id));
    assert_int_equal(id, 7);
    id = -1;
    assert_false(mapd_parse_route_match("/api/posts/{id}/claim", "/api/posts/7/clai", &id));
    assert_false(mapd_parse_route_match("/api/posts/{id}/claim", "/api/posts//claim", &id));
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/", &id));
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/0", &id));     /* positive */
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/012", &id));   /* no leading 0 */
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/-3", &id));
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/+3", &id));
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/3a", &id));    /* junk */
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/3/", &id));
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/ 3", &id));
    /* The largest id, and the overflowing ones. */
    assert_true(mapd_parse_route_match("/api/posts/{id}", "/api/posts/9007199254740999", &id));
    assert_int_equal(id, INT64_C(9007199254740999));
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/9007199254741000", &id));
    assert_false(mapd_parse_route_match("/api/posts/{id}", "/api/posts/99999999999999999999999999", &id));
    char *huge = repeat('9', 100000, "");
    char *path = malloc(100020);
    assert_non_null(path);
    strcpy(path, "/api/posts/");
    strcat(path, huge);
    assert_false(mapd_parse_route_match("/api/posts/{id}", path, &id));
    assert_int_equal(id, INT64_C(9007199254740999)); /* untouched by a refusal */

    /* A final * takes any rest, the empty one too, but not a shorter path. */
    assert_true(mapd_parse_route_match("/tiles/*", "/tiles/", &id));
    assert_true(mapd_parse_route_match("/tiles/*", "/tiles/1/2/3.mvt", &id));
    assert_false(mapd_parse_route_match("/tiles/*", path, &id));
    assert_false(mapd_parse_route_match("/tiles/*", "/tiles", &id));
    assert_false(mapd_parse_route_match("/tiles/*", "/tile/1", &id));
    assert_true(mapd_parse_route_match("/*", path, &id));
    assert_false(mapd_parse_route_match("/*", "", &id));
    /* "{" that is not {id} is itself. */
    assert_true(mapd_parse_route_match("/a/{x}", "/a/{x}", &id));
    assert_false(mapd_parse_route_match("/a/{x}", "/a/1", &id));
    free(huge);
    free(path);
}

static void test_route_find(void **state)
{
    (void)state;
    int64_t id;
    int known;
    assert_int_equal(find("GET", "/healthz", &id, &known), 0);
    assert_int_equal(id, 0); /* a route without {id}: 0 */
    assert_int_equal(find("GET", "/api/posts", &id, &known), 1);
    assert_int_equal(find("POST", "/api/posts", &id, &known), 2);
    assert_int_equal(find("GET", "/api/posts/12", &id, &known), 3);
    assert_int_equal(id, 12);
    assert_int_equal(find("PATCH", "/api/posts/12", &id, &known), 4);
    assert_int_equal(find("POST", "/api/posts/12/claim", &id, &known), 5);
    assert_int_equal(id, 12);
    /* The first row that matches wins: "/ogc" is not "/ogc/". */
    assert_int_equal(find("GET", "/ogc", &id, &known), 6);
    assert_int_equal(find("GET", "/ogc/", &id, &known), 7);
    assert_int_equal(find("GET", "/ogc/collections/needs/items", &id, &known), 8);
    assert_int_equal(find("GET", "/ogc/collections", &id, &known), 10); /* no rest: a file */
    assert_int_equal(find("GET", "/tiles/1/2/3.mvt", &id, &known), 9);
    /* Unknown paths fall to the static files, for GET only (the server
     * looks HEAD up as GET). */
    assert_int_equal(find("GET", "/index.html", &id, &known), 10);
    assert_int_equal(find("HEAD", "/index.html", &id, &known), -1);
    assert_int_equal(find("GET", "/api/posts/0", &id, &known), 10);
    assert_int_equal(find("GET", "/api/posts/12/", &id, &known), 10);
    assert_int_equal(find("POST", "/index.html", &id, &known), -1);
    assert_false(known); /* the catch-all knows no path: 404 */
    /* A known path with another method: 405. */
    assert_int_equal(find("DELETE", "/api/posts/12", &id, &known), -1);
    assert_true(known);
    assert_int_equal(find("GET", "/api/posts/12/claim", &id, &known), 10); /* GET: a file */
    assert_int_equal(find("PUT", "/api/posts/12/claim", &id, &known), -1);
    assert_true(known);
    /* A route with a final * knows its paths too; only the catch-all does not. */
    assert_int_equal(find("PUT", "/tiles/1/2/3.mvt", &id, &known), -1);
    assert_true(known);
    /* Methods are compared exactly; odd inputs find nothing. */
    assert_int_equal(find("get", "/healthz", &id, &known), -1);
    assert_true(known);
    assert_int_equal(find("", "", &id, &known), -1);
    assert_false(known);
    assert_int_equal(find("GET", "healthz", &id, &known), -1);
    assert_int_equal(mapd_parse_route_find(table, 0, "GET", "/healthz", &id, &known), -1);
    assert_false(known);
}

static void test_route_allow(void **state)
{
    (void)state;
    char allow[48];
    assert_int_equal(mapd_parse_route_allow(table, N_TABLE, "/api/posts", allow, sizeof allow), 15);
    assert_string_equal(allow, "GET, HEAD, POST");
    mapd_parse_route_allow(table, N_TABLE, "/api/posts/12", allow, sizeof allow);
    assert_string_equal(allow, "GET, HEAD, PATCH");
    mapd_parse_route_allow(table, N_TABLE, "/api/posts/12/claim", allow, sizeof allow);
    assert_string_equal(allow, "POST");
    mapd_parse_route_allow(table, N_TABLE, "/tiles/1/2/3.mvt", allow, sizeof allow);
    assert_string_equal(allow, "GET, HEAD");
    /* The catch-all allows nothing by itself; a path only it matches: none. */
    assert_int_equal(mapd_parse_route_allow(table, N_TABLE, "/index.html", allow, sizeof allow), 0);
    assert_string_equal(allow, "");
    /* Names that do not fit are left out, never cut. */
    assert_int_equal(mapd_parse_route_allow(table, N_TABLE, "/api/posts", allow, 10), 9);
    assert_string_equal(allow, "GET, HEAD");
    assert_int_equal(mapd_parse_route_allow(table, N_TABLE, "/api/posts", allow, 1), 0);
    assert_string_equal(allow, "");
}

/* ---- Accept-Encoding --------------------------------------------------------- */

static int gz(const char *h)
{
    return mapd_parse_accept_encoding(h, "gzip");
}

static int br(const char *h)
{
    return mapd_parse_accept_encoding(h, "br");
}

static void test_accept_encoding(void **state)
{
    (void)state;
    /* None, empty, or not named: the identity. */
    assert_int_equal(gz(NULL), 0);
    assert_int_equal(gz(""), 0);
    assert_int_equal(gz(" , ,, "), 0);
    assert_int_equal(gz("identity"), 0);
    assert_int_equal(gz("deflate, br"), 0);
    assert_int_equal(gz("gzipx"), 0);
    assert_int_equal(gz("gzi"), 0);
    /* Named, in any case, among others, with blanks. */
    assert_int_equal(gz("gzip"), 1000);
    assert_int_equal(gz("GZip"), 1000);
    assert_int_equal(gz("x-gzip"), 1000);
    assert_int_equal(br("x-gzip"), 0);
    assert_int_equal(gz("deflate, gzip, br"), 1000);
    assert_int_equal(gz(",,\t gzip \t,,"), 1000);
    assert_int_equal(br("gzip, deflate, br"), 1000);
    /* q-values. */
    assert_int_equal(gz("gzip;q=0.5"), 500);
    assert_int_equal(gz("gzip; q=0.5"), 500);
    assert_int_equal(gz("gzip ;Q=0.25"), 250);
    assert_int_equal(gz("gzip;q=0.123"), 123);
    assert_int_equal(gz("gzip;q=1"), 1000);
    assert_int_equal(gz("gzip;q=1.000"), 1000);
    assert_int_equal(gz("gzip;q=0."), 0);
    assert_int_equal(gz("gzip;q=0.001"), 1);
    assert_int_equal(gz("gzip;level=9;q=0.2"), 200);
    assert_int_equal(gz("gzip;q=0.7 ; level=9"), 700);
    assert_int_equal(gz("deflate;q=0.1, gzip;q=0.7, br"), 700);
    /* q=0 refuses, whatever else says. */
    assert_int_equal(gz("gzip;q=0"), 0);
    assert_int_equal(gz("gzip;q=0.000"), 0);
    assert_int_equal(gz("gzip;q=0, identity"), 0);
    assert_int_equal(br("br;q=0, gzip"), 0);
    assert_int_equal(gz("br;q=0, gzip"), 1000);
    /* Malformed q: weight 0. */
    assert_int_equal(gz("gzip;q="), 0);
    assert_int_equal(gz("gzip;q=abc"), 0);
    assert_int_equal(gz("gzip;q=2"), 0);
    assert_int_equal(gz("gzip;q=1.001"), 0);
    assert_int_equal(gz("gzip;q=1.5"), 0);
    assert_int_equal(gz("gzip;q=0.1234"), 0);   /* at most three decimals */
    assert_int_equal(gz("gzip;q=-1"), 0);
    assert_int_equal(gz("gzip;q=.5"), 0);
    assert_int_equal(gz("gzip;q=0.5junk"), 0);
    assert_int_equal(gz("gzip;q=0.5 junk"), 0);
    assert_int_equal(gz("gzip;q=99999999999999999999999"), 0);
    /* "*": for what is not named; a named entry wins over it. */
    assert_int_equal(gz("*"), 1000);
    assert_int_equal(br("*"), 1000);
    assert_int_equal(gz("*;q=0.3"), 300);
    assert_int_equal(gz("*;q=0"), 0);
    assert_int_equal(gz("gzip;q=0, *"), 0);
    assert_int_equal(gz("*, gzip;q=0"), 0);
    assert_int_equal(gz("*;q=0, gzip;q=0.4"), 400);
    assert_int_equal(br("*;q=0, gzip"), 0);
    assert_int_equal(br("gzip, *;q=0.6"), 600);
    assert_int_equal(gz("**"), 0);
    /* Duplicates: the first counts. */
    assert_int_equal(gz("gzip;q=0, gzip"), 0);
    assert_int_equal(gz("gzip, gzip;q=0"), 1000);
    assert_int_equal(gz("gzip;q=0.2, x-gzip;q=0.9"), 200);
    assert_int_equal(gz("*;q=0.1, *;q=0.9"), 100);
    /* Huge: blanks and commas before, a long list of unknown codings. */
    char *h = repeat(' ', 200000, ",gzip;q=0.9");
    assert_int_equal(gz(h), 900);
    free(h);
    h = repeat(',', 200000, "");
    assert_int_equal(gz(h), 0);
    free(h);
    h = repeat('a', 200000, ";q=1, br;q=0.4");
    assert_int_equal(br(h), 400);
    assert_int_equal(gz(h), 0);
    free(h);
}

/* ---- If-None-Match ----------------------------------------------------------- */

static int inm(const char *h)
{
    return mapd_parse_if_none_match(h, "\"abc\"");
}

static void test_if_none_match(void **state)
{
    (void)state;
    assert_false(inm(NULL));
    assert_false(inm(""));
    assert_false(inm("   "));
    assert_false(inm(","));
    assert_true(inm("\"abc\""));
    assert_true(inm("  \"abc\"  "));
    assert_false(inm("\"abcd\""));
    assert_false(inm("\"ab\""));
    assert_false(inm("\"ABC\""));
    assert_false(inm("abc"));            /* not quoted: not an entity tag */
    /* Weak comparison: W/ is ignored, and only W/ (case-sensitive). */
    assert_true(inm("W/\"abc\""));
    assert_false(inm("w/\"abc\""));
    assert_false(inm("W\"abc\""));
    assert_false(inm("W/abc"));
    /* Lists. */
    assert_true(inm("\"x\", \"abc\""));
    assert_true(inm("\"x\",\"abc\",\"y\""));
    assert_true(inm("W/\"x\" ,\tW/\"abc\""));
    assert_false(inm("\"x\", \"y\""));
    assert_true(inm(",,, \"abc\" ,,,"));
    /* An entity tag may hold a comma: it is not a list separator there. */
    assert_true(mapd_parse_if_none_match("\"a,b\"", "\"a,b\""));
    assert_false(mapd_parse_if_none_match("\"a,b\"", "\"b\""));
    assert_false(mapd_parse_if_none_match("\"x,\"abc\"", "\"abc\""));
    /* "*" alone, as the whole header or as a member. */
    assert_true(inm("*"));
    assert_true(inm(" * "));
    assert_true(inm("\"x\", *"));
    assert_false(inm("*x"));
    assert_false(inm("**"));
    assert_false(inm("\"*\""));
    /* Malformed members name nothing; the rest is still read. */
    assert_false(inm("\"abc"));          /* unterminated */
    assert_false(inm("\"abc\"x"));       /* junk after the quote */
    assert_false(inm("\"abc\" x"));
    assert_true(inm("\"abc\"x, \"abc\""));
    assert_true(inm("junk, \"abc\""));
    assert_false(inm("\"x\" \"abc\""));  /* two tags without a comma */
    assert_false(inm("\"x\", \"abc"));
    /* The tag compared is the whole quoted string. */
    assert_false(mapd_parse_if_none_match("\"abc\"", "abc"));
    assert_true(mapd_parse_if_none_match("\"\"", "\"\""));   /* the empty tag is a tag */
    /* Huge: ten thousand tags, the last one the ETag. */
    size_t n = 10000;
    char *h = malloc(n * 8 + 8);
    assert_non_null(h);
    char *p = h;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, "\"zzz\", ", 7);
        p += 7;
    }
    strcpy(p, "\"abc\"");
    assert_true(inm(h));
    strcpy(p, "\"abd\"");
    assert_false(inm(h));
    free(h);
    h = repeat(' ', 300000, "W/\"abc\"");
    assert_true(inm(h));
    free(h);
}

/* ---- Range and If-Range ------------------------------------------------------ */

static int range(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
    *a = *b = 12345;
    return mapd_parse_range(h, size, a, b);
}

static void test_range(void **state)
{
    (void)state;
    uint64_t a, b;
    assert_int_equal(range(NULL, 1000, &a, &b), 0);
    assert_int_equal(range("", 1000, &a, &b), 0);
    /* One range: first and last, inclusive. */
    assert_int_equal(range("bytes=0-99", 1000, &a, &b), 1);
    assert_true(a == 0 && b == 99);
    assert_int_equal(range("bytes=0-0", 1000, &a, &b), 1);
    assert_true(a == 0 && b == 0);
    assert_int_equal(range("bytes=999-999", 1000, &a, &b), 1);
    assert_true(a == 999 && b == 999);
    assert_int_equal(range("bytes=500-", 1000, &a, &b), 1);
    assert_true(a == 500 && b == 999);
    /* Past the end: the last byte is clamped; a first byte past it is 416. */
    assert_int_equal(range("bytes=0-5000", 1000, &a, &b), 1);
    assert_true(a == 0 && b == 999);
    assert_int_equal(range("bytes=990-9999999999999999999", 1000, &a, &b), 1);
    assert_true(a == 990 && b == 999);
    assert_int_equal(range("bytes=1000-", 1000, &a, &b), -1);
    assert_int_equal(range("bytes=1000-2000", 1000, &a, &b), -1);
    assert_int_equal(range("bytes=9999999999999999999-", 1000, &a, &b), -1);
    /* Suffix ranges: the last N bytes, all of them when N is larger. */
    assert_int_equal(range("bytes=-100", 1000, &a, &b), 1);
    assert_true(a == 900 && b == 999);
    assert_int_equal(range("bytes=-1000", 1000, &a, &b), 1);
    assert_true(a == 0 && b == 999);
    assert_int_equal(range("bytes=-2000", 1000, &a, &b), 1);
    assert_true(a == 0 && b == 999);
    assert_int_equal(range("bytes=-1", 1, &a, &b), 1);
    assert_true(a == 0 && b == 0);
    assert_int_equal(range("bytes=-0", 1000, &a, &b), -1);
    /* An empty file satisfies no range. */
    assert_int_equal(range("bytes=0-", 0, &a, &b), -1);
    assert_int_equal(range("bytes=-5", 0, &a, &b), -1);
    assert_int_equal(range("bytes=0-0", 0, &a, &b), -1);
    /* Several ranges: the whole file, as today (RFC 9110 allows it). */
    assert_int_equal(range("bytes=0-1,5-6", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=0-1, 5-6", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=-5,0-1", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=0-,", 1000, &a, &b), 0);
    /* Malformed: the whole file. */
    assert_int_equal(range("bytes=", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=-", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=--1", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=5-3", 1000, &a, &b), 0);   /* inverted */
    assert_int_equal(range("bytes=+1-2", 1000, &a, &b), 0);
    assert_int_equal(range("bytes= 0-1", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=0 -1", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=0-1 ", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=0-1x", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=0x10-20", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=1", 1000, &a, &b), 0);
    assert_int_equal(range("Bytes=0-1", 1000, &a, &b), 0);
    assert_int_equal(range("items=0-1", 1000, &a, &b), 0);
    assert_int_equal(range("bytes 0-1", 1000, &a, &b), 0);
    /* Numbers of 20 digits or more are refused, not wrapped. */
    assert_int_equal(range("bytes=18446744073709551616-", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=0-18446744073709551615", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=-18446744073709551617", 1000, &a, &b), 0);
    assert_int_equal(range("bytes=00000000000000000001-2", 1000, &a, &b), 0);
    char *h = repeat('9', 100000, "-");
    memcpy(h, "bytes=", 6);
    assert_int_equal(range(h, 1000, &a, &b), 0);
    free(h);
    /* Sizes at the top of the range. */
    assert_int_equal(range("bytes=-1", UINT64_MAX, &a, &b), 1);
    assert_true(a == UINT64_MAX - 1 && b == UINT64_MAX - 1);
    assert_int_equal(range("bytes=9999999999999999998-", UINT64_MAX, &a, &b), 1);
    assert_true(a == UINT64_C(9999999999999999998) && b == UINT64_MAX - 1);
}

static void test_if_range(void **state)
{
    (void)state;
    const char *etag = "\"3e8-17a-42\"", *date = "Sat, 07 Dec 2024 10:00:00 GMT";
    assert_true(mapd_parse_if_range(NULL, etag, date));
    assert_true(mapd_parse_if_range(etag, etag, date));
    assert_true(mapd_parse_if_range(date, etag, date));
    assert_false(mapd_parse_if_range("W/\"3e8-17a-42\"", etag, date));  /* strong comparison */
    assert_false(mapd_parse_if_range("\"3e8-17a-43\"", etag, date));
    assert_false(mapd_parse_if_range(" \"3e8-17a-42\"", etag, date));
    assert_false(mapd_parse_if_range("Sat, 07 Dec 2024 10:00:01 GMT", etag, date));
    assert_false(mapd_parse_if_range("", etag, date));
    assert_false(mapd_parse_if_range("", etag, ""));   /* no date: an empty header is no match */
    assert_false(mapd_parse_if_range("*", etag, date));
}

/* ---- tiles ------------------------------------------------------------------- */

static int tile(const char *path, const char *suffix, int *z, int64_t *x, int64_t *y)
{
    *z = -1;
    *x = *y = -1;
    return mapd_parse_tile(path, suffix, z, x, y);
}

static void test_tile(void **state)
{
    (void)state;
    int z;
    int64_t x, y;
    assert_true(tile("0/0/0.mvt", ".mvt", &z, &x, &y));
    assert_true(z == 0 && x == 0 && y == 0);
    assert_true(tile("14/8300/5635.mvt", ".mvt", &z, &x, &y));
    assert_true(z == 14 && x == 8300 && y == 5635);
    assert_true(tile("22/4194303/4194303.mvt", ".mvt", &z, &x, &y));
    assert_true(z == 22 && x == 4194303 && y == 4194303);
    assert_true(tile("3/7/7", "", &z, &x, &y));            /* the command line's form */
    assert_true(z == 3 && x == 7 && y == 7);
    assert_true(tile("00000001/0/1.mvt", ".mvt", &z, &x, &y)); /* leading zeros, 8 digits */
    assert_true(z == 1 && y == 1);
    /* Out of range. */
    assert_false(tile("23/0/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("99999999/0/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("0/1/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("1/2/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/2.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("22/4194304/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("22/0/99999999.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("000000001/0/0.mvt", ".mvt", &z, &x, &y)); /* 9 digits */
    assert_false(tile("1/0/999999999999999999999999.mvt", ".mvt", &z, &x, &y));
    assert_int_equal(z, -1); /* untouched by a refusal */
    /* Malformed. */
    assert_false(tile("", ".mvt", &z, &x, &y));
    assert_false(tile(".mvt", ".mvt", &z, &x, &y));
    assert_false(tile("1/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("1//0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("/1/0/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("-1/0/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("+1/0/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile(" 1/0/0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/-0.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/0x1.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/0/0.mvt", ".mvt", &z, &x, &y));
    /* Trailing junk, or another suffix. */
    assert_false(tile("1/0/0.mvt?x=1", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/0.mvt/", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/0.mvt.mvt", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/0.pbf", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/0", ".mvt", &z, &x, &y));
    assert_false(tile("1/0/0.mvt", "", &z, &x, &y));
    assert_false(tile("1/0/0 ", "", &z, &x, &y));
    char *h = repeat('1', 100000, "/0/0.mvt");
    assert_false(tile(h, ".mvt", &z, &x, &y));
    free(h);
    h = repeat('x', 100000, "");
    memcpy(h, "1/0/0.mvt", 9);
    assert_false(tile(h, ".mvt", &z, &x, &y));
    free(h);
}

/* ---- --listen ---------------------------------------------------------------- */

static void test_listen(void **state)
{
    (void)state;
    struct sockaddr_in sa;
    assert_true(mapd_parse_listen("127.0.0.1:8080", &sa));
    assert_int_equal(sa.sin_family, AF_INET);
    assert_int_equal(ntohs(sa.sin_port), 8080);
    assert_int_equal(ntohl(sa.sin_addr.s_addr), 0x7f000001u);
    assert_true(mapd_parse_listen("0.0.0.0:0", &sa));            /* any address, a free port */
    assert_int_equal(ntohs(sa.sin_port), 0);
    assert_int_equal(sa.sin_addr.s_addr, 0);
    assert_true(mapd_parse_listen("10.1.2.3:65535", &sa));
    assert_int_equal(ntohs(sa.sin_port), 65535);
    assert_true(mapd_parse_listen("127.0.0.1:080", &sa));
    assert_int_equal(ntohs(sa.sin_port), 80);

    memset(&sa, 0xab, sizeof sa);
    /* Missing or bad port. */
    assert_false(mapd_parse_listen("127.0.0.1", &sa));
    assert_false(mapd_parse_listen("127.0.0.1:", &sa));
    assert_false(mapd_parse_listen("127.0.0.1:65536", &sa));
    assert_false(mapd_parse_listen("127.0.0.1:99999999999999999999", &sa));
    assert_false(mapd_parse_listen("127.0.0.1:000080", &sa));    /* six digits */
    assert_false(mapd_parse_listen("127.0.0.1:-1", &sa));
    assert_false(mapd_parse_listen("127.0.0.1:+80", &sa));
    assert_false(mapd_parse_listen("127.0.0.1: 80", &sa));
    assert_false(mapd_parse_listen("127.0.0.1:80 ", &sa));
    assert_false(mapd_parse_listen("127.0.0.1:80x", &sa));
    assert_false(mapd_parse_listen("127.0.0.1:0x50", &sa));
    /* Missing or bad host: names, IPv6, short or large quads. */
    assert_false(mapd_parse_listen("", &sa));
    assert_false(mapd_parse_listen(":8080", &sa));
    assert_false(mapd_parse_listen("localhost:8080", &sa));
    assert_false(mapd_parse_listen("[::1]:8080", &sa));
    assert_false(mapd_parse_listen("::1:8080", &sa));
    assert_false(mapd_parse_listen("::1", &sa));
    assert_false(mapd_parse_listen("[::]:0", &sa));
    assert_false(mapd_parse_listen("1.2.3:80", &sa));
    assert_false(mapd_parse_listen("256.0.0.1:80", &sa));
    assert_false(mapd_parse_listen("1.2.3.4.5:80", &sa));
    assert_false(mapd_parse_listen(" 127.0.0.1:80", &sa));
    assert_false(mapd_parse_listen("127.0.0.1:80:80", &sa));
    char *h = repeat('1', 100000, ":80");
    assert_false(mapd_parse_listen(h, &sa));
    free(h);
    h = repeat('1', 63, ":80");
    assert_false(mapd_parse_listen(h, &sa));   /* 63 bytes of host: room, but not an address */
    free(h);
    /* A refusal leaves the address alone. */
    unsigned char untouched[sizeof sa];
    memset(untouched, 0xab, sizeof untouched);
    assert_memory_equal(&sa, untouched, sizeof sa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_match),
        cmocka_unit_test(test_route_find),
        cmocka_unit_test(test_route_allow),
        cmocka_unit_test(test_accept_encoding),
        cmocka_unit_test(test_if_none_match),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_if_range),
        cmocka_unit_test(test_tile),
        cmocka_unit_test(test_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
