/* The maths of the kernels against independent oracles (the bit-exact tests only prove that
 * every ISA agrees with the scalar reference; these prove the reference is right):
 *   - sincospi_u15 against double-precision libm, ulp bound 1.5, on millions of points;
 *   - the sigmoid output layer against double precision, ulp bound 3;
 *   - dense forward and both backward kernels against a plain double implementation, within
 *     the classic dot-product bound |err| <= (n + 1) u sum |terms|;
 *   - the MSE gradient against central finite differences;
 *   - Adam against hand-computed steps.
 * They run on the ISA that `auto` picks (or $SPECBIAS_ISA): all ISAs return the same bits. */
#define _DEFAULT_SOURCE /* M_PI */
#include "specbias/kernels.h"
#include "kernel_cases.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

static const struct sb_kernels *K;

/* Error of `got` in units in the last place of the float nearest `want`. */
static double ulp_error(float got, double want)
{
    if (isnan(want)) return isnan(got) ? 0.0 : INFINITY;
    if (want == 0.0) return got == 0.0f ? 0.0 : fabs((double)got) / 0x1p-149;
    int e;
    frexp(want, &e);
    double ulp = ldexp(1.0, e - 24);
    if (ulp < 0x1p-149) ulp = 0x1p-149;
    return fabs((double)got - want) / ulp;
}

/* sin(pi y) or cos(pi y) in double with exact argument reduction, so the oracle's own error
 * (about 1e-16 relative) is far below a float ulp even near the zeros of sin and cos. */
static double sinpi_oracle(float yf, int cosine)
{
    const double y = yf;
    const double k = nearbyint(2.0 * y); /* y = k/2 + r, exact in double */
    const double r = y - 0.5 * k;
    long q = (long)fmod(k, 4.0);
    if (q < 0) q += 4;
    if (cosine) q = (q + 1) & 3;
    const double v = (q & 1) ? cos(M_PI * r) : sin(M_PI * r);
    return (q & 2) ? -v : v;
}

#define SINCOS_BATCH 4096

static void check_sincospi_points(const char *what, float (*gen)(struct sb_rng *), size_t count,
                                  double *worst_out)
{
    static float y[SINCOS_BATCH], s[SINCOS_BATCH], c[SINCOS_BATCH];
    struct sb_rng rng = {0xACC0001};
    double worst = 0.0;
    float worst_y = 0.0f;
    for (size_t done = 0; done < count; done += SINCOS_BATCH) {
        for (size_t i = 0; i < SINCOS_BATCH; i++) y[i] = gen(&rng);
        K->sincospi_u15(SINCOS_BATCH, y, s, c);
        for (size_t i = 0; i < SINCOS_BATCH; i++) {
            const double es = ulp_error(s[i], sinpi_oracle(y[i], 0));
            const double ec = ulp_error(c[i], sinpi_oracle(y[i], 1));
            if (es > worst) { worst = es; worst_y = y[i]; }
            if (ec > worst) { worst = ec; worst_y = y[i]; }
        }
    }
    printf("sincospi_u15__%s %-28s %zu points, max error %.3f ulp (at y = %a)\n", K->isa_name,
           what, count, worst, (double)worst_y);
    *worst_out = worst;
    if (worst > 1.5) fail_msg("sincospi_u15 exceeds its 1.5 ulp bound on %s", what);
}

static float gen_wide(struct sb_rng *r) { return sb_rng_sym(r) * 1.0e5f; }
static float gen_unit(struct sb_rng *r) { return sb_rng_sym(r) * 2.0f; }
static float gen_reduced(struct sb_rng *r) { return sb_rng_sym(r) * 0.25f; }
/* Next to k/2 (the analogue of multiples of pi/2 in radians): up to 64 ulps either side,
 * where sin or cos is near zero and only an exact reduction keeps the relative error small. */
static float gen_near_half(struct sb_rng *r)
{
    float y = (float)((int32_t)(sb_rng_next(r) >> 46) - (1 << 17)) * 0.5f;
    const int steps = (int)(sb_rng_next(r) >> 57) - 64;
    for (int i = 0; i < abs(steps); i++) y = nextafterf(y, steps > 0 ? INFINITY : -INFINITY);
    return y;
}

