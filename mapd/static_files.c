/*
 * mapd/static_files.c — the web map's files, served from the --web directory.
 *
 * Only plain files under that directory are served: a path with a "..",
 * a "//", a backslash or a control character is refused, and a directory maps
 * to its index.html. Files are sent straight from their descriptor.
 *
 * A single byte range ("Range: bytes=A-B", "A-", "-N") is answered 206 with
 * that slice, so a PMTiles basemap can be read from this directory; other
 * range forms get the whole file (RFC 9110 allows it), an unsatisfiable one
 * 416. Last-Modified and If-Modified-Since let a reload skip unchanged files.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

static const struct { const char *ext, *type; } types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".pbf", "application/x-protobuf" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".map", "application/json" },
    { ".geojson", "application/geo+json" },
    { ".pmtiles", "application/vnd.pmtiles" },
    { ".mvt", "application/vnd.mapbox-vector-tile" },
    { ".webp", "image/webp" },
    { ".jpg", "image/jpeg" },
    { ".ico", "image/x-icon" },
    { ".woff2", "font/woff2" },
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static int safe_path(const char *url)
{
    if (url[0] != '/' || strstr(url, "..") || strstr(url, "//") || strchr(url, '\\'))
        return 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* A decimal number of at most 19 digits at *p, advancing *p; 0 when none. */
static int range_number(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;
    while (**p >= '0' && **p <= '9') {
        if (++digits > 19)
            return 0;
        v = v * 10 + (uint64_t)(*(*p)++ - '0');
    }
    *out = v;
    return digits > 0;
}

/*
 * Reads a Range header against a file of `size` bytes. Returns 1 with the
 * inclusive slice [*first, *last]; 0 when there is no header, or not one
 * byte range (the whole file is then sent); -1 when the range cannot be
 * satisfied. Constant work: the header is read once, at most ~40 bytes deep.
 */
static int byte_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (!h || strncmp(h, "bytes=", 6) != 0)
        return 0;
    const char *p = h + 6;
    uint64_t a, b;
    if (*p == '-') { /* the last N bytes */
        p++;
        if (!range_number(&p, &b) || *p != '\0')
            return 0;
        if (b == 0 || size == 0)
            return -1;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (!range_number(&p, &a) || *p++ != '-')
        return 0;
    if (*p == '\0')
        b = UINT64_MAX;
    else if (!range_number(&p, &b) || *p != '\0' || b < a)
        return 0;
    if (a >= size)
        return -1;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

enum MHD_Result mapd_static_file(mapd_ctx *ctx)
{
    const char *dir = ctx->server->web_dir;
    if (!dir || !safe_path(ctx->url))
        return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such page");
    char path[4096];
    size_t ulen = strlen(ctx->url);
    int n = snprintf(path, sizeof path, "%s%s%s", dir, ctx->url,
                     ctx->url[ulen - 1] == '/' ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof path)
        return mapd_problem(ctx, MHD_HTTP_URI_TOO_LONG, "URI Too Long", "the path is too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such page");
    }
    char modified[64];
    struct tm tm;
    if (!gmtime_r(&st.st_mtime, &tm) || !strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        modified[0] = '\0';
    const char *since = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    uint64_t size = (uint64_t)st.st_size, first = 0, last = size ? size - 1 : 0;
    int range = byte_range(MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE),
                           size, &first, &last);
    unsigned status = MHD_HTTP_OK;
    struct MHD_Response *r;
    if (modified[0] && since && strcmp(since, modified) == 0 && range == 0) {
        close(fd);
        status = MHD_HTTP_NOT_MODIFIED;
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else if (range < 0) {
        close(fd);
        status = MHD_HTTP_RANGE_NOT_SATISFIABLE;
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else if (range > 0) {
        status = MHD_HTTP_PARTIAL_CONTENT;
        r = MHD_create_response_from_fd_at_offset64(last - first + 1, fd, first);
    } else {
        r = MHD_create_response_from_fd64(size, fd);
    }
    if (!r) {
        if (status == MHD_HTTP_OK || status == MHD_HTTP_PARTIAL_CONTENT)
            close(fd);
        return MHD_NO;
    }
    char content_range[80];
    if (status == MHD_HTTP_PARTIAL_CONTENT || status == MHD_HTTP_RANGE_NOT_SATISFIABLE) {
        if (status == MHD_HTTP_PARTIAL_CONTENT)
            snprintf(content_range, sizeof content_range, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
        else
            snprintf(content_range, sizeof content_range, "bytes */%" PRIu64, size);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    }
    if (status != MHD_HTTP_RANGE_NOT_SATISFIABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(path));
    if (modified[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    ctx->req->status = status;
    ctx->req->bytes = status == MHD_HTTP_OK ? (size_t)size
                      : status == MHD_HTTP_PARTIAL_CONTENT ? (size_t)(last - first + 1) : 0;
    enum MHD_Result ret = MHD_queue_response(ctx->conn, status, r);
    MHD_destroy_response(r);
    return ret;
}
