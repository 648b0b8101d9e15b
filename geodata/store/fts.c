/*
 * geodata/store/fts.c — keywords as a full-text query, for every full-text
 * search of the store (posts, comments), in each engine's syntax.
 *
 * Both builders cut the keywords into the same words (runs of ASCII letters
 * and digits and of non-ASCII characters; everything else separates words),
 * quote each word and require all of them, so that no input can form query
 * syntax and a search finds the same rows on either engine:
 *
 * - SQLite, geodata_fts_query: FTS5's `"word1" "word2"`; FTS5's unicode61
 *   tokenizer then cuts a quoted word at the non-ASCII punctuation inside it
 *   (l’eau is the phrase "l" "eau") and removes diacritics.
 * - PostgreSQL, geodata_fts_tsquery: to_tsquery's `'word1' & 'word2'`, the
 *   pieces of a word cut at non-ASCII punctuation joined by <-> (the same
 *   phrase), read by the server as
 *       fts @@ to_tsquery('simple', unaccent(?))
 *   against the tsvector of schema_pg.c (to_tsvector('simple', unaccent(col))):
 *   unaccent removes diacritics as unicode61 does, the 'simple' dictionary
 *   lower-cases. unaccent turns a few characters into a quote or a backslash
 *   (’ ‘ ′ ʼ ＇ ŉ into ', ∖ ＼ into \), which inside a quoted word would end
 *   the quote or escape: they are among the punctuation that cuts a word, so
 *   no character that reaches the server inside quotes can become syntax.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The next word at or after *s (its length in *len, 0 at the end), *s
 * moved past it: the one cut both builders make. */
static const unsigned char *next_word(const unsigned char **s, size_t *len)
{
    const unsigned char *p = *s;
    while (*p && !(isalnum(*p) || *p >= 0x80))
        p++;
    const unsigned char *w = p;
    while (*p && (isalnum(*p) || *p >= 0x80))
        p++;
    *len = (size_t)(p - w);
    *s = p;
    return w;
}

void geodata_fts_query(const char *keywords, char *out, size_t n)
{
    size_t o = 0, len;
    const unsigned char *s = (const unsigned char *)keywords;
    out[0] = '\0';
    while (*s) {
        const unsigned char *w = next_word(&s, &len);
        if (!len || o + len + 4 >= n)
            continue;
        o += (size_t)snprintf(out + o, n - o, "%s\"%.*s\"", o ? " " : "", (int)len, (const char *)w);
    }
}

/* The code point of the UTF-8 sequence at s (of at most len bytes) and its
 * length in *step; an invalid sequence is U+FFFD, one byte long. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *step)
{
    unsigned need = s[0] >= 0xF0 && s[0] < 0xF5 ? 3 : s[0] >= 0xE0 ? 2 : s[0] >= 0xC2 ? 1 : 0;
    uint32_t c = need == 3 ? s[0] & 0x07u : need == 2 ? s[0] & 0x0Fu : s[0] & 0x1Fu;
    *step = 1;
    if (!need || need >= len)
        return 0xFFFD;
    for (unsigned i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFD;
        c = c << 6 | (s[i] & 0x3Fu);
    }
    if ((need == 2 && c < 0x800) || (need == 3 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0xFFFD;
    *step = need + 1;
    return c;
}

/* Whether a non-ASCII code point cuts a word: punctuation and symbols of
 * Latin-1, the characters unaccent turns into a quote or a backslash,
 * general and CJK punctuation, full-width ASCII punctuation, and anything
 * that is not valid UTF-8. Letters and digits (é, ª, ², …) are kept. */
static int cuts_word(uint32_t c)
{
    if (c >= 0x80 && c <= 0xBF)
        return !(c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA ||
                 (c >= 0xBC && c <= 0xBE));
    return c == 0xD7 || c == 0xF7 || c == 0x149 || (c >= 0x2B9 && c <= 0x2BD) || c == 0x2C8 ||
           (c >= 0x2000 && c <= 0x206F) || c == 0x2216 || (c >= 0x3000 && c <= 0x303F) ||
           c == 0xFE68 || (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
           (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) || c == 0xFFFD;
}

/* Appends the tsquery of one word w (len bytes: ASCII letters and digits,
 * non-ASCII bytes) at out + *o: its pieces quoted, joined by <->, preceded
 * by " & " when a word came before. Nothing is written when it would not fit
 * in n (the word is then left out whole, as geodata_fts_query leaves it). */
static void append_word(const unsigned char *w, size_t len, char *out, size_t n, size_t *o)
{
    size_t p = *o, i = 0;
    int pieces = 0;
    while (i < len) {
        size_t step;
        while (i < len && w[i] >= 0x80 && cuts_word(utf8_next(w + i, len - i, &step)))
            i += step;
        size_t start = i;
        while (i < len && (w[i] < 0x80 || !cuts_word(utf8_next(w + i, len - i, &step))))
            i += w[i] < 0x80 ? 1 : step;
        if (i == start)
            continue;
        const char *sep = pieces ? " <-> " : p ? " & " : "";
        size_t need = strlen(sep) + (i - start) + 2;
        if (p + need >= n)
            return;
        p += (size_t)snprintf(out + p, n - p, "%s'%.*s'", sep, (int)(i - start),
                              (const char *)w + start);
        pieces++;
    }
    *o = p;
}

void geodata_fts_tsquery(const char *keywords, char *out, size_t n)
{
    size_t o = 0, len;
    const unsigned char *s = (const unsigned char *)keywords;
    out[0] = '\0';
    while (*s) {
        const unsigned char *w = next_word(&s, &len);
        if (len)
            append_word(w, len, out, n, &o);
    }
    out[o] = '\0';
}

void geodata_fts_keywords(geodata_store *store, const char *keywords, char *out, size_t n)
{
    if (store->pg)
        geodata_fts_tsquery(keywords, out, n);
    else
        geodata_fts_query(keywords, out, n);
}
