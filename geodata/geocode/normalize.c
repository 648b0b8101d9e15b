/*
 * geodata/geocode/normalize.c — French address text to tokens (see normalize.h).
 *
 * Two passes: the first folds the UTF-8 text to lower-case ASCII (letters of
 * Latin-1 and Latin Extended-A lose their accents; other letters are kept as
 * they are) and turns every other character into a space; the second cuts
 * words and classifies them. Both sides of a match, the stored street names
 * and the typed query, go through the same function.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"

/* ASCII spelling of U+00C0..U+017F. */
static const char *const fold_table[192] = {
    "a", "a", "a", "a", "a", "a", "ae", "c",  /* U+00C0 */
    "e", "e", "e", "e", "i", "i", "i", "i",  /* U+00C8 */
    "d", "n", "o", "o", "o", "o", "o", "",  /* U+00D0 */
    "o", "u", "u", "u", "u", "y", "th", "ss",  /* U+00D8 */
    "a", "a", "a", "a", "a", "a", "ae", "c",  /* U+00E0 */
    "e", "e", "e", "e", "i", "i", "i", "i",  /* U+00E8 */
    "d", "n", "o", "o", "o", "o", "o", "",  /* U+00F0 */
    "o", "u", "u", "u", "u", "y", "th", "y",  /* U+00F8 */
    "a", "a", "a", "a", "a", "a", "c", "c",  /* U+0100 */
    "c", "c", "c", "c", "c", "c", "d", "d",  /* U+0108 */
    "d", "d", "e", "e", "e", "e", "e", "e",  /* U+0110 */
    "e", "e", "e", "e", "g", "g", "g", "g",  /* U+0118 */
    "g", "g", "g", "g", "h", "h", "h", "h",  /* U+0120 */
    "i", "i", "i", "i", "i", "i", "i", "i",  /* U+0128 */
    "i", "i", "ij", "ij", "j", "j", "k", "k",  /* U+0130 */
    "k", "l", "l", "l", "l", "l", "l", "l",  /* U+0138 */
    "l", "l", "l", "n", "n", "n", "n", "n",  /* U+0140 */
    "n", "n", "n", "n", "o", "o", "o", "o",  /* U+0148 */
    "o", "o", "oe", "oe", "r", "r", "r", "r",  /* U+0150 */
    "r", "r", "s", "s", "s", "s", "s", "s",  /* U+0158 */
    "s", "s", "t", "t", "t", "t", "t", "t",  /* U+0160 */
    "u", "u", "u", "u", "u", "u", "u", "u",  /* U+0168 */
    "u", "u", "u", "u", "w", "w", "y", "y",  /* U+0170 */
    "y", "z", "z", "z", "z", "z", "z", "s",  /* U+0178 */
};

/* Street-type and other abbreviations, expanded on both sides. */
static const struct { const char *abbr, *word; } abbreviations[] = {
    { "r", "rue" }, { "av", "avenue" }, { "ave", "avenue" }, { "bd", "boulevard" },
    { "bld", "boulevard" }, { "bvd", "boulevard" }, { "boul", "boulevard" }, { "pl", "place" },
    { "fg", "faubourg" }, { "fbg", "faubourg" }, { "faub", "faubourg" }, { "st", "saint" },
    { "ste", "sainte" }, { "chem", "chemin" }, { "ch", "chemin" }, { "imp", "impasse" },
    { "all", "allee" }, { "sq", "square" }, { "crs", "cours" }, { "pass", "passage" },
    { "psg", "passage" }, { "rte", "route" }, { "qu", "quai" }, { "qua", "quai" },
    { "pte", "porte" }, { "prom", "promenade" }, { "carr", "carrefour" }, { "car", "carrefour" },
    { "res", "residence" }, { "sent", "sentier" }, { "vla", "villa" }, { "lot", "lotissement" },
    { "mte", "montee" }, { "rpt", "rondpoint" }, { "rdpt", "rondpoint" },
    { "esp", "esplanade" }, { "hab", "hameau" }, { "ham", "hameau" }, { "lieu", "lieudit" },
    { "ld", "lieudit" }, { "pt", "petit" }, { "gd", "grand" },
    { "gde", "grande" }, { "dr", "docteur" }, { "pdt", "president" }, { "prof", "professeur" },
    { "mal", "marechal" }, { "gal", "general" }, { "gen", "general" }, { "cdt", "commandant" },
    { "mgr", "monseigneur" }, { "nd", "notre" }, { "cite", "cite" },
    { "arr", "arrondissement" }, { "arrdt", "arrondissement" }, { "arrt", "arrondissement" },
    { "arrond", "arrondissement" },
};

