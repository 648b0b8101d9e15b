/*
 * mapd/static_files.c — the web map's files, served from the --web directory
 * (the built site of web/build.mjs, or web/ itself during development).
 *
 * What is served, and why each rule exists:
 *   - Only regular files inside the --web directory. The URL is refused (404)
 *     when a segment starts with '.': dotfiles are secrets or tooling, never
 *     the site (/.env, /.git/config, node_modules/.package-lock.json), and
 *     this also refuses ".."; likewise a "//", a backslash or a control
 *     character. A URL ending in '/' maps to that directory's index.html.
 *   - The file is opened with O_NOFOLLOW (a symlink as the last component is
 *     refused, so a link planted in the tree cannot point anywhere),
 *     O_NONBLOCK (opening a FIFO would otherwise wait for a writer, holding a
 *     worker thread forever) and O_CLOEXEC; fstat must then show a regular
 *     file (a FIFO, device or directory is a 404 at once).
 *   - The real path of the file's directory must lie inside the real path of
 *     --web, resolved once on the first request: a symlinked directory that
 *     leads out of the tree (to / or /etc) is a 404, one that stays inside
 *     works. (What is left is a race with someone renaming directories
 *     inside the tree between the check and the open, that is the operator
 *     deploying: not a visitor's reach.)
 *
 * Representations. For compressible types (text, JSON, SVG), when the
 * request's Accept-Encoding allows it (q-values read: "br;q=0" refuses br)
 * and a sibling FILE.br or FILE.gz exists, is a regular file and is not older
 * than FILE, that sibling is sent with Content-Encoding and FILE's type;
 * brotli is preferred when both are equally acceptable. The siblings are
 * written by web/build.mjs; one older than its original (an edited
 * config.json) is stale and ignored. Compressible types always carry
 * "Vary: Accept-Encoding", so caches keep the representations apart.
 *
 * Caching. Each representation has a strong ETag made of its file's size,
 * modification time in nanoseconds and inode, with "-br" or "-gz" for a
 * compressed one. If-None-Match (weak comparison, as RFC 9110 says) answers
 * 304 and, when present, If-Modified-Since is not looked at; otherwise an
 * If-Modified-Since equal to Last-Modified answers 304. Files under /assets/
 * carry their content's hash in their name (web/build.mjs), so they are
 * "public, max-age=31536000, immutable": a warm visit does not even ask for
 * them. Everything else is "no-cache": kept, but revalidated with the ETag.
 *
 * Ranges. A single byte range ("bytes=A-B", "A-", "-N") is answered 206 with
 * that slice of the identity representation (a request with a Range never
 * gets a compressed one), so a PMTiles basemap can be read from this
 * directory; If-Range must then match the ETag or Last-Modified, else the
 * whole file is sent. Other range forms get the whole file (RFC 9110 allows
 * it), an unsatisfiable one 416.
 *
 * The headers are read by the parsers of parse.h, which the other handlers
 * share. Work per request: the checks of the URL and headers are linear in
 * their lengths (bounded by libmicrohttpd's per-connection memory);
 * realpath() of the file's directory, one open and fstat, and up to two
 * more for siblings. Files are sent straight from their descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "page_policy.h"
#include "parse.h"

static const struct {
    const char *ext, *type;
    int compressible;   /* worth a .gz/.br sibling: gets Vary and negotiation */
} types[] = {
    { ".html", "text/html; charset=utf-8", 1 },
    { ".js", "text/javascript; charset=utf-8", 1 },
    { ".mjs", "text/javascript; charset=utf-8", 1 },
    { ".css", "text/css; charset=utf-8", 1 },
    { ".json", "application/json", 1 },
    { ".svg", "image/svg+xml", 1 },
    { ".png", "image/png", 0 },
    { ".pbf", "application/x-protobuf", 0 },
    { ".txt", "text/plain; charset=utf-8", 1 },
    { ".map", "application/json", 1 },
    { ".geojson", "application/geo+json", 1 },
    { ".xml", "application/xml", 1 },
    { ".pmtiles", "application/vnd.pmtiles", 0 },
    { ".mvt", "application/vnd.mapbox-vector-tile", 0 },
    { ".webp", "image/webp", 0 },
    { ".jpg", "image/jpeg", 0 },
    { ".ico", "image/x-icon", 0 },
    { ".woff2", "font/woff2", 0 },
};

/* The type of path (by its extension) and whether it is compressible. */
static const char *content_type(const char *path, int *compressible)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0) {
            *compressible = types[i].compressible;
            return types[i].type;
        }
    *compressible = 0;
    return "application/octet-stream";
}

