/* AVX-512 dense-layer kernels: 12 x 32 register tiles (24 zmm accumulators; per step of the
 * reduction 2 loads and 12 broadcasts for 24 FMAs). The code is kernels/dense_tiles.h, shared
 * with AVX2 (measured there); this file picks the tile shape and adds the element-wise
 * sigmoid backward. */
#define SB_ISA_SUFFIX avx512
#include "kernels/declare.h"
#include "kernels/internal.h"
#include "simd.h"
#include "kernels/shared/transcendental.h"

#define SB_TILE_MR 12
#define SB_TILE_NV 2
#include "kernels/dense_tiles.h"

/* ---- dz = dy * (y * (1 - y)) ------------------------------------------------------------- */

void sigmoid_bwd__avx512(size_t n, const float *restrict y, const float *restrict dy,
                         float *restrict dz)
{
    const __m512 one = sb_set1(1.0f);
    size_t i = 0;
    for (; i + SB_W <= n; i += SB_W) {
        const __m512 yv = sb_load(y + i);
        sb_store(dz + i, _mm512_mul_ps(sb_load(dy + i), _mm512_mul_ps(yv, _mm512_sub_ps(one, yv))));
    }
    if (i < n) {
        const __mmask16 m = sb_tail16(n - i);
        const __m512 yv = sb_load_m(m, y + i);
        sb_store_m(dz + i, m,
                   _mm512_mul_ps(sb_load_m(m, dy + i), _mm512_mul_ps(yv, _mm512_sub_ps(one, yv))));
    }
}
