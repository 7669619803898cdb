/* AVX2+FMA loss and optimiser: element-wise, in the documented operation order. */
#define SB_ISA_SUFFIX avx2
#include "kernels/declare.h"
#include "kernels/internal.h"
#include "simd.h"

/* Element i accumulates into lane i % 16: lanes 0-7 in acc0, 8-15 in acc1. Tail lanes load
 * y = t = 0, so they add fmaf(0, 0, lane) = lane (a lane is never -0: it starts at +0 and
 * only adds squares). */
float mse_loss_grad__avx2(size_t n, const float *restrict y, const float *restrict t,
                          float scale, float *restrict dy)
{
    const sbv_f sc = sbv_set1(scale);
    sbv_f acc0 = sbv_zero(), acc1 = sbv_zero();
    for (size_t i = 0; i < n; i += 2 * SBV_W) {
        const size_t rem0 = n - i, rem1 = rem0 > SBV_W ? rem0 - SBV_W : 0;
        const sbv_f e0 = sbv_sub(sbv_loadu_n(y + i, rem0), sbv_loadu_n(t + i, rem0));
        const sbv_f e1 = sbv_sub(sbv_loadu_n(y + i + SBV_W, rem1), sbv_loadu_n(t + i + SBV_W, rem1));
        if (dy) {
            sbv_storeu_n(dy + i, rem0, sbv_mul(e0, sc));
            if (rem1) sbv_storeu_n(dy + i + SBV_W, rem1, sbv_mul(e1, sc));
        }
        acc0 = sbv_fma(e0, e0, acc0);
        acc1 = sbv_fma(e1, e1, acc1);
    }
    _Alignas(32) float lane[SB_MSE_LANES];
    _mm256_store_ps(lane, acc0);
    _mm256_store_ps(lane + SBV_W, acc1);
    return sb_mse_fold(lane);
}

void adam_update__avx2(size_t n, float *restrict p, const float *restrict g,
                       float *restrict m, float *restrict v, const struct sb_adam_step *st)
{
    const sbv_f omb1 = sbv_set1(st->one_minus_beta1), omb2 = sbv_set1(st->one_minus_beta2);
    const sbv_f b2 = sbv_set1(st->beta2), nss = sbv_set1(st->neg_step_size);
    const sbv_f bc2 = sbv_set1(st->bc2_sqrt), eps = sbv_set1(st->eps);
    for (size_t i = 0; i < n; i += SBV_W) {
        const size_t rem = n - i;
        const sbv_f gv = sbv_loadu_n(g + i, rem);
        const sbv_f mv = sbv_loadu_n(m + i, rem);
        const sbv_f vv = sbv_loadu_n(v + i, rem);
        const sbv_f pv = sbv_loadu_n(p + i, rem);
        const sbv_f mi = sbv_fma(omb1, sbv_sub(gv, mv), mv);
        const sbv_f vi = sbv_fma(sbv_mul(omb2, gv), gv, sbv_mul(vv, b2));
        const sbv_f denom = sbv_add(sbv_div(_mm256_sqrt_ps(vi), bc2), eps);
        sbv_storeu_n(m + i, rem, mi);
        sbv_storeu_n(v + i, rem, vi);
        sbv_storeu_n(p + i, rem, sbv_fma(nss, sbv_div(mi, denom), pv));
    }
}
