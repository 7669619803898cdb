/* Spectral metrics: the 1D Rahaman spectrum on clean sums of sinusoids (magnitude 1, error 0;
 * nothing learned: magnitude 0, error 1; extra or partly learned components) and against a
 * direct DFT; the 2D radial error on pure cosines of known band (including a band edge and
 * the corners), with NaN where the target has no power, and against a direct full-spectrum
 * DFT on odd and even grids; bad arguments. */
#include "harness/data/detmath.h"
#include "harness/data/spectral.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define PI 3.14159265358979323846

#define assert_near(a, b, tol) assert_near_at((a), (b), (tol), #a, __LINE__)
static void assert_near_at(double a, double b, double tol, const char *what, int line)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("line %d: %s = %.17g, want %.17g within %g", line, what, a, b, tol);
}

/* ---- 1D --------------------------------------------------------------------------------- */

/* amp * sin(2 pi (k t / n + phase)) at t = i / n, in double; k i is reduced mod n first so
 * the argument stays exact-ish for large products. */
static double sinusoid(size_t n, int k, double amp, double phase, size_t i)
{
    const double u = (double)(((uint64_t)k * i) % n) / (double)n;
    return amp * sb_det_sinpi(2.0 * (u + phase));
}

struct case1d {
    size_t n, nk;
    int k[16];
    double amp[16], phase[16];
};

static struct case1d rahaman(void) /* n = 2048, k = 5, 10, .., 70, A_k = 1 */
{
    struct case1d c = {.n = 2048, .nk = 14};
    struct sb_rng rng;
    sb_rng_seed(&rng, 7, SB_STREAM_TARGET);
    for (size_t i = 0; i < c.nk; i++) {
        c.k[i] = 5 * (int)(i + 1);
        c.amp[i] = 1.0;
        c.phase[i] = sb_rng_uniform(&rng);
    }
    return c;
}

static struct case1d graded(void) /* n = 200, k = 5, 10, .., 50, A_k = 0.1, 0.2, .., 1.0 */
{
    struct case1d c = {.n = 200, .nk = 10};
    struct sb_rng rng;
    sb_rng_seed(&rng, 8, SB_STREAM_TARGET);
    for (size_t i = 0; i < c.nk; i++) {
        c.k[i] = 5 * (int)(i + 1);
        c.amp[i] = 0.1 * (double)(i + 1);
        c.phase[i] = sb_rng_uniform(&rng);
    }
    return c;
}

/* The target plus extra * component `boost` (an index, or -1) plus a sinusoid at `other_k`
 * (0 for none), summed in double and rounded to float once. */
static float *signal(const struct case1d *c, int boost, double extra, int other_k, double other_amp)
{
    float *y = malloc(c->n * sizeof *y);
    assert_non_null(y);
    for (size_t t = 0; t < c->n; t++) {
        double v = 0.0;
        for (size_t i = 0; i < c->nk; i++) {
            const double s = sinusoid(c->n, c->k[i], c->amp[i], c->phase[i], t);
            v += (int)i == boost ? (1.0 + extra) * s : s;
        }
        if (other_k) v += sinusoid(c->n, other_k, other_amp, 0.3, t);
        y[t] = (float)v;
    }
    return y;
}

static struct sb_spectrum1d *make1d(const struct case1d *c, const float *y)
{
    char err[256] = "";
    struct sb_spectrum1d *s = sb_spectrum1d_new(c->n, c->nk, c->k, c->amp, y, err, sizeof err);
    if (!s) fail_msg("sb_spectrum1d_new: %s", err);
    return s;
}

static void clean_target(const struct case1d *c)
{
    float *y = signal(c, -1, 0.0, 0, 0.0);
    struct sb_spectrum1d *s = make1d(c, y);
    double mag[16], err[16];
    sb_spectrum1d_eval(s, y, mag, err);
    for (size_t i = 0; i < c->nk; i++) {
        assert_near(mag[i], 1.0, 1e-5);
        assert_near(err[i], 0.0, 1e-9);
    }
    float *zero = calloc(c->n, sizeof *zero);
    sb_spectrum1d_eval(s, zero, mag, err);
    for (size_t i = 0; i < c->nk; i++) {
        assert_near(mag[i], 0.0, 1e-12);
        assert_near(err[i], 1.0, 1e-12);
    }
    free(zero);
    sb_spectrum1d_free(s);
    free(y);
}

static void test_1d_clean_rahaman(void **state)
{
    (void)state;
    const struct case1d c = rahaman();
    clean_target(&c);
}

