/*
 * geodata/domain/alert_times.c — the local time of alerts (subscriptions.h):
 * quiet hours and the digest's hour are written in local time, Central
 * European Time with the EU's summer time.
 *
 * Why by hand: the C library converts through the process's TZ, one for
 * the whole process and not thread-safe to change; the rule itself is two
 * dates a year, fixed by EU law since 1996. Nothing here reads the clock
 * or the environment: every function is pure, so the sender and the tests
 * agree on every instant.
 */
#include <stdint.h>

#include "geodata/dates.h"
#include "geodata/subscriptions.h"

#define HOUR_S 3600

/* Floor division for possibly negative n. */
static int64_t floor_div(int64_t n, int64_t d)
{
    int64_t q = n / d;
    return (n % d != 0 && (n < 0) != (d < 0)) ? q - 1 : q;
}

/* The Unix time of 01:00 UTC on the last Sunday of month m (March or
 * October) of year y. */
static int64_t last_sunday_1utc(int64_t y, unsigned m)
{
    int64_t day = geodata_days_from_civil(y, m, 31);
    int64_t weekday = ((day % 7) + 7 + 4) % 7;      /* 1970-01-01 was a Thursday (4); 0 Sunday */
    return (day - weekday) * GEODATA_DAY_S + HOUR_S;
}

/* The civil year of day (days since 1970-01-01). */
static int64_t year_of_day(int64_t day)
{
    /* Howard Hinnant's civil_from_days, year only. */
    int64_t z = day + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    return yoe + era * 400 + (month <= 2);
}

int64_t geodata_local_offset(int64_t t)
{
    int64_t y = year_of_day(floor_div(t, GEODATA_DAY_S));
    return (t >= last_sunday_1utc(y, 3) && t < last_sunday_1utc(y, 10)) ? 2 * HOUR_S : HOUR_S;
}

int geodata_local_minute(int64_t t)
{
    int64_t local = t + geodata_local_offset(t);
    return (int)((local - floor_div(local, GEODATA_DAY_S) * GEODATA_DAY_S) / 60);
}

int64_t geodata_local_next(int64_t t, int minute)
{
    int64_t off = geodata_local_offset(t);
    int64_t local = t + off;
    int64_t midnight = floor_div(local, GEODATA_DAY_S) * GEODATA_DAY_S;
    /* Today's and the next two days' occurrences, in UTC with the offset of
     * each: the first at or after t. A change of offset moves one by an
     * hour at most, so one of the three is it. */
    for (int day = 0; day < 3; day++) {
        int64_t cand_local = midnight + (int64_t)day * GEODATA_DAY_S + (int64_t)minute * 60;
        int64_t cand = cand_local - geodata_local_offset(cand_local - off);
        if (cand >= t)
            return cand;
    }
    return t + GEODATA_DAY_S; /* unreachable for minute in 0..1439 */
}

int geodata_quiet_at(int64_t t, int start, int end)
{
    if (start < 0 || end < 0 || start == end)
        return 0;
    int m = geodata_local_minute(t);
    return start < end ? (m >= start && m < end) : (m >= start || m < end);
}

int64_t geodata_quiet_after(int64_t t, int start, int end)
{
    return geodata_quiet_at(t, start, end) ? geodata_local_next(t, end) : t;
}

int geodata_hhmm_parse(const char *s, int *minutes)
{
    if (!s)
        return 0;
    for (int i = 0; i < 5; i++)
        if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
            return 0;
    if (s[5])
        return 0;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return 0;
    *minutes = h * 60 + m;
    return 1;
}
