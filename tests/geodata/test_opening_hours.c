/*
 * tests/geodata/test_opening_hours.c — the opening_hours syntax checker:
 * values that must pass, values that must fail (with where and why), the
 * length and UTF-8 limits, and a bounded robustness sweep (every prefix of
 * every example, and seeded random mutations) that runs each input from an
 * exact-size heap copy, so that an ASan build catches any read past the NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "geodata/opening_hours.h"

static const char *const valid_values[] = {
    /* the examples of the brief */
    "24/7",
    "Mo-Fr 08:00-18:00",
    "Mo-Fr 08:00-12:00,14:00-18:00; Sa 09:00-12:00; PH off",
    "Mo-Sa 10:00+",
    "Tu-Su 10:00-18:00; Mo off",
    "Mo-Fr 22:00-02:00",
    "Mo-Su 08:00-24:00",
    "Jan-Mar Mo-Fr 09:00-17:00",
    "Dec 24 10:00-14:00",
    "Dec 25 off",
    "Su[1] 10:00-12:00",
    "sunrise-sunset",
    "Mo-Fr 09:00-17:00 \"by appointment\"",
    "Mo-Fr 09:00-17:00 || \"on request\"",
    "week 01-26 Mo 10:00-12:00",
    "PH,Su off",
    "Sa,Su 10:00-13:00",
    "2021 Mo-Fr 08:00-12:00",
    "Mo-Fr 08:00-18:00; Sa 08:00-12:00; Su,PH closed",
    "(sunrise+01:00)-sunset",
    "off",
    "Mo-Fr 07:30-19:30, Sa 08:00-13:00",
    /* years */
    "2020-2022 Mo-Fr 09:00-17:00",
    "2020+ Sa 10:00-12:00",
    "2020-2030/2 Jul off",
    "2020,2022 Dec 24 off",
    "2020 Dec 25-2021 Jan 02 off",
    /* months and dates */
    "Jan,Mar,Dec 10:00-12:00",
    "Jan-Mar,Oct-Dec Sa 10:00-12:00",
    "Dec 24-26 off",
    "Dec 25-Jan 02 off",
    "Dec 1 10:00-12:00",
    "Feb 29 off",
    "Dec 24: 10:00-14:00",
    "Dec 24+ off",
    "Dec 25 +Su 10:00-12:00",
    "Dec 24 -2 days off",
    "easter off",
    "easter +1 day off",
    "easter -2 days-easter +1 day 10:00-12:00",
    "Jan 01,Dec 25 off",
    "May 01 off; Jul 14 off",
    /* weeks */
    "week 01-53/2 Mo 10:00-12:00",
    "week 01,03,05-10 Fr 14:00-16:00",
    "week 1-26 Sa 10:00-12:00",
    /* weekdays and holidays */
    "Mo,We,Fr 09:00-12:00",
    "Mo-We,Fr 09:00-12:00",
    "Su[-1] 10:00-12:00",
    "Fr[1,3] 18:00-20:00",
    "Mo[1-2] 09:00-12:00",
    "Sa[-1] -1 day 10:00-12:00",
    "Su[1] +2 days off",
    "PH +1 day off",
    "PH -1 day 10:00-12:00",
    "SH Mo-Fr 10:00-12:00",
    "SH,PH off",
    "PH: off",
    "Mo-Fr: 08:00-18:00",
    "Mo",
    "Mo-Su",
    "Fr-Mo 10:00-12:00",
    /* times */
    "Mo 10:00",
    "Mo 10:00,12:00,16:00",
    "Mo-Fr 10:00-12:00+",
    "Mo-Fr 10:00-16:00/01:30",
    "Mo-Fr 10:00-16:00/30",
    "Sa 20:00-48:00",
    "dusk-dawn",
    "(sunset-01:00)-(sunrise+01:00)",
    "( sunset - 00:30 )-22:00",
    "sunset+",
    "10:00-12:00",
    "00:00-24:00",
    /* modifiers and comments */
    "closed",
    "unknown \"call ahead\"",
    "open",
    "\"sur rendez-vous\"",
    "Mo-Fr 09:00-12:00 open \"caf\xC3\xA9 ouvert\"",
    "24/7 closed \"r\xC3\xA9novation\"",
    "\"only in summer\": Mo 10:00-12:00",
    "Mo-Fr 08:00-18:00 || off",
    /* spaces */
    "  Mo 10:00-12:00  ",
    "Mo - Fr 08:00 - 18:00",
    "Mo-Fr 08:00-12:00 , 14:00-18:00",
    "Mo-Fr 08:00-18:00 ;Sa 09:00-12:00",
};

