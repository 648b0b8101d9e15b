/*
 * tests/geodata/geocode_eval.c — see geocode_eval.h.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "geocode_eval.h"
#include "internal.h"

const char *const eval_variant_names[EVAL_N_VARIANTS] = {
    "clean", "abbreviated", "no accents", "capitals", "typo", "no postcode", "reordered",
    "suffix spelling", "street type typo", "glued postcode", "glued words", "glued town",
};

static char *dup_col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return strdup(s ? (const char *)s : "");
}

int eval_load(geodata_store *store, eval_set *set)
{
    set->a = NULL;
    set->n = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store->db,
            "SELECT source_id, number, rep, street, postcode, city, X(geom), Y(geom) "
            "FROM addresses ORDER BY street, postcode, number, rep", -1, &st, NULL) != SQLITE_OK)
        return -1;
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (set->n == cap) {
            cap = cap ? cap * 2 : 1024;
            set->a = realloc(set->a, cap * sizeof *set->a);
        }
        eval_addr *a = &set->a[set->n++];
        a->id = dup_col(st, 0);
        a->number = sqlite3_column_int(st, 1);
        a->rep = dup_col(st, 2);
        a->street = dup_col(st, 3);
        a->postcode = dup_col(st, 4);
        a->city = dup_col(st, 5);
        a->lon = sqlite3_column_double(st, 6);
        a->lat = sqlite3_column_double(st, 7);
    }
    sqlite3_finalize(st);
    return 0;
}

void eval_free(eval_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->a[i].id);
        free(set->a[i].rep);
        free(set->a[i].street);
        free(set->a[i].postcode);
        free(set->a[i].city);
    }
    free(set->a);
}

uint64_t eval_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Accented letters as typed: lower case, upper case, and without accent. */
static const char *const accents[][3] = {
    { "é", "É", "e" }, { "è", "È", "e" }, { "ê", "Ê", "e" }, { "ë", "Ë", "e" }, { "à", "À", "a" },
    { "â", "Â", "a" }, { "ä", "Ä", "a" }, { "î", "Î", "i" }, { "ï", "Ï", "i" }, { "ô", "Ô", "o" },
    { "ö", "Ö", "o" }, { "û", "Û", "u" }, { "ù", "Ù", "u" }, { "ü", "Ü", "u" }, { "ç", "Ç", "c" },
    { "œ", "Œ", "oe" }, { "æ", "Æ", "ae" }, { "ÿ", "Ÿ", "y" },
    { "É", "É", "E" }, { "È", "È", "E" }, { "Ê", "Ê", "E" }, { "À", "À", "A" }, { "Î", "Î", "I" },
    { "Ô", "Ô", "O" }, { "Ç", "Ç", "C" }, { "Œ", "Œ", "OE" },
};

/* Copies s into out with accents removed (col 2) or letters in capitals (col 1). */
static void transform(const char *s, int col, char *out, size_t n)
{
    size_t o = 0;
    while (*s && o + 4 < n) {
        int done = 0;
        for (size_t k = 0; k < sizeof accents / sizeof accents[0] && !done; k++) {
            size_t l = strlen(accents[k][0]);
            if (strncmp(s, accents[k][0], l) == 0) {
                const char *r = accents[k][col];
                size_t rl = strlen(r);
                if (o + rl >= n)
                    break;
                memcpy(out + o, r, rl);
                o += rl;
                s += l;
                done = 1;
            }
        }
        if (!done) {
            out[o++] = col == 1 ? (char)toupper((unsigned char)*s) : *s;
            s++;
        }
    }
    out[o] = '\0';
}

static const char *rep_word(const char *rep)
{
    return strcmp(rep, "b") == 0 ? "bis" : strcmp(rep, "t") == 0 ? "ter"
         : strcmp(rep, "q") == 0 ? "quater" : rep;
}

/* Street types and words as people shorten them. */
static const char *const abbreviations[][2] = {
    { "Avenue", "av" }, { "Boulevard", "bd" }, { "Place", "pl" }, { "Impasse", "imp" },
    { "Faubourg", "fbg" }, { "Saint", "st" }, { "Sainte", "ste" }, { "Square", "sq" },
    { "Passage", "pass" }, { "Allée", "all" }, { "Chemin", "chem" }, { "Quai", "qu" },
    { "Route", "rte" }, { "Cours", "crs" }, { "Rue", "r" }, { "Général", "gal" },
};

