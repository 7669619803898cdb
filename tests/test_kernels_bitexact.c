/* The kernels of one ISA against the scalar reference, byte for byte.
 *
 *   test_kernels_bitexact ISA [--kernel NAME] [--golden FILE | --write-golden FILE]
 *
 * ISA is scalar, avx2, avx512, neon, or avx512emu (the AVX-512 sources built on SIMDe, for
 * machines without AVX-512). --kernel runs the checks of one kernel of kernel_list.inc only
 * (ctest runs one test per kernel and ISA, kernels_bitexact_<kernel>__<isa>); without it,
 * every kernel. An ISA the CPU cannot run exits 77, which ctest reports as skipped, with the
 * reason on stdout. Shapes cover widths below, at and above every vector width, odd batches,
 * padded leading dimensions and misaligned pointers; every output buffer is compared whole,
 * padding and guard zone included, so a stray write fails too.
 *
 * --golden compares a hash of each kernel's outputs with FILE: the same file is checked on
 * x86-64 and (under qemu) on aarch64, which proves the two architectures agree. NaNs are
 * canonicalised before hashing, since x86 and Arm produce different default NaN bits. */
#include "specbias/kernels.h"
#include "kernel_cases.h"

#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

extern const struct sb_kernels sb_kernels__scalar;
#ifdef SB_HAVE_AVX512_EMU
extern const struct sb_kernels sb_kernels__avx512emu;
#endif

static const struct sb_kernels *ref;  /* scalar */
static const struct sb_kernels *isa;  /* under test */
static uint64_t golden[SB_KERNEL_COUNT];

/* ---- comparison and hashing ------------------------------------------------------------ */

/* 0 while the dense kernels run their later passes (with_small_caches): the golden hashes are of
 * the first. */
static int hashing = 1;

static void hash_bytes(enum sb_kernel_id k, const void *p, size_t n)
{
    if (!hashing) return;
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) golden[k] = (golden[k] ^ c[i]) * UINT64_C(0x100000001B3);
}

static void hash_floats(enum sb_kernel_id k, const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &p[i], sizeof u);
        if (isnan(p[i]) && u != SB_SENTINEL_BITS) u = 0x7FC00000u;
        hash_bytes(k, &u, sizeof u);
    }
}

/* Floats equal bit for bit, except that any NaN equals any NaN (payloads of NaNs made from
 * NaN inputs depend on operand order, which C does not pin down). */
static void expect_same_floats(const char *what, const char *shape, const float *want,
                               const float *got, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t a, b;
        memcpy(&a, &want[i], 4);
        memcpy(&b, &got[i], 4);
        if (a == b || (isnan(want[i]) && isnan(got[i]) && a != SB_SENTINEL_BITS &&
                       b != SB_SENTINEL_BITS))
            continue;
        fail_msg("%s__%s differs from scalar at %s, element %zu: scalar %a (0x%08" PRIx32
                 "), %s %a (0x%08" PRIx32 ")",
                 what, isa->isa_name, shape, i, (double)want[i], a, isa->isa_name,
                 (double)got[i], b);
    }
}

static void expect_same_bytes(const char *what, const char *shape, const void *want,
                              const void *got, size_t n)
{
    const unsigned char *a = want, *b = got;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            fail_msg("%s__%s differs from scalar at %s, byte %zu: scalar 0x%02x, %s 0x%02x", what,
                     isa->isa_name, shape, i, a[i], isa->isa_name, b[i]);
}

/* ---- dense layers ---------------------------------------------------------------------- */

struct dense_case {
    size_t rows, in, out;
};

/* Every width against every width at batches 1, 5 and 64, and batch 2049 at a few shapes. */
static size_t dense_cases(struct dense_case *c)
{
    size_t n = 0;
    static const size_t small_batches[] = {1, 5, 64};
    for (size_t bi = 0; bi < 3; bi++)
        for (size_t i = 0; i < SB_NWIDTHS; i++)
            for (size_t o = 0; o < SB_NWIDTHS; o++)
                c[n++] = (struct dense_case){small_batches[bi], SB_TEST_WIDTHS[i], SB_TEST_WIDTHS[o]};
    c[n++] = (struct dense_case){2049, 17, 33};
    c[n++] = (struct dense_case){2049, 127, 64};
    c[n++] = (struct dense_case){2049, 256, 128};
    c[n++] = (struct dense_case){2049, 3, 256};
    /* empty shapes: nothing to compute, nothing may be written (out = 0) or only the bias */
    c[n++] = (struct dense_case){0, 17, 33};
    c[n++] = (struct dense_case){5, 0, 9};
    c[n++] = (struct dense_case){5, 9, 0};
    return n;
}

#define MAX_DENSE_CASES (3 * SB_NWIDTHS * SB_NWIDTHS + 16)

/* Padded leading dimensions and pointer skews vary with the case index. */
static size_t pad_of(size_t ci, size_t salt) { return ((ci + salt) % 3 == 0) ? 3 : 0; }
static size_t skew_of(size_t ci, size_t salt) { return 1 + (ci * 7 + salt) % 15; }