static void test_sincospi_accuracy(void **state)
{
    (void)state;
    double w[4];
    check_sincospi_points("|y| <= 1e5", gen_wide, 2u << 20, &w[0]);
    check_sincospi_points("|y| <= 2", gen_unit, 1u << 20, &w[1]);
    check_sincospi_points("|y| <= 1/4 (no reduction)", gen_reduced, 1u << 20, &w[2]);
    check_sincospi_points("near multiples of 1/2", gen_near_half, 1u << 20, &w[3]);
}

static void test_sincospi_special(void **state)
{
    (void)state;
    const float y[] = {0.0f, -0.0f, 0.5f, 1.0f, -1.5f, 2.0f, 0x1p24f, 3e38f, INFINITY, -INFINITY, NAN};
    const size_t n = sizeof y / sizeof y[0];
    float s[sizeof y / sizeof y[0]], c[sizeof y / sizeof y[0]];
    K->sincospi_u15(n, y, s, c);
    /* exact values at multiples of 1/2 */
    assert_true(s[0] == 0.0f && !signbit(s[0]) && c[0] == 1.0f);
    assert_true(s[1] == 0.0f && c[1] == 1.0f);
    assert_true(s[2] == 1.0f && c[2] == 0.0f);
    assert_true(s[3] == 0.0f && c[3] == -1.0f);
    assert_true(s[4] == 1.0f && c[4] == 0.0f);
    assert_true(s[5] == 0.0f && c[5] == 1.0f);
    assert_true(s[6] == 0.0f && c[6] == 1.0f); /* every float >= 2^24 is an even integer */
    assert_true(s[7] == 0.0f && c[7] == 1.0f);
    for (size_t i = 8; i < n; i++) assert_true(isnan(s[i]) && isnan(c[i]));
}

static void test_sigmoid_accuracy(void **state)
{
    (void)state;
    /* A 1 -> 1 layer with weight 1 and bias 0 is the sigmoid itself. */
    enum { N = 1 << 16 };
    static float z[N], y[N];
    const float one = 1.0f, zero = 0.0f;
    double worst = 0.0;
    float worst_z = 0.0f;
    for (int pass = 0; pass < 16; pass++) {
        for (int i = 0; i < N; i++) z[i] = -40.0f + 80.0f * ((float)(pass * N + i) / (16.0f * N));
        K->dense_sigmoid_fwd(N, 1, 1, z, 1, &one, 1, &zero, y, 1);
        for (int i = 0; i < N; i++) {
            const double e = ulp_error(y[i], 1.0 / (1.0 + exp(-(double)z[i])));
            if (e > worst) { worst = e; worst_z = z[i]; }
        }
    }
    printf("dense_sigmoid_fwd__%s sigmoid on [-40, 40]: max error %.3f ulp (at z = %g)\n",
           K->isa_name, worst, (double)worst_z);
    if (worst > 3.0) fail_msg("sigmoid error %.3f ulp exceeds 3 ulp", worst);
    /* saturation without NaN or overflow */
    const float big[] = {-1e30f, 1e30f, -INFINITY, INFINITY};
    float out[4];
    K->dense_sigmoid_fwd(4, 1, 1, big, 1, &one, 1, &zero, out, 1);
    assert_true(out[0] >= 0.0f && out[0] < 1e-37f);
    assert_true(out[1] == 1.0f);
    assert_true(out[2] >= 0.0f && out[2] < 1e-37f);
    assert_true(out[3] == 1.0f);
}

/* The forward layer and both backward kernels against double precision. For a sum of n
 * products accumulated in float with FMA, |fl - exact| <= n u sum |terms| (u = 2^-24); we
 * allow (n + 1) u. */
