/*
 * tests/fuzz/fuzz_city.h — what the fuzz targets that need a store share: a
 * temporary directory removed at exit with its files, and the second test
 * city's files (tests/fixtures/secondcity) imported into a store
 * (fuzz_city.c). Every failure aborts, naming the target.
 */
#ifndef FUZZ_CITY_H
#define FUZZ_CITY_H

#include "geodata/import.h"
#include "geodata/store.h"

typedef int (*fuzz_import_fn)(geodata_store *, const char *, const geodata_import_options *,
                              geodata_report *);

/* Prints "TARGET: what: detail" on stderr and aborts. */
void fuzz_fail(const char *target, const char *what, const char *detail);

/* A new directory TMPDIR/TARGET.XXXXXX (TMPDIR or /tmp) into dir (256
 * bytes), removed with every file in it at exit, after before_remove (may
 * be NULL) has run: a store must be closed first. */
void fuzz_city_tmpdir(const char *target, char dir[256], void (*before_remove)(void));

/* The fixture file name of the second test city imported into s by fn. */
void fuzz_city_import(const char *target, geodata_store *s, const char *name, fuzz_import_fn fn);

#endif
