/*
 * geodata/store/dates.c — dates and times read into Unix seconds (see dates.h).
 *
 * Written by hand rather than with strptime()/timegm(): strptime accepts
 * more than RFC 3339 (spaces, missing fields, out-of-range values it folds
 * into the next month) and neither reads a numeric offset portably. Every
 * field is checked here, the day against its month and leap years.
 */
#include "geodata/dates.h"

int64_t geodata_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil: years start in March, so that the
     * leap day is the last of its year. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The value of the k digits at s, or -1 when one is not a digit. */
static int number(const char *s, int k)
{
    int v = 0;
    for (int i = 0; i < k; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* The first 10 bytes of s as YYYY-MM-DD: 1 with *day (seconds), else 0. */
static int full_date(const char *s, int64_t *day)
{
    int y = number(s, 4), m = number(s + 5, 2), d = number(s + 8, 2);
    if (y < 1 || s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    *day = geodata_days_from_civil(y, (unsigned)m, (unsigned)d) * GEODATA_DAY_S;
    return 1;
}

int geodata_day_parse(const char *s, int64_t *day)
{
    for (int i = 0; i < 10; i++)
        if (!s[i])
            return 0;
    return s[10] == '\0' && full_date(s, day);
}

int geodata_time_parse(const char *s, size_t n, int end, int64_t *t)
{
    int64_t day;
    if (n < 10 || !full_date(s, &day))
        return 0;
    if (n == 10) {
        *t = day + (end ? GEODATA_DAY_S - 1 : 0);
        return 1;
    }
    /* T hh:mm:ss, then an optional fraction, then Z or ±hh:mm */
    if (n < 20 || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return 0;
    int h = number(s + 11, 2), mi = number(s + 14, 2), sec = number(s + 17, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return 0;
    size_t i = 19;
    int fraction = 0;
    if (s[i] == '.') {
        size_t first = ++i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            fraction |= s[i] != '0';
        if (i == first)
            return 0;
    }
    int64_t offset = 0;
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
        /* UTC */
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh = number(s + i + 1, 2), om = number(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return 0;
        offset = (s[i] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
    } else {
        return 0;
    }
    *t = day + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec) - offset + (end && fraction ? 1 : 0);
    return 1;
}
