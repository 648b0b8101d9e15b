/*
 * mapd/progress.h — a progress bar on standard error, drawn only when it is a
 * terminal, redrawn at most ten times a second.
 */
#ifndef MAPD_PROGRESS_H
#define MAPD_PROGRESS_H

#include <stdint.h>

typedef struct mapd_progress {
    const char *label;     /* e.g. "addresses" */
    int enabled;           /* stderr is a terminal */
    double last_draw;      /* monotonic seconds of the last redraw */
    int drawn;             /* something is on the line and must be ended */
} mapd_progress;

void mapd_progress_init(mapd_progress *p, const char *label);

/* A geodata_progress_fn: arg is a mapd_progress. */
void mapd_progress_update(void *arg, uint64_t done, uint64_t total);

/* Ends the bar's line, if one was drawn. */
void mapd_progress_finish(mapd_progress *p);

#endif
