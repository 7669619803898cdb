/* libFuzzer target: suite files (harness/train/suite.c) from memory. */
#include "harness/train/experiment.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_suite suite;
    char err[1024];
    if (sb_suite_parse("/fuzz/suite.json", (const char *)data, size, &suite, err, sizeof err) == 0)
        sb_suite_free(&suite);
    return 0;
}
