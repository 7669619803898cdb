/* specbias-peer-openblas: the OpenBLAS backend of peers/peer_main.c.
 *
 * cblas_sgemm for the three products of each layer, and the plain loops a BLAS user writes
 * around them: bias add, ReLU and the bias gradient, each its own pass over the matrix.
 *
 * --gemm ops (gflops = 2 rows in out / seconds for each):
 *   sgemm_fwd            Y[rows][out] = X[rows][in] W[out][in]^T
 *   sgemm_fwd_bias_relu  the same, then one plain C pass: bias, ReLU, activation mask words
 *   sgemm_bwd_data       dX[rows][in] = G[rows][out] W[out][in]
 *   sgemm_bwd_weights    dW[out][in] += G^T X (beta = 1, accumulating like dense_bwd_weights)
 * The trainer's JSON adds "openblas_threads"; "version" is openblas_get_config(). */
#include <cblas.h>
#include <string.h>

#include "peer_backend.h"

static void set_threads(int threads) { openblas_set_num_threads(threads); }

static const char *version(void) { return openblas_get_config(); }

static void forward(size_t B, size_t in, size_t out, const float *x, const float *w, const float *b,
                    float *y, int relu)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)out, (int)in, 1.0f, x,
                (int)in, w, (int)in, 0.0f, y, (int)out);
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < out; j++) y[i * out + j] += b[j];
    if (relu)
        for (size_t i = 0; i < B * out; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

static void backward_weights(size_t B, size_t in, size_t out, const float *g, const float *x,
                             float *dw, float *db)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)B, 1.0f, g,
                (int)out, x, (int)in, 0.0f, dw, (int)in);
    memset(db, 0, out * sizeof(float));
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < out; j++) db[j] += g[i * out + j];
}

static void backward_data(size_t B, size_t in, size_t out, const float *g, const float *w,
                          float *dx)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)in, (int)out, 1.0f, g,
                (int)out, w, (int)in, 0.0f, dx, (int)in);
}

static json_t *train_info(void)
{
    return json_pack("{s:i}", "openblas_threads", openblas_get_num_threads());
}

static void op_fwd(const struct peer_gemm *g)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->rows, g->out, g->in, 1.0f, g->x, g->in,
                g->w, g->in, 0.0f, g->y, g->out);
}

/* What dense_relu_fwd fuses, done unfused: the GEMM, then one plain C pass over the rows adding
 * the bias, applying ReLU and writing the activation bits, so both sides produce the same
 * outputs. The trainer does bias and ReLU as two whole-matrix loops and keeps no mask. Per row
 * (still in L1 between the two loops): bias and ReLU in a loop the compiler vectorises, then
 * the bits. */
static void op_fwd_bias_relu(const struct peer_gemm *g)
{
    op_fwd(g);
    const size_t out = (size_t)g->out;
    for (size_t i = 0; i < (size_t)g->rows; i++) {
        float *y = g->y + i * out;
        for (size_t j = 0; j < out; j++) {
            const float v = y[j] + g->b[j];
            y[j] = v > 0.0f ? v : 0.0f; /* y > 0 exactly where v > 0: the bits read y */
        }
        peer_row_mask(y, out, g->mask + i * g->mask_words);
    }
}

static void op_bwd_data(const struct peer_gemm *g)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->rows, g->in, g->out, 1.0f, g->g,
                g->out, g->w, g->in, 0.0f, g->dx, g->in);
}

/* beta = 1: dense_bwd_weights adds into dW (the trainer sums batch tiles), so the peer pays
 * for reading dW as well. */
static void op_bwd_weights(const struct peer_gemm *g)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->out, g->in, g->rows, 1.0f, g->g, g->out,
                g->x, g->in, 1.0f, g->dw, g->in);
}

static const struct peer_op ops[] = {
    {"sgemm_fwd", PEER_FWD, 0, op_fwd, NULL},
    {"sgemm_fwd_bias_relu", PEER_FWD_BIAS_RELU, 0, op_fwd_bias_relu, NULL},
    {"sgemm_bwd_data", PEER_BWD_DATA, 0, op_bwd_data, NULL},
    {"sgemm_bwd_weights", PEER_BWD_WEIGHTS, 1, op_bwd_weights, NULL},
};

/* What this backend gives peer_main.c (peer_backend.h says what each is). */
static const struct peer_train_mode train = {forward, backward_weights, backward_data, train_info};
static const struct peer_gemm_mode gemm = {ops, sizeof ops / sizeof ops[0], NULL, NULL};
const struct peer_backend peer_backend = {"openblas", set_threads, version, &train, &gemm, NULL};
