/*
 * geodata/feeds.h — private feeds: a member's secret feed address, for a
 * feed reader or a dashboard that cannot log in.
 *
 * A member has at most one feed token. The store keeps its hash only
 * (SHA-256-sized, made by the caller, as session tokens are); whoever holds
 * the token reads, through the feed, what its member may see on the map,
 * and nothing more. Making a new token revokes the old one; deleting it
 * revokes it. A member deleted takes their token along.
 */
#ifndef GEODATA_FEEDS_H
#define GEODATA_FEEDS_H

#include <stdint.h>

#include "geodata/store.h"

/* Sets member's feed token to the one whose hash is given (the old one, if
 * any, stops working). Audited. */
int geodata_feed_token_set(geodata_store *store, int64_t member, const unsigned char hash[32],
                           int64_t now);

/* Revokes member's feed token; GEODATA_ENOTFOUND when there is none. Audited. */
int geodata_feed_token_delete(geodata_store *store, int64_t member);

/* The member whose feed token has this hash, and when it was made;
 * GEODATA_ENOTFOUND when none has. Work: one indexed read. */
int geodata_feed_token_member(geodata_store *store, const unsigned char hash[32], int64_t *member,
                              int64_t *created_at);

/* When member's token was made (0: they have none). */
int geodata_feed_token_of(geodata_store *store, int64_t member, int64_t *created_at);

#endif
