/*
 * mapd/progress.c — the terminal progress bar of long commands.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mapd_progress_init(mapd_progress *p, const char *label)
{
    p->label = label;
    p->enabled = isatty(STDERR_FILENO);
    p->last_draw = 0;
    p->drawn = 0;
}

void mapd_progress_update(void *arg, uint64_t done, uint64_t total)
{
    mapd_progress *p = arg;
    if (!p->enabled)
        return;
    double t = now();
    if (t - p->last_draw < 0.1 && done != total)
        return;
    p->last_draw = t;
    p->drawn = 1;
    if (total == 0) {
        fprintf(stderr, "\r%s: %llu", p->label, (unsigned long long)done);
    } else {
        int width = 40;
        int fill = (int)((double)done / (double)total * width);
        if (fill > width) fill = width;
        fprintf(stderr, "\r%s [%.*s%*s] %3d%%", p->label, fill,
                "########################################", width - fill, "",
                (int)((double)done * 100.0 / (double)total));
    }
    fflush(stderr);
}

void mapd_progress_finish(mapd_progress *p)
{
    if (p->drawn)
        fputc('\n', stderr);
    p->drawn = 0;
}