/* Every 17th case gets infinities, NaN and signed zeros in a few inputs: NaN and -0 must
 * come out of ReLU as +0 and mask bit 0 on every ISA. */
static void plant_specials(size_t ci, float *x, size_t rows, size_t cols, size_t ld)
{
    static const float specials[] = {INFINITY, -INFINITY, NAN, -0.0f, 0.0f, 0x1p-140f};
    if (ci % 17 != 0 || rows == 0 || cols == 0) return;
    for (size_t i = 0; i < 6; i++) {
        const size_t n = (i * 7 + ci) % rows, k = (i * 5 + ci) % cols;
        x[n * ld + k] = specials[i];
    }
}

enum fwd_kind { FWD_RELU, FWD_LINEAR, FWD_SIGMOID };

static void run_dense_fwd(enum fwd_kind kind)
{
    static struct dense_case cases[MAX_DENSE_CASES];
    const size_t ncases = dense_cases(cases);
    const enum sb_kernel_id kid = kind == FWD_RELU     ? SB_K_dense_relu_fwd
                                  : kind == FWD_LINEAR ? SB_K_dense_linear_fwd
                                                       : SB_K_dense_sigmoid_fwd;
    struct sb_rng rng = {UINT64_C(0x5EED0001) + kind};
    for (size_t ci = 0; ci < ncases; ci++) {
        const size_t rows = cases[ci].rows, in = cases[ci].in, out = cases[ci].out;
        const size_t ldx = in + pad_of(ci, 0), ldwt = out + pad_of(ci, 1),
                     ldy = out + pad_of(ci, 2), words = sb_mask_words(out),
                     ldm = words + (ci % 2);
        char shape[96];
        snprintf(shape, sizeof shape, "rows=%zu in=%zu out=%zu ldx=%zu ldwt=%zu ldy=%zu", rows,
                 in, out, ldx, ldwt, ldy);
        struct sb_buf x = sb_buf_make(rows * ldx, skew_of(ci, 0));
        struct sb_buf wt = sb_buf_make(in * ldwt, skew_of(ci, 1));
        struct sb_buf b = sb_buf_make(out, skew_of(ci, 2));
        struct sb_buf y0 = sb_buf_make(rows * ldy, skew_of(ci, 3));
        struct sb_buf y1 = sb_buf_make(rows * ldy, skew_of(ci, 3));
        /* masks: 8-byte aligned (uint64_t requires it) but not 64-byte aligned */
        struct sb_buf m0 = sb_buf_make(2 * rows * ldm, 2 * (ci % 8));
        struct sb_buf m1 = sb_buf_make(2 * rows * ldm, 2 * (ci % 8));
        /* Sigmoid runs over a wide pre-activation range to reach its saturated tails. */
        const float wscale = kind == FWD_SIGMOID ? 24.0f / sqrtf((float)in) : 1.0f;
        for (size_t n = 0; n < rows; n++) sb_fill_sym(&rng, x.f + n * ldx, in, 1.0f);
        for (size_t k = 0; k < in; k++) sb_fill_sym(&rng, wt.f + k * ldwt, out, wscale);
        sb_fill_sym(&rng, b.f, out, 0.5f);
        plant_specials(ci, x.f, rows, in, ldx);
        const int with_mask = kind == FWD_RELU && (ci % 5 != 4);
        uint64_t *mk0 = with_mask ? (uint64_t *)(void *)m0.f : NULL;
        uint64_t *mk1 = with_mask ? (uint64_t *)(void *)m1.f : NULL;
        switch (kind) {
        case FWD_RELU:
            ref->dense_relu_fwd(rows, in, out, x.f, ldx, wt.f, ldwt, b.f, y0.f, ldy, mk0, ldm);
            isa->dense_relu_fwd(rows, in, out, x.f, ldx, wt.f, ldwt, b.f, y1.f, ldy, mk1, ldm);
            break;
        case FWD_LINEAR:
            ref->dense_linear_fwd(rows, in, out, x.f, ldx, wt.f, ldwt, b.f, y0.f, ldy);
            isa->dense_linear_fwd(rows, in, out, x.f, ldx, wt.f, ldwt, b.f, y1.f, ldy);
            break;
        case FWD_SIGMOID:
            ref->dense_sigmoid_fwd(rows, in, out, x.f, ldx, wt.f, ldwt, b.f, y0.f, ldy);
            isa->dense_sigmoid_fwd(rows, in, out, x.f, ldx, wt.f, ldwt, b.f, y1.f, ldy);
            break;
        }
        expect_same_floats(sb_kernel_name(kid), shape, y0.f, y1.f, rows * ldy + SB_GUARD);
        expect_same_bytes(sb_kernel_name(kid), shape, m0.f, m1.f,
                          (2 * rows * ldm + SB_GUARD) * sizeof(float));
        hash_floats(kid, y1.f, rows * ldy);
        if (with_mask) hash_bytes(kid, m1.f, rows * ldm * sizeof(uint64_t));
        sb_buf_free(&x); sb_buf_free(&wt); sb_buf_free(&b); sb_buf_free(&y0);
        sb_buf_free(&y1); sb_buf_free(&m0); sb_buf_free(&m1);
    }
}

