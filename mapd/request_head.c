/*
 * mapd/request_head.c — the request head checked for what could be read
 * two ways: by us and by a proxy in front, or by two proxies (request
 * smuggling), before the body is read or anything is dispatched.
 *
 * libmicrohttpd 0.9.75 (Debian 12) has already split the head into fields;
 * what it leaves ambiguous is refused here, each with a 400 and the
 * connection closed (server.c):
 *   - HTTP/1.1 without Host, or with two;
 *   - a field name that is not an RFC 9110 token ("Transfer-Encoding :" with
 *     a space keeps the space in the name: one reader sees the field,
 *     another does not);
 *   - a field value holding a control character other than tab (a bare CR,
 *     a NUL);
 *   - two Content-Length fields, even equal ones;
 *   - Content-Length together with Transfer-Encoding;
 *   - a Transfer-Encoding other than exactly "chunked" (any case), or one
 *     in an HTTP/1.0 request.
 * What libmicrohttpd accepts before this code sees the request (line ends
 * of a bare LF, a folded field line, which it joins to the previous value)
 * cannot be told apart here; docs/security.md says what covers them.
 */
#include <string.h>
#include <strings.h>

#include "request_head.h"

typedef struct head_scan {
    int hosts, lengths, encodings;
    const char *encoding;
    const char *bad;              /* the first fault found, as a detail; NULL: none */
} head_scan;

static int token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static enum MHD_Result scan_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    head_scan *s = cls;
    if (key_size == 0)
        s->bad = "a header field has no name";
    for (size_t i = 0; i < key_size && !s->bad; i++)
        if (!token_char((unsigned char)key[i]))
            s->bad = "a header field name holds a character a name cannot hold";
    for (size_t i = 0; value && i < value_size && !s->bad; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            s->bad = "a header field value holds a control character";
    }
    if (s->bad)
        return MHD_NO;
    if (strcasecmp(key, "Host") == 0)
        s->hosts++;
    else if (strcasecmp(key, "Content-Length") == 0)
        s->lengths++;
    else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        s->encodings++;
        s->encoding = value;
    }
    return MHD_YES;
}

const char *mapd_request_head_fault(struct MHD_Connection *conn, const char *version)
{
    head_scan s = { 0 };
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_field, &s);
    if (s.bad)
        return s.bad;
    int http11 = version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
    if (http11 && s.hosts == 0)
        return "an HTTP/1.1 request needs a Host header";
    if (s.hosts > 1)
        return "the request has more than one Host header";
    if (s.lengths > 1)
        return "the request has more than one Content-Length header";
    if (s.lengths && s.encodings)
        return "the request has both Content-Length and Transfer-Encoding";
    if (s.encodings > 1 || (s.encodings && strcasecmp(s.encoding, "chunked") != 0))
        return "the only Transfer-Encoding accepted is chunked";
    if (s.encodings && !http11)
        return "Transfer-Encoding needs HTTP/1.1";
    return NULL;
}
