/*
 * geodata/domain/opening_hours.c — syntax checker for OSM opening_hours values (see
 * geodata/opening_hours.h).
 *
 * What it checks. The grammar of the OSM opening_hours specification v0.7,
 * as a hand-written recursive-descent parser over the bytes of the value:
 *
 *   value     = rule { (';' | ',' | '||') rule }        normal, additional, fallback
 *   rule      = '24/7' [modifier]
 *             | [wide [':']] [weekdays [':']] [times] [modifier]   (not all empty)
 *   wide      = comment ':' | [years] [monthdays] [weeks]
 *   years     = year ['+' | '-' year ['/' n]] {',' ...}          2020, 2020-2022/2, 2020+
 *   monthdays = item {',' item}; item is Jan, Jan-Mar, Dec 24, Dec 24-26,
 *               Dec 25-Jan 02, 2021 Dec 25, Dec 24+, easter, each date with
 *               optional offsets (+Su, -1 day, +2 days)
 *   weeks     = 'week' wn ['-' wn ['/' n]] {',' ...}              week 01-53/2
 *   weekdays  = items separated by ',': Mo, Mo-Fr, Mo[1], Su[-1], Fr[1,3],
 *               Mo[1-2] (nth forms may take a day offset), PH, SH (with an
 *               optional '+1 day' / '-1 day'); a holiday list may be followed
 *               by a weekday list ("SH Mo-Fr")
 *   times     = span {',' span}; span = t | t '+' | t '-' t' ['+' | '/' period]
 *               t is HH:MM (hour 00-24), sunrise, sunset, dawn, dusk or
 *               (sunset-01:00); t' is the same with hours up to 48
 *   modifier  = ('open' | 'closed' | 'off' | 'unknown') [comment] | comment
 *   comment   = '"' one or more bytes other than '"' '"'
 *
 * Spaces may surround any token (not split one: "08 :00" is refused). Names
 * are case-sensitive as in OSM (Mo, Jan, PH, sunrise, off). The value must be
 * valid UTF-8 without control characters; non-ASCII text is allowed only
 * inside comments. Numbers are range-checked where the grammar bounds them:
 * hours, minutes, day of month (per month, Feb 29 allowed), week 01-53, nth
 * 1-5, years from 1900.
 *
 * What it does not check. Meaning: it never evaluates whether a place is open,
 * nor whether a range runs backwards, rules overlap, or a fallback rule makes
 * sense. Hours need two digits ("8:00" is refused, as the strict form of the
 * specification asks), and "24/7" must stand alone at the start of its rule.
 *
 * Design. The parser reads left to right with at most a few tokens of
 * lookahead and never backtracks further, so the work is linear in the
 * length. The ambiguous ',' (list separator or additional-rule separator) is
 * settled by looking at what follows it: a ',' continues a list only when the
 * next token can continue that list. The first problem stops the parse; each
 * parse function either succeeds or describes the problem once through
 * oh_fail() and returns -1, which every caller passes straight up.
 *
 * Invariants: p->pos <= p->len; every byte is read through oh_ch(), which
 * answers '\0' at and beyond p->len, so nothing past the NUL is ever read.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "geodata/opening_hours.h"
#include "geodata/store.h"

_Static_assert(GEODATA_OH_EINVAL == GEODATA_EINVAL, "opening_hours.h must use GEODATA_EINVAL");

#define OH_WORD_SHOWN 20   /* bytes of a word quoted in a message; the message fits 128 */

typedef struct oh_parser {
    const char *s;          /* the value being checked */
    size_t len;             /* its length in bytes */
    size_t pos;             /* next byte to read, <= len */
    geodata_oh_error *err;  /* where the problem is described; may be NULL */
} oh_parser;

typedef enum {
    OH_W_NONE,      /* no letter at that position */
    OH_W_UNKNOWN,   /* letters, but no word of the syntax */
    OH_W_WEEKDAY,
    OH_W_HOLIDAY,
    OH_W_MONTH,
    OH_W_WEEK,
    OH_W_EASTER,
    OH_W_EVENT,     /* sunrise, sunset, dawn, dusk */
    OH_W_MODIFIER,  /* open, closed, off, unknown */
    OH_W_DAY,       /* day, days (in offsets) */
} oh_word_kind;

typedef struct oh_word {
    oh_word_kind kind;
    int index;      /* weekday 0-6 from Mo, month 0-11 from Jan */
    size_t len;     /* letters in the word */
} oh_word;