/* Every dense case three times: with the kernels' cache sizes; as if L2 were 4 KiB (L1 as it
 * is), so that every call's rows are larger than L2 and the tiles take their prefetching loop
 * (which the default sizes reach only at 2049 rows of the wider cases) and the smallest cache
 * blocks; and as if L1 were 4 KiB in one set of 64 ways, so that every B panel of more than 32
 * rows whose rows are whole lines apart is packed (panel_thrashes) where the kernels' sizes
 * read it in place. The later passes are compared with the scalar reference like the first,
 * and not hashed. */
static void with_small_caches(void (*run)(int), int arg)
{
    size_t l1d, l2;
    sb_get_cache_sizes(&l1d, &l2);
    const size_t ways = sb_get_l1d_ways();
    run(arg);
    hashing = 0;
    sb_set_cache_sizes(0, 4096);
    run(arg);
    sb_set_cache_sizes(4096, l2);
    sb_set_l1d_ways(64);
    run(arg);
    hashing = 1;
    sb_set_cache_sizes(l1d, l2);
    sb_set_l1d_ways(ways);
}

static void run_dense_fwd_kind(int kind) { run_dense_fwd((enum fwd_kind)kind); }

static void test_dense_relu_fwd(void **state)
{
    (void)state;
    with_small_caches(run_dense_fwd_kind, FWD_RELU);
}

static void test_dense_linear_fwd(void **state)
{
    (void)state;
    with_small_caches(run_dense_fwd_kind, FWD_LINEAR);
}

static void test_dense_sigmoid_fwd(void **state)
{
    (void)state;
    with_small_caches(run_dense_fwd_kind, FWD_SIGMOID);
}

static void fill_mask(struct sb_rng *rng, uint64_t *m, size_t rows, size_t out, size_t ldm)
{
    const size_t words = sb_mask_words(out);
    for (size_t n = 0; n < rows; n++) {
        for (size_t w = 0; w < ldm; w++) m[n * ldm + w] = w < words ? sb_rng_next(rng) : 0;
        if (out % 64) m[n * ldm + words - 1] &= (UINT64_C(1) << (out % 64)) - 1;
    }
}

