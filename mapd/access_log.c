/*
 * mapd/access_log.c — the access log, written in batches (access_log.h).
 *
 * Why: a write() per request cost mapd about a sixth of its CPU time when
 * serving cached tiles (formatting aside), more than the request's own work.
 * nginx offers the same trade with `access_log ... buffer= flush=`.
 *
 * Design. Each thread that logs gets its own buffer of BUF_BYTES on its
 * first line (a thread-specific key finds it), so workers never wait for one
 * another: a line is a copy into the caller's buffer under that buffer's own
 * lock, which only the flusher ever contends for. A full buffer is written
 * by the thread that filled it. A flusher thread wakes every flush_ms and
 * writes every non-empty buffer, so a line waits at most flush_ms (plus the
 * write) whatever the traffic. Each write() carries whole lines only, so
 * lines never interleave mid-way with other writers of the same descriptor;
 * lines of different threads may come out of order by up to flush_ms.
 *
 * Locks. The list lock (log->list_lock) guards the list head and
 * log->stopping; a buffer, once linked, is never unlinked before the log is
 * freed, so the list may be walked from a head read under the lock. Each
 * buffer's lock (buf->lock) guards its len and bytes. The list lock is never
 * held while a buffer lock is taken, nor the other way round.
 *
 * Shutdown and crashes. mapd_access_log_free, called once the daemon has
 * stopped (every request completed and logged), writes what is left: a
 * clean shutdown loses no line. A crash (a signal that kills the process)
 * loses the lines still buffered: at most the last flush_ms of traffic, and
 * at most BUF_BYTES per thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"

#define BUF_BYTES (64 * 1024)

typedef struct log_buf {
    pthread_mutex_t lock;   /* the buffer lock: guards len and data */
    size_t len;             /* bytes waiting in data, whole lines only */
    struct log_buf *next;   /* the next buffer of the log (set before linking, then fixed) */
    char data[BUF_BYTES];
} log_buf;

struct mapd_access_log {
    int fd;                     /* where lines go; the caller's */
    unsigned flush_ms;          /* the longest a line waits; 0: no buffering */
    pthread_key_t key;          /* the calling thread's log_buf */
    pthread_mutex_t list_lock;  /* the list lock: guards buffers and stopping */
    pthread_cond_t wake;        /* signalled (under the list lock) to stop the flusher */
    log_buf *buffers;           /* every buffer made, newest first; freed with the log */
    int stopping;               /* the flusher is to end */
    int has_flusher;            /* flusher was started */
    pthread_t flusher;
};

/* Writes n bytes, retrying after interruptions and partial writes. On an
 * error the rest is dropped: a log must not stop the server. */
static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

/* Writes out b's lines; b's lock held. */
static void flush_locked(mapd_access_log *log, log_buf *b)
{
    if (b->len) {
        write_all(log->fd, b->data, b->len);
        b->len = 0;
    }
}

/* Writes out every buffer. Work: one write() per non-empty buffer. */
static void flush_all(mapd_access_log *log)
{
    pthread_mutex_lock(&log->list_lock);
    log_buf *b = log->buffers;
    pthread_mutex_unlock(&log->list_lock);
    for (; b; b = b->next) {
        pthread_mutex_lock(&b->lock);
        flush_locked(log, b);
        pthread_mutex_unlock(&b->lock);
    }
}

static void *flusher_main(void *arg)
{
    mapd_access_log *log = arg;
    pthread_mutex_lock(&log->list_lock);
    while (!log->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += log->flush_ms / 1000;
        until.tv_nsec += (long)(log->flush_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!log->stopping && pthread_cond_timedwait(&log->wake, &log->list_lock, &until) == 0)
            ;   /* woken early without stopping: wait out the period */
        if (log->stopping)
            break;
        pthread_mutex_unlock(&log->list_lock);
        flush_all(log);
        pthread_mutex_lock(&log->list_lock);
    }
    pthread_mutex_unlock(&log->list_lock);
    return NULL;
}

int mapd_access_log_new(int fd, unsigned flush_ms, mapd_access_log **out)
{
    *out = NULL;
    mapd_access_log *log = calloc(1, sizeof *log);
    if (!log)
        return -1;
    log->fd = fd;
    log->flush_ms = flush_ms;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int ok = pthread_key_create(&log->key, NULL) == 0;
    if (ok && (pthread_mutex_init(&log->list_lock, NULL) || pthread_cond_init(&log->wake, &ca))) {
        pthread_key_delete(log->key);
        ok = 0;
    }
    pthread_condattr_destroy(&ca);
    if (!ok) {
        free(log);
        return -1;
    }
    if (flush_ms > 0) {
        if (pthread_create(&log->flusher, NULL, flusher_main, log) != 0) {
            pthread_key_delete(log->key);
            pthread_cond_destroy(&log->wake);
            pthread_mutex_destroy(&log->list_lock);
            free(log);
            return -1;
        }
        log->has_flusher = 1;
    }
    *out = log;
    return 0;
}

void mapd_access_log_free(mapd_access_log *log)
{
    if (!log)
        return;
    if (log->has_flusher) {
        pthread_mutex_lock(&log->list_lock);
        log->stopping = 1;
        pthread_cond_signal(&log->wake);
        pthread_mutex_unlock(&log->list_lock);
        pthread_join(log->flusher, NULL);
    }
    flush_all(log);
    log_buf *b = log->buffers;
    while (b) {
        log_buf *next = b->next;
        pthread_mutex_destroy(&b->lock);
        free(b);
        b = next;
    }
    pthread_key_delete(log->key);
    pthread_cond_destroy(&log->wake);
    pthread_mutex_destroy(&log->list_lock);
    free(log);
}

/* The calling thread's buffer, made and linked on its first line; NULL
 * when out of memory (the caller then writes the line alone). */
static log_buf *thread_buf(mapd_access_log *log)
{
    log_buf *b = pthread_getspecific(log->key);
    if (b)
        return b;
    b = malloc(sizeof *b);
    if (!b)
        return NULL;
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b);
        return NULL;
    }
    b->len = 0;
    pthread_mutex_lock(&log->list_lock);
    b->next = log->buffers;
    log->buffers = b;
    pthread_mutex_unlock(&log->list_lock);
    pthread_setspecific(log->key, b);
    return b;
}

void mapd_access_log_write(mapd_access_log *log, const char *line, size_t len)
{
    log_buf *b = log->flush_ms ? thread_buf(log) : NULL;
    if (!b) {
        write_all(log->fd, line, len);
        return;
    }
    pthread_mutex_lock(&b->lock);
    if (len > BUF_BYTES - b->len)
        flush_locked(log, b);
    if (len > BUF_BYTES)
        write_all(log->fd, line, len);   /* after the lines before it, alone */
    else {
        memcpy(b->data + b->len, line, len);
        b->len += len;
    }
    pthread_mutex_unlock(&b->lock);
}
