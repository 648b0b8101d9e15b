/*
 * tests/fuzz/problem_sink.h — what mapd/request.c's readers replied, for the
 * targets that link request.c without a server (problem_sink.c).
 *
 * request.c is compiled as it is; only the two functions it replies
 * through, mapd_problem and mapd_problem_geodata (mapd/response.c, which
 * queue on a libmicrohttpd connection), are these recorders. A reader's
 * contract is "0, or -1 after queuing one problem": the targets check it
 * against fuzz_problems.
 */
#ifndef FUZZ_PROBLEM_SINK_H
#define FUZZ_PROBLEM_SINK_H

#include <stddef.h>

typedef struct fuzz_problems {
    size_t count;             /* problems queued since fuzz_problems_reset */
    unsigned status;          /* the last one's HTTP status */
    int geodata_code;         /* the code given to mapd_problem_geodata, or 0 */
    int detail_ok;            /* every detail so far was NUL-terminated text */
} fuzz_problems;

extern fuzz_problems fuzz_problems_seen;

void fuzz_problems_reset(void);

#endif
