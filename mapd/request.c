/*
 * mapd/request.c — reading requests: JSON bodies (their Content-Type matched
 * exactly), checked fields, query arguments, the base URL the request was
 * sent to.
 *
 * Query strings are read strictly, each thing in one place: every argument,
 * name and value, is valid UTF-8 without a NUL byte (mapd_args_valid_or_reply,
 * once before dispatch: libmicrohttpd has already decoded %00, which would
 * otherwise cut a value short unseen); every number goes through one reader
 * (number_end) whose syntax is JSON's numbers, narrower than strtol's and
 * strtod's; every absolute link starts with mapd_base_url's answer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* 1 when the Content-Type header value h is application/json: the media
 * type exactly (any case), then nothing, or parameters after a ';' of which
 * a charset, if any, is utf-8 (any case, quoted or not: JSON is UTF-8);
 * "application/jsonx", "application/json-seq", "text/json" or no header are
 * not. Work: one pass over h. */
int mapd_content_type_json(const char *h)
{
    static const char type[] = "application/json";
    if (!h || strncasecmp(h, type, sizeof type - 1) != 0)
        return 0;
    const char *p = h + sizeof type - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return 1;
    if (*p != ';')
        return 0;
    while (*p == ';') { /* parameter: name=value, value a token or a quoted string */
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t nlen = (size_t)(p - name);
        if (*p != '=' || nlen == 0)
            return 0;
        p++;
        const char *value = p;
        size_t vlen;
        if (*p == '"') {
            const char *end = strchr(p + 1, '"');
            if (!end)
                return 0;
            value = p + 1;
            vlen = (size_t)(end - value);
            p = end + 1;
        } else {
            while (*p && *p != ';' && *p != ' ' && *p != '\t')
                p++;
            vlen = (size_t)(p - value);
        }
        if (nlen == 7 && strncasecmp(name, "charset", 7) == 0
            && !(vlen == 5 && strncasecmp(value, "utf-8", 5) == 0))
            return 0;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    return *p == '\0';
}

json_t *mapd_json_body_or_reply(mapd_ctx *ctx)
{
    const char *type = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!mapd_content_type_json(type)) {
        mapd_problem(ctx, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type",
                     "send the body as application/json");
        return NULL;
    }
    if (!ctx->req->body || ctx->req->body_len == 0) {
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "the request has no body");
        return NULL;
    }
    json_error_t err;
    /* jansson refuses invalid UTF-8, NUL bytes in strings and duplicate keys. */
    json_t *o = json_loadb(ctx->req->body, ctx->req->body_len,
                           JSON_REJECT_DUPLICATES, &err);
    if (!o) {
        char detail[256];
        snprintf(detail, sizeof detail, "the body is not valid JSON: %s (at byte %d)", err.text,
                 err.position);
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", "the body must be a JSON object");
        return NULL;
    }
    return o;
}

static int clean_text(const char *s, int multiline)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t'))) || *p == 0x7f)
            return 0;
    return 1;
}

/* Removes the white space around the string v holds. 0, or -1 when out of
 * memory. */
static int trim(json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), start = 0;
    while (start < len && isspace((unsigned char)s[start]))
        start++;
    while (len > start && isspace((unsigned char)s[len - 1]))
        len--;
    if (start == 0 && len == json_string_length(v))
        return 0;
    char *t = strndup(s + start, len - start);
    int rc = t ? json_string_setn(v, t, len - start) : -1;
    free(t);
    return rc;
}

int mapd_field_string_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, unsigned flags,
                               size_t max, const char **out)
{
    int required = (flags & MAPD_FIELD_REQUIRED) != 0;
    json_t *v = json_object_get(obj, name);
    char detail[160];
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(detail, sizeof detail, "'%s' is required", name);
    } else if (!json_is_string(v)) {
        snprintf(detail, sizeof detail, "'%s' must be a string", name);
    } else if (json_string_length(v) > max) {
        snprintf(detail, sizeof detail, "'%s' is longer than %zu bytes", name, max);
    } else if (strlen(json_string_value(v)) != json_string_length(v)
               || !clean_text(json_string_value(v), (flags & MAPD_FIELD_MULTILINE) != 0)) {
        snprintf(detail, sizeof detail, "'%s' holds control characters", name);
    } else if ((flags & MAPD_FIELD_TRIM) && trim(v)) {
        mapd_problem_geodata(ctx, GEODATA_ENOMEM);
        return -1;
    } else if (required && json_string_length(v) == 0) {
        snprintf(detail, sizeof detail, "'%s' is empty", name);
    } else {
        *out = json_string_value(v);
        return 0;
    }
    mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
    return -1;
}