static const struct {
    const char *text;
    oh_word_kind kind;
    int index;
} oh_keywords[] = {
    {"Mo", OH_W_WEEKDAY, 0}, {"Tu", OH_W_WEEKDAY, 1}, {"We", OH_W_WEEKDAY, 2},
    {"Th", OH_W_WEEKDAY, 3}, {"Fr", OH_W_WEEKDAY, 4}, {"Sa", OH_W_WEEKDAY, 5},
    {"Su", OH_W_WEEKDAY, 6},
    {"Jan", OH_W_MONTH, 0}, {"Feb", OH_W_MONTH, 1}, {"Mar", OH_W_MONTH, 2},
    {"Apr", OH_W_MONTH, 3}, {"May", OH_W_MONTH, 4}, {"Jun", OH_W_MONTH, 5},
    {"Jul", OH_W_MONTH, 6}, {"Aug", OH_W_MONTH, 7}, {"Sep", OH_W_MONTH, 8},
    {"Oct", OH_W_MONTH, 9}, {"Nov", OH_W_MONTH, 10}, {"Dec", OH_W_MONTH, 11},
    {"PH", OH_W_HOLIDAY, 0}, {"SH", OH_W_HOLIDAY, 1},
    {"week", OH_W_WEEK, 0}, {"easter", OH_W_EASTER, 0},
    {"sunrise", OH_W_EVENT, 0}, {"sunset", OH_W_EVENT, 1},
    {"dawn", OH_W_EVENT, 2}, {"dusk", OH_W_EVENT, 3},
    {"open", OH_W_MODIFIER, 0}, {"closed", OH_W_MODIFIER, 1},
    {"off", OH_W_MODIFIER, 2}, {"unknown", OH_W_MODIFIER, 3},
    {"day", OH_W_DAY, 0}, {"days", OH_W_DAY, 1},
};

static const char *const oh_weekday_names[7] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};
static const char *const oh_month_names[12] = {
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december",
};
static const int oh_month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* Weekday names people write in other languages (French first, since most
 * of our shops are in France; then German, Spanish, Italian, Dutch), compared
 * without case. Only used to explain a refusal. */
static const char *const oh_foreign_weekdays[] = {
    "lu", "ma", "me", "je", "ve", "di", "lun", "mer", "jeu", "ven", "sam", "dim",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "mi", "do", "so", "ju", "vi", "sab", "dom", "gio", "wo", "vr", "za", "zo",
};

#define OH_N(a) (sizeof (a) / sizeof (a)[0])

/* ---- reading ---------------------------------------------------------- */

static char oh_ch(const oh_parser *p, size_t i)
{
    return i < p->len ? p->s[i] : '\0';
}

static int oh_isdigit(char c) { return c >= '0' && c <= '9'; }
static int oh_isalpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static char oh_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* First position at or after i that is not a space. */
static size_t oh_skip_from(const oh_parser *p, size_t i)
{
    while (oh_ch(p, i) == ' ')
        i++;
    return i;
}

static void oh_skip_ws(oh_parser *p)
{
    p->pos = oh_skip_from(p, p->pos);
}

/* Number of digits starting at i. */
static size_t oh_digits(const oh_parser *p, size_t i)
{
    size_t n = 0;
    while (oh_isdigit(oh_ch(p, i + n)))
        n++;
    return n;
}

/* Value of the n digits at i; n is at most 4 wherever this is called. */
static int oh_number(const oh_parser *p, size_t i, size_t n)
{
    int v = 0;
    for (size_t k = 0; k < n && k < 4; k++)
        v = v * 10 + (oh_ch(p, i + k) - '0');
    return v;
}

/* The word (run of ASCII letters) at i, classified. */
static oh_word oh_word_at(const oh_parser *p, size_t i)
{
    oh_word w = {OH_W_NONE, 0, 0};
    while (oh_isalpha(oh_ch(p, i + w.len)))
        w.len++;
    if (w.len == 0)
        return w;
    w.kind = OH_W_UNKNOWN;
    for (size_t k = 0; k < OH_N(oh_keywords); k++) {
        if (strlen(oh_keywords[k].text) == w.len
            && memcmp(oh_keywords[k].text, p->s + i, w.len) == 0) {
            w.kind = oh_keywords[k].kind;
            w.index = oh_keywords[k].index;
            break;
        }
    }
    return w;
}

static oh_word_kind oh_kind_at(const oh_parser *p, size_t i)
{
    return oh_word_at(p, i).kind;
}

/* A clock time starts at i: one or two digits, ':' and a digit. One digit is
 * let through so that "8:00" is refused with a precise message. */
static int oh_clock_at(const oh_parser *p, size_t i)
{
    size_t n = oh_digits(p, i);
    return (n == 1 || n == 2) && oh_ch(p, i + n) == ':' && oh_isdigit(oh_ch(p, i + n + 1));
}

/* A year starts at i: four digits, not a clock, 1900 or later. */
static int oh_year_at(const oh_parser *p, size_t i)
{
    return oh_digits(p, i) == 4 && oh_ch(p, i + 4) != ':' && oh_number(p, i, 4) >= 1900;
}

static int oh_247_at(const oh_parser *p, size_t i)
{
    return oh_ch(p, i) == '2' && oh_ch(p, i + 1) == '4' && oh_ch(p, i + 2) == '/'
        && oh_ch(p, i + 3) == '7' && !oh_isdigit(oh_ch(p, i + 4));
}

/* A time (clock, event or "(event+offset)") starts at i. */
static int oh_time_at(const oh_parser *p, size_t i)
{
    char c = oh_ch(p, i);
    if (c == '(')
        return 1;
    if (oh_isdigit(c))
        return oh_clock_at(p, i);
    return oh_kind_at(p, i) == OH_W_EVENT;
}

/* Length of the rule separator at i (';', ',' or '||'), 0 when there is none. */
static size_t oh_separator_at(const oh_parser *p, size_t i)
{
    char c = oh_ch(p, i);
    if (c == ';' || c == ',')
        return 1;
    return c == '|' && oh_ch(p, i + 1) == '|' ? 2 : 0;
}

