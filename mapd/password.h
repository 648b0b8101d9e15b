/*
 * mapd/password.h — hashing and checking passwords (argon2id through
 * libsodium), for the server and the command line alike: no HTTP here.
 */
#ifndef MAPD_PASSWORD_H
#define MAPD_PASSWORD_H

#include <stddef.h>

#define MAPD_PASSWORD_MIN 8     /* characters */
#define MAPD_PASSWORD_MAX 128   /* bytes */
#define MAPD_HASH_LEN 128       /* an argon2id hash in libsodium's string form */
/* Password work waiting for the hashing threads at most (server.c, pool.h):
 * beyond, a login or registration gets 503 at once rather than queue for
 * seconds. */
#define MAPD_HASH_QUEUE_MAX 64

/* Hashes password into out (n bytes, at least MAPD_HASH_LEN): 0, or -1
 * (out too small, or out of memory: argon2id takes 64 MiB). */
int mapd_hash_password(const char *password, char *out, size_t n);

/* 1 when password matches hash, else 0. */
int mapd_check_password(const char *hash, const char *password);

#endif
