/* The loss and the optimiser on SBV_W lanes, for every vector ISA: element-wise, in the
 * operation order of kernels.h and kernels/scalar/optim.c. Include after the ISA's simd.h;
 * kernels/<isa>/optim.c defines mse_loss_grad__<isa> and adam_update__<isa> over these. */
#ifndef SPECBIAS_KERNELS_SHARED_OPTIM_H
#define SPECBIAS_KERNELS_SHARED_OPTIM_H

#include "kernels/internal.h"

/* The fixed 16 lanes of the MSE sum as MSE_VECS vectors: vector v holds lanes v SBV_W ..
 * v SBV_W + SBV_W - 1, and elements go 16 at a time from i = 0, so element i lands in lane
 * i % 16 on every ISA. */
#define MSE_VECS (MSE_LANES / SBV_W)
_Static_assert(MSE_LANES % SBV_W == 0, "the MSE lanes are whole vectors");

SBV_INLINE float mse_loss_grad_simd(size_t n, const float *restrict y, const float *restrict t,
                                    float scale, float *restrict dy)
{
    const sbv_f sc = sbv_set1(scale);
    sbv_f acc[MSE_VECS];
    for (int v = 0; v < MSE_VECS; v++) acc[v] = sbv_zero();
    size_t i = 0;
    for (; i + MSE_LANES <= n; i += MSE_LANES)
        for (int v = 0; v < MSE_VECS; v++) {
            const size_t at = i + (size_t)v * SBV_W;
            const sbv_f e = sbv_sub(sbv_loadu(y + at), sbv_loadu(t + at));
            if (dy) sbv_storeu(dy + at, sbv_mul(e, sc));
            acc[v] = sbv_fma(e, e, acc[v]);
        }
    /* The tail's missing elements are e = +0 and add fmaf(0, 0, lane) = lane exactly (a lane
     * is never -0: it starts at +0 and only adds squares). */
    if (i < n)
        for (int v = 0; v < MSE_VECS; v++) {
            const size_t at = i + (size_t)v * SBV_W, rem = at < n ? n - at : 0;
            if (!rem) break;
            const sbv_f e = sbv_sub(sbv_loadu_n(y + at, rem), sbv_loadu_n(t + at, rem));
            if (dy) sbv_storeu_n(dy + at, rem, sbv_mul(e, sc));
            acc[v] = sbv_fma(e, e, acc[v]);
        }
    float lane[MSE_LANES];
    for (int v = 0; v < MSE_VECS; v++) sbv_storeu(lane + v * SBV_W, acc[v]);
    return mse_fold(lane);
}

/* One vector of Adam, the operations of adam_update__scalar lane by lane. */
SBV_INLINE void adam_vec(sbv_f *p, sbv_f g, sbv_f *m, sbv_f *v, const sbv_f omb1, const sbv_f b2,
                         const sbv_f omb2, const sbv_f nss, const sbv_f bc2, const sbv_f eps)
{
    const sbv_f mi = sbv_fma(omb1, sbv_sub(g, *m), *m);
    const sbv_f vi = sbv_fma(sbv_mul(omb2, g), g, sbv_mul(*v, b2));
    const sbv_f denom = sbv_add(sbv_div(sbv_sqrt(vi), bc2), eps);
    *m = mi;
    *v = vi;
    *p = sbv_fma(nss, sbv_div(mi, denom), *p);
}

SBV_INLINE void adam_update_simd(size_t n, float *restrict p, const float *restrict g,
                                 float *restrict m, float *restrict v,
                                 const struct sb_adam_step *st)
{
    const sbv_f omb1 = sbv_set1(st->one_minus_beta1), b2 = sbv_set1(st->beta2),
                omb2 = sbv_set1(st->one_minus_beta2), nss = sbv_set1(st->neg_step_size),
                bc2 = sbv_set1(st->bc2_sqrt), eps = sbv_set1(st->eps);
    size_t i = 0;
    for (; i + SBV_W <= n; i += SBV_W) {
        sbv_f pv = sbv_loadu(p + i), mv = sbv_loadu(m + i), vv = sbv_loadu(v + i);
        adam_vec(&pv, sbv_loadu(g + i), &mv, &vv, omb1, b2, omb2, nss, bc2, eps);
        sbv_storeu(m + i, mv);
        sbv_storeu(v + i, vv);
        sbv_storeu(p + i, pv);
    }
    if (i < n) {
        const size_t rem = n - i;
        sbv_f pv = sbv_loadu_n(p + i, rem), mv = sbv_loadu_n(m + i, rem),
              vv = sbv_loadu_n(v + i, rem);
        adam_vec(&pv, sbv_loadu_n(g + i, rem), &mv, &vv, omb1, b2, omb2, nss, bc2, eps);
        sbv_storeu_n(m + i, rem, mv);
        sbv_storeu_n(v + i, rem, vv);
        sbv_storeu_n(p + i, rem, pv);
    }
}

#endif
