/*
 * tests/scale/scale_accuracy.c DB — the geocoder's accuracy floors on the
 * addresses of DB, whatever the city or country it holds: clean queries'
 * top result exactly the address in at least 99.5 % of cases, perturbed ones
 * within 30 m in at least 99 %, invented addresses given a confident house
 * number in at most 0.5 %. The queries are written from the data by
 * tests/geodata/geocode_eval.c, as for the Paris sample. Prints every figure;
 * exits 1 when a floor is missed, 2 when the store cannot be read.
 */
#include <stdio.h>

#include "geocode_eval.h"
#include "geodata/geocode.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: scale_accuracy DB\n");
        return 2;
    }
    geodata_store *store;
    char *err;
    if (geodata_store_open(argv[1], GEODATA_OPEN_READONLY, &store, &err)) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    eval_set set;
    geodata_geocoder *g;
    if (eval_load(store, &set) || geodata_geocoder_load(store, &g)) {
        fprintf(stderr, "%s\n", geodata_errmsg(store));
        return 2;
    }
    eval_result r;
    eval_run(g, &set, 3000, 1500, 20200317, &r);
    eval_print(&r, "", stdout);
    double clean = 100.0 * (double)r.exact[EVAL_CLEAN] / (double)r.asked[EVAL_CLEAN];
    double perturbed = 100.0 * eval_perturbed_within30(&r);
    double invented = 100.0 * (double)r.fake_confident / (double)r.fake_asked;
    int ok = clean >= 99.5 && perturbed >= 99.0 && invented <= 0.5;
    printf("%s: clean exact %.2f%% (>= 99.5), perturbed within 30 m %.2f%% (>= 99), "
           "invented confident %.2f%% (<= 0.5), over %zu addresses\n", ok ? "ok" : "FAIL", clean,
           perturbed, invented, geodata_geocoder_count(g));
    geodata_geocoder_free(g);
    eval_free(&set);
    geodata_store_close(store);
    return ok ? 0 : 1;
}
