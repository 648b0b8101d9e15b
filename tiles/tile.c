/*
 * tiles/tile.c — WebMercatorQuad tile maths (see tile.h). Tile y grows
 * southwards, as in the XYZ scheme MVT clients use.
 */
#include <math.h>

#include "tiles/tile.h"

int tiles_tile_valid(int z, int64_t x, int64_t y)
{
    if (z < 0 || z > TILES_MAX_ZOOM)
        return 0;
    int64_t n = (int64_t)1 << z;
    return x >= 0 && x < n && y >= 0 && y < n;
}

int tiles_tile_at(double lon, double lat, int z, int64_t *x, int64_t *y)
{
    if (z < 0 || z > TILES_MAX_ZOOM || !isfinite(lon) || !isfinite(lat))
        return TILES_EINVAL;
    if (lat > TILES_MAX_LAT) lat = TILES_MAX_LAT;
    if (lat < -TILES_MAX_LAT) lat = -TILES_MAX_LAT;
    if (lon < -180) lon = -180;
    if (lon > 180) lon = 180;
    double n = ldexp(1.0, z);
    double phi = lat * M_PI / 180.0;
    double fx = (lon + 180.0) / 360.0 * n;
    double fy = (1.0 - log(tan(phi) + 1.0 / cos(phi)) / M_PI) / 2.0 * n;
    int64_t max = ((int64_t)1 << z) - 1;
    *x = (int64_t)floor(fx);
    *y = (int64_t)floor(fy);
    if (*x > max) *x = max;
    if (*y > max) *y = max;
    if (*y < 0) *y = 0;
    return TILES_OK;
}

static double tile_lat(double y, double n)
{
    return atan(sinh(M_PI * (1.0 - 2.0 * y / n))) * 180.0 / M_PI;
}

int tiles_tile_bounds(int z, int64_t x, int64_t y, double bounds[4])
{
    if (!tiles_tile_valid(z, x, y))
        return TILES_EINVAL;
    double n = ldexp(1.0, z);
    bounds[0] = (double)x / n * 360.0 - 180.0;
    bounds[1] = tile_lat((double)y + 1, n);
    bounds[2] = (double)(x + 1) / n * 360.0 - 180.0;
    bounds[3] = tile_lat((double)y, n);
    return TILES_OK;
}
