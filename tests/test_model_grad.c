/* Whole-network gradients of the trainer (harness/train/model.c, through the kernel table)
 * against central finite differences of an independent double-precision forward pass, for every
 * encoding and both output activations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness/data/detmath.h"
#include "harness/train/model.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 600
#define PI 3.14159265358979323846

struct netcase {
    const char *name;
    enum sb_encoding_kind enc;
    int l0, l1;
    size_t m; /* fourier rows */
    size_t d, depth, width, out;
    enum sb_output output;
    size_t rows; /* odd counts: not a multiple of any vector width or of the tile */
};

/* The same network in double, written from the conventions, not from harness/train/model.c. */
static void encode_double(const struct sb_model *mdl, const double *x, double *f)
{
    const size_t d = mdl->spec.d;
    if (mdl->enc.kind == SB_ENC_NONE) {
        memcpy(f, x, d * sizeof *f);
    } else if (mdl->enc.kind == SB_ENC_POSENC) {
        const size_t oct = (size_t)(mdl->enc.l1 - mdl->enc.l0 + 1), F = oct * d;
        for (size_t c = 0; c < d; c++)
            for (size_t l = 0; l < oct; l++) {
                const double a = ldexp(PI * x[c], mdl->enc.l0 + (int)l);
                f[c * oct + l] = sin(a);
                f[F + c * oct + l] = cos(a);
            }
    } else {
        const size_t m = mdl->enc.m;
        for (size_t j = 0; j < m; j++) {
            double z = 0.0;
            for (size_t c = 0; c < d; c++) z += (double)mdl->enc.B[j * d + c] * x[c];
            f[j] = sin(2.0 * PI * z);
            f[m + j] = cos(2.0 * PI * z);
        }
    }
}

static double loss_double(const struct sb_model *mdl, size_t rows, const double *p, const float *x,
                          const float *t)
{
    double h[2][512], xin[8];
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < mdl->spec.d; c++) xin[c] = x[r * mdl->spec.d + c];
        encode_double(mdl, xin, h[0]);
        int cur = 0;
        for (size_t l = 0; l < mdl->n_layers; l++) {
            const struct sb_layer *L = &mdl->layers[l];
            for (size_t j = 0; j < L->out; j++) {
                double acc = p[L->b_off + j];
                for (size_t k = 0; k < L->in; k++) acc += p[L->w_off + j * L->in + k] * h[cur][k];
                if (l + 1 < mdl->n_layers) acc = acc > 0 ? acc : 0;
                else if (mdl->spec.output == SB_OUT_SIGMOID) acc = 1.0 / (1.0 + exp(-acc));
                h[cur ^ 1][j] = acc;
            }
            cur ^= 1;
        }
        for (size_t j = 0; j < mdl->spec.out; j++) {
            const double e = h[cur][j] - t[r * mdl->spec.out + j];
            total += e * e;
        }
    }
    return total / (double)(rows * mdl->spec.out);
}

