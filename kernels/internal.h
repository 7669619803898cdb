/* Helpers shared by the kernel sources of every ISA (not part of the public interface). */
#ifndef SPECBIAS_KERNELS_INTERNAL_H
#define SPECBIAS_KERNELS_INTERNAL_H

#include "specbias/kernels.h"

/* The gradient of unit j of row n after the ReLU mask: dy where the unit was active, else 0. */
static inline float sb_masked_grad(const float *dy, size_t lddy, const uint64_t *mask,
                                   size_t ldm, size_t n, size_t j)
{
    const float g = dy[n * lddy + j];
    if (!mask) return g;
    return (mask[n * ldm + j / 64] >> (j % 64)) & 1u ? g : 0.0f;
}

/* dense_bwd_weights over chunks of SB_WGRAD_ROWS rows (kernels.h), for a variant whose
 * `chunk` handles at most that many rows: each chunk's partial sums are added in order. */
static inline void sb_wgrad_by_chunks(sb_dense_bwd_weights_fn *chunk, size_t rows, size_t in,
                                      size_t out, const float *dy, size_t lddy,
                                      const uint64_t *mask, size_t ldm, const float *x,
                                      size_t ldx, float *dw, size_t lddw, float *db)
{
    for (size_t n0 = 0; n0 < rows; n0 += SB_WGRAD_ROWS)
        chunk(rows - n0 < SB_WGRAD_ROWS ? rows - n0 : SB_WGRAD_ROWS, in, out, dy + n0 * lddy,
              lddy, mask ? mask + n0 * ldm : NULL, ldm, x + n0 * ldx, ldx, dw, lddw, db);
}

/* dx[n][k] = +0 where bit (n, k) of xmask is clear: dense_bwd_data's input mask as a pass
 * after the product, for the variants that do not fuse it into their stores (the same
 * values, so the same bits). */
static inline void sb_apply_xmask(size_t rows, size_t in, const uint64_t *xmask, size_t ldxm,
                                  float *dx, size_t lddx)
{
    if (!xmask) return;
    for (size_t n = 0; n < rows; n++)
        for (size_t k = 0; k < in; k++)
            if (!((xmask[n * ldxm + k / 64] >> (k % 64)) & 1u)) dx[n * lddx + k] = 0.0f;
}

/* Per-core cache sizes the dense kernels block for (sb_set_cache_sizes). */
extern size_t sb_cache_l1d, sb_cache_l2;

/* Lanes of the fixed MSE reduction layout (kernels.h, mse_loss_grad). */
#define SB_MSE_LANES 16

/* Constants of pattern_hash (kernels.h). */
#define SB_HASH_LANES 8
#define SB_HASH_SEED32 0x9E3779B9u
#define SB_HASH_MUL32 0x01000193u
#define SB_HASH_SHIFT 15
#define SB_HASH_BASIS64 UINT64_C(0xCBF29CE484222325)
#define SB_HASH_MUL64 UINT64_C(0x100000001B3)

/* The final, scalar step of pattern_hash shared by every ISA: fold the 8 lane states. */
static inline uint64_t sb_hash_fold(const uint32_t s[SB_HASH_LANES])
{
    uint64_t h = SB_HASH_BASIS64;
    for (int l = 0; l < SB_HASH_LANES; l++) h = (h ^ s[l]) * SB_HASH_MUL64;
    return h;
}

/* The final, scalar step of mse_loss_grad shared by every ISA. */
static inline float sb_mse_fold(const float lane[SB_MSE_LANES])
{
    float sum = lane[0];
    for (int l = 1; l < SB_MSE_LANES; l++) sum = sum + lane[l];
    return sum;
}

#endif
