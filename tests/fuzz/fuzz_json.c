/*
 * tests/fuzz/fuzz_json.c — a request body as mapd reads it, on any bytes.
 *
 * What runs is mapd's own code, not a copy of it:
 *   1. jansson's json_loadb with the flags of mapd_json_body_or_reply
 *      (mapd/request.c: JSON_REJECT_DUPLICATES); a body that is not an
 *      object stops there, as it does in mapd (400);
 *   2. the field readers of mapd/request.c, linked as they are, on every
 *      member of the object (at most MAX_KEYS) and on a name that is not
 *      there: mapd_field_string_or_reply with each combination of flags a
 *      handler uses and the bounds of the handlers (16 bytes for a kind or
 *      category, titles, bodies), mapd_field_int_or_reply with the ranges of
 *      the handlers, mapd_field_bool_or_reply. Their replies go to
 *      problem_sink.c, since queuing one needs a libmicrohttpd connection;
 *   3. every string a reader accepts, given to the geodata validators the
 *      handlers call next (post kind and category, group category, shop
 *      status, quiet hours "HH:MM", opening hours as people write them),
 *      and written back into a response as mapd serialises one
 *      (MAPD_POST_JSON_FLAGS), which must read back to the same string.
 * Each reader is checked against a model of its contract (http.h): it
 * accepts exactly what the model accepts, 0 with no reply or -1 with one
 * 422, and what it hands out is bounded, free of control characters,
 * trimmed when asked, valid UTF-8. A validator that says yes must name a
 * value of its list. Any difference aborts.
 *
 * Not covered here: the checks that the handlers make inline (api_alerts.c's
 * quiet_hours object and polygon shape, the string lists), since they are
 * static; the polygon itself is read by GEOS in geodata (subscriptions.c)
 * behind a store and a member. jansson is a system library, not
 * instrumented: libFuzzer sees its results, not its branches.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/groups.h"
#include "geodata/opening_hours.h"
#include "geodata/posts.h"
#include "geodata/shops.h"
#include "geodata/subscriptions.h"
#include "http.h"
#include "post_json.h"
#include "problem_sink.h"

#define MAX_KEYS 12

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *name)
{
    fprintf(stderr, "fuzz_json: %s (member \"%s\")\n", what, name ? name : "");
    abort();
}

/* 1 when the n bytes of s are UTF-8 without overlong forms or surrogates. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || i + len > n || (len == 2 && c < 0xc2) || c > 0xf4)
            return 0;
        uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
            || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += len;
    }
    return 1;
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* The geodata validators a handler calls on a string it has read. */
static void validators(const char *s, const char *name)
{
    static const char *const kinds[] = { "request", "offer", NULL };
    static const char *const statuses[] = { "open", "closed", "delivery_only", "takeaway_only", NULL };
    if (geodata_post_kind_valid(s) != in_list(s, kinds))
        fail("geodata_post_kind_valid disagrees with the list of kinds", name);
    if (geodata_post_category_valid(s) != in_list(s, geodata_post_categories))
        fail("geodata_post_category_valid disagrees with geodata_post_categories", name);
    if (geodata_group_category_valid(s) != in_list(s, geodata_group_categories))
        fail("geodata_group_category_valid disagrees with geodata_group_categories", name);
    if (geodata_shop_status_valid(s) != in_list(s, statuses))
        fail("geodata_shop_status_valid disagrees with the shop statuses", name);
    int minutes = -1;
    if (geodata_hhmm_parse(s, &minutes)) {
        char back[32];
        snprintf(back, sizeof back, "%02d:%02d", minutes / 60, minutes % 60);
        if (minutes < 0 || minutes > 1439 || strcmp(back, s) != 0)
            fail("geodata_hhmm_parse read something other than HH:MM", name);
    }
    if (strlen(s) <= 255) {              /* the handlers' bound on opening_hours */
        char out[GEODATA_OH_MAX_LEN + 1];
        geodata_oh_error err;
        memset(out, 0x5a, sizeof out);
        int rc = geodata_opening_hours_from_text(s, out, sizeof out, &err);
        if (rc == 0 && (!memchr(out, '\0', sizeof out) || geodata_opening_hours_check(out, NULL) != 0))
            fail("geodata_opening_hours_from_text gave an invalid value", name);
        if (rc != 0 && rc != GEODATA_OH_EINVAL)
            fail("geodata_opening_hours_from_text gave an unknown code", name);
    }
}

