/* Defines the kernel table sb_kernels__<isa> from the kernel list. Include once, from
 * kernels/<isa>/table.c, after defining SB_ISA_SUFFIX and SB_ISA_ENUM. */
#include "kernels/declare.h"

const struct sb_kernels ISA_SYMBOL(sb_kernels, SB_ISA_SUFFIX) = {
    .isa = SB_ISA_ENUM,
    .isa_name = SB_ISA_NAME,
#define SB_KERNEL(name, type) .name = ISA_SYMBOL(name, SB_ISA_SUFFIX),
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
};
