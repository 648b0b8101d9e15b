/*
 * mapd/serve_options.h — the options of `mapd serve` (serve_options.c).
 */
#ifndef MAPD_SERVE_OPTIONS_H
#define MAPD_SERVE_OPTIONS_H

#include <limits.h>

#include "alerts.h"
#include "events.h"
#include "http.h"

#define MAPD_CONNECTIONS_MAX 100000 /* --max-connections */

typedef struct mapd_serve_options {
    mapd_server server;          /* db_path, web_dir, max_body, cookie_secure, attribution set */
    const char *listen;          /* HOST:PORT */
    long threads;                /* workers, 1 to 256 */
    long auth_per_minute;        /* logins and registrations per client address */
    long account_per_hour;       /* login attempts per account, after a burst (api_members.c) */
    long max_connections;        /* served at once; more are answered 503 (connections.h) */
    int max_connections_given;   /* set by --max-connections, not the default */
    long request_timeout_s;      /* for a request to arrive whole (connections.h) */
    int allow_root;              /* --allow-root: serve even as root */
    char trusted_proxy[MAPD_CLIENT_ADDRESS_LEN]; /* storage of server.trusted_proxy */
    long comments_per_minute;    /* comments per member; 0: no limit */
    long hash_threads;           /* threads hashing passwords */
    mapd_events_limits events;   /* the live stream's caps and heartbeat */
    mapd_alerts_options alerts;  /* the alert sender: relay, links, timing */
    long tile_cache_mb, tile_max_kb;
    long log_flush_ms;           /* access-log lines gathered at most this long */
    long export_keep;            /* seconds a background export's file is kept */
    int posts_model;             /* lists from memory */
    int no_web;                  /* --no-web: no static files at all */
    int web_found;               /* web_dir is the default found beside the executable */
    char web_default[PATH_MAX];  /* storage of that default, or "" */
} mapd_serve_options;

/* Reads argv into o: 0, or an exit code after printing the reason. */
int mapd_serve_options_parse(int argc, char **argv, mapd_serve_options *o);

#endif