typedef struct invalid_case {
    const char *value;
    long offset;             /* expected offset, -1 for "anywhere in the value" */
    const char *in_message;  /* expected part of the message, or NULL */
} invalid_case;

static const invalid_case invalid_values[] = {
    /* the examples of the brief */
    {"", 0, "empty"},
    {"   ", 0, "empty"},
    {"Lu-Sam 10:00-21:00", 0, "unknown word 'Lu': weekdays are Mo Tu We Th Fr Sa Su"},
    {"mo-fr 08:00-18:00", 0, "did you mean 'Mo'"},
    {"Mo-Fr 8h-18h", 6, "expected a time like 08:30"},
    {"Mo-Fr 08:00-", 11, "end time"},
    {"Mo-Fr 25:00-26:00", 6, "hour 25"},
    {"Mo-Fr 08:60-09:00", 9, "minutes 60"},
    {"Mo-Fr 08:00-18:00;;", 18, "empty rule"},
    {"Mo-Fr 08:00-18:00 \"unterminated", 18, "not closed"},
    {"Mo-Xx 08:00-18:00", 3, "unknown word 'Xx': weekdays are"},
    {"Mo-Fr 08:00-18:00 extra", 18, "unknown word 'extra'"},
    /* rules and separators */
    {"Mo-Fr 08:00-18:00;", 17, "empty rule after ';'"},
    {"; Mo 10:00", 0, "empty rule before ';'"},
    {"Mo 10:00 ||", 9, "empty rule after '||'"},
    {"Mo 10:00 | Tu 10:00", 9, "'||'"},
    {"Mo,", 2, "empty rule after ','"},
    {"Mo-Fr 08:00-18:00,", 17, "empty rule"},
    {"Mo-", 2, NULL},
    {"Mo-Fr 08:00-18:00 -", 18, NULL},
    /* times */
    {"Mo-Fr 8:00-18:00", 6, "two digits"},
    {"Mo-Fr 08:00-8:00", 12, "two digits"},
    {"Mo-Fr 08:0-09:00", 9, "two digits"},
    {"Mo-Fr 08:00-49:00", 12, "end hour 49"},
    {"Mo-Fr 0800-1800", 6, "expected a time"},
    {"Mo-Fr 08h00-18h00", 6, "expected a time"},
    {"Mo-Fr 08.00-18.00", 6, "expected a time"},
    {"Mo-Fr 08:00-midnight", 12, "unknown word 'midnight'"},
    {"Mo-Fr 08:00-18:00:00", 17, NULL},
    {"(sunset-1:00)-sunrise", 8, "two digits"},
    {"(noon+01:00)-18:00", 1, "unknown word 'noon'"},
    {"(sunset 01:00)-23:00", 8, "'+' or '-'"},
    {"(sunset+01:00-23:00", 13, "')'"},
    {"Sunrise-sunset", 0, "did you mean 'sunrise'"},
    {"Mo 10:00-12:00/0", 15, "period"},
    {"10:00-12:00 Mo", 12, "out of order"},
    {"Mo off 10:00-12:00", 7, "out of order"},
    /* weekdays and holidays */
    {"Mon-Fri 08:00-18:00", 0, "did you mean 'Mo'"},
    {"Lundi 10:00", 0, "weekdays are"},
    {"Mo-mar 10:00", 3, "weekdays are"},
    {"Mo-PH 10:00", 2, "expected a weekday"},
    {"Mo[6] 10:00", 3, "week of the month"},
    {"Mo[0] 10:00", 3, "week of the month"},
    {"Mo[1 10:00", 5, "']'"},
    {"Mo[1-] 10:00", 5, NULL},
    {"PH +1 off", 3, "day offset"},
    {"PH -1 week", 3, "day offset"},
    {"ph off", 0, "did you mean 'PH'"},
    {"Mo-Su 24/7", 6, "24/7"},
    {"PH:", 2, "after ':'"},
    /* years, months, weeks */
    {"jan-mar 10:00", 0, "months are"},
    {"January 10:00", 0, "did you mean 'Jan'"},
    {"Jan-", 3, NULL},
    {"Jan-Xyz off", 4, "months are"},
    {"Feb 30 off", 4, "out of range for Feb"},
    {"Dec 32 off", 4, "out of range"},
    {"Dec 0 off", 4, "out of range"},
    {"Dec 25-Jan off", 11, "expected a day"},
    {"Dec 24:", 6, "after ':'"},
    {"Dec 24: ; Mo 10:00", 6, "after ':'"},
    {"week 54 Mo 10:00", 5, "week 54"},
    {"week 00 Mo 10:00", 5, "week 0"},
    {"week Mo 10:00", 5, "week numbers"},
    {"week 01-10/0 Mo", 11, "step"},
    {"2020- Mo 10:00", 6, "year"},
    {"2020-2030/ Mo", 11, "step"},
    {"Mo 2021", 3, "out of order"},
    {"Mo-Fr Jan 10:00", 6, "out of order"},
    /* modifiers and comments */
    {"\"\"", 0, "empty comment"},
    {"Mo-Fr 10:00 Abcdefghijklmnopqrstuvwxyzabcdefghijklmnop", 12, "unknown word 'Abcdefghijklmnopqrst'"},
    {"Jan-Abcdefghijklmnopqrstuvwxyzabcdefghijklmnop", 4, "months are"},
    {"Mo-Fr 10:00-Abcdefghijklmnopqrstuvwxyzabcdefghijklmnop", 12, "times look like"},
    {"Mo off sunriseeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 7, "free text"},
    {"Mo \"a\" \"b\"", 7, "one comment"},
    {"Mo \"a\" off", 7, "out of order"},
    {"Off", 0, "did you mean 'off'"},
    {"Mo-Fr 08:00-18:00 off off", 22, "out of order"},
    {"\"\": Mo 10:00", 0, "empty comment"},
    /* bytes */
    {"Mo-Fr 08:00\xE2\x80\x93" "18:00", 11, "plain '-'"},
    {"Mo-Fr 08:00-18:00 \xC3\xA9t\xC3\xA9", 18, "non-ASCII"},
    {"Mo-Fr 08:00-18:00 \xFF", 18, "UTF-8"},
    {"Mo-Fr \xC0\xAF", 6, "UTF-8"},
    {"Mo-Fr 08:00 \"caf\xC3\"", 16, "UTF-8"},
    {"Mo-Fr 08:00-18:00 \xED\xA0\x80", 18, "UTF-8"},
    {"Mo\t10:00", 2, "control"},
    {"Mo 10:00\n", 8, "control"},
    {"Mo-Fr 08:00-18:00 \xC3", 18, "UTF-8"},
};

/* Runs the checker on an exact-size heap copy of value (so that ASan sees
 * any read past the NUL). */
static int check_copy(const char *value, size_t len, geodata_oh_error *err)
{
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, value, len);
    copy[len] = '\0';
    int rc = geodata_opening_hours_check(copy, err);
    free(copy);
    return rc;
}