static void check_case(const struct netcase *nc, enum sb_isa isa)
{
    const struct sb_kernels *k = sb_kernels_for(isa);
    if (!k || !sb_isa_supported(isa, NULL)) return;
    struct sb_rng rng;
    sb_rng_seed(&rng, 42, 99);
    struct sb_encoding enc = {nc->enc, nc->l0, nc->l1, nc->m, NULL};
    if (nc->enc == SB_ENC_FOURIER) {
        enc.B = malloc(nc->m * nc->d * sizeof(float));
        for (size_t i = 0; i < nc->m * nc->d; i++) enc.B[i] = (float)(3.0 * sb_rng_normal(&rng));
    }
    struct sb_model_spec spec = {nc->d, nc->depth, nc->width, nc->out, nc->output};
    struct sb_model mdl;
    assert_int_equal(sb_model_init(&mdl, &spec, &enc, 7), 0);
    assert_int_equal(mdl.n_params, sb_model_param_count(&spec, mdl.features));
    const size_t ROWS = nc->rows;
    static float x[MAX_ROWS * 4], t[MAX_ROWS * 4];
    for (size_t i = 0; i < ROWS * nc->d; i++) x[i] = (float)sb_rng_uniform(&rng);
    for (size_t i = 0; i < ROWS * nc->out; i++)
        t[i] = (float)(nc->output == SB_OUT_SIGMOID ? sb_rng_uniform(&rng)
                                                    : 2.0 * sb_rng_normal(&rng));

    struct sb_activations a;
    assert_int_equal(sb_activations_alloc(&a, &mdl, ROWS), 0);
    sb_model_forward(k, &mdl, ROWS, x, &a);
    const float loss = sb_model_loss(k, &mdl, ROWS, t, &a, 1);
    float *grad = malloc(mdl.n_params * sizeof *grad);
    assert_int_equal(sb_model_backward(k, &mdl, ROWS, &a, grad, NULL), 0);

    double *p = malloc(mdl.n_params * sizeof *p);
    for (size_t i = 0; i < mdl.n_params; i++) p[i] = mdl.params[i];
    const double l0 = loss_double(&mdl, ROWS, p, x, t);
    assert_true(fabs(l0 - loss) <= 1e-5 * fabs(l0));

    double gmax = 0.0;
    for (size_t i = 0; i < mdl.n_params; i++) gmax = fmax(gmax, fabs(grad[i]));
    size_t checked = 0, kinks = 0;
    double worst = 0.0;
    for (size_t i = 0; i < mdl.n_params; i++) {
        const double h = 1e-6, p0 = p[i];
        p[i] = p0 + h;
        const double lp = loss_double(&mdl, ROWS, p, x, t);
        p[i] = p0 - h;
        const double lm = loss_double(&mdl, ROWS, p, x, t);
        p[i] = p0;
        const double fd = (lp - lm) / (2 * h);
        /* A ReLU kink inside [p - h, p + h] makes the two one-sided slopes disagree; the
         * derivative is not defined there, so such parameters are not compared. */
        const double fwd = (lp - l0) / h, bwd = (l0 - lm) / h;
        if (fabs(fwd - bwd) > 1e-4 * (fabs(fd) + 1e-3 * gmax)) {
            kinks++;
            continue;
        }
        const double err = fabs(grad[i] - fd) / (fabs(fd) + 1e-3 * gmax);
        if (err > worst) worst = err;
        checked++;
        if (err > 1e-3)
            fail_msg("%s on %s: dL/dp[%zu] = %.9g, finite difference %.9g (relative error %.2e)",
                     nc->name, k->isa_name, i, (double)grad[i], fd, err);
    }
    /* Almost every parameter must actually have been compared. */
    assert_true(checked >= mdl.n_params * 9 / 10);
    printf("  %-28s %-6s %5zu params, %zu at a kink, worst relative error %.2e\n", nc->name,
           k->isa_name, mdl.n_params, kinks, worst);
    free(p);
    free(grad);
    sb_activations_free(&a);
    sb_model_free(&mdl);
}

static const struct netcase cases[] = {
    {"raw, linear", SB_ENC_NONE, 0, 0, 0, 1, 3, 16, 1, SB_OUT_LINEAR, 37},
    {"3 tiles (600 rows)", SB_ENC_POSENC, 0, 1, 0, 1, 1, 6, 2, SB_OUT_LINEAR, 600},
    {"raw 2D, sigmoid", SB_ENC_NONE, 0, 0, 0, 2, 2, 16, 3, SB_OUT_SIGMOID, 37},
    {"posenc 0..3, linear", SB_ENC_POSENC, 0, 3, 0, 1, 2, 16, 1, SB_OUT_LINEAR, 37},
    {"posenc 0..2 2D, sigmoid", SB_ENC_POSENC, 0, 2, 0, 2, 2, 12, 3, SB_OUT_SIGMOID, 37},
    {"fourier (gauss), linear", SB_ENC_FOURIER, 0, 0, 8, 2, 2, 16, 2, SB_OUT_LINEAR, 37},
    {"fourier (gauss), sigmoid", SB_ENC_FOURIER, 0, 0, 8, 2, 2, 16, 3, SB_OUT_SIGMOID, 37},
    {"wide: 70 units, 2 mask words", SB_ENC_NONE, 0, 0, 0, 1, 2, 70, 1, SB_OUT_LINEAR, 37},
};