/* Writes s into a response as mapd does and reads it back. */
static void serialise(const char *s, const char *name)
{
    json_t *doc = json_pack("{s:s, s:{s:s}}", "type", "Feature", "properties", "title", s);
    if (!doc)
        return;                          /* out of memory */
    char *text = json_dumps(doc, MAPD_POST_JSON_FLAGS);
    json_decref(doc);
    if (!text)
        return;
    json_error_t err;
    json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    const char *t = json_string_value(json_object_get(json_object_get(back, "properties"), "title"));
    if (!back || !t || strcmp(t, s) != 0)
        fail("an accepted string does not read back from the response written", name);
    json_decref(back);
    free(text);
}

/* mapd_field_string_or_reply on obj[name] (obj is the handler's own body:
 * it may be trimmed), against the contract of http.h. */
static void check_string(json_t *obj, const char *name, unsigned flags, size_t max)
{
    json_t *v = json_object_get(obj, name);
    int required = (flags & MAPD_FIELD_REQUIRED) != 0, multiline = (flags & MAPD_FIELD_MULTILINE) != 0;
    /* the model, on the value before the reader sees it */
    int want;
    size_t start = 0, end = 0;
    if (!v || json_is_null(v)) {
        want = !required;
    } else if (!json_is_string(v) || json_string_length(v) > max
               || strlen(json_string_value(v)) != json_string_length(v)) {
        want = 0;
    } else {
        const unsigned char *s = (const unsigned char *)json_string_value(v);
        size_t len = json_string_length(v);
        want = 1;
        for (size_t i = 0; i < len; i++)
            if ((s[i] < 0x20 && !(multiline && (s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))) || s[i] == 0x7f)
                want = 0;
        end = len;
        if (flags & MAPD_FIELD_TRIM) {
            while (start < end && isspace(s[start]))
                start++;
            while (end > start && isspace(s[end - 1]))
                end--;
        }
        if (want && required && end == start)
            want = 0;
    }
    char *expect = v && json_is_string(v) ? strndup(json_string_value(v) + start, end - start) : NULL;

    mapd_ctx ctx = { 0 };
    const char *out = (const char *)&ctx;    /* must be overwritten */
    fuzz_problems_reset();
    int rc = mapd_field_string_or_reply(&ctx, obj, name, flags, max, &out);
    const fuzz_problems *p = &fuzz_problems_seen;
    if (rc != 0 && rc != -1)
        fail("mapd_field_string_or_reply returned neither 0 nor -1", name);
    if ((rc == 0 && p->count != 0) || (rc == -1 && p->count != 1) || !p->detail_ok)
        fail("mapd_field_string_or_reply: not 0 alone or -1 after one problem", name);
    if (rc == -1 && p->geodata_code == GEODATA_ENOMEM) {
        free(expect);
        return;                              /* out of memory while trimming */
    }
    if (rc == -1 && p->status != MHD_HTTP_UNPROCESSABLE_CONTENT)
        fail("mapd_field_string_or_reply refused with another status than 422", name);
    if ((rc == 0) != want)
        fail(want ? "mapd_field_string_or_reply refused a valid string"
                  : "mapd_field_string_or_reply accepted an invalid value", name);
    if (rc == -1) {
        if (out != NULL)
            fail("mapd_field_string_or_reply refused but left *out set", name);
        free(expect);
        return;
    }
    if (!v || json_is_null(v)) {
        if (out != NULL)
            fail("mapd_field_string_or_reply gave a string for an absent member", name);
        free(expect);
        return;
    }
    json_t *now = json_object_get(obj, name);
    size_t len = out ? strlen(out) : 0;
    if (!out || !expect || out != json_string_value(now) || len != json_string_length(now)
        || strcmp(out, expect) != 0)
        fail("mapd_field_string_or_reply handed out another string than the member's", name);
    if (len > max || (required && len == 0) || !utf8_valid((const unsigned char *)out, len))
        fail("mapd_field_string_or_reply handed out a string out of its contract", name);
    free(expect);
    validators(out, name);
    serialise(out, name);
}