const char *mapd_arg(mapd_ctx *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- the query string as a whole ---- */

/* The length of the valid UTF-8 prefix of s[0..n): n when it is all valid
 * (no overlong form, no surrogate, nothing above U+10FFFF). Work: one pass. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;      /* no overlong form */
            else if (c == 0xED)
                hi = 0x9F;      /* no surrogate */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;      /* nothing above U+10FFFF */
        } else {
            return i;
        }
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        i += len;
    }
    return n;
}

typedef struct args_check {
    const char *fault;       /* the first fault found, or NULL */
    char name[72];           /* the argument it is in, or "" when its name cannot be shown */
} args_check;

/* One argument (key of key_size bytes, value of value_size, NULL when the
 * argument has no '='): the first fault stops the walk. */
static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    args_check *c = cls;
    int key_ok = key && strlen(key) == key_size
                 && utf8_valid_prefix((const unsigned char *)key, key_size) == key_size;
    if (!key_ok)
        c->fault = key && memchr(key, '\0', key_size) ? "nul" : "utf8";
    else if (value && strlen(value) != value_size)
        c->fault = "nul";
    else if (value && utf8_valid_prefix((const unsigned char *)value, value_size) != value_size)
        c->fault = "utf8";
    if (!c->fault)
        return MHD_YES;
    /* The name goes into the detail when it can be shown whole: valid,
     * printable, short. */
    int show = key_ok && key_size < sizeof c->name;
    for (size_t i = 0; show && i < key_size; i++)
        show = (unsigned char)key[i] >= 0x20 && key[i] != 0x7f;
    if (show)
        memcpy(c->name, key, key_size + 1);
    return MHD_NO;
}

int mapd_args_valid_or_reply(mapd_ctx *ctx)
{
    args_check c = { NULL, "" };
    MHD_get_connection_values_n(ctx->conn, MHD_GET_ARGUMENT_KIND, check_arg, &c);
    if (!c.fault)
        return 0;
    char detail[160];
    int nul = strcmp(c.fault, "nul") == 0;
    if (c.name[0])
        snprintf(detail, sizeof detail, nul ? "the query parameter '%s' holds a NUL byte (%%00)"
                                            : "the query parameter '%s' is not valid UTF-8", c.name);
    else
        snprintf(detail, sizeof detail, nul ? "a query parameter's name holds a NUL byte (%%00)"
                                            : "a query parameter's name is not valid UTF-8");
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
    return -1;
}

/* ---- the base URL ---- */

/* The port a Host header value names: its explicit ":PORT", else the
 * scheme's (dflt); -1 when host is not a host name, an IPv4 address or a
 * bracketed IPv6 address, optionally with a port (at most 255 bytes of
 * letters, digits and . - : [ ]). Work: one pass over host. */
static long host_port(const char *host, long dflt)
{
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > 255)
        return -1;
    for (const char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || strchr(".-:[]", *p)))
            return -1;
    const char *rest = host;
    if (*host == '[') {
        const char *close = strchr(host, ']');
        if (!close || close == host + 1 || strchr(close + 1, '[') || strchr(close + 1, ']'))
            return -1;
        rest = close + 1;
        if (*rest && *rest != ':')
            return -1;
    } else if (strchr(host, '[') || strchr(host, ']') || *host == ':') {
        return -1;
    }
    const char *colon = strchr(rest, ':');
    if (!colon)
        return dflt;
    long port = 0;
    int digits = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9' || ++digits > 5)
            return -1;
        port = port * 10 + (*p - '0');
    }
    return digits && port <= 65535 ? port : -1;
}