static void test_gradients(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int isa = 0; isa < SB_ISA_COUNT; isa++) check_case(&cases[c], (enum sb_isa)isa);
}

/* The tile path hands each tile to whichever thread is free and adds the tiles' partial
 * gradients into grad chunk by chunk in tile order (backward_by_tiles): the gradient must be
 * the same bits on any number of threads, however the threads' tiles finish. 9 tiles (the
 * last one short) and about 13 600 parameters (4 of the reduction's chunks), on 1 to 4
 * threads, several times each: 4 threads on a 2-core machine are preempted in the middle of
 * tiles and of reductions, so later tiles finish first. A tile added out of turn, or added
 * while the tile before is still being added to the same chunk, changes the bits. */
static void test_tile_order(void **state)
{
    (void)state;
    const size_t ROWS = 2100, D = 1;
    struct sb_encoding enc = {SB_ENC_POSENC, 0, 2, 0, NULL};
    struct sb_model_spec spec = {D, 3, 80, 1, SB_OUT_LINEAR};
    const int saved = omp_get_max_threads();
    omp_set_num_threads(4); /* the partial buffers are allocated for this many */
    for (int isa = 0; isa < SB_ISA_COUNT; isa++) {
        const struct sb_kernels *k = sb_kernels_for((enum sb_isa)isa);
        if (!k || !sb_isa_supported((enum sb_isa)isa, NULL)) continue;
        struct sb_model mdl;
        assert_int_equal(sb_model_init(&mdl, &spec, &enc, 11), 0);
        struct sb_rng rng;
        sb_rng_seed(&rng, 5, 6);
        float *x = malloc(ROWS * D * sizeof *x), *t = malloc(ROWS * sizeof *t);
        for (size_t i = 0; i < ROWS * D; i++) x[i] = (float)sb_rng_uniform(&rng);
        for (size_t i = 0; i < ROWS; i++) t[i] = (float)sb_rng_normal(&rng);
        struct sb_activations a;
        assert_int_equal(sb_activations_alloc(&a, &mdl, ROWS), 0);
        const size_t P = mdl.n_params;
        assert_true(P > 3 * 4096);
        float *ref = malloc(P * sizeof *ref), *grad = malloc(P * sizeof *grad);
        for (int threads = 1; threads <= 4; threads++) {
            omp_set_num_threads(threads);
            struct sb_split sp = sb_model_split(&spec, mdl.features, ROWS, (size_t)threads);
            assert_true(sp.backward_by_tiles);
            for (int rep = 0; rep < (threads == 1 ? 1 : 4); rep++) {
                sb_model_forward(k, &mdl, ROWS, x, &a);
                sb_model_loss(k, &mdl, ROWS, t, &a, 1);
                assert_int_equal(sb_model_backward(k, &mdl, ROWS, &a, threads == 1 ? ref : grad,
                                                   NULL), 0);
                if (threads == 1) continue;
                for (size_t i = 0; i < P; i++)
                    if (memcmp(&grad[i], &ref[i], sizeof *grad))
                        fail_msg("%s: dL/dp[%zu] = %a on %d threads (try %d), %a on one",
                                 k->isa_name, i, (double)grad[i], threads, rep + 1,
                                 (double)ref[i]);
            }
        }
        printf("  tile order: %-6s %zu params, 9 tiles, the same bits on 1-4 threads\n",
               k->isa_name, P);
        free(ref);
        free(grad);
        free(x);
        free(t);
        sb_activations_free(&a);
        sb_model_free(&mdl);
    }
    omp_set_num_threads(saved);
}

/* A plain SGD step for the fused-step test: params -= 0.01 grad over [off, off + n). */
struct sgd {
    float *params;
    const float *grad;
};

static void sgd_apply(void *ctx, size_t off, size_t n)
{
    struct sgd *o = ctx;
    for (size_t i = off; i < off + n; i++) o->params[i] = o->params[i] - 0.01f * o->grad[i];
}

static void assert_same_floats(const char *what, const char *isa, int threads, int step,
                               const float *got, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof *got))
            fail_msg("%s: %s[%zu] = %a from the fused step on %d threads (step %d), %a from the "
                     "separate passes",
                     isa, what, i, (double)got[i], threads, step, (double)want[i]);
}

