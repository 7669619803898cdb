/* specbias compare with three files or more: the machines table, rows experiments and kernels,
 * columns files, values relative to the first file, the best marked. */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include "harness/compare/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct mrow *table_row(struct table *t, const char *kind, const char *name,
                              const char *metric, int lower_better)
{
    char *key = NULL;
    const size_t klen = strlen(kind) + strlen(metric) + strlen(name) + 3;
    if (!(key = malloc(klen))) return NULL;
    snprintf(key, klen, "%s %s %s", kind, metric, name);
    const json_t *at = json_object_get(t->index, key);
    if (json_is_integer(at)) {
        free(key);
        return &t->rows[json_integer_value(at)];
    }
    if (t->n == t->cap) {
        const size_t cap = t->cap ? 2 * t->cap : 32;
        struct mrow *r = realloc(t->rows, cap * sizeof *r);
        if (!r) {
            free(key);
            return NULL;
        }
        t->rows = r;
        t->cap = cap;
    }
    struct mrow *r = &t->rows[t->n];
    *r = (struct mrow){kind, name, metric, lower_better, NULL, -1};
    r->values = malloc(t->nfiles * sizeof *r->values);
    if (!r->values || json_object_set_new(t->index, key, json_integer((json_int_t)t->n))) {
        free(r->values);
        free(key);
        return NULL;
    }
    for (size_t f = 0; f < t->nfiles; f++) r->values[f] = NAN;
    t->n++;
    free(key);
    return r;
}

static int table_set(struct table *t, const char *kind, const char *name, const char *metric,
                     int lower_better, size_t file, const struct vec *v)
{
    if (v->n == 0) return 0;
    struct mrow *r = table_row(t, kind, name, metric, lower_better);
    if (!r) return NO_MEMORY;
    r->values[file] = sb_stats_median(v->v, v->n);
    return isnan(r->values[file]) ? NO_MEMORY : 0;
}

int sb_table_build(struct table *t, const struct input *in, size_t nin)
{
    t->nfiles = nin;
    t->index = json_object();
    if (!t->index) return NO_MEMORY;
    for (size_t f = 0; f < nin; f++) {
        for (size_t i = 0; i < in[f].nexp; i++) {
            const struct experiment *e = &in[f].exps[i];
            if (table_set(t, "experiment", e->name, "seconds_per_step", 1, f, &e->sec_per_step) ||
                table_set(t, "experiment", e->name, "time_to_target_s", 1, f, &e->time_to_target) ||
                table_set(t, "experiment", e->name, "final_psnr_db", 0, f, &e->psnr))
                return NO_MEMORY;
        }
        for (size_t i = 0; i < in[f].nkern; i++) {
            const struct kernel *k = &in[f].kerns[i];
            if (table_set(t, "kernel", k->name, "real_time_ns", 1, f, &k->real_ns) ||
                table_set(t, "kernel", k->name, "gflops", 0, f, &k->gflops))
                return NO_MEMORY;
        }
    }
    /* The winner is the one best value; with fewer than two values, or the best shared (a
     * deterministic PSNR is the same on every machine), there is none to mark. */
    for (size_t i = 0; i < t->n; i++) {
        struct mrow *r = &t->rows[i];
        size_t have = 0, best_count = 0;
        for (size_t f = 0; f < nin; f++) {
            if (isnan(r->values[f])) continue;
            have++;
            if (r->winner < 0 || (r->lower_better ? r->values[f] < r->values[r->winner]
                                                  : r->values[f] > r->values[r->winner])) {
                r->winner = (long)f;
                best_count = 1;
            } else if (r->values[f] == r->values[r->winner]) {
                best_count++;
            }
        }
        if (have < 2 || best_count > 1) r->winner = -1;
    }
    return 0;
}

void sb_table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->rows[i].values);
    free(t->rows);
    json_decref(t->index);
}

double sb_table_relative(const struct mrow *r, size_t f)
{
    const double v0 = r->values[0], v = r->values[f];
    return isfinite(v0) && isfinite(v) && v0 != 0.0 ? v / v0 : NAN;
}
