/*
 * mapd/web_dir.h — where `mapd serve` finds the web map when --web is not
 * given: beside its own executable, installed or in a build tree.
 */
#ifndef MAPD_WEB_DIR_H
#define MAPD_WEB_DIR_H

#include <limits.h>

/* The installed web map's path relative to the executable's directory:
 * mapd/CMakeLists.txt computes it from the install directories (bin and
 * share/entraide/web by default); this is the default layout's. */
#ifndef MAPD_WEB_FROM_BIN
#define MAPD_WEB_FROM_BIN "../share/entraide/web"
#endif

/*
 * Looks for the web map beside the running executable (/proc/self/exe,
 * symlinks resolved), EXE_DIR being the directory that holds it:
 *   1. EXE_DIR/MAPD_WEB_FROM_BIN, the installed layout: <prefix>/bin/mapd
 *      serves <prefix>/share/entraide/web;
 *   2. EXE_DIR/../web, only when EXE_DIR/.. is a CMake build tree (it holds
 *      CMakeCache.txt): <build>/bin/mapd serves <build>/web.
 * The first candidate that is a directory holding index.html wins: its real
 * path is written to dir and 0 is returned. Otherwise -1, and dir holds
 * EXE_DIR for the message that says where nothing was found (empty when the
 * executable's path cannot be read). Work: one readlink(), at most two
 * realpath() calls and four stat() calls.
 */
int mapd_web_dir_default(char dir[PATH_MAX]);

#endif
