/*
 * tests/geodata/test_geocode.c — the geocoder: normalisation, matching, the
 * verification rule, reverse geocoding, bad input, and accuracy floors on a
 * fixed sample of the bundled Paris data and of the second test city.
 *
 * Usage: test_geocode SAMPLE_DIR SECOND_CITY_DIR (the test imports both).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "geocode_eval.h"
#include "geodata/geocode.h"
#include "geodata/import.h"
#include "geodata/nbindex.h"
#include "geodata/posts.h"
#include "geodata/seed.h"
#include "geom.h"
#include "internal.h"
#include "normalize.h"

static const char *sample_dir, *second_dir;
static char dir[64];
static geodata_store *paris, *second;
static geodata_geocoder *gp, *gs;

static geodata_store *import_city(const char *name, const char *nb, const char *addr)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    geodata_store *s;
    char *err;
    if (geodata_store_open(path, GEODATA_OPEN_CREATE, &s, &err))
        return NULL;
    geodata_report r;
    int rc = geodata_import_neighbourhoods(s, nb, NULL, &r);
    geodata_report_clear(&r);
    if (!rc) rc = geodata_import_addresses(s, addr, NULL, &r);
    geodata_report_clear(&r);
    if (rc) {
        fprintf(stderr, "import: %s\n", geodata_errmsg(s));
        geodata_store_close(s);
        return NULL;
    }
    return s;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_geocode.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char nb[512], addr[512];
    snprintf(nb, sizeof nb, "%s/neighbourhoods.geojson", sample_dir);
    snprintf(addr, sizeof addr, "%s/addresses.csv.gz", sample_dir);
    paris = import_city("paris.sqlite", nb, addr);
    snprintf(nb, sizeof nb, "%s/quartiers.geojson", second_dir);
    snprintf(addr, sizeof addr, "%s/adresses.csv.gz", second_dir);
    second = import_city("second.sqlite", nb, addr);
    if (!paris || !second || geodata_geocoder_load(paris, &gp) || geodata_geocoder_load(second, &gs))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    geodata_geocoder_free(gp);
    geodata_geocoder_free(gs);
    geodata_store_close(paris);
    geodata_store_close(second);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void expect_tokens(const char *text, const char *want)
{
    geodata_tokens t;
    assert_int_equal(geodata_normalize(text, strlen(text), &t), 0);
    char got[512] = "";
    for (size_t i = 0; i < t.n; i++) {
        static const char kinds[] = "wnos";
        char one[300];
        snprintf(one, sizeof one, "%s%c:%s", i ? " " : "", kinds[t.tok[i].kind], t.tok[i].text);
        strncat(got, one, sizeof got - strlen(got) - 1);
    }
    if (strcmp(got, want) != 0)
        fail_msg("'%s' -> '%s', want '%s'", text, got, want);
}

static void test_normalize(void **state)
{
    (void)state;
    expect_tokens("12 bis Rue de la Roquette", "n:12 s:b w:rue w:de w:la w:roquette");
    expect_tokens("12b r. de l'Église", "n:12 s:b w:rue w:de w:l w:eglise");
    expect_tokens("12BIS, AV. DU GÉNÉRAL LECLERC", "n:12 s:b w:avenue w:du w:general w:leclerc");
    expect_tokens("12 de la Paix", "n:12 w:de w:la w:paix");
    expect_tokens("3 ter bd St-Michel", "n:3 s:t w:boulevard w:saint w:michel");
    expect_tokens("Paris 11e", "w:paris o:11e");
    expect_tokens("Paris XI", "w:paris o:11e");
    expect_tokens("PARIS XIème", "w:paris o:11e");
    expect_tokens("Paris 1er Arrondissement", "w:paris o:1e w:arrondissement");
    expect_tokens("rue du Premier Mai", "w:rue w:du o:1e w:mai");
    expect_tokens("Rue du 4 Septembre", "w:rue w:du n:4 w:septembre");
    expect_tokens("1 s1 1S1 Place du Carrousel", "n:1 s:s1 n:1 s:s1 w:place w:du w:carrousel");
    expect_tokens("Voie D/12", "w:voie w:d n:12");
    expect_tokens("Cœur Œuvre fbg", "w:coeur w:oeuvre w:faubourg");
    expect_tokens("   ,;!?  ", "");
    expect_tokens("Rue Servandoni75006", "w:rue w:servandoni n:75006");
    expect_tokens("75006Paris", "n:75006 w:paris");
    expect_tokens("12 RueVernier", "n:12 w:rue w:vernier");
    expect_tokens("desHaies", "w:des w:haies");
    expect_tokens("12quinquies", "n:12 s:quinquies");
    expect_tokens("12rue", "n:12 w:rue");
    expect_tokens("34P1 Rue", "n:34 s:p1 w:rue");
    expect_tokens("Paris 14e arrdt", "w:paris o:14e w:arrondissement");
    expect_tokens("Voie A1", "w:voie w:a1");
    geodata_tokens t;
    assert_int_equal(geodata_normalize("\xff\xfe", 2, &t), -1);        /* not UTF-8 */
    assert_int_equal(geodata_normalize("\xc0\xaf", 2, &t), -1);        /* overlong */
    assert_int_equal(geodata_normalize("\xed\xa0\x80", 3, &t), -1);    /* surrogate */
    char big[600];
    memset(big, 'a', sizeof big);
    assert_int_equal(geodata_normalize(big, sizeof big, &t), -1);      /* too long */
}