/* Articles and prepositions. They are kept as words (frequent, so they weigh
 * little: "Voie A/12" and "Voie D/12" must stay apart), but never read as a
 * house-number suffix: "12 de la rue" is not number 12 "de". */
static const char *const stop_words[] = {
    "a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "sur",
};

static const char *const ordinal_suffixes[] = { "e", "er", "re", "ere", "eme", "nd", "nde" };

static int in_list(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, list[i]) == 0)
            return 1;
    return 0;
}

/* Decodes one UTF-8 character at s (n bytes left); returns its length, or 0
 * when the sequence is invalid (overlong, surrogate, out of range, cut). */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    size_t len = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n)
        return 0;
    unsigned c = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

int geodata_is_stop_word(const char *w)
{
    return in_list(w, stop_words, sizeof stop_words / sizeof *stop_words);
}

int geodata_utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t l = utf8_decode(s + i, len - i, &cp);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

/* Pass 1: fold into out (capacity cap); -1 on invalid UTF-8. */
static long fold(const char *text, size_t len, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0;
    int small_before = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t l = utf8_decode(s + i, len - i, &cp);
        if (!l)
            return -1;
        const char *rep = NULL;
        char one[2] = { 0, 0 };
        /* A capital right after a small letter starts a new word: words
         * typed glued together ("RueVernier", "desHaies") come apart. */
        int capital = (cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7);
        if (capital && small_before && o + 1 < cap)
            out[o++] = ' ';
        small_before = (cp >= 'a' && cp <= 'z') || (cp >= 0xDF && cp <= 0xFF && cp != 0xF7);
        if (cp < 0x80) {
            one[0] = isalnum((int)cp) ? (char)tolower((int)cp) : ' ';
            rep = one;
        } else if (cp >= 0xC0 && cp < 0x180) {
            rep = fold_table[cp - 0xC0];
            if (!*rep)
                rep = " ";
        } else if (cp == 0x2019 || cp == 0x2018 || cp == 0xA0 || cp == 0x2013 || cp == 0x2014
                   || (cp >= 0x80 && cp < 0xC0)) {
            rep = " "; /* curly quotes, no-break space, dashes, Latin-1 symbols */
        }
        if (rep) {
            size_t rl = strlen(rep);
            if (o + rl >= cap)
                return -1;
            memcpy(out + o, rep, rl);
            o += rl;
        } else {
            if (o + l >= cap)
                return -1;
            memcpy(out + o, s + i, l); /* another script: kept as it is */
            o += l;
        }
        i += l;
    }
    out[o] = '\0';
    return (long)o;
}

/* The value of a Roman numeral of 2+ letters from 1 to 39, or 0. */
static long roman(const char *w, size_t n)
{
    if (n < 2 || n > 6)
        return 0;
    static const char *const romans[] = {
        "", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix",
    };
    size_t tens = 0;
    while (tens < n && w[tens] == 'x')
        tens++;
    if (tens > 3)
        return 0;
    for (long u = 0; u < 10; u++)
        if (strlen(romans[u]) == n - tens && strncmp(w + tens, romans[u], n - tens) == 0)
            return (long)tens * 10 + u ? (long)tens * 10 + u : 0;
    return 0;
}

typedef struct builder {
    geodata_tokens *out;
    char *w;              /* write position in out->buf */
    char *end;
} builder;