static void run_dense_bwd(int weights)
{
    static struct dense_case cases[MAX_DENSE_CASES];
    const size_t ncases = dense_cases(cases);
    const enum sb_kernel_id kid = weights ? SB_K_dense_bwd_weights : SB_K_dense_bwd_data;
    struct sb_rng rng = {UINT64_C(0x5EED0100) + (uint64_t)weights};
    for (size_t ci = 0; ci < ncases; ci++) {
        const size_t rows = cases[ci].rows, in = cases[ci].in, out = cases[ci].out;
        const size_t lddy = out + pad_of(ci, 0), ldw = in + pad_of(ci, 1),
                     ldx = in + pad_of(ci, 2), words = sb_mask_words(out),
                     ldm = words + (ci % 2);
        const int with_mask = ci % 4 != 3, with_db = ci % 3 != 2;
        char shape[112];
        snprintf(shape, sizeof shape, "rows=%zu in=%zu out=%zu mask=%d db=%d", rows, in, out,
                 with_mask, with_db);
        struct sb_buf dy = sb_buf_make(rows * lddy, skew_of(ci, 0));
        struct sb_buf mk = sb_buf_make(2 * rows * ldm, 2 * (ci % 8));
        uint64_t *mask = with_mask ? (uint64_t *)(void *)mk.f : NULL;
        sb_fill_sym(&rng, dy.f, rows * lddy, 1.0f);
        plant_specials(ci, dy.f, rows, out, lddy);
        if (mask) fill_mask(&rng, mask, rows, out, ldm);
        if (!weights) {
            /* the input mask: absent, or random bits, in cases independent of `mask` */
            const int with_xmask = ci % 5 != 4;
            const size_t ldxm = sb_mask_words(in) + (ci % 3 == 1);
            struct sb_buf xmk = sb_buf_make(2 * rows * ldxm, 2 * ((ci + 3) % 8));
            uint64_t *xmask = with_xmask ? (uint64_t *)(void *)xmk.f : NULL;
            if (xmask) fill_mask(&rng, xmask, rows, in, ldxm);
            snprintf(shape, sizeof shape, "rows=%zu in=%zu out=%zu mask=%d xmask=%d", rows, in,
                     out, with_mask, with_xmask);
            struct sb_buf w = sb_buf_make(out * ldw, skew_of(ci, 1));
            struct sb_buf dx0 = sb_buf_make(rows * ldx, skew_of(ci, 2));
            struct sb_buf dx1 = sb_buf_make(rows * ldx, skew_of(ci, 2));
            for (size_t j = 0; j < out; j++) sb_fill_sym(&rng, w.f + j * ldw, in, 1.0f);
            ref->dense_bwd_data(rows, in, out, dy.f, lddy, mask, ldm, w.f, ldw, xmask, ldxm, dx0.f,
                                ldx);
            isa->dense_bwd_data(rows, in, out, dy.f, lddy, mask, ldm, w.f, ldw, xmask, ldxm, dx1.f,
                                ldx);
            expect_same_floats(sb_kernel_name(kid), shape, dx0.f, dx1.f, rows * ldx + SB_GUARD);
            hash_floats(kid, dx1.f, rows * ldx);
            sb_buf_free(&w); sb_buf_free(&dx0); sb_buf_free(&dx1); sb_buf_free(&xmk);
        } else {
            const size_t lddw = in + pad_of(ci, 1);
            struct sb_buf x = sb_buf_make(rows * ldx, skew_of(ci, 1));
            struct sb_buf dw0 = sb_buf_make(out * lddw, skew_of(ci, 2));
            struct sb_buf dw1 = sb_buf_make(out * lddw, skew_of(ci, 2));
            struct sb_buf db0 = sb_buf_make(out, skew_of(ci, 3));
            struct sb_buf db1 = sb_buf_make(out, skew_of(ci, 3));
            for (size_t n = 0; n < rows; n++) sb_fill_sym(&rng, x.f + n * ldx, in, 1.0f);
            /* += semantics: start from non-zero gradients */
            for (size_t j = 0; j < out; j++) sb_fill_sym(&rng, dw0.f + j * lddw, in, 0.25f);
            sb_fill_sym(&rng, db0.f, out, 0.25f);
            sb_buf_copy(&dw1, &dw0);
            sb_buf_copy(&db1, &db0);
            ref->dense_bwd_weights(rows, in, out, dy.f, lddy, mask, ldm, x.f, ldx, dw0.f, lddw,
                                   with_db ? db0.f : NULL);
            isa->dense_bwd_weights(rows, in, out, dy.f, lddy, mask, ldm, x.f, ldx, dw1.f, lddw,
                                   with_db ? db1.f : NULL);
            expect_same_floats(sb_kernel_name(kid), shape, dw0.f, dw1.f, out * lddw + SB_GUARD);
            expect_same_floats(sb_kernel_name(kid), shape, db0.f, db1.f, out + SB_GUARD);
            hash_floats(kid, dw1.f, out * lddw);
            hash_floats(kid, db1.f, out);
            sb_buf_free(&x); sb_buf_free(&dw0); sb_buf_free(&dw1);
            sb_buf_free(&db0); sb_buf_free(&db1);
        }
        sb_buf_free(&dy); sb_buf_free(&mk);
    }
}

static void test_dense_bwd_data(void **state) { (void)state; with_small_caches(run_dense_bwd, 0); }
static void test_dense_bwd_weights(void **state) { (void)state; with_small_caches(run_dense_bwd, 1); }

/* ---- element-wise kernels ---------------------------------------------------------------- */

static const size_t ELEMENTWISE_SIZES[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 127,
                                           128, 256, 1000, 2049, 4099};
#define N_ELEMENTWISE (sizeof ELEMENTWISE_SIZES / sizeof ELEMENTWISE_SIZES[0])

static void test_sigmoid_bwd(void **state)
{
    (void)state;
    struct sb_rng rng = {0x5EED0200};
    for (size_t ci = 0; ci < N_ELEMENTWISE; ci++) {
        const size_t n = ELEMENTWISE_SIZES[ci];
        char shape[32];
        snprintf(shape, sizeof shape, "n=%zu", n);
        struct sb_buf y = sb_buf_make(n, skew_of(ci, 0)), dy = sb_buf_make(n, skew_of(ci, 1));
        struct sb_buf z0 = sb_buf_make(n, skew_of(ci, 2)), z1 = sb_buf_make(n, skew_of(ci, 2));
        for (size_t i = 0; i < n; i++) y.f[i] = 0.5f + 0.5f * sb_rng_sym(&rng);
        sb_fill_sym(&rng, dy.f, n, 1.0f);
        ref->sigmoid_bwd(n, y.f, dy.f, z0.f);
        isa->sigmoid_bwd(n, y.f, dy.f, z1.f);
        expect_same_floats("sigmoid_bwd", shape, z0.f, z1.f, n + SB_GUARD);
        hash_floats(SB_K_sigmoid_bwd, z1.f, n);
        sb_buf_free(&y); sb_buf_free(&dy); sb_buf_free(&z0); sb_buf_free(&z1);
    }
}

/* Arguments that stress the reduction: wide range, next to multiples of 1/2 (where sin or
 * cos is 0 and relative error is hardest), tiny, huge and special values. */
