/*
 * geodata/domain/opening_hours_text.c — opening hours as shop owners write them, in
 * French or English ("lun-sam 9h-19h", "Mon–Sat 9am–7pm, Sun closed"), turned
 * into OpenStreetMap's opening_hours ("Mo-Sa 09:00-19:00; Su off"), the form
 * that is stored. See opening_hours.h.
 *
 * Design: the text is folded (lower case, common accents removed, dashes as
 * '-') and cut into tokens: day names, times, and the words and signs that
 * join them. A small recursive-descent reader builds rules of the form
 * DAYS TIMES or DAYS off, separated by ';', a new line, or a comma before
 * more days. Its output is then checked by geodata_opening_hours_check, so a
 * conversion never stores something OSM refuses. Pure: no allocation, no
 * global state; work linear in the text.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "geodata/opening_hours.h"

#define MAX_TOKENS 96

typedef enum { T_DAY, T_TIME, T_TO, T_AND, T_SEP, T_OFF, T_EVERYDAY, T_END } tok_kind;

typedef struct tok {
    tok_kind kind;
    int value;            /* day 0..6 (Mo..Su), or minutes since midnight */
    size_t at;            /* byte offset in the original text */
} tok;

static const struct { const char *word; int day; } day_words[] = {
    { "lundi", 0 }, { "lun", 0 }, { "lu", 0 }, { "monday", 0 }, { "mon", 0 }, { "mo", 0 },
    { "mardi", 1 }, { "mar", 1 }, { "ma", 1 }, { "tuesday", 1 }, { "tue", 1 }, { "tues", 1 },
    { "tu", 1 },
    { "mercredi", 2 }, { "mer", 2 }, { "me", 2 }, { "wednesday", 2 }, { "wed", 2 }, { "we", 2 },
    { "jeudi", 3 }, { "jeu", 3 }, { "je", 3 }, { "thursday", 3 }, { "thu", 3 }, { "thur", 3 },
    { "thurs", 3 }, { "th", 3 },
    { "vendredi", 4 }, { "ven", 4 }, { "ve", 4 }, { "friday", 4 }, { "fri", 4 }, { "fr", 4 },
    { "samedi", 5 }, { "sam", 5 }, { "sa", 5 }, { "saturday", 5 }, { "sat", 5 },
    { "dimanche", 6 }, { "dim", 6 }, { "di", 6 }, { "sunday", 6 }, { "sun", 6 }, { "su", 6 },
};

static const char *const osm_days[7] = { "Mo", "Tu", "We", "Th", "Fr", "Sa", "Su" };

/* Folds one character of text at s into *c (ASCII lower case, accents off,
 * dashes '-'); returns the bytes it took. */
static size_t fold(const unsigned char *s, char *c)
{
    if (s[0] < 0x80) {
        *c = (char)tolower(s[0]);
        return 1;
    }
    if (s[0] == 0xC3 && s[1]) {
        static const char map[33] = "aaaaaaaceeeeiiiidnooooo ouuuuyts";
        unsigned v = s[1] & 0x3F;   /* U+00C0..U+00FF folded to one table */
        *c = v < 32 ? map[v] : map[v - 32];
        return 2;
    }
    if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0x93 || s[2] == 0x94)) {
        *c = '-';   /* en and em dashes */
        return 3;
    }
    size_t n = 1;
    while ((s[n] & 0xC0) == 0x80)
        n++;
    *c = ' ';
    return n;
}

