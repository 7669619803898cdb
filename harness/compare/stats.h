/* Statistics for `specbias compare`: medians and the Mann-Whitney U test over repetitions.
 * Plain C11, no state between calls, deterministic (the same inputs give the same bits). */
#ifndef SPECBIAS_HARNESS_STATS_H
#define SPECBIAS_HARNESS_STATS_H

#include <stddef.h>

/* Median of n values (the mean of the two middle ones when n is even); the input is not
 * modified. NAN when n is 0, x is NULL, or a working copy cannot be allocated. */
double sb_stats_median(const double *x, size_t n);

/* The alternative hypothesis, named as in scipy.stats.mannwhitneyu: GREATER means "x tends to
 * be larger than y" (for compare: NEW slower than BASE when x = NEW times). */
enum sb_stats_alternative { SB_STATS_TWO_SIDED, SB_STATS_LESS, SB_STATS_GREATER };

enum sb_stats_mwu_method {
    /* exact when there are no ties and both samples have at most SB_STATS_MWU_EXACT_MAX values,
     * else the normal approximation */
    SB_STATS_MWU_AUTO,
    SB_STATS_MWU_EXACT,     /* refused (-1) when there are ties or a sample is too large */
    SB_STATS_MWU_ASYMPTOTIC /* normal approximation, tie and continuity corrections */
};

/* The exact null distribution keeps 2 (ny + 1)(nx ny + 1) doubles and takes about
 * (nx ny)^2 / 4 steps: at 50 x 50 about 2 MB and a few milliseconds. Beyond that the normal
 * approximation is close to the exact p-value anyway. */
#define SB_STATS_MWU_EXACT_MAX 50

struct sb_stats_mwu {
    double u;  /* U statistic of x: pairs (x_i, y_j) with x_i > y_j, ties counting 1/2 */
    double p;  /* p-value for the alternative asked for, in [0, 1] */
    int exact; /* 1: p from the exact distribution; 0: normal approximation */
    int ties;  /* 1: some values occur more than once across both samples */
};

/* Mann-Whitney U test of x (nx values) against y (ny values). Returns 0 and fills out, or -1
 * when a sample is empty, a value is not finite, memory runs out, or EXACT was asked for where
 * it does not apply. When every value is equal the samples cannot be told apart: p = 1.
 * Matches scipy.stats.mannwhitneyu(x, y, alternative=..., method='exact' or 'asymptotic',
 * use_continuity=True). */
int sb_stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
                          enum sb_stats_alternative alternative, enum sb_stats_mwu_method method,
                          struct sb_stats_mwu *out);

/* The smallest one-sided p-value the exact test can give for samples of nx and ny values
 * (complete separation): 1 / C(nx + ny, nx). 3 against 3 gives 1/20 = 0.05. NAN for an empty
 * sample. */
double sb_stats_mwu_min_p(size_t nx, size_t ny);

#endif
