/* NEON loss and optimiser; the code, the same for every vector ISA, is
 * kernels/shared/optim.h. */
#define SB_ISA_SUFFIX neon
#include "kernels/declare.h"
#include "simd.h"
#include "kernels/shared/optim.h"

float mse_loss_grad__neon(size_t n, const float *restrict y, const float *restrict t, float scale,
                          float *restrict dy)
{
    return mse_loss_grad_simd(n, y, t, scale, dy);
}

void adam_update__neon(size_t n, float *restrict p, const float *restrict g, float *restrict m,
                       float *restrict v, const struct sb_adam_step *st)
{
    adam_update_simd(n, p, g, m, v, st);
}
