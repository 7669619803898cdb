/* The machine a run happened on: results.json's "context" (DESIGN.md, Results file). */
#ifndef SPECBIAS_HARNESS_CONTEXT_H
#define SPECBIAS_HARNESS_CONTEXT_H

#include "specbias/kernels.h"

#include <jansson.h>

/* Cores and cache sizes from hwloc; where hwloc cannot tell (some VMs and containers), the
 * field is null and "reason" says why. */
json_t *sb_topology_json(void);

/* Hands the per-core L1d and L2 sizes of `topology` (sb_topology_json) to the kernels'
 * cache blocking (sb_set_cache_sizes); the kernels' defaults stay where hwloc gave no size.
 * Blocking changes no result. Returns what the kernels now use, for results.json's
 * context.blocking: {l1d_bytes, l2_bytes, source: "hwloc" | "default", reason?}. */
json_t *sb_apply_cache_blocking(const json_t *topology);

/* Binds OpenMP thread i to core i mod cores (hwloc), once, so the pool's threads stay put
 * across parallel regions and do not share a core while another idles. Not done when
 * `enable` is 0 (--no-bind) or when OMP_PROC_BIND / GOMP_CPU_AFFINITY already place the
 * threads. Returns what was done, for results.json's context.binding. */
json_t *sb_bind_threads(int threads, int enable);

/* FMA throughput of `isa` with `threads` threads running at once, in GFLOP/s: each thread
 * runs independent multiply-add chains (12 vectors wide, more than the latency x throughput
 * product of any current core) for about 20 ms, best of three. 0 when the ISA cannot run. */
double sb_peak_gflops(enum sb_isa isa, int threads);

/* Memory bandwidth in GB/s, STREAM's way: the triad a[i] = b[i] + s * c[i] on floats over
 * three arrays of max(2 x l3_bytes, 32 MiB) each (so they come from memory), `threads`
 * threads splitting the index range, 12 bytes counted per element (two reads, one write; the
 * write-allocate read is not counted, as in STREAM), best of 4 passes after a warm-up.
 * 0 when the arrays cannot be allocated. About 0.1-0.3 s. */
double sb_stream_bandwidth(int threads, size_t l3_bytes);

#endif