static void assert_same_bytes(const char *what, const char *isa, int threads, int step,
                              const void *got, const void *want, size_t bytes)
{
    if (memcmp(got, want, bytes))
        fail_msg("%s: %s differs between the fused step on %d threads (step %d) and the "
                 "separate passes",
                 isa, what, threads, step);
}

/* sb_model_train_step takes each tile forward, through the loss and backward in one pass on
 * the tile path, and calls the three passes in turn on the small-batch path: either way the
 * loss, y, dL/dy, the encoding, the gradient and the updated parameters with their packed
 * copies must be the same bits as sb_model_forward(_fixed), sb_model_loss and
 * sb_model_backward with the same update (and the hidden activations and masks on the
 * small-batch path: the tile path keeps a tile's in its thread's scratch), over three steps
 * (the fixed input encoded at the first), on 1 to 3 threads; and a step whose loss is not
 * finite must leave the parameters as they were. 2100 rows take the tile path on every
 * thread count, 200 rows (one tile) the small-batch path on 2 and 3; activations allocated
 * with a pool of one thread have no partial buffers, so 2 and 3 threads take the small-batch
 * path there too. The path taken is asserted: a->fused_steps counts the fused steps, and only
 * the small-batch path allocates a->dg. */
static void test_fused_step(void **state)
{
    (void)state;
    const size_t D = 2;
    struct sb_model_spec spec = {D, 2, 40, 3, SB_OUT_SIGMOID};
    const int saved = omp_get_max_threads();
    for (int isa = 0; isa < SB_ISA_COUNT; isa++) {
        const struct sb_kernels *k = sb_kernels_for((enum sb_isa)isa);
        if (!k || !sb_isa_supported((enum sb_isa)isa, NULL)) continue;
        for (int pool = 1; pool <= 3; pool += 2)
            for (size_t rows = 200; rows <= 2100; rows += 1900)
                for (int fixed = 0; fixed <= 1; fixed++)
                    for (int threads = 1; threads <= 3; threads++) {
                        struct sb_rng rng;
                        sb_rng_seed(&rng, 8, 9);
                        struct sb_model ref, fused;
                        for (int side = 0; side < 2; side++) {
                            struct sb_encoding enc = {SB_ENC_FOURIER, 0, 0, 6, NULL};
                            enc.B = malloc(6 * D * sizeof(float));
                            for (size_t i = 0; i < 6 * D; i++) enc.B[i] = (float)(i % 5) - 2.0f;
                            assert_int_equal(sb_model_init(side ? &fused : &ref, &spec, &enc, 3),
                                             0);
                        }
                        const size_t P = ref.n_params;
                        float *x = malloc(rows * D * sizeof *x), *t = malloc(rows * 3 * sizeof *t);
                        for (size_t i = 0; i < rows * D; i++) x[i] = (float)sb_rng_uniform(&rng);
                        for (size_t i = 0; i < rows * 3; i++) t[i] = (float)sb_rng_uniform(&rng);
                        struct sb_activations ra, fa;
                        omp_set_num_threads(3);
                        assert_int_equal(sb_activations_alloc(&ra, &ref, rows), 0);
                        omp_set_num_threads(pool);
                        assert_int_equal(sb_activations_alloc(&fa, &fused, rows), 0);
                        float *rg = malloc(P * sizeof *rg), *fg = malloc(P * sizeof *fg);
                        struct sgd ro = {ref.params, rg}, fo = {fused.params, fg};
                        const struct sb_update ru = {sgd_apply, &ro}, fu = {sgd_apply, &fo};
                        omp_set_num_threads(threads);
                        const int tile_path =
                            (rows > 200 || threads == 1) && (threads == 1 || pool >= threads);
                        const char *isa_name = k->isa_name;
                        for (int step = 0; step < 3; step++) {
                            if (fixed)
                                sb_model_forward_fixed(k, &ref, rows, x, &ra);
                            else
                                sb_model_forward(k, &ref, rows, x, &ra);
                            const float rl = sb_model_loss(k, &ref, rows, t, &ra, 1);
                            assert_int_equal(sb_model_backward(k, &ref, rows, &ra, rg, &ru), 0);
                            float fl = NAN;
                            assert_int_equal(sb_model_train_step(k, &fused, rows, x, fixed, t, &fa,
                                                                 fg, &fu, &fl),
                                             0);
                            if ((fa.dg == NULL) != tile_path ||
                                fa.fused_steps != (tile_path ? (size_t)step + 1 : 0))
                                fail_msg("%s: %zu rows on %d threads (pool of %d) took the %s "
                                         "backward path, %zu fused steps of %d",
                                         isa_name, rows, threads, pool,
                                         fa.dg ? "small-batch" : "tile", fa.fused_steps, step + 1);
                            assert_same_floats("loss", isa_name, threads, step, &fl, &rl, 1);
                            assert_same_floats("y", isa_name, threads, step, fa.y, ra.y, rows * 3);
                            assert_same_floats("dy", isa_name, threads, step, fa.dy, ra.dy,
                                               rows * 3);
                            assert_same_floats("enc", isa_name, threads, step, fa.enc, ra.enc,
                                               rows * fused.features);
                            /* the tile path keeps each tile's in its thread's scratch */
                            for (size_t l = 0; !tile_path && l < spec.depth; l++) {
                                assert_same_floats("act", isa_name, threads, step, fa.act[l],
                                                   ra.act[l], rows * fa.ld_act);
                                assert_same_bytes("mask", isa_name, threads, step, fa.mask[l],
                                                  ra.mask[l], rows * fa.mask_words * 8);
                            }
                            assert_same_floats("grad", isa_name, threads, step, fg, rg, P);
                            assert_same_floats("params", isa_name, threads, step, fused.params,
                                               ref.params, P);
                            for (size_t l = 0; l < fused.n_layers; l++) {
                                const struct sb_layer *F = &fused.layers[l], *R = &ref.layers[l];
                                assert_same_floats("Wt", isa_name, threads, step, F->wt, R->wt,
                                                   F->in * F->ldwt);
                                assert_same_floats("W", isa_name, threads, step, F->w, R->w,
                                                   F->out * F->ldw);
                            }
                            assert_true(fa.enc_of == (fixed ? x : NULL));
                        }
                        /* a target that makes the loss NaN: nothing is updated */
                        memcpy(rg, fused.params, P * sizeof *rg);
                        t[rows / 2] = NAN;
                        float fl = 0.0f;
                        assert_int_equal(
                            sb_model_train_step(k, &fused, rows, x, fixed, t, &fa, fg, &fu, &fl),
                            0);
                        assert_true(isnan(fl));
                        assert_same_floats("params after a NaN loss", isa_name, threads, 3,
                                           fused.params, rg, P);
                        free(rg);
                        free(fg);
                        free(x);
                        free(t);
                        sb_activations_free(&ra);
                        sb_activations_free(&fa);
                        sb_model_free(&ref);
                        sb_model_free(&fused);
                    }
        printf("  fused step: %-6s the same bits as the separate passes, 200 and 2100 rows, "
               "1-3 threads, pools of 1 and 3\n",
               k->isa_name);
    }
    omp_set_num_threads(saved);
}