/* 1 when url (already percent-decoded by libmicrohttpd) may name a file:
 * absolute, no segment starting with '.', no "//", backslash or control
 * character. Work: one pass over url. */
static int safe_path(const char *url)
{
    if (url[0] != '/' || strstr(url, "//") || strchr(url, '\\'))
        return 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
        if (*p == '/' && p[1] == '.')
            return 0;
    }
    return 1;
}

/* ---- the web root ------------------------------------------------------------ */

/* realpath() of --web, resolved on the first request and kept for the life
 * of the process (one --web per process). A failed resolution (the directory
 * does not exist yet) is tried again on the next request. */
static pthread_mutex_t root_lock = PTHREAD_MUTEX_INITIALIZER;
static char root_real[PATH_MAX];  /* guarded by root_lock until root_len > 0 */
static size_t root_len;           /* 0 until resolved; guarded by root_lock */

/* Copies the real path of dir into out (PATH_MAX bytes); its length, or 0
 * when dir cannot be resolved. Work: one realpath() the first time, a copy
 * under root_lock after. */
static size_t web_root(const char *dir, char out[PATH_MAX])
{
    pthread_mutex_lock(&root_lock);
    if (root_len == 0 && realpath(dir, root_real))
        root_len = strlen(root_real);
    size_t n = root_len;
    memcpy(out, root_real, n + 1);
    pthread_mutex_unlock(&root_lock);
    return n;
}

/* 1 when the real path p lies inside root (of length n): equal, or below it. */
static int inside(const char *p, const char *root, size_t n)
{
    if (strncmp(p, root, n) != 0)
        return 0;
    return p[n] == '\0' || p[n] == '/' || (n == 1 && root[0] == '/');
}

/* Opens path (no symlink as its last component, never blocking) and checks
 * that it is a regular file: its descriptor with *st, or -1. */
