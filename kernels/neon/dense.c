/* NEON dense-layer kernels: 5 x 16 register tiles. The code is kernels/shared/dense.h, shared
 * with AVX2 and AVX-512; this file picks the tile shape for aarch64's 32 q-registers.
 *
 * Why 5 x 16 (TILE_MR 5, TILE_NV 4): the tile's columns NR = 4 TILE_NV must divide 64 (a
 * tile's mask bits lie in one word), so TILE_NV is 1, 2, 4 or 8. GCC compiles each broadcast
 * of A as a scalar load and a by-element FMLA (fmla v.4s, b.4s, a.s[0]), so every row of the
 * tile keeps its A value in a register of its own: MR x TILE_NV accumulators + TILE_NV B
 * vectors + MR scalars. 5 x 16 takes 20 + 4 + 5 = 29 of the 32 registers; 6 x 16 would take
 * 34, and its micro loops spill (objdump: 15 to 29 q-register stack accesses per unrolled
 * step). Per step of the reduction 5 x 16 issues 20 FMAs for 4 vector and 5 scalar loads
 * (2.2 per load, where 8 x 8 gives 1.6), and its 20 independent chains cover the 4-cycle
 * FMA latency of up to four FMA pipes (16 needed). */
#define SB_ISA_SUFFIX neon
#include "kernels/declare.h"
#include "simd.h"

#define TILE_MR 5
#define TILE_NV 4
/* the sigmoid's constants would take registers from the accumulators (kernels/shared/dense.h) */
#define TILE_SIGMOID_IN_MEMORY 1
/* The 16-step prefetching loop, compiled without a barrier between its steps, spilled: objdump
 * of the innermost loops (20 FMLAs a step) found 47 to 96 q-register stack accesses per 320
 * FMLAs in every dense_bwd_data variant and 101 to 118 in three of dense_relu_fwd's; with it,
 * 0 in dense_bwd_data and 0 to 5 in the forward passes, and 459-491 instructions per 320
 * FMLAs instead of 548-631. The 4-step loop and the weight gradient did not spill. */
#define TILE_STEP_FENCE_ON 1
#include "kernels/shared/dense.h"

void dense_relu_fwd__neon(size_t rows, size_t in, size_t out, const float *restrict x, size_t ldx,
                          const float *restrict wt, size_t ldwt, const float *restrict b,
                          float *restrict y, size_t ldy, uint64_t *restrict mask, size_t ldm)
{
    dense_relu_fwd_simd(rows, in, out, x, ldx, wt, ldwt, b, y, ldy, mask, ldm);
}

void dense_linear_fwd__neon(size_t rows, size_t in, size_t out, const float *restrict x, size_t ldx,
                            const float *restrict wt, size_t ldwt, const float *restrict b,
                            float *restrict y, size_t ldy)
{
    dense_linear_fwd_simd(rows, in, out, x, ldx, wt, ldwt, b, y, ldy);
}

void dense_sigmoid_fwd__neon(size_t rows, size_t in, size_t out, const float *restrict x,
                             size_t ldx, const float *restrict wt, size_t ldwt,
                             const float *restrict b, float *restrict y, size_t ldy)
{
    dense_sigmoid_fwd_simd(rows, in, out, x, ldx, wt, ldwt, b, y, ldy);
}

void dense_bwd_data__neon(size_t rows, size_t in, size_t out, const float *restrict dy, size_t lddy,
                          const uint64_t *restrict mask, size_t ldm, const float *restrict w,
                          size_t ldw, const uint64_t *restrict xmask, size_t ldxm,
                          float *restrict dx, size_t lddx)
{
    dense_bwd_data_simd(rows, in, out, dy, lddy, mask, ldm, w, ldw, xmask, ldxm, dx, lddx);
}

void dense_bwd_weights__neon(size_t rows, size_t in, size_t out, const float *restrict dy,
                             size_t lddy, const uint64_t *restrict mask, size_t ldm,
                             const float *restrict x, size_t ldx, float *restrict dw, size_t lddw,
                             float *restrict db)
{
    dense_bwd_weights_simd(rows, in, out, dy, lddy, mask, ldm, x, ldx, dw, lddw, db);
}

void sigmoid_bwd__neon(size_t n, const float *restrict y, const float *restrict dy,
                       float *restrict dz)
{
    sigmoid_bwd_simd(n, y, dy, dz);
}