/* Cuts text into tokens; -1 with *bad at the first byte it cannot read. */
static int tokenize(const char *text, tok *t, size_t *nt, size_t *bad)
{
    char f[GEODATA_OH_MAX_LEN * 3 + 1];
    size_t at[GEODATA_OH_MAX_LEN * 3 + 1];
    size_t n = 0;
    for (size_t i = 0; text[i] && n < sizeof f - 1;) {
        at[n] = i;
        i += fold((const unsigned char *)text + i, &f[n]);
        n++;
    }
    f[n] = '\0';
    at[n] = strlen(text);
    *nt = 0;
    for (size_t i = 0; i < n;) {
        if (*nt >= MAX_TOKENS - 1) {
            *bad = at[i];
            return -1;
        }
        tok *k = &t[*nt];
        k->at = at[i];
        char c = f[i];
        if (c == ' ' || c == '.' || c == ':' || c == '(' || c == ')') {
            i++;
            continue;
        }
        if (c == '-' || c == '>') {
            k->kind = T_TO;
            i++;
        } else if (c == ',' || c == '&' || c == '+') {
            k->kind = T_AND;
            i++;
        } else if (c == ';' || c == '\n' || c == '|' || c == '/') {
            k->kind = T_SEP;
            i++;
        } else if (isdigit((unsigned char)c)) {
            /* 9, 9h, 9h30, 09:30, 9.30, 9am, 7:30pm, 19h */
            int h = 0, m = 0, digits = 0;
            while (i < n && isdigit((unsigned char)f[i]) && digits < 2) {
                h = h * 10 + (f[i++] - '0');
                digits++;
            }
            if (i < n && isdigit((unsigned char)f[i])) {
                *bad = at[i];
                return -1;
            }
            if (i < n && (f[i] == 'h' || f[i] == ':' || f[i] == '.')) {
                i++;
                if (i + 1 < n + 1 && isdigit((unsigned char)f[i]) && isdigit((unsigned char)f[i + 1])) {
                    m = (f[i] - '0') * 10 + (f[i + 1] - '0');
                    i += 2;
                }
            }
            while (i < n && f[i] == ' ')
                i++;
            if (i + 1 < n && (f[i] == 'a' || f[i] == 'p') && f[i + 1] == 'm'
                && (i + 2 >= n || !isalpha((unsigned char)f[i + 2]))) {
                if (h < 1 || h > 12) {
                    *bad = k->at;
                    return -1;
                }
                h = h % 12 + (f[i] == 'p' ? 12 : 0);
                i += 2;
            }
            if (h > 24 || m > 59 || (h == 24 && m)) {
                *bad = k->at;
                return -1;
            }
            k->kind = T_TIME;
            k->value = h * 60 + m;
        } else if (isalpha((unsigned char)c)) {
            size_t j = i;
            while (j < n && isalpha((unsigned char)f[j]))
                j++;
            char w[16];
            size_t len = j - i < sizeof w - 1 ? j - i : sizeof w - 1;
            memcpy(w, f + i, len);
            w[len] = '\0';
            i = j;
            int known = 0;
            for (size_t d = 0; d < sizeof day_words / sizeof *day_words && !known; d++)
                if (strcmp(w, day_words[d].word) == 0) {
                    k->kind = T_DAY;
                    k->value = day_words[d].day;
                    known = 1;
                }
            if (known)
                ;
            else if (!strcmp(w, "a") || !strcmp(w, "au") || !strcmp(w, "to") || !strcmp(w, "till")
                     || !strcmp(w, "until") || !strcmp(w, "through") || !strcmp(w, "jusqu"))
                k->kind = T_TO;
            else if (!strcmp(w, "et") || !strcmp(w, "and"))
                k->kind = T_AND;
            else if (!strcmp(w, "ferme") || !strcmp(w, "fermee") || !strcmp(w, "closed")
                     || !strcmp(w, "off"))
                k->kind = T_OFF;
            else if (!strcmp(w, "midi") || !strcmp(w, "noon")) {
                k->kind = T_TIME;
                k->value = 12 * 60;
            } else if (!strcmp(w, "minuit") || !strcmp(w, "midnight")) {
                k->kind = T_TIME;
                k->value = 24 * 60;
            } else if (!strcmp(w, "daily") || !strcmp(w, "everyday")) {
                k->kind = T_EVERYDAY;
            } else if (!strcmp(w, "tous") || !strcmp(w, "les") || !strcmp(w, "jours")
                       || !strcmp(w, "every") || !strcmp(w, "day") || !strcmp(w, "days")
                       || !strcmp(w, "de") || !strcmp(w, "du") || !strcmp(w, "le") || !strcmp(w, "from")
                       || !strcmp(w, "on") || !strcmp(w, "h") || !strcmp(w, "ouvert")
                       || !strcmp(w, "open")) {
                /* "tous les jours" / "every day" come out as T_EVERYDAY below;
                 * the rest are filler */
                if (!strcmp(w, "jours") || !strcmp(w, "days") || !strcmp(w, "day")) {
                    k->kind = T_EVERYDAY;
                } else
                    continue;
            } else {
                *bad = k->at;
                return -1;
            }
        } else {
            *bad = k->at;
            return -1;
        }
        (*nt)++;
    }
    t[*nt].kind = T_END;
    t[*nt].at = strlen(text);
    return 0;
}

typedef struct writer { char *out; size_t n, len; int full; } writer;

