/* Inside the trainer: what an experiment's repetitions share, which train.c prepares, and one
 * repetition's run, in repetition.c. Nothing outside harness/train/ includes this. */
#ifndef SPECBIAS_HARNESS_REPETITION_H
#define SPECBIAS_HARNESS_REPETITION_H

#include "harness/data/spectral.h"
#include "harness/train/analysis.h"
#include "harness/train/train.h"

#include <stddef.h>
#include <stdint.h>

/* Everything an experiment's repetitions share. */
struct sb_prepared {
    const struct sb_experiment *e;
    struct sb_data data;
    struct sb_encoding enc; /* template: each repetition's model gets a copy of B */
    uint64_t seed, steps;
    size_t batch;           /* rows per step */
    struct sb_spectrum1d *spec1d;
    struct sb_radial2d *radial;
    struct sb_pairs ham_local, ham_global, conf_local, conf_global;
    uint64_t ck[1024];
    size_t nck;
    unsigned char snapshot[1024]; /* 1: this checkpoint also records the model's output */
    size_t nspec;                 /* values per spectrum: frequencies (1D), radial bands (2D) */
};

/* Repetition `rep` (of experiment `index` of `count`, for the progress bar) into *out.
 * Returns 0, or 3 or SB_STATUS_INTERRUPTED with err set (what it measured so far is kept in
 * *out). */
int sb_run_repetition(const struct sb_run_options *o, struct sb_prepared *p, size_t index,
                      size_t count, size_t rep, struct sb_repetition_result *out, double t_start,
                      char *err, size_t errlen);

#endif