static int open_regular(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- validators ------------------------------------------------------------- */

/* The strong ETag of the file st as sent with suffix ("", "-br", "-gz"). */
static void make_etag(char out[96], const struct stat *st, const char *suffix)
{
    uint64_t ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    snprintf(out, 96, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "%s\"", (uint64_t)st->st_size, ns,
             (uint64_t)st->st_ino, suffix);
}

/* ---- the handler ------------------------------------------------------------- */

/*
 * The compressed sibling of path to send instead of it (original stat st),
 * given Accept-Encoding h: its descriptor with *sst, *encoding ("br" or
 * "gzip") and *suffix ("-br", "-gz"), or -1 for the identity. The better
 * weighted coding is tried first (br on a tie), then the other. Work: at
 * most two open() and fstat().
 */
static int pick_sibling(const char *path, const struct stat *st, const char *h, struct stat *sst,
                        const char **encoding, const char **suffix)
{
    static const struct { const char *name, *ext, *suffix; } codings[2] = {
        { "br", ".br", "-br" }, { "gzip", ".gz", "-gz" },
    };
    int q[2] = { mapd_parse_accept_encoding(h, "br"), mapd_parse_accept_encoding(h, "gzip") };
    int order[2] = { 0, 1 };
    if (q[1] > q[0]) {
        order[0] = 1;
        order[1] = 0;
    }
    for (int k = 0; k < 2; k++) {
        int i = order[k];
        if (q[i] <= 0)
            continue;
        char sibling[PATH_MAX + 4];
        int n = snprintf(sibling, sizeof sibling, "%s%s", path, codings[i].ext);
        if (n < 0 || (size_t)n >= sizeof sibling)
            continue;
        int fd = open_regular(sibling, sst);
        if (fd < 0)
            continue;
        int stale = sst->st_mtim.tv_sec < st->st_mtim.tv_sec
                    || (sst->st_mtim.tv_sec == st->st_mtim.tv_sec && sst->st_mtim.tv_nsec < st->st_mtim.tv_nsec);
        if (stale) {
            close(fd);
            continue;
        }
        *encoding = codings[i].name;
        *suffix = codings[i].suffix;
        return fd;
    }
    return -1;
}

/* The Content-Security-Policy of the page at path (page_policy.c), read
 * from the identity file whatever representation is sent, into out: 0, or
 * -1 when it cannot be read or is over 1 MiB (the page is then not served:
 * no page leaves without its policy). */
#define PAGE_MAX (1024 * 1024)
static int page_csp(mapd_ctx *ctx, const char *path, char out[MAPD_CSP_MAX])
{
    struct stat st;
    int fd = open_regular(path, &st);
    if (fd < 0)
        return -1;
    char *html = st.st_size <= PAGE_MAX ? malloc((size_t)st.st_size + 1) : NULL;
    ssize_t got = html ? read(fd, html, (size_t)st.st_size) : -1;
    close(fd);
    int rc = got == st.st_size ? mapd_page_csp(html, (size_t)got, ctx->server->csp_origins, out,
                                               MAPD_CSP_MAX)
                               : -1;
    free(html);
    return rc;
}

static enum MHD_Result not_found(mapd_ctx *ctx)
{
    return mapd_problem(ctx, MHD_HTTP_NOT_FOUND, "Not Found", "no such page");
}

enum MHD_Result mapd_static_file(mapd_ctx *ctx)
{
    const char *dir = ctx->server->web_dir;
    if (!dir || !safe_path(ctx->url))
        return not_found(ctx);
    char root[PATH_MAX];
    size_t root_n = web_root(dir, root);
    if (root_n == 0)
        return not_found(ctx);

    /* The file's directory, resolved and checked; then the file in it. */
    char path[PATH_MAX];
    size_t ulen = strlen(ctx->url);
    int n = snprintf(path, sizeof path, "%s%s%s", dir, ctx->url, ctx->url[ulen - 1] == '/' ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof path)
        return mapd_problem(ctx, MHD_HTTP_URI_TOO_LONG, "URI Too Long", "the path is too long");
    char *slash = strrchr(path, '/'); /* there is one: the URL starts with '/' */
    *slash = '\0';
    char real[PATH_MAX];
    if (!realpath(path, real) || !inside(real, root, root_n))
        return not_found(ctx);
    char file[PATH_MAX];
    n = snprintf(file, sizeof file, "%s/%s", real, slash + 1);
    if (n < 0 || (size_t)n >= sizeof file)
        return mapd_problem(ctx, MHD_HTTP_URI_TOO_LONG, "URI Too Long", "the path is too long");
    struct stat st;
    int fd = open_regular(file, &st);
    if (fd < 0)
        return not_found(ctx);

    int compressible;
    const char *type = content_type(file, &compressible);
    char csp[MAPD_CSP_MAX];
    int page = strncmp(type, "text/html", 9) == 0;
    if (page && page_csp(ctx, file, csp)) {
        close(fd);
        fprintf(stderr, "mapd: %s: cannot build the page's Content-Security-Policy\n", file);
        return mapd_problem(ctx, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error",
                            "this page cannot be served");
    }
    const char *range_h = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    const char *encoding = NULL, *suffix = "";
    struct stat sst;
    int sfd = -1;
    if (compressible && !range_h)
        sfd = pick_sibling(file, &st, MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
                                                                  MHD_HTTP_HEADER_ACCEPT_ENCODING),
                           &sst, &encoding, &suffix);
    char identity_etag[96], etag[96];
    make_etag(identity_etag, &st, "");
    if (sfd >= 0) {
        close(fd);
        fd = sfd;
        st = sst;
        make_etag(etag, &st, suffix);
    } else {
        memcpy(etag, identity_etag, sizeof etag);
    }

    char modified[64];
    struct tm tm;
    if (!gmtime_r(&st.st_mtime, &tm) || !strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        modified[0] = '\0';
    const char *inm = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *since = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    int fresh = inm ? mapd_parse_if_none_match(inm, etag) : (modified[0] && since && strcmp(since, modified) == 0);

    uint64_t size = (uint64_t)st.st_size, first = 0, last = size ? size - 1 : 0;
    int range = 0;
    if (range_h && !fresh) {
        const char *if_range = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_RANGE);
        if (mapd_parse_if_range(if_range, identity_etag, modified))
            range = mapd_parse_range(range_h, size, &first, &last);
    }

    unsigned status = MHD_HTTP_OK;
    struct MHD_Response *r;
    if (fresh) {
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
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (encoding && status == MHD_HTTP_OK)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
    if (compressible)
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (status != MHD_HTTP_RANGE_NOT_SATISFIABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    if (modified[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            strncmp(ctx->url, "/assets/", 8) == 0 ? "public, max-age=31536000, immutable"
                                                                  : "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    mapd_security_headers(ctx, r, page ? csp : NULL);
    ctx->req->status = status;
    ctx->req->bytes = status == MHD_HTTP_OK ? (size_t)size
                      : status == MHD_HTTP_PARTIAL_CONTENT ? (size_t)(last - first + 1) : 0;
    enum MHD_Result ret = MHD_queue_response(ctx->conn, status, r);
    MHD_destroy_response(r);
    return ret;
}
