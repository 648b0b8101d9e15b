/*
 * mapd/cli_user.c — `mapd user add`: accounts made by an operator, such as
 * staff and admins, which cannot register themselves.
 *
 * The password is read from the first line of standard input with
 * --password-stdin; otherwise a random one is made and printed once. An
 * --address goes through the same verification as a registration.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "geocode_json.h"
#include "geodata/members.h"
#include "password.h"

static int read_password(char *out, size_t n)
{
    if (!fgets(out, (int)n, stdin))
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return strlen(out) >= MAPD_PASSWORD_MIN ? 0 : -1;
}

int mapd_cmd_user(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "email", required_argument, NULL, 'e' },
        { "role", required_argument, NULL, 'r' },
        { "address", required_argument, NULL, 'a' },
        { "name", required_argument, NULL, 'n' },
        { "password-stdin", no_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = NULL, *email = NULL, *role = NULL, *address = NULL, *name = NULL;
    int from_stdin = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'e': email = optarg; break;
        case 'r': role = optarg; break;
        case 'a': address = optarg; break;
        case 'n': name = optarg; break;
        case 'p': from_stdin = 1; break;
        default: return MAPD_EXIT_USAGE;
        }
    }
    if (argc - optind != 1 || strcmp(argv[optind], "add") != 0 || !db || !email || !role)
        return mapd_fail(MAPD_EXIT_USAGE, "usage: mapd user add --db DB --email E "
                         "--role member|shop|staff|admin [--address A] [--name N] [--password-stdin]");
    if (strcmp(role, "member") && strcmp(role, "shop") && strcmp(role, "staff") && strcmp(role, "admin"))
        return mapd_fail(MAPD_EXIT_USAGE, "--role is member, shop, staff or admin, not '%s'", role);
    if (strlen(email) > GEODATA_EMAIL_MAX || !strchr(email, '@'))
        return mapd_fail(MAPD_EXIT_USAGE, "--email is not an email address");
    if (sodium_init() < 0)
        return mapd_fail(MAPD_EXIT_FAIL, "cannot initialise libsodium");
    char password[130];
    int generated = !from_stdin;
    if (from_stdin) {
        if (read_password(password, sizeof password))
            return mapd_fail(MAPD_EXIT_FAIL, "user add: the password on stdin must have 8 characters at least");
    } else {
        unsigned char raw[12];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(password, sizeof password, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    }
    geodata_store *store = mapd_store_or_fail(db, 0);
    if (!store)
        return MAPD_EXIT_FAIL;
    int exit_code = MAPD_EXIT_FAIL;
    geodata_geocoder *g = NULL;
    geodata_geocode_result res[MAPD_VERIFY_RESULTS];
    size_t n = 0;
    geodata_new_member m = { .email = email, .display_name = name ? name : email, .role = role };
    if (address) {
        if (geodata_geocoder_open(store, &g, NULL)) {
            mapd_fail(MAPD_EXIT_FAIL, "user add: %s", geodata_errmsg(store));
            goto out;
        }
        int rc = geodata_geocode(g, address, MAPD_VERIFY_RESULTS, res, &n);
        if (rc) {
            const char *problem = geodata_geocode_query_problem(address);
            mapd_fail(MAPD_EXIT_FAIL, "user add: --address: %s",
                      rc == GEODATA_EINVAL && problem ? problem : "the address cannot be searched");
            goto out;
        }
        geodata_verify_status why = geodata_geocode_verify(res, n);
        if (why != GEODATA_VERIFIED) {
            mapd_fail(MAPD_EXIT_FAIL, "user add: %s: %s", address, geodata_verify_reason(why));
            goto out;
        }
        m.address_id = res[0].address_id;
        m.address_text = res[0].label;
        m.home_lon = res[0].lon;
        m.home_lat = res[0].lat;
        m.neighbourhood_id = res[0].neighbourhood_id;
    }
    char hash[crypto_pwhash_STRBYTES];
    if (mapd_hash_password(password, hash, sizeof hash)) {
        mapd_fail(MAPD_EXIT_FAIL, "user add: cannot hash the password");
        goto out;
    }
    m.password_hash = hash;
    int64_t id = 0;
    if (geodata_member_create(store, &m, &id)) {
        mapd_fail(MAPD_EXIT_FAIL, "user add: %s", geodata_errmsg(store));
        goto out;
    }
    json_t *o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "email", email, "role", role);
    if (generated)
        json_object_set_new(o, "password", json_string(password));
    json_dumpf(o, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(o);
    exit_code = MAPD_EXIT_OK;
out:
    sodium_memzero(password, sizeof password);
    geodata_geocoder_free(g);
    geodata_store_close(store);
    return exit_code;
}
