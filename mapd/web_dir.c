/*
 * mapd/web_dir.c — the web map's default directory, found from the path of
 * the executable rather than from a path fixed at build time: an installed
 * tree still finds its web map when it is moved (or installed with DESTDIR
 * and copied), and a build tree serves its own build of web/.
 *
 * The installed candidate, MAPD_WEB_FROM_BIN, is where web/CMakeLists.txt
 * installs the site, relative to where mapd/CMakeLists.txt installs the
 * executable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web_dir.h"

/* BASE/NAME into buf (PATH_MAX bytes); 0 when it does not fit. */
static int join(char buf[PATH_MAX], const char *base, const char *name)
{
    int n = snprintf(buf, PATH_MAX, "%s/%s", base, name);
    return n >= 0 && n < PATH_MAX;
}

/* 1 when BASE/NAME exists, whatever its type. */
static int exists(const char *base, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    return join(p, base, name) && stat(p, &st) == 0;
}

/* 1 when BASE/NAME is a directory holding index.html; its real path in real. */
static int site_at(const char *base, const char *name, char real[PATH_MAX])
{
    char p[PATH_MAX];
    struct stat st;
    return join(p, base, name) && realpath(p, real) && stat(real, &st) == 0
        && S_ISDIR(st.st_mode) && exists(real, "index.html");
}

int mapd_web_dir_default(char dir[PATH_MAX])
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe);
    dir[0] = '\0';
    if (n <= 0 || (size_t)n >= sizeof exe)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');   /* the kernel gives an absolute path */
    if (!slash)
        return -1;
    *slash = '\0';                     /* exe is now EXE_DIR ("" for "/") */

    if (site_at(exe, MAPD_WEB_FROM_BIN, dir))
        return 0;
    if (exists(exe, "../CMakeCache.txt") && site_at(exe, "../web", dir))
        return 0;
    memcpy(dir, exe, strlen(exe) + 1); /* both PATH_MAX: it fits */
    return -1;
}
