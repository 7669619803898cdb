/* A small C interface to Google Benchmark (C++), so that C code registers benchmarks and runs
 * them with Google Benchmark's own flags and output formats (harness/bench_shim.cc). */
#ifndef SPECBIAS_HARNESS_BENCH_SHIM_H
#define SPECBIAS_HARNESS_BENCH_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Prepares ctx's buffers before its benchmark runs; returns 0, or nonzero when it cannot (the
 * benchmark is then reported as an error). May be NULL. */
typedef int sb_bench_setup(void *ctx);
/* One iteration: the code under measurement. */
typedef void sb_bench_body(void *ctx);
/* Frees what setup made. May be NULL. */
typedef void sb_bench_teardown(void *ctx);

struct sb_bench_spec {
    const char *name; /* copied */
    sb_bench_setup *setup;
    sb_bench_body *body;
    sb_bench_teardown *teardown;
    void *ctx;
    double flops_per_iter; /* declared cost of one iteration */
    double bytes_per_iter;
    double peak_gflops; /* measured peak of the ISA; 0 = unknown (no peak_fraction counter) */
    double bandwidth_gbs; /* measured memory bandwidth; with the peak: roofline_fraction */
    /* Optional event counters around the timed loop: counters_begin(counters) before it,
     * counters_end(counters, values) after it fills values[0 .. n_counters-1], reported per
     * iteration under counter_names. */
    void *counters;
    void (*counters_begin)(void *counters);
    void (*counters_end)(void *counters, double *values);
    size_t n_counters;
    const char *const *counter_names;
};

/* Registers one benchmark. Its counters: FLOP/s and bytes/s (rates over real time),
 * intensity (FLOP per byte), peak_fraction (achieved FLOP/s over peak), roofline_fraction
 * (achieved FLOP/s over min(peak, intensity x bandwidth)), flops_per_iter.
 * Setup runs lazily, just before the benchmark's first run, and the previous benchmark's
 * teardown just before that, so only one benchmark's buffers are held at a time. */
void sb_bench_register(const struct sb_bench_spec *spec);

/* A key/value line in Google Benchmark's context (console header, JSON "context"). */
void sb_bench_add_context(const char *key, const char *value);

/* benchmark::Initialize, then the registered benchmarks under Google Benchmark's flags in argv
 * (argv[0] is the program name). Returns 0, or 2 for an unrecognised argument. Tears down the
 * last benchmark's buffers before it returns. */
int sb_bench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
