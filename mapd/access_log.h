/*
 * mapd/access_log.h — the access log: one line per request, gathered in a
 * buffer per thread and written out in batches (access_log.c).
 */
#ifndef MAPD_ACCESS_LOG_H
#define MAPD_ACCESS_LOG_H

#include <stddef.h>

typedef struct mapd_access_log mapd_access_log;

#define MAPD_ACCESS_LOG_FLUSH_MS 100          /* the default bound on a line's wait */
#define MAPD_ACCESS_LOG_FLUSH_MS_MAX 10000    /* the largest --log-flush-ms */

/* A log writing to file descriptor fd (which the caller keeps open and
 * closes). A line waits at most flush_ms milliseconds (plus the time of the
 * write itself) before it is written; flush_ms 0 writes every line at once,
 * with one write() each. A flusher thread is started when flush_ms > 0.
 * 0 with *out set, or -1 (out of memory, or the thread could not start). */
int mapd_access_log_new(int fd, unsigned flush_ms, mapd_access_log **out);

/* Stops the flusher, writes every buffered line and frees the log. Call it
 * when no thread can write a line any more (after MHD_stop_daemon). NULL is
 * fine. Work: one write() per non-empty buffer. */
void mapd_access_log_free(mapd_access_log *log);

/* Appends line (len bytes, ending in '\n') to the calling thread's buffer,
 * writing the buffer first when the line does not fit, and the line alone
 * when it is larger than a buffer. Lines are never cut to fit: each goes out
 * whole, unless writing fails (a full disk, a closed descriptor), when the
 * rest of that batch is dropped rather than stop the server. Work: a copy of
 * len bytes under the thread's own buffer lock, plus at most two write()
 * calls (the full buffer, then a line larger than a buffer). */
void mapd_access_log_write(mapd_access_log *log, const char *line, size_t len);

#endif