static geodata_geocode_result res[5];

static size_t geocode(geodata_geocoder *g, const char *q)
{
    size_t n = 99;
    assert_int_equal(geodata_geocode(g, q, 5, res, &n), GEODATA_OK);
    return n;
}

static void test_matches(void **state)
{
    (void)state;
    const char *same[] = {
        "12 rue de la Roquette 75011 Paris",
        "12 r de la roquette",
        "12 RUE DE LA ROQUETTE PARIS XI",
        "rue de la Roquette 12, Paris 11e",
        "12 rue de la Roqette",           /* a letter missing */
        "12 rue de la Rqouette 75012",    /* two letters swapped, wrong postcode */
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        assert_true(geocode(gp, same[i]) >= 1);
        if (res[0].type != GEODATA_MATCH_HOUSENUMBER || strcmp(res[0].address_id, "75111_8358_00012"))
            fail_msg("'%s' -> %s (%s)", same[i], res[0].label, res[0].address_id);
        assert_string_equal(res[0].neighbourhood_id, "7511103");
        assert_int_equal(geodata_geocode_verify(res, 5), GEODATA_VERIFIED);
    }
    /* A number the street does not have: the street, never an invented number. */
    assert_true(geocode(gp, "9998 rue de la Roquette") >= 1);
    assert_int_equal(res[0].type, GEODATA_MATCH_STREET);
    assert_null(res[0].address_id);
    assert_true(res[0].score < GEODATA_VERIFY_MIN_SCORE);
    assert_int_equal(geodata_geocode_verify(res, 1), GEODATA_VERIFY_NOT_FOUND);
    /* No number at all: the street. */
    assert_true(geocode(gp, "rue de la Roquette") >= 1);
    assert_int_equal(res[0].type, GEODATA_MATCH_STREET);
    /* A street that does not exist is not a confident match. */
    size_t n = geocode(gp, "12 rue des Zoblimaxes 75011 Paris");
    assert_true(n == 0 || res[0].type != GEODATA_MATCH_HOUSENUMBER
                || res[0].score < GEODATA_VERIFY_MIN_SCORE);
    /* Same words in another city: the second city answers for itself. */
    assert_true(geocode(gs, "5 quater Rue Mercière Ville-Test") >= 1);
    assert_int_equal(res[0].type, GEODATA_MATCH_HOUSENUMBER);
}