/* The contract of a refusal: -3, a non-empty message that fits, an offset
 * inside the value (0 for an empty one). */
static void assert_refusal(int rc, const geodata_oh_error *err, size_t len)
{
    assert_int_equal(rc, -3);
    assert_true(err->message[0] != '\0');
    /* NUL-terminated, and short of the buffer's end: not cut off */
    assert_true(memchr(err->message, '\0', sizeof err->message - 1) != NULL);
    if (len == 0)
        assert_int_equal(err->offset, 0);
    else
        assert_true(err->offset < len);
}

static void test_valid_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_values / sizeof valid_values[0]; i++) {
        geodata_oh_error err;
        memset(&err, 'x', sizeof err);
        int rc = check_copy(valid_values[i], strlen(valid_values[i]), &err);
        if (rc != 0)
            print_error("refused \"%s\": at %zu: %s\n", valid_values[i], err.offset, err.message);
        assert_int_equal(rc, 0);
        assert_int_equal(err.offset, 0);
        assert_string_equal(err.message, "");
        assert_int_equal(geodata_opening_hours_check(valid_values[i], NULL), 0);
    }
}

static void test_invalid_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof invalid_values / sizeof invalid_values[0]; i++) {
        const invalid_case *c = &invalid_values[i];
        geodata_oh_error err;
        memset(&err, 0, sizeof err);
        size_t len = strlen(c->value);
        int rc = check_copy(c->value, len, &err);
        if (rc != -3) {
            print_error("accepted \"%s\"\n", c->value);
        } else if ((c->offset >= 0 && err.offset != (size_t)c->offset)
                   || (c->in_message && !strstr(err.message, c->in_message))) {
            print_error("\"%s\": at %zu: %s (expected at %ld: ...%s...)\n", c->value, err.offset,
                        err.message, c->offset, c->in_message ? c->in_message : "");
        }
        assert_refusal(rc, &err, len);
        if (c->offset >= 0)
            assert_int_equal(err.offset, (size_t)c->offset);
        if (c->in_message)
            assert_non_null(strstr(err.message, c->in_message));
        assert_int_equal(geodata_opening_hours_check(c->value, NULL), -3);
    }
}

