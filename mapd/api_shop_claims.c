/*
 * mapd/api_shop_claims.c — a shop account claims an imported shop; staff
 * approve or turn the claim down (geodata's shop_claims.c says why it is
 * not one click).
 *
 *   POST /api/shops/{id}/claim        shop account: files a claim ({"note"}
 *                                     optional), 202 with the pending claim
 *   GET  /api/shop-claims             staff: every pending claim, with the
 *                                     claimant's name and email to check it;
 *                                     a shop account: its own claims. Newest
 *                                     first, pages of at most 200 (limit=N),
 *                                     before=ID for the next (paging.h)
 *   POST /api/shop-claims/{id}/approve | /reject    staff, audited
 */
#include <string.h>

#include "http.h"
#include "paging.h"
#include "geodata/shops.h"

/* A claim as viewer sees it: staff also get who filed it (to call them
 * back); the claimant knows who they are. */
static json_t *claim_json(const geodata_shop_claim *c, int for_staff)
{
    json_t *j = json_pack("{s:I, s:{s:I, s:s, s:s}, s:s, s:s, s:o, s:o}", "id", (json_int_t)c->id,
                          "shop", "id", (json_int_t)c->shop_id, "name", c->shop_name,
                          "address", c->shop_address, "status", c->status, "note", c->note,
                          "created_at", mapd_json_time(c->created_at),
                          "decided_at", c->decided_at ? mapd_json_time(c->decided_at) : json_null());
    if (j && for_staff)
        json_object_set_new(j, "claimant", json_pack("{s:I, s:s, s:s}", "id", (json_int_t)c->member_id,
                                                     "display_name", c->member_name,
                                                     "email", c->member_email));
    return j;
}

enum MHD_Result mapd_api_shop_claim(mapd_ctx *ctx)
{
    const geodata_member *m = mapd_member_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    if (strcmp(m->role, "shop") != 0)
        return mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "this needs an account with the shop role");
    const char *note = NULL;
    json_t *body = NULL;
    if (ctx->req->body_len) {
        if (!(body = mapd_json_body_or_reply(ctx)))
            return MHD_YES;
        if (mapd_field_string_or_reply(ctx, body, "note", MAPD_FIELD_MULTILINE, GEODATA_CLAIM_NOTE_MAX, &note)) {
            json_decref(body);
            return MHD_YES;
        }
    }
    int64_t claim = 0;
    int rc = geodata_shop_claim_request(ctx->store, ctx->id, m->id, note, ctx->now, &claim);
    json_decref(body);
    if (rc)
        return mapd_problem_geodata(ctx, rc);
    if (!claim)   /* the shop is already this account's */
        return mapd_respond_json(ctx, MHD_HTTP_OK, json_pack("{s:{s:I}, s:b}", "shop", "id",
                                 (json_int_t)ctx->id, "mine", 1), NULL);
    geodata_shop_claim c;
    rc = geodata_shop_claim_get(ctx->store, claim, &c);
    return rc ? mapd_problem_geodata(ctx, rc)
              : mapd_respond_json(ctx, MHD_HTTP_ACCEPTED, claim_json(&c, 0), NULL);
}

typedef struct claim_list {
    json_t *arr;
    int for_staff;
    int64_t last;          /* the id of the last claim added: the next page's cursor */
} claim_list;

static int add_claim(void *arg, const geodata_shop_claim *c)
{
    claim_list *l = arg;
    l->last = c->id;
    return json_array_append_new(l->arr, claim_json(c, l->for_staff)) ? GEODATA_ENOMEM : 0;
}

/* GET /api/shop-claims[?limit=N][&before=ID]: {claims, more} and when
 * more, next_before. */
enum MHD_Result mapd_api_shop_claims(mapd_ctx *ctx)
{
    static const char *const known[] = { "limit", "before", NULL };
    const geodata_member *m = mapd_member_or_reply(ctx, 0);
    if (!m)
        return MHD_YES;
    int staff = mapd_is_staff(m);
    if (!staff && strcmp(m->role, "shop") != 0)
        return mapd_problem(ctx, MHD_HTTP_FORBIDDEN, "Forbidden", "shop claims are for shop accounts and staff");
    long limit, before;
    if (mapd_known_args_or_reply(ctx, known)
        || mapd_long_arg_or_reply(ctx, "limit", 1, GEODATA_CLAIMS_PAGE, GEODATA_CLAIMS_PAGE, &limit)
        || mapd_cursor_arg_or_reply(ctx, "before", &before))
        return MHD_YES;
    claim_list l = { json_array(), staff, 0 };
    int more = 0;
    int rc = l.arr ? geodata_shop_claims(ctx->store, staff ? 0 : m->id, before, (size_t)limit,
                                         add_claim, &l, &more)
                   : GEODATA_ENOMEM;
    if (rc) {
        json_decref(l.arr);
        return mapd_problem_geodata(ctx, rc);
    }
    json_t *doc = json_pack("{s:o}", "claims", l.arr);
    if (doc && mapd_page_tail(ctx, doc, more, "before", l.last, NULL, NULL)) {
        json_decref(doc);
        doc = NULL;
    }
    return mapd_respond_json(ctx, MHD_HTTP_OK, doc, NULL);
}

static enum MHD_Result decide(mapd_ctx *ctx, int approve)
{
    const geodata_member *m = mapd_staff_or_reply(ctx, 1);
    if (!m)
        return MHD_YES;
    int rc = geodata_shop_claim_decide(ctx->store, ctx->id, m->id, approve, ctx->now);
    geodata_shop_claim c;
    if (!rc)
        rc = geodata_shop_claim_get(ctx->store, ctx->id, &c);
    return rc ? mapd_problem_geodata(ctx, rc) : mapd_respond_json(ctx, MHD_HTTP_OK, claim_json(&c, 1), NULL);
}

enum MHD_Result mapd_api_shop_claim_approve(mapd_ctx *ctx) { return decide(ctx, 1); }
enum MHD_Result mapd_api_shop_claim_reject(mapd_ctx *ctx) { return decide(ctx, 0); }
