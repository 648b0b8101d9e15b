/*
 * mapd/page_policy.h — the Content-Security-Policy of the web map's pages
 * (page_policy.c).
 */
#ifndef MAPD_PAGE_POLICY_H
#define MAPD_PAGE_POLICY_H

#include <stddef.h>

#define MAPD_CSP_ORIGINS_MAX 512 /* --csp-origins */
#define MAPD_CSP_MAX 4096        /* room for a policy with a dozen inline scripts */

/* The policy for the page html[0..len) into out (cap bytes): its inline
 * scripts allowed by hash, fetches from its own origin and from origins
 * (space-separated, checked by mapd_csp_origins_valid; NULL or "": none).
 * 0, or -1 when it does not fit in cap (out then holds a cut policy that
 * must not be sent). Work: one pass over html. */
int mapd_page_csp(const char *html, size_t len, const char *origins, char *out, size_t cap);

/* 1 when s is one or more space-separated http(s) origins
 * ("https://tiles.example.org https://fonts.example.org:8443") of at most
 * MAPD_CSP_ORIGINS_MAX bytes, else 0. */
int mapd_csp_origins_valid(const char *s);

#endif