static void put(writer *w, const char *s)
{
    size_t l = strlen(s);
    if (w->len + l + 1 > w->n) {
        w->full = 1;
        return;
    }
    memcpy(w->out + w->len, s, l + 1);
    w->len += l;
}

static void put_time(writer *w, int minutes)
{
    char b[24];  /* minutes is 0..1440: "HH:MM" */
    snprintf(b, sizeof b, "%02d:%02d", minutes / 60, minutes % 60);
    put(w, b);
}

/* DAYS: day [- day] {(, | et) day [- day]} | everyday. Writes them; returns
 * the next token index, or -1. */
static long read_days(const tok *t, size_t i, writer *w)
{
    if (t[i].kind == T_EVERYDAY) {
        while (t[i].kind == T_EVERYDAY)
            i++;
        put(w, "Mo-Su");
        return (long)i;
    }
    int first = 1;
    while (t[i].kind == T_DAY) {
        put(w, first ? "" : ",");
        put(w, osm_days[t[i].value]);
        i++;
        if (t[i].kind == T_TO && t[i + 1].kind == T_DAY) {
            put(w, "-");
            put(w, osm_days[t[i + 1].value]);
            i += 2;
        }
        first = 0;
        if (t[i].kind == T_AND && t[i + 1].kind == T_DAY)
            i++;
        else
            break;
    }
    return first ? -1 : (long)i;
}

/* TIMES: time - time {(, | et) time - time}. */
static long read_times(const tok *t, size_t i, writer *w)
{
    int first = 1;
    while (t[i].kind == T_TIME && t[i + 1].kind == T_TO && t[i + 2].kind == T_TIME) {
        put(w, first ? " " : ",");
        put_time(w, t[i].value);
        put(w, "-");
        put_time(w, t[i + 2].value);
        i += 3;
        first = 0;
        if (t[i].kind == T_AND && t[i + 1].kind == T_TIME)
            i++;
        else
            break;
    }
    return first ? -1 : (long)i;
}

int geodata_opening_hours_from_text(const char *text, char *out, size_t n, geodata_oh_error *err)
{
    geodata_oh_error e;
    if (!err)
        err = &e;
    if (!text || !out || n == 0)
        return GEODATA_OH_EINVAL;
    out[0] = '\0';
    if (geodata_opening_hours_check(text, err) == 0) {
        if (strlen(text) >= n)
            return GEODATA_OH_EINVAL;
        memcpy(out, text, strlen(text) + 1);
        return 0;
    }
    geodata_oh_error syntax = *err;  /* what OSM's reader said, if nothing else reads it */
    tok t[MAX_TOKENS];
    size_t nt, bad = 0;
    if (strlen(text) > GEODATA_OH_MAX_LEN || tokenize(text, t, &nt, &bad)) {
        *err = syntax;
        return GEODATA_OH_EINVAL;
    }
    writer w = { out, n, 0, 0 };
    size_t i = 0;
    while (t[i].kind != T_END) {
        while (t[i].kind == T_SEP || t[i].kind == T_AND)
            i++;
        if (t[i].kind == T_END)
            break;
        if (w.len)
            put(&w, "; ");
        long j = i;
        if (t[i].kind == T_DAY || t[i].kind == T_EVERYDAY)
            j = read_days(t, i, &w);
        if (j < 0) {
            *err = syntax;
            err->offset = t[i].at;
            out[0] = '\0';
            return GEODATA_OH_EINVAL;
        }
        i = (size_t)j;
        if (t[i].kind == T_OFF) {
            put(&w, " off");
            i++;
        } else {
            j = read_times(t, i, &w);
            if (j < 0) {
                *err = syntax;
                err->offset = t[i].at < strlen(text) ? t[i].at : (strlen(text) ? strlen(text) - 1 : 0);
                out[0] = '\0';
                return GEODATA_OH_EINVAL;
            }
            i = (size_t)j;
        }
        if (t[i].kind != T_END && t[i].kind != T_SEP && t[i].kind != T_AND) {
            *err = syntax;
            err->offset = t[i].at;
            out[0] = '\0';
            return GEODATA_OH_EINVAL;
        }
    }
    /* A rule of times alone starts with a space: OSM wants none. */
    if (w.len && out[0] == ' ')
        memmove(out, out + 1, w.len--);
    if (w.full || !w.len || geodata_opening_hours_check(out, NULL) != 0) {
        *err = syntax;
        out[0] = '\0';
        return GEODATA_OH_EINVAL;
    }
    memset(err, 0, sizeof *err);
    return 0;
}
