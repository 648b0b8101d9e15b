/*
 * mapd/posts_runtime.c — what the server keeps running for posts: the
 * in-memory read model of the lists (post_model.c), built on a thread of
 * its own while the server loads its other parts, then subscribed to the
 * change-feed follower, and the group-commit writer of new posts and
 * comments (writer.c); started before the server listens, stopped after.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "post_model.h"
#include "writer.h"

/* The read model being built, and how that went. */
struct mapd_posts_loading {
    pthread_t thread;
    const char *db_path;
    mapd_post_model *model;
    char *err;
    double seconds;
};

static void *build_model(void *arg)
{
    struct mapd_posts_loading *l = arg;
    double t0 = mapd_seconds();
    if (mapd_post_model_new(l->db_path, (int64_t)time(NULL), &l->model, &l->err) && !l->err)
        l->err = strdup("out of memory");
    l->seconds = mapd_seconds() - t0;
    return NULL;
}

int mapd_posts_load(mapd_server *server, int with_model)
{
    if (!with_model)
        return 0;
    struct mapd_posts_loading *l = calloc(1, sizeof *l);
    if (!l || (l->db_path = server->db_path, pthread_create(&l->thread, NULL, build_model, l))) {
        free(l);
        fprintf(stderr, "mapd: cannot start loading the posts read model\n");
        return -1;
    }
    server->posts_loading = l;
    return 0;
}

int mapd_posts_start(mapd_server *server)
{
    struct mapd_posts_loading *l = server->posts_loading;
    server->posts_loading = NULL;
    if (l) {
        pthread_join(l->thread, NULL);
        server->posts = l->model;
        char *err = l->err;
        double secs = l->seconds;
        free(l);
        if (!server->posts) {
            fprintf(stderr, "mapd: the posts read model: %s\n", err ? err : "out of memory");
            free(err);
            return -1;
        }
        mapd_feed_subscriber sub = mapd_post_model_subscriber(server->posts);
        if (mapd_feed_subscribe(server->feed, &sub)) {
            fprintf(stderr, "mapd: too many subscribers of the change feed\n");
            mapd_post_model_free(server->posts);
            server->posts = NULL;
            return -1;
        }
        size_t n, bytes;
        mapd_post_model_stats(server->posts, &n, &bytes);
        fprintf(stderr, "mapd: %zu posts in memory, %.1f MB (%zu bytes a post), loaded in %.2f s\n",
                n, (double)bytes / 1e6, n ? bytes / n : 0, secs);
    }
    char *err = NULL;
    if (mapd_writer_start(server->db_path, server->statement_timeout_ms, server->feed, &server->writer, &err)) {
        fprintf(stderr, "mapd: the writer: %s\n", err ? err : "out of memory");
        free(err);
        mapd_post_model_free(server->posts);
        server->posts = NULL;
        return -1;
    }
    return 0;
}

void mapd_posts_stop_writer(mapd_server *server)
{
    mapd_writer_stop(server->writer);
}

void mapd_posts_free(mapd_server *server)
{
    mapd_writer_free(server->writer);
    server->writer = NULL;
    mapd_post_model_free(server->posts);
    server->posts = NULL;
}
