/* Spectral metrics (docs/experiments.md, Metrics), computed with FFTW. */
#ifndef SPECBIAS_HARNESS_SPECTRAL_H
#define SPECBIAS_HARNESS_SPECTRAL_H

#include <stddef.h>

/* 1D, Rahaman: for a signal of n samples on t = i/n and target frequencies k[0..nk-1] with
 * amplitudes amp[], at each k:
 *   magnitude[i] = 2 |DFT(f)[k]| / (n amp[i])          (1 = learned at the right amplitude)
 *   error[i]     = |DFT(f - y)[k]| / |DFT(y)[k]|        (0 = learned)
 * with DFT(f)[k] = sum_t f[t] exp(-2 pi i k t / n), computed in double. */
struct sb_spectrum1d;

/* Plans the transform (FFTW_ESTIMATE, so plans and results do not depend on timing) and
 * keeps DFT(target). Every k must satisfy 0 < k < n/2 and amp[i] != 0. NULL with a message
 * on bad arguments or allocation failure. */
struct sb_spectrum1d *sb_spectrum1d_new(size_t n, size_t nk, const int *k, const double *amp,
                                        const float *target, char *err, size_t errlen);
void sb_spectrum1d_eval(struct sb_spectrum1d *s, const float *f, double *magnitude,
                        double *error);
void sb_spectrum1d_free(struct sb_spectrum1d *s);

/* 2D radial spectral error on an h x w grid of `channels` interleaved channels (the layout of
 * struct sb_image). Frequencies (fy, fx) in cycles per sample, each in [-1/2, 1/2), radius
 * rho = sqrt(fx^2 + fy^2) / (1/2) (1 = Nyquist along an axis); band b of nbands holds
 * b / nbands <= rho < (b + 1) / nbands, and the corner frequencies beyond rho = 1 go in the
 * last band. error[b] = sum over the band and channels of |DFT(f - y)|^2 divided by the same
 * sum of |DFT(y)|^2 (the mean, DC, is excluded from both); NaN for a band where the target has
 * no power. */
struct sb_radial2d;

struct sb_radial2d *sb_radial2d_new(size_t h, size_t w, size_t channels, size_t nbands,
                                    const float *target, char *err, size_t errlen);
void sb_radial2d_eval(struct sb_radial2d *s, const float *f, double *error);
/* Lower edge of band b as a fraction of Nyquist (b / nbands), for reports. */
double sb_radial2d_band_low(const struct sb_radial2d *s, size_t b);
void sb_radial2d_free(struct sb_radial2d *s);

#endif
