/* Spectral metrics with FFTW (double precision, FFTW_ESTIMATE plans).
 *
 * FFTW's planner (plan creation and destruction) is not thread-safe: create and free these
 * objects from one thread at a time. Evaluating distinct objects concurrently is safe. */
#include "harness/data/spectral.h"
#include "harness/util/errmsg.h"

#include <fftw3.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* |z|^2; |z| is sqrt of it: plain IEEE operations, no libm hypot, so the same digits
 * wherever FFTW's output is the same. */
static double cabs2(const fftw_complex z) { return z[0] * z[0] + z[1] * z[1]; }

/* ---- 1D --------------------------------------------------------------------------------- */

struct sb_spectrum1d {
    size_t n, nk;
    int *k;
    double *amp;
    double *ynorm; /* |DFT(y)[k[i]]| */
    float *target;
    double *in;
    fftw_complex *out;
    fftw_plan plan;
};

void sb_spectrum1d_free(struct sb_spectrum1d *s)
{
    if (!s) return;
    if (s->plan) fftw_destroy_plan(s->plan);
    fftw_free(s->in);
    fftw_free(s->out);
    free(s->k);
    free(s->amp);
    free(s->ynorm);
    free(s->target);
    free(s);
}

struct sb_spectrum1d *sb_spectrum1d_new(size_t n, size_t nk, const int *k, const double *amp,
                                        const float *target, char *err, size_t errlen)
{
    if (n == 0 || n > INT_MAX) {
        sb_errorf(err, errlen, "spectrum: %zu samples (need 1 to %d)", n, INT_MAX);
        return NULL;
    }
    if (!target || (nk > 0 && (!k || !amp))) {
        sb_errorf(err, errlen, "spectrum: missing target, frequencies or amplitudes");
        return NULL;
    }
    for (size_t i = 0; i < nk; i++) {
        /* 0 < k < n/2 in exact arithmetic, also for odd n */
        if (k[i] <= 0 || 2 * (uint64_t)k[i] >= n) {
            sb_errorf(err, errlen,
                    "spectrum: target frequency k[%zu] = %d is not in 0 < k < n/2 (n = %zu)", i,
                    k[i], n);
            return NULL;
        }
        if (!(amp[i] != 0.0) || !isfinite(amp[i])) {
            sb_errorf(err, errlen,
                    "spectrum: amplitude amp[%zu] = %g of frequency %d must be finite and nonzero",
                    i, amp[i], k[i]);
            return NULL;
        }
    }

    struct sb_spectrum1d *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->n = n;
    s->nk = nk;
    s->k = malloc((nk ? nk : 1) * sizeof *s->k);
    s->amp = malloc((nk ? nk : 1) * sizeof *s->amp);
    s->ynorm = malloc((nk ? nk : 1) * sizeof *s->ynorm);
    s->target = malloc(n * sizeof *s->target);
    s->in = fftw_malloc(n * sizeof *s->in);
    s->out = fftw_malloc((n / 2 + 1) * sizeof *s->out);
    if (!s->k || !s->amp || !s->ynorm || !s->target || !s->in || !s->out) goto oom;
    if (nk) {
        memcpy(s->k, k, nk * sizeof *k);
        memcpy(s->amp, amp, nk * sizeof *amp);
    }
    memcpy(s->target, target, n * sizeof *target);
    s->plan = fftw_plan_dft_r2c_1d((int)n, s->in, s->out, FFTW_ESTIMATE);
    if (!s->plan) {
        sb_errorf(err, errlen, "spectrum: FFTW could not plan a transform of %zu samples", n);
        sb_spectrum1d_free(s);
        return NULL;
    }
    for (size_t t = 0; t < n; t++)
        s->in[t] = target[t];
    fftw_execute(s->plan);
    for (size_t i = 0; i < nk; i++)
        s->ynorm[i] = sqrt(cabs2(s->out[k[i]]));
    return s;

oom:
    sb_errorf(err, errlen, "spectrum: out of memory for %zu samples", n);
    sb_spectrum1d_free(s);
    return NULL;
}