static void test_bad_queries(void **state)
{
    (void)state;
    /* Refused before any search, each with its reason. */
    static const struct { const char *q, *why; } refused[] = {
        { "", "the query is empty" }, { "   ", "the query is empty" },
        { "\t\n", "the query holds control characters" },
        { "12 rue\x01 de la paix", "the query holds control characters" },
        { "12 rue \xc2\x85", "the query holds control characters" },
        { "12 rue \xff\xfe", "the query is not valid UTF-8" },
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        size_t n = 99;
        assert_int_equal(geodata_geocode(gp, refused[i].q, 5, res, &n), GEODATA_EINVAL);
        assert_int_equal(n, 0);
        assert_int_equal(geodata_geocode_autocomplete(gp, refused[i].q, 5, res, &n), GEODATA_EINVAL);
        assert_string_equal(geodata_geocode_query_problem(refused[i].q), refused[i].why);
    }
    assert_null(geodata_geocode_query_problem("12 rue de la Paix"));
    /* Searched, and no house number: punctuation, numbers, a postcode or a
     * town alone. */
    const char *nothing[] = { ",;:!?./", "12345 67 8", "----", "75011", "Paris", "75011 Paris",
                              "Paris 11e", "Ville-Test", "69001" };
    for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++) {
        size_t n = 99;
        assert_int_equal(geodata_geocode(gp, nothing[i], 5, res, &n), GEODATA_OK);
        if (n != 0 && res[0].type == GEODATA_MATCH_HOUSENUMBER)
            fail_msg("'%s' gave a house number", nothing[i]);
    }
    for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++) {
        size_t n = 99;
        assert_int_equal(geodata_geocode(gs, nothing[i], 5, res, &n), GEODATA_OK);
        if (n != 0 && res[0].type == GEODATA_MATCH_HOUSENUMBER)
            fail_msg("'%s' gave a house number in the second city", nothing[i]);
    }
    size_t n = 99;
    char *big = malloc(10240 + 1);
    memset(big, 'x', 10240);
    big[10240] = '\0';
    assert_int_equal(geodata_geocode(gp, big, 5, res, &n), GEODATA_EINVAL);
    big[513] = '\0';
    assert_string_equal(geodata_geocode_query_problem(big), "the query is longer than 512 bytes");
    big[512] = '\0';
    assert_null(geodata_geocode_query_problem(big));
    free(big);
    assert_int_equal(geodata_geocode(gp, NULL, 5, res, &n), GEODATA_EINVAL);
}

/* Verifies, as registration does; returns the status. */
static geodata_verify_status verify(geodata_geocoder *g, const char *q)
{
    size_t n = geocode(g, q);
    return geodata_geocode_verify(res, n);
}

/* Another town is never a home here, whatever its street words match: the
 * town and postcode typed are evidence. Nothing suggested to such a person
 * is a street of this base. */
