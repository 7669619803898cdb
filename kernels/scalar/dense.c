/* Scalar truth of the dense-layer kernels. Each output element is one sequential fmaf chain
 * over the reduction index, exactly as documented in kernels.h; the vector variants compute
 * many such chains side by side and must match these bits. */
#define SB_ISA_SUFFIX scalar
#include "kernels/declare.h"
#include "transcendental.h"

#include <math.h>
#include <string.h>

/* The gradient of unit j of row n after the ReLU mask: dy where the unit was active, else 0. */
static inline float masked_grad(const float *dy, size_t lddy, const uint64_t *mask, size_t ldm,
                                size_t n, size_t j)
{
    const float g = dy[n * lddy + j];
    if (!mask) return g;
    return (mask[n * ldm + j / 64] >> (j % 64)) & 1u ? g : 0.0f;
}

static inline float dense_acc(size_t in, const float *x, const float *wt, size_t ldwt,
                              float bias, size_t j)
{
    float acc = bias;
    for (size_t k = 0; k < in; k++) acc = fmaf(x[k], wt[k * ldwt + j], acc);
    return acc;
}

void dense_relu_fwd__scalar(size_t rows, size_t in, size_t out, const float *restrict x,
                            size_t ldx, const float *restrict wt, size_t ldwt,
                            const float *restrict b, float *restrict y, size_t ldy,
                            uint64_t *restrict mask, size_t ldm)
{
    const size_t words = sb_mask_words(out);
    for (size_t n = 0; n < rows; n++) {
        uint64_t *m = mask ? mask + n * ldm : NULL;
        if (m) memset(m, 0, words * sizeof *m);
        for (size_t j = 0; j < out; j++) {
            const float acc = dense_acc(in, x + n * ldx, wt, ldwt, b[j], j);
            const int on = acc > 0.0f;
            y[n * ldy + j] = on ? acc : 0.0f;
            if (m && on) m[j / 64] |= UINT64_C(1) << (j % 64);
        }
    }
}

void dense_linear_fwd__scalar(size_t rows, size_t in, size_t out, const float *restrict x,
                              size_t ldx, const float *restrict wt, size_t ldwt,
                              const float *restrict b, float *restrict y, size_t ldy)
{
    for (size_t n = 0; n < rows; n++)
        for (size_t j = 0; j < out; j++)
            y[n * ldy + j] = dense_acc(in, x + n * ldx, wt, ldwt, b[j], j);
}

void dense_sigmoid_fwd__scalar(size_t rows, size_t in, size_t out, const float *restrict x,
                               size_t ldx, const float *restrict wt, size_t ldwt,
                               const float *restrict b, float *restrict y, size_t ldy)
{
    for (size_t n = 0; n < rows; n++)
        for (size_t j = 0; j < out; j++)
            y[n * ldy + j] = sigmoid_ref(dense_acc(in, x + n * ldx, wt, ldwt, b[j], j));
}

void dense_bwd_data__scalar(size_t rows, size_t in, size_t out, const float *restrict dy,
                            size_t lddy, const uint64_t *restrict mask, size_t ldm,
                            const float *restrict w, size_t ldw,
                            const uint64_t *restrict xmask, size_t ldxm, float *restrict dx,
                            size_t lddx)
{
    for (size_t n = 0; n < rows; n++) {
        for (size_t k = 0; k < in; k++) {
            float acc = 0.0f;
            for (size_t j = 0; j < out; j++)
                acc = fmaf(masked_grad(dy, lddy, mask, ldm, n, j), w[j * ldw + k], acc);
            const int on = !xmask || ((xmask[n * ldxm + k / 64] >> (k % 64)) & 1u);
            dx[n * lddx + k] = on ? acc : 0.0f;
        }
    }
}

/* One chunk of at most SB_WGRAD_ROWS rows. */
static void bwd_weights_chunk(size_t rows, size_t in, size_t out, const float *dy, size_t lddy,
                              const uint64_t *mask, size_t ldm, const float *x, size_t ldx,
                              float *dw, size_t lddw, float *db)
{
    for (size_t j = 0; j < out; j++) {
        for (size_t k = 0; k < in; k++) {
            float acc = 0.0f;
            for (size_t n = 0; n < rows; n++)
                acc = fmaf(masked_grad(dy, lddy, mask, ldm, n, j), x[n * ldx + k], acc);
            dw[j * lddw + k] = dw[j * lddw + k] + acc;
        }
        if (db) {
            float acc = 0.0f;
            for (size_t n = 0; n < rows; n++) acc = acc + masked_grad(dy, lddy, mask, ldm, n, j);
            db[j] = db[j] + acc;
        }
    }
}

void dense_bwd_weights__scalar(size_t rows, size_t in, size_t out, const float *restrict dy,
                               size_t lddy, const uint64_t *restrict mask, size_t ldm,
                               const float *restrict x, size_t ldx, float *restrict dw,
                               size_t lddw, float *restrict db)
{
    /* chunks of SB_WGRAD_ROWS rows (kernels.h), each chunk's partial sums added in order */
    for (size_t n0 = 0; n0 < rows; n0 += SB_WGRAD_ROWS)
        bwd_weights_chunk(rows - n0 < SB_WGRAD_ROWS ? rows - n0 : SB_WGRAD_ROWS, in, out,
                          dy + n0 * lddy, lddy, mask ? mask + n0 * ldm : NULL, ldm, x + n0 * ldx,
                          ldx, dw, lddw, db);
}

void sigmoid_bwd__scalar(size_t n, const float *restrict y, const float *restrict dy,
                         float *restrict dz)
{
    for (size_t i = 0; i < n; i++) dz[i] = dy[i] * (y[i] * (1.0f - y[i]));
}
