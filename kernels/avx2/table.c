#define SB_ISA_SUFFIX avx2
#define SB_ISA_ENUM SB_ISA_AVX2
#define SB_ISA_NAME "avx2"
#include "kernels/table.h"
