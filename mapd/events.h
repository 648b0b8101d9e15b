/*
 * mapd/events.h — the live stream: GET /api/events, Server-Sent Events of
 * what changes on the map, for each viewer what they may see.
 *
 * Events come from the store's change feed (geodata/changes.h): the events
 * service is a subscriber of the server's follower (feed.h), and its id is
 * the change's sequence number, so a client that reconnects with
 * Last-Event-ID resumes from the feed, which the store keeps bounded (its
 * last 100,000 changes). Events: `post` (created, updated, claimed, done,
 * cancelled, removed), `shop` (a shop's status or hours changed) and
 * `comment` (a post's comments changed: its new count). Anonymous visitors
 * get shop events only; members the posts and comments of their own and
 * the contiguous neighbourhoods (the audience rule, audience.h), their own
 * posts and claims anywhere; staff everything.
 *
 * Streams hold no worker: a stream with nothing to send is suspended
 * (libmicrohttpd's suspend and resume) and resumed by the events thread,
 * which follows the feed on its own connection every WAKE period (so
 * changes by other processes come too), resolves each change into its
 * event once, and writes it to every stream that may see it. A comment
 * opens each stream (`: connected`), another keeps it alive at least every
 * heartbeat, so that proxies neither buffer (`X-Accel-Buffering: no`) nor
 * close it. Streams are capped in total and per client address. A stream
 * keeps the audience it was opened with: after a logout or a move, the
 * client opens a new one (the web map does).
 */
#ifndef MAPD_EVENTS_H
#define MAPD_EVENTS_H

#include "http.h"

typedef struct mapd_events_limits {
    int max_streams;       /* open streams at most, all clients together */
    int per_address;       /* open streams at most per client address */
    int heartbeat_s;       /* a comment at least this often on an idle stream */
} mapd_events_limits;

/* Starts the events thread on its own connection to the server's database
 * and subscribes it to server->feed (before the server listens). 0, or -1
 * after printing why. */
int mapd_events_start(mapd_server *server, const mapd_events_limits *limits);

/* Ends every stream (each gets its last bytes, then the end of its body)
 * and stops the thread. Streams asked for later get 503. NULL is a no-op;
 * so is a second call. */
void mapd_events_stop(mapd_events *e);

/* Stops if needed, and frees. No request may use it any more. */
void mapd_events_free(mapd_events *e);

/* The open streams, for /metrics. */
int mapd_events_open(mapd_events *e);

#endif
