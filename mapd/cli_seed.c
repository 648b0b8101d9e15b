/*
 * mapd/cli_seed.c — `mapd seed`: example members, posts, makers and shop
 * statuses, plus four demonstration accounts whose password is printed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "password.h"
#include "geodata/seed.h"

#define DEMO_PASSWORD "entraide-demo"

int mapd_cmd_seed(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "posts", required_argument, NULL, 'p' },
        { "seed", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = NULL;
    long posts = 200;
    unsigned long long seed = 2020;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;
        errno = 0;
        switch (c) {
        case 'd': db = optarg; break;
        case 'p':
            posts = strtol(optarg, &end, 10);
            if (*end || errno || posts < 0 || posts > 10000000)
                return mapd_fail(MAPD_EXIT_USAGE, "--posts wants 0 to 10000000, not '%s'", optarg);
            break;
        case 's':
            seed = strtoull(optarg, &end, 10);
            if (*end || errno)
                return mapd_fail(MAPD_EXIT_USAGE, "--seed wants a number, not '%s'", optarg);
            break;
        default: return MAPD_EXIT_USAGE;
        }
    }
    if (!db || optind != argc)
        return mapd_fail(MAPD_EXIT_USAGE, "usage: mapd seed --db DB [--posts N] [--seed S]");
    if (sodium_init() < 0)
        return mapd_fail(MAPD_EXIT_FAIL, "cannot initialise libsodium");
    char hash[crypto_pwhash_STRBYTES];
    if (mapd_hash_password(DEMO_PASSWORD, hash, sizeof hash))
        return mapd_fail(MAPD_EXIT_FAIL, "seed: cannot hash the demonstration password");
    const geodata_seed_account accounts[] = {
        { "benevole@entraide.example", hash, "Bénévole (démo)", "member" },
        { "voisine@entraide.example", hash, "Voisine (démo)", "member" },
        { "commerce@entraide.example", hash, "Commerce (démo)", "shop" },
        { "moderation@entraide.example", hash, "Modération (démo)", "staff" },
    };
    geodata_store *store = mapd_store_or_fail(db, 0);
    if (!store)
        return MAPD_EXIT_FAIL;
    geodata_seed_report r;
    int rc = geodata_seed(store, (size_t)posts, seed, (int64_t)time(NULL), accounts,
                          sizeof accounts / sizeof accounts[0], &r);
    if (rc) {
        mapd_fail(MAPD_EXIT_FAIL, "seed: %s", geodata_errmsg(store));
        geodata_store_close(store);
        return MAPD_EXIT_FAIL;
    }
    geodata_store_close(store);
    printf("seeded %zu members, %zu posts, %zu mask makers, %zu shop statuses\n", r.members,
           r.posts, r.makers, r.shops);
    printf("demonstration accounts (password \"%s\"):\n", DEMO_PASSWORD);
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++)
        printf("  %-30s %s\n", accounts[i].email, accounts[i].role);
    return MAPD_EXIT_OK;
}
