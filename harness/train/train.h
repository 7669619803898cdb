/* Runs one experiment: builds its data, trains R repetitions on the selected kernels, measures
 * and evaluates at checkpoints, and fills the plain result structs of result.h (which
 * harness/results/ writes into results.json). */
#ifndef SPECBIAS_HARNESS_TRAIN_H
#define SPECBIAS_HARNESS_TRAIN_H

#include "harness/train/experiment.h"
#include "harness/train/result.h"

#include "harness/machine/counters.h"

#include <stddef.h>
#include <stdint.h>

struct sb_run_options {
    const struct sb_kernels *k;
    uint64_t seed;            /* added to each experiment's own seed */
    uint64_t steps;           /* 0 = each experiment's own step count */
    size_t repetitions;
    int threads;
    double peak_gflops;       /* of k's ISA at `threads` threads; 0 = unknown */
    const char *dump_dir;     /* NULL, or where to write initial weights, data and losses */
    int progress_bar;         /* stderr is a terminal: redraw a bar; else one line per experiment */
    struct sb_counters *counters; /* NULL, or PAPI events counted over the training steps */
    /* --seeds K: seeds trained per experiment, seed + i for i in 0..K-1, each for
     * `repetitions` repetitions (0 counts as 1, so callers that predate it train one seed). */
    size_t seeds;
};

/* Set (to the signal number) by `specbias run`'s SIGINT/SIGTERM handler; the trainer checks
 * it before every step and stops the repetition cleanly between steps. */
#include <signal.h>
extern volatile sig_atomic_t sb_interrupted;

/* Trains e into *x (free it with sb_experiment_result_free) and returns its status: 0 when
 * every repetition of every seed finished, 2 when the experiment's input was bad (a PNG), 3
 * when it failed (a non-finite loss, out of memory, an I/O error writing the dump; a seed that
 * fails does not stop the next seeds, which time to quality needs), SB_STATUS_INTERRUPTED
 * when sb_interrupted stopped it; err then says why, as does x->error. `index` of `count`
 * numbers the experiment in the progress bar. */
int sb_train_experiment(const struct sb_experiment *e, const struct sb_run_options *o,
                        size_t index, size_t count, struct sb_experiment_result *x, char *err,
                        size_t errlen);

/* Log-spaced checkpoint steps in [0, steps], always including 0 and steps; returns how many
 * were written to out (at most max). */
size_t sb_checkpoint_steps(uint64_t steps, size_t count, uint64_t *out, size_t max);

/* Bytes of buffers an experiment's training needs on `threads` threads (0: OpenMP's count)
 * (activations, gradients, optimiser state), estimated from its data and model before
 * anything is allocated. */
double sb_experiment_bytes(const struct sb_experiment *e, const struct sb_data *d,
                           const struct sb_encoding *enc, size_t threads);

/* FNV-1a 64 of an image target's pixels (train, then test), as hex: config.target.data_hash,
 * by which compare matches runs and --rerun checks the image is still the same. */
void sb_data_hash(const struct sb_data *d, char hex[17]);

#endif
