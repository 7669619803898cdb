/* NEON loss and optimiser kernels. */
#define SB_ISA_SUFFIX neon
#include "kernels/declare.h"
#include "kernels/internal.h"

#include <arm_neon.h>

#include "simd.h"

/* The fixed 16-lane layout of kernels.h: element i accumulates into lane i % 16, held as
 * four q-registers (lanes 0-3, 4-7, 8-11, 12-15); elements are consumed 16 at a time from
 * i = 0, so lane 4q + l of step i is element i + 4q + l. In the tail, lanes past n keep
 * their value exactly (select, not an added zero). */
float mse_loss_grad__neon(size_t n, const float *restrict y, const float *restrict t,
                          float scale, float *restrict dy)
{
    const float32x4_t sc = vdupq_n_f32(scale);
    float32x4_t acc[4];
    for (int q = 0; q < 4; q++) acc[q] = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + SB_MSE_LANES <= n; i += SB_MSE_LANES) {
        for (int q = 0; q < 4; q++) {
            const size_t at = i + (size_t)(SBN_W * q);
            const float32x4_t e = vsubq_f32(vld1q_f32(y + at), vld1q_f32(t + at));
            if (dy) vst1q_f32(dy + at, vmulq_f32(e, sc));
            acc[q] = vfmaq_f32(acc[q], e, e);
        }
    }
    for (int q = 0; q < 4; q++) {
        const size_t at = i + (size_t)(SBN_W * q);
        if (at >= n) break;
        const size_t lanes = sbn_min(n - at, SBN_W);
        const float32x4_t e = vsubq_f32(sbn_load_n(y + at, lanes), sbn_load_n(t + at, lanes));
        if (dy) sbn_store_n(dy + at, vmulq_f32(e, sc), lanes);
        acc[q] = vbslq_f32(sbn_lane_mask(lanes), vfmaq_f32(acc[q], e, e), acc[q]);
    }
    float lane[SB_MSE_LANES];
    for (int q = 0; q < 4; q++) vst1q_f32(lane + SBN_W * q, acc[q]);
    return sb_mse_fold(lane);
}

/* One vector of Adam, as the reference:
 *   m = fmaf(1-b1, g - m, m); v = fmaf((1-b2) * g, g, v * b2);
 *   p = fmaf(-step, m / (sqrt(v) / bc2_sqrt + eps), p) */
SBN_INLINE void adam_vec(float32x4_t *p, float32x4_t g, float32x4_t *m, float32x4_t *v,
                         const struct sb_adam_step *st)
{
    const float32x4_t mi = vfmaq_f32(*m, vdupq_n_f32(st->one_minus_beta1), vsubq_f32(g, *m));
    const float32x4_t vi = vfmaq_f32(vmulq_f32(*v, vdupq_n_f32(st->beta2)),
                                     vmulq_f32(vdupq_n_f32(st->one_minus_beta2), g), g);
    const float32x4_t denom = vaddq_f32(vdivq_f32(vsqrtq_f32(vi), vdupq_n_f32(st->bc2_sqrt)),
                                        vdupq_n_f32(st->eps));
    *p = vfmaq_f32(*p, vdupq_n_f32(st->neg_step_size), vdivq_f32(mi, denom));
    *m = mi;
    *v = vi;
}

void adam_update__neon(size_t n, float *restrict p, const float *restrict g,
                       float *restrict m, float *restrict v, const struct sb_adam_step *st)
{
    size_t i = 0;
    for (; i + SBN_W <= n; i += SBN_W) {
        float32x4_t pv = vld1q_f32(p + i), mv = vld1q_f32(m + i), vv = vld1q_f32(v + i);
        adam_vec(&pv, vld1q_f32(g + i), &mv, &vv, st);
        vst1q_f32(p + i, pv);
        vst1q_f32(m + i, mv);
        vst1q_f32(v + i, vv);
    }
    if (i < n) {
        const size_t lanes = n - i;
        float32x4_t pv = sbn_load_n(p + i, lanes), mv = sbn_load_n(m + i, lanes),
                    vv = sbn_load_n(v + i, lanes);
        adam_vec(&pv, sbn_load_n(g + i, lanes), &mv, &vv, st);
        sbn_store_n(p + i, pv, lanes);
        sbn_store_n(m + i, mv, lanes);
        sbn_store_n(v + i, vv, lanes);
    }
}
