/* AVX-512 dense-layer kernels: 12 x 32 register tiles (24 zmm accumulators; per step of the
 * reduction 2 loads and 12 broadcasts for 24 FMAs). The code is kernels/shared/dense.h,
 * shared with AVX2 (measured there) and NEON; this file picks the tile shape. */
#define SB_ISA_SUFFIX avx512
#include "kernels/declare.h"
#include "simd.h"

#define TILE_MR 12
#define TILE_NV 2
#define TILE_XMASK_IN_REGISTERS 1
#include "kernels/shared/dense.h"

void dense_relu_fwd__avx512(size_t rows, size_t in, size_t out, const float *restrict x, size_t ldx,
                            const float *restrict wt, size_t ldwt, const float *restrict b,
                            float *restrict y, size_t ldy, uint64_t *restrict mask, size_t ldm)
{
    dense_relu_fwd_simd(rows, in, out, x, ldx, wt, ldwt, b, y, ldy, mask, ldm);
}

void dense_linear_fwd__avx512(size_t rows, size_t in, size_t out, const float *restrict x,
                              size_t ldx, const float *restrict wt, size_t ldwt,
                              const float *restrict b, float *restrict y, size_t ldy)
{
    dense_linear_fwd_simd(rows, in, out, x, ldx, wt, ldwt, b, y, ldy);
}

void dense_sigmoid_fwd__avx512(size_t rows, size_t in, size_t out, const float *restrict x,
                               size_t ldx, const float *restrict wt, size_t ldwt,
                               const float *restrict b, float *restrict y, size_t ldy)
{
    dense_sigmoid_fwd_simd(rows, in, out, x, ldx, wt, ldwt, b, y, ldy);
}

void dense_bwd_data__avx512(size_t rows, size_t in, size_t out, const float *restrict dy,
                            size_t lddy, const uint64_t *restrict mask, size_t ldm,
                            const float *restrict w, size_t ldw, const uint64_t *restrict xmask,
                            size_t ldxm, float *restrict dx, size_t lddx)
{
    dense_bwd_data_simd(rows, in, out, dy, lddy, mask, ldm, w, ldw, xmask, ldxm, dx, lddx);
}

void dense_bwd_weights__avx512(size_t rows, size_t in, size_t out, const float *restrict dy,
                               size_t lddy, const uint64_t *restrict mask, size_t ldm,
                               const float *restrict x, size_t ldx, float *restrict dw, size_t lddw,
                               float *restrict db)
{
    dense_bwd_weights_simd(rows, in, out, dy, lddy, mask, ldm, x, ldx, dw, lddw, db);
}

void sigmoid_bwd__avx512(size_t n, const float *restrict y, const float *restrict dy,
                         float *restrict dz)
{
    sigmoid_bwd_simd(n, y, dy, dz);
}