/* The address and port the connection came in on, as "IP:PORT" (IPv6 in
 * brackets) into buf, and the port: from the connection's socket, else
 * the loopback address and the port the daemon is bound to; -1 when
 * neither is known. */
static long local_address(mapd_ctx *ctx, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(ctx->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char ip[INET6_ADDRSTRLEN];
    if (ci && getsockname(ci->connect_fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
            if (inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip)) {
                snprintf(buf, n, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
                return ntohs(in->sin_port);
            }
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
            if (inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip)) {
                snprintf(buf, n, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
                return ntohs(in6->sin6_port);
            }
        }
    }
    const union MHD_ConnectionInfo *di = MHD_get_connection_info(ctx->conn, MHD_CONNECTION_INFO_DAEMON);
    const union MHD_DaemonInfo *port =
        di ? MHD_get_daemon_info(di->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!port || !port->port)
        return -1;
    snprintf(buf, n, "127.0.0.1:%u", (unsigned)port->port);
    return port->port;
}

void mapd_base_url(mapd_ctx *ctx, char out[MAPD_BASE_URL_MAX])
{
    const char *pub = ctx->server->public_url;
    size_t n = pub ? strlen(pub) : 0;
    while (n && pub[n - 1] == '/')
        n--;
    if (n && n < MAPD_BASE_URL_MAX) { /* --public-url: the operator's word (checked at start) */
        memcpy(out, pub, n);
        out[n] = '\0';
        return;
    }
    int tls = ctx->server->cookie_secure;
    const char *scheme = tls ? "https" : "http";
    char local[INET6_ADDRSTRLEN + 8];
    long port = local_address(ctx, local, sizeof local);
    const char *host = MHD_lookup_connection_value(ctx->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    /* The Host a client sent when it reached this server directly: it
     * names the port the connection came in on. Its name is kept (the
     * page's origin, whose cookie the tiles need), never one that names
     * another port (anybody's), except from the --trusted-proxy, which
     * passes on the Host its clients asked for. */
    long asked = host_port(host, tls ? 443 : 80);
    if (asked >= 0 && ((port >= 0 && asked == port) || mapd_client_via_trusted_proxy(ctx)))
        snprintf(out, MAPD_BASE_URL_MAX, "%s://%s", scheme, host);
    else
        snprintf(out, MAPD_BASE_URL_MAX, "%s://%s", scheme, port >= 0 ? local : "127.0.0.1");
}

int mapd_field_int_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, unsigned flags,
                            long lo, long hi, long dflt, long *out)
{
    json_t *v = json_object_get(obj, name);
    *out = dflt;
    if ((!v || json_is_null(v)) && !(flags & MAPD_FIELD_REQUIRED))
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi) {
        *out = (long)json_integer_value(v);
        return 0;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "'%s' must be an integer from %ld to %ld", name, lo, hi);
    mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
    return -1;
}

int mapd_field_bool_or_reply(mapd_ctx *ctx, json_t *obj, const char *name, int *out)
{
    json_t *v = json_object_get(obj, name);
    *out = -1;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "'%s' must be true or false", name);
    mapd_problem(ctx, MHD_HTTP_UNPROCESSABLE_CONTENT, "Unprocessable Content", detail);
    return -1;
}

/* ---- numbers of the query string ---- */

/* The one reader of numbers in query strings. Its syntax is narrower than
 * strtol's and strtod's, whose leading blanks, '+' signs, hexadecimal,
 * "inf" and "nan" no client of this API means: an integer is -?[0-9]+, a
 * real -?[0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)? (JSON's numbers, leading zeros
 * allowed). number_end returns where the number that starts s ends, NULL
 * when s does not start with one. Work: one pass over the number. */