static void test_1d_clean_graded(void **state)
{
    (void)state;
    const struct case1d c = graded();
    clean_target(&c);
}

/* Power at a frequency off the list leaves the listed errors at ~0. */
static void test_1d_other_frequency(void **state)
{
    (void)state;
    const struct case1d cases[2] = {rahaman(), graded()};
    const int other[2] = {7, 33};
    for (int j = 0; j < 2; j++) {
        const struct case1d *c = &cases[j];
        float *y = signal(c, -1, 0.0, 0, 0.0), *f = signal(c, -1, 0.0, other[j], 0.8);
        struct sb_spectrum1d *s = make1d(c, y);
        double mag[16], err[16];
        sb_spectrum1d_eval(s, f, mag, err);
        for (size_t i = 0; i < c->nk; i++) {
            assert_near(mag[i], 1.0, 1e-5);
            assert_near(err[i], 0.0, 1e-5);
        }
        sb_spectrum1d_free(s);
        free(y);
        free(f);
    }
}

/* f = y + 0.5 * (the k = 10 component): error 0.5 at k = 10, magnitude 1.5 there. */
static void test_1d_one_component_off(void **state)
{
    (void)state;
    const struct case1d cases[2] = {rahaman(), graded()};
    for (int j = 0; j < 2; j++) {
        const struct case1d *c = &cases[j];
        const int at = 1; /* k[1] = 10 */
        assert_int_equal(c->k[at], 10);
        float *y = signal(c, -1, 0.0, 0, 0.0), *f = signal(c, at, 0.5, 0, 0.0);
        struct sb_spectrum1d *s = make1d(c, y);
        double mag[16], err[16];
        sb_spectrum1d_eval(s, f, mag, err);
        for (size_t i = 0; i < c->nk; i++) {
            assert_near(err[i], (int)i == at ? 0.5 : 0.0, 1e-5);
            assert_near(mag[i], (int)i == at ? 1.5 : 1.0, 1e-5);
        }
        /* magnitude and error may be asked for alone */
        double only[16];
        sb_spectrum1d_eval(s, f, NULL, only);
        assert_memory_equal(only, err, c->nk * sizeof *err);
        sb_spectrum1d_eval(s, f, only, NULL);
        assert_memory_equal(only, mag, c->nk * sizeof *mag);
        sb_spectrum1d_free(s);
        free(y);
        free(f);
    }
}

/* Against the DFT summed directly in long double, for a random f, on an odd n. */
static void test_1d_direct_dft(void **state)
{
    (void)state;
    const size_t n = 251;
    const int k[4] = {1, 17, 60, 125};
    const double amp[4] = {1.0, -0.5, 2.0, 0.25};
    float y[251], f[251];
    struct sb_rng rng;
    sb_rng_seed(&rng, 3, 77);
    for (size_t t = 0; t < n; t++) {
        y[t] = (float)(sb_rng_uniform(&rng) - 0.5);
        f[t] = (float)(sb_rng_uniform(&rng) - 0.5);
    }
    char msg[256];
    struct sb_spectrum1d *s = sb_spectrum1d_new(n, 4, k, amp, y, msg, sizeof msg);
    assert_non_null(s);
    double mag[4], err[4];
    sb_spectrum1d_eval(s, f, mag, err);
    for (int i = 0; i < 4; i++) {
        long double fr = 0, fi = 0, rr = 0, ri = 0, yr = 0, yi = 0;
        for (size_t t = 0; t < n; t++) {
            const long double a = -2.0L * (long double)PI * (long double)((k[i] * t) % n) / n;
            const long double co = cosl(a), si = sinl(a);
            fr += f[t] * co, fi += f[t] * si;
            yr += y[t] * co, yi += y[t] * si;
            rr += ((long double)f[t] - y[t]) * co, ri += ((long double)f[t] - y[t]) * si;
        }
        const double want_mag =
            (double)(2.0L * sqrtl(fr * fr + fi * fi) / (n * (long double)amp[i]));
        const double want_err = (double)(sqrtl(rr * rr + ri * ri) / sqrtl(yr * yr + yi * yi));
        assert_near(mag[i], want_mag, 1e-12 * fabs(want_mag));
        assert_near(err[i], want_err, 1e-12 * want_err);
    }
    sb_spectrum1d_free(s);
}

