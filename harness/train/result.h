/* What training an experiment produced, as plain data: the trainer (train.c) fills these
 * structs and knows nothing of JSON; the results writer (harness/results/) turns them into the
 * experiment's entry of results.json (docs/results.md, experiments[]). */
#ifndef SPECBIAS_HARNESS_RESULT_H
#define SPECBIAS_HARNESS_RESULT_H

#include "harness/machine/counters.h"
#include "harness/train/analysis.h"
#include "harness/train/experiment.h"
#include "harness/train/model.h"

#include <stddef.h>
#include <stdint.h>

#define SB_SNAPSHOTS 4 /* checkpoints whose outputs the results file keeps */

/* The status of an experiment or repetition stopped by a signal (train.h, sb_interrupted);
 * the others are 0 (ok), 2 (bad input) and 3 (failed). */
#define SB_STATUS_INTERRUPTED 4

/* One point of the training curve, measured at a checkpoint. */
struct sb_curve_point {
    uint64_t step;
    double seconds;             /* training seconds so far */
    double loss;                /* over the whole training set (a float) */
    double psnr_db;             /* 1D: of the evaluation outputs; 2D: from the training loss */
    double test_psnr_db;        /* 2D only: of the evaluation pixels */
    double *spectral_error;     /* 1D: per frequency; 2D: per radial band (in the
                                 * repetition's spectra[]) */
    double *spectral_magnitude; /* 1D only: per frequency */
    struct sb_pattern_stats patterns;
    int has_confusion; /* analysis.confusion = checkpoints, at every checkpoint but the last */
    struct sb_confusion confusion_local, confusion_global; /* owned */
};

/* The model's outputs at a checkpoint (or the target's values), as the reports show them. */
struct sb_snapshot {
    uint64_t step;
    double seconds;
    float *values; /* 1D: n_eval x out values, owned */
    size_t n;
    char *png_base64; /* 2D: the evaluation grid as an 8-bit PNG, owned */
    size_t width, height, channels;
};

/* How far a repetition got, which decides what its entry in results.json holds. */
enum sb_rep_stage {
    SB_REP_STARTED, /* stopped during training: status, error, the curve and snapshots so far */
    SB_REP_TRAINED, /* trained and measured, but the target's snapshot could not be made */
    SB_REP_DONE     /* everything; a failure after it (writing --dump files) adds the error */
};

struct sb_repetition_result {
    enum sb_rep_stage stage;
    size_t seed_index; /* which of the experiment's seeds (--seeds): 0 is the first */
    uint64_t seed;     /* that seed: config.seed + seed_index */
    int status;  /* 0, 3 failed, SB_STATUS_INTERRUPTED */
    char *error; /* why it failed, owned; NULL: the experiment's message says */
    int counted; /* counters holds this repetition's counts (--counters) */
    struct sb_counter_values counters;
    uint64_t steps;
    double train_seconds, eval_seconds;
    /* thread seconds of work in the training steps' parallel regions (sb_work_seconds), over
     * `threads` threads: work_seconds / (threads x train_seconds) is the share they worked */
    double work_seconds;
    size_t threads;
    double flops_per_step, bytes_per_step;
    double final_loss, final_psnr_db;
    double time_to_target; /* seconds; < 0: not reached */
    char trajectory_hash[17];
    struct sb_curve_point *curve;
    size_t ncurve;
    double *spectra; /* the curve's spectral values, owned */
    struct sb_snapshot snapshots[SB_SNAPSHOTS];
    size_t nsnapshots;
    struct sb_snapshot target; /* SB_REP_DONE */
    /* The analysis of the final parameters: the last checkpoint's patterns, and gradient
     * confusion unless the experiment turned it off. */
    struct sb_pattern_stats patterns;
    int has_confusion;
    struct sb_confusion confusion_local, confusion_global; /* owned */
};

/* What the experiment ran with, once its data was built: results.json's config. */
struct sb_run_config {
    uint64_t seed, steps;
    int steps_overridden; /* --steps replaced the experiment's own step count */
    size_t batch, features, channels, train_pixels, test_pixels;
    char data_hash[17]; /* of an image target's pixels (sb_data_hash) */
    uint64_t checkpoints[1024];
    size_t ncheckpoints;
};

struct sb_experiment_result {
    const struct sb_experiment *e;
    int status;   /* 0, 2 bad input, 3 failed, SB_STATUS_INTERRUPTED */
    char *error;  /* why, when status is not 0; owned (NULL: out of memory) */
    int prepared; /* the data was built: config, isa_name and parameters are set */
    struct sb_run_config config;
    const char *isa_name; /* of the kernels trained with */
    size_t parameters;
    struct sb_split split; /* how a training step is shared among the run's threads */
    double peak_gflops; /* the FMA peak repetitions are a share of; 0: unknown */
    /* Every repetition started, seed by seed: the first seed's repetitions, then the next
     * seed's, and so on (sb_repetition_result.seed_index says whose). */
    struct sb_repetition_result *reps;
    size_t nreps;
    size_t seeds;         /* seeds asked for (--seeds; 1 without it) */
    size_t seeds_started; /* of them, those whose training began */
    double flops_per_step; /* of the first repetition, 0 if it failed */
};

void sb_experiment_result_free(struct sb_experiment_result *x);

/* GFLOP/s of a trained repetition (SB_REP_TRAINED or later). */
double sb_repetition_gflops(const struct sb_repetition_result *r);

#endif
