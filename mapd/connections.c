/*
 * mapd/connections.c — counting the open connections and closing those whose
 * request does not arrive in time (connections.h).
 *
 * Design: libmicrohttpd tells of every connection opened and closed
 * (MHD_OPTION_NOTIFY_CONNECTION); each gets an entry on one list, kept in
 * the connection's socket context. An entry holds the time by which the
 * request being read must have arrived whole: set when the connection
 * opens and again when a response has been sent (keep-alive), cleared when
 * the request is dispatched. libmicrohttpd's own timeout only counts
 * silence, so a client sending a header line every few seconds would be
 * kept forever; this deadline counts from the start.
 *
 * A thread looks at the list four times a second and shuts down the socket
 * of every entry past its deadline (shutdown(2), not close: the descriptor
 * stays libmicrohttpd's, which sees the end of the stream and closes it as
 * for any client that leaves). libmicrohttpd notifies the close before it
 * closes the descriptor, and the entry leaves the list under the same lock
 * the thread holds while it shuts sockets down, so a descriptor the thread
 * acts on is always still the connection's.
 *
 * The cap: the server's accept limit is set above it (server.c), so a
 * connection past the cap is still read far enough to be answered 503,
 * which tells a client more than a refused connection does.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "connections.h"

#define WATCH_PERIOD_MS 250

typedef struct entry {
    struct entry *prev, *next;   /* on mapd_connections.head, under lock */
    int fd;
    int64_t deadline_ms;         /* monotonic ms; 0: no request being read (atomic) */
} entry;

struct mapd_connections {
    pthread_mutex_t lock;        /* guards head, stopping, and each entry's place */
    pthread_cond_t wake;
    entry *head;
    unsigned open;               /* entries on the list (atomic reads) */
    unsigned max;
    int64_t timeout_ms;
    int stopping;
    pthread_t thread;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The connections' socket contexts are entries; NULL if libmicrohttpd has none. */
static entry *entry_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void *watch(void *arg)
{
    mapd_connections *cs = arg;
    pthread_mutex_lock(&cs->lock);
    while (!cs->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WATCH_PERIOD_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cs->wake, &cs->lock, &until);
        int64_t now = now_ms();
        for (entry *e = cs->head; e; e = e->next) {
            int64_t d = __atomic_load_n(&e->deadline_ms, __ATOMIC_RELAXED);
            if (d && now > d) {
                __atomic_store_n(&e->deadline_ms, 0, __ATOMIC_RELAXED);
                shutdown(e->fd, SHUT_RDWR);
            }
        }
    }
    pthread_mutex_unlock(&cs->lock);
    return NULL;
}

mapd_connections *mapd_connections_start(unsigned max, double timeout_s)
{
    mapd_connections *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    pthread_mutex_init(&cs->lock, NULL);
    pthread_cond_init(&cs->wake, NULL);
    cs->max = max;
    cs->timeout_ms = (int64_t)(timeout_s * 1000);
    if (pthread_create(&cs->thread, NULL, watch, cs)) {
        free(cs);
        return NULL;
    }
    return cs;
}

void mapd_connections_stop(mapd_connections *cs)
{
    if (!cs)
        return;
    pthread_mutex_lock(&cs->lock);
    cs->stopping = 1;
    pthread_cond_signal(&cs->wake);
    pthread_mutex_unlock(&cs->lock);
    pthread_join(cs->thread, NULL);
    /* libmicrohttpd has stopped: every connection was notified closed. */
    pthread_cond_destroy(&cs->wake);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

void mapd_connections_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode code)
{
    mapd_connections *cs = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        entry *e = ci ? calloc(1, sizeof *e) : NULL;
        if (!e)
            return; /* not watched, not counted: the memory will be missed sooner */
        e->fd = ci->connect_fd;
        e->deadline_ms = now_ms() + cs->timeout_ms;
        pthread_mutex_lock(&cs->lock);
        e->next = cs->head;
        if (cs->head)
            cs->head->prev = e;
        cs->head = e;
        __atomic_fetch_add(&cs->open, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&cs->lock);
        *socket_context = e;
        return;
    }
    entry *e = *socket_context;
    if (!e)
        return;
    pthread_mutex_lock(&cs->lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        cs->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    __atomic_fetch_sub(&cs->open, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&cs->lock);
    *socket_context = NULL;
    free(e);
}

void mapd_connections_arrived(struct MHD_Connection *conn)
{
    entry *e = entry_of(conn);
    if (e)
        __atomic_store_n(&e->deadline_ms, 0, __ATOMIC_RELAXED);
}

void mapd_connections_waiting(const mapd_connections *cs, struct MHD_Connection *conn)
{
    entry *e = entry_of(conn);
    if (e)
        __atomic_store_n(&e->deadline_ms, now_ms() + cs->timeout_ms, __ATOMIC_RELAXED);
}

int mapd_connections_over(const mapd_connections *cs)
{
    return __atomic_load_n(&cs->open, __ATOMIC_RELAXED) > cs->max;
}

unsigned mapd_connections_open(const mapd_connections *cs)
{
    return __atomic_load_n(&cs->open, __ATOMIC_RELAXED);
}