static void expect_1d_refused(size_t n, size_t nk, const int *k, const double *amp, const float *y,
                              const char *what)
{
    char err[256] = "";
    struct sb_spectrum1d *s = sb_spectrum1d_new(n, nk, k, amp, y, err, sizeof err);
    if (s) fail_msg("accepted, expected a refusal mentioning \"%s\"", what);
    if (!strstr(err, what)) fail_msg("message lacks \"%s\": \"%s\"", what, err);
    printf("  %s\n", err);
}

static void test_1d_bad_arguments(void **state)
{
    (void)state;
    float y[2048] = {0};
    int k[3] = {5, 10, 1024};
    double amp[3] = {1.0, 1.0, 1.0};
    expect_1d_refused(2048, 3, k, amp, y, "k[2] = 1024"); /* k = n/2 */
    k[2] = 2000;
    expect_1d_refused(2048, 3, k, amp, y, "k[2] = 2000");
    k[2] = 0;
    expect_1d_refused(2048, 3, k, amp, y, "k[2] = 0");
    k[2] = -3;
    expect_1d_refused(2048, 3, k, amp, y, "k[2] = -3");
    k[2] = 15;
    amp[1] = 0.0;
    expect_1d_refused(2048, 3, k, amp, y, "amp[1]");
    amp[1] = NAN;
    expect_1d_refused(2048, 3, k, amp, y, "amp[1]");
    amp[1] = 1.0;
    expect_1d_refused(2048, 3, k, amp, NULL, "missing");
    expect_1d_refused(0, 3, k, amp, y, "0 samples");
    /* odd n: k < n/2 in exact arithmetic, so 100 < 100.5 is allowed and 101 is not */
    const int k100[1] = {100}, k101[1] = {101};
    char err[256];
    struct sb_spectrum1d *s = sb_spectrum1d_new(201, 1, k100, amp, y, err, sizeof err);
    assert_non_null(s);
    sb_spectrum1d_free(s);
    expect_1d_refused(201, 1, k101, amp, y, "k[0] = 101");
}

/* ---- 2D --------------------------------------------------------------------------------- */

/* cos(pi (ax x / bx + ay y / by)) on h x w, written into channel `ch` of `channels` (others
 * set to `fill`). With the steps chosen below every value is 0, +-1/2 or +-1: exact in
 * float, so the target has exactly one frequency pair and no rounding noise elsewhere. */
static float *cosine(size_t h, size_t w, size_t channels, size_t ch, int ax, int bx, int ay, int by,
                     float fill)
{
    float *p = malloc(h * w * channels * sizeof *p);
    assert_non_null(p);
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
            for (size_t c = 0; c < channels; c++) {
                /* the phase in units of pi, as an exact fraction (num / den) reduced mod 2 */
                const int64_t den = (int64_t)bx * by;
                const int64_t num =
                    ((int64_t)ax * (int64_t)x * by + (int64_t)ay * (int64_t)y * bx) % (2 * den);
                p[(y * w + x) * channels + c] =
                    c == ch ? (float)sb_det_cospi((double)num / (double)den) : fill;
            }
    return p;
}

static struct sb_radial2d *make2d(size_t h, size_t w, size_t channels, size_t nb, const float *y)
{
    char err[256] = "";
    struct sb_radial2d *s = sb_radial2d_new(h, w, channels, nb, y, err, sizeof err);
    if (!s) fail_msg("sb_radial2d_new: %s", err);
    return s;
}

/* f = 0 against a pure cosine: error 1 in `band`, NaN in every other; f = y/2: 1/4. */
static void pure_cosine(size_t h, size_t w, size_t channels, size_t ch, int ax, int bx, int ay,
                        int by, size_t nb, size_t band)
{
    float *y = cosine(h, w, channels, ch, ax, bx, ay, by, 0.5f);
    float *f = calloc(h * w * channels, sizeof *f);
    struct sb_radial2d *s = make2d(h, w, channels, nb, y);
    double err[64];
    sb_radial2d_eval(s, f, err);
    for (size_t b = 0; b < nb; b++) {
        if (b == band) {
            assert_near(err[b], 1.0, 1e-12);
        } else if (!isnan(err[b])) {
            fail_msg("%zu x %zu cos(pi (%d x/%d + %d y/%d)): band %zu of %zu is %g, want NaN"
                     " (the power is in band %zu)",
                     h, w, ax, bx, ay, by, b, nb, err[b], band);
        }
    }
    for (size_t i = 0; i < h * w * channels; i++)
        f[i] = 0.5f * y[i];
    sb_radial2d_eval(s, f, err);
    assert_near(err[band], 0.25, 1e-12);
    sb_radial2d_free(s);
    free(y);
    free(f);
}