/* got[n], after 3 steps on `threads` threads, against want[n], after the same on one. */
static void assert_same_as_one(const char *what, const char *isa, size_t width, size_t rows,
                               const char *threads, const float *got, const float *want,
                               size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof *got))
            fail_msg("%s, %zu units, %zu rows: %s[%zu] = %a after 3 steps on %s threads, %a on "
                     "one",
                     isa, width, rows, what, i, (double)got[i], threads, (double)want[i]);
}

/* The update and the packed copies of W come from different code on each path: on the tile
 * path each thread updates its share of the parameters (whole rows of W) and packs those rows,
 * on the small-batch path a thread that has taken its last weight-gradient item updates and
 * packs those items' blocks of W (whole rows, or rows cut into blocks of inputs when there are
 * fewer blocks of outputs than threads). Three training steps must leave the same parameters,
 * Wt and W bits on more threads as on one: 200 rows (one tile: the small-batch path on 2 to 4
 * threads) and 2100 (9 tiles: the tile path on 2 to 9 threads, the threads' shares ending
 * inside rows of W of the first and second layers, and at 40 units and 9 threads one in the
 * first layer's biases); both widths make short blocks of outputs and blocks of inputs. At 200
 * rows a last run takes 2, then 4, then 3 threads, a step each, on one set of activations, so
 * that the small-batch path's item counters (sb_item_take) grow with the team between steps. */