static void test_other_towns(void **state)
{
    (void)state;
    const char *not_covered[] = {
        "12 rue de Paris 93100 Montreuil",      /* was 12 Rue de Montreuil, Paris (0.95) */
        "10 rue de la paix boulogne",           /* was 10 Rue de la Paix, Paris (0.84) */
        "3 rue de la Paix 94300 Vincennes",     /* was 3 Rue de la Paix, Paris (0.81) */
        "12 rue de paris montreuil",
        "12 rue de la Roquette 69001 Lyon",
        "12 rue de la Roquette Lyon",
        "12 rue de la Roquette 93100",
        "12 rue de la Roquette 75011 Montreuil", /* a held postcode, another town */
        "5 quater rue Mercière 69002 Ville-Test", /* the second city, in the Paris base */
        "12 rue de la Roquette 69002",          /* in the second city's base */
    };
    for (size_t i = 0; i < sizeof not_covered / sizeof *not_covered; i++) {
        geodata_geocoder *g = i == sizeof not_covered / sizeof *not_covered - 1 ? gs : gp;
        geodata_verify_status why = verify(g, not_covered[i]);
        if (why != GEODATA_VERIFY_NOT_COVERED)
            fail_msg("'%s': %s, want not_covered", not_covered[i], geodata_verify_code(why));
        size_t n = geocode(g, not_covered[i]);
        for (size_t k = 0; k < n; k++)
            if (geodata_geocode_suggestible(&res[k]))
                fail_msg("'%s' suggests '%s'", not_covered[i], res[k].label);
        /* Autocompletion never offers this base's namesake street. */
        size_t m = 99;
        assert_int_equal(geodata_geocode_autocomplete(g, not_covered[i], 5, res, &m), GEODATA_OK);
        for (size_t k = 0; k < m; k++)
            if (res[k].evidence & (GEODATA_EVIDENCE_OTHER_TOWN | GEODATA_EVIDENCE_OTHER_POSTCODE
                                   | GEODATA_EVIDENCE_CONTRADICTION))
                fail_msg("autocomplete '%s' offers '%s'", not_covered[i], res[k].label);
    }
    /* A postcode and a town the base holds, but not together with this
     * street: a contradiction (the second city's base holds "Ailleurs",
     * 69999, besides Ville-Test, 69001-69009). */
    const char *contradict[] = {
        "5 quater Rue Mercière 69999", "5 quater Rue Mercière Ailleurs",
        "5 quater Rue Mercière 69002 Ailleurs", "3 Route de Loin Ville-Test",
    };
    for (size_t i = 0; i < sizeof contradict / sizeof *contradict; i++) {
        size_t m = geocode(gs, contradict[i]);
        assert_true(m >= 1);
        if (!(res[0].evidence & GEODATA_EVIDENCE_CONTRADICTION)
            || geodata_geocode_verify(res, m) != GEODATA_VERIFY_NOT_COVERED)
            fail_msg("'%s': evidence %u, want a contradiction", contradict[i], res[0].evidence);
    }
    assert_int_equal(verify(gs, "5 quater Rue Mercière 69003 Ville-Test"), GEODATA_VERIFIED);
    /* "rue de Paris ... Montreuil" is never "Rue de Montreuil ... Paris". */
    size_t n = geocode(gp, "12 rue de Paris 93100 Montreuil");
    for (size_t k = 0; k < n; k++)
        if (res[k].street && strstr(res[k].street, "Montreuil"))
            fail_msg("the town's word was read as the street's: '%s'", res[k].label);
    /* Still verified: a postcode typo, a missing postcode or town, the
     * district's ordinal, "France". */
    const char *home[] = {
        "12 rue de la Roquette 75011 Paris", "12 rue de la Roquette", "12 rue de la Roquette Paris",
        "12 rue de la Roquette 75012 Paris", "12 rue de la Roquette 75101", "12 rue de la Roquette Pais",
        "12 rue de la Roquette, Paris 11e", "12 rue de la Roquette 75011 Paris France",
        "rue de la Roquette 12, 75011 Paris",
    };
    for (size_t i = 0; i < sizeof home / sizeof *home; i++) {
        geodata_verify_status why = verify(gp, home[i]);
        if (why != GEODATA_VERIFIED)
            fail_msg("'%s': %s, want verified", home[i], geodata_verify_code(why));
    }
}

/* Addresses as people type them (classes seen in a public test suite). */
static void test_typed_as_people_do(void **state)
{
    (void)state;
    static const struct { const char *q, *label; } cases[] = {
        { "104 ue Blanche", "104 Rue Blanche, 75009" },              /* misspelt type */
        { "64 Ru de la Santé", "64 Rue de la Santé, 75014" },
        { "11 Re de l'Espérance 75013", "11 Rue de l'Espérance, 75013" },
        { "7T Rue Servandoni75006", "7 ter Rue Servandoni, 75006" },  /* postcode glued */
        { "12 RueVernier 75017", "12 Rue Vernier, 75017" },          /* type glued */
        { "12 Rue VernierParis", "12 Rue Vernier, 75017" },          /* town glued */
        { "100 Rue desHaies Paris", "100 Rue des Haies, 75020" },    /* particle glued */
        { "100 Ruedes Haies", "100 Rue des Haies, 75020" },
        { "80 Avenuede Saint-Ouen", "80 Avenue de Saint-Ouen, 75018" },
        { "66 rue lafayette paris", "66 Rue la Fayette, 75009" },     /* written another way */
        { "39 bd henry 4", "39 Boulevard Henri IV, 75004" },
        { "91 Avenue Damesnil 75012", "91 Avenue Daumesnil, 75012" }, /* a typo, not two words */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_true(geocode(gp, cases[i].q) >= 1);
        if (res[0].type != GEODATA_MATCH_HOUSENUMBER || strncmp(res[0].label, cases[i].label,
                                                                 strlen(cases[i].label)) != 0)
            fail_msg("'%s' -> '%s', want '%s'", cases[i].q, res[0].label, cases[i].label);
    }
    /* A real word read as a typo of another is not verified, but may be
     * suggested (a spelling fix, same number, same town). */
    size_t m = geocode(gp, "5 rue de la gare");
    assert_true(m >= 1);
    assert_int_equal(geodata_geocode_verify(res, m), GEODATA_VERIFY_LOW_SCORE);
    assert_int_equal(res[0].evidence, GEODATA_EVIDENCE_RESPELT);
    assert_string_equal(res[0].street, "Rue de la Mare");
    assert_true(geodata_geocode_suggestible(&res[0]));
    /* A suffix the base does not hold: the number, approximate, never verified. */
    size_t n = geocode(gp, "19B Rue des Deux Ponts");
    assert_true(n >= 1);
    assert_int_equal(res[0].type, GEODATA_MATCH_HOUSENUMBER);
    assert_true(res[0].approximate);
    assert_int_equal(res[0].number, 19);
    assert_string_equal(res[0].street, "Rue des Deux Ponts");
    assert_int_equal(geodata_geocode_verify(res, n), GEODATA_VERIFY_APPROXIMATE);
    assert_false(geodata_geocode_suggestible(&res[0]));
}

