/*
 * mapd/post_json.h — a post as a GeoJSON Feature (post_json.c).
 */
#ifndef MAPD_POST_JSON_H
#define MAPD_POST_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "geodata/members.h"
#include "geodata/posts.h"

/* What serialises a response body of posts: compact, and the coordinates'
 * doubles with the precision every GeoJSON answer uses. */
#define MAPD_POST_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

/* The Feature of post p without anything that depends on who looks: type,
 * id, geometry, and properties id to expires_at, group (an id or null) and
 * comments (the visible ones). New reference, or NULL. */
json_t *mapd_post_feature_json(const geodata_post *p);

/* What a post's properties say about the viewer. */
typedef struct mapd_post_viewer {
    int mine;              /* the viewer wrote it: adds views and hidden */
    int claimed_by_me;
    int staff;             /* adds hidden and reports */
    int hidden;
    int64_t views;         /* read only when mine */
    int64_t reports;       /* read only when staff */
} mapd_post_viewer;

/* Fills v for viewer and a post of author, claimed by claimed_by (0: none). */
void mapd_post_viewer_init(mapd_post_viewer *v, const geodata_member *viewer, int64_t author,
                           int64_t claimed_by, int hidden);

/* Adds to props, in this order: mine, claimed_by_me, views (mine), hidden
 * (mine or staff), reports (staff), and distance_m (rounded metres) when
 * distance >= 0. 0, or -1 when out of memory. */
int mapd_post_viewer_props(json_t *props, const mapd_post_viewer *v, double distance);

/* Adds "distance_m": the rounded metres of distance, to props. 0 or -1. */
int mapd_post_add_distance(json_t *props, double distance);

#endif
