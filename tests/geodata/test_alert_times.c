/*
 * tests/geodata/test_alert_times.c — the local time of alerts
 * (geodata/domain/alert_times.c): the offset of Paris time on both sides of
 * each change (last Sundays of March and October, 01:00 UTC), the digest's
 * next hour across a change, quiet hours that wrap midnight and their end,
 * and "HH:MM" as members write it. Every expected instant is written out
 * from the calendar, not computed by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "geodata/dates.h"
#include "geodata/subscriptions.h"

/* Unix time of y-m-d h:mi:s UTC. */
static int64_t utc(int y, unsigned m, unsigned d, int h, int mi, int s)
{
    return geodata_days_from_civil(y, m, d) * GEODATA_DAY_S + h * 3600 + mi * 60 + s;
}

static void test_offset(void **state)
{
    (void)state;
    assert_int_equal(geodata_local_offset(utc(2026, 1, 15, 12, 0, 0)), 3600);
    assert_int_equal(geodata_local_offset(utc(2026, 7, 15, 12, 0, 0)), 7200);
    /* 2026: summer time from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC */
    assert_int_equal(geodata_local_offset(utc(2026, 3, 29, 0, 59, 59)), 3600);
    assert_int_equal(geodata_local_offset(utc(2026, 3, 29, 1, 0, 0)), 7200);
    assert_int_equal(geodata_local_offset(utc(2026, 10, 25, 0, 59, 59)), 7200);
    assert_int_equal(geodata_local_offset(utc(2026, 10, 25, 1, 0, 0)), 3600);
    /* 2024 (a leap year): 31 March and 27 October */
    assert_int_equal(geodata_local_offset(utc(2024, 3, 31, 0, 59, 59)), 3600);
    assert_int_equal(geodata_local_offset(utc(2024, 3, 31, 1, 0, 0)), 7200);
    assert_int_equal(geodata_local_offset(utc(2024, 10, 27, 1, 0, 0)), 3600);
    assert_int_equal(geodata_local_offset(utc(2024, 3, 24, 12, 0, 0)), 3600);
    /* New Year's night; and 2100, not a leap year: 28 March and 31 October */
    assert_int_equal(geodata_local_offset(utc(2025, 12, 31, 23, 30, 0)), 3600);
    assert_int_equal(geodata_local_offset(utc(2100, 3, 28, 0, 59, 59)), 3600);
    assert_int_equal(geodata_local_offset(utc(2100, 3, 28, 1, 0, 0)), 7200);
    assert_int_equal(geodata_local_offset(utc(2100, 10, 31, 0, 59, 59)), 7200);
    assert_int_equal(geodata_local_offset(utc(2100, 10, 31, 1, 0, 0)), 3600);
}

static void test_minute(void **state)
{
    (void)state;
    assert_int_equal(geodata_local_minute(utc(2026, 7, 1, 12, 0, 0)), 14 * 60);
    assert_int_equal(geodata_local_minute(utc(2026, 12, 7, 23, 30, 0)), 30);  /* 00:30 the 8th */
    assert_int_equal(geodata_local_minute(utc(2026, 12, 7, 22, 59, 59)), 23 * 60 + 59);
}

static void test_next(void **state)
{
    (void)state;
    int six = 18 * 60;
    /* winter: 18:00 local is 17:00 UTC */
    assert_int_equal(geodata_local_next(utc(2026, 12, 7, 10, 0, 0), six), utc(2026, 12, 7, 17, 0, 0));
    assert_int_equal(geodata_local_next(utc(2026, 12, 7, 17, 0, 0), six), utc(2026, 12, 7, 17, 0, 0));
    assert_int_equal(geodata_local_next(utc(2026, 12, 7, 17, 0, 1), six), utc(2026, 12, 8, 17, 0, 0));
    /* summer: 16:00 UTC */
    assert_int_equal(geodata_local_next(utc(2026, 7, 1, 16, 30, 0), six), utc(2026, 7, 2, 16, 0, 0));
    /* across the change of March: asked on the Saturday evening, it is Sunday's 18:00 CEST */
    assert_int_equal(geodata_local_next(utc(2026, 3, 28, 18, 0, 0), six), utc(2026, 3, 29, 16, 0, 0));
    /* and of October: Sunday's 18:00 CET */
    assert_int_equal(geodata_local_next(utc(2026, 10, 24, 17, 0, 0), six), utc(2026, 10, 25, 17, 0, 0));
    /* midnight local */
    assert_int_equal(geodata_local_next(utc(2026, 12, 7, 23, 30, 0), 0), utc(2026, 12, 8, 23, 0, 0));
    assert_int_equal(geodata_local_next(utc(2026, 12, 7, 22, 30, 0), 0), utc(2026, 12, 7, 23, 0, 0));
}

static void test_quiet(void **state)
{
    (void)state;
    int start = 22 * 60, end = 7 * 60;
    int64_t late = utc(2026, 12, 7, 22, 30, 0);   /* 23:30 local */
    int64_t early = utc(2026, 12, 8, 5, 0, 0);    /* 06:00 local */
    int64_t noon = utc(2026, 12, 8, 11, 0, 0);
    assert_true(geodata_quiet_at(late, start, end));
    assert_true(geodata_quiet_at(early, start, end));
    assert_false(geodata_quiet_at(noon, start, end));
    assert_false(geodata_quiet_at(utc(2026, 12, 8, 6, 0, 0), start, end)); /* 07:00 local: over */
    assert_true(geodata_quiet_at(utc(2026, 12, 7, 21, 0, 0), start, end)); /* 22:00 local: begun */
    assert_int_equal(geodata_quiet_after(late, start, end), utc(2026, 12, 8, 6, 0, 0));
    assert_int_equal(geodata_quiet_after(early, start, end), utc(2026, 12, 8, 6, 0, 0));
    assert_int_equal(geodata_quiet_after(noon, start, end), noon);
    /* within one day, and none */
    assert_true(geodata_quiet_at(noon, 11 * 60, 13 * 60));
    assert_int_equal(geodata_quiet_after(noon, 11 * 60, 13 * 60), utc(2026, 12, 8, 12, 0, 0));
    assert_false(geodata_quiet_at(noon, -1, -1));
    assert_int_equal(geodata_quiet_after(noon, -1, -1), noon);
}

static void test_hhmm(void **state)
{
    (void)state;
    int m = -1;
    assert_true(geodata_hhmm_parse("07:30", &m));
    assert_int_equal(m, 450);
    assert_true(geodata_hhmm_parse("00:00", &m));
    assert_int_equal(m, 0);
    assert_true(geodata_hhmm_parse("23:59", &m));
    assert_int_equal(m, 1439);
    static const char *const bad[] = { "7:30", "24:00", "07:60", "07:300", "07-30", "", " 07:30",
                                       "07:3", "ab:cd", "07:30 " };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(geodata_hhmm_parse(bad[i], &m));
    assert_false(geodata_hhmm_parse(NULL, &m));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offset),
        cmocka_unit_test(test_minute),
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_hhmm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