/* The last word may be the start of a word; only that word. */
static void test_autocomplete(void **state)
{
    (void)state;
    static const struct { const char *q, *label; } cases[] = {
        { "7 rue montorg", "7 Rue Montorgueil, 75001" },
        { "92 rue de bagnol", "92 Rue de Bagnolet, 75020" },
        { "12 rue de la roquette pa", "12 Rue de la Roquette, 75011" },
        { "5 quater rue merc", "5 quater Rue Mercière, 6900" },
        { "10 av de la rep", "10 Avenue de la République, 75011" },  /* "av" begins "avenue" */
        { "12 rue de plel", "12 Rue de Plélo, 75015" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        geodata_geocoder *g = strstr(cases[i].q, "merc") ? gs : gp;
        size_t n = 0;
        assert_int_equal(geodata_geocode_autocomplete(g, cases[i].q, 5, res, &n), GEODATA_OK);
        if (n == 0 || strncmp(res[0].label, cases[i].label, strlen(cases[i].label)) != 0)
            fail_msg("autocomplete '%s' -> '%s', want '%s'", cases[i].q, n ? res[0].label : "nothing",
                     cases[i].label);
    }
    size_t n = 0;
    assert_int_equal(geodata_geocode_autocomplete(gp, "24 rue de l'arb", 5, res, &n), GEODATA_OK);
    int arbre = 0;
    for (size_t k = 0; k < n; k++)
        arbre |= strncmp(res[k].label, "24 Rue de l'Arbre Sec", 21) == 0;
    assert_true(arbre);
    /* A word that is also an abbreviation is still the start of a word while
     * being typed: "pl" may begin Plélo, not only be "place". */
    assert_int_equal(geodata_geocode_autocomplete(gp, "12 rue de pl", 5, res, &n), GEODATA_OK);
    int plain = 0;
    for (size_t k = 0; k < n; k++)
        plain |= strncmp(res[k].street, "Rue de Pl", 9) == 0;
    assert_true(plain);
    /* Without autocompletion a partial word is only a typo's worth. */
    assert_true(geocode(gp, "7 rue montorg") == 0 || res[0].type != GEODATA_MATCH_HOUSENUMBER
                || strncmp(res[0].label, "7 Rue Montorgueil", 17) != 0);
}

static void test_reverse(void **state)
{
    (void)state;
    geodata_geocode_result r;
    /* Right on 12 rue de la Roquette. */
    assert_int_equal(geodata_geocode_reverse(gp, 2.370734, 48.853595, 200, &r), GEODATA_OK);
    assert_string_equal(r.address_id, "75111_8358_00012");
    assert_true(r.distance_m < 0.5);
    /* In the middle of the Atlantic: nothing within 200 m. */
    assert_int_equal(geodata_geocode_reverse(gp, -30, 40, 200, &r), GEODATA_ENOTFOUND);
    assert_int_equal(geodata_geocode_reverse(gp, NAN, 40, 200, &r), GEODATA_ENOTFOUND);
    /* The nearest is the nearest: check against every address near a point. */
    eval_set set;
    assert_int_equal(eval_load(second, &set), 0);
    uint64_t rng = 7;
    for (int k = 0; k < 200; k++) {
        double lon = 4.821 + (double)(eval_rand(&rng) % 60000) / 1e6;
        double lat = 45.741 + (double)(eval_rand(&rng) % 36000) / 1e6;
        double best = 1e30;
        for (size_t i = 0; i < set.n; i++) {
            double d = eval_distance_m(lon, lat, set.a[i].lon, set.a[i].lat);
            if (d < best) best = d;
        }
        int rc = geodata_geocode_reverse(gs, lon, lat, 300, &r);
        if (best <= 299) {
            assert_int_equal(rc, GEODATA_OK);
            if (fabs(r.distance_m - best) >= 0.5)
                fail_msg("reverse %f,%f: %f m, nearest is %f m", lon, lat, r.distance_m, best);
        }
    }
    eval_free(&set);
}

/* Appends to *pts (room *cap, *n held) the vertices of every ring of g, the
 * midpoints and thirds of its segments, and each vertex moved by 1e-12 and
 * by 1e-9 degree in the four diagonal directions: points on the borders and
 * right next to them. */
static void add_border_points(GEOSContextHandle_t h, const GEOSGeometry *g, double **pts,
                              size_t *n, size_t *cap)
{
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(h, g); i++)
            add_border_points(h, GEOSGetGeometryN_r(h, g, i), pts, n, cap);
        return;
    }
    assert_int_equal(type, GEOS_POLYGON);
    int holes = GEOSGetNumInteriorRings_r(h, g);
    for (int r = -1; r < holes; r++) {
        const GEOSGeometry *ring = r < 0 ? GEOSGetExteriorRing_r(h, g) : GEOSGetInteriorRingN_r(h, g, r);
        const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
        unsigned size;
        assert_true(GEOSCoordSeq_getSize_r(h, seq, &size));
        for (unsigned i = 0; i + 1 < size; i++) {
            double ax, ay, bx, by;
            GEOSCoordSeq_getXY_r(h, seq, i, &ax, &ay);
            GEOSCoordSeq_getXY_r(h, seq, i + 1, &bx, &by);
            if (*n + 11 > *cap) {
                *cap = *cap ? *cap * 2 : 4096;
                *pts = realloc(*pts, *cap * 2 * sizeof **pts);
                assert_non_null(*pts);
            }
            double *p = *pts + 2 * *n;
            double d[] = { 1e-12, 1e-9 };
            int k = 0;
            p[k++] = ax; p[k++] = ay;
            p[k++] = (ax + bx) / 2; p[k++] = (ay + by) / 2;
            p[k++] = ax + (bx - ax) / 3; p[k++] = ay + (by - ay) / 3;
            for (int e = 0; e < 2; e++)
                for (int sx = -1; sx <= 1; sx += 2)
                    for (int sy = -1; sy <= 1; sy += 2) {
                        p[k++] = ax + sx * d[e];
                        p[k++] = ay + sy * d[e];
                    }
            *n += (size_t)k / 2;
        }
    }
}

