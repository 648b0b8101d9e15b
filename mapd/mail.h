/*
 * mapd/mail.h — alert mails as messages (RFC 5322 and MIME): the headers,
 * the French text, and their encodings (mail.c). Nothing here touches the
 * network: alerts.c hands the message to libcurl.
 *
 * A message is text/plain in UTF-8, quoted-printable (so it passes relays
 * without 8BITMIME, with lines of at most 76 characters), its subject an
 * RFC 2047 encoded word. It says what the map shows of a post (title, kind,
 * category, neighbourhood, a distance rounded from the subscriber's own
 * home) and links to the post on the map; never an address or a point.
 */
#ifndef MAPD_MAIL_H
#define MAPD_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/subscriptions.h"

typedef struct mapd_mail {
    const char *from;             /* the From header as given (--smtp-from) */
    const char *domain;           /* for the Message-ID: the sender's domain */
    const char *base_url;         /* links to the map: base_url "/#post=ID" */
    const char *unsubscribe_url;  /* List-Unsubscribe; NULL: none (a test alert) */
    const char *message_id;       /* unique, without <>: e.g. random hex and the delivery id */
    int64_t now;                  /* the Date header */
} mapd_mail;

/* The message for alert a with m's headers, CRLF lines, into *out (malloc'd,
 * *len bytes, NUL-terminated too). 0, or -1 when out of memory. Work:
 * linear in the items listed (at most GEODATA_DIGEST_ITEMS). */
int mapd_mail_alert(const mapd_mail *m, const geodata_alert *a, char **out, size_t *len);

/* The French name of a post's category, or the name itself. */
const char *mapd_mail_category(const char *category);

/* "à environ 300 m" for a distance in metres (rounded to 100 m below 1 km,
 * to 0.1 km above), into out (of size n); "" when d < 0 (unknown). */
void mapd_mail_distance(double d, char *out, size_t n);

/* The address inside a From value: "Name <a@b>" gives a@b, "a@b" itself;
 * into out (of size n). 0, or -1 when there is none or it does not fit,
 * or the value holds a line break or a character outside printable ASCII. */
int mapd_mail_address(const char *from, char *out, size_t n);

#endif
