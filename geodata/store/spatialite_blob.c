/*
 * geodata/store/spatialite_blob.c — a point in the geometry format of the
 * store's engine, written and read without an SQL function call.
 *
 * SpatiaLite's BLOB-Geometry: 0x00, byte order (0x01 little endian), SRID
 * (int32), MBR (4 doubles: min x, min y, max x, max y), 0x7C, class (int32,
 * 1 = POINT), x, y (doubles), 0xFE. The test suite compares it with
 * MakePoint().
 * PostGIS's EWKB point: byte order (0x01 little endian, 0x00 big), type
 * (uint32, 1 = POINT, | 0x20000000 when an SRID follows), SRID (int32), x, y
 * (doubles). PostGIS casts it from bytea to geometry on insert, and gives a
 * geometry column back in it (pg.c decodes the hex).
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "spatialite_blob.h"

#define EWKB_SRID_FLAG 0x20000000u
#define EWKB_POINT_SIZE 25

static unsigned char *put_i32(unsigned char *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++, u >>= 8)
        *p++ = (unsigned char)u;
    return p;
}

static unsigned char *put_f64(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    for (int i = 0; i < 8; i++, u >>= 8)
        *p++ = (unsigned char)u;
    return p;
}

void geodata_point_blob(double x, double y, int srid, unsigned char out[GEODATA_POINT_BLOB_SIZE])
{
    unsigned char *p = out;
    *p++ = 0x00;
    *p++ = 0x01;
    p = put_i32(p, srid);
    p = put_f64(p, x);
    p = put_f64(p, y);
    p = put_f64(p, x);
    p = put_f64(p, y);
    *p++ = 0x7C;
    p = put_i32(p, 1);
    p = put_f64(p, x);
    p = put_f64(p, y);
    *p = 0xFE;
}

void geodata_bind_point(geodata_store *store, sql_stmt *st, int i, double x, double y,
                        unsigned char buf[GEODATA_POINT_BLOB_SIZE])
{
    if (!store->pg) {
        geodata_point_blob(x, y, 4326, buf);
        sql_bind_blob(st, i, buf, GEODATA_POINT_BLOB_SIZE, SQL_STATIC);
        return;
    }
    unsigned char *p = buf;
    *p++ = 0x01;
    p = put_i32(p, (int32_t)(1u | EWKB_SRID_FLAG));
    p = put_i32(p, 4326);
    p = put_f64(p, x);
    put_f64(p, y);
    sql_bind_blob(st, i, buf, EWKB_POINT_SIZE, SQL_STATIC);
}

static double get_f64(const unsigned char *p, int little)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[little ? i : 7 - i] << (8 * i);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint32_t get_u32(const unsigned char *p, int little)
{
    uint32_t u = 0;
    for (int i = 0; i < 4; i++)
        u |= (uint32_t)p[little ? i : 3 - i] << (8 * i);
    return u;
}

/* The box of an (E)WKB point: 0, or -1 when blob is not one. */
static int wkb_point_box(const unsigned char *blob, int len, double box[4])
{
    if (len < 21 || (blob[0] != 0x00 && blob[0] != 0x01))
        return -1;
    int little = blob[0] == 0x01;
    uint32_t type = get_u32(blob + 1, little);
    int off = 5 + ((type & EWKB_SRID_FLAG) ? 4 : 0);
    if ((type & 0xffffu) != 1 || len < off + 16)
        return -1;
    box[0] = box[1] = get_f64(blob + off, little);
    box[2] = box[3] = get_f64(blob + off + 8, little);
    return 0;
}

int geodata_blob_box(const unsigned char *blob, int len, double box[4])
{
    if (blob && len > 0 && len < 45)
        return wkb_point_box(blob, len, box);
    if (!blob || len < 45 || blob[0] != 0x00 || blob[38] != 0x7C || blob[len - 1] != 0xFE
        || (blob[1] != 0x00 && blob[1] != 0x01))
        return -1;
    int little = blob[1] == 0x01;
    box[0] = get_f64(blob + 6, little);
    box[2] = get_f64(blob + 14, little);
    box[1] = get_f64(blob + 22, little);
    box[3] = get_f64(blob + 30, little);
    return 0;
}
