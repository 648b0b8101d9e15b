/*
 * geodata/store/schema_pg.h — the store's schema on PostgreSQL + PostGIS
 * (schema_pg.c explains it). Internal to the library.
 */
#ifndef GEODATA_SCHEMA_PG_H
#define GEODATA_SCHEMA_PG_H

/* The SQLite store's schema version (schema.c's N_MIGRATIONS) that
 * geodata_pg_schema reproduces; its table geodata_schema holds it. */
#define GEODATA_PG_BASE_VERSION 13

/* The PostgreSQL schema at version GEODATA_PG_BASE_VERSION (== the SQLite
 * store's N_MIGRATIONS today), as one SQL text run in one transaction: no
 * BEGIN or COMMIT inside, so that PQexec runs it as one implicit transaction
 * and `psql --single-transaction` as one explicit one. It creates the
 * extensions postgis, citext and unaccent if absent (postgis needs a
 * superuser, or a database where it already exists). Static storage. */
extern const char geodata_pg_schema[];

#endif
