/*
 * mapd/posts_runtime.c — what the server keeps running for posts: the
 * in-memory read model of the lists (post_model.c), subscribed to the
 * change-feed follower, and the group-commit writer of new posts and
 * comments (writer.c); started before the server listens, stopped after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "http.h"
#include "post_model.h"
#include "writer.h"

int mapd_posts_start(mapd_server *server, int with_model)
{
    char *err = NULL;
    if (with_model) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (mapd_post_model_new(server->db_path, (int64_t)time(NULL), &server->posts, &err)) {
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
        clock_gettime(CLOCK_MONOTONIC, &t1);
        size_t n, bytes;
        mapd_post_model_stats(server->posts, &n, &bytes);
        fprintf(stderr, "mapd: %zu posts in memory, %.1f MB (%zu bytes a post), loaded in %.2f s\n",
                n, (double)bytes / 1e6, n ? bytes / n : 0,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    }
    if (mapd_writer_start(server->db_path, server->feed, &server->writer, &err)) {
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
