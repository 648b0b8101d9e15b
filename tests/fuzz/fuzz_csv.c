/*
 * tests/fuzz/fuzz_csv.c — the CSV field splitter on any line: the fields it
 * returns lie inside the line and are NUL-terminated, whatever the quotes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    size_t len = strlen(line);
    char *fields[16];
    for (int sep = 0; sep < 2; sep++) {
        char *copy = strdup(line);
        int n = geodata_csv_split(copy, sep ? ',' : ';', fields, 16);
        if (n < 1)
            abort();
        for (int i = 0; i < n && i < 16; i++)
            if (fields[i] < copy || fields[i] > copy + len || strlen(fields[i]) > len)
                abort();
        free(copy);
    }
    free(line);
    return 0;
}