/* Position just after the comment opening at i, or 0 when it is not closed. */
static size_t oh_comment_end(const oh_parser *p, size_t i)
{
    for (size_t k = i + 1; k < p->len; k++)
        if (p->s[k] == '"')
            return k + 1;
    return 0;
}

/* ---- failing ---------------------------------------------------------- */

/* Describes the problem found at byte at and returns -1. A problem found at
 * the end is reported at the last token, so that the offset always lies in a
 * non-empty value. Called once per check: the parse stops there. */
static int oh_fail(oh_parser *p, size_t at, const char *fmt, ...)
{
    if (!p->err)
        return -1;
    if (at >= p->len) {
        at = p->len;
        while (at > 0 && (at == p->len || p->s[at] == ' '))
            at--;
    }
    p->err->offset = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* What the parser expected when it met an unknown word; picks the hint. */
typedef enum { OH_CTX_ANY, OH_CTX_WEEKDAY, OH_CTX_MONTH, OH_CTX_TIME } oh_ctx;

static int oh_ieq(const char *a, size_t alen, const char *b)
{
    if (strlen(b) != alen)
        return 0;
    for (size_t k = 0; k < alen; k++)
        if (oh_lower(a[k]) != oh_lower(b[k]))
            return 0;
    return 1;
}

/* a (alen >= 3 letters) begins the lower-case English name b, ignoring case. */
static int oh_iprefix(const char *a, size_t alen, const char *b)
{
    if (alen < 3 || alen > strlen(b))
        return 0;
    for (size_t k = 0; k < alen; k++)
        if (oh_lower(a[k]) != b[k])
            return 0;
    return 1;
}

/* Refuses the unknown word of len letters at at, with the most useful hint:
 * the keyword it miswrites (case, English or foreign name), else what the
 * context expected. Work: constant (a few small tables). */
static int oh_fail_word(oh_parser *p, size_t at, size_t len, oh_ctx ctx)
{
    const char *w = p->s + at;
    int shown = len > OH_WORD_SHOWN ? OH_WORD_SHOWN : (int)len;
    oh_word_kind kind = OH_W_UNKNOWN;
    const char *mean = NULL;   /* the keyword it probably stands for */

    for (size_t k = 0; k < OH_N(oh_keywords) && !mean; k++)
        if (oh_ieq(w, len, oh_keywords[k].text)) {
            kind = oh_keywords[k].kind;
            mean = oh_keywords[k].text;
        }
    for (size_t k = 0; k < 7 && !mean; k++)
        if (oh_iprefix(w, len, oh_weekday_names[k])) {
            kind = OH_W_WEEKDAY;
            mean = oh_keywords[k].text;     /* the table starts Mo..Su */
        }
    for (size_t k = 0; k < 12 && !mean; k++)
        if (oh_iprefix(w, len, oh_month_names[k])) {
            kind = OH_W_MONTH;
            mean = oh_keywords[7 + k].text; /* then Jan..Dec */
        }
    for (size_t k = 0; k < OH_N(oh_foreign_weekdays) && kind == OH_W_UNKNOWN; k++)
        if (oh_ieq(w, len, oh_foreign_weekdays[k]))
            kind = OH_W_WEEKDAY;

    if ((ctx == OH_CTX_WEEKDAY && kind != OH_W_WEEKDAY) || (ctx == OH_CTX_MONTH && kind != OH_W_MONTH)
        || (ctx == OH_CTX_TIME && kind != OH_W_EVENT)) {
        kind = ctx == OH_CTX_WEEKDAY ? OH_W_WEEKDAY : ctx == OH_CTX_MONTH ? OH_W_MONTH : OH_W_EVENT;
        mean = NULL;
    }

    if (kind == OH_W_WEEKDAY)
        return mean ? oh_fail(p, at, "unknown word '%.*s': weekdays are Mo Tu We Th Fr Sa Su (did you mean '%s'?)",
                              shown, w, mean)
                    : oh_fail(p, at, "unknown word '%.*s': weekdays are Mo Tu We Th Fr Sa Su", shown, w);
    if (kind == OH_W_MONTH)
        return mean ? oh_fail(p, at, "unknown word '%.*s': months are Jan Feb Mar ... Dec (did you mean '%s'?)",
                              shown, w, mean)
                    : oh_fail(p, at, "unknown word '%.*s': months are Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
                              shown, w);
    if (mean)
        return oh_fail(p, at, "unknown word '%.*s': did you mean '%s'? (case matters)", shown, w, mean);
    if (kind == OH_W_EVENT)
        return oh_fail(p, at, "unknown word '%.*s': times look like 08:30, sunrise, sunset, dawn or dusk",
                       shown, w);
    return oh_fail(p, at, "unknown word '%.*s' (free text goes in double quotes)", shown, w);
}

/* Refuses whatever stands at p->pos where a rule should have ended: explains
 * an unknown word, a known one out of order, a stray number or character. */
static int oh_fail_unexpected(oh_parser *p)
{
    size_t at = p->pos;
    char c = oh_ch(p, at);
    oh_word w = oh_word_at(p, at);

    if (w.kind == OH_W_UNKNOWN)
        return oh_fail_word(p, at, w.len, OH_CTX_ANY);
    if (w.kind != OH_W_NONE)
        return oh_fail(p, at, "'%.*s' is out of order: a rule goes years, months, weeks, weekdays, times, then off/open",
                       (int)(w.len > OH_WORD_SHOWN ? OH_WORD_SHOWN : w.len), p->s + at);
    if (oh_247_at(p, at))
        return oh_fail(p, at, "'24/7' must start its rule, with nothing before it (or write 00:00-24:00)");
    if (oh_clock_at(p, at))
        return oh_fail(p, at, "this time is out of order: a rule goes years, months, weeks, weekdays, times, then off/open");
    if (oh_year_at(p, at))
        return oh_fail(p, at, "this year is out of order: years come first in a rule");
    if (oh_isdigit(c))
        return oh_fail(p, at, "expected a time like 08:30");
    if (c == '"')
        return oh_comment_end(p, at) ? oh_fail(p, at, "a rule takes one comment, at its end")
                                     : oh_fail(p, at, "comment is not closed: a '\"' is missing");
    if (c == '|')
        return oh_fail(p, at, "expected '||' between rules");
    if ((unsigned char)c == 0xE2 && (unsigned char)oh_ch(p, at + 1) == 0x80
        && ((unsigned char)oh_ch(p, at + 2) == 0x93 || (unsigned char)oh_ch(p, at + 2) == 0x94))
        return oh_fail(p, at, "use a plain '-' for ranges, not a typographic dash");
    if ((unsigned char)c >= 0x80)
        return oh_fail(p, at, "non-ASCII characters are only allowed inside a \"comment\"");
    return oh_fail(p, at, "unexpected '%c'", c);
}

/* ---- times ------------------------------------------------------------ */

/* HH:MM at p->pos, hour at most max_hour. */
static int oh_parse_hhmm(oh_parser *p, int max_hour, int is_end)
{
    size_t at = p->pos;
    size_t n = oh_digits(p, at);
    if (n == 1 && oh_ch(p, at + 1) == ':')
        return oh_fail(p, at, "hours take two digits, like 08:00");
    if (n != 2 || oh_ch(p, at + 2) != ':')
        return oh_fail(p, at, is_end ? "expected an end time like 18:00" : "expected a time like 08:30");
    if (oh_digits(p, at + 3) != 2)
        return oh_fail(p, at + 3, "minutes take two digits, like 08:30");
    int hour = oh_number(p, at, 2), minute = oh_number(p, at + 3, 2);
    if (hour > max_hour)
        return oh_fail(p, at, is_end ? "end hour %02d is out of range (00-48)" : "hour %02d is out of range (00-24)",
                       hour);
    if (minute > 59)
        return oh_fail(p, at + 3, "minutes %02d are out of range (00-59)", minute);
    p->pos = at + 5;
    return 0;
}

/* '(' event ('+'|'-') HH:MM ')', spaces allowed inside. */
static int oh_parse_variable_time(oh_parser *p)
{
    size_t open = p->pos++;
    oh_skip_ws(p);
    oh_word w = oh_word_at(p, p->pos);
    if (w.kind != OH_W_EVENT)
        return w.kind == OH_W_UNKNOWN ? oh_fail_word(p, p->pos, w.len, OH_CTX_TIME)
                                      : oh_fail(p, p->pos, "expected sunrise, sunset, dawn or dusk after '('");
    p->pos += w.len;
    oh_skip_ws(p);
    char c = oh_ch(p, p->pos);
    if (c != '+' && c != '-')
        return oh_fail(p, p->pos, "expected '+' or '-' and an offset like 01:00 after the event");
    p->pos++;
    oh_skip_ws(p);
    if (oh_parse_hhmm(p, 24, 0))
        return -1;
    oh_skip_ws(p);
    if (oh_ch(p, p->pos) != ')')
        return oh_fail(p, p->pos < p->len ? p->pos : open, "expected ')' to close the '(' of this time");
    p->pos++;
    return 0;
}

/* A time at p->pos; is_end allows hours up to 48 (spans past midnight). */
static int oh_parse_time(oh_parser *p, int is_end)
{
    char c = oh_ch(p, p->pos);
    if (oh_isdigit(c))
        return oh_parse_hhmm(p, is_end ? 48 : 24, is_end);
    if (c == '(')
        return oh_parse_variable_time(p);
    oh_word w = oh_word_at(p, p->pos);
    if (w.kind == OH_W_EVENT) {
        p->pos += w.len;
        return 0;
    }
    if (w.kind == OH_W_UNKNOWN)
        return oh_fail_word(p, p->pos, w.len, OH_CTX_TIME);
    return oh_fail(p, p->pos, is_end ? "expected an end time like 18:00 after '-'" : "expected a time like 08:30");
}

/* One span: t, t+, t-t', t-t'+, t-t'/period. */
static int oh_parse_timespan(oh_parser *p)
{
    if (oh_parse_time(p, 0))
        return -1;
    oh_skip_ws(p);
    char c = oh_ch(p, p->pos);
    if (c == '+') {
        p->pos++;
        return 0;
    }
    if (c != '-')
        return 0;
    p->pos++;
    oh_skip_ws(p);
    if (oh_parse_time(p, 1))
        return -1;
    oh_skip_ws(p);
    c = oh_ch(p, p->pos);
    if (c == '+') {
        p->pos++;
    } else if (c == '/') {
        p->pos++;
        oh_skip_ws(p);
        if (oh_clock_at(p, p->pos))
            return oh_parse_hhmm(p, 24, 0);
        size_t at = p->pos;
        if (oh_digits(p, at) != 2 || oh_number(p, at, 2) > 59)
            return oh_fail(p, at, "expected a period like /30 or /01:30");
        p->pos += 2;
    }
    return 0;
}

/* Spans separated by ','; a ',' not followed by a time ends the list (it
 * then separates rules). */
static int oh_parse_times(oh_parser *p)
{
    for (;;) {
        if (oh_parse_timespan(p))
            return -1;
        oh_skip_ws(p);
        if (oh_ch(p, p->pos) != ',')
            return 0;
        size_t next = oh_skip_from(p, p->pos + 1);
        if (!oh_time_at(p, next))
            return 0;
        p->pos = next;
    }
}

/* ---- weekdays and holidays ------------------------------------------- */

/* ('+'|'-') n 'day'|'days', from the sign at p->pos. */
static int oh_parse_day_offset(oh_parser *p)
{
    size_t at = p->pos++;
    oh_skip_ws(p);
    size_t n = oh_digits(p, p->pos);
    if (n == 0 || n > 3)
        return oh_fail(p, at, "expected a day offset like '+1 day' or '-2 days'");
    p->pos += n;
    oh_skip_ws(p);
    oh_word w = oh_word_at(p, p->pos);
    if (w.kind != OH_W_DAY)
        return oh_fail(p, at, "expected a day offset like '+1 day' or '-2 days'");
    p->pos += w.len;
    return 0;
}

/* One nth entry inside [ ]: 1..5, -1..-5, or 1-2. */
static int oh_parse_nth_entry(oh_parser *p)
{
    int negative = 0;
    if (oh_ch(p, p->pos) == '-') {
        negative = 1;
        p->pos++;
    }
    for (int k = 0; k < 2; k++) {
        size_t at = p->pos;
        char c = oh_ch(p, at);
        if (c < '1' || c > '5' || oh_isdigit(oh_ch(p, at + 1)))
            return oh_fail(p, at, "expected a week of the month, 1 to 5 or -1 to -5, like Su[-1]");
        p->pos++;
        if (negative || k == 1 || oh_ch(p, p->pos) != '-')
            return 0;
        p->pos++;
    }
    return 0;
}

/* '[' entry {',' entry} ']' from the '[' at p->pos. */
static int oh_parse_nth(oh_parser *p)
{
    p->pos++;
    for (;;) {
        oh_skip_ws(p);
        if (oh_parse_nth_entry(p))
            return -1;
        oh_skip_ws(p);
        char c = oh_ch(p, p->pos);
        p->pos += c == ',' || c == ']';
        if (c == ']')
            return 0;
        if (c != ',')
            return oh_fail(p, p->pos, "expected ',' or ']' in a week-of-month list like Fr[1,3]");
    }
}

/* One weekday item (Mo, Mo-Fr, Mo[1]) or holiday (PH, SH +1 day), known to
 * start at p->pos; sets *holiday when it is a holiday. */
static int oh_parse_weekday_item(oh_parser *p, int *holiday)
{
    oh_word w = oh_word_at(p, p->pos);
    p->pos += w.len;
    oh_skip_ws(p);
    char c = oh_ch(p, p->pos);
    *holiday = w.kind == OH_W_HOLIDAY;
    if (!*holiday && c == '-') {
        size_t dash = p->pos;
        p->pos = oh_skip_from(p, p->pos + 1);
        oh_word to = oh_word_at(p, p->pos);
        if (to.kind == OH_W_UNKNOWN)
            return oh_fail_word(p, p->pos, to.len, OH_CTX_WEEKDAY);
        if (to.kind != OH_W_WEEKDAY)
            return oh_fail(p, dash, "expected a weekday after '-', like Mo-Fr");
        p->pos += to.len;
        return 0;
    }
    if (!*holiday) {
        if (c != '[')
            return 0;
        if (oh_parse_nth(p))
            return -1;
        oh_skip_ws(p);
        c = oh_ch(p, p->pos);
    }
    return c == '+' || c == '-' ? oh_parse_day_offset(p) : 0;
}

/* Items separated by ','; sets *only_holidays when every item was one. */
static int oh_parse_weekday_list(oh_parser *p, int *only_holidays)
{
    *only_holidays = 1;
    for (;;) {
        int holiday;
        if (oh_parse_weekday_item(p, &holiday))
            return -1;
        *only_holidays &= holiday;
        oh_skip_ws(p);
        if (oh_ch(p, p->pos) != ',')
            return 0;
        size_t next = oh_skip_from(p, p->pos + 1);
        oh_word_kind k = oh_kind_at(p, next);
        if (k != OH_W_WEEKDAY && k != OH_W_HOLIDAY)
            return 0;
        p->pos = next;
    }
}

/* Weekday selector; a holiday list may be followed by a weekday list. */
static int oh_parse_weekdays(oh_parser *p)
{
    int only_holidays;
    if (oh_parse_weekday_list(p, &only_holidays))
        return -1;
    if (only_holidays && oh_kind_at(p, p->pos) == OH_W_WEEKDAY)
        return oh_parse_weekday_list(p, &only_holidays);
    return 0;
}

/* ---- years, months and dates, weeks ---------------------------------- */

/* Years: 2020, 2020+, 2020-2022, 2020-2030/2, separated by ','. */
static int oh_parse_years(oh_parser *p)
{
    for (;;) {
        p->pos += 4;
        oh_skip_ws(p);
        char c = oh_ch(p, p->pos);
        if (c == '+') {
            p->pos++;
        } else if (c == '-') {
            size_t dash = p->pos;
            p->pos = oh_skip_from(p, p->pos + 1);
            if (!oh_year_at(p, p->pos))
                return oh_fail(p, p->pos < p->len ? p->pos : dash, "expected a year like 2024 after '-'");
            p->pos += 4;
            oh_skip_ws(p);
            if (oh_ch(p, p->pos) == '/') {
                p->pos = oh_skip_from(p, p->pos + 1);
                size_t n = oh_digits(p, p->pos);
                if (n == 0 || n > 3 || oh_number(p, p->pos, n) == 0)
                    return oh_fail(p, p->pos, "expected a step like /2 after a range of years");
                p->pos += n;
            }
        }
        oh_skip_ws(p);
        if (oh_ch(p, p->pos) != ',')
            return 0;
        size_t next = oh_skip_from(p, p->pos + 1);
        if (!oh_year_at(p, next))
            return 0;
        p->pos = next;
    }
}

/* Day of the month at p->pos, 1 or 2 digits; month is 0-11, or -1 when
 * unknown (after easter). */
static int oh_parse_daynum(oh_parser *p, int month)
{
    size_t at = p->pos;
    size_t n = oh_digits(p, at);
    if (n == 0 || n > 2 || oh_clock_at(p, at))
        return oh_fail(p, at, "expected a day of the month like 24");
    int day = oh_number(p, at, n);
    int max = month >= 0 ? oh_month_days[month] : 31;
    if (day < 1 || day > max) {
        if (month >= 0)
            return oh_fail(p, at, "day %d is out of range for %s (01-%02d)", day, oh_keywords[7 + month].text, max);
        return oh_fail(p, at, "day %d is out of range (01-31)", day);
    }
    p->pos = at + n;
    return 0;
}

/* A date offset starts at i: '+' or '-' then a weekday or 'n day(s)'. */
static int oh_date_offset_at(const oh_parser *p, size_t i)
{
    char c = oh_ch(p, i);
    if (c != '+' && c != '-')
        return 0;
    size_t j = oh_skip_from(p, i + 1);
    if (oh_kind_at(p, j) == OH_W_WEEKDAY)
        return 1;
    size_t n = oh_digits(p, j);
    return n > 0 && oh_kind_at(p, oh_skip_from(p, j + n)) == OH_W_DAY;
}

/* Optional offsets after a date: [('+'|'-') weekday] [('+'|'-') n day(s)]. */
static int oh_parse_date_offsets(oh_parser *p)
{
    oh_skip_ws(p);
    if (!oh_date_offset_at(p, p->pos))
        return 0;
    size_t j = oh_skip_from(p, p->pos + 1);
    oh_word w = oh_word_at(p, j);
    if (w.kind == OH_W_WEEKDAY) {
        p->pos = j + w.len;
        oh_skip_ws(p);
        if (!oh_date_offset_at(p, p->pos))
            return 0;
    }
    if (oh_kind_at(p, oh_skip_from(p, p->pos + 1)) == OH_W_WEEKDAY)
        return oh_fail(p, p->pos, "a date takes one weekday offset");
    return oh_parse_day_offset(p);
}

/* What may follow a date: '+' (from then on) or '-' and an end date (a full
 * date, easter, or a day of the same month). month is the start's month,
 * -1 for easter. */
static int oh_parse_date_tail(oh_parser *p, int month)
{
    oh_skip_ws(p);
    char c = oh_ch(p, p->pos);
    if (c == '+') {
        p->pos++;
        return 0;
    }
    if (c != '-')
        return 0;
    size_t dash = p->pos;
    p->pos = oh_skip_from(p, p->pos + 1);
    if (oh_year_at(p, p->pos))
        p->pos = oh_skip_from(p, p->pos + 4);
    oh_word w = oh_word_at(p, p->pos);
    if (w.kind == OH_W_MONTH) {
        p->pos = oh_skip_from(p, p->pos + w.len);
        if (!oh_isdigit(oh_ch(p, p->pos)))
            return oh_fail(p, p->pos < p->len ? p->pos : dash, "expected a day after '%s', like %s 02",
                           oh_keywords[7 + w.index].text, oh_keywords[7 + w.index].text);
        if (oh_parse_daynum(p, w.index))
            return -1;
    } else if (w.kind == OH_W_EASTER) {
        p->pos += w.len;
    } else if (oh_isdigit(oh_ch(p, p->pos)) && !oh_clock_at(p, p->pos)) {
        if (oh_parse_daynum(p, month))
            return -1;
    } else if (w.kind == OH_W_UNKNOWN) {
        return oh_fail_word(p, p->pos, w.len, OH_CTX_MONTH);
    } else {
        return oh_fail(p, dash, "expected a date after '-', like Dec 24-26 or Dec 25-Jan 02");
    }
    return oh_parse_date_offsets(p);
}

/* One month-day item: [year] (easter | month [day] | month-month), with
 * offsets and ranges. */
static int oh_parse_monthday_item(oh_parser *p)
{
    if (oh_year_at(p, p->pos))
        p->pos = oh_skip_from(p, p->pos + 4);
    oh_word w = oh_word_at(p, p->pos);
    if (w.kind == OH_W_EASTER) {
        p->pos += w.len;
        if (oh_parse_date_offsets(p))
            return -1;
        return oh_parse_date_tail(p, -1);
    }
    if (w.kind != OH_W_MONTH)
        return w.kind == OH_W_UNKNOWN ? oh_fail_word(p, p->pos, w.len, OH_CTX_MONTH)
                                      : oh_fail(p, p->pos, "expected a month like Jan, or easter, after the year");
    p->pos = oh_skip_from(p, p->pos + w.len);
    if (oh_isdigit(oh_ch(p, p->pos)) && !oh_clock_at(p, p->pos) && !oh_year_at(p, p->pos)) {
        if (oh_parse_daynum(p, w.index) || oh_parse_date_offsets(p))
            return -1;
        return oh_parse_date_tail(p, w.index);
    }
    if (oh_ch(p, p->pos) != '-')
        return 0;
    size_t dash = p->pos;
    p->pos = oh_skip_from(p, p->pos + 1);
    oh_word to = oh_word_at(p, p->pos);
    if (to.kind == OH_W_UNKNOWN)
        return oh_fail_word(p, p->pos, to.len, OH_CTX_MONTH);
    if (to.kind != OH_W_MONTH)
        return oh_fail(p, dash, "expected a month after '-', like Jan-Mar");
    p->pos += to.len;
    return 0;
}

/* Month-day items separated by ','; a ',' continues the list only before a
 * month, easter, or a year and one of those. */
static int oh_parse_monthdays(oh_parser *p)
{
    for (;;) {
        if (oh_parse_monthday_item(p))
            return -1;
        oh_skip_ws(p);
        if (oh_ch(p, p->pos) != ',')
            return 0;
        size_t next = oh_skip_from(p, p->pos + 1);
        size_t word = oh_year_at(p, next) ? oh_skip_from(p, next + 4) : next;
        oh_word_kind k = oh_kind_at(p, word);
        if (k != OH_W_MONTH && k != OH_W_EASTER)
            return 0;
        p->pos = next;
    }
}

/* Week number 01-53 at p->pos (one or two digits). */
static int oh_parse_weeknum(oh_parser *p)
{
    size_t at = p->pos;
    size_t n = oh_digits(p, at);
    if (n == 0 || n > 2 || oh_clock_at(p, at))
        return oh_fail(p, at, "expected week numbers like 'week 01-26'");
    int v = oh_number(p, at, n);
    if (v < 1 || v > 53)
        return oh_fail(p, at, "week %d is out of range (01-53)", v);
    p->pos += n;
    return 0;
}

/* 'week' then numbers, ranges and steps separated by ','. */
static int oh_parse_weeks(oh_parser *p)
{
    p->pos = oh_skip_from(p, p->pos + 4);
    for (;;) {
        if (oh_parse_weeknum(p))
            return -1;
        oh_skip_ws(p);
        if (oh_ch(p, p->pos) == '-') {
            p->pos = oh_skip_from(p, p->pos + 1);
            if (oh_parse_weeknum(p))
                return -1;
            oh_skip_ws(p);
            if (oh_ch(p, p->pos) == '/') {
                p->pos = oh_skip_from(p, p->pos + 1);
                size_t n = oh_digits(p, p->pos);
                if (n == 0 || n > 2 || oh_number(p, p->pos, n) == 0)
                    return oh_fail(p, p->pos, "expected a step like /2 after a range of weeks");
                p->pos += n;
                oh_skip_ws(p);
            }
        }
        if (oh_ch(p, p->pos) != ',')
            return 0;
        size_t next = oh_skip_from(p, p->pos + 1);
        if (!oh_isdigit(oh_ch(p, next)) || oh_clock_at(p, next))
            return 0;
        p->pos = next;
    }
}

/* ---- rules ------------------------------------------------------------ */

/* '"' text '"' at p->pos. */
static int oh_parse_comment(oh_parser *p)
{
    size_t at = p->pos;
    size_t end = oh_comment_end(p, at);
    if (end == 0)
        return oh_fail(p, at, "comment is not closed: a '\"' is missing");
    if (end == at + 2)
        return oh_fail(p, at, "empty comment: write some text between the quotes, or none");
    p->pos = end;
    return 0;
}

/* Optional rule modifier: open/closed/off/unknown, then an optional comment. */
static int oh_parse_modifier(oh_parser *p)
{
    oh_word w = oh_word_at(p, p->pos);
    if (w.kind == OH_W_MODIFIER) {
        p->pos += w.len;
        oh_skip_ws(p);
    }
    return oh_ch(p, p->pos) == '"' ? oh_parse_comment(p) : 0;
}

/* One rule from p->pos (not at a separator nor the end). Stops before the
 * first byte it cannot place; the caller decides whether that is a
 * separator or a problem. A ':' after the selectors must be followed by more
 * of the rule. */
static int oh_parse_rule(oh_parser *p)
{
    size_t colon = 0, after_colon = 0;
    int has_colon = 0, wide = 0;

    if (oh_247_at(p, p->pos)) {
        p->pos = oh_skip_from(p, p->pos + 4);
        return oh_parse_modifier(p);
    }

    size_t end = oh_ch(p, p->pos) == '"' ? oh_comment_end(p, p->pos) : 0;
    if (end && oh_ch(p, oh_skip_from(p, end)) == ':') {
        if (oh_parse_comment(p))            /* "text": as a wide range selector */
            return -1;
        p->pos = oh_skip_from(p, end);
        wide = 1;
    } else {
        if (oh_year_at(p, p->pos)) {
            if (oh_parse_years(p))
                return -1;
            wide = 1;
        }
        oh_word_kind k = oh_kind_at(p, p->pos);
        if (k == OH_W_MONTH || k == OH_W_EASTER) {
            if (oh_parse_monthdays(p))
                return -1;
            wide = 1;
        }
        if (oh_kind_at(p, p->pos) == OH_W_WEEK) {
            if (oh_parse_weeks(p))
                return -1;
            wide = 1;
        }
        oh_skip_ws(p);
    }
    if (wide && oh_ch(p, p->pos) == ':') {
        has_colon = 1;
        colon = p->pos;
        p->pos = after_colon = oh_skip_from(p, p->pos + 1);
    }

    oh_word_kind k = oh_kind_at(p, p->pos);
    if (k == OH_W_WEEKDAY || k == OH_W_HOLIDAY) {
        if (oh_parse_weekdays(p))
            return -1;
        oh_skip_ws(p);
        if (oh_ch(p, p->pos) == ':') {      /* "PH: off", "Mo-Fr: 08:00-18:00" */
            has_colon = 1;
            colon = p->pos;
            p->pos = after_colon = oh_skip_from(p, p->pos + 1);
        }
    }

    if (oh_time_at(p, p->pos)) {
        if (oh_parse_times(p))
            return -1;
        oh_skip_ws(p);
    }
    if (oh_parse_modifier(p))
        return -1;

    if (has_colon && p->pos == after_colon && (p->pos >= p->len || oh_separator_at(p, p->pos)))
        return oh_fail(p, colon, "expected weekdays, times or a modifier after ':'");
    return 0;
}

/* Rules separated by ';', ',' or '||'; none of them empty. */
static int oh_parse_value(oh_parser *p)
{
    const char *sep = NULL;   /* the separator before the current rule */
    size_t sep_at = 0;

    for (;;) {
        oh_skip_ws(p);
        size_t n = oh_separator_at(p, p->pos);
        if (p->pos >= p->len)
            return sep ? oh_fail(p, sep_at, "empty rule after '%s'", sep)
                       : oh_fail(p, 0, "the value is empty");
        if (n)
            return oh_fail(p, p->pos, "empty rule before '%s'", n == 2 ? "||" : oh_ch(p, p->pos) == ';' ? ";" : ",");
        if (oh_parse_rule(p))
            return -1;
        oh_skip_ws(p);
        if (p->pos >= p->len)
            return 0;
        n = oh_separator_at(p, p->pos);
        if (n == 0)
            return oh_fail_unexpected(p);
        sep = n == 2 ? "||" : oh_ch(p, p->pos) == ';' ? ";" : ",";
        sep_at = p->pos;
        p->pos += n;
    }
}

/* Valid UTF-8 with no control characters; bounded by p->len. */
static int oh_check_bytes(oh_parser *p)
{
    const unsigned char *s = (const unsigned char *)p->s;
    size_t i = 0;
    while (i < p->len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F)
                return oh_fail(p, i, "control characters (tabs, line breaks) are not allowed");
            i++;
            continue;
        }
        size_t more;
        unsigned char lo = 0x80, hi = 0xBF;   /* bounds of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return oh_fail(p, i, "invalid UTF-8 byte 0x%02X", c);
        }
        for (size_t k = 1; k <= more; k++) {
            unsigned char b = i + k < p->len ? s[i + k] : 0;
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
                return oh_fail(p, i, "invalid UTF-8 sequence");
        }
        i += more + 1;
    }
    return 0;
}

int geodata_opening_hours_check(const char *value, geodata_oh_error *err)
{
    oh_parser p = {value, 0, 0, err};
    if (!value) {
        if (err) {
            err->offset = 0;
            snprintf(err->message, sizeof err->message, "no value");
        }
        return GEODATA_OH_EINVAL;
    }
    while (p.len <= GEODATA_OH_MAX_LEN && value[p.len] != '\0')
        p.len++;
    if (p.len > GEODATA_OH_MAX_LEN) {
        oh_fail(&p, GEODATA_OH_MAX_LEN, "the value is longer than %d bytes, OSM's limit", GEODATA_OH_MAX_LEN);
        return GEODATA_OH_EINVAL;
    }
    if (oh_check_bytes(&p) || oh_parse_value(&p))
        return GEODATA_OH_EINVAL;
    if (err) {
        err->offset = 0;
        err->message[0] = '\0';
    }
    return 0;
}
