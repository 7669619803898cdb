/* libFuzzer target: the inputs of `specbias compare` (results files and Google Benchmark JSON,
 * harness/cli/cmd_compare.c) from memory, through the gate and the table. Built twice, as
 * fuzz_results and fuzz_gbench: one loader, two corpora. */
#include "harness/cli/cli.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_compare_check_buffer(data, size);
    return 0;
}