void sb_spectrum1d_eval(struct sb_spectrum1d *s, const float *f, double *magnitude, double *error)
{
    const size_t n = s->n;
    if (magnitude) {
        for (size_t t = 0; t < n; t++)
            s->in[t] = f[t];
        fftw_execute(s->plan);
        for (size_t i = 0; i < s->nk; i++)
            magnitude[i] = 2.0 * sqrt(cabs2(s->out[s->k[i]])) / ((double)n * s->amp[i]);
    }
    if (error) {
        /* The residual is transformed itself (not DFT(f) - DFT(y)), so a nearly learned
         * frequency does not lose its error to cancellation. */
        for (size_t t = 0; t < n; t++)
            s->in[t] = (double)f[t] - (double)s->target[t];
        fftw_execute(s->plan);
        for (size_t i = 0; i < s->nk; i++)
            error[i] = sqrt(cabs2(s->out[s->k[i]])) / s->ynorm[i];
    }
}

/* ---- 2D --------------------------------------------------------------------------------- */

/* A band holds "no power" when its share of the target's energy (all bins, DC included) is at
 * or below this. The double FFT's own rounding leaves about 1e-30 of the energy in a band
 * that is mathematically empty; rounding a target to float already puts some 1e-15 there, so
 * only bands that are empty up to the transform's rounding get NaN. */
#define SB_RADIAL_NO_POWER 1e-20

#define SB_BAND_DC UINT32_MAX /* marks the DC bin, counted in no band */

struct sb_radial2d {
    size_t h, w, channels, nbands, wc; /* wc = w/2 + 1 stored columns */
    uint32_t *band;                    /* band of each stored bin, h x wc */
    double *target_power;              /* per band; NaN where the target has no power */
    double *acc;
    float *target;
    double *in;
    fftw_complex *out;
    fftw_plan plan;
};

void sb_radial2d_free(struct sb_radial2d *s)
{
    if (!s) return;
    if (s->plan) fftw_destroy_plan(s->plan);
    fftw_free(s->in);
    fftw_free(s->out);
    free(s->band);
    free(s->target_power);
    free(s->acc);
    free(s->target);
    free(s);
}

