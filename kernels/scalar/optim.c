/* Scalar truth of the loss and the optimiser. */
#define SB_ISA_SUFFIX scalar
#include "kernels/declare.h"
#include "kernels/internal.h"

#include <math.h>

float mse_loss_grad__scalar(size_t n, const float *restrict y, const float *restrict t,
                            float scale, float *restrict dy)
{
    float lane[MSE_LANES] = {0};
    for (size_t i = 0; i < n; i++) {
        const float e = y[i] - t[i];
        if (dy) dy[i] = e * scale;
        lane[i % MSE_LANES] = fmaf(e, e, lane[i % MSE_LANES]);
    }
    return mse_fold(lane);
}

void adam_update__scalar(size_t n, float *restrict p, const float *restrict g,
                         float *restrict m, float *restrict v, const struct sb_adam_step *st)
{
    for (size_t i = 0; i < n; i++) {
        const float mi = fmaf(st->one_minus_beta1, g[i] - m[i], m[i]);
        const float vi = fmaf(st->one_minus_beta2 * g[i], g[i], v[i] * st->beta2);
        const float denom = sqrtf(vi) / st->bc2_sqrt + st->eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = fmaf(st->neg_step_size, mi / denom, p[i]);
    }
}
