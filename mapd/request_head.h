/*
 * mapd/request_head.h — the request head's framing checked (request_head.c).
 */
#ifndef MAPD_REQUEST_HEAD_H
#define MAPD_REQUEST_HEAD_H

#include <microhttpd.h>

/* NULL when the head of the request on conn (HTTP version string version)
 * frames the request one way only; else why not, as a problem detail: the
 * caller answers 400 and closes the connection. Work: one pass over the
 * header fields. */
const char *mapd_request_head_fault(struct MHD_Connection *conn, const char *version);

#endif
