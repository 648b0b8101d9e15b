/*
 * mapd/post_json.c — a post as a GeoJSON Feature: the part every viewer
 * gets, and the members that depend on who looks. The lists of the read
 * model (post_model.c) and of SQL (api_posts.c) both come from here, so
 * they answer alike to the byte.
 */
#include <math.h>
#include <string.h>

#include "http.h"
#include "post_json.h"

json_t *mapd_post_feature_json(const geodata_post *p)
{
    json_t *props = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:s, s:o, s:o, s:o}",
        "id", (json_int_t)p->id, "kind", p->kind, "category", p->category, "status", p->status,
        "title", p->title, "body", p->body, "author", "display_name", p->author_name,
        "neighbourhood", p->neighbourhood_id, "created_at", mapd_json_time(p->created_at),
        "updated_at", mapd_json_time(p->updated_at), "expires_at", mapd_json_time(p->expires_at));
    if (!props || json_object_set_new(props, "group", p->group_id ? json_integer(p->group_id)
                                                                   : json_null())
        || json_object_set_new(props, "comments", json_integer(p->comments))) {
        json_decref(props);
        return NULL;
    }
    return json_pack("{s:s, s:I, s:{s:s, s:[f, f]}, s:o}", "type", "Feature", "id",
                     (json_int_t)p->id, "geometry", "type", "Point", "coordinates",
                     round(p->lon * 1e6) / 1e6, round(p->lat * 1e6) / 1e6, "properties", props);
}

void mapd_post_viewer_init(mapd_post_viewer *v, const geodata_member *viewer, int64_t author,
                           int64_t claimed_by, int hidden)
{
    *v = (mapd_post_viewer){
        .mine = viewer && viewer->id == author,
        .claimed_by_me = viewer && claimed_by == viewer->id,
        .staff = mapd_is_staff(viewer),
        .hidden = hidden,
    };
}

int mapd_post_add_distance(json_t *props, double distance)
{
    return json_object_set_new(props, "distance_m", json_integer((json_int_t)llround(distance)));
}

int mapd_post_viewer_props(json_t *props, const mapd_post_viewer *v, double distance)
{
    int rc = json_object_set_new(props, "mine", json_boolean(v->mine));
    rc |= json_object_set_new(props, "claimed_by_me", json_boolean(v->claimed_by_me));
    if (v->mine)
        rc |= json_object_set_new(props, "views", json_integer(v->views));
    if (v->mine || v->staff)
        rc |= json_object_set_new(props, "hidden", json_boolean(v->hidden));
    if (v->staff)
        rc |= json_object_set_new(props, "reports", json_integer(v->reports));
    if (distance >= 0)
        rc |= mapd_post_add_distance(props, distance);
    return rc ? -1 : 0;
}

