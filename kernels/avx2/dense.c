/* AVX2+FMA dense-layer kernels: 6 x 16 register tiles (12 ymm accumulators; per step of the
 * reduction 2 loads and 6 broadcasts for 12 FMAs, within the load ports of every AVX2 core).
 * The code is kernels/dense_tiles.h, shared with AVX-512; this file picks the tile shape and
 * adds the element-wise sigmoid backward. */
#define SB_ISA_SUFFIX avx2
#include "kernels/declare.h"
#include "kernels/internal.h"
#include "simd.h"
#include "kernels/shared/transcendental.h"

#define SB_TILE_MR 6
#define SB_TILE_NV 2
#include "kernels/dense_tiles.h"

/* ---- dz = dy * (y * (1 - y)) ------------------------------------------------------------- */

void sigmoid_bwd__avx2(size_t n, const float *restrict y, const float *restrict dy,
                       float *restrict dz)
{
    const sbv_f one = sbv_set1(1.0f);
    for (size_t i = 0; i < n; i += SBV_W) {
        const size_t rem = n - i;
        const sbv_f yv = sbv_loadu_n(y + i, rem);
        const sbv_f d = sbv_loadu_n(dy + i, rem);
        sbv_storeu_n(dz + i, rem, sbv_mul(d, sbv_mul(yv, sbv_sub(one, yv))));
    }
}
