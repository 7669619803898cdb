#define SB_ISA_SUFFIX scalar
#define SB_ISA_ENUM SB_ISA_SCALAR
#define SB_ISA_NAME "scalar"
#include "kernels/table.h"
