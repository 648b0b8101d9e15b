/*
 * geodata/audience.h — who is looking, and what they may see: the one rule.
 *
 * The rule: staff see everything (hidden posts too); a member with a
 * verified home sees the needs and makers of their own neighbourhood and of
 * the ones contiguous to it (neighbourhood_contiguity: touching, or within
 * the import's gap); anyone else — a visitor, a member without a home — sees
 * no need and no maker. Authors and claimers see their own posts by another
 * rule (a post's own people), which the callers apply.
 *
 * An audience is computed once per request (one indexed read of the
 * contiguity) and then used by every path that filters by it: the SQL of
 * posts, makers and the feature layers (through the fragment
 * GEODATA_AUDIENCE_SQL and geodata_audience_bind, in geodata/store/internal.h),
 * the in-memory read model of posts and the tiles (geodata_audience_sees,
 * or the list itself). No path holds a copy of the rule, and nothing caps
 * the list: a neighbourhood with a hundred neighbours sees them all.
 *
 * Growth: "members of group G see G's posts" will be one more member of
 * this struct (the viewer's groups) and one more OR in the fragment.
 */
#ifndef GEODATA_AUDIENCE_H
#define GEODATA_AUDIENCE_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/members.h"
#include "geodata/store.h"

typedef enum geodata_audience_kind {
    GEODATA_AUDIENCE_NOBODY = 0,   /* anonymous, or a member without a verified home */
    GEODATA_AUDIENCE_MEMBER,       /* sees `visible` */
    GEODATA_AUDIENCE_STAFF,        /* sees all */
} geodata_audience_kind;

typedef struct geodata_audience {
    geodata_audience_kind kind;
    int64_t member_id;                       /* 0: nobody logged in */
    char home[GEODATA_ID_MAX + 1];           /* the member's neighbourhood; "" none */
    char (*visible)[GEODATA_ID_MAX + 1];     /* with a home: it and its contiguous ones,
                                                sorted, malloc'd (staff too, who see
                                                more); NULL without a home */
    size_t n_visible;
} geodata_audience;

/*
 * A request's session, its member and their audience, in one statement (a
 * server over PostgreSQL pays a round trip per statement): as
 * geodata_session_get, then geodata_member_get and geodata_audience_of on
 * what they give. GEODATA_ENOTFOUND when the session is unknown or expired.
 * On success *audience is set (geodata_audience_clear it); on failure it is
 * empty. Work: one indexed read of the session, its member and the member's
 * contiguous neighbourhoods.
 */
struct geodata_session;
int geodata_session_resolve(geodata_store *store, const unsigned char hash[32], int64_t now,
                            struct geodata_session *session, geodata_member *member,
                            geodata_audience *audience);

/* An audience that sees everything (staff; the command line's exports). */
#define GEODATA_AUDIENCE_ALL ((geodata_audience){ .kind = GEODATA_AUDIENCE_STAFF })

/*
 * The audience of member (NULL: a visitor): staff by role, a member by their
 * verified home's neighbourhood. 0, or a GEODATA_E* code (out of memory, a
 * failed read) with *out left as NOBODY. Work: one indexed read. Free with
 * geodata_audience_clear.
 */
int geodata_audience_of(geodata_store *store, const geodata_member *member, geodata_audience *out);

/* The audience of a member living in neighbourhood nb (what the tiles of
 * that neighbourhood's members show; `mapd tile --viewer NB`). As
 * geodata_audience_of; "" or NULL: NOBODY. */
int geodata_audience_of_home(geodata_store *store, const char *nb, geodata_audience *out);

/* Frees what a holds and leaves it NOBODY. */
void geodata_audience_clear(geodata_audience *a);

/* 1 when a sees the needs and makers of neighbourhood nb, else 0. Work: a
 * binary search. */
int geodata_audience_sees(const geodata_audience *a, const char *nb);

/* 1 when a's home is in nb or in a neighbourhood contiguous to it, else 0:
 * where someone lives, whatever more staff see (who may join a group of
 * nb). Work: a binary search. */
int geodata_audience_lives_near(const geodata_audience *a, const char *nb);

#endif
