/* Declares every kernel of one ISA, typed by its contract in kernels.h, so a variant whose
 * signature drifts fails to compile. Include after defining SB_ISA_SUFFIX (scalar, avx2, ...).
 * No include guard: a test may include it once per ISA. */
#include "specbias/kernels.h"

#ifndef SB_ISA_SUFFIX
#error "define SB_ISA_SUFFIX before including kernels/declare.h"
#endif
#define SB_PASTE_(a, b) a##__##b
#define SB_PASTE(a, b) SB_PASTE_(a, b)
#define SB_KERNEL(name, type) type SB_PASTE(name, SB_ISA_SUFFIX);
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