static void test_dense_against_double(void **state)
{
    (void)state;
    const size_t rows = 37, in = 45, out = 29;
    const double u = 0x1p-24;
    struct sb_rng rng = {0xACC0002};
    float *x = malloc(rows * in * sizeof *x), *w = malloc(out * in * sizeof *w);
    float *wt = malloc(in * out * sizeof *wt), *b = malloc(out * sizeof *b);
    float *y = malloc(rows * out * sizeof *y), *dy = malloc(rows * out * sizeof *dy);
    float *dx = malloc(rows * in * sizeof *dx), *dw = calloc(out * in, sizeof *dw);
    float *db = calloc(out, sizeof *db);
    uint64_t *mask = malloc(rows * sizeof *mask);
    sb_fill_sym(&rng, x, rows * in, 1.0f);
    sb_fill_sym(&rng, w, out * in, 1.0f);
    sb_fill_sym(&rng, b, out, 1.0f);
    sb_fill_sym(&rng, dy, rows * out, 1.0f);
    sb_pack_wt(in, out, w, in, wt, out);
    K->dense_relu_fwd(rows, in, out, x, in, wt, out, b, y, out, mask, 1);
    for (size_t n = 0; n < rows; n++)
        for (size_t j = 0; j < out; j++) {
            double acc = b[j], mag = fabs(b[j]);
            for (size_t k = 0; k < in; k++) {
                acc += (double)x[n * in + k] * w[j * in + k];
                mag += fabs((double)x[n * in + k] * w[j * in + k]);
            }
            const double want = acc > 0 ? acc : 0;
            assert_true(fabs(y[n * out + j] - want) <= (double)(in + 1) * u * mag);
            /* the mask bit agrees with the sign wherever the sign is not within rounding */
            if (fabs(acc) > (double)(in + 1) * u * mag)
                assert_int_equal((mask[n] >> j) & 1, acc > 0);
        }
    K->dense_bwd_data(rows, in, out, dy, out, mask, 1, w, in, NULL, 0, dx, in);
    K->dense_bwd_weights(rows, in, out, dy, out, mask, 1, x, in, dw, in, db);
    for (size_t n = 0; n < rows; n++)
        for (size_t k = 0; k < in; k++) {
            double acc = 0, mag = 0;
            for (size_t j = 0; j < out; j++) {
                const double g = ((mask[n] >> j) & 1) ? dy[n * out + j] : 0.0;
                acc += g * w[j * in + k];
                mag += fabs(g * w[j * in + k]);
            }
            assert_true(fabs(dx[n * in + k] - acc) <= (double)(out + 1) * u * mag);
        }
    for (size_t j = 0; j < out; j++) {
        double accb = 0, magb = 0;
        for (size_t k = 0; k < in; k++) {
            double acc = 0, mag = 0;
            for (size_t n = 0; n < rows; n++) {
                const double g = ((mask[n] >> j) & 1) ? dy[n * out + j] : 0.0;
                acc += g * x[n * in + k];
                mag += fabs(g * x[n * in + k]);
            }
            assert_true(fabs(dw[j * in + k] - acc) <= (double)(rows + 1) * u * mag);
        }
        for (size_t n = 0; n < rows; n++) {
            const double g = ((mask[n] >> j) & 1) ? dy[n * out + j] : 0.0;
            accb += g;
            magb += fabs(g);
        }
        assert_true(fabs(db[j] - accb) <= (double)(rows + 1) * u * magb);
    }
    free(x); free(w); free(wt); free(b); free(y); free(dy); free(dx); free(dw); free(db);
    free(mask);
}

/* d(sum (y - t)^2 / n)/dy against central differences. The loss is quadratic, so the central
 * difference is exact in real arithmetic; what is left is float rounding of the loss. */
