/*
 * mapd/client_address.c — who the client is, as the limits and the access
 * log see it: the address of the connection's peer, or, when that peer is
 * the reverse proxy named by --trusted-proxy, the address that proxy says it
 * was connected from (the last entry of X-Forwarded-For, which the proxy
 * appends). X-Forwarded-For from anyone else is ignored: it is whatever the
 * client chose to write. A trusted proxy's entry that is not an IPv4 or IPv6
 * address leaves the proxy's own address (one bucket for all, as without
 * --trusted-proxy: failing closed, not open). The same proxy's Host header
 * is believed for absolute links (request.c, mapd_base_url).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* An IPv4 address as a dotted quad into buf (at least INET_ADDRSTRLEN
 * bytes: 16). By hand: glibc's inet_ntop formats with sprintf, and every printf
 * in this process takes the slow positional path (server.c), on every
 * request since each is logged with its address. */
static void ipv4_text(const struct in_addr *in, char *buf)
{
    const unsigned char *b = (const unsigned char *)&in->s_addr;
    char *p = buf;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100)
            *p++ = (char)('0' + v / 100);
        if (v >= 10)
            *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = i < 3 ? '.' : '\0';
    }
}

static void peer_address(struct MHD_Connection *conn, char buf[MAPD_CLIENT_ADDRESS_LEN])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '-';
    buf[1] = '\0';
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        ipv4_text(&((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, buf,
                  MAPD_CLIENT_ADDRESS_LEN);
}

static enum MHD_Result last_forwarded(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    if (strcasecmp(key, "X-Forwarded-For") == 0)
        *(const char **)cls = value;
    return MHD_YES;
}

/* The last comma-separated entry of list, as a normalised address into buf:
 * 1, or 0 when it is not one. */
static int last_entry(const char *list, char buf[MAPD_CLIENT_ADDRESS_LEN])
{
    const char *end = list + strlen(list);
    while (end > list && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    const char *start = end;
    while (start > list && start[-1] != ',')
        start--;
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    size_t n = (size_t)(end - start);
    char text[MAPD_CLIENT_ADDRESS_LEN];
    if (n == 0 || n >= sizeof text)
        return 0;
    memcpy(text, start, n);
    text[n] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, text, &a4) == 1) {
        ipv4_text(&a4, buf);
        return 1;
    }
    return inet_pton(AF_INET6, text, &a6) == 1
           && inet_ntop(AF_INET6, &a6, buf, MAPD_CLIENT_ADDRESS_LEN) != NULL;
}

int mapd_client_via_trusted_proxy(mapd_ctx *ctx)
{
    if (!ctx->server || !ctx->server->trusted_proxy)
        return 0;
    char peer[MAPD_CLIENT_ADDRESS_LEN];
    peer_address(ctx->conn, peer);
    return strcmp(peer, ctx->server->trusted_proxy) == 0;
}

void mapd_client_address(mapd_ctx *ctx, char buf[MAPD_CLIENT_ADDRESS_LEN])
{
    peer_address(ctx->conn, buf);
    const char *proxy = ctx->server ? ctx->server->trusted_proxy : NULL;
    if (!proxy || strcmp(buf, proxy) != 0)
        return;
    const char *list = NULL;
    MHD_get_connection_values(ctx->conn, MHD_HEADER_KIND, last_forwarded, &list);
    char forwarded[MAPD_CLIENT_ADDRESS_LEN];
    if (list && last_entry(list, forwarded))
        memcpy(buf, forwarded, sizeof forwarded);
}

int mapd_client_address_normalise(const char *text, char out[MAPD_CLIENT_ADDRESS_LEN])
{
    return last_entry(text, out) && !strchr(text, ',');
}