static const char *number_end(const char *s, int real)
{
    const char *p = s + (*s == '-');
    if (*p < '0' || *p > '9')
        return NULL;
    while (*p >= '0' && *p <= '9')
        p++;
    if (!real)
        return p;
    if (*p == '.') {
        if (*++p < '0' || *p > '9')
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '+' || *p == '-';
        if (*p < '0' || *p > '9')
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

int mapd_parse_long(const char *s, long *out)
{
    const char *end = s ? number_end(s, 0) : NULL;
    if (!end || *end)
        return 0;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno == ERANGE)
        return -1;
    *out = v;
    return 1;
}

/* A real at s, ending at end (number_end's) or failing: 1 with *v when it
 * is finite and strtod reads exactly that span, else 0. */
static int read_real(const char *s, const char *end, double *v)
{
    char *stop;
    errno = 0;
    *v = strtod(s, &stop);
    return stop == end && errno != ERANGE && isfinite(*v);
}

int mapd_parse_numbers(const char *s, double *v, int n)
{
    for (int i = 0; i < n; i++) {
        const char *end = number_end(s, 1);
        if (!end || !read_real(s, end, &v[i]) || *end != (i + 1 < n ? ',' : '\0'))
            return 0;
        s = end + 1;
    }
    return 1;
}

int mapd_long_arg_or_reply(mapd_ctx *ctx, const char *name, long lo, long hi, long dflt, long *out)
{
    const char *s = mapd_arg(ctx, name);
    *out = dflt;
    if (!s)
        return 0;
    long v;
    if (mapd_parse_long(s, &v) == 1 && v >= lo && v <= hi) {
        *out = v;
        return 0;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%s is an integer from %ld to %ld", name, lo, hi);
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
    return -1;
}

int mapd_flag_arg_or_reply(mapd_ctx *ctx, const char *name, int *out)
{
    const char *s = mapd_arg(ctx, name);
    *out = s && strcmp(s, "1") == 0;
    if (!s || strcmp(s, "1") == 0 || strcmp(s, "0") == 0)
        return 0;
    char detail[96];
    snprintf(detail, sizeof detail, "%s is 1 or 0", name);
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
    return -1;
}

int mapd_bbox_arg_or_reply(mapd_ctx *ctx, double max_deg2, double v[4])
{
    const char *s = mapd_arg(ctx, "bbox");
    if (!s)
        return 0;
    const char *why = NULL;
    if (!mapd_parse_numbers(s, v, 4))
        why = "bbox is WEST,SOUTH,EAST,NORTH in degrees";
    else if (fabs(v[0]) > 180 || fabs(v[2]) > 180 || fabs(v[1]) > 90 || fabs(v[3]) > 90)
        why = "bbox is out of range (longitudes within 180, latitudes within 90)";
    else if (v[0] >= v[2] || v[1] >= v[3])
        why = "bbox must have west < east and south < north";
    else if ((v[2] - v[0]) * (v[3] - v[1]) > max_deg2)
        why = "bbox covers too large an area: zoom in";
    if (!why)
        return 1;
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", why);
    return -1;
}

/* ---- arguments a route knows ---- */

typedef struct arg_check {
    const char *const *known;   /* NULL-terminated */
    const char *unknown;        /* the first argument not in known */
} arg_check;

static enum MHD_Result find_unknown(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    (void)value;
    arg_check *c = cls;
    for (const char *const *k = c->known; *k; k++)
        if (key && strcmp(key, *k) == 0)
            return MHD_YES;
    c->unknown = key ? key : "";
    return MHD_NO;
}

int mapd_known_args_or_reply(mapd_ctx *ctx, const char *const *known)
{
    arg_check c = { known, NULL };
    MHD_get_connection_values(ctx->conn, MHD_GET_ARGUMENT_KIND, find_unknown, &c);
    if (!c.unknown)
        return 0;
    char list[160] = "", detail[240];
    size_t len = 0;
    for (const char *const *k = known; *k && len < sizeof list; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k == known ? "" : ", ", *k);
    if (len >= sizeof list) /* never cut silently: too many to list */
        snprintf(list, sizeof list, "see the API's documentation");
    snprintf(detail, sizeof detail, "unknown parameter '%.40s' (known: %s)", c.unknown, list);
    mapd_problem(ctx, MHD_HTTP_BAD_REQUEST, "Bad Request", detail);
    return -1;
}