static void test_2d_pure_cosines(void **state)
{
    (void)state;
    /* fx = fy = 1/4: rho = sqrt(2)/2 -> band 2 of 4 */
    pure_cosine(32, 32, 1, 0, 1, 2, 1, 2, 4, 2);
    /* fx = 1/4, fy = 0: rho = 1/2 exactly, a band edge: the upper band, 2 of 4 */
    pure_cosine(8, 8, 1, 0, 1, 2, 0, 1, 4, 2);
    /* fx = 1/6 on 16 x 24: rho = 1/3 -> band 1 of 4; the same along y on 24 x 16 */
    pure_cosine(16, 24, 1, 0, 1, 3, 0, 1, 4, 1);
    pure_cosine(24, 16, 1, 0, 0, 1, 1, 3, 4, 1);
    /* fx = 1/6 -> rho = 1/3 -> band 2 of 6, in the middle channel of 3 */
    pure_cosine(12, 18, 3, 1, 1, 3, 0, 1, 6, 2);
    /* Nyquist along x (rho = 1) and the corner (rho = sqrt 2) go in the last band */
    pure_cosine(8, 10, 1, 0, 1, 1, 0, 1, 4, 3);
    pure_cosine(8, 10, 3, 2, 1, 1, 1, 1, 5, 4);
    /* one band only: everything but DC */
    pure_cosine(6, 6, 1, 0, 1, 3, 0, 1, 1, 0);
}

static float *noise(size_t n, uint64_t seed)
{
    float *p = malloc(n * sizeof *p);
    assert_non_null(p);
    struct sb_rng rng;
    sb_rng_seed(&rng, seed, 123);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)sb_rng_uniform(&rng);
    return p;
}

/* On a 1 x 30 grid with 30 bands every frequency sx / 30 has rho = 2 sx / 30, exactly the
 * lower edge of band 2 sx: the even bands get one bin each (band 29 the Nyquist bin), the odd
 * ones none. In double, 2 sqrt((13/30)^2) * 30 comes out just under 26, so this also checks
 * that bands are decided exactly, not by rounding. */
static void test_2d_band_edges_exact(void **state)
{
    (void)state;
    const size_t w = 30, nb = 30;
    float *y = noise(w, 5), zero[30] = {0};
    struct sb_radial2d *s = make2d(1, w, 1, nb, y);
    double err[30];
    sb_radial2d_eval(s, zero, err);
    for (size_t b = 0; b < nb; b++) {
        const int has_bin = b == 29 || (b % 2 == 0 && b > 0);
        if (has_bin && !(fabs(err[b] - 1.0) <= 1e-12))
            fail_msg("band %zu: %g, want 1 (the bin sx = %zu sits on its lower edge)", b, err[b],
                     b == 29 ? (size_t)15 : b / 2);
        if (!has_bin && !isnan(err[b])) fail_msg("band %zu: %g, want NaN (no bin)", b, err[b]);
    }
    sb_radial2d_free(s);
    free(y);
}

static void test_2d_zero_residual_and_zero_output(void **state)
{
    (void)state;
    const size_t h = 24, w = 20, C = 3, nb = 8;
    float *y = noise(h * w * C, 1), *zero = calloc(h * w * C, sizeof *zero);
    struct sb_radial2d *s = make2d(h, w, C, nb, y);
    double err[8];
    sb_radial2d_eval(s, y, err);
    for (size_t b = 0; b < nb; b++)
        assert_true(err[b] == 0.0);
    sb_radial2d_eval(s, zero, err);
    for (size_t b = 0; b < nb; b++)
        assert_near(err[b], 1.0, 1e-12); /* noise fills every band */
    /* a constant offset is DC only, which no band counts */
    float *shifted = malloc(h * w * C * sizeof *shifted);
    for (size_t i = 0; i < h * w * C; i++)
        shifted[i] = y[i] + 0.25f;
    sb_radial2d_eval(s, shifted, err);
    for (size_t b = 0; b < nb; b++)
        assert_near(err[b], 0.0, 1e-12);
    for (size_t b = 0; b < nb; b++)
        assert_true(sb_radial2d_band_low(s, b) == (double)b / nb);
    sb_radial2d_free(s);
    /* a constant target has no power anywhere */
    for (size_t i = 0; i < h * w * C; i++)
        shifted[i] = 0.5f;
    s = make2d(h, w, C, nb, shifted);
    sb_radial2d_eval(s, zero, err);
    for (size_t b = 0; b < nb; b++)
        assert_true(isnan(err[b]));
    sb_radial2d_free(s);
    free(shifted);
    free(y);
    free(zero);
}