static void test_null_value(void **state)
{
    (void)state;
    geodata_oh_error err;
    assert_int_equal(geodata_opening_hours_check(NULL, &err), -3);
    assert_true(err.message[0] != '\0');
    assert_int_equal(geodata_opening_hours_check(NULL, NULL), -3);
}

static void test_length_limit(void **state)
{
    (void)state;
    char buf[301];
    geodata_oh_error err;

    /* a quoted comment of exactly 255 bytes is accepted */
    buf[0] = '"';
    memset(buf + 1, 'a', 253);
    buf[254] = '"';
    buf[255] = '\0';
    assert_int_equal(check_copy(buf, 255, &err), 0);

    /* one more byte is refused, at the first byte over the limit */
    buf[254] = 'a';
    buf[255] = '"';
    buf[256] = '\0';
    assert_int_equal(check_copy(buf, 256, &err), -3);
    assert_int_equal(err.offset, 255);
    assert_non_null(strstr(err.message, "255"));

    /* 300 characters of rules */
    static const char rule[] = "Mo-Fr 08:00-18:00; ";
    for (size_t k = 0; k < 300; k++)
        buf[k] = rule[k % (sizeof rule - 1)];
    buf[300] = '\0';
    assert_int_equal(strlen(buf), 300);
    assert_int_equal(check_copy(buf, 300, &err), -3);
    assert_refusal(-3, &err, 300);
    assert_int_equal(err.offset, 255);
}

/* Every prefix of every example, valid or not, gives 0 or a well-formed
 * refusal; under ASan, no read leaves the exact-size copy. */
static void test_prefixes(void **state)
{
    (void)state;
    const size_t nv = sizeof valid_values / sizeof valid_values[0];
    const size_t ni = sizeof invalid_values / sizeof invalid_values[0];
    for (size_t i = 0; i < nv + ni; i++) {
        const char *v = i < nv ? valid_values[i] : invalid_values[i - nv].value;
        size_t len = strlen(v);
        for (size_t k = 0; k <= len; k++) {
            geodata_oh_error err;
            int rc = check_copy(v, k, &err);
            if (rc != 0)
                assert_refusal(rc, &err, k);
        }
    }
}

/* Seeded random edits of the valid examples (replace, insert or delete bytes
 * drawn from the syntax's alphabet and some bad bytes). Deterministic. */