static void check_int(json_t *obj, const char *name, unsigned flags, long lo, long hi)
{
    json_t *v = json_object_get(obj, name);
    int absent = !v || json_is_null(v);
    int want = (absent && !(flags & MAPD_FIELD_REQUIRED))
               || (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi);
    mapd_ctx ctx = { 0 };
    long out = LONG_MIN + 1;
    fuzz_problems_reset();
    int rc = mapd_field_int_or_reply(&ctx, obj, name, flags, lo, hi, 7, &out);
    const fuzz_problems *p = &fuzz_problems_seen;
    if ((rc == 0) != want || (rc != 0 && rc != -1))
        fail("mapd_field_int_or_reply disagrees with its contract", name);
    if ((rc == 0 && p->count) || (rc == -1 && (p->count != 1 || p->status != MHD_HTTP_UNPROCESSABLE_CONTENT)))
        fail("mapd_field_int_or_reply: not 0 alone or -1 after one 422", name);
    if (rc == 0 && (absent ? out != 7 : (out < lo || out > hi || out != json_integer_value(v))))
        fail("mapd_field_int_or_reply handed out another value", name);
}

static void check_bool(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    int absent = !v || json_is_null(v);
    mapd_ctx ctx = { 0 };
    int out = 5;
    fuzz_problems_reset();
    int rc = mapd_field_bool_or_reply(&ctx, obj, name, &out);
    int want = absent || json_is_boolean(v);
    if ((rc == 0) != want || (rc != 0 && rc != -1) || (rc == 0) != (fuzz_problems_seen.count == 0))
        fail("mapd_field_bool_or_reply disagrees with its contract", name);
    if (rc == 0 && out != (absent ? -1 : json_is_true(v)))
        fail("mapd_field_bool_or_reply handed out another value", name);
}

/* Every reader on obj[name], each on a copy of the body as a handler has
 * its own (MAPD_FIELD_TRIM changes it). */
static void read_member(json_t *body, const char *name)
{
    static const unsigned string_flags[] = {
        MAPD_FIELD_OPTIONAL, MAPD_FIELD_REQUIRED, MAPD_FIELD_MULTILINE,
        MAPD_FIELD_REQUIRED | MAPD_FIELD_TRIM, MAPD_FIELD_MULTILINE | MAPD_FIELD_TRIM,
    };
    static const size_t maxes[] = { 16, GEODATA_TITLE_MAX, GEODATA_BODY_MAX };
    for (size_t f = 0; f < sizeof string_flags / sizeof *string_flags; f++)
        for (size_t m = 0; m < sizeof maxes / sizeof *maxes; m++) {
            json_t *copy = json_deep_copy(body);
            if (!copy)
                return;
            check_string(copy, name, string_flags[f], maxes[m]);
            json_decref(copy);
        }
    static const struct { long lo, hi; } ranges[] = { { 1, 1000 }, { 0, 100000 }, { 1, LONG_MAX } };
    for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++) {
        check_int(body, name, MAPD_FIELD_OPTIONAL, ranges[r].lo, ranges[r].hi);
        check_int(body, name, MAPD_FIELD_REQUIRED, ranges[r].lo, ranges[r].hi);
    }
    check_bool(body, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t err;
    /* as mapd_json_body_or_reply: the body is NUL-terminated, its length given */
    char *body = malloc(size + 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    json_t *o = json_loadb(body, size, JSON_REJECT_DUPLICATES, &err);
    if (!o) {
        /* the 400 quotes err.text and err.position */
        if (!memchr(err.text, '\0', sizeof err.text) || err.position < 0 || (size_t)err.position > size)
            fail("json_loadb's error is out of bounds", NULL);
        free(body);
        return 0;
    }
    /* any document mapd parses reads back to itself once written compactly */
    char *text = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text) {
        json_t *again = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
        if (!again || !json_equal(o, again))
            fail("a parsed body does not read back from its own dump", NULL);
        json_decref(again);
        free(text);
    }
    if (json_is_object(o)) {
        const char *key;
        json_t *value;
        size_t n = 0;
        json_object_foreach(o, key, value) {
            if (n++ == MAX_KEYS)
                break;
            read_member(o, key);
        }
        read_member(o, "absent member");
    }
    json_decref(o);
    free(body);
    return 0;
}
