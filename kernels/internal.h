/* Constants and helpers that the scalar truth and the vector kernels share (not part of the
 * public interface): the fixed layouts of the two kernels that reduce across elements. */
#ifndef SPECBIAS_KERNELS_INTERNAL_H
#define SPECBIAS_KERNELS_INTERNAL_H

#include "specbias/kernels.h"

/* Lanes of the fixed MSE reduction layout (kernels.h, mse_loss_grad). */
#define MSE_LANES 16

/* Constants of pattern_hash (kernels.h). */
#define HASH_LANES   8
#define HASH_SEED32  0x9E3779B9u
#define HASH_MUL32   0x01000193u
#define HASH_SHIFT   15
#define HASH_BASIS64 UINT64_C(0xCBF29CE484222325)
#define HASH_MUL64   UINT64_C(0x100000001B3)

/* The final, scalar step of pattern_hash shared by every ISA: fold the 8 lane states. */
static inline uint64_t hash_fold(const uint32_t s[HASH_LANES])
{
    uint64_t h = HASH_BASIS64;
    for (int l = 0; l < HASH_LANES; l++) h = (h ^ s[l]) * HASH_MUL64;
    return h;
}

/* The final, scalar step of mse_loss_grad shared by every ISA. */
static inline float mse_fold(const float lane[MSE_LANES])
{
    float sum = lane[0];
    for (int l = 1; l < MSE_LANES; l++) sum = sum + lane[l];
    return sum;
}

#endif
