/* The machine a run happened on: results.json's "context" (README, What a run measures). */
#ifndef SPECBIAS_HARNESS_CONTEXT_H
#define SPECBIAS_HARNESS_CONTEXT_H

#include "specbias/kernels.h"

#include <jansson.h>
#include <stddef.h>

/* Cores, PUs, packages, NUMA nodes, CPU kinds (hybrid parts) and cache sizes from hwloc, as it
 * reports them (l1d_bytes, l2_bytes, l3_bytes: the smallest instance over this process's
 * CPUs, null where hwloc gives none, with "reason"; caches.<level>: that instance's sharing,
 * the smallest share per core, the instances and their total), and "cache_estimate": the
 * sizes sb_cache_estimate keeps, which blocking and the bandwidth probe use. HWLOC_XMLFILE and
 * HWLOC_SYNTHETIC describe another machine ("this_system": false). */
json_t *sb_topology_json(void);

/* Cache sizes a program can rely on. hwloc passes on what the machine says, and a VM may say
 * anything: a 508 MiB L3 for each single core has been seen. A level is kept when its size is
 * within physical bounds per instance and per core sharing it (L1d 4 KiB-2 MiB; L2 64 KiB-
 * 64 MiB and at most 16 MiB a core; L3 256 KiB-4 GiB and at most 64 MiB a core), else dropped
 * with the reason. */
struct sb_cache_estimate {
    size_t l1d, l2;    /* the smallest share of one core, over this process's cores; 0 = none */
    size_t l1d_ways;   /* the smallest L1d's associativity (64: fully associative); 0 = unknown */
    size_t l3;         /* the smallest L3 instance; 0 = none */
    size_t llc_total;  /* all L3 instances over this process's CPUs; 0 = no usable L3 */
    char ignored[512]; /* what was dropped and why, "" if nothing */
};
/* From a topology object of sb_topology_json. */
void sb_cache_estimate(const json_t *topology, struct sb_cache_estimate *e);

/* Hands the sanity-checked per-core L1d and L2 sizes (sb_cache_estimate) to the kernels'
 * cache blocking (sb_set_cache_sizes); the kernels' defaults stay where there is none.
 * Blocking changes no result. Returns what the kernels now use, for results.json's
 * context.blocking: {l1d_bytes, l2_bytes, source: "hwloc" | "default", reason?}. */
json_t *sb_apply_cache_blocking(const json_t *topology);

/* Binds OpenMP thread i to one PU, once, so the pool's threads stay put across parallel
 * regions and do not share a core while another idles: where sb_threads_place puts them
 * (harness/machine/placement.h) among `cpus` (a Linux cpulist, "0-3,8"; NULL: the process's
 * CPUs). Not done when `enable` is 0 (--no-bind), when OMP_PROC_BIND / GOMP_CPU_AFFINITY
 * already place the threads, or when hwloc's topology is not this machine's; with `cpus` the
 * threads are then confined to them, unbound within (except under OMP_PROC_BIND, which the
 * caller refuses with --cpus). Returns what was done, for results.json's context.binding, with
 * "cpus": the OS indices of the PUs the threads run on (every allowed CPU when unbound), and
 * when bound "domain" ("L3 #3, 8 cores") and "cpus_by_thread". */
json_t *sb_bind_threads(int threads, int enable, const char *cpus);

/* Memory bandwidth in GB/s, STREAM's way: the triad a[i] = b[i] + s * c[i] on floats over
 * three arrays, `threads` threads splitting the index range, 12 bytes counted per element
 * (two reads, one write; the write-allocate read is not counted, as in STREAM), best of 4
 * passes after a warm-up, at one thread and at `threads`. Each array is 4 x the usable L3
 * total (sb_cache_estimate), at least 16 MiB and at most SB_BANDWIDTH_MAX_ARRAY, the maximum
 * when there is no usable L3 (so the probe stays under 150 MiB and about 0.2 s anywhere);
 * halved while it cannot be allocated (ulimit -v), down to 4 MiB. Returns {one_thread, all_threads, threads, array_bytes,
 * llc_bytes, status: "measured" | "unavailable", reason?, note?, method}: never 0.0. */
#define SB_BANDWIDTH_MAX_ARRAY ((size_t)48 << 20)
json_t *sb_bandwidth_json(int threads, const json_t *topology);

#endif
