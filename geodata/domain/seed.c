/*
 * geodata/domain/seed.c — example data (see seed.h).
 *
 * Addresses are drawn uniformly among those inside a neighbourhood, so the
 * posts' density follows the address density of the city, whatever the city.
 * Titles come from small per-category lists, in French, like real requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "geodata/posts.h"
#include "geodata/seed.h"
#include "spatialite_blob.h"

static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static const char *const titles[][3] = {
    { "Courses pour une personne âgée", "Je peux faire vos courses", "Besoin de pain et de lait" },
    { "Récupérer une ordonnance", "Je passe à la pharmacie demain", "Médicaments à aller chercher" },
    { "Garde d'enfants le mercredi", "Je peux garder vos enfants", "Baby-sitting en urgence" },
    { "Aide aux devoirs (collège)", "Soutien scolaire en maths", "Imprimer des devoirs" },
    { "Masques en tissu pour l'école", "Je couds des masques", "Masques pour une infirmière" },
    { "Poster un colis", "Petites courses de quartier", "Déposer un dossier à la mairie" },
    { "Un appel pour discuter", "Je peux appeler les personnes seules", "Compagnie au téléphone" },
    { "Promener mon chien", "Je promène vos chiens", "Nourrir un chat ce week-end" },
    { "Tissu et élastique", "Je donne une machine à coudre", "Fil et aiguilles" },
    { "Porter des cartons", "Petits travaux", "Prêt d'une perceuse" },
};

static const char *const shop_statuses[] = { "open", "closed", "delivery_only", "takeaway_only" };

/* A random address inside a neighbourhood: (lon, lat, neighbourhood, label). */
typedef struct pick { double lon, lat; char nb[GEODATA_ID_MAX + 1]; char label[300]; } pick;

static int random_address(geodata_store *store, sql_stmt *st, const int64_t *ids, int64_t n_addr,
                          uint64_t *rng, pick *p)
{
    sql_bind_int64(st, 1, ids[next(rng) % (uint64_t)n_addr]);
    int rc = sql_step(st);
    if (rc == SQL_ROW) {
        p->lon = sql_column_double(st, 0);
        p->lat = sql_column_double(st, 1);
        snprintf(p->nb, sizeof p->nb, "%s", (const char *)sql_column_text(st, 2));
        snprintf(p->label, sizeof p->label, "%s", (const char *)sql_column_text(st, 3));
    }
    sql_reset(st);
    return rc == SQL_ROW ? GEODATA_OK : geodata_fail_sql(store, "drawing an address");
}

/* The given accounts: members and shops at random addresses of one
 * neighbourhood; staff without a home. */
static int seed_accounts(geodata_store *store, const geodata_seed_account *acc, size_t n,
                         const int64_t *ids, int64_t n_addr, uint64_t *rng, sql_stmt *addr)
{
    pick first;
    int rc = random_address(store, addr, ids, n_addr, rng, &first);
    sql_stmt *near = geodata_prepare(store,
        "SELECT ST_X(geom), ST_Y(geom), neighbourhood_id, number || ' ' || street || ', ' || postcode || "
        "' ' || city FROM addresses WHERE neighbourhood_id = ?1 ORDER BY id LIMIT 1 OFFSET ?2");
    sql_stmt *ins = geodata_prepare(store,
        "INSERT INTO members(email, password_hash, display_name, role, address_text, "
        "home_lon, home_lat, neighbourhood_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING");
    if (!near || !ins)
        rc = GEODATA_EDB;
    for (size_t i = 0; !rc && i < n; i++) {
        int housed = strcmp(acc[i].role, "staff") != 0 && strcmp(acc[i].role, "admin") != 0;
        pick p = first;
        if (housed && i > 0) {
            sql_bind_text(near, 1, first.nb, -1, SQL_STATIC);
            sql_bind_int64(near, 2, (int64_t)(next(rng) % 50));
            int row = geodata_step(store, near);
            if (row > 0) {
                p.lon = sql_column_double(near, 0);
                p.lat = sql_column_double(near, 1);
                geodata_column_text(near, 3, p.label, sizeof p.label);
            }
            sql_reset(near);
            if (row < 0) {
                rc = row;
                break;
            }
        }
        sql_bind_text(ins, 1, acc[i].email, -1, SQL_STATIC);
        sql_bind_text(ins, 2, acc[i].password_hash, -1, SQL_STATIC);
        sql_bind_text(ins, 3, acc[i].display_name, -1, SQL_STATIC);
        sql_bind_text(ins, 4, acc[i].role, -1, SQL_STATIC);
        if (housed) {
            sql_bind_text(ins, 5, p.label, -1, SQL_TRANSIENT);
            sql_bind_double(ins, 6, p.lon);
            sql_bind_double(ins, 7, p.lat);
            sql_bind_text(ins, 8, p.nb, -1, SQL_TRANSIENT);
        } else {
            for (int k = 5; k <= 8; k++)
                sql_bind_null(ins, k);
        }
        if (sql_step(ins) != SQL_DONE)
            rc = geodata_fail_sql(store, "creating demo accounts");
        sql_reset(ins);
    }
    sql_finalize(near);
    sql_finalize(ins);
    return rc;
}