static void test_update_paths(void **state)
{
    (void)state;
    const size_t D = 2;
    const size_t nets[][2] = {{130, 200}, {40, 200}, {130, 2100}, {40, 2100}}; /* units, rows */
    const int saved = omp_get_max_threads();
    for (int isa = 0; isa < SB_ISA_COUNT; isa++) {
        const struct sb_kernels *k = sb_kernels_for((enum sb_isa)isa);
        if (!k || !sb_isa_supported((enum sb_isa)isa, NULL)) continue;
        for (size_t c = 0; c < sizeof nets / sizeof *nets; c++) {
            const size_t width = nets[c][0], ROWS = nets[c][1];
            struct sb_model_spec spec = {D, 2, width, 3, SB_OUT_LINEAR};
            struct sb_rng rng;
            sb_rng_seed(&rng, 12, 13);
            float *x = malloc(ROWS * D * sizeof *x), *t = malloc(ROWS * 3 * sizeof *t);
            for (size_t i = 0; i < ROWS * D; i++) x[i] = (float)sb_rng_uniform(&rng);
            for (size_t i = 0; i < ROWS * 3; i++) t[i] = (float)sb_rng_normal(&rng);
            struct sb_model one;
            /* a run per thread count, and at 200 rows a last run of 2, 4, then 3 threads */
            const int most = ROWS > SB_TILE_ROWS ? 9 : 4, runs = most + (ROWS <= SB_TILE_ROWS);
            for (int run = 1; run <= runs; run++) {
                const int mixed = run > most, team[3] = {mixed ? 2 : run, mixed ? 4 : run,
                                                         mixed ? 3 : run};
                char threads[32];
                snprintf(threads, sizeof threads, mixed ? "2, 4, then 3" : "%d", run);
                struct sb_encoding enc = {SB_ENC_FOURIER, 0, 0, 6, NULL};
                enc.B = malloc(6 * D * sizeof(float));
                for (size_t i = 0; i < 6 * D; i++) enc.B[i] = (float)(i % 7) - 3.0f;
                struct sb_model mdl;
                assert_int_equal(sb_model_init(&mdl, &spec, &enc, 5), 0);
                omp_set_num_threads(team[0]);
                struct sb_activations a;
                assert_int_equal(sb_activations_alloc(&a, &mdl, ROWS), 0);
                float *grad = malloc(mdl.n_params * sizeof *grad);
                struct sgd o = {mdl.params, grad};
                const struct sb_update u = {sgd_apply, &o};
                for (int step = 0; step < 3; step++) {
                    omp_set_num_threads(team[step]);
                    float loss = NAN;
                    assert_int_equal(
                        sb_model_train_step(k, &mdl, ROWS, x, 1, t, &a, grad, &u, &loss), 0);
                    assert_true(isfinite(loss));
                    /* the small-batch path's item counters grow with the team */
                    if (a.dg) assert_true(a.items_taken_cap >= (size_t)team[step] * a.item_stride);
                }
                /* one tile: one thread takes the tile path, more the small-batch path */
                assert_true((a.dg == NULL) == (run == 1 || ROWS > SB_TILE_ROWS));
                free(grad);
                sb_activations_free(&a);
                if (run == 1) {
                    one = mdl;
                    continue;
                }
                assert_same_as_one("params", k->isa_name, width, ROWS, threads, mdl.params,
                                   one.params, mdl.n_params);
                for (size_t l = 0; l < mdl.n_layers; l++) {
                    const struct sb_layer *L = &mdl.layers[l], *O = &one.layers[l];
                    assert_same_as_one("Wt", k->isa_name, width, ROWS, threads, L->wt, O->wt,
                                       L->in * L->ldwt);
                    assert_same_as_one("W", k->isa_name, width, ROWS, threads, L->w, O->w,
                                       L->out * L->ldw);
                }
                sb_model_free(&mdl);
            }
            sb_model_free(&one);
            free(x);
            free(t);
        }
        printf("  update paths: %-6s parameters, Wt and W the same bits on 1-4 threads and 2, "
               "4, then 3 (200 rows) and 1-9 (2100), 130 and 40 units\n",
               k->isa_name);
    }
    omp_set_num_threads(saved);
}

