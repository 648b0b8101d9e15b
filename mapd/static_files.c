/*
 * mapd/static_files.c — the web map's files, served from the --web directory.
 *
 * Only plain files under that directory are served: a path with a "..",
 * a "//", a backslash or a control character is refused, and a directory maps
 * to its index.html. Files are sent straight from their descriptor.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
    struct MHD_Response *r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(path));
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    ctx->req->status = MHD_HTTP_OK;
    ctx->req->bytes = (size_t)st.st_size;
    enum MHD_Result ret = MHD_queue_response(ctx->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