static float sincospi_arg(struct sb_rng *rng, size_t i)
{
    static const float special[] = {0.0f, -0.0f, 0.25f, -0.25f, 0.5f, 1.0f, 1.5f, -2.0f,
                                    0x1p-149f, -0x1p-126f, 0x1p22f + 0.5f, 0x1p23f + 1.0f,
                                    0x1p24f, -0x1p24f - 2.0f, 3.4e38f, INFINITY, -INFINITY,
                                    NAN, 8388607.5f, -4194303.75f};
    const size_t ns = sizeof special / sizeof special[0];
    switch (i % 4) {
    case 0: return sb_rng_sym(rng) * 1.0e5f;
    case 1: return sb_rng_sym(rng) * 4.0f;
    case 2: { /* k/2 plus a few ulps */
        const float h = (float)((int32_t)(sb_rng_next(rng) >> 44) - (1 << 19)) * 0.5f;
        float y = h;
        const int steps = (int)(sb_rng_next(rng) >> 61) - 4;
        for (int s = 0; s < abs(steps); s++) y = nextafterf(y, steps > 0 ? INFINITY : -INFINITY);
        return y;
    }
    default: return (i / 4) % 3 == 0 ? special[(i / 12) % ns] : sb_rng_sym(rng) * 0.25f;
    }
}

static void test_sincospi_u15(void **state)
{
    (void)state;
    struct sb_rng rng = {0x5EED0300};
    for (size_t ci = 0; ci < N_ELEMENTWISE; ci++) {
        const size_t n = ELEMENTWISE_SIZES[ci];
        char shape[32];
        snprintf(shape, sizeof shape, "n=%zu", n);
        struct sb_buf y = sb_buf_make(n, skew_of(ci, 0));
        struct sb_buf s0 = sb_buf_make(n, skew_of(ci, 1)), s1 = sb_buf_make(n, skew_of(ci, 1));
        struct sb_buf c0 = sb_buf_make(n, skew_of(ci, 2)), c1 = sb_buf_make(n, skew_of(ci, 2));
        for (size_t i = 0; i < n; i++) y.f[i] = sincospi_arg(&rng, i);
        /* both outputs, then each alone (the other NULL) */
        ref->sincospi_u15(n, y.f, s0.f, c0.f);
        isa->sincospi_u15(n, y.f, s1.f, c1.f);
        expect_same_floats("sincospi_u15(sin)", shape, s0.f, s1.f, n + SB_GUARD);
        expect_same_floats("sincospi_u15(cos)", shape, c0.f, c1.f, n + SB_GUARD);
        hash_floats(SB_K_sincospi_u15, s1.f, n);
        hash_floats(SB_K_sincospi_u15, c1.f, n);
        memset(s1.f, 0, n * sizeof(float));
        memset(c1.f, 0, n * sizeof(float));
        isa->sincospi_u15(n, y.f, s1.f, NULL);
        isa->sincospi_u15(n, y.f, NULL, c1.f);
        expect_same_floats("sincospi_u15(sin only)", shape, s0.f, s1.f, n + SB_GUARD);
        expect_same_floats("sincospi_u15(cos only)", shape, c0.f, c1.f, n + SB_GUARD);
        sb_buf_free(&y); sb_buf_free(&s0); sb_buf_free(&s1); sb_buf_free(&c0); sb_buf_free(&c1);
    }
}

static void test_posenc_fwd(void **state)
{
    (void)state;
    static const int octaves[][2] = {{0, 0}, {0, 3}, {0, 6}, {-3, 9}, {2, 2}};
    struct sb_rng rng = {0x5EED0400};
    size_t ci = 0;
    for (size_t bi = 0; bi < SB_NBATCHES; bi++)
        for (size_t d = 1; d <= 3; d++)
            for (size_t oi = 0; oi < sizeof octaves / sizeof octaves[0]; oi++, ci++) {
                const size_t rows = SB_TEST_BATCHES[bi];
                const int l0 = octaves[oi][0], l1 = octaves[oi][1];
                const size_t F = (size_t)(l1 - l0 + 1) * d;
                const size_t ldx = d + pad_of(ci, 0), ldo = 2 * F + pad_of(ci, 1);
                char shape[80];
                snprintf(shape, sizeof shape, "rows=%zu d=%zu l=%d..%d", rows, d, l0, l1);
                struct sb_buf x = sb_buf_make(rows * ldx, skew_of(ci, 0));
                struct sb_buf o0 = sb_buf_make(rows * ldo, skew_of(ci, 1));
                struct sb_buf o1 = sb_buf_make(rows * ldo, skew_of(ci, 1));
                for (size_t n = 0; n < rows; n++) sb_fill_sym(&rng, x.f + n * ldx, d, 1.0f);
                ref->posenc_fwd(rows, d, l0, l1, x.f, ldx, o0.f, ldo);
                isa->posenc_fwd(rows, d, l0, l1, x.f, ldx, o1.f, ldo);
                expect_same_floats("posenc_fwd", shape, o0.f, o1.f, rows * ldo + SB_GUARD);
                hash_floats(SB_K_posenc_fwd, o1.f, rows * ldo);
                sb_buf_free(&x); sb_buf_free(&o0); sb_buf_free(&o1);
            }
}

