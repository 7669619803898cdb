#define SB_ISA_SUFFIX neon
#define SB_ISA_ENUM SB_ISA_NEON
#define SB_ISA_NAME "neon"
#include "kernels/table.h"
