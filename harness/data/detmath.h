/* Reproducible maths for making data: targets, Fourier-feature matrices, initial weights.
 *
 * The trajectory of a run must be the same bits on every machine, so nothing that feeds it
 * may come from the C library's transcendental functions (glibc picks FMA or non-FMA
 * versions of sin/exp/log at run time, and other libcs differ in the last bit). These use
 * only + - * / and sqrt in double, in a fixed order (the build has -ffp-contract=off), so
 * they round identically on every IEEE-754 machine. Accuracy is a few ulp of double, far
 * below the float data they produce.
 */
#ifndef SPECBIAS_HARNESS_DETMATH_H
#define SPECBIAS_HARNESS_DETMATH_H

#include <stdint.h>

double sb_det_sinpi(double x); /* sin(pi x) */
double sb_det_cospi(double x); /* cos(pi x) */
double sb_det_exp2(double x);  /* 2^x, |x| < 1000 */
double sb_det_log(double x);   /* natural log, x > 0 finite */

/* xoshiro256** seeded through splitmix64: one generator per (seed, stream) so that each
 * use (phases, weights, Fourier matrix, minibatch order, analysis pairs) draws from its own
 * sequence and adding a draw to one never shifts another. */
struct sb_rng {
    uint64_t s[4];
};

void sb_rng_seed(struct sb_rng *rng, uint64_t seed, uint64_t stream);
uint64_t sb_rng_u64(struct sb_rng *rng);
double sb_rng_uniform(struct sb_rng *rng);               /* [0, 1), 53 random bits */
uint64_t sb_rng_below(struct sb_rng *rng, uint64_t n);   /* uniform in [0, n), n > 0 */
double sb_rng_normal(struct sb_rng *rng);                /* N(0, 1), Box-Muller */

/* Streams (the second argument of sb_rng_seed). */
enum sb_rng_stream {
    SB_STREAM_TARGET = 1,  /* phases of 1D targets */
    SB_STREAM_INIT = 2,    /* initial weights and biases */
    SB_STREAM_FOURIER = 3, /* Gaussian Fourier-feature matrix */
    SB_STREAM_BATCH = 4,   /* minibatch order */
    SB_STREAM_PAIRS = 5    /* analysis pairs */
};

#endif
