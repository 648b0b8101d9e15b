/*
 * geodata/import/csv.c — delimited text, plain or gzip (see csv.h).
 *
 * The reader keeps one buffer that grows to hold the longest line (up to
 * GEODATA_CSV_MAX_LINE) and hands out lines in place, so reading costs one
 * copy from zlib and one scan for the newline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "geodata/store.h"

int geodata_csv_open(geodata_csv *csv, const char *path, char *why, size_t n)
{
    memset(csv, 0, sizeof *csv);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, n, "%s: %s", path, strerror(errno));
        return GEODATA_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, n, "%s: not a regular file", path);
        return GEODATA_EIO;
    }
    csv->file_size = (uint64_t)st.st_size;
    csv->gz = gzopen(path, "rb");
    csv->cap = 1u << 18;
    csv->buf = malloc(csv->cap + 1);
    if (!csv->gz || !csv->buf) {
        snprintf(why, n, "%s: %s", path, csv->gz ? "out of memory" : strerror(errno));
        geodata_csv_close(csv);
        return csv->gz ? GEODATA_ENOMEM : GEODATA_EIO;
    }
    gzbuffer(csv->gz, 1u << 17);
    return GEODATA_OK;
}

void geodata_csv_close(geodata_csv *csv)
{
    if (csv->gz)
        gzclose(csv->gz);
    free(csv->buf);
    memset(csv, 0, sizeof *csv);
}

uint64_t geodata_csv_offset(geodata_csv *csv)
{
    z_off_t off = gzoffset(csv->gz);
    return off > 0 ? (uint64_t)off : 0;
}

/* Moves the unread tail to the front and reads more; grows the buffer when a
 * line fills it. Returns bytes read, 0 at the end, or negative on error. */
static int refill(geodata_csv *csv, char *why, size_t n)
{
    size_t tail = csv->len - csv->pos;
    memmove(csv->buf, csv->buf + csv->pos, tail);
    csv->len = tail;
    csv->pos = 0;
    if (csv->len == csv->cap) {
        if (csv->cap >= GEODATA_CSV_MAX_LINE) {
            snprintf(why, n, "line %llu is longer than %u bytes",
                     (unsigned long long)csv->line + 1, GEODATA_CSV_MAX_LINE);
            return GEODATA_EINVAL;
        }
        char *b = realloc(csv->buf, csv->cap * 2 + 1);
        if (!b) {
            snprintf(why, n, "out of memory");
            return GEODATA_ENOMEM;
        }
        csv->buf = b;
        csv->cap *= 2;
    }
    int got = gzread(csv->gz, csv->buf + csv->len, (unsigned)(csv->cap - csv->len));
    if (got < 0) {
        int zerr;
        const char *msg = gzerror(csv->gz, &zerr);
        snprintf(why, n, "read error near line %llu: %s", (unsigned long long)csv->line + 1,
                 zerr == Z_ERRNO ? strerror(errno) : msg);
        return GEODATA_EIO;
    }
    if (got == 0) {
        int zerr;
        const char *msg = gzerror(csv->gz, &zerr);
        if (zerr != Z_OK) {
            snprintf(why, n, "corrupt or truncated compressed data: %s", msg);
            return GEODATA_EIO;
        }
        csv->eof = 1;
    }
    csv->len += (size_t)got;
    return got;
}

int geodata_csv_next(geodata_csv *csv, char **line, char *why, size_t n)
{
    for (;;) {
        char *start = csv->buf + csv->pos;
        char *nl = memchr(start, '\n', csv->len - csv->pos);
        if (!nl && csv->eof) {
            if (csv->pos == csv->len)
                return 0;
            nl = csv->buf + csv->len;  /* last line without a newline */
        }
        if (nl) {
            size_t len = (size_t)(nl - start);
            if (len && start[len - 1] == '\r')
                len--;
            start[len] = '\0';
            csv->pos = (size_t)(nl - csv->buf) + (nl < csv->buf + csv->len ? 1 : 0);
            csv->line++;
            *line = start;
            return 1;
        }
        int rc = refill(csv, why, n);
        if (rc < 0)
            return rc;
    }
}

int geodata_csv_split(char *line, char sep, char **fields, int max)
{
    int count = 0;
    char *p = line;
    for (;;) {
        char *field = p;
        if (*p == '"') {
            /* Quoted: unescape "" in place up to the closing quote. */
            char *w = p;
            field = w;
            p++;
            while (*p) {
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            char *end = w;
            while (*p && *p != sep)
                p++; /* anything after the closing quote is ignored */
            if (count < max)
                fields[count] = field;
            count++;
            char c = *p;
            *end = '\0';
            if (!c)
                return count;
            p++;
            continue;
        }
        while (*p && *p != sep)
            p++;
        if (count < max)
            fields[count] = field;
        count++;
        if (!*p)
            return count;
        *p++ = '\0';
    }
}
