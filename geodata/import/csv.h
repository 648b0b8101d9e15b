/*
 * geodata/import/csv.h — a line reader for delimited text, plain or gzip, and an
 * in-place field splitter (internal).
 */
#ifndef GEODATA_CSV_H
#define GEODATA_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define GEODATA_CSV_MAX_LINE (1u << 20)   /* a longer line is an error, not a cut */

typedef struct geodata_csv {
    gzFile gz;
    char *buf;            /* read buffer; lines are handed out from it */
    size_t cap;           /* allocated size of buf */
    size_t len;           /* bytes of buf that hold data */
    size_t pos;           /* start of the next line in buf */
    uint64_t line;        /* number of the line last returned, from 1 */
    uint64_t file_size;   /* on-disk size, for progress */
    int eof;
} geodata_csv;

/* Opens path (gzip or plain; zlib tells them apart). On failure returns
 * a negative code and writes the reason into why (of size n). */
int geodata_csv_open(geodata_csv *csv, const char *path, char *why, size_t n);
void geodata_csv_close(geodata_csv *csv);

/* Next line, NUL-terminated, without its "\n" or "\r\n"; valid until the next
 * call. Returns 1 with a line, 0 at the end, negative on a read error or a
 * line over GEODATA_CSV_MAX_LINE (reason in why). */
int geodata_csv_next(geodata_csv *csv, char **line, char *why, size_t n);

/* Bytes of the file consumed so far (compressed bytes for gzip). */
uint64_t geodata_csv_offset(geodata_csv *csv);

/* Splits line in place at sep, honouring "double-quoted" fields with ""
 * escapes. Stores at most max field pointers and returns the number of
 * fields found, which may be larger than max. */
int geodata_csv_split(char *line, char sep, char **fields, int max);

#endif
