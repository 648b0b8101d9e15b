/*
 * tests/fuzz/fuzz_opening_hours.c — the opening_hours checker on any bytes:
 * 0 or -3, and an error offset inside the value; and the reader of hours
 * written in plain words: 0 with a valid OSM value, or -3 with nothing
 * written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/opening_hours.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    geodata_oh_error e;
    int rc = geodata_opening_hours_check(s, &e);
    size_t len = strlen(s);
    if (rc != 0 && (rc != -3 || (len && e.offset >= len && e.offset != 0) || !e.message[0]))
        abort();
    char out[GEODATA_OH_MAX_LEN + 1];
    rc = geodata_opening_hours_from_text(s, out, sizeof out, &e);
    if (rc == 0 ? geodata_opening_hours_check(out, NULL) != 0 : (rc != -3 || out[0] != '\0'))
        abort();
    free(s);
    return 0;
}
