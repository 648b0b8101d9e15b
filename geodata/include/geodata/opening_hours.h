/*
 * geodata/opening_hours.h — is a shop's opening_hours value well formed?
 *
 * A syntax checker for OpenStreetMap's opening_hours tag (specification
 * v0.7), used to vet values imported with shops or typed by shop owners
 * before they are stored. It answers "does this parse?", with the first
 * problem located and explained in one short English sentence; it does not
 * say when a shop is open, nor whether the ranges make sense: "Fr-Mo",
 * "Dec 31-Jan 01" and "22:00-02:00" are all fine.
 *
 * Pure function of its input: no allocation, no global state, safe from any
 * number of threads at once.
 */
#ifndef GEODATA_OPENING_HOURS_H
#define GEODATA_OPENING_HOURS_H

#include <stddef.h>

#define GEODATA_OH_EINVAL  (-3)   /* the value of GEODATA_EINVAL (geodata/store.h) */
#define GEODATA_OH_MAX_LEN 255    /* bytes in a value; OSM refuses longer tag values */

typedef struct geodata_oh_error {
    size_t offset;        /* byte offset in the value where the problem was found */
    char message[128];    /* one short English sentence, e.g. "expected a time like 08:30" */
} geodata_oh_error;

/*
 * Checks value (UTF-8, NUL-terminated) against the opening_hours syntax.
 *
 * Returns 0 when valid, and then clears *err (offset 0, empty message) when
 * err is not NULL. Returns GEODATA_OH_EINVAL (-3) when not valid, with *err
 * filled when err is not NULL: offset is the byte where the problem was found,
 * always < strlen(value) for a non-empty value (a problem found at the end
 * points at the last token, e.g. the dangling '-' of "Mo-Fr 08:00-"), and 0
 * for an empty one. A NULL value is invalid too.
 *
 * Work: linear in the length; values longer than GEODATA_OH_MAX_LEN bytes are
 * refused (OSM's tag limit) after reading at most GEODATA_OH_MAX_LEN + 1
 * bytes. Never reads past the terminating NUL; keeps no pointer to value.
 */
int geodata_opening_hours_check(const char *value, geodata_oh_error *err);

/*
 * Opening hours as people write them, in French or English ("lun-sam
 * 9h-19h", "du lundi au vendredi de 9h à 12h et de 14h à 19h", "Mon–Sat
 * 9am–7pm, Sun closed", "tous les jours 8h-20h"), into OSM opening_hours
 * ("Mo-Sa 09:00-19:00; Su off") in out (n bytes). A value that is already
 * valid OSM is copied as it is. GEODATA_OH_EINVAL when the text is neither,
 * with *err as geodata_opening_hours_check says of it (err may be NULL).
 * The output is always checked valid. Work: linear in the text.
 */
int geodata_opening_hours_from_text(const char *text, char *out, size_t n, geodata_oh_error *err);

#endif
