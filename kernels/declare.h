/* Declares every kernel of one ISA, typed by its contract in kernels.h, so a variant whose
 * signature drifts fails to compile. Include after defining SB_ISA_SUFFIX (scalar, avx2, ...).
 * No include guard: a test may include it once per ISA. */
#include "specbias/kernels.h"

#ifndef SB_ISA_SUFFIX
#error "define SB_ISA_SUFFIX before including kernels/declare.h"
#endif
#define ISA_SYMBOL_(a, b) a##__##b
#define ISA_SYMBOL(a, b) ISA_SYMBOL_(a, b)
#define SB_KERNEL(name, type) type ISA_SYMBOL(name, SB_ISA_SUFFIX);
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