static void push(builder *b, geodata_tok_kind kind, const char *text, size_t len, long number)
{
    geodata_tokens *t = b->out;
    if (t->n >= GEODATA_TOKENS_MAX || len == 0 || len > 255 || b->w + len + 1 > b->end)
        return;
    memcpy(b->w, text, len);
    b->w[len] = '\0';
    t->tok[t->n].kind = kind;
    t->tok[t->n].text = b->w;
    t->tok[t->n].len = (unsigned char)len;
    t->tok[t->n].typed = b->w;
    t->tok[t->n].typed_len = (unsigned char)len;
    t->tok[t->n].number = number;
    t->n++;
    b->w += len + 1;
}

/* Records how the last token was typed when it was expanded ("pl" for
 * "place"); without room, it stays the expansion. */
static void set_typed(builder *b, const char *typed, size_t len)
{
    geodata_tokens *t = b->out;
    if (!t->n || len == 0 || len > 255 || b->w + len + 1 > b->end)
        return;
    memcpy(b->w, typed, len);
    b->w[len] = '\0';
    t->tok[t->n - 1].typed = b->w;
    t->tok[t->n - 1].typed_len = (unsigned char)len;
    b->w += len + 1;
}

static void push_ordinal(builder *b, long v)
{
    char s[24];
    int n = snprintf(s, sizeof s, "%lde", v);
    push(b, GEODATA_TOK_ORDINAL, s, (size_t)n, v);
}

static void push_suffix(builder *b, const char *s, size_t n)
{
    char rep[16];
    char w[16];
    if (n >= sizeof w)
        return;
    memcpy(w, s, n);
    w[n] = '\0';
    geodata_normalize_rep(w, rep, sizeof rep);
    push(b, GEODATA_TOK_SUFFIX, rep, strlen(rep), 0);
}

static int is_abbreviation(const char *w)
{
    for (size_t i = 0; i < sizeof abbreviations / sizeof *abbreviations; i++)
        if (strcmp(w, abbreviations[i].abbr) == 0)
            return 1;
    return 0;
}

static int is_suffix_word(const char *w)
{
    return strcmp(w, "bis") == 0 || strcmp(w, "ter") == 0 || strcmp(w, "quater") == 0
        || strcmp(w, "quinquies") == 0;
}

/* Classifies one word of pass 1 and pushes its token(s); a word glued to a
 * number is cut in two and each part classified (one level deep). */
