/*
 * tests/fuzz/fuzz_normalize.c — address normalisation on any bytes: valid
 * UTF-8 or not, any length. It must return 0 or -1 and produce tokens that
 * are NUL-terminated inside the token buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static geodata_tokens t;
    int rc = geodata_normalize((const char *)data, size, &t);
    if (rc != 0 && rc != -1)
        abort();
    for (size_t i = 0; rc == 0 && i < t.n; i++) {
        const char *s = t.tok[i].text;
        if (s < t.buf || s + t.tok[i].len >= t.buf + sizeof t.buf || s[t.tok[i].len] != '\0')
            abort();
    }
    char rep[16];
    char small[32];
    size_t k = size < sizeof small - 1 ? size : sizeof small - 1;
    memcpy(small, data, k);
    small[k] = '\0';
    geodata_normalize_rep(small, rep, sizeof rep);
    if (strlen(rep) >= sizeof rep)
        abort();
    return 0;
}
