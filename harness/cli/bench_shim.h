/* A small C interface to Google Benchmark (C++), so that C code registers benchmarks and runs
 * them with Google Benchmark's own flags and output formats (harness/cli/bench_shim.cc). */
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
    /* The ISA's FMA peak in GFLOP/s: peak(peak_ctx, observed) returns it after the timed loop,
     * given the loop's own rate; when that rate is above the peak, the peak was wrong and peak()
     * measures it again first. NULL or a result of 0: no peak_fraction counter. */
    double (*peak)(void *peak_ctx, double observed_gflops);
    void *peak_ctx;
    double bandwidth_gbs; /* measured memory bandwidth, 0 = unknown; with the peak: roofline_fraction */
    /* Optional event counters around the timed loop: counters_begin(counters) before it,
     * counters_end(counters, values) after it fills values[0 .. n_counters-1], reported per
     * iteration under counter_names. */
    void *counters;
    void (*counters_begin)(void *counters);
    void (*counters_end)(void *counters, double *values);
    size_t n_counters;
    const char *const *counter_names;
};

/* Registers one benchmark. Its counters: FLOP/s and bytes/s (rates over Google Benchmark's real
 * time), intensity (FLOP per byte), flops_per_iter, and, from the timed loop's wall time as
 * this shim measures it (a hair longer than Google Benchmark's), peak_fraction (FLOP/s over the
 * peak; never above 1: a rate above the peak re-measures it, and one still above has no
 * peak_fraction but a label saying so) and roofline_fraction (FLOP/s over min(peak,
 * intensity x bandwidth)).
 * Setup runs lazily, just before the benchmark's first run, and the previous benchmark's
 * teardown just before that, so only one benchmark's buffers are held at a time. */
void sb_bench_register(const struct sb_bench_spec *spec);

/* A key/value line in Google Benchmark's context (console header, JSON "context"). */
void sb_bench_add_context(const char *key, const char *value);

/* benchmark::Initialize over Google Benchmark's flags in argv (argv[0] is the program name),
 * before anything is registered or measured, so that a bad flag costs nothing. Returns 0, or 2
 * for an unrecognised argument (reported on stderr). */
int sb_bench_init(int argc, char **argv);

/* Runs the registered benchmarks under the flags sb_bench_init took. Tears down the last
 * benchmark's buffers before it returns how many benchmarks matched the filter (0: none, and
 * Google Benchmark has said so on stderr). */
size_t sb_bench_run(void);

#ifdef __cplusplus
}
#endif
#endif
