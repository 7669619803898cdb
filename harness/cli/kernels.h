/* `specbias kernels` inside the cli library: the command (cmd_kernels.c), its context (kernels_context.c) and the checks of
 * Google Benchmark's flags before they reach the library (kernels_flags.c). */
#ifndef SPECBIAS_HARNESS_KERNELS_H
#define SPECBIAS_HARNESS_KERNELS_H

#include "harness/machine/counters.h"

#include <stddef.h>

/* argv[1 .. n-1], the arguments for Google Benchmark: each a flag it knows (--benchmark_NAME
 * or --v=N) with a value of the right kind (a boolean, a number in range, one of the formats,
 * units or colours). Returns 0, or -1 with a message naming the flag and value (and the
 * closest flag or value, when one is close). */
int sb_kernels_check_flags(const char *const *argv, size_t n);

/* The --benchmark_filter value among argv[1 .. n-1] (the last one), or NULL. */
const char *sb_kernels_filter(const char *const *argv, size_t n);

/* Whether filter, read as Google Benchmark reads it (empty or "all": everything; a leading
 * '-': the names it does not match; a POSIX extended regex searched in the name), selects
 * any of names. Returns 0, or -1 with the message printed (a bad regex, or no match). */
int sb_kernels_filter_check(const char *filter, const char *const *names, size_t n);

/* The machine in Google Benchmark's context (kernels_context.c): the cache blocking, as in
 * `specbias run`, and one thread's memory bandwidth for the roofline (the kernels run on one
 * thread); nothing when listing. Returns that bandwidth in GB/s, 0 when unknown. */
double sb_kernels_machine_context(int listing);

/* The --counters events opened, each one's status in the context. Returns 0, or -1 with the
 * message printed. */
int sb_kernels_open_counters(struct sb_counters *counters, const char *list, int listing);

#endif