static void test_mse_gradient_fd(void **state)
{
    (void)state;
    enum { N = 7 };
    struct sb_rng rng = {0xACC0003};
    float y[N], t[N], dy[N];
    sb_fill_sym(&rng, y, N, 1.0f);
    sb_fill_sym(&rng, t, N, 1.0f);
    const float scale = 2.0f / N;
    const float loss = K->mse_loss_grad(N, y, t, scale, dy);
    double exact = 0;
    for (int i = 0; i < N; i++) exact += ((double)y[i] - t[i]) * ((double)y[i] - t[i]);
    assert_true(fabs(loss - exact) <= 1e-6 * exact);
    const float h = 1.0f / 64; /* exact in float, so y +- h is exact for |y| < 1 */
    for (int i = 0; i < N; i++) {
        const float keep = y[i];
        y[i] = keep + h;
        const double lp = K->mse_loss_grad(N, y, t, scale, NULL) / (double)N;
        y[i] = keep - h;
        const double lm = K->mse_loss_grad(N, y, t, scale, NULL) / (double)N;
        y[i] = keep;
        const double fd = (lp - lm) / (2.0 * h);
        if (fabs(fd - dy[i]) > 1e-4 * fmax(1.0, fabs(fd)))
            fail_msg("dMSE/dy[%d]: kernel %g, finite difference %g", i, (double)dy[i], fd);
    }
}

/* Two Adam steps from p = 1, m = v = 0 (lr 1e-3, betas 0.9 / 0.999, eps 1e-8), worked by hand
 * with PyTorch's formula:
 *   t=1, g= 0.5 : m = 0.05, v = 0.00025, m/(1-0.9) = 0.5, v/(1-0.999) = 0.25,
 *                 p = 1 - 1e-3 * 0.5 / (0.5 + 1e-8)                     = 0.99900000002
 *   t=2, g=-0.25: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
 *                 p = 0.99900000002 - (1e-3/0.19) * 0.02 / (sqrt(0.00031225)/sqrt(0.001999)
 *                     + 1e-8)                                            = 0.99873366299 */
static void test_adam_hand_computed(void **state)
{
    (void)state;
    float p = 1.0f, m = 0.0f, v = 0.0f, g = 0.5f;
    struct sb_adam_step st = sb_adam_step_make(1e-3, 0.9, 0.999, 1e-8, 1);
    K->adam_update(1, &p, &g, &m, &v, &st);
    assert_true(fabs(m - 0.05) <= 0x1p-24 * 0.05 * 2);
    assert_true(fabs(v - 0.00025) <= 0x1p-24 * 0.00025 * 4);
    assert_true(fabs(p - 0.99900000002) <= 0x1p-24);
    g = -0.25f;
    st = sb_adam_step_make(1e-3, 0.9, 0.999, 1e-8, 2);
    K->adam_update(1, &p, &g, &m, &v, &st);
    assert_true(fabs(m - 0.02) <= 0x1p-24 * 0.02 * 4);
    assert_true(fabs(v - 0.00031225) <= 0x1p-24 * 0.00031225 * 4);
    assert_true(fabs(p - 0.99873366299) <= 2 * 0x1p-24);
}

/* Declared costs follow the shapes (rates are derived from them, so they must be right). */
static void test_declared_costs(void **state)
{
    (void)state;
    const struct sb_cost c = sb_kernel_cost(SB_K_dense_relu_fwd, (struct sb_shape){4096, 256, 256});
    assert_true(c.flops == 2.0 * 4096 * 256 * 256);
    assert_true(c.bytes == 4.0 * (4096 * 256 + 256 * 256 + 256 + 4096 * 256) + 8.0 * 4096 * 4);
    for (int k = 0; k < SB_KERNEL_COUNT; k++) {
        const struct sb_cost a = sb_kernel_cost((enum sb_kernel_id)k, (struct sb_shape){64, 8, 8});
        const struct sb_cost b = sb_kernel_cost((enum sb_kernel_id)k, (struct sb_shape){128, 8, 8});
        assert_true(a.bytes > 0.0);
        assert_true(b.bytes > a.bytes); /* every cost grows with the batch */
        assert_true(b.flops >= a.flops);
    }
}

int main(void)
{
    char err[256];
    K = sb_select(NULL, err, sizeof err);
    if (!K) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    printf("checking the maths on the %s kernels\n", K->isa_name);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sincospi_accuracy),  cmocka_unit_test(test_sincospi_special),
        cmocka_unit_test(test_sigmoid_accuracy),   cmocka_unit_test(test_dense_against_double),
        cmocka_unit_test(test_mse_gradient_fd),    cmocka_unit_test(test_adam_hand_computed),
        cmocka_unit_test(test_declared_costs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