/* The points of add_border_points for every neighbourhood of the store. */
static double *border_points(geodata_store *store, size_t *n)
{
    geodata_geos geos;
    assert_int_equal(geodata_geos_init(&geos), 0);
    GEOSWKBReader *reader = GEOSWKBReader_create_r(geos.h);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(store->db, "SELECT AsBinary(geom) FROM neighbourhoods", -1, &st,
                                        NULL), SQLITE_OK);
    double *pts = NULL;
    size_t cap = 0;
    *n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        GEOSGeometry *g = GEOSWKBReader_read_r(geos.h, reader, sqlite3_column_blob(st, 0),
                                               (size_t)sqlite3_column_bytes(st, 0));
        assert_non_null(g);
        add_border_points(geos.h, g, &pts, n, &cap);
        GEOSGeom_destroy_r(geos.h, g);
    }
    sqlite3_finalize(st);
    GEOSWKBReader_destroy_r(geos.h, reader);
    geodata_geos_clear(&geos);
    return pts;
}

/* The accelerated neighbourhood index answers exactly as the plain one, on
 * points spread over Paris and its edges, on every address point, and on
 * the borders themselves: every vertex, points of every segment, and points
 * a hair's breadth away. The grid answers nearly all the spread points
 * itself, and leaves those on a border to GEOS. */
