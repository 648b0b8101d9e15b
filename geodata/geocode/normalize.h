/*
 * geodata/geocode/normalize.h — French addresses as people type them, reduced to
 * comparable tokens (internal; used for the geocoder's index and queries
 * alike, so both sides are always normalised the same way).
 */
#ifndef GEODATA_NORMALIZE_H
#define GEODATA_NORMALIZE_H

#include <stddef.h>

#define GEODATA_QUERY_MAX   512   /* bytes in one query; longer is an error */
#define GEODATA_TOKENS_MAX  32    /* tokens kept from one text; the rest are ignored */

typedef enum {
    GEODATA_TOK_WORD,     /* letters (and digits inside a word): "roquette", "a1" */
    GEODATA_TOK_NUMBER,   /* digits only: "12", "75011" */
    GEODATA_TOK_ORDINAL,  /* "11e" from 11e, 11eme, 11ème, XI, XIe, 1er, premier */
    GEODATA_TOK_SUFFIX,   /* a house-number suffix glued to or after a number: b, t, q, a, s1 */
} geodata_tok_kind;

typedef struct geodata_token {
    geodata_tok_kind kind;
    const char *text;     /* normalised, NUL-terminated, in the token list's buffer */
    unsigned char len;
    const char *typed;    /* the word as typed, folded: "pl" for "place"; else text */
    unsigned char typed_len;
    long number;          /* value of a NUMBER or ORDINAL */
} geodata_token;

typedef struct geodata_tokens {
    geodata_token tok[GEODATA_TOKENS_MAX];
    size_t n;
    char buf[GEODATA_QUERY_MAX * 3 + 64];  /* normalised text; accents expand at most x3 */
} geodata_tokens;

/*
 * Normalises text (UTF-8) into tokens: lower case, accents removed (é -> e,
 * œ -> oe), punctuation and apostrophes as spaces, street-type abbreviations
 * expanded (av -> avenue, bd -> boulevard, r -> rue, fbg -> faubourg, ...),
 * st/ste -> saint/sainte,
 * ordinals and Roman numerals made uniform ("11e"), and a suffix split off
 * its number ("12bis" -> 12 + b; bis/ter/quater -> b/t/q).
 * Returns 0, or -1 when text is not valid UTF-8 or is longer than
 * GEODATA_QUERY_MAX bytes. Work: linear in len.
 */
int geodata_normalize(const char *text, size_t len, geodata_tokens *out);

/* Whether w (normalised) is an article or preposition: de, la, du, l, d, ... */
int geodata_is_stop_word(const char *w);

/* Whether text (len bytes) is valid UTF-8: no overlong form, surrogate or
 * value above U+10FFFF, no cut sequence. */
int geodata_utf8_valid(const char *text, size_t len);

/* The suffix spelling stored for addresses: bis/ter/quater -> b/t/q, other
 * values lower-cased. Writes into out (of size n). */
void geodata_normalize_rep(const char *rep, char *out, size_t n);

/* The word for a stored suffix, for labels: b/t/q -> bis/ter/quater, others
 * as they are. */
const char *geodata_rep_word(const char *rep);

#endif