static void test_mutations(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789:-+,;|/[]()\" MoTuFrSaPHJanDecweekeastersunriseoffday\xC3\xA9\xFF\x80";
    const size_t nv = sizeof valid_values / sizeof valid_values[0];
    uint32_t seed = 12345;
    char buf[300];
    for (int round = 0; round < 50000; round++) {
        const char *v = valid_values[round % nv];
        size_t len = strlen(v);
        memcpy(buf, v, len);
        int edits = 1 + round % 3;
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t r = seed >> 8;
            size_t at = len ? r % (len + 1) : 0;
            char c = alphabet[(r >> 9) % (sizeof alphabet - 1)];
            switch ((r >> 4) % 3) {
            case 0:
                if (at < len)
                    buf[at] = c;
                break;
            case 1:
                if (len < sizeof buf - 1) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
                break;
            default:
                if (at < len) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
                break;
            }
        }
        /* an edit may have put a NUL-free byte anywhere; the value ends at len */
        geodata_oh_error err;
        int rc = check_copy(buf, len, &err);
        if (rc != 0)
            assert_refusal(rc, &err, len);
    }
}

/* Hours as shop owners write them, in French and English, become OSM. */
static void test_from_text(void **state)
{
    (void)state;
    static const struct { const char *text, *osm; } cases[] = {
        { "lun-sam 9h-19h", "Mo-Sa 09:00-19:00" },
        { "Lun.-Ven. : 9h00 - 18h00", "Mo-Fr 09:00-18:00" },
        { "du lundi au vendredi de 9h à 12h et de 14h à 19h; samedi 9h-13h",
          "Mo-Fr 09:00-12:00,14:00-19:00; Sa 09:00-13:00" },
        { "lundi, mercredi et vendredi 10h30-18h", "Mo,We,Fr 10:30-18:00" },
        { "tous les jours 8h-20h", "Mo-Su 08:00-20:00" },
        { "dimanche fermé", "Su off" },
        { "9h-19h", "09:00-19:00" },
        { "mardi–samedi 10 h – midi, 14 h – 19 h", "Tu-Sa 10:00-12:00,14:00-19:00" },
        { "Mon–Sat 9am–7pm, Sun closed", "Mo-Sa 09:00-19:00; Su off" },
        { "Mon-Fri 8:30am - 6:30pm", "Mo-Fr 08:30-18:30" },
        { "every day 7am-10pm", "Mo-Su 07:00-22:00" },
        { "Tue to Sun 11am-midnight", "Tu-Su 11:00-24:00" },
        { "Mo-Sa 08:00-20:00; Su off", "Mo-Sa 08:00-20:00; Su off" },   /* OSM stays as it is */
        { "24/7", "24/7" },
    };
    char out[GEODATA_OH_MAX_LEN + 1];
    geodata_oh_error e;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = geodata_opening_hours_from_text(cases[i].text, out, sizeof out, &e);
        if (rc != 0 || strcmp(out, cases[i].osm) != 0)
            fail_msg("'%s' -> %d '%s', want '%s'", cases[i].text, rc, out, cases[i].osm);
        assert_int_equal(geodata_opening_hours_check(out, NULL), 0);
        assert_string_equal(e.message, "");
    }
    /* Neither OSM nor hours: refused, nothing written, the place said. */
    const char *bad[] = { "n'importe quoi", "lun-sam 9h-", "lundi 25h-26h", "9h-19h et puis voilà",
                          "13pm-2pm", "lun-sam 9h-19h blabla", "", "sam 123h-19h" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        strcpy(out, "untouched");
        int rc = geodata_opening_hours_from_text(bad[i], out, sizeof out, &e);
        if (rc != GEODATA_OH_EINVAL || out[0] != '\0')
            fail_msg("'%s' -> %d '%s', want a refusal", bad[i], rc, out);
        assert_true(e.message[0] != '\0');
    }
    /* A value longer than OSM allows, and a buffer too small. */
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(geodata_opening_hours_from_text(big, out, sizeof out, &e), GEODATA_OH_EINVAL);
    char tiny[8];
    assert_int_equal(geodata_opening_hours_from_text("lun-sam 9h-19h", tiny, sizeof tiny, &e),
                     GEODATA_OH_EINVAL);
    assert_int_equal(geodata_opening_hours_from_text(NULL, out, sizeof out, NULL), GEODATA_OH_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_values),
        cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_null_value),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_from_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
