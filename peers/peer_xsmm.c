/* specbias-peer-xsmm: a libxsmm GEMM ceiling for peers/peer_main.c's --gemm (amd64).
 *
 * libxsmm's JIT kernels are small-matrix GEMMs (column-major, alpha 1, beta 0 or 1, no
 * transposed A); a large product is tiles of them, as libxsmm's own layers compose it. Each op
 * here is the product of one dense layer of the shape, as tiles of JIT kernels called in a
 * fixed plan: for each tile of the output, the kernels over K in chunks (beta 1 after the
 * first). The tile sizes are chosen once per op, before the timed calls, as the fastest of a
 * few candidates on this machine (`tile` in the JSON, MxNxK of the column-major product), so
 * the ceiling is libxsmm at its best here, not at one guess. One thread: libxsmm's kernels are
 * single-threaded, and the ceiling is per core.
 *
 * --gemm ops (gflops = 2 rows in out / seconds for each; outputs in the trainer's layouts):
 *   xsmm_fwd           Y[rows][out] = X[rows][in] W[out][in]^T. libxsmm has no transposed-A
 *                      kernel, so W is kept transposed (Wt[in][out], made before timing, as
 *                      libxsmm's layers store their weights in their own layout)
 *   xsmm_bwd_data      dX[rows][in] = G[rows][out] W[out][in] (the natural layouts)
 *   xsmm_bwd_weights   dW[out][in] += G^T X (beta = 1 as sgemm_bwd_weights), with a
 *                      transposed-B kernel on G where libxsmm JITs one, else on a copy of G
 *                      transposed before timing (`layout` in the JSON says which)
 * No trainer mode: this is a GEMM ceiling. Each op's JSON adds "target_arch"
 * (libxsmm_get_target_arch), "tile" and "layout". */
#include <libxsmm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peer_backend.h"

static void set_threads(int threads)
{
    if (threads != 1)
        peer_die(2, "--threads %d: the libxsmm ceiling runs on one thread (--threads 1)", threads);
    libxsmm_init();
}

static const char *version(void) { return "libxsmm " LIBXSMM_CONFIG_VERSION; }

/* One kernel call of a plan: offsets in floats into A, B and C. */
struct call {
    libxsmm_smmfunction kernel;
    size_t a, b, c;
};

/* A column-major product C[M x N] (+)= A[M x K] op(B), op(B) = B[K x N] or, with transb,
 * the transpose of B[N x K], as the list of kernel calls that computes it. */
struct plan {
    int m, n, k, lda, ldb, ldc, transb, accumulate;
    int bm, bn, bk;
    const float *a, *b;
    float *c;
    struct call *calls;
    size_t n_calls;
};

static int min_int(int a, int b) { return a < b ? a : b; }

static libxsmm_smmfunction dispatch(const struct plan *p, int m, int n, int k, float beta)
{
    const libxsmm_blasint lda = p->lda, ldb = p->ldb, ldc = p->ldc;
    const float alpha = 1.0f;
    const int flags = p->transb ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE;
    const int prefetch = LIBXSMM_PREFETCH_NONE;
    return libxsmm_smmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, &prefetch);
}

/* Lays out the calls for tiles bm x bn x bk: output tiles column block by column block (a
 * panel of op(B) is reused across the rows of tiles), each tile's K chunks in a row so its C
 * stays in cache. Returns 0 where libxsmm JITs no kernel for a tile. */
static int plan_tiles(struct plan *p, int bm, int bn, int bk)
{
    p->bm = min_int(bm, p->m), p->bn = min_int(bn, p->n), p->bk = min_int(bk, p->k);
    const size_t tiles = (size_t)((p->m + p->bm - 1) / p->bm) *
                         (size_t)((p->n + p->bn - 1) / p->bn) *
                         (size_t)((p->k + p->bk - 1) / p->bk);
    free(p->calls);
    p->calls = peer_calloc(tiles, sizeof *p->calls);
    p->n_calls = 0;
    for (int j = 0; j < p->n; j += p->bn)
        for (int i = 0; i < p->m; i += p->bm)
            for (int kk = 0; kk < p->k; kk += p->bk) {
                const int m = min_int(p->bm, p->m - i), n = min_int(p->bn, p->n - j);
                const int k = min_int(p->bk, p->k - kk);
                struct call *c = &p->calls[p->n_calls++];
                c->kernel = dispatch(p, m, n, k, kk || p->accumulate ? 1.0f : 0.0f);
                if (!c->kernel) return 0;
                c->a = (size_t)i + (size_t)kk * (size_t)p->lda;
                c->b = p->transb ? (size_t)j + (size_t)kk * (size_t)p->ldb
                                 : (size_t)kk + (size_t)j * (size_t)p->ldb;
                c->c = (size_t)i + (size_t)j * (size_t)p->ldc;
            }
    return 1;
}