static void test_nbindex_grid_agrees(void **state)
{
    (void)state;
    geodata_nbindex *plain, *fast;
    assert_int_equal(geodata_nbindex_load(paris, &plain), 0);
    assert_int_equal(geodata_nbindex_load(paris, &fast), 0);
    assert_int_equal(geodata_nbindex_accelerate(fast), 0);
    geodata_nbindex_stats st0, st1;
    geodata_nbindex_get_stats(fast, &st0);
    assert_true(st0.cells >= 64 * geodata_nbindex_count(fast) / 2);
    assert_true(st0.mixed_cells > 0 && st0.mixed_cells < st0.cells);
    uint64_t rng = 42;
    size_t inside = 0, spread = 200000;
    for (size_t i = 0; i < spread; i++) {
        double lon = 2.20 + (double)(eval_rand(&rng) % 300000) / 1e6;
        double lat = 48.80 + (double)(eval_rand(&rng) % 120000) / 1e6;
        long a = geodata_nbindex_lookup(plain, lon, lat), b = geodata_nbindex_lookup(fast, lon, lat);
        if (a != b)
            fail_msg("%f,%f: plain %ld, grid %ld", lon, lat, a, b);
        inside += a >= 0;
    }
    assert_true(inside > 60000); /* Paris covers about a third of this box */
    geodata_nbindex_get_stats(fast, &st1);
    assert_true(st1.exact_lookups - st0.exact_lookups < spread / 1000);
    /* Every address point, many of them close to a border. */
    eval_set set;
    assert_int_equal(eval_load(paris, &set), 0);
    for (size_t i = 0; i < set.n; i++)
        assert_int_equal(geodata_nbindex_lookup(plain, set.a[i].lon, set.a[i].lat),
                         geodata_nbindex_lookup(fast, set.a[i].lon, set.a[i].lat));
    eval_free(&set);
    /* On and beside the borders. */
    size_t n;
    double *pts = border_points(paris, &n);
    assert_true(n > 80000);
    geodata_nbindex_get_stats(fast, &st0);
    size_t on = 0;
    for (size_t i = 0; i < n; i++) {
        double lon = pts[2 * i], lat = pts[2 * i + 1];
        long a = geodata_nbindex_lookup(plain, lon, lat), b = geodata_nbindex_lookup(fast, lon, lat);
        if (a != b)
            fail_msg("%.17g,%.17g: plain %ld, grid %ld", lon, lat, a, b);
        on += a >= 0;
    }
    assert_true(on > n / 2);
    geodata_nbindex_get_stats(fast, &st1);
    assert_true(st1.exact_lookups - st0.exact_lookups >= n / 11); /* at least the vertices */
    free(pts);
    /* Not numbers, and far away. */
    double odd[][2] = { { NAN, 48.85 }, { 2.35, NAN }, { INFINITY, 48.85 }, { 2.35, -INFINITY },
                        { -70, -30 }, { 2.35, 90 } };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        assert_int_equal(geodata_nbindex_lookup(plain, odd[i][0], odd[i][1]),
                         geodata_nbindex_lookup(fast, odd[i][0], odd[i][1]));
    geodata_nbindex_free(plain);
    geodata_nbindex_free(fast);
}

typedef struct near_page { size_t n; double d[100]; int64_t id[100]; } near_page;