/* One fourier_fwd case: x in [0, 1) (coordinates), B of spread bscale. */
static void fourier_case(struct sb_rng *rng, size_t ci, size_t rows, size_t d, size_t m,
                         size_t ldx, size_t ldo, float bscale)
{
    char shape[64];
    snprintf(shape, sizeof shape, "rows=%zu d=%zu m=%zu", rows, d, m);
    struct sb_buf x = sb_buf_make(rows * ldx, skew_of(ci, 0));
    struct sb_buf B = sb_buf_make(m * d, skew_of(ci, 1));
    struct sb_buf o0 = sb_buf_make(rows * ldo, skew_of(ci, 2));
    struct sb_buf o1 = sb_buf_make(rows * ldo, skew_of(ci, 2));
    for (size_t n = 0; n < rows; n++)
        for (size_t c = 0; c < d; c++) x.f[n * ldx + c] = 0.5f + 0.5f * sb_rng_sym(rng);
    sb_fill_sym(rng, B.f, m * d, bscale);
    ref->fourier_fwd(rows, d, m, x.f, ldx, B.f, o0.f, ldo);
    isa->fourier_fwd(rows, d, m, x.f, ldx, B.f, o1.f, ldo);
    expect_same_floats("fourier_fwd", shape, o0.f, o1.f, rows * ldo + SB_GUARD);
    hash_floats(SB_K_fourier_fwd, o1.f, rows * ldo);
    sb_buf_free(&x); sb_buf_free(&B); sb_buf_free(&o0); sb_buf_free(&o1);
}

static void test_fourier_fwd(void **state)
{
    (void)state;
    struct sb_rng rng = {0x5EED0500};
    size_t ci = 0;
    for (size_t bi = 0; bi < SB_NBATCHES; bi++)
        for (size_t d = 1; d <= 3; d++)
            for (size_t mi = 0; mi < SB_NWIDTHS; mi++, ci++) {
                const size_t rows = SB_TEST_BATCHES[bi], m = SB_TEST_WIDTHS[mi];
                if (rows == 2049 && m > 64) continue; /* big enough at 2049 x 64 */
                /* B spread 30: Gaussian sigma 10 reaches ~3 sigma */
                fourier_case(&rng, ci, rows, d, m, d + pad_of(ci, 0), 2 * m + pad_of(ci, 1), 30.0f);
            }
    /* wide inputs (d > 64) and an empty batch */
    static const size_t wide[][3] = {{33, 100, 17}, {9, 257, 5}, {0, 3, 8}};
    for (size_t wi = 0; wi < 3; wi++, ci++)
        fourier_case(&rng, ci, wide[wi][0], wide[wi][1], wide[wi][2], wide[wi][1],
                     2 * wide[wi][2], 3.0f);
}

static void test_mse_loss_grad(void **state)
{
    (void)state;
    struct sb_rng rng = {0x5EED0600};
    static const size_t extra[] = {65537};
    for (size_t ci = 0; ci < N_ELEMENTWISE + 1; ci++) {
        const size_t n = ci < N_ELEMENTWISE ? ELEMENTWISE_SIZES[ci] : extra[0];
        char shape[32];
        snprintf(shape, sizeof shape, "n=%zu", n);
        struct sb_buf y = sb_buf_make(n, skew_of(ci, 0)), t = sb_buf_make(n, skew_of(ci, 1));
        struct sb_buf g0 = sb_buf_make(n, skew_of(ci, 2)), g1 = sb_buf_make(n, skew_of(ci, 2));
        sb_fill_sym(&rng, y.f, n, 1.0f);
        sb_fill_sym(&rng, t.f, n, 1.0f);
        const float scale = 2.0f / (float)n;
        const float l0 = ref->mse_loss_grad(n, y.f, t.f, scale, g0.f);
        const float l1 = isa->mse_loss_grad(n, y.f, t.f, scale, g1.f);
        const float l2 = isa->mse_loss_grad(n, y.f, t.f, scale, NULL);
        expect_same_floats("mse_loss_grad(loss)", shape, &l0, &l1, 1);
        expect_same_floats("mse_loss_grad(loss, dy=NULL)", shape, &l0, &l2, 1);
        expect_same_floats("mse_loss_grad(dy)", shape, g0.f, g1.f, n + SB_GUARD);
        hash_floats(SB_K_mse_loss_grad, &l1, 1);
        hash_floats(SB_K_mse_loss_grad, g1.f, n);
        sb_buf_free(&y); sb_buf_free(&t); sb_buf_free(&g0); sb_buf_free(&g1);
    }
}

