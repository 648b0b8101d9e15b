/*
 * geodata/domain/shop_claims.c — who owns an imported shop: a shop account asks,
 * staff decide (see shops.h).
 *
 * A shop imported from OpenStreetMap belongs to nobody. Whoever owns it
 * sets its status for the whole neighbourhood to read, so owning it is not
 * one click: the account files a claim with a note telling staff how to
 * check (a phone call to the shop, a visit), and staff approve or turn it
 * down. A claim moves pending -> approved | rejected, or pending ->
 * withdrawn when the account is deleted; only pending claims change, and at
 * most one pending claim per (shop, account) exists (a unique partial
 * index). Approving sets shops.owner_id only where it is still NULL, so two
 * staff approving two claims of one shop at once cannot both succeed.
 */
#include <stdio.h>
#include <string.h>

#include "geodata/shops.h"
#include "internal.h"

#define CLAIM_COLUMNS "c.id, c.shop_id, c.member_id, coalesce(s.name, ''), " \
    "trim(coalesce(s.addr_housenumber || ' ', '') || coalesce(s.addr_street, '') || " \
    "coalesce(', ' || s.addr_postcode, '') || coalesce(' ' || s.addr_city, ''), ', '), " \
    "m.display_name, m.email, c.note, c.status, c.created_at, coalesce(c.decided_at, 0)"
#define CLAIM_FROM " FROM shop_claims c JOIN shops s ON s.id = c.shop_id JOIN members m ON m.id = c.member_id"

static void read_claim(sql_stmt *st, geodata_shop_claim *c)
{
    c->id = sql_column_int64(st, 0);
    c->shop_id = sql_column_int64(st, 1);
    c->member_id = sql_column_int64(st, 2);
    geodata_column_text(st, 3, c->shop_name, sizeof c->shop_name);
    geodata_column_text(st, 4, c->shop_address, sizeof c->shop_address);
    geodata_column_text(st, 5, c->member_name, sizeof c->member_name);
    geodata_column_text(st, 6, c->member_email, sizeof c->member_email);
    geodata_column_text(st, 7, c->note, sizeof c->note);
    geodata_column_text(st, 8, c->status, sizeof c->status);
    c->created_at = sql_column_int64(st, 9);
    c->decided_at = sql_column_int64(st, 10);
}

/* Steps st (finalizing it); *changed gets the rows it changed. */
static int run(geodata_store *store, sql_stmt *st, const char *what, int *changed)
{
    int rc = geodata_write(store, st, what, changed);
    sql_finalize(st);
    return rc;
}

int geodata_shop_claim_request(geodata_store *store, int64_t id, int64_t member, const char *note,
                               int64_t now, int64_t *claim_id)
{
    *claim_id = 0;
    if (note && strlen(note) > GEODATA_CLAIM_NOTE_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "the note has more than %d bytes", GEODATA_CLAIM_NOTE_MAX);
    geodata_shop s;
    int rc = geodata_begin(store);
    if (!rc) rc = geodata_shop_get(store, id, &s);
    if (!rc && s.owner_id == member)
        return geodata_commit(store);   /* already theirs: nothing to ask */
    if (!rc && s.owner_id)
        rc = geodata_fail(store, GEODATA_ECONFLICT, "this shop already has an owner");
    sql_stmt *st = rc ? NULL : geodata_prepare(store,
        "INSERT INTO shop_claims(shop_id, member_id, note, created_at) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT(shop_id, member_id) WHERE status = 'pending' DO UPDATE SET note = excluded.note "
        "RETURNING id");
    if (!rc && !st)
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, id);
        sql_bind_int64(st, 2, member);
        sql_bind_text(st, 3, note ? note : "", -1, SQL_STATIC);
        sql_bind_int64(st, 4, now);
        if (sql_step(st) == SQL_ROW)
            *claim_id = sql_column_int64(st, 0);
        else
            rc = geodata_fail_sql(store, "filing a shop claim");
        sql_finalize(st);
    }
    if (!rc) {
        char target[32], detail[32];
        snprintf(target, sizeof target, "shop %lld", (long long)id);
        snprintf(detail, sizeof detail, "claim %lld", (long long)*claim_id);
        rc = geodata_audit(store, member, "claim shop", target, detail);
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) {
        geodata_rollback(store);
        *claim_id = 0;
    }
    return rc;
}

