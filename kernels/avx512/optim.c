/* AVX-512 loss and optimiser kernels. */
#define SB_ISA_SUFFIX avx512
#include "kernels/declare.h"
#include "kernels/internal.h"
#include "simd.h"

/* The fixed 16-lane layout of kernels.h is exactly one zmm: element i goes to lane i % 16
 * because every chunk starts at a multiple of 16. The tail's masked-off lanes keep their
 * accumulator unchanged (a merge, not an fma with zeros). */
float mse_loss_grad__avx512(size_t n, const float *restrict y, const float *restrict t,
                            float scale, float *restrict dy)
{
    const __m512 sc = sb_set1(scale);
    __m512 acc = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + SB_W <= n; i += SB_W) {
        const __m512 e = _mm512_sub_ps(sb_load(y + i), sb_load(t + i));
        if (dy) sb_store(dy + i, _mm512_mul_ps(e, sc));
        acc = sb_fma(e, e, acc);
    }
    if (i < n) {
        const __mmask16 m = sb_tail16(n - i);
        const __m512 e = _mm512_sub_ps(sb_load_m(m, y + i), sb_load_m(m, t + i));
        if (dy) sb_store_m(dy + i, m, _mm512_mul_ps(e, sc));
        acc = _mm512_mask_mov_ps(acc, m, sb_fma(e, e, acc));
    }
    float lane[SB_MSE_LANES] __attribute__((aligned(64)));
    _mm512_store_ps(lane, acc);
    return sb_mse_fold(lane);
}

/* One zmm of Adam, the operations of adam_update__scalar lane by lane. */
SB_INLINE void adam16(__m512 *p, __m512 g, __m512 *m, __m512 *v, const __m512 b1c,
                          const __m512 b2, const __m512 b2c, const __m512 nss, const __m512 bc2,
                          const __m512 eps)
{
    const __m512 mi = sb_fma(b1c, _mm512_sub_ps(g, *m), *m);
    const __m512 vi = sb_fma(_mm512_mul_ps(b2c, g), g, _mm512_mul_ps(*v, b2));
    const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bc2), eps);
    *m = mi;
    *v = vi;
    *p = sb_fma(nss, _mm512_div_ps(mi, denom), *p);
}

void adam_update__avx512(size_t n, float *restrict p, const float *restrict g,
                         float *restrict m, float *restrict v, const struct sb_adam_step *st)
{
    const __m512 b1c = sb_set1(st->one_minus_beta1), b2 = sb_set1(st->beta2),
                 b2c = sb_set1(st->one_minus_beta2), nss = sb_set1(st->neg_step_size),
                 bc2 = sb_set1(st->bc2_sqrt), eps = sb_set1(st->eps);
    size_t i = 0;
    for (; i + SB_W <= n; i += SB_W) {
        __m512 pv = sb_load(p + i), mv = sb_load(m + i), vv = sb_load(v + i);
        adam16(&pv, sb_load(g + i), &mv, &vv, b1c, b2, b2c, nss, bc2, eps);
        sb_store(m + i, mv);
        sb_store(v + i, vv);
        sb_store(p + i, pv);
    }
    if (i < n) {
        const __mmask16 k = sb_tail16(n - i);
        __m512 pv = sb_load_m(k, p + i), mv = sb_load_m(k, m + i), vv = sb_load_m(k, v + i);
        adam16(&pv, sb_load_m(k, g + i), &mv, &vv, b1c, b2, b2c, nss, bc2, eps);
        sb_store_m(m + i, k, mv);
        sb_store_m(v + i, k, vv);
        sb_store_m(p + i, k, pv);
    }
}
