/*
 * geodata/audit.h — reading the audit log: who did what to which record,
 * for staff.
 *
 * The log is written inside the transactions of the actions it records
 * (geodata's own files append to it); this is its one reader. Entries are
 * read newest first, a page at a time, by id: a page ends where the next
 * one starts (`before`), so rows added while someone pages do not shift
 * what they read next.
 */
#ifndef GEODATA_AUDIT_H
#define GEODATA_AUDIT_H

#include <stdint.h>

#include "geodata/members.h"
#include "geodata/store.h"

#define GEODATA_AUDIT_PAGE_MAX 500       /* entries read at most in one page */

typedef struct geodata_audit_entry {
    int64_t id;
    int64_t at;                               /* Unix seconds */
    int64_t actor_id;                         /* 0: the command line, or a removed account */
    char actor_name[GEODATA_NAME_MAX + 1];    /* "" when actor_id is 0 */
    const char *action;                       /* owned by the reader, valid during the visit */
    const char *target;                       /* NULL when none */
    const char *detail;                       /* NULL when none */
} geodata_audit_entry;

/*
 * Visits at most limit (1 to GEODATA_AUDIT_PAGE_MAX) entries with an id
 * below before (0: from the newest), newest first. *more is set to 1 when
 * older entries remain after the last one visited. A non-zero return of
 * each stops the visit and is returned. GEODATA_EINVAL for a limit out of
 * range. Work: one index range of limit + 1 rows.
 */
int geodata_audit_read(geodata_store *store, int64_t before, int limit,
                       int (*each)(void *arg, const geodata_audit_entry *e), void *arg,
                       int *more);

#endif