static void word(builder *b, const char *w, size_t n)
{
    char buf[256];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, w, n);
    buf[n] = '\0';
    size_t digits = 0;
    while (digits < n && isdigit((unsigned char)buf[digits]))
        digits++;
    geodata_tokens *t = b->out;
    int after_number = t->n > 0 && t->tok[t->n - 1].kind == GEODATA_TOK_NUMBER;
    if (digits == n) {
        push(b, GEODATA_TOK_NUMBER, buf, n, digits <= 9 ? strtol(buf, NULL, 10) : -1);
        return;
    }
    if (digits > 0 && digits <= 5) {
        const char *rest = buf + digits;
        long v = strtol(buf, NULL, 10);
        size_t rl = n - digits;
        if (digits < 5 && in_list(rest, ordinal_suffixes, sizeof ordinal_suffixes / sizeof *ordinal_suffixes)) {
            push_ordinal(b, v);
            return;
        }
        /* 12b, 12bis, 3s1, 34p1: a suffix; "75006paris", "12rue": a number
         * and a word typed without a space. */
        if (digits < 5 && isalpha((unsigned char)rest[0])
            && (rl <= 2 || is_suffix_word(rest) || (rl == 3 && isdigit((unsigned char)rest[2])))) {
            push(b, GEODATA_TOK_NUMBER, buf, digits, v);
            push_suffix(b, rest, rl);
            return;
        }
        if (isalpha((unsigned char)rest[0])) {
            push(b, GEODATA_TOK_NUMBER, buf, digits, v);
            word(b, rest, rl);
            return;
        }
        push(b, GEODATA_TOK_WORD, buf, n, 0);
        return;
    }
    /* "servandoni75006", "laurent75011": a word and a number typed without
     * a space (a word of one or two letters and a short number, "a1", stays). */
    size_t letters = 0;
    while (letters < n && isalpha((unsigned char)buf[letters]))
        letters++;
    if (letters >= 1 && letters < n && isdigit((unsigned char)buf[letters])) {
        size_t d = letters;
        while (d < n && isdigit((unsigned char)buf[d]))
            d++;
        if (d == n && (letters >= 3 || d - letters == 5)) { /* "V75004": Charles V, 75004 */
            word(b, buf, letters);
            word(b, buf + letters, n - letters);
            return;
        }
    }
    if (after_number && (is_suffix_word(buf) || (n <= 3 && isalpha((unsigned char)buf[0])
                                                  && strpbrk(buf, "0123456789"))
                         || (n == 1 && buf[0] != 'r')
                         || (n == 2 && !is_abbreviation(buf)
                             && !in_list(buf, stop_words, sizeof stop_words / sizeof *stop_words)))) {
        push_suffix(b, buf, n); /* 12 b, 12 bis, 12 bv, 1 s1; not 12 r(ue), 12 av(enue), 12 de */
        return;
    }
    if (strcmp(buf, "premier") == 0 || strcmp(buf, "premiere") == 0) {
        push_ordinal(b, 1);
        return;
    }
    size_t rn = n;
    for (size_t i = 0; i < sizeof ordinal_suffixes / sizeof *ordinal_suffixes; i++) {
        size_t sl = strlen(ordinal_suffixes[i]);
        if (n > sl + 1 && strcmp(buf + n - sl, ordinal_suffixes[i]) == 0 && roman(buf, n - sl)) {
            rn = n - sl;
            break;
        }
    }
    long r = roman(buf, rn);
    if (r) {
        push_ordinal(b, r);
        return;
    }
    for (size_t i = 0; i < sizeof abbreviations / sizeof *abbreviations; i++)
        if (strcmp(buf, abbreviations[i].abbr) == 0) {
            size_t before = b->out->n;
            push(b, GEODATA_TOK_WORD, abbreviations[i].word, strlen(abbreviations[i].word), 0);
            if (b->out->n > before)
                set_typed(b, buf, n);
            return;
        }
    push(b, GEODATA_TOK_WORD, buf, n, 0);
}

int geodata_normalize(const char *text, size_t len, geodata_tokens *out)
{
    out->n = 0;
    if (len > GEODATA_QUERY_MAX)
        return -1;
    char folded[GEODATA_QUERY_MAX * 3 + 1];
    long fl = fold(text, len, folded, sizeof folded);
    if (fl < 0)
        return -1;
    builder b = { out, out->buf, out->buf + sizeof out->buf };
    for (long i = 0; i < fl;) {
        while (i < fl && folded[i] == ' ')
            i++;
        long j = i;
        while (j < fl && folded[j] != ' ')
            j++;
        if (j > i)
            word(&b, folded + i, (size_t)(j - i));
        i = j;
    }
    return 0;
}

const char *geodata_rep_word(const char *rep)
{
    return strcmp(rep, "b") == 0 ? "bis" : strcmp(rep, "t") == 0 ? "ter"
         : strcmp(rep, "q") == 0 ? "quater" : rep;
}

void geodata_normalize_rep(const char *rep, char *out, size_t n)
{
    static const struct { const char *from, *to; } spellings[] = {
        { "bis", "b" }, { "ter", "t" }, { "quater", "q" },
    };
    size_t i = 0;
    for (; rep[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)rep[i]);
    out[i] = '\0';
    for (size_t k = 0; k < sizeof spellings / sizeof spellings[0]; k++)
        if (strcmp(out, spellings[k].from) == 0) {
            snprintf(out, n, "%s", spellings[k].to);
            return;
        }
}
