/* AVX2+FMA dense-layer kernels: 6 x 16 register tiles (12 ymm accumulators; per step of the
 * reduction 2 loads and 6 broadcasts for 12 FMAs, within the load ports of every AVX2 core).
 * The code is kernels/shared/dense.h, shared with AVX-512 and NEON; this file picks the tile
 * shape. */
#define SB_ISA_SUFFIX avx2
#include "kernels/declare.h"
#include "simd.h"

#define TILE_MR 6
#define TILE_NV 2
/* The input mask applied in the tile's registers (kernels/shared/dense.h): 3 interleaved runs
 * of dense_bwd_data, 2048x128x128 +5 to +7 % and 4096x256x256 +2 to +3 % over the pass after
 * the store. It was 60 % slower before the reduction loop took its present shape. */
#define TILE_XMASK_IN_REGISTERS 1
#include "kernels/shared/dense.h"

void dense_relu_fwd__avx2(size_t rows, size_t in, size_t out, const float *restrict x, size_t ldx,
                          const float *restrict wt, size_t ldwt, const float *restrict b,
                          float *restrict y, size_t ldy, uint64_t *restrict mask, size_t ldm)
{
    dense_relu_fwd_simd(rows, in, out, x, ldx, wt, ldwt, b, y, ldy, mask, ldm);
}

void dense_linear_fwd__avx2(size_t rows, size_t in, size_t out, const float *restrict x, size_t ldx,
                            const float *restrict wt, size_t ldwt, const float *restrict b,
                            float *restrict y, size_t ldy)
{
    dense_linear_fwd_simd(rows, in, out, x, ldx, wt, ldwt, b, y, ldy);
}

void dense_sigmoid_fwd__avx2(size_t rows, size_t in, size_t out, const float *restrict x,
                             size_t ldx, const float *restrict wt, size_t ldwt,
                             const float *restrict b, float *restrict y, size_t ldy)
{
    dense_sigmoid_fwd_simd(rows, in, out, x, ldx, wt, ldwt, b, y, ldy);
}

void dense_bwd_data__avx2(size_t rows, size_t in, size_t out, const float *restrict dy, size_t lddy,
                          const uint64_t *restrict mask, size_t ldm, const float *restrict w,
                          size_t ldw, const uint64_t *restrict xmask, size_t ldxm,
                          float *restrict dx, size_t lddx)
{
    dense_bwd_data_simd(rows, in, out, dy, lddy, mask, ldm, w, ldw, xmask, ldxm, dx, lddx);
}

void dense_bwd_weights__avx2(size_t rows, size_t in, size_t out, const float *restrict dy,
                             size_t lddy, const uint64_t *restrict mask, size_t ldm,
                             const float *restrict x, size_t ldx, float *restrict dw, size_t lddw,
                             float *restrict db)
{
    dense_bwd_weights_simd(rows, in, out, dy, lddy, mask, ldm, x, ldx, dw, lddw, db);
}

void sigmoid_bwd__avx2(size_t n, const float *restrict y, const float *restrict dy,
                       float *restrict dz)
{
    sigmoid_bwd_simd(n, y, dy, dz);
}
