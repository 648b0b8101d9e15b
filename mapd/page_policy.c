/*
 * mapd/page_policy.c — the Content-Security-Policy of a page of the web map
 * (page_policy.h).
 *
 * The page may run only scripts from its own origin and the inline scripts
 * it was built with (web/build.mjs inlines the small boot script; the
 * unbuilt page has an import map): each of those is allowed by the SHA-256
 * of its text, computed here from the page as it is on disk, so a script
 * injected into the page by any means other than editing the file does not
 * run. MapLibre starts its worker from a blob: URL. Everything the page
 * fetches (the API, tiles, styles, glyphs, a PMTiles basemap) comes from its
 * own origin, or from the origins an operator names (--csp-origins) for a
 * basemap served elsewhere. Styles may be inline: MapLibre and the page set
 * element styles. Nothing may frame the page.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "page_policy.h"

/* Appends s to out (size cap, used *n): 0, or -1 when it does not fit. */
static int put(char *out, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (*n + len + 1 > cap)
        return -1;
    memcpy(out + *n, s, len + 1);
    *n += len;
    return 0;
}

/* The next inline script of html[0..len) from *at: its text's bounds, 1; 0
 * when there is none. A <script> with a src attribute has no inline text
 * that runs, and is skipped. */
static int next_inline(const char *html, size_t len, size_t *at, size_t *start, size_t *end)
{
    while (*at + 8 <= len) {
        const char *tag = memmem(html + *at, len - *at, "<script", 7);
        if (!tag)
            return 0;
        size_t t = (size_t)(tag - html);
        const char *close = memchr(tag, '>', len - t);
        if (!close)
            return 0;
        size_t body = (size_t)(close - html) + 1;
        const char *stop = memmem(html + body, len - body, "</script", 8);
        if (!stop)
            return 0;
        *at = (size_t)(stop - html) + 8;
        /* a src attribute in the tag itself (between "<script" and '>') */
        int has_src = 0;
        for (const char *p = tag + 7; p + 4 <= close && !has_src; p++)
            has_src = (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n')
                      && strncasecmp(p, "src", 3) == 0 && (p[3] == '=' || p[3] == ' ');
        if (has_src)
            continue;
        *start = body;
        *end = (size_t)(stop - html);
        return 1;
    }
    return 0;
}

int mapd_page_csp(const char *html, size_t len, const char *origins, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    if (put(out, cap, &n, "default-src 'self'; script-src 'self'"))
        return -1;
    size_t at = 0, start, end;
    while (next_inline(html, len, &at, &start, &end)) {
        unsigned char digest[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(digest, (const unsigned char *)html + start, end - start);
        char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
        if (put(out, cap, &n, " 'sha256-") || put(out, cap, &n, b64) || put(out, cap, &n, "'"))
            return -1;
    }
    const char *extra = origins && *origins ? origins : NULL;
    char fetch[MAPD_CSP_ORIGINS_MAX + 64];
    snprintf(fetch, sizeof fetch, "'self'%s%s", extra ? " " : "", extra ? extra : "");
    if (put(out, cap, &n, "; connect-src ") || put(out, cap, &n, fetch)
        || put(out, cap, &n, " blob: data:; img-src ") || put(out, cap, &n, fetch)
        || put(out, cap, &n, " blob: data:; font-src ") || put(out, cap, &n, fetch)
        || put(out, cap, &n, "; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; "
                             "child-src 'self' blob:; object-src 'none'; base-uri 'self'; "
                             "form-action 'self'; frame-ancestors 'none'"))
        return -1;
    return 0;
}

int mapd_csp_origins_valid(const char *s)
{
    if (strlen(s) > MAPD_CSP_ORIGINS_MAX)
        return 0;
    /* space-separated https:// or http:// origins: scheme, host, port */
    const char *p = s;
    while (*p) {
        if (strncmp(p, "https://", 8) == 0)
            p += 8;
        else if (strncmp(p, "http://", 7) == 0)
            p += 7;
        else
            return 0;
        const char *host = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
               || *p == '.' || *p == '-' || *p == ':')
            p++;
        if (p == host || (*p && *p != ' '))
            return 0;
        while (*p == ' ')
            p++;
    }
    return *s != '\0';
}