static int keep_near(void *arg, const geodata_post *p, double distance)
{
    near_page *pg = arg;
    pg->id[pg->n] = p->id;
    pg->d[pg->n++] = distance;
    return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Near queries find exactly the nearest posts, in order, whatever circle the
 * search stops at: checked against the distances of every post. */
static void test_posts_near_is_nearest(void **state)
{
    (void)state;
    geodata_seed_report rep;
    assert_int_equal(geodata_seed(paris, 6000, 99, 1700000000, NULL, 0, &rep), 0);
    eval_set set;
    assert_int_equal(eval_load(paris, &set), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(paris->db, "SELECT X(geom), Y(geom) FROM posts", -1, &st, NULL),
                     SQLITE_OK);
    double (*pts)[2] = malloc(7000 * sizeof *pts);
    size_t np = 0;
    while (sqlite3_step(st) == SQLITE_ROW && np < 7000) {
        pts[np][0] = sqlite3_column_double(st, 0);
        pts[np++][1] = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    uint64_t rng = 5;
    double *all = malloc(np * sizeof *all);
    for (int k = 0; k < 30; k++) {
        const eval_addr *a = &set.a[eval_rand(&rng) % set.n];
        double radius = (k % 3 == 0) ? 300 : 1500;
        geodata_post_query q = { .near = 1, .lon = a->lon, .lat = a->lat, .radius_m = radius,
                                 .status = "any", .limit = 40, .offset = (size_t)(k % 2) * 10,
                                 .now = 1700000000 };
        near_page pg = { 0 };
        int more = 0;
        assert_int_equal(geodata_posts_query(paris, &q, keep_near, &pg, &more), 0);
        /* Posts within a metre of the edge may fall either side (sphere vs
         * projection): the count must lie between the two readings. */
        size_t within = 0, sure = 0;
        for (size_t i = 0; i < np; i++) {
            double d = eval_distance_m(a->lon, a->lat, pts[i][0], pts[i][1]);
            if (d <= radius + 1)
                all[within++] = d;
            sure += d <= radius - 1;
        }
        qsort(all, within, sizeof *all, cmp_dbl);
        size_t lo = sure > q.offset ? sure - q.offset : 0, hi = within > q.offset ? within - q.offset : 0;
        if (lo > q.limit) lo = q.limit;
        if (hi > q.limit) hi = q.limit;
        assert_in_range(pg.n, lo, hi);
        if (sure > q.offset + q.limit)
            assert_true(more);
        if (within <= q.offset + q.limit)
            assert_false(more);
        for (size_t i = 0; i < pg.n; i++) {
            /* Same rank, within the 0.5 % that separates LAEA from the sphere. */
            double truth = all[q.offset + i];
            if (fabs(pg.d[i] - truth) > 2 + truth * 0.005)
                fail_msg("point %d rank %zu: %.1f m, nearest says %.1f m", k, i, pg.d[i], truth);
            if (i)
                assert_true(pg.d[i] >= pg.d[i - 1]);
        }
    }
    free(all);
    free(pts);
    eval_free(&set);
}

static void check_floors(const char *city, geodata_store *store, geodata_geocoder *g, size_t sample)
{
    eval_set set;
    assert_int_equal(eval_load(store, &set), 0);
    eval_result r;
    eval_run(g, &set, sample, sample / 2, 20200317, &r);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "  %s ", city);
    eval_print(&r, prefix, stdout);
    printf("  %s fakes: %zu asked, %zu confident house numbers\n", city, r.fake_asked, r.fake_confident);
    assert_true((double)r.exact[EVAL_CLEAN] >= 0.995 * (double)r.asked[EVAL_CLEAN]);
    assert_true(eval_perturbed_within30(&r) >= 0.99);
    assert_true((double)r.fake_confident <= 0.005 * (double)r.fake_asked);
    eval_free(&set);
}

static void test_accuracy_paris(void **state)
{
    (void)state;
    check_floors("paris", paris, gp, 2000);
}

static void test_accuracy_second_city(void **state)
{
    (void)state;
    check_floors("second", second, gs, 1000);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_geocode SAMPLE_DIR SECOND_CITY_DIR\n");
        return 2;
    }
    sample_dir = argv[1];
    second_dir = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_bad_queries),
        cmocka_unit_test(test_other_towns),
        cmocka_unit_test(test_typed_as_people_do),
        cmocka_unit_test(test_autocomplete),
        cmocka_unit_test(test_reverse),
        cmocka_unit_test(test_nbindex_grid_agrees),
        cmocka_unit_test(test_posts_near_is_nearest),
        cmocka_unit_test(test_accuracy_paris),
        cmocka_unit_test(test_accuracy_second_city),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