static void abbreviate(const char *s, char *out, size_t n)
{
    size_t o = 0;
    while (*s && o + 1 < n) {
        int done = 0;
        int at_word = (o == 0 || out[o - 1] == ' ' || out[o - 1] == '-');
        for (size_t k = 0; at_word && k < sizeof abbreviations / sizeof abbreviations[0]; k++) {
            size_t l = strlen(abbreviations[k][0]);
            if (strncmp(s, abbreviations[k][0], l) == 0 && (s[l] == ' ' || s[l] == '-' || !s[l])) {
                size_t al = strlen(abbreviations[k][1]);
                if (o + al + 1 >= n)
                    break;
                memcpy(out + o, abbreviations[k][1], al);
                o += al;
                s += l;
                done = 1;
                break;
            }
        }
        if (!done)
            out[o++] = *s++;
    }
    out[o] = '\0';
}

/* One typing mistake in the longest word: a letter swapped with the next,
 * dropped, doubled or replaced, away from the first letter. */
static void typo(const char *s, uint64_t *rng, char *out, size_t n)
{
    size_t len = strlen(s), best = 0, best_len = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && isalpha((unsigned char)s[j]))
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j + 1;
    }
    snprintf(out, n, "%s", s);
    if (best_len < 4 || len + 2 >= n)
        return;
    size_t pos = best + 1 + eval_rand(rng) % (best_len - 2);
    switch (eval_rand(rng) % 4) {
    case 0: { char c = out[pos]; out[pos] = out[pos + 1]; out[pos + 1] = c; break; }
    case 1: memmove(out + pos, out + pos + 1, len - pos); break;
    case 2: memmove(out + pos + 1, out + pos, len - pos + 1); break;
    default: out[pos] = (char)('a' + (out[pos] - 'a' + 1 + (int)(eval_rand(rng) % 24)) % 26); break;
    }
}

/* The street's first word (its type, most often) misspelt: its first or its
 * last letter dropped ("ue", "Ru", "venue"), when it has at least 3. */
static void type_typo(const char *s, uint64_t *rng, char *out, size_t n)
{
    size_t w = strcspn(s, " ");
    if (w < 3 || w >= strlen(s)) {
        snprintf(out, n, "%s", s);
        return;
    }
    size_t head = 1, tail = w - 1;  /* whole UTF-8 characters: "Cité" loses "é" */
    while (((unsigned char)s[head] & 0xC0) == 0x80)
        head++;
    while (tail > 0 && ((unsigned char)s[tail] & 0xC0) == 0x80)
        tail--;
    if (eval_rand(rng) % 2)
        snprintf(out, n, "%s", s + head);                    /* "ue Blanche" */
    else
        snprintf(out, n, "%.*s%s", (int)tail, s, s + w);     /* "Ru Blanche" */
}

/* Two neighbouring words of the street's name typed as one, the second
 * keeping its capital ("RueVernier", "desHaies"); the pair is chosen among
 * the name's spaces. */
static void glue_words(const char *s, uint64_t *rng, char *out, size_t n)
{
    size_t spaces = 0;
    for (const char *p = s; *p; p++)
        spaces += *p == ' ';
    snprintf(out, n, "%s", s);
    if (!spaces)
        return;
    size_t k = eval_rand(rng) % spaces;
    for (char *p = out; *p; p++)
        if (*p == ' ' && k-- == 0) {
            memmove(p, p + 1, strlen(p));
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
            break;
        }
}