int geodata_shop_claims(geodata_store *store, int64_t member, int64_t before, size_t limit,
                        int (*each)(void *arg, const geodata_shop_claim *c), void *arg, int *more)
{
    *more = 0;
    if (limit < 1 || limit > GEODATA_CLAIMS_PAGE)
        return geodata_fail(store, GEODATA_EINVAL, "a page holds 1 to %d claims", GEODATA_CLAIMS_PAGE);
    sql_stmt *st = geodata_prepare(store, member > 0
        ? "SELECT " CLAIM_COLUMNS CLAIM_FROM " WHERE c.member_id = ?1 AND c.id < ?3 "
          "ORDER BY c.id DESC LIMIT ?2"
        : "SELECT " CLAIM_COLUMNS CLAIM_FROM " WHERE c.status = 'pending' AND c.id < ?3 "
          "ORDER BY c.id DESC LIMIT ?2");
    if (!st)
        return GEODATA_EDB;
    if (member > 0)
        sql_bind_int64(st, 1, member);
    sql_bind_int64(st, 2, (long long)limit + 1);
    sql_bind_int64(st, 3, before > 0 ? before : INT64_MAX);
    geodata_shop_claim c;
    int rc = GEODATA_OK, step = SQL_DONE;
    size_t n = 0;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        if (n++ == limit) {
            *more = 1;
            break;
        }
        read_claim(st, &c);
        rc = each(arg, &c);
    }
    if (!rc && step != SQL_DONE && step != SQL_ROW)
        rc = geodata_fail_sql(store, "reading shop claims");
    sql_finalize(st);
    return rc;
}

int geodata_shop_claim_get(geodata_store *store, int64_t claim_id, geodata_shop_claim *out)
{
    sql_stmt *st = geodata_prepare(store, "SELECT " CLAIM_COLUMNS CLAIM_FROM " WHERE c.id = ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, claim_id);
    int rc = sql_step(st);
    if (rc == SQL_ROW)
        read_claim(st, out);
    sql_finalize(st);
    if (rc == SQL_ROW)
        return GEODATA_OK;
    return rc == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no such shop claim")
                             : geodata_fail_sql(store, "reading a shop claim");
}

int geodata_shop_claim_decide(geodata_store *store, int64_t claim_id, int64_t staff, int approve,
                              int64_t now)
{
    geodata_shop_claim c;
    int changed = 0;
    int rc = geodata_begin(store);
    if (!rc) rc = geodata_shop_claim_get(store, claim_id, &c);
    if (!rc && strcmp(c.status, "pending") != 0)
        rc = geodata_fail(store, GEODATA_ECONFLICT, "this claim was already %s", c.status);
    sql_stmt *st;
    if (!rc && approve) {
        if (!(st = geodata_prepare(store, "UPDATE shops SET owner_id = ?2 WHERE id = ?1 AND owner_id IS NULL")))
            rc = GEODATA_EDB;
        else {
            sql_bind_int64(st, 1, c.shop_id);
            sql_bind_int64(st, 2, c.member_id);
            rc = run(store, st, "giving a shop its owner", &changed);
        }
        if (!rc && !changed)
            rc = geodata_fail(store, GEODATA_ECONFLICT, "this shop already has an owner");
    }
    /* This claim takes its decision; on approval the shop's other pending
     * claims are turned down with it. */
    if (!rc) {
        if (!(st = geodata_prepare(store,
                "UPDATE shop_claims SET status = CASE WHEN id = ?1 AND ?4 <> 0 THEN 'approved' ELSE 'rejected' END, "
                "decided_at = ?2, decided_by = ?3 WHERE status = 'pending' AND (id = ?1 OR (?4 <> 0 AND shop_id = ?5))")))
            rc = GEODATA_EDB;
        else {
            sql_bind_int64(st, 1, claim_id);
            sql_bind_int64(st, 2, now);
            sql_bind_int64(st, 3, staff);
            sql_bind_int(st, 4, approve != 0);
            sql_bind_int64(st, 5, c.shop_id);
            rc = run(store, st, "deciding a shop claim", NULL);
        }
    }
    if (!rc) {
        char target[32], detail[64];
        snprintf(target, sizeof target, "shop %lld", (long long)c.shop_id);
        snprintf(detail, sizeof detail, "claim %lld by member %lld", (long long)claim_id, (long long)c.member_id);
        rc = geodata_audit(store, staff, approve ? "approve shop claim" : "reject shop claim", target, detail);
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}
