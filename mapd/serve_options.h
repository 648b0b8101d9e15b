/*
 * mapd/serve_options.h — the options of `mapd serve` (serve_options.c).
 */
#ifndef MAPD_SERVE_OPTIONS_H
#define MAPD_SERVE_OPTIONS_H

#include <limits.h>

#include "alerts.h"
#include "events.h"
#include "http.h"

typedef struct mapd_serve_options {
    mapd_server server;          /* db_path, web_dir, max_body, cookie_secure, attribution set */
    const char *listen;          /* HOST:PORT */
    long threads;                /* workers, 1 to 256 */
    long auth_per_minute;        /* logins and registrations per client address */
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