static void test_adam_update(void **state)
{
    (void)state;
    struct sb_rng rng = {0x5EED0700};
    static const uint64_t first_step[] = {1, 2, 10, 1000};
    for (size_t ci = 0; ci < N_ELEMENTWISE; ci++) {
        const size_t n = ELEMENTWISE_SIZES[ci];
        const uint64_t t0 = first_step[ci % 4];
        char shape[48];
        snprintf(shape, sizeof shape, "n=%zu t=%" PRIu64, n, t0);
        struct sb_buf p[2], m[2], v[2];
        struct sb_buf g = sb_buf_make(n, skew_of(ci, 0));
        for (int s = 0; s < 2; s++) {
            p[s] = sb_buf_make(n, skew_of(ci, 1));
            m[s] = sb_buf_make(n, skew_of(ci, 2));
            v[s] = sb_buf_make(n, skew_of(ci, 3));
        }
        sb_fill_sym(&rng, p[0].f, n, 1.0f);
        sb_fill_sym(&rng, m[0].f, n, 0.01f);
        for (size_t i = 0; i < n; i++) v[0].f[i] = fabsf(sb_rng_sym(&rng)) * 1e-4f;
        sb_buf_copy(&p[1], &p[0]);
        sb_buf_copy(&m[1], &m[0]);
        sb_buf_copy(&v[1], &v[0]);
        for (uint64_t t = t0; t < t0 + 3; t++) {
            sb_fill_sym(&rng, g.f, n, 0.1f);
            const struct sb_adam_step st = sb_adam_step_make(1e-3, 0.9, 0.999, 1e-8, t);
            ref->adam_update(n, p[0].f, g.f, m[0].f, v[0].f, &st);
            isa->adam_update(n, p[1].f, g.f, m[1].f, v[1].f, &st);
        }
        expect_same_floats("adam_update(p)", shape, p[0].f, p[1].f, n + SB_GUARD);
        expect_same_floats("adam_update(m)", shape, m[0].f, m[1].f, n + SB_GUARD);
        expect_same_floats("adam_update(v)", shape, v[0].f, v[1].f, n + SB_GUARD);
        hash_floats(SB_K_adam_update, p[1].f, n);
        hash_floats(SB_K_adam_update, m[1].f, n);
        hash_floats(SB_K_adam_update, v[1].f, n);
        sb_buf_free(&g);
        for (int s = 0; s < 2; s++) { sb_buf_free(&p[s]); sb_buf_free(&m[s]); sb_buf_free(&v[s]); }
    }
}

/* Pattern pairs of 1 to 64 words, the second a single-bit flip per word of the first in every
 * third case; both kernels see the same pairs. */
static const size_t PATTERN_SIZES[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64};
#define N_PATTERNS (sizeof PATTERN_SIZES / sizeof PATTERN_SIZES[0])

/* uint64_t needs 8-byte alignment: a and b start one word past a 64-byte boundary. */
static uint64_t *pattern_pair(struct sb_rng *rng, size_t ci, uint64_t **a, uint64_t **b)
{
    const size_t words = PATTERN_SIZES[ci];
    uint64_t *buf = aligned_alloc(64, ((2 * words + 2) * sizeof(uint64_t) + 63) / 64 * 64);
    *a = buf + 1;
    *b = buf + 1 + words;
    for (size_t i = 0; i < words; i++) {
        (*a)[i] = sb_rng_next(rng);
        (*b)[i] = (ci % 3 == 0) ? (*a)[i] ^ (UINT64_C(1) << (i % 64)) : sb_rng_next(rng);
    }
    return buf;
}

static void test_pattern_hamming(void **state)
{
    (void)state;
    struct sb_rng rng = {0x5EED0800};
    for (size_t ci = 0; ci < N_PATTERNS; ci++) {
        const size_t words = PATTERN_SIZES[ci];
        uint64_t *a, *b, *buf = pattern_pair(&rng, ci, &a, &b);
        const uint64_t h0 = ref->pattern_hamming(words, a, b), h1 = isa->pattern_hamming(words, a, b);
        if (h0 != h1)
            fail_msg("pattern_hamming__%s(words=%zu) = %" PRIu64 ", scalar %" PRIu64,
                     isa->isa_name, words, h1, h0);
        assert_int_equal(isa->pattern_hamming(words, a, a), 0);
        if (ci % 3 == 0) assert_int_equal(h1, words); /* one bit flipped per word */
        hash_bytes(SB_K_pattern_hamming, &h1, sizeof h1);
        free(buf);
    }
}

static void test_pattern_hash(void **state)
{
    (void)state;
    struct sb_rng rng = {0x5EED0800};
    for (size_t ci = 0; ci < N_PATTERNS; ci++) {
        const size_t words = PATTERN_SIZES[ci];
        uint64_t *a, *b, *buf = pattern_pair(&rng, ci, &a, &b);
        const uint64_t x0 = ref->pattern_hash(words, a), x1 = isa->pattern_hash(words, a);
        if (x0 != x1)
            fail_msg("pattern_hash__%s(words=%zu) = %016" PRIx64 ", scalar %016" PRIx64,
                     isa->isa_name, words, x1, x0);
        hash_bytes(SB_K_pattern_hash, &x1, sizeof x1);
        free(buf);
    }
}

/* ---- golden hashes ------------------------------------------------------------------------ */