/* Against a direct DFT over the full h x w spectrum (no half-spectrum bookkeeping), with
 * bands from rho computed in double; grids chosen so that no frequency sits on an edge. */
static void direct_2d(size_t h, size_t w, size_t C, size_t nb)
{
    float *y = noise(h * w * C, 10 + h), *f = noise(h * w * C, 20 + w);
    struct sb_radial2d *s = make2d(h, w, C, nb, y);
    double err[16], res[16] = {0}, tgt[16] = {0};
    sb_radial2d_eval(s, f, err);
    for (size_t c = 0; c < C; c++)
        for (size_t ky = 0; ky < h; ky++)
            for (size_t kx = 0; kx < w; kx++) {
                if (!ky && !kx) continue;
                long double rr = 0, ri = 0, yr = 0, yi = 0;
                for (size_t y0 = 0; y0 < h; y0++)
                    for (size_t x0 = 0; x0 < w; x0++) {
                        const long double a =
                            -2.0L * (long double)PI *
                            ((long double)((ky * y0) % h) / h + (long double)((kx * x0) % w) / w);
                        const size_t i = (y0 * w + x0) * C + c;
                        const long double r = (long double)f[i] - y[i];
                        rr += r * cosl(a), ri += r * sinl(a);
                        yr += y[i] * cosl(a), yi += y[i] * sinl(a);
                    }
                const double sy = ky < (h + 1) / 2 ? (double)ky : (double)ky - (double)h;
                const double sx = kx < (w + 1) / 2 ? (double)kx : (double)kx - (double)w;
                const double rho = 2.0 * sqrt((sx / w) * (sx / w) + (sy / h) * (sy / h));
                size_t b = (size_t)floor(rho * nb);
                if (b >= nb) b = nb - 1;
                res[b] += (double)(rr * rr + ri * ri);
                tgt[b] += (double)(yr * yr + yi * yi);
            }
    for (size_t b = 0; b < nb; b++) {
        if (tgt[b] == 0.0) {
            assert_true(isnan(err[b]));
        } else {
            assert_near(err[b], res[b] / tgt[b], 1e-10 * (res[b] / tgt[b]));
        }
    }
    sb_radial2d_free(s);
    free(y);
    free(f);
}

static void test_2d_direct_dft(void **state)
{
    (void)state;
    direct_2d(5, 7, 3, 3); /* odd x odd */
    direct_2d(6, 8, 1, 5); /* even x even */
    direct_2d(7, 6, 2, 5); /* odd x even */
}

static void expect_2d_refused(size_t h, size_t w, size_t C, size_t nb, const float *y,
                              const char *what)
{
    char err[256] = "";
    struct sb_radial2d *s = sb_radial2d_new(h, w, C, nb, y, err, sizeof err);
    if (s) fail_msg("accepted, expected a refusal mentioning \"%s\"", what);
    if (!strstr(err, what)) fail_msg("message lacks \"%s\": \"%s\"", what, err);
    printf("  %s\n", err);
}

static void test_2d_bad_arguments(void **state)
{
    (void)state;
    float y[64] = {0};
    expect_2d_refused(0, 8, 1, 4, y, "0 x 8");
    expect_2d_refused(8, 0, 1, 4, y, "8 x 0");
    expect_2d_refused(8, 8, 0, 4, y, "0 channels");
    expect_2d_refused(8, 8, 1, 0, y, "0 bands");
    expect_2d_refused(8, 8, 1, 4, NULL, "missing target");
    expect_2d_refused(65536, 65536, 1, 4, y, "65536 x 65536");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_1d_clean_rahaman),
        cmocka_unit_test(test_1d_clean_graded),
        cmocka_unit_test(test_1d_other_frequency),
        cmocka_unit_test(test_1d_one_component_off),
        cmocka_unit_test(test_1d_direct_dft),
        cmocka_unit_test(test_1d_bad_arguments),
        cmocka_unit_test(test_2d_pure_cosines),
        cmocka_unit_test(test_2d_zero_residual_and_zero_output),
        cmocka_unit_test(test_2d_band_edges_exact),
        cmocka_unit_test(test_2d_direct_dft),
        cmocka_unit_test(test_2d_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