int geodata_seed(geodata_store *store, size_t posts, uint64_t seed, int64_t now,
                 const geodata_seed_account *accounts, size_t n_accounts,
                 geodata_seed_report *report)
{
    memset(report, 0, sizeof *report);
    uint64_t rng = seed ? seed : 1;
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    int64_t n_addr = 0, *ids = NULL;
    size_t cap = 0;
    sql_stmt *cnt = geodata_prepare(store,
        "SELECT id FROM addresses WHERE neighbourhood_id IS NOT NULL ORDER BY id");
    sql_stmt *addr = geodata_prepare(store,
        "SELECT ST_X(geom), ST_Y(geom), neighbourhood_id, number || ' ' || street || ', ' || postcode || "
        "' ' || city FROM addresses WHERE id = ?");
    sql_stmt *mem = geodata_prepare(store,
        "INSERT INTO members(email, password_hash, display_name, role, address_text, home_lon, "
        "home_lat, neighbourhood_id) VALUES (?, '!', ?, 'member', ?, ?, ?, ?) RETURNING id");
    sql_stmt *post = geodata_prepare(store,
        "INSERT INTO posts(author_id, kind, category, title, body, neighbourhood_id, created_at, "
        "updated_at, expires_at, geom) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?)");
    sql_stmt *maker = geodata_prepare(store,
        "INSERT INTO makers(member_id, capacity_per_day, stock, materials, geom) VALUES (?, ?, ?, ?, ?)");
    if (!cnt || !addr || !mem || !post || !maker)
        rc = GEODATA_EDB;
    int row = 0;
    while (!rc && (row = geodata_step(store, cnt)) > 0) {
        if ((size_t)n_addr == cap) {
            cap = cap ? cap * 2 : 4096;
            int64_t *m = realloc(ids, cap * sizeof *m);
            if (!m) {
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
                break;
            }
            ids = m;
        }
        ids[n_addr++] = sql_column_int64(cnt, 0);
    }
    if (!rc && row < 0)
        rc = row;
    if (!rc && n_addr == 0)
        rc = geodata_fail(store, GEODATA_EINVAL, "no address inside a neighbourhood: import them first");
    if (!rc && n_accounts)
        rc = seed_accounts(store, accounts, n_accounts, ids, n_addr, &rng, addr);
    size_t n_members = posts / 4 + 1;
    /* The members' ids as the inserts return them: on PostgreSQL another
     * writer's rows may come between them, so they are not first + i. */
    int64_t *members = rc ? NULL : malloc(n_members * sizeof *members);
    if (!rc && !members)
        rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    static const char *const names[] = { "Camille", "Dominique", "Claude", "Sacha", "Alix",
                                         "Morgan", "Lou", "Charlie", "Eden", "Noa" };
    for (size_t i = 0; !rc && i < n_members; i++) {
        pick p;
        rc = random_address(store, addr, ids, n_addr, &rng, &p);
        if (rc)
            break;
        char email[64], name[64];
        snprintf(email, sizeof email, "seed-%llu-%zu@example.invalid", (unsigned long long)seed, i);
        snprintf(name, sizeof name, "%s %c.", names[next(&rng) % 10], (char)('A' + next(&rng) % 26));
        sql_bind_text(mem, 1, email, -1, SQL_TRANSIENT);
        sql_bind_text(mem, 2, name, -1, SQL_TRANSIENT);
        sql_bind_text(mem, 3, p.label, -1, SQL_TRANSIENT);
        sql_bind_double(mem, 4, p.lon);
        sql_bind_double(mem, 5, p.lat);
        sql_bind_text(mem, 6, p.nb, -1, SQL_TRANSIENT);
        int64_t id = 0;
        rc = geodata_insert(store, mem, "seeding members", &id);
        sql_reset(mem);
        members[i] = id;
        report->members++;
        /* One member in fifty sews masks. */
        if (!rc && next(&rng) % 50 == 0) {
            double plon, plat;
            geodata_public_point(p.lon, p.lat, &plon, &plat);
            unsigned char blob[GEODATA_POINT_BLOB_SIZE];
            sql_bind_int64(maker, 1, id);
            sql_bind_int(maker, 2, 5 + (int)(next(&rng) % 40));
            sql_bind_int(maker, 3, (int)(next(&rng) % 100));
            sql_bind_text(maker, 4, next(&rng) % 2 ? "[\"fabric\",\"elastic\"]" : "[\"thread\"]",
                              -1, SQL_STATIC);
            geodata_bind_point(store, maker, 5, plon, plat, blob);
            if (sql_step(maker) != SQL_DONE)
                rc = geodata_fail_sql(store, "seeding makers");
            sql_reset(maker);
            report->makers++;
        }
    }
    sql_stmt *home = rc ? NULL : geodata_prepare(store,
        "SELECT home_lon, home_lat, neighbourhood_id FROM members WHERE id = ?");
    if (!rc && !home)
        rc = GEODATA_EDB;
    for (size_t i = 0; !rc && i < posts; i++) {
        int64_t author = members[next(&rng) % n_members];
        sql_bind_int64(home, 1, author);
        if (sql_step(home) != SQL_ROW) {
            rc = geodata_fail_sql(store, "seeding posts");
            break;
        }
        double plon, plat;
        geodata_public_point(sql_column_double(home, 0), sql_column_double(home, 1), &plon, &plat);
        unsigned char blob[GEODATA_POINT_BLOB_SIZE];
        size_t cat = next(&rng) % 10;
        int64_t created = now - (int64_t)(next(&rng) % (5 * 86400));
        sql_bind_int64(post, 1, author);
        sql_bind_text(post, 2, next(&rng) % 3 ? "request" : "offer", -1, SQL_STATIC);
        sql_bind_text(post, 3, geodata_post_categories[cat], -1, SQL_STATIC);
        sql_bind_text(post, 4, titles[cat][next(&rng) % 3], -1, SQL_STATIC);
        sql_bind_text(post, 5, (const char *)sql_column_text(home, 2), -1, SQL_TRANSIENT);
        sql_bind_int64(post, 6, created);
        sql_bind_int64(post, 7, created);
        sql_bind_int64(post, 8, created + 7 * 86400);
        geodata_bind_point(store, post, 9, plon, plat, blob);
        sql_reset(home);
        if (sql_step(post) != SQL_DONE)
            rc = geodata_fail_sql(store, "seeding posts");
        sql_reset(post);
        report->posts++;
    }
    sql_finalize(home);
    /* About half of the shops get a status, confirmed within the last two weeks. */
    sql_stmt *shops = rc ? NULL : geodata_prepare(store, "SELECT id FROM shops ORDER BY id");
    sql_stmt *set = rc ? NULL : geodata_prepare(store,
        "UPDATE shops SET status = ?2, delivers = ?3, takeaway = ?4, gift_cards = ?5, "
        "confirmed_at = ?6 WHERE id = ?1");
    while (!rc && shops && set && (row = geodata_step(store, shops)) > 0) {
        if (next(&rng) % 2)
            continue;
        sql_bind_int64(set, 1, sql_column_int64(shops, 0));
        sql_bind_text(set, 2, shop_statuses[next(&rng) % 4], -1, SQL_STATIC);
        sql_bind_int(set, 3, (int)(next(&rng) % 2));
        sql_bind_int(set, 4, (int)(next(&rng) % 2));
        sql_bind_int(set, 5, (int)(next(&rng) % 2));
        sql_bind_int64(set, 6, now - (int64_t)(next(&rng) % (14 * 86400)));
        if (sql_step(set) != SQL_DONE)
            rc = geodata_fail_sql(store, "seeding shop statuses");
        sql_reset(set);
        report->shops++;
    }
    if (!rc && row < 0)
        rc = row;
    sql_finalize(shops);
    sql_finalize(set);
    sql_finalize(cnt);
    sql_finalize(addr);
    sql_finalize(mem);
    sql_finalize(post);
    sql_finalize(maker);
    free(ids);
    free(members);
    if (!rc) {
        char detail[96];
        snprintf(detail, sizeof detail, "%zu members, %zu posts, %zu makers, %zu shop statuses",
                 report->members, report->posts, report->makers, report->shops);
        rc = geodata_audit(store, 0, "seed", NULL, detail);
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}
