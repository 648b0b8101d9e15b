/*
 * mapd/cli.h — the subcommands of the mapd executable and their shared
 * conventions: exit 0 on success, 1 with one line on stderr when the command
 * failed, 2 on a usage error.
 */
#ifndef MAPD_CLI_H
#define MAPD_CLI_H

#include "geodata/store.h"

#define MAPD_EXIT_OK    0
#define MAPD_EXIT_FAIL  1
#define MAPD_EXIT_USAGE 2

/* Each takes the arguments after its own name (argv[0] is the command name). */
int mapd_cmd_import(int argc, char **argv);
int mapd_cmd_stats(int argc, char **argv);
int mapd_cmd_geocode(int argc, char **argv);
int mapd_cmd_user(int argc, char **argv);
int mapd_cmd_seed(int argc, char **argv);
int mapd_cmd_backup(int argc, char **argv);
int mapd_cmd_export(int argc, char **argv);
int mapd_cmd_tile(int argc, char **argv);
int mapd_cmd_serve(int argc, char **argv);

/* Prints "mapd: <message>" on stderr and returns code, so commands can
 * `return mapd_fail(MAPD_EXIT_FAIL, "...")`. */
int mapd_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the store at db with geodata_store_open's flags; NULL after
 * printing the reason (the command then exits MAPD_EXIT_FAIL). */
geodata_store *mapd_store_or_fail(const char *db, unsigned flags);

#endif
