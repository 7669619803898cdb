#define SB_ISA_SUFFIX avx512
#define SB_ISA_ENUM SB_ISA_AVX512
#define SB_ISA_NAME "avx512"
#include "kernels/table.h"
