/*
 * mapd/mail.c — alert mails as messages (see mail.h).
 *
 * The text is written once, in French (the service's members are), as
 * lines ending in "\n"; it is then encoded quoted-printable into lines
 * ending in CRLF. Headers are ASCII: the subject goes as RFC 2047 encoded
 * words (base64 of UTF-8, each at most 75 characters, never splitting a
 * character), the other values are ASCII by construction (the sender's
 * address is checked when the server starts, the recipient's before the
 * message is built, URLs are the server's own). Dates are written with
 * fixed English names, as RFC 5322 wants, whatever the process's locale.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mail.h"
#include "text.h"

/* Appends printf's output to t: 0, or -1 when out of memory. */
static int putf(mapd_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int putf(mapd_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[512];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return mapd_text_append(t, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = mapd_text_append(t, big, (size_t)n);
    free(big);
    return rc;
}

static const struct { const char *name, *fr; } categories[] = {
    { "groceries", "Courses" }, { "pharmacy", "Pharmacie" }, { "childcare", "Garde d’enfants" },
    { "schooling", "Devoirs, école" }, { "masks", "Masques" },
    { "errands", "Démarches, petits services" }, { "company", "Compagnie" },
    { "pets", "Animaux" }, { "materials", "Matériel" }, { "other", "Autre" },
};

const char *mapd_mail_category(const char *category)
{
    for (size_t i = 0; i < sizeof categories / sizeof *categories; i++)
        if (strcmp(categories[i].name, category) == 0)
            return categories[i].fr;
    return category;
}

void mapd_mail_distance(double d, char *out, size_t n)
{
    if (!(d >= 0)) {
        snprintf(out, n, "%s", "");
    } else if (d < 950) {
        long m = lround(d / 100) * 100;
        snprintf(out, n, "à environ %ld m", m < 100 ? 100 : m);
    } else {
        long tenths = lround(d / 100); /* 0.1 km */
        snprintf(out, n, "à environ %ld,%ld km", tenths / 10, tenths % 10);
    }
}

int mapd_mail_address(const char *from, char *out, size_t n)
{
    for (const unsigned char *c = (const unsigned char *)from; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return -1;
    const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    const char *s = lt ? lt + 1 : from;
    size_t len = lt ? (gt ? (size_t)(gt - s) : 0) : strlen(from);
    if (lt && (!gt || gt[1]))
        return -1;
    if (len == 0 || len >= n || !memchr(s, '@', len))
        return -1;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ' ' || s[i] == '<' || s[i] == '>' || s[i] == '"' || s[i] == ',')
            return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

/* text in quoted-printable (RFC 2045), "\n" lines made CRLF, appended to t. */
static int put_qp(mapd_text *t, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const char *line = text; !rc && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        size_t col = 0;
        for (size_t i = 0; !rc && i < len; i++) {
            unsigned char c = (unsigned char)line[i];
            char piece[3];
            size_t pn;
            if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && i + 1 < len)) {
                piece[0] = (char)c;
                pn = 1;
            } else {
                piece[0] = '=';
                piece[1] = hex[c >> 4];
                piece[2] = hex[c & 15];
                pn = 3;
            }
            if (col + pn > 75) {          /* 76 with the soft break's '=' */
                rc = mapd_text_append(t, "=\r\n", 3);
                col = 0;
            }
            if (!rc)
                rc = mapd_text_append(t, piece, pn);
            col += pn;
        }
        if (!rc)
            rc = mapd_text_append(t, "\r\n", 2);
        line = end ? end + 1 : line + len;
    }
    return rc;
}

/* "Subject: " and s as encoded words, folded, and CRLF. */
static int put_subject(mapd_text *t, const char *s)
{
    int rc = mapd_text_append(t, "Subject:", 8);
    size_t len = strlen(s), at = 0;
    while (!rc && at < len) {
        size_t n = len - at > 45 ? 45 : len - at;   /* 60 base64 characters: a word of 72 */
        while (n < len - at && n > 0 && ((unsigned char)s[at + n] & 0xC0) == 0x80)
            n--;                                     /* not inside a character */
        char b64[64];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s + at, n,
                          sodium_base64_VARIANT_ORIGINAL);
        rc = putf(t, "%s=?UTF-8?B?%s?=", at ? "\r\n " : " ", b64);
        at += n;
    }
    return rc ? rc : mapd_text_append(t, "\r\n", 2);
}

/* A title as one line of the body: control characters become spaces. */
static void one_line(const char *s, char *out, size_t n)
{
    snprintf(out, n, "%s", s);
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
}

