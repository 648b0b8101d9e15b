/*
 * mapd/serve_options.c — the command line of `mapd serve`, read and checked
 * into mapd_serve_options before anything starts (server.c runs them). A bad
 * option is a usage error (exit 2) with a one-line reason.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access_log.h"
#include "cli.h"
#include "events.h"
#include "geodata/groups.h"
#include "geodata/subscriptions.h"
#include "mail.h"
#include "page_policy.h"
#include "serve_options.h"
#include "tile_render.h"
#include "tiles/cache.h"
#include "web_dir.h"

#define THREADS_MAX 256 /* --threads */

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || end == s || errno || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int mapd_serve_options_parse(int argc, char **argv, mapd_serve_options *o)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' },
        { "web", required_argument, NULL, 'w' },
        { "no-web", no_argument, NULL, 'W' },
        { "threads", required_argument, NULL, 't' },
        { "max-body", required_argument, NULL, 'b' },
        { "auth-per-minute", required_argument, NULL, 'a' },
        { "cookie-secure", no_argument, NULL, 's' },
        { "tile-cache-mb", required_argument, NULL, 'c' },
        { "tile-max-kb", required_argument, NULL, 'k' },
        { "attribution", required_argument, NULL, 'A' },
        { "posts-model", required_argument, NULL, 'p' },
        { "log-flush-ms", required_argument, NULL, 'L' },
        { "export-keep", required_argument, NULL, 'E' },
        { "group-threshold", required_argument, NULL, 'g' },
        { "comments-per-minute", required_argument, NULL, 'C' },
        { "events-max", required_argument, NULL, 'M' },
        { "events-per-address", required_argument, NULL, 'P' },
        { "events-heartbeat", required_argument, NULL, 'H' },
        { "hash-threads", required_argument, NULL, 'h' },
        { "smtp-url", required_argument, NULL, 'S' },
        { "smtp-from", required_argument, NULL, 'F' },
        { "public-url", required_argument, NULL, 'U' },
        { "alerts-interval-s", required_argument, NULL, 'I' },
        { "alerts-digest-at", required_argument, NULL, 'D' },
        { "alerts-backoff", required_argument, NULL, 'B' },
        { "account-per-hour", required_argument, NULL, 'r' },
        { "trusted-proxy", required_argument, NULL, 'T' },
        { "max-connections", required_argument, NULL, 'm' },
        { "request-timeout", required_argument, NULL, 'o' },
        { "allow-root", no_argument, NULL, 'R' },
        { "csp-origins", required_argument, NULL, 'O' },
        { "statement-timeout-ms", required_argument, NULL, 'Q' },
        { NULL, 0, NULL, 0 },
    };
    *o = (mapd_serve_options){
        .server = { .max_body = 64 * 1024, .session_ttl = 30 * 24 * 3600,
                    .group_threshold = GEODATA_GROUP_THRESHOLD,
                    .statement_timeout_ms = 5000 },
        .listen = "127.0.0.1:8080",
        .threads = sysconf(_SC_NPROCESSORS_ONLN),
        .auth_per_minute = 10,
        .account_per_hour = 60,
        .max_connections = 4000,
        .request_timeout_s = 15,
        .comments_per_minute = 30,
        .hash_threads = 0,           /* half the cores, at least one: set below */
        .events = { .max_streams = 1000, .per_address = 16, .heartbeat_s = 10 },
        .alerts = { .interval_s = 30, .digest_minute = 18 * 60,
                    .backoff = { 60, 300, 1800, 7200 }, .n_backoff = 4 },
        .tile_cache_mb = (long)(TILES_CACHE_DEFAULT_BYTES >> 20),
        .tile_max_kb = MAPD_TILE_MAX_BYTES / 1024,
        .log_flush_ms = MAPD_ACCESS_LOG_FLUSH_MS,
        .export_keep = 24 * 3600,
        .posts_model = 1,
    };
    mapd_server *server = &o->server;
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': server->db_path = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'w': server->web_dir = optarg; break;
        case 'W': o->no_web = 1; break;
        case 's': server->cookie_secure = 1; break;
        case 'p':
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
                return mapd_fail(MAPD_EXIT_USAGE, "--posts-model wants on or off, not '%s'", optarg);
            o->posts_model = strcmp(optarg, "on") == 0;
            break;
        case 't':
            if (!parse_long(optarg, 1, THREADS_MAX, &o->threads))
                return mapd_fail(MAPD_EXIT_USAGE, "--threads wants 1 to %d, not '%s'", THREADS_MAX, optarg);
            break;
        case 'Q':
            if (!parse_long(optarg, 100, 600000, &v))
                return mapd_fail(MAPD_EXIT_USAGE, "--statement-timeout-ms wants 100 to 600000, "
                                 "not '%s'", optarg);
            server->statement_timeout_ms = (int)v;
            break;
        case 'b':
            if (!parse_long(optarg, 1024, 16 * 1024 * 1024, &v))
                return mapd_fail(MAPD_EXIT_USAGE, "--max-body wants 1024 to 16777216 bytes, not '%s'",
                                 optarg);
            server->max_body = (size_t)v;
            break;
        case 'a':
            if (!parse_long(optarg, 1, 100000, &o->auth_per_minute))
                return mapd_fail(MAPD_EXIT_USAGE, "--auth-per-minute wants 1 to 100000, not '%s'",
                                 optarg);
            break;
        case 'c':
            if (!parse_long(optarg, 0, 1024 * 1024, &o->tile_cache_mb))
                return mapd_fail(MAPD_EXIT_USAGE, "--tile-cache-mb wants 0 (off) to 1048576, not '%s'",
                                 optarg);
            break;
        case 'A':
            if (strlen(optarg) > 1000)
                return mapd_fail(MAPD_EXIT_USAGE, "--attribution is at most 1000 bytes");
            server->attribution = optarg;
            break;
        case 'k':
            if (!parse_long(optarg, 1, 64 * 1024, &o->tile_max_kb))
                return mapd_fail(MAPD_EXIT_USAGE, "--tile-max-kb wants 1 to 65536, not '%s'", optarg);
            break;
        case 'L':
            if (!parse_long(optarg, 0, MAPD_ACCESS_LOG_FLUSH_MS_MAX, &o->log_flush_ms))
                return mapd_fail(MAPD_EXIT_USAGE, "--log-flush-ms wants 0 (every line at once) to %d, "
                                 "not '%s'", MAPD_ACCESS_LOG_FLUSH_MS_MAX, optarg);
            break;
        case 'E':
            if (!parse_long(optarg, 1, 30 * 24 * 3600, &o->export_keep))
                return mapd_fail(MAPD_EXIT_USAGE, "--export-keep wants 1 to 2592000 seconds, not '%s'",
                                 optarg);
            break;
        case 'g':
            if (!parse_long(optarg, 1, 1000, &v))
                return mapd_fail(MAPD_EXIT_USAGE, "--group-threshold wants 1 to 1000 members, not '%s'",
                                 optarg);
            server->group_threshold = (int)v;
            break;
        case 'r':
            if (!parse_long(optarg, 1, 100000, &o->account_per_hour))
                return mapd_fail(MAPD_EXIT_USAGE, "--account-per-hour wants 1 to 100000, not '%s'",
                                 optarg);
            break;
        case 'T':
            if (!mapd_client_address_normalise(optarg, o->trusted_proxy))
                return mapd_fail(MAPD_EXIT_USAGE, "--trusted-proxy wants the proxy's IPv4 or IPv6 "
                                 "address, e.g. 127.0.0.1, not '%s'", optarg);
            server->trusted_proxy = o->trusted_proxy;
            break;
        case 'm':
            if (!parse_long(optarg, 1, MAPD_CONNECTIONS_MAX, &o->max_connections))
                return mapd_fail(MAPD_EXIT_USAGE, "--max-connections wants 1 to %d, not '%s'",
                                 MAPD_CONNECTIONS_MAX, optarg);
            o->max_connections_given = 1;
            break;
        case 'o':
            if (!parse_long(optarg, 1, 3600, &o->request_timeout_s))
                return mapd_fail(MAPD_EXIT_USAGE, "--request-timeout wants 1 to 3600 seconds, not '%s'",
                                 optarg);
            break;
        case 'R': o->allow_root = 1; break;
        case 'O':
            if (!mapd_csp_origins_valid(optarg))
                return mapd_fail(MAPD_EXIT_USAGE, "--csp-origins wants space-separated origins, "
                                 "e.g. 'https://tiles.example.org https://fonts.example.org', at "
                                 "most %d bytes", MAPD_CSP_ORIGINS_MAX);
            server->csp_origins = optarg;
            break;
        case 'C':
            if (!parse_long(optarg, 0, 100000, &o->comments_per_minute))
                return mapd_fail(MAPD_EXIT_USAGE, "--comments-per-minute wants 0 (no limit) to 100000, "
                                 "not '%s'", optarg);
            break;
        case 'M':
            if (!parse_long(optarg, 0, 100000, &v))
                return mapd_fail(MAPD_EXIT_USAGE, "--events-max wants 0 (no live stream) to 100000, "
                                 "not '%s'", optarg);
            o->events.max_streams = (int)v;
            break;
        case 'P':
            if (!parse_long(optarg, 1, 100000, &v))
                return mapd_fail(MAPD_EXIT_USAGE, "--events-per-address wants 1 to 100000, not '%s'",
                                 optarg);
            o->events.per_address = (int)v;
            break;
        case 'h':
            if (!parse_long(optarg, 1, 64, &o->hash_threads))
                return mapd_fail(MAPD_EXIT_USAGE, "--hash-threads wants 1 to 64, not '%s'", optarg);
            break;
        case 'H':
            if (!parse_long(optarg, 1, 15, &v))
                return mapd_fail(MAPD_EXIT_USAGE, "--events-heartbeat wants 1 to 15 seconds, not '%s'",
                                 optarg);
            o->events.heartbeat_s = (int)v;
            break;
        case 'S':
            if (strncmp(optarg, "smtp://", 7) != 0 && strncmp(optarg, "smtps://", 8) != 0)
                return mapd_fail(MAPD_EXIT_USAGE, "--smtp-url wants smtp://HOST[:PORT] or "
                                 "smtps://HOST[:PORT] (credentials as USER:PASSWORD@HOST)");
            o->alerts.smtp_url = optarg;
            break;
        case 'F': {
            char addr[GEODATA_EMAIL_MAX + 1];
            if (mapd_mail_address(optarg, addr, sizeof addr))
                return mapd_fail(MAPD_EXIT_USAGE, "--smtp-from wants an address, a@example.org or "
                                 "'Entraide <a@example.org>', in printable ASCII");
            o->alerts.smtp_from = optarg;
            break;
        }
        case 'U':
            if ((strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0)
                || strlen(optarg) > MAPD_PUBLIC_URL_MAX || strpbrk(optarg, " \t\r\n\"<>"))
                return mapd_fail(MAPD_EXIT_USAGE, "--public-url wants http:// or https:// and at "
                                 "most %d bytes without spaces, e.g. https://entraide.example.org",
                                 MAPD_PUBLIC_URL_MAX);
            o->alerts.public_url = optarg;
            server->public_url = optarg;
            break;
        case 'I':
            if (!parse_long(optarg, 1, 3600, &o->alerts.interval_s))
                return mapd_fail(MAPD_EXIT_USAGE, "--alerts-interval-s wants 1 to 3600 seconds, "
                                 "not '%s'", optarg);
            break;
        case 'D':
            if (!geodata_hhmm_parse(optarg, &o->alerts.digest_minute))
                return mapd_fail(MAPD_EXIT_USAGE, "--alerts-digest-at wants HH:MM (local time), "
                                 "not '%s'", optarg);
            break;
        case 'B':
            if (!mapd_alerts_backoff_parse(optarg, &o->alerts))
                return mapd_fail(MAPD_EXIT_USAGE, "--alerts-backoff wants 1 to %d delays in "
                                 "seconds (1 to 604800), e.g. 60,300,1800,7200, not '%s'",
                                 GEODATA_ALERT_RETRIES_MAX, optarg);
            break;
        default: return MAPD_EXIT_USAGE;
        }
    }
    if (!server->db_path || optind != argc)
        return mapd_fail(MAPD_EXIT_USAGE, "usage: mapd serve --db DB [--listen HOST:PORT] [--web DIR | --no-web] "
                         "[--threads N] [--max-body BYTES] [--auth-per-minute N] [--cookie-secure] "
                         "[--tile-cache-mb N] [--tile-max-kb N] [--attribution TEXT] [--posts-model on|off] "
                         "[--log-flush-ms N] [--export-keep SECONDS] [--group-threshold N] "
                         "[--comments-per-minute N] [--events-max N] [--events-per-address N] "
                         "[--events-heartbeat SECONDS] [--smtp-url URL --smtp-from ADDRESS] "
                         "[--public-url URL] [--alerts-interval-s N] [--alerts-digest-at HH:MM] "
                         "[--alerts-backoff S,S,...] [--hash-threads N] [--account-per-hour N] "
                         "[--trusted-proxy ADDRESS] [--max-connections N] [--request-timeout SECONDS] "
                         "[--csp-origins 'ORIGIN ...'] [--statement-timeout-ms N] [--allow-root]");
    if (!o->hash_threads) { /* argon2id takes a core and 64 MiB: half the cores hash at most */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        o->hash_threads = cores > 1 ? cores / 2 : 1;
    }
    if (!o->alerts.smtp_url != !o->alerts.smtp_from)
        return mapd_fail(MAPD_EXIT_USAGE, "--smtp-url and --smtp-from go together");
    if (server->web_dir && o->no_web)
        return mapd_fail(MAPD_EXIT_USAGE, "--web DIR and --no-web cannot go together");
    if (server->web_dir && !server->web_dir[0])
        return mapd_fail(MAPD_EXIT_USAGE, "--web wants a directory, not ''; --no-web serves no static files");
    /* Without --web, the web map beside the executable (web_dir.c). */
    if (!server->web_dir && !o->no_web && mapd_web_dir_default(o->web_default) == 0) {
        server->web_dir = o->web_default;
        o->web_found = 1;
    }
    if (o->threads < 1)
        o->threads = 1;
    return 0;
}