void eval_query(const eval_addr *a, eval_variant v, uint64_t *rng, char *buf, size_t n)
{
    char num[64], street[512], tmp[600];
    const char *rep = rep_word(a->rep);
    snprintf(num, sizeof num, "%d%s%s", a->number, *rep ? " " : "", rep);
    switch (v) {
    case EVAL_CLEAN:
        snprintf(buf, n, "%s %s %s %s", num, a->street, a->postcode, a->city);
        break;
    case EVAL_ABBREVIATED:
        abbreviate(a->street, street, sizeof street);
        snprintf(buf, n, "%s %s %s %s", num, street, a->postcode, a->city);
        break;
    case EVAL_NO_ACCENTS:
        snprintf(tmp, sizeof tmp, "%s %s %s %s", num, a->street, a->postcode, a->city);
        transform(tmp, 2, buf, n);
        break;
    case EVAL_CAPITALS:
        snprintf(tmp, sizeof tmp, "%s %s %s %s", num, a->street, a->postcode, a->city);
        transform(tmp, 1, buf, n);
        break;
    case EVAL_TYPO:
        typo(a->street, rng, street, sizeof street);
        snprintf(buf, n, "%s %s %s %s", num, street, a->postcode, a->city);
        break;
    case EVAL_NO_POSTCODE:
        /* The town stays: in a country's base, "8 Rue de la Gare" alone is
         * thousands of addresses, and nobody writes their own that way. */
        snprintf(buf, n, "%s %s %s", num, a->street, a->city);
        break;
    case EVAL_REORDERED:
        snprintf(buf, n, "%s %s %s %s", a->street, num, a->postcode, a->city);
        break;
    case EVAL_SUFFIX:
        /* 12b, 12B, 12bis; "12," where there is no suffix */
        if (*a->rep) {
            const char *spell[] = { a->rep, "B", rep };
            int k = (int)(eval_rand(rng) % 3);
            char up[16];
            snprintf(up, sizeof up, "%s", a->rep);
            for (char *p = up; *p; p++) *p = (char)toupper((unsigned char)*p);
            snprintf(buf, n, "%d%s %s %s", a->number, k == 1 ? up : spell[k], a->street, a->postcode);
        } else {
            snprintf(buf, n, "%d, %s, %s", a->number, a->street, a->postcode);
        }
        break;
    case EVAL_TYPE_TYPO:
        type_typo(a->street, rng, street, sizeof street);
        snprintf(buf, n, "%s %s %s", num, street, a->postcode);
        break;
    case EVAL_GLUED_POSTCODE:
        snprintf(buf, n, "%s %s%s %s", num, a->street, a->postcode, a->city);
        break;
    case EVAL_GLUED_WORDS:
        glue_words(a->street, rng, street, sizeof street);
        snprintf(buf, n, "%s %s %s", num, street, a->postcode);
        break;
    case EVAL_GLUED_TOWN: {
        /* The town's first word glued to the street, capital kept. */
        size_t w = strcspn(a->city, " ");
        snprintf(buf, n, "%s %s%.*s", num, a->street, (int)w, a->city);
        break;
    }
    default:
        buf[0] = '\0';
    }
}

void eval_fake_query(const eval_set *set, uint64_t *rng, int k, char *buf, size_t n)
{
    const eval_addr *a = &set->a[eval_rand(rng) % set->n];
    if (k % 2 == 0) {
        /* The street's highest number, plus a thousand or more. */
        size_t i = (size_t)(a - set->a);
        int max = a->number;
        while (i + 1 < set->n && strcmp(set->a[i + 1].street, a->street) == 0
               && strcmp(set->a[i + 1].postcode, a->postcode) == 0)
            i++;
        if (set->a[i].number > max)
            max = set->a[i].number;
        snprintf(buf, n, "%d %s %s %s", max + 1000 + (int)(eval_rand(rng) % 1000), a->street,
                 a->postcode, a->city);
        return;
    }
    static const char *const types[] = { "Rue", "Avenue", "Impasse", "Place", "Boulevard" };
    static const char *const syll[] = { "bra", "vol", "ki", "zen", "dru", "pha", "lom", "tix",
                                        "gor", "wen", "mu", "ska", "fli", "dor", "yan" };
    char word[64] = "";
    int parts = 2 + (int)(eval_rand(rng) % 2);
    for (int p = 0; p < parts; p++)
        strncat(word, syll[eval_rand(rng) % (sizeof syll / sizeof *syll)], sizeof word - strlen(word) - 1);
    word[0] = (char)toupper((unsigned char)word[0]);
    snprintf(buf, n, "%d %s des %ss %s %s", 1 + (int)(eval_rand(rng) % 80),
             types[eval_rand(rng) % 5], word, a->postcode, a->city);
}