/* Writes every kernel's hash to FILE, or compares them with FILE: all kernels, or only `only`
 * (a kernel id) when that one kernel ran. */
static int golden_io(const char *path, int write, int only)
{
    if (write) {
        FILE *f = fopen(path, "w");
        if (!f) { perror(path); return 1; }
        fprintf(f, "# Hash of every kernel's outputs on the inputs of tests/test_kernels_bitexact.c.\n"
                   "# Regenerate only when a kernel's documented arithmetic changes:\n"
                   "#   test_kernels_bitexact scalar --write-golden tests/golden/kernel_hashes.txt\n");
        for (int k = 0; k < SB_KERNEL_COUNT; k++)
            fprintf(f, "%s %016" PRIx64 "\n", sb_kernel_name((enum sb_kernel_id)k), golden[k]);
        return fclose(f) != 0;
    }
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); return 1; }
    char line[256], name[128];
    uint64_t want;
    int bad = 0, seen = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || sscanf(line, "%127s %" SCNx64, name, &want) != 2) continue;
        for (int k = 0; k < SB_KERNEL_COUNT; k++) {
            if (strcmp(name, sb_kernel_name((enum sb_kernel_id)k)) != 0) continue;
            if (only >= 0 && k != only) continue;
            seen++;
            if (golden[k] != want) {
                printf("golden: %s__%s output hash %016" PRIx64 ", expected %016" PRIx64 " (%s)\n",
                       name, isa->isa_name, golden[k], want, path);
                bad = 1;
            }
        }
    }
    fclose(f);
    const int expect = only >= 0 ? 1 : (int)SB_KERNEL_COUNT;
    if (seen != expect) {
        printf("golden: %s lists %d of the %d kernels checked\n", path, seen, expect);
        bad = 1;
    }
    if (!bad)
        printf("golden: %d kernel output %s %s\n", seen, seen == 1 ? "hash matches" : "hashes match",
               path);
    return bad;
}

/* One test per kernel of the list, test_<kernel> above: a kernel listed without one does not
 * compile. */
static const struct CMUnitTest all_tests[SB_KERNEL_COUNT] = {
#define SB_KERNEL(name, type) cmocka_unit_test(test_##name),
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
};

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s ISA [--kernel NAME] [--golden FILE | --write-golden FILE]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage(argv[0]);
    const char *golden_path = NULL, *kernel = NULL;
    int write = 0;
    for (int i = 2; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--kernel") == 0) {
            kernel = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--golden") == 0) {
            golden_path = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--write-golden") == 0) {
            golden_path = argv[++i];
            write = 1;
        } else {
            return usage(argv[0]);
        }
    }
    int only = -1;
    if (kernel) {
        for (int k = 0; k < SB_KERNEL_COUNT; k++)
            if (strcmp(kernel, sb_kernel_name((enum sb_kernel_id)k)) == 0) only = k;
        if (only < 0) {
            fprintf(stderr, "unknown kernel '%s' (not in kernel_list.inc)\n", kernel);
            return 2;
        }
        if (write) {
            fprintf(stderr, "--write-golden writes every kernel's hash: drop --kernel\n");
            return 2;
        }
    }

    ref = &sb_kernels__scalar;
    if (strcmp(argv[1], "avx512emu") == 0) {
#ifdef SB_HAVE_AVX512_EMU
        isa = &sb_kernels__avx512emu;
        printf("testing the AVX-512 kernel sources compiled against SIMDe (emulated AVX-512)\n");
#else
        printf("SKIP: avx512emu: this build has no SIMDe emulation of AVX-512\n");
        return 77;
#endif
    } else {
        enum sb_isa want;
        if (sb_isa_parse(argv[1], &want) != 0) {
            fprintf(stderr, "unknown ISA '%s'\n", argv[1]);
            return 2;
        }
        const char *why = NULL;
        if (!sb_isa_supported(want, &why)) {
            printf("SKIP: %s kernels not tested on this machine: %s\n", argv[1], why);
            return 77;
        }
        isa = sb_kernels_for(want);
    }

    for (int k = 0; k < SB_KERNEL_COUNT; k++) golden[k] = UINT64_C(0xCBF29CE484222325);
    char group[160];
    snprintf(group, sizeof group, "%s__%s", kernel ? kernel : "every kernel", argv[1]);
    int failed = _cmocka_run_group_tests(group, only >= 0 ? &all_tests[only] : all_tests,
                                         only >= 0 ? 1 : SB_KERNEL_COUNT, NULL, NULL);
    /* A test that hashes nothing would leave its kernel's golden check vacuous: fail. */
    for (int k = 0; k < SB_KERNEL_COUNT; k++) {
        if ((only < 0 || k == only) && golden[k] == UINT64_C(0xCBF29CE484222325)) {
            printf("the test of kernel %s hashed no output\n", sb_kernel_name((enum sb_kernel_id)k));
            failed = 1;
        }
    }
    if (golden_path) failed |= golden_io(golden_path, write, only);
    return failed ? 1 : 0;
}