/* The body of a post's alert. */
static int body_post(mapd_text *b, const mapd_mail *m, const geodata_alert_item *it)
{
    char title[GEODATA_TITLE_MAX + 1], dist[64];
    one_line(it->title, title, sizeof title);
    mapd_mail_distance(it->distance_m, dist, sizeof dist);
    int request = strcmp(it->kind, "request") == 0;
    return putf(b, "Bonjour,\n\n%s près de chez vous :\n\n  %s\n  %s · %s\n  Quartier : %s%s%s\n\n"
                "Voir l’annonce sur la carte : %s/#post=%lld\n",
                request ? "Une nouvelle demande d’aide a été publiée"
                        : "Une nouvelle offre d’aide a été publiée",
                title, request ? "Demande" : "Offre", mapd_mail_category(it->category),
                it->neighbourhood, dist[0] ? ", " : "", dist, m->base_url, (long long)it->post_id);
}

/* The body of a digest: each item listed, those beyond counted. */
static int body_digest(mapd_text *b, const mapd_mail *m, const geodata_alert *a)
{
    int rc = putf(b, "Bonjour,\n\nVoici les annonces publiées près de chez vous depuis votre "
                  "dernier résumé :\n\n");
    for (size_t i = 0; !rc && i < a->n_items; i++) {
        const geodata_alert_item *it = &a->items[i];
        char title[GEODATA_TITLE_MAX + 1], dist[64];
        one_line(it->title, title, sizeof title);
        mapd_mail_distance(it->distance_m, dist, sizeof dist);
        rc = putf(b, "- %s\n  %s · %s · %s%s%s\n  %s/#post=%lld\n\n", title,
                  strcmp(it->kind, "request") == 0 ? "Demande" : "Offre",
                  mapd_mail_category(it->category), it->neighbourhood, dist[0] ? ", " : "", dist,
                  m->base_url, (long long)it->post_id);
    }
    if (!rc && a->total_items > a->n_items) {
        size_t more = a->total_items - a->n_items;
        rc = putf(b, "… et %zu autre%s annonce%s, à voir sur la carte : %s/\n", more,
                  more > 1 ? "s" : "", more > 1 ? "s" : "", m->base_url);
    }
    return rc;
}

/* The RFC 5322 date of t (UTC) into out (of size n). */
static void mail_date(int64_t t, char *out, size_t n)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int mapd_mail_alert(const mapd_mail *m, const geodata_alert *a, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    mapd_text body = { 0 }, msg = { 0 };
    char subject[GEODATA_TITLE_MAX + 128];
    int rc;
    if (strcmp(a->type, "test") == 0) {
        snprintf(subject, sizeof subject, "Entraide : alerte de test");
        rc = putf(&body, "Bonjour,\n\nCeci est une alerte de test : les alertes d’Entraide vous "
                  "parviennent bien à cette adresse.\n\nVos alertes : %s/\n", m->base_url);
    } else if (strcmp(a->type, "digest") == 0) {
        snprintf(subject, sizeof subject, "Entraide : %zu annonce%s près de chez vous",
                 a->total_items, a->total_items > 1 ? "s" : "");
        rc = body_digest(&body, m, a);
    } else {
        char title[GEODATA_TITLE_MAX + 1];
        one_line(a->n_items ? a->items[0].title : "", title, sizeof title);
        snprintf(subject, sizeof subject, "Entraide : %s près de chez vous — %s",
                 a->n_items && strcmp(a->items[0].kind, "offer") == 0 ? "une offre" : "une demande",
                 title);
        rc = a->n_items ? body_post(&body, m, &a->items[0]) : -1;
    }
    if (!rc && m->unsubscribe_url)
        rc = putf(&body, "\n-- \nVous recevez ce message parce que vous avez demandé des alertes "
                  "Entraide.\nSe désabonner de cette alerte : %s\n", m->unsubscribe_url);
    char date[40];
    mail_date(m->now, date, sizeof date);
    if (!rc)
        rc = putf(&msg, "From: %s\r\nTo: %s\r\n", m->from, a->email);
    if (!rc)
        rc = put_subject(&msg, subject);
    if (!rc)
        rc = putf(&msg, "Date: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: quoted-printable\r\n"
                  "Auto-Submitted: auto-generated\r\n", date, m->message_id, m->domain);
    if (!rc && m->unsubscribe_url)
        rc = putf(&msg, "List-Unsubscribe:\r\n <%s>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
                  m->unsubscribe_url);
    if (!rc)
        rc = mapd_text_append(&msg, "\r\n", 2);
    if (!rc)
        rc = put_qp(&msg, body.data ? body.data : "");
    free(body.data);
    if (rc) {
        free(msg.data);
        return -1;
    }
    *out = msg.data;
    *len = msg.len;
    return 0;
}
