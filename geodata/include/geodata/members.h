/*
 * geodata/members.h — members, their sessions and what they may see.
 *
 * A member's home (address text and point) is written once, at registration,
 * and read back only by geodata_post_claim() for the volunteer who claims one
 * of their requests: no other function returns it.
 */
#ifndef GEODATA_MEMBERS_H
#define GEODATA_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/store.h"

#define GEODATA_EMAIL_MAX 254
#define GEODATA_NAME_MAX  80     /* display names, in bytes */
#define GEODATA_ID_MAX    64     /* neighbourhood ids */

typedef struct geodata_member {
    int64_t id;
    char email[GEODATA_EMAIL_MAX + 1];
    char display_name[GEODATA_NAME_MAX + 1];
    char role[8];                               /* member, shop, staff, admin */
    char neighbourhood_id[GEODATA_ID_MAX + 1];  /* "" when none */
    char neighbourhood_name[128];
} geodata_member;

typedef struct geodata_new_member {
    const char *email;
    const char *password_hash;   /* already hashed (argon2id string) */
    const char *display_name;
    const char *role;
    const char *address_id;      /* source id of the verified address, or NULL */
    const char *address_text;    /* the matched address, private */
    double home_lon, home_lat;   /* private */
    const char *neighbourhood_id;/* NULL for staff created without address */
} geodata_new_member;

/* Creates a member; GEODATA_ECONFLICT when the email is taken (any case). */
int geodata_member_create(geodata_store *store, const geodata_new_member *m, int64_t *id);

/* The member with this id or email; GEODATA_ENOTFOUND when none. For the
 * email, also copies the password hash into hash (of size n). */
int geodata_member_get(geodata_store *store, int64_t id, geodata_member *out);
int geodata_member_by_email(geodata_store *store, const char *email, geodata_member *out,
                            char *hash, size_t n);

/* The member's own account (member_account.c). */
typedef struct geodata_member_change {
    const char *display_name;          /* NULL keeps */
    const char *password_hash;         /* NULL keeps; already hashed */
    const geodata_new_member *home;    /* NULL keeps; else its address_id, address_text,
                                          home_lon, home_lat, neighbourhood_id (verified) */
} geodata_member_change;

/* The member's password hash into hash (of size n). */
int geodata_member_password_hash(geodata_store *store, int64_t id, char *hash, size_t n);
/* Changes what c says; GEODATA_ENOTFOUND for an unknown member. A new home
 * moves the member's maker profile, if any, to the new home's public point
 * in the same transaction; posts already published keep theirs. */
int geodata_member_update(geodata_store *store, int64_t id, const geodata_member_change *c);

/* The name a deleted account's done posts keep. */
#define GEODATA_DELETED_NAME "(compte supprimé)"
/* Deletes an account (see member_account.c for what stays and what goes);
 * one transaction, audited. */
int geodata_member_delete(geodata_store *store, int64_t id, int64_t now);

/* ---- a forgotten password (password_resets.c) ---- */

#define GEODATA_RESETS_PAGE 200          /* live resets listed at most per call */

typedef struct geodata_password_reset {
    int64_t id, member_id;
    char display_name[GEODATA_NAME_MAX + 1];
    char email[GEODATA_EMAIL_MAX + 1];
    char token[96];                      /* the link's secret, to pass on by hand */
    int64_t created_at, expires_at;
} geodata_password_reset;

/* A reset link for member, valid until expires_at, replacing any earlier
 * one (a member has at most one live link). hash is the token's 32-byte
 * hash, the key the link is found by; token, when not NULL, is kept for
 * staff to pass on while no mail can carry it. Expired links are purged. */
int geodata_password_reset_create(geodata_store *store, int64_t member, const unsigned char hash[32],
                                  const char *token, int64_t now, int64_t expires_at);

/* The live links kept for staff to pass on, newest first: those of members
 * and shop accounts, and with staff_too those of staff and admin accounts
 * as well (for an admin: a link sets a password, so a staff member must not
 * read an admin's); those with an id below before (0: from the newest), at
 * most limit (1 to GEODATA_RESETS_PAGE, else GEODATA_EINVAL). *more says
 * whether older ones follow the last one visited. Work: one index range of
 * limit + 1 live rows. */
int geodata_password_resets(geodata_store *store, int64_t now, int staff_too, int64_t before,
                            size_t limit,
                            int (*each)(void *arg, const geodata_password_reset *r), void *arg,
                            int *more);

/* Uses the live link of this hash: the member's password becomes
 * password_hash, every session of theirs ends and the link is spent, in one
 * transaction, audited; *member gets whose it was. GEODATA_ENOTFOUND for
 * an unknown, spent or expired link. */
int geodata_password_reset_use(geodata_store *store, const unsigned char hash[32],
                               const char *password_hash, int64_t now, int64_t *member);

/* Sessions: the token's hash (32 bytes) is the key; the token itself is
 * never stored. */
typedef struct geodata_session {
    int64_t member_id;
    char csrf[65];
    int64_t expires_at;
} geodata_session;

int geodata_session_create(geodata_store *store, const unsigned char hash[32], int64_t member_id,
                           const char *csrf, int64_t expires_at);
/* GEODATA_ENOTFOUND for an unknown or expired session. */
int geodata_session_get(geodata_store *store, const unsigned char hash[32], int64_t now,
                        geodata_session *out);
int geodata_session_delete(geodata_store *store, const unsigned char hash[32]);
/* Deletes expired sessions; returns how many through *n. */
int geodata_session_purge(geodata_store *store, int64_t now, int64_t *n);


#endif
