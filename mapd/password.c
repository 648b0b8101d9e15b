/*
 * mapd/password.c — argon2id through libsodium's crypto_pwhash_str
 * (interactive limits: 2 passes, 64 MiB), which salts the hash and encodes
 * its parameters in the string it returns.
 */
#include <string.h>

#include <sodium.h>

#include "password.h"

int mapd_hash_password(const char *password, char *out, size_t n)
{
    if (n < crypto_pwhash_STRBYTES)
        return -1;
    return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

_Static_assert(MAPD_HASH_LEN == crypto_pwhash_STRBYTES, "MAPD_HASH_LEN is libsodium's hash string size");

int mapd_check_password(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}
