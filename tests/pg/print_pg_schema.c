/*
 * tests/pg/print_pg_schema.c — prints the store's PostgreSQL schema
 * (geodata_pg_schema) on stdout, for psql; with --version, its version
 * (GEODATA_PG_BASE_VERSION) alone.
 */
#include <stdio.h>
#include <string.h>

#include "schema_pg.h"

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0)
        return printf("%d\n", GEODATA_PG_BASE_VERSION) < 0;
    if (argc != 1) {
        fprintf(stderr, "usage: print_pg_schema [--version]\n");
        return 2;
    }
    return fputs(geodata_pg_schema, stdout) == EOF || putchar('\n') == EOF || fflush(stdout) != 0;
}
