/*
 * geodata/store/spatialite_blob.c — a point in SpatiaLite's BLOB-Geometry format:
 * 0x00, byte order (0x01 little endian), SRID (int32), MBR (4 doubles:
 * min x, min y, max x, max y), 0x7C, class (int32, 1 = POINT), x, y
 * (doubles), 0xFE. The test suite compares it with MakePoint().
 */
#include <stdint.h>
#include <string.h>

#include "spatialite_blob.h"

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

static double get_f64(const unsigned char *p, int little)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[little ? i : 7 - i] << (8 * i);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

int geodata_blob_box(const unsigned char *blob, int len, double box[4])
{
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
