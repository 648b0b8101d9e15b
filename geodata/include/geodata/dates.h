/*
 * geodata/dates.h — dates and times as people and standards write them, read
 * into Unix seconds (UTC) without the process's time zone. One reader for
 * every place that takes a date from outside: exports, statistics, OGC API
 * datetime.
 */
#ifndef GEODATA_DATES_H
#define GEODATA_DATES_H

#include <stddef.h>
#include <stdint.h>

#define GEODATA_DAY_S 86400

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (negative before
 * 1970). m is 1 to 12, d 1 to 31; not checked. */
int64_t geodata_days_from_civil(int64_t y, unsigned m, unsigned d);

/*
 * Reads the n bytes of s as a time: either a full date, YYYY-MM-DD (a UTC
 * day: its first second, or with end set its last second, so that "until
 * 2026-12-07" includes that day), or an RFC 3339 date-time
 * (2026-12-07T10:30:00Z, 2026-12-07T11:30:00+01:00; 't' and 'z' in lower
 * case too; a fraction of a second is cut toward the start, or with end set
 * rounded up; a leap second reads as :59). Years 0001 to 9999. 1 with *t set,
 * 0 when s is neither (*t untouched). Work: one pass over s.
 */
int geodata_time_parse(const char *s, size_t n, int end, int64_t *t);

/* Reads s (NUL-terminated) as a full date, YYYY-MM-DD only: 1 with *day the
 * Unix seconds of its 00:00 UTC, else 0. */
int geodata_day_parse(const char *s, int64_t *day);

#endif