double eval_distance_m(double lon1, double lat1, double lon2, double lat2)
{
    double p1 = lat1 * M_PI / 180, p2 = lat2 * M_PI / 180;
    double dp = p2 - p1, dl = (lon2 - lon1) * M_PI / 180;
    double h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * 6371008.8 * asin(sqrt(h));
}

FILE *eval_misses;

void eval_run(const geodata_geocoder *g, const eval_set *set, size_t sample, size_t fakes,
              uint64_t seed, eval_result *r)
{
    memset(r, 0, sizeof *r);
    uint64_t rng = seed ? seed : 1;
    if (!eval_misses && getenv("GEOCODE_EVAL_MISSES"))
        eval_misses = stderr;
    char q[1024];
    geodata_geocode_result res[5];
    for (size_t s = 0; s < sample && set->n; s++) {
        const eval_addr *a = &set->a[eval_rand(&rng) % set->n];
        for (int v = 0; v < EVAL_N_VARIANTS; v++) {
            eval_query(a, (eval_variant)v, &rng, q, sizeof q);
            size_t n = 0;
            r->asked[v]++;
            if (geodata_geocode(g, q, 5, res, &n) != GEODATA_OK || n == 0) {
                if (eval_misses)
                    fprintf(eval_misses, "miss %s: '%s' -> nothing (truth %s)\n",
                            eval_variant_names[v], q, a->id);
                continue;
            }
            if (res[0].address_id && strcmp(res[0].address_id, a->id) == 0)
                r->exact[v]++;
            else if (eval_misses)
                fprintf(eval_misses, "miss %s: '%s' -> '%s' %.3f (truth %s)\n", eval_variant_names[v],
                        q, res[0].label, res[0].score, a->id);
            if (eval_distance_m(res[0].lon, res[0].lat, a->lon, a->lat) <= 30)
                r->within30[v]++;
            geodata_verify_status why = geodata_geocode_verify(res, n);
            if (why == GEODATA_VERIFIED)
                r->verified[v]++;
            else if (eval_misses && res[0].address_id && strcmp(res[0].address_id, a->id) == 0)
                fprintf(eval_misses, "unverified %s: '%s' -> '%s' %.3f: %s\n", eval_variant_names[v],
                        q, res[0].label, res[0].score, geodata_verify_code(why));
        }
    }
    for (size_t k = 0; k < fakes && set->n; k++) {
        eval_fake_query(set, &rng, (int)k, q, sizeof q);
        size_t n = 0;
        r->fake_asked++;
        if (geodata_geocode(g, q, 5, res, &n) == GEODATA_OK && n > 0
            && res[0].type == GEODATA_MATCH_HOUSENUMBER && res[0].score >= GEODATA_VERIFY_MIN_SCORE) {
            r->fake_confident++;
            if (eval_misses)
                fprintf(eval_misses, "fake: '%s' -> '%s' %.3f\n", q, res[0].label, res[0].score);
        }
    }
}

double eval_perturbed_within30(const eval_result *r)
{
    size_t asked = 0, ok = 0;
    for (int v = 0; v < EVAL_N_VARIANTS; v++)
        if (v != EVAL_CLEAN) {
            asked += r->asked[v];
            ok += r->within30[v];
        }
    return asked ? (double)ok / (double)asked : 0;
}

void eval_print(const eval_result *r, const char *prefix, FILE *out)
{
    for (int v = 0; v < EVAL_N_VARIANTS; v++)
        fprintf(out, "%s%-18s %5zu asked, %6.2f%% exact, %6.2f%% within 30 m, %6.2f%% verified\n", prefix,
                eval_variant_names[v], r->asked[v], 100.0 * (double)r->exact[v] / (double)r->asked[v],
                100.0 * (double)r->within30[v] / (double)r->asked[v],
                100.0 * (double)r->verified[v] / (double)r->asked[v]);
}
