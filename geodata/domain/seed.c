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

static int random_address(geodata_store *store, sqlite3_stmt *st, const int64_t *ids, int64_t n_addr,
                          uint64_t *rng, pick *p)
{
    sqlite3_bind_int64(st, 1, ids[next(rng) % (uint64_t)n_addr]);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        p->lon = sqlite3_column_double(st, 0);
        p->lat = sqlite3_column_double(st, 1);
        snprintf(p->nb, sizeof p->nb, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(p->label, sizeof p->label, "%s", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? GEODATA_OK : geodata_fail_sql(store, "drawing an address");
}

/* The given accounts: members and shops at random addresses of one
 * neighbourhood; staff without a home. */
static int seed_accounts(geodata_store *store, const geodata_seed_account *acc, size_t n,
                         const int64_t *ids, int64_t n_addr, uint64_t *rng, sqlite3_stmt *addr)
{
    pick first;
    int rc = random_address(store, addr, ids, n_addr, rng, &first);
    sqlite3_stmt *near = geodata_prepare(store,
        "SELECT X(geom), Y(geom), neighbourhood_id, number || ' ' || street || ', ' || postcode || "
        "' ' || city FROM addresses WHERE neighbourhood_id = ?1 ORDER BY id LIMIT 1 OFFSET ?2");
    sqlite3_stmt *ins = geodata_prepare(store,
        "INSERT OR IGNORE INTO members(email, password_hash, display_name, role, address_text, "
        "home_lon, home_lat, neighbourhood_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!near || !ins)
        rc = GEODATA_EDB;
    for (size_t i = 0; !rc && i < n; i++) {
        int housed = strcmp(acc[i].role, "staff") != 0 && strcmp(acc[i].role, "admin") != 0;
        pick p = first;
        if (housed && i > 0) {
            sqlite3_bind_text(near, 1, first.nb, -1, SQLITE_STATIC);
            sqlite3_bind_int64(near, 2, (int64_t)(next(rng) % 50));
            int row = geodata_step(store, near);
            if (row > 0) {
                p.lon = sqlite3_column_double(near, 0);
                p.lat = sqlite3_column_double(near, 1);
                geodata_column_text(near, 3, p.label, sizeof p.label);
            }
            sqlite3_reset(near);
            if (row < 0) {
                rc = row;
                break;
            }
        }
        sqlite3_bind_text(ins, 1, acc[i].email, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, acc[i].password_hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, acc[i].display_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, acc[i].role, -1, SQLITE_STATIC);
        if (housed) {
            sqlite3_bind_text(ins, 5, p.label, -1, SQLITE_TRANSIENT);
            sqlite3_bind_double(ins, 6, p.lon);
            sqlite3_bind_double(ins, 7, p.lat);
            sqlite3_bind_text(ins, 8, p.nb, -1, SQLITE_TRANSIENT);
        } else {
            for (int k = 5; k <= 8; k++)
                sqlite3_bind_null(ins, k);
        }
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = geodata_fail_sql(store, "creating demo accounts");
        sqlite3_reset(ins);
    }
    sqlite3_finalize(near);
    sqlite3_finalize(ins);
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
    sqlite3_stmt *cnt = geodata_prepare(store,
        "SELECT id FROM addresses WHERE neighbourhood_id IS NOT NULL ORDER BY id");
    sqlite3_stmt *addr = geodata_prepare(store,
        "SELECT X(geom), Y(geom), neighbourhood_id, number || ' ' || street || ', ' || postcode || "
        "' ' || city FROM addresses WHERE id = ?");
    sqlite3_stmt *mem = geodata_prepare(store,
        "INSERT INTO members(email, password_hash, display_name, role, address_text, home_lon, "
        "home_lat, neighbourhood_id) VALUES (?, '!', ?, 'member', ?, ?, ?, ?)");
    sqlite3_stmt *post = geodata_prepare(store,
        "INSERT INTO posts(author_id, kind, category, title, body, neighbourhood_id, created_at, "
        "updated_at, expires_at, geom) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?)");
    sqlite3_stmt *maker = geodata_prepare(store,
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
        ids[n_addr++] = sqlite3_column_int64(cnt, 0);
    }
    if (!rc && row < 0)
        rc = row;
    if (!rc && n_addr == 0)
        rc = geodata_fail(store, GEODATA_EINVAL, "no address inside a neighbourhood: import them first");
    if (!rc && n_accounts)
        rc = seed_accounts(store, accounts, n_accounts, ids, n_addr, &rng, addr);
    size_t n_members = posts / 4 + 1;
    int64_t first_member = 0;
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
        sqlite3_bind_text(mem, 1, email, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(mem, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(mem, 3, p.label, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(mem, 4, p.lon);
        sqlite3_bind_double(mem, 5, p.lat);
        sqlite3_bind_text(mem, 6, p.nb, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(mem) != SQLITE_DONE)
            rc = geodata_fail_sql(store, "seeding members");
        sqlite3_reset(mem);
        int64_t id = sqlite3_last_insert_rowid(store->db);
        if (i == 0)
            first_member = id;
        report->members++;
        /* One member in fifty sews masks. */
        if (!rc && next(&rng) % 50 == 0) {
            double plon, plat;
            geodata_public_point(p.lon, p.lat, &plon, &plat);
            unsigned char blob[GEODATA_POINT_BLOB_SIZE];
            geodata_point_blob(plon, plat, 4326, blob);
            sqlite3_bind_int64(maker, 1, id);
            sqlite3_bind_int(maker, 2, 5 + (int)(next(&rng) % 40));
            sqlite3_bind_int(maker, 3, (int)(next(&rng) % 100));
            sqlite3_bind_text(maker, 4, next(&rng) % 2 ? "[\"fabric\",\"elastic\"]" : "[\"thread\"]",
                              -1, SQLITE_STATIC);
            sqlite3_bind_blob(maker, 5, blob, sizeof blob, SQLITE_TRANSIENT);
            if (sqlite3_step(maker) != SQLITE_DONE)
                rc = geodata_fail_sql(store, "seeding makers");
            sqlite3_reset(maker);
            report->makers++;
        }
    }
    sqlite3_stmt *home = rc ? NULL : geodata_prepare(store,
        "SELECT home_lon, home_lat, neighbourhood_id FROM members WHERE id = ?");
    if (!rc && !home)
        rc = GEODATA_EDB;
    for (size_t i = 0; !rc && i < posts; i++) {
        int64_t author = first_member + (int64_t)(next(&rng) % n_members);
        sqlite3_bind_int64(home, 1, author);
        if (sqlite3_step(home) != SQLITE_ROW) {
            rc = geodata_fail_sql(store, "seeding posts");
            break;
        }
        double plon, plat;
        geodata_public_point(sqlite3_column_double(home, 0), sqlite3_column_double(home, 1), &plon, &plat);
        unsigned char blob[GEODATA_POINT_BLOB_SIZE];
        geodata_point_blob(plon, plat, 4326, blob);
        size_t cat = next(&rng) % 10;
        int64_t created = now - (int64_t)(next(&rng) % (5 * 86400));
        sqlite3_bind_int64(post, 1, author);
        sqlite3_bind_text(post, 2, next(&rng) % 3 ? "request" : "offer", -1, SQLITE_STATIC);
        sqlite3_bind_text(post, 3, geodata_post_categories[cat], -1, SQLITE_STATIC);
        sqlite3_bind_text(post, 4, titles[cat][next(&rng) % 3], -1, SQLITE_STATIC);
        sqlite3_bind_text(post, 5, (const char *)sqlite3_column_text(home, 2), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(post, 6, created);
        sqlite3_bind_int64(post, 7, created);
        sqlite3_bind_int64(post, 8, created + 7 * 86400);
        sqlite3_bind_blob(post, 9, blob, sizeof blob, SQLITE_TRANSIENT);
        sqlite3_reset(home);
        if (sqlite3_step(post) != SQLITE_DONE)
            rc = geodata_fail_sql(store, "seeding posts");
        sqlite3_reset(post);
        report->posts++;
    }
    sqlite3_finalize(home);
    /* About half of the shops get a status, confirmed within the last two weeks. */
    sqlite3_stmt *shops = rc ? NULL : geodata_prepare(store, "SELECT id FROM shops ORDER BY id");
    sqlite3_stmt *set = rc ? NULL : geodata_prepare(store,
        "UPDATE shops SET status = ?2, delivers = ?3, takeaway = ?4, gift_cards = ?5, "
        "confirmed_at = ?6 WHERE id = ?1");
    while (!rc && shops && set && (row = geodata_step(store, shops)) > 0) {
        if (next(&rng) % 2)
            continue;
        sqlite3_bind_int64(set, 1, sqlite3_column_int64(shops, 0));
        sqlite3_bind_text(set, 2, shop_statuses[next(&rng) % 4], -1, SQLITE_STATIC);
        sqlite3_bind_int(set, 3, (int)(next(&rng) % 2));
        sqlite3_bind_int(set, 4, (int)(next(&rng) % 2));
        sqlite3_bind_int(set, 5, (int)(next(&rng) % 2));
        sqlite3_bind_int64(set, 6, now - (int64_t)(next(&rng) % (14 * 86400)));
        if (sqlite3_step(set) != SQLITE_DONE)
            rc = geodata_fail_sql(store, "seeding shop statuses");
        sqlite3_reset(set);
        report->shops++;
    }
    if (!rc && row < 0)
        rc = row;
    sqlite3_finalize(shops);
    sqlite3_finalize(set);
    sqlite3_finalize(cnt);
    sqlite3_finalize(addr);
    sqlite3_finalize(mem);
    sqlite3_finalize(post);
    sqlite3_finalize(maker);
    free(ids);
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