static void run_plan(const struct plan *p)
{
    for (size_t t = 0; t < p->n_calls; t++) {
        const struct call *c = &p->calls[t];
        c->kernel(p->a + c->a, p->b + c->b, p->c + c->c);
    }
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Plans p with the fastest of the candidate tilings: each is run once to warm up, then timed
 * as the best of three calls. A tiling libxsmm cannot JIT is passed over. */
static void plan_best(struct plan *p, const char *op)
{
    static const int cand[][3] = {{32, 32, 256}, {64, 32, 256}, {64, 64, 256}, {32, 96, 128},
                                  {64, 96, 128}, {128, 32, 64}, {64, 128, 64}, {256, 16, 256}};
    int best = -1;
    double best_s = 0.0;
    for (int c = 0; c < (int)(sizeof cand / sizeof cand[0]); c++) {
        if (!plan_tiles(p, cand[c][0], cand[c][1], cand[c][2])) continue;
        run_plan(p);
        double s = 0.0;
        for (int r = 0; r < 3; r++) {
            const double t0 = seconds_now();
            run_plan(p);
            const double t = seconds_now() - t0;
            if (r == 0 || t < s) s = t;
        }
        if (best < 0 || s < best_s) best = c, best_s = s;
    }
    if (best < 0 || !plan_tiles(p, cand[best][0], cand[best][1], cand[best][2]))
        peer_die(3, "%s: libxsmm JITs no kernel for any tiling of %dx%dx%d (target %s)", op, p->m,
                 p->n, p->k, libxsmm_get_target_arch());
}

static struct plan fwd, bwd_data, bwd_weights;
static float *wt, *gt;    /* W transposed for xsmm_fwd; G transposed where no transposed-B kernel */
static float *dw_scratch; /* what the tuning of xsmm_bwd_weights accumulates into */

/* The output pointers of the ops are the harness's (check_op reads them); the tuning runs
 * write into the same outputs before the checked first call, which resets them. Only the
 * accumulating dW is tuned on a scratch copy, so that its first call starts from zero. */
static void gemm_prepare(const struct peer_gemm *g)
{
    const int R = g->rows, I = g->in, O = g->out;
    const size_t r = (size_t)R, in = (size_t)I, out = (size_t)O;
    wt = peer_calloc(in * out, sizeof(float));
    for (size_t o = 0; o < out; o++)
        for (size_t c = 0; c < in; c++) wt[c * out + o] = g->w[o * in + c];
    /* Y^T[out x rows] = Wt^T[out x in] X^T[in x rows], column-major. */
    fwd = (struct plan){
        .m = O, .n = R, .k = I, .lda = O, .ldb = I, .ldc = O, .a = wt, .b = g->x, .c = g->y};
    plan_best(&fwd, "xsmm_fwd");
    /* dX^T[in x rows] = W^T[in x out] G^T[out x rows]. */
    bwd_data = (struct plan){
        .m = I, .n = R, .k = O, .lda = I, .ldb = O, .ldc = I, .a = g->w, .b = g->g, .c = g->dx};
    plan_best(&bwd_data, "xsmm_bwd_data");
    /* dW^T[in x out] += X^T[in x rows] op(B)[rows x out], op(B) = (G^T[out x rows])^T, or a
     * transposed copy Gt[out][rows] (column-major rows x out) without transposed-B kernels. */
    bwd_weights = (struct plan){.m = I,
                                .n = O,
                                .k = R,
                                .lda = I,
                                .ldb = O,
                                .ldc = I,
                                .transb = 1,
                                .accumulate = 1,
                                .a = g->x,
                                .b = g->g};
    if (!dispatch(&bwd_weights, min_int(I, 32), min_int(O, 32), min_int(R, 64), 1.0f)) {
        gt = peer_calloc(r * out, sizeof(float));
        for (size_t i = 0; i < r; i++)
            for (size_t o = 0; o < out; o++) gt[o * r + i] = g->g[i * out + o];
        bwd_weights.transb = 0, bwd_weights.ldb = R, bwd_weights.b = gt;
    }
    dw_scratch = peer_calloc(in * out, sizeof(float));
    bwd_weights.c = dw_scratch;
    plan_best(&bwd_weights, "xsmm_bwd_weights");
    bwd_weights.c = g->dw;
}

static void op_fwd(const struct peer_gemm *g)
{
    (void)g;
    run_plan(&fwd);
}

static void op_bwd_data(const struct peer_gemm *g)
{
    (void)g;
    run_plan(&bwd_data);
}

static void op_bwd_weights(const struct peer_gemm *g)
{
    (void)g;
    run_plan(&bwd_weights);
}

static const struct peer_op ops[] = {
    {"xsmm_fwd", PEER_FWD, 0, op_fwd, NULL},
    {"xsmm_bwd_data", PEER_BWD_DATA, 0, op_bwd_data, NULL},
    {"xsmm_bwd_weights", PEER_BWD_WEIGHTS, 1, op_bwd_weights, NULL},
};

static json_t *op_info(const struct peer_op *op, const struct peer_gemm *g)
{
    (void)g;
    const struct plan *p = op->fn == op_fwd        ? &fwd
                           : op->fn == op_bwd_data ? &bwd_data
                                                   : &bwd_weights;
    const char *layout = op->fn == op_fwd ? "W transposed before timing (no transposed-A kernel)"
                         : op->fn == op_bwd_data ? "the trainer's"
                         : p->transb             ? "the trainer's (transposed-B kernels on G)"
                                     : "G transposed before timing (no transposed-B kernel)";
    char tile[64];
    snprintf(tile, sizeof tile, "%dx%dx%d", p->bm, p->bn, p->bk);
    return json_pack("{s:s, s:s, s:s}", "target_arch", libxsmm_get_target_arch(), "tile", tile,
                     "layout", layout);
}

static void cleanup(void)
{
    free(fwd.calls), free(bwd_data.calls), free(bwd_weights.calls);
    free(wt), free(gt), free(dw_scratch);
    fwd.calls = bwd_data.calls = bwd_weights.calls = NULL;
    wt = gt = dw_scratch = NULL;
    libxsmm_finalize();
}

/* What this backend gives peer_main.c (peer_backend.h says what each is). */
static const struct peer_gemm_mode gemm = {ops, sizeof ops / sizeof ops[0], gemm_prepare, op_info};
const struct peer_backend peer_backend = {"xsmm", set_threads, version, NULL, &gemm, cleanup};
