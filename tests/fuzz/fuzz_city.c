/*
 * tests/fuzz/fuzz_city.c — the temporary directory and the test city's
 * imports of the fuzz targets that need a store (fuzz_city.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_city.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR must name tests/fixtures/secondcity"
#endif

static char *removed;                 /* the directory to remove at exit */
static void (*first)(void);           /* what runs before */

void fuzz_fail(const char *target, const char *what, const char *detail)
{
    fprintf(stderr, "%s: %s%s%s\n", target, what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void remove_tree(void)
{
    if (first)
        first();
    if (!removed || !removed[0])
        return;
    DIR *d = opendir(removed);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[600];
            snprintf(path, sizeof path, "%s/%s", removed, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(removed);
    removed[0] = '\0';
}

void fuzz_city_tmpdir(const char *target, char dir[256], void (*before_remove)(void))
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, 256, "%s/%s.XXXXXX", base && *base ? base : "/tmp", target);
    if (!mkdtemp(dir))
        fuzz_fail(target, "cannot create a temporary directory", dir);
    removed = dir;
    first = before_remove;
    atexit(remove_tree);
}

void fuzz_city_import(const char *target, geodata_store *s, const char *name, fuzz_import_fn fn)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, name);
    geodata_report r;
    int rc = fn(s, path, NULL, &r);
    geodata_report_clear(&r);
    if (rc != GEODATA_OK)
        fuzz_fail(target, path, geodata_errmsg(s));
}
