/*
 * mapd/connections.h — the open connections, counted and watched: the cap on
 * how many are served (--max-connections) and the deadline for a request to
 * arrive whole (--request-timeout), so slow or idle clients cannot hold the
 * server's sockets and file descriptors (connections.c).
 */
#ifndef MAPD_CONNECTIONS_H
#define MAPD_CONNECTIONS_H

#include <microhttpd.h>

typedef struct mapd_connections mapd_connections;

/* Starts the watch: at most max connections are served, each request must
 * arrive whole (head and body) within timeout_s seconds of the connection
 * opening or of the previous response. NULL when out of memory or no thread. */
mapd_connections *mapd_connections_start(unsigned max, double timeout_s);

/* Stops the watch thread and frees; call after MHD_stop_daemon. NULL: no-op. */
void mapd_connections_stop(mapd_connections *cs);

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback; cls is the
 * mapd_connections. */
void mapd_connections_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode code);

/* The request on conn has arrived whole: its deadline no longer runs. */
void mapd_connections_arrived(struct MHD_Connection *conn);

/* The response on conn is sent: the deadline of the next request starts. */
void mapd_connections_waiting(const mapd_connections *cs, struct MHD_Connection *conn);

/* 1 when more connections are open than the cap allows (the caller answers
 * 503 and closes), else 0. */
int mapd_connections_over(const mapd_connections *cs);

/* Connections open now, for the metrics. */
unsigned mapd_connections_open(const mapd_connections *cs);

#endif