/* a * b <= c * d for 64-bit operands, through exact 128-bit products. */
static void mul_u64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    const uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32, b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
    const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
    *lo = (mid << 32) | (p00 & 0xFFFFFFFFu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

static int prod_le(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t h1, l1, h2, l2;
    mul_u64(a, b, &h1, &l1);
    mul_u64(c, d, &h2, &l2);
    return h1 < h2 || (h1 == h2 && l1 <= l2);
}

/* Band of the bin at signed frequency indices (sy, sx): the largest b < nbands with
 * b / nbands <= rho. With rho^2 = 4 (sx^2 h^2 + sy^2 w^2) / (w h)^2 the test is
 *   b^2 (w h)^2 <= 4 nbands^2 (sx^2 h^2 + sy^2 w^2),
 * decided in exact integers, so a bin on a band edge lands in the upper band on every
 * machine whatever the sizes. The double estimate only saves steps. */
static uint32_t band_of(uint64_t sy, uint64_t sx, uint64_t h, uint64_t w, uint64_t nb)
{
    const uint64_t q = sx * sx * h * h + sy * sy * w * w, d = w * h * w * h, c = 4 * nb * nb;
    const double rho = 2.0 * sqrt((double)sx * (double)sx / ((double)w * (double)w) +
                                  (double)sy * (double)sy / ((double)h * (double)h));
    double est = floor(rho * (double)nb);
    uint64_t b = est >= (double)(nb - 1) ? nb - 1 : (uint64_t)est;
    while (b + 1 < nb && prod_le((b + 1) * (b + 1), d, c, q))
        b++;
    while (b > 0 && !prod_le(b * b, d, c, q))
        b--;
    return (uint32_t)b;
}

/* Accumulates sum over channels and bins of |DFT(x_c)|^2 per band into acc (zeroed here)
 * and returns the energy over all bins (DC included). x is h x w x channels interleaved;
 * with y != NULL the transform is of x - y. The r2c output holds columns 0 .. w/2; every
 * other column stands for itself and its conjugate mirror (same |.|^2, same rho), so it
 * counts twice. */
static double band_power(struct sb_radial2d *s, const float *x, const float *y, double *acc)
{
    const size_t h = s->h, w = s->w, C = s->channels, wc = s->wc;
    double energy = 0.0;
    for (size_t b = 0; b < s->nbands; b++)
        acc[b] = 0.0;
    for (size_t c = 0; c < C; c++) {
        if (y)
            for (size_t i = 0; i < h * w; i++)
                s->in[i] = (double)x[i * C + c] - (double)y[i * C + c];
        else
            for (size_t i = 0; i < h * w; i++)
                s->in[i] = x[i * C + c];
        fftw_execute(s->plan);
        for (size_t iy = 0; iy < h; iy++)
            for (size_t ix = 0; ix < wc; ix++) {
                const double self = (ix == 0 || 2 * ix == w) ? 1.0 : 2.0;
                const double p = self * cabs2(s->out[iy * wc + ix]);
                energy = energy + p;
                const uint32_t b = s->band[iy * wc + ix];
                if (b != SB_BAND_DC) acc[b] = acc[b] + p;
            }
    }
    return energy;
}

struct sb_radial2d *sb_radial2d_new(size_t h, size_t w, size_t channels, size_t nbands,
                                    const float *target, char *err, size_t errlen)
{
    /* h w < 2^31 keeps (w h)^2 and the band test in 64-bit integers. */
    if (h == 0 || w == 0 || h > INT_MAX || w > INT_MAX || (uint64_t)h * w >= (uint64_t)1 << 31) {
        sb_errorf(err, errlen, "radial spectrum: %zu x %zu grid (need 1 to 2^31 - 1 pixels)", h, w);
        return NULL;
    }
    if (channels == 0) {
        sb_errorf(err, errlen, "radial spectrum: 0 channels");
        return NULL;
    }
    if (nbands == 0 || nbands > 65536) {
        sb_errorf(err, errlen, "radial spectrum: %zu bands (need 1 to 65536)", nbands);
        return NULL;
    }
    if (!target) {
        sb_errorf(err, errlen, "radial spectrum: missing target");
        return NULL;
    }
    const size_t wc = w / 2 + 1;
    if (channels > SIZE_MAX / sizeof(float) / (h * w)) {
        sb_errorf(err, errlen, "radial spectrum: %zu x %zu x %zu too large", h, w, channels);
        return NULL;
    }

    struct sb_radial2d *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->h = h, s->w = w, s->channels = channels, s->nbands = nbands, s->wc = wc;
    s->band = malloc(h * wc * sizeof *s->band);
    s->target_power = malloc(nbands * sizeof *s->target_power);
    s->acc = malloc(nbands * sizeof *s->acc);
    s->target = malloc(h * w * channels * sizeof *s->target);
    s->in = fftw_malloc(h * w * sizeof *s->in);
    s->out = fftw_malloc(h * wc * sizeof *s->out);
    if (!s->band || !s->target_power || !s->acc || !s->target || !s->in || !s->out) goto oom;
    memcpy(s->target, target, h * w * channels * sizeof *target);
    s->plan = fftw_plan_dft_r2c_2d((int)h, (int)w, s->in, s->out, FFTW_ESTIMATE);
    if (!s->plan) {
        sb_errorf(err, errlen, "radial spectrum: FFTW could not plan a %zu x %zu transform", h, w);
        sb_radial2d_free(s);
        return NULL;
    }

    /* Row iy is frequency iy / h for iy < (h + 1) / 2 and (iy - h) / h after, so fy lies in
     * [-1/2, 1/2); column ix is fx = ix / w, or -1/2 at ix = w/2 for even w (same rho). */
    for (size_t iy = 0; iy < h; iy++) {
        const uint64_t sy = iy < (h + 1) / 2 ? iy : h - iy;
        for (size_t ix = 0; ix < wc; ix++)
            s->band[iy * wc + ix] = iy == 0 && ix == 0 ? SB_BAND_DC : band_of(sy, ix, h, w, nbands);
    }

    const double energy = band_power(s, target, NULL, s->target_power);
    for (size_t b = 0; b < nbands; b++)
        if (!(s->target_power[b] > SB_RADIAL_NO_POWER * energy)) s->target_power[b] = NAN;
    return s;

oom:
    sb_errorf(err, errlen, "radial spectrum: out of memory for a %zu x %zu x %zu grid", h, w,
            channels);
    sb_radial2d_free(s);
    return NULL;
}

void sb_radial2d_eval(struct sb_radial2d *s, const float *f, double *error)
{
    band_power(s, f, s->target, s->acc);
    for (size_t b = 0; b < s->nbands; b++)
        error[b] = s->acc[b] / s->target_power[b];
}

double sb_radial2d_band_low(const struct sb_radial2d *s, size_t b)
{
    return (double)b / (double)s->nbands;
}
