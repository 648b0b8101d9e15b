/*
 * tests/fuzz/problem_sink.c — mapd_problem and mapd_problem_geodata as
 * recorders (see problem_sink.h): the status mapd/response.c would queue
 * (the same mapping for geodata's codes), counted, nothing sent.
 */
#include <string.h>

#include "http.h"
#include "problem_sink.h"

fuzz_problems fuzz_problems_seen;

void fuzz_problems_reset(void)
{
    memset(&fuzz_problems_seen, 0, sizeof fuzz_problems_seen);
    fuzz_problems_seen.detail_ok = 1;
}

enum MHD_Result mapd_problem(mapd_ctx *ctx, unsigned status, const char *title, const char *detail)
{
    (void)ctx;
    fuzz_problems_seen.count++;
    fuzz_problems_seen.status = status;
    /* strlen reads every byte: ASan sees a detail that is not a C string */
    if (!title || !detail || strlen(title) == 0 || strlen(detail) == 0)
        fuzz_problems_seen.detail_ok = 0;
    return MHD_YES;
}

enum MHD_Result mapd_problem_geodata(mapd_ctx *ctx, int code)
{
    fuzz_problems_seen.geodata_code = code;
    unsigned status = code == GEODATA_ENOTFOUND ? MHD_HTTP_NOT_FOUND
                    : code == GEODATA_EINVAL ? MHD_HTTP_BAD_REQUEST
                    : code == GEODATA_ECONFLICT ? MHD_HTTP_CONFLICT
                    : code == GEODATA_EDENIED ? MHD_HTTP_FORBIDDEN
                    : MHD_HTTP_SERVICE_UNAVAILABLE;
    return mapd_problem(ctx, status, "Problem", "from mapd_problem_geodata");
}