/* sb_item_take, which hands out the small-batch path's weight-gradient items home first: a
 * thread takes its own range in order, then the ranges after it round the team; every item
 * goes to exactly one caller, in any interleaving and under real threads. */
static void test_item_take(void **state)
{
    (void)state;
    enum { STRIDE = 8, MAXN = 1000, TEAM = 4 };
    size_t taken[16 * STRIDE], item;
    /* 7 items on 3 threads: homes [0,2), [2,4), [4,7); thread 1 alone takes its own, then
     * thread 2's, then thread 0's */
    memset(taken, 0, sizeof taken);
    const size_t order[] = {2, 3, 4, 5, 6, 0, 1};
    for (size_t i = 0; i < 7; i++) {
        assert_true(sb_item_take(taken, STRIDE, 3, 1, 7, &item));
        assert_int_equal(item, order[i]);
    }
    assert_false(sb_item_take(taken, STRIDE, 3, 1, 7, &item));
    assert_false(sb_item_take(taken, STRIDE, 3, 0, 7, &item));
    /* fewer items than threads: thread 0's home is empty, and it takes thread 1's one item */
    memset(taken, 0, sizeof taken);
    assert_true(sb_item_take(taken, STRIDE, 2, 0, 1, &item));
    assert_int_equal(item, 0);
    assert_false(sb_item_take(taken, STRIDE, 2, 1, 1, &item));
    memset(taken, 0, sizeof taken);
    assert_false(sb_item_take(taken, STRIDE, 2, 0, 0, &item)); /* no items */
    /* interleavings from a generator: each item once, and each call the next item of the
     * first range, from the caller's own round the team, that still has one */
    struct sb_rng rng;
    sb_rng_seed(&rng, 3, 4);
    for (int trial = 0; trial < 200; trial++) {
        const size_t team = 1 + (size_t)trial % 16, n = (size_t)trial * 7 % 53;
        int seen[53] = {0}, done[16] = {0};
        size_t left = team;
        memset(taken, 0, sizeof taken);
        while (left) {
            const size_t me = (size_t)(sb_rng_uniform(&rng) * (double)team) % team;
            if (done[me]) continue;
            size_t want = n; /* n: none left */
            for (size_t i = 0; i < team && want == n; i++) {
                const size_t h = (me + i) % team, h0 = h * n / team, h1 = (h + 1) * n / team;
                if (h0 + taken[h * STRIDE] < h1) want = h0 + taken[h * STRIDE];
            }
            if (!sb_item_take(taken, STRIDE, team, me, n, &item)) {
                assert_int_equal(want, n);
                done[me] = 1;
                left--;
                continue;
            }
            assert_int_equal(item, want);
            assert_int_equal(seen[item]++, 0);
        }
        for (size_t i = 0; i < n; i++) assert_int_equal(seen[i], 1);
    }
    /* real threads, more than this machine may have cores: each item once */
    static int hits[MAXN];
    memset(hits, 0, sizeof hits);
    memset(taken, 0, sizeof taken);
#pragma omp parallel num_threads(TEAM)
    {
        const size_t team = (size_t)omp_get_num_threads(), me = (size_t)omp_get_thread_num();
        size_t it;
        while (sb_item_take(taken, STRIDE, team, me, MAXN, &it))
            __atomic_fetch_add(&hits[it], 1, __ATOMIC_RELAXED);
    }
    for (size_t i = 0; i < MAXN; i++) assert_int_equal(hits[i], 1);
    printf("  item hand-out: home first, each item once (sequences, 200 interleavings, %d "
           "threads)\n",
           TEAM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_gradients),
                                       cmocka_unit_test(test_tile_order),
                                       cmocka_unit_test(test_fused_step),
                                       cmocka_unit_test(test_update_paths),
                                       cmocka_unit_test(test_item_take)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
