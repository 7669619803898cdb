/* When a frequency (1D) or a radial band (2D) counts as learned: one definition for run's
 * summary, compare's quality gate and the report (reports/sbreport mirrors the constant, and
 * its tests check that it matches). The spectral error is Rahaman et al.'s relative error of
 * that frequency or band (docs/experiments.md); it is judged at the last checkpoint of the
 * curve, and over repetitions by the median of each frequency's error. */
#ifndef SPECBIAS_HARNESS_UTIL_LEARNED_H
#define SPECBIAS_HARNESS_UTIL_LEARNED_H

/* learned: final spectral error <= SB_LEARNED_MAX_SPECTRAL_ERROR */
#define SB_LEARNED_MAX_SPECTRAL_ERROR 0.1
#define SB_LEARNED_DEFINITION "final spectral error <= 0.1"

static inline int sb_is_learned(double spectral_error)
{
    return spectral_error <= SB_LEARNED_MAX_SPECTRAL_ERROR;
}

#endif
