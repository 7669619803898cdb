/* The analyses of Lazzari & Liu (docs/experiments.md, Metrics): activation regions, Hamming
 * distances of activation patterns, dead units, gradient confusion. All of them read the
 * activations of a forward pass over the evaluation inputs. */
#ifndef SPECBIAS_HARNESS_ANALYSIS_H
#define SPECBIAS_HARNESS_ANALYSIS_H

#include "harness/train/model.h"

#include <stddef.h>
#include <stdint.h>

/* Pairs of evaluation inputs. Local: `windows` windows of about 50 neighbouring inputs
 * (1D: 50 consecutive samples at evenly spaced starts; 2D: 7 x 7 pixel patches of the
 * evaluation grid on a 5 x 5 lattice), `per_window` random pairs i != j in each. Global:
 * `global` pairs with i among the first 800/2048 and j among the last 848/2048 of the inputs
 * in order (1D: Lazzari's [0, 800) x [1200, 2048) for n = 2048; 2D: top rows x bottom rows). */
struct sb_pairs {
    size_t n;
    uint32_t *i, *j;
};

int sb_pairs_local(size_t h, size_t w, size_t per_window, uint64_t seed, struct sb_pairs *p);
int sb_pairs_global(size_t h, size_t w, size_t count, uint64_t seed, struct sb_pairs *p);
void sb_pairs_free(struct sb_pairs *p);

struct sb_pattern_stats {
    size_t regions;      /* distinct activation patterns over the evaluation inputs */
    size_t dead_units;   /* hidden units that are 0 for every evaluation input */
    double hamming_local_mean, hamming_global_mean; /* in bits (units that differ) */
};

/* From the masks of a forward pass over `rows` evaluation inputs. Returns 0, -1 on allocation
 * failure. */
int sb_pattern_stats(const struct sb_kernels *k, const struct sb_model *m,
                     const struct sb_activations *a, size_t rows, const struct sb_pairs *local,
                     const struct sb_pairs *global, struct sb_pattern_stats *out);

struct sb_confusion {
    size_t pairs;            /* pairs with two non-zero gradients (the others are skipped) */
    double mean, mean_abs, negative_fraction;
    size_t bins;
    size_t *histogram;       /* bins equal-width bins over [-1, 1], owned */
};

/* Gradient confusion: the cosine between the per-example gradients (every weight and bias)
 * of the loss of each input, for each pair. Runs a backward pass over the activations in a
 * (a forward pass over the evaluation inputs with targets t); per-example dot products come
 * from per-layer factors, <g_i x_i^T, g_j x_j^T> = <g_i, g_j><x_i, x_j>, in double. */
int sb_confusion(const struct sb_kernels *k, const struct sb_model *m, struct sb_activations *a,
                 size_t rows, const float *t, const struct sb_pairs *local,
                 const struct sb_pairs *global, size_t bins, struct sb_confusion *out_local,
                 struct sb_confusion *out_global);
void sb_confusion_free(struct sb_confusion *c);

#endif
